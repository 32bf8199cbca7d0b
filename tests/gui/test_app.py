"""The whole app, assembled as `studio.app` assembles it (`AppShell`), driven through its real widgets.

The local project runs on an embedded PostgreSQL server of this module's own (the builder's flow deploys
into the local project's database, which the session's server keeps for other tests). Settings, data and
workspace folders are the test's; secrets go to the OS keyring under a service of the test's own when
there is one.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from studio.core.platform.accounts import AccountRegistry
from studio.core.platform.context import PlatformContext
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.http import RetryPolicy
from studio.core.secrets import SecretStore
from studio.core.targets.local import LocalServer
from studio.core.workspace_file import ProjectLink, write_link
from studio.services.credentials import CredentialStoreService
from studio.services.platform import PlatformService
from studio.services.projects import ProjectKind, database_project
from studio.ui.shell import AppShell, MigrationsArea
from studio.ui.wizard.connect import LOCAL
from studio.ui.wizard.deploy import PLANNING
from tests.conftest import running_server
from tests.gui.conftest import run_until, run_until_signal
from tests.gui.test_browser import edit_cell, execute, open_table, rows_of, wait_signal
from tests.support.fake_platform import FakeAccount, FakePlatform
from tests.support.netcut import NetCut


@pytest.fixture(scope="module")
def app_server() -> Iterator[LocalServer]:
    """The local project's server for this module (its `postgres` database is the builder's project)."""
    with running_server("studio-test-app-") as server:
        yield server


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config and workspace folders of the test's own: the user's are never touched."""
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "my-app"))
    return tmp_path


@pytest.fixture
def make_shell(qapp: QApplication, qtbot: QtBot, qloop: qasync.QEventLoop, folders: Path,
               app_server: LocalServer) -> Iterator[object]:
    """Builds app shells on this test's settings file; each is shut down (server left running) afterwards.

    `make_shell(platform=...)` passes a platform service (the fake platform's); secrets then stay in memory.
    """
    shells: list[AppShell] = []

    def _make(platform: PlatformService | None = None) -> AppShell:
        settings = QSettings(str(folders / "config" / "studio.ini"), QSettings.Format.IniFormat)
        credentials = CredentialStoreService(service=f"studio-test-{uuid.uuid4().hex[:8]}")
        if platform is not None:
            credentials.use_session_only()
        shell = AppShell(qapp, settings, server=app_server, credentials=credentials, platform=platform,
                         registry=AccountRegistry(folders / "data" / "accounts.json"))
        qtbot.addWidget(shell.window)
        shells.append(shell)
        return shell

    yield _make
    for shell in shells:
        close(qloop, shell)


def close(qloop: qasync.QEventLoop, shell: AppShell) -> None:
    """Quit as the app quits: shut down, then run the loop until every job has ended."""
    shell.shutdown()
    run_until(qloop, lambda: not shell.busy)


def returning_user(make_shell: object, folders: Path) -> AppShell:
    """A started shell for someone who finished the wizard before (the main window opens, not the wizard)."""
    settings = QSettings(str(folders / "config" / "studio.ini"), QSettings.Format.IniFormat)
    settings.setValue("wizard/completed", True)
    settings.sync()
    shell = make_shell()  # type: ignore[operator]
    assert isinstance(shell, AppShell)
    shell.start()
    return shell


def _project_tables(server: LocalServer) -> list[str]:
    with psycopg.connect(server.uri(), autocommit=True) as conn:
        rows = conn.execute("select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                            " where n.nspname = 'public' and c.relkind = 'r' and c.relrowsecurity"
                            " order by 1").fetchall()
    return [r[0] for r in rows]


def _history(server: LocalServer) -> list[str]:
    with psycopg.connect(server.uri(), autocommit=True) as conn:
        exists = conn.execute("select to_regclass('supabase_migrations.schema_migrations')").fetchone()
        if exists is None or exists[0] is None:
            return []
        return [r[0] for r in conn.execute("select name from supabase_migrations.schema_migrations order by 1")]


def test_a_first_start_takes_a_builder_from_nothing_to_deployed_tables_on_the_local_project(
        make_shell: object, qloop: qasync.QEventLoop, folders: Path, app_server: LocalServer) -> None:
    shell = make_shell()  # type: ignore[operator]
    assert isinstance(shell, AppShell)
    assert _project_tables(app_server) == []
    shell.start()
    # First start, no account: the wizard opens, on the local project.
    assert shell.window.wizard_open and shell.wizard is not None and shell.connect_step is not None
    wizard, connect = shell.wizard, shell.connect_step
    assert wizard.current is connect

    # A welcome explains the three steps; the local project gets ready meanwhile, without a question:
    # "This computer" is already chosen.
    assert shell.welcome is not None and shell.welcome.isVisibleTo(shell.window)
    assert "no account" in shell.welcome.local_status.text() or "being set up" in shell.welcome.local_status.text()
    run_until(qloop, lambda: "is ready" in shell.welcome.local_status.text(), timeout=60)
    assert connect.choice == LOCAL and connect.problems() == []
    QTest.mouseClick(connect.cards[LOCAL], Qt.MouseButton.LeftButton)
    assert connect.choice == LOCAL
    assert wizard.next()
    assert not shell.welcome.isVisibleTo(shell.window)  # the next steps need the room

    # Generate: the to-do template, written into the local project's workspace folder.
    generate = shell.generate_step
    assert generate is not None and wizard.current is generate
    assert generate.folder() == folders / "my-app"
    generate.picker.set_current("todo")
    generate.picker.use_button.click()
    assert not wizard.next()  # the files are not written yet: it says so instead of going on
    generate.write_button.click()
    assert (folders / "my-app" / "supabase" / "schemas").is_dir()
    assert wizard.next()

    # Deploy: the review screen on the pending plan, made from the files just written.
    deploy = shell.deploy_step
    assert deploy is not None and wizard.current is deploy
    run_until(qloop, lambda: deploy.problems() != [PLANNING], timeout=60)
    review = deploy.review
    assert review.result is not None, deploy.problems()
    assert not review.result.review.plan.empty
    assert not wizard.next()  # Finish waits for the deploy
    assert "Apply the changes" in wizard.problems_label.text()
    assert review.apply_button.isEnabled()
    review.apply_button.click()
    run_until_signal(qloop, deploy.deployed, timeout=60)
    assert review.outcome_title.text() == "Applied"
    assert review.open_tables_button.isVisible()
    assert _project_tables(app_server) == ["lists", "todos"]
    assert len(_history(app_server)) == 1
    assert list((folders / "my-app" / "supabase" / "migrations").glob("*.sql"))

    # "Open the tables": the wizard finishes and the Tables area shows the new tables of the local project.
    review.open_tables_button.click()
    assert not shell.window.wizard_open
    assert shell.window.areas.tabText(shell.window.areas.currentIndex()) == "Tables"
    assert shell.window.current_project() is shell.local_handle
    # The Data model area shows the model the wizard saved (not the empty one it showed before), unchanged.
    assert [e.name for e in shell.model_page.workbench.model().entities] == ["lists", "todos"]
    assert not shell.model_page.unsaved()
    run_until(qloop, lambda: shell.browser.relation_item("public.lists") is not None, timeout=30)
    assert shell.browser.relation_item("public.todos") is not None
    assert shell.browser.open_relation("public", "lists")
    run_until_signal(qloop, shell.browser.relation_shown, timeout=30)
    # The Overview lists them with who can read them; a table left open to anyone stands out.
    with psycopg.connect(app_server.uri(), autocommit=True) as conn:
        conn.execute("create table public.open_notes (id int primary key)")
    shell.browser.refresh()
    run_until(qloop, lambda: shell.window.tables.topLevelItemCount() == 3, timeout=30)
    overview = {item.text(0): item for item in (shell.window.tables.topLevelItem(i) for i in range(3))
                if item is not None}
    assert overview["public.lists"].text(2) == "only as its access rules (policies) allow"
    assert overview["public.open_notes"].text(2).startswith("anyone with the API key")
    # Double-clicking a table there opens it in Tables.
    shell.window.show_area("Overview")
    shell.window.tables.itemActivated.emit(overview["public.todos"], 0)
    assert shell.window.areas.tabText(shell.window.areas.currentIndex()) == "Tables"
    run_until(qloop, lambda: shell.browser.relation is not None and shell.browser.relation.name == "todos")
    # The wizard is done: the next start opens the main window, not the wizard.
    assert not shell.first_start()
    close(qloop, shell)
    with psycopg.connect(app_server.uri(), autocommit=True) as conn:
        conn.execute("drop table public.open_notes")


def test_leaving_the_wizard_keeps_the_choices_and_the_next_start_resumes_there(
        make_shell: object, qloop: qasync.QEventLoop, folders: Path) -> None:
    shell = make_shell()  # type: ignore[operator]
    assert isinstance(shell, AppShell)
    shell.start()
    assert shell.wizard is not None and shell.connect_step is not None
    shell.connect_step.choose(LOCAL)
    assert shell.wizard.next()
    assert shell.generate_step is not None
    shell.generate_step.picker.set_current("blog")
    shell.generate_step.picker.use_button.click()
    shell.wizard.leave_button.click()
    assert not shell.window.wizard_open
    close(qloop, shell)
    shell.window.close()

    again = make_shell()  # type: ignore[operator]
    assert isinstance(again, AppShell)
    again.start()
    # Not finished: the wizard opens again, on Generate, with the blog's model from the workspace.
    assert again.window.wizard_open and again.wizard is not None and again.generate_step is not None
    assert again.wizard.current is again.generate_step
    assert [e.name for e in again.generate_step.model().entities][:2] == ["categories", "posts"]
    close(qloop, again)


def test_the_main_window_has_every_area_and_migrations_follow_the_selected_project(
        make_shell: object, qloop: qasync.QEventLoop, folders: Path) -> None:
    shell = returning_user(make_shell, folders)
    assert not shell.window.wizard_open  # not a first start
    areas = [shell.window.areas.tabText(i) for i in range(shell.window.areas.count())]
    assert areas == ["Overview", "Data model", "Migrations", "Tables", "Settings"]
    migrations = shell.window.area("Migrations")
    assert isinstance(migrations, MigrationsArea)
    assert migrations.review.handle is shell.local_handle
    assert shell.model_page.handle is shell.local_handle
    # The Overview reports the local project once it is up.
    run_until(qloop, lambda: "Local project ready" in shell.window.status.text(), timeout=60)
    run_until(qloop, lambda: shell.window.connection_status.text() == "Local project: connected", timeout=30)
    # Help > About names the versions, the local PostgreSQL's among them.
    about = shell.window.show_about()
    text = about.details.text()
    assert "PostgreSQL (local project)" in text and shell.local.version.split()[0] in text
    assert "PySide6" in text and str(folders / "config") in text
    about.close()
    # Settings: another workspace folder for the local project reaches every area.
    shell.settings_page.workspace.setText(str(folders / "other-app"))
    shell.settings_page.workspace.editingFinished.emit()
    assert shell.local_handle.workspace == folders / "other-app"
    assert migrations.review.handle is shell.local_handle
    assert shell.model_page.handle is shell.local_handle
    close(qloop, shell)


def test_a_signed_in_account_lists_its_cloud_projects_with_their_status_under_the_local_project(
        make_shell: object, qloop: qasync.QEventLoop, folders: Path, fake_platform: FakePlatform,
        fake_account: FakeAccount) -> None:
    fake_platform.add_project(fake_account.organization, "paused-blog", status="INACTIVE")
    registry = AccountRegistry(folders / "data" / "accounts.json")
    context = PlatformContext(
        endpoints=PlatformEndpoints(api_url=fake_platform.url, project_url_template=fake_platform.project_url_template),
        registry=registry, store=SecretStore.session_only(service=f"studio-test-{uuid.uuid4().hex[:8]}"))
    platform = PlatformService(context, retry_policy=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02,
                                                                 max_rate_limit_wait=5.0, timeout=10.0))
    shell = make_shell(platform)  # type: ignore[operator]
    assert isinstance(shell, AppShell)
    # The local workspace is linked to "shop": that project opens on it, the others on folders of their own.
    write_link(shell.local_handle.workspace, ProjectLink(ref=fake_account.project.ref, name="shop",
                                                          api_url="https://shop.example", account_id="ada"))
    shell.start()
    platform.sign_in_with_token(fake_account.token)
    run_until_signal(qloop, platform.signed_in)
    label = platform.accounts()[0].label
    tree = shell.window.projects

    def listed() -> list[str]:
        for i in range(tree.topLevelItemCount()):
            item = tree.topLevelItem(i)
            if item is not None and item.text(0) == label:
                return sorted(item.child(j).text(0) for j in range(item.childCount()))
        return []

    run_until(qloop, lambda: len(listed()) == 2, timeout=30)
    assert tree.topLevelItem(0) is shell.window.local_item  # the local project stays first
    assert listed() == ["paused-blog  ·  Paused", "shop  ·  Ready"], listed()
    # Picking a cloud project opens it in every area.
    account_item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                        if tree.topLevelItem(i).text(0) == label)
    shop = next(account_item.child(j) for j in range(account_item.childCount())
                if account_item.child(j).text(0).startswith("shop"))
    tree.setCurrentItem(shop)
    handle = shell.window.current_project()
    assert handle is not None and handle.kind == ProjectKind.CLOUD and handle.ref == fake_account.project.ref
    assert handle.workspace == shell.local_handle.workspace
    paused = next(account_item.child(j) for j in range(account_item.childCount())
                  if account_item.child(j).text(0).startswith("paused-blog"))
    assert paused.data(0, Qt.ItemDataRole.UserRole).workspace != shell.local_handle.workspace
    assert shell.model_page.handle is handle and shell.browser.handle is handle
    migrations = shell.window.area("Migrations")
    assert isinstance(migrations, MigrationsArea) and migrations.review.handle is handle
    # The status bar says how the connection stands, once the project's tables were read.
    run_until(qloop, lambda: shell.window.connection_status.text() == "shop: connected", timeout=30)
    # An account is signed in: a next start is not a first start (no wizard).
    assert not shell.first_start()
    close(qloop, shell)


def test_a_project_that_cannot_be_reached_is_said_so_in_the_status_bar_and_a_banner(
        make_shell: object, qloop: qasync.QEventLoop, folders: Path, app_server: LocalServer) -> None:
    shell = returning_user(make_shell, folders)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = database_project(app_server, folders / "gone-app", f"postgresql://postgres@127.0.0.1:{port}/postgres",
                            title="Old server")
    shell.window.select_project(gone)
    assert shell.window.connection_status.text() == "Old server: connecting"
    run_until(qloop, lambda: "not reachable" in shell.window.connection_status.text(), timeout=30)
    assert shell.window.message_banner.isVisibleTo(shell.window)
    assert "Old server" in shell.window.message_text.text() or "127.0.0.1" in shell.window.message_text.text()
    close(qloop, shell)


def test_when_the_network_drops_the_status_bar_says_offline_and_counts_the_edits_kept_on_this_computer(
        make_shell: object, qloop: qasync.QEventLoop, qtbot: QtBot, folders: Path, local_server: LocalServer,
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(folders / "cache"))
    execute(db_url, "create table public.notes (id int primary key, body text);"
                    " insert into public.notes values (1, 'first'), (2, 'second')")
    shell = returning_user(make_shell, folders)
    with NetCut(db_url) as net:
        project = database_project(local_server, folders / "notes-app", net.url, title="Notes server")
        shell.window.select_project(project)
        run_until(qloop, lambda: shell.window.connection_status.text() == "Notes server: connected", timeout=30)
        shell.window.show_area("Tables")
        page = shell.browser
        page.service.retry_base, page.service.retry_max = 0.2, 1.0
        open_table(qloop, page, "public.notes")
        net.cut()
        edit_cell(qloop, qtbot, page, 0, 1, "written on a train")
        wait_signal(qloop, page, page.changes_queued, page.save_changes)
        run_until(qloop, lambda: shell.window.offline_status.isVisibleTo(shell.window), timeout=30)
        assert shell.window.offline_status.text() == "Offline edits: 1 edit waiting to be sent"
        assert shell.window.connection_status.text().startswith("Notes server: offline")
        # Back online: the edit is sent, the count goes away, the status bar says connected again.
        net.restore()
        page.offline_retry.click()
        run_until(qloop, lambda: not shell.window.offline_status.isVisibleTo(shell.window), timeout=30)
        run_until(qloop, lambda: shell.window.connection_status.text() == "Notes server: connected", timeout=30)
        assert rows_of(db_url, "select body from public.notes where id = 1") == [("written on a train",)]
        close(qloop, shell)
