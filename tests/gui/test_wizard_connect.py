"""The wizard's Connect step, driven through its real widgets (offscreen) against the fake Supabase platform
and the session's embedded PostgreSQL server.

Secrets go to a memory-backed store unless the real OS keyring is the point (`os_store`: the OS keyring
when this machine has one, as in tests/integration/platform). Screenshots of the step are saved in the
test's folder, and also in `$STUDIO_SCREENSHOTS` when set.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import qasync
from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from studio.core.platform.accounts import AccountRegistry
from studio.core.platform.context import PlatformContext
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.http import RetryPolicy
from studio.core.platform.linking import stored_client_key
from studio.core.platform.provisioning import PollPolicy
from studio.core.secrets import SecretStore
from studio.core.targets.local import LocalServer
from studio.core.workspace_file import read_link
from studio.services.platform import DatabaseCheckService, PlatformService
from studio.services.projects import ProjectHandle, ProjectKind
from studio.ui.wizard.connect import ACCOUNT, DATABASE, LOCAL, ConnectStep
from tests.gui.conftest import finished, run_until
from tests.support.fake_platform import FakeAccount, FakePlatform
from tests.support.keyring_cleanup import forget_keyring_service

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, max_rate_limit_wait=5.0, timeout=10.0)
QUICK_POLLS = PollPolicy(first_wait=0.02, factor=1.0, max_wait=0.02, timeout=120.0)


# -- fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture
def fake(fake_platform: FakePlatform) -> FakePlatform:
    """The fake platform, reset; the test fails if Studio broke the Management API's spec (tests/conftest.py)."""
    return fake_platform


@pytest.fixture
def ada(fake: FakePlatform) -> FakeAccount:
    """Account "ada": organization "Acme" with the ready project "shop", organization "Beta" with "blog"."""
    account = fake.add_account(email="ada@example.com", username="ada")
    fake.add_project(fake.add_organization(account, "Acme"), "shop")
    fake.add_project(fake.add_organization(account, "Beta"), "blog", region="us-east-1")
    return account


@pytest.fixture
def memory_store() -> SecretStore:
    """Secrets in memory: where the OS keyring is not what the test is about."""
    return SecretStore.session_only(service=f"studio-test-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def os_store() -> Iterator[SecretStore]:
    """The OS keyring under a service of this test's own when there is one, else memory; emptied after."""
    service = f"studio-test-{uuid.uuid4().hex[:8]}"
    found, _ = SecretStore.open_default(service=service)
    store = found or SecretStore.session_only(service=service)
    yield store
    forget_keyring_service(store)


def make_context(fake: FakePlatform, store: SecretStore, folder: Path) -> PlatformContext:
    return PlatformContext(
        endpoints=PlatformEndpoints(api_url=fake.url, project_url_template=fake.project_url_template),
        registry=AccountRegistry(folder / "data" / "accounts.json"),
        store=store,
    )


async def approve_in_browser(url: str) -> None:
    """The builder's browser: opens Supabase's page, approves, and is sent back to Studio."""
    async with httpx.AsyncClient(follow_redirects=True, trust_env=False, timeout=10) as browser:
        await browser.get(url)


class Browser:
    """A browser the test controls: it approves the sign-in only once `approve` is set."""

    def __init__(self) -> None:
        self.approve = False
        self.urls: list[str] = []

    async def __call__(self, url: str) -> None:
        self.urls.append(url)
        if self.approve:
            await approve_in_browser(url)


class Spy:
    """Records a signal's emissions (connected before the action, so none is missed)."""

    def __init__(self, signal: SignalInstance) -> None:
        self.calls: list[tuple[Any, ...]] = []
        signal.connect(self._record)

    def _record(self, *args: Any) -> None:
        self.calls.append(args)

    @property
    def last(self) -> tuple[Any, ...]:
        return self.calls[-1]


class Harness:
    """A Connect step wired to services on the fake platform, with spies on what they report."""

    def __init__(self, qtbot: QtBot, loop: qasync.QEventLoop, context: PlatformContext, server: LocalServer,
                 workspace: Path, open_browser: Callable[[str], object] = approve_in_browser) -> None:
        self.loop = loop
        self.context = context
        self.workspace = workspace
        self.platform = PlatformService(context, open_browser=open_browser, retry_policy=FAST,
                                        poll_policy=QUICK_POLLS, sign_in_timeout=30)
        self.database = DatabaseCheckService()
        self.step = ConnectStep(self.platform, self.database, server, workspace=workspace,
                                secrets_location=context.store.report.name)
        qtbot.addWidget(self.step)
        self.step.resize(980, 760)
        self.failures = Spy(self.platform.failed)
        self.listed = Spy(self.platform.projects_listed)
        self.chosen = Spy(self.step.project_chosen)

    def wait(self, spy: Spy, count: int = 1, *, timeout: float = 30.0, failures: bool = False) -> None:
        """Run the loop until `spy` saw `count` emissions; an unexpected failure of a job ends it at once."""
        already = len(self.failures.calls)
        run_until(self.loop, lambda: len(spy.calls) >= count or len(self.failures.calls) > already, timeout)
        if not failures:
            assert len(self.failures.calls) == already, f"a job failed: {self.failures.calls[already:]}"

    def sign_in(self, token: str) -> None:
        """Sign in with a token through the step's own field and button."""
        signed = Spy(self.platform.signed_in)
        self.step.token_edit.setText(token)
        assert self.step.token_button.isEnabled()
        self.step.token_button.click()
        self.wait(signed)

    def projects_shown(self) -> list[tuple[str, str, str]]:
        tree = self.step.projects
        return [tuple(tree.topLevelItem(i).text(c) for c in range(3)) for i in range(tree.topLevelItemCount())]

    def select_project(self, name: str) -> None:
        tree = self.step.projects
        for i in range(tree.topLevelItemCount()):
            if tree.topLevelItem(i).text(0) == name:
                tree.setCurrentItem(tree.topLevelItem(i))
                return
        raise AssertionError(f"{name} is not listed: {self.projects_shown()}")

    def run(self, coroutine: Any) -> Any:
        return finished(self.loop, coroutine)


@pytest.fixture
def harness(qtbot: QtBot, qloop: qasync.QEventLoop, fake: FakePlatform, memory_store: SecretStore,
            local_server: LocalServer, tmp_path: Path) -> Harness:
    return Harness(qtbot, qloop, make_context(fake, memory_store, tmp_path), local_server, tmp_path / "my-app")


def click(widget: QWidget) -> None:
    """A left click in the middle of `widget`, as the builder's mouse would."""
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def labels_text(widget: QWidget) -> str:
    """Everything the step shows in labels, visible or not."""
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def screenshot(widget: QWidget, name: str, folder: Path) -> None:
    widget.show()
    image = widget.grab()
    assert image.save(str(folder / name))
    target = os.environ.get("STUDIO_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        image.save(str(Path(target) / name))


def run_sql(harness: Harness, handle: ProjectHandle, sql: str) -> list[tuple[Any, ...]]:
    target = harness.run(handle.open_target())
    try:
        return harness.run(target.fetch(sql))
    finally:
        harness.run(target.close())


# -- the three choices -----------------------------------------------------------------------------------------


def test_nothing_is_chosen_at_first_and_this_computer_needs_nothing_more(harness: Harness, tmp_path: Path) -> None:
    step = harness.step
    screenshot(step, "wizard_connect_choices.png", tmp_path)
    assert step.problems() == [
        "Choose where your app's data lives: this computer, a Supabase account, or an existing database."
    ]
    assert step.project() is None

    click(step.cards[LOCAL])
    assert step.cards[LOCAL].isChecked() and not step.cards[ACCOUNT].isChecked()
    assert step.problems() == []
    assert "No account needed" in step.cards[LOCAL].text.text()
    (handle,) = harness.chosen.calls[-1]
    assert handle.kind is ProjectKind.LOCAL and handle is step.project()
    assert run_sql(harness, handle, "select current_database(), exists(select from pg_namespace where nspname = 'auth')"
                   ) == [("postgres", True)]
    assert step.state() == {"choice": LOCAL}

    QTest.keyClick(step.cards[DATABASE], Qt.Key.Key_Space)
    assert step.choice == DATABASE and step.problems() == ["Paste the connection string of your database."]


# -- the account path ------------------------------------------------------------------------------------------


def test_a_malformed_or_refused_token_is_explained_and_nothing_is_stored(harness: Harness, ada: FakeAccount,
                                                                        fake: FakePlatform) -> None:
    step = harness.step
    click(step.cards[ACCOUNT])
    assert step.sign_in_box.isVisibleTo(step) and not step.account_box.isVisibleTo(step)
    assert step.problems() == ["Sign in to Supabase: with your browser, or by pasting an access token."]
    assert "Stored in" in step.account_secrets.text()

    step.token_edit.setText("my password")
    assert not step.token_button.isEnabled()
    assert "not a Supabase access token" in step.sign_in_message.text()
    assert "my password" not in labels_text(step)

    fake.revoke_token(ada.token)
    step.token_edit.setText(ada.token)
    assert step.sign_in_message.text() == "" and step.token_button.isEnabled()
    click(step.token_button)
    assert step.problems() == ["Studio is still signing you in."]
    harness.wait(harness.failures, failures=True)
    assert "Supabase did not accept this token" in step.sign_in_message.text()
    assert "create a new token" in step.sign_in_message.text().lower()
    assert ada.token not in labels_text(step)
    assert harness.context.registry.accounts() == []
    assert not harness.context.registry.path.exists()
    assert harness.context.store.get_account_tokens(ada.gotrue_id) is None
    assert step.sign_in_box.isVisibleTo(step) and not step.account_box.isVisibleTo(step)
    assert step.token_button.isEnabled(), "the builder can correct the token and try again"


def test_picking_an_organization_and_project_gives_a_handle_whose_sql_runs_on_supabase(
    qtbot: QtBot, qloop: qasync.QEventLoop, fake: FakePlatform, ada: FakeAccount, os_store: SecretStore,
    local_server: LocalServer, tmp_path: Path,
) -> None:
    harness = Harness(qtbot, qloop, make_context(fake, os_store, tmp_path), local_server, tmp_path / "my-app")
    step = harness.step
    click(step.cards[ACCOUNT])
    assert f"Stored in {os_store.report.name}" in step.account_secrets.text()
    harness.sign_in(ada.token)
    harness.wait(harness.listed)
    assert step.account_label.text() == "Signed in as ada@example.com"
    assert not step.account_combo.isVisibleTo(step), "one account: no picker"
    assert [step.organization_combo.itemText(i) for i in range(step.organization_combo.count())] == ["Acme", "Beta"]
    assert harness.projects_shown() == [("shop", "eu-central-1", "Ready")]
    assert step.problems() == ["Choose a project in the list, or create a new one."]

    step.organization_combo.setCurrentIndex(1)
    assert harness.projects_shown() == [("blog", "us-east-1", "Ready")]
    step.organization_combo.setCurrentIndex(0)
    harness.select_project("shop")
    assert step.problems() == ["Studio is still connecting to “shop”."]
    harness.wait(harness.chosen)
    screenshot(step, "wizard_connect_account.png", tmp_path)

    (handle,) = harness.chosen.last
    shop = fake.project(handle.ref)
    assert handle.kind is ProjectKind.CLOUD and handle.title == "shop" and handle.account_id == ada.gotrue_id
    assert step.problems() == []
    assert "Connected to “shop”" in step.account_message.text()
    link = read_link(harness.workspace)
    assert link is not None and link.ref == shop.ref
    assert stored_client_key(os_store, shop.ref) is not None
    state = step.state()
    assert state == {"choice": ACCOUNT, "account_id": ada.gotrue_id, "organization": shop.organization_slug,
                     "project_ref": shop.ref}

    queries = len(fake.matching_requests("POST", rf"/v1/projects/{shop.ref}/database/query"))
    target = harness.run(handle.open_target())
    assert harness.run(target.fetch("select current_database(), 40 + 2")) == [(shop.db_name, 42)]
    assert len(fake.matching_requests("POST", rf"/v1/projects/{shop.ref}/database/query")) == queries + 1
    harness.run(target.close())
    with pytest.raises(RuntimeError, match="closed"):
        harness.run(target.fetch("select 1"))  # closing the target closed its API client


def test_several_accounts_get_a_picker_and_each_lists_its_own_projects(harness: Harness, ada: FakeAccount,
                                                                       fake: FakePlatform) -> None:
    grace = fake.add_account(email="grace@example.com", username="grace")
    fake.add_project(fake.add_organization(grace, "Grace's lab"), "telescope", create_database=False)
    step = harness.step
    click(step.cards[ACCOUNT])
    harness.sign_in(ada.token)
    harness.wait(harness.listed)
    click(step.add_account_button)
    assert step.sign_in_box.isVisibleTo(step) and step.back_to_account_button.isVisibleTo(step)
    harness.sign_in(grace.token)
    harness.wait(harness.listed, 2)
    assert step.account_combo.isVisibleTo(step) and not step.account_label.isVisibleTo(step)
    assert [step.account_combo.itemText(i) for i in range(step.account_combo.count())] == [
        "ada@example.com", "grace@example.com"]
    assert step.account_combo.currentText() == "grace@example.com"
    assert harness.projects_shown() == [("telescope", "eu-central-1", "Ready")]

    step.account_combo.setCurrentIndex(0)
    assert harness.projects_shown() == [("shop", "eu-central-1", "Ready")], "ada's list was already loaded"
    assert harness.context.registry.active() is not None
    assert harness.context.registry.active().email == "ada@example.com"
    assert step.state()["account_id"] == ada.gotrue_id


def test_a_server_error_while_listing_is_explained_and_try_again_recovers(harness: Harness, ada: FakeAccount,
                                                                          fake: FakePlatform) -> None:
    step = harness.step
    click(step.cards[ACCOUNT])
    fake.inject("GET", r"/v1/organizations/[a-z]+/projects", status=500, times=None)
    failed = Spy(harness.platform.listing_failed)
    harness.sign_in(ada.token)
    harness.wait(failed, failures=True)
    message = step.account_message.text()
    assert "Supabase had a problem on its side (HTTP 500)" in message
    assert "status.supabase.com" in message and "try again" in message.lower()
    assert step.retry_button.isVisibleTo(step)
    assert step.problems() == [message]

    fake.clear_faults()
    click(step.retry_button)
    assert step.problems() == ["Studio is still loading your organizations and projects."]
    harness.wait(harness.listed)
    assert harness.projects_shown() == [("shop", "eu-central-1", "Ready")]
    assert not step.retry_button.isVisibleTo(step) and step.account_message.text() == ""


def test_rate_limiting_is_waited_out_with_a_notice_or_explained_when_it_lasts(harness: Harness, ada: FakeAccount,
                                                                            fake: FakePlatform) -> None:
    step = harness.step
    click(step.cards[ACCOUNT])
    shown: list[str] = []
    harness.platform.retrying.connect(lambda _: shown.append(step.account_message.text()))
    fake.inject("GET", "/v1/organizations", status=429, headers={"Retry-After": "0"})
    harness.sign_in(ada.token)
    harness.wait(harness.listed)
    assert shown == ["Supabase is rate limiting this account, retrying in 1 s…"]
    assert harness.projects_shown() == [("shop", "eu-central-1", "Ready")]

    fake.inject("GET", "/v1/organizations", status=429, headers={"Retry-After": "600"})
    failed = Spy(harness.platform.listing_failed)
    click(step.refresh_button)
    harness.wait(failed, failures=True)
    assert "Supabase is rate limiting this account; it can be tried again in 600 s." in step.account_message.text()
    assert step.retry_button.isVisibleTo(step)


# -- creating a project ----------------------------------------------------------------------------------------


def open_create_form(harness: Harness, name: str) -> None:
    step = harness.step
    regions = Spy(harness.platform.regions_listed)
    click(step.new_project_button)
    assert step.create_box.isVisibleTo(step)
    harness.wait(regions)
    assert step.region_combo.count() > 1 and "(recommended)" in step.region_combo.itemText(0)
    step.project_name.setText("shop")
    assert not step.create_button.isEnabled()
    assert "“shop” already exists" in step.create_message.text()
    step.project_name.setText(name)
    assert step.create_button.isEnabled() and step.create_message.text() == ""
    assert "keeps it in" in step.password_note.text()


def test_a_new_project_shows_progress_until_ready_and_is_then_used(harness: Harness, ada: FakeAccount,
                                                                  fake: FakePlatform) -> None:
    fake.polls_to_healthy = 4
    step = harness.step
    click(step.cards[ACCOUNT])
    harness.sign_in(ada.token)
    harness.wait(harness.listed)
    open_create_form(harness, "bookings")
    progress = Spy(harness.platform.creation_progress)
    bar: list[int] = []
    harness.platform.creation_progress.connect(lambda _: bar.append(step.progress.value()))
    click(step.create_button)
    assert step.progress_box.isVisibleTo(step) and step.cancel_create_button.isVisibleTo(step)
    assert step.problems() == ["“bookings” is still being created. Wait until it is ready, or press Cancel."]
    harness.wait(harness.chosen)

    assert bar == sorted(bar) and bar[-1] == 100 and len(set(bar)) >= 3
    messages = [update.message for (update,) in progress.calls]
    assert "Starting the database and services" in messages and messages[-1] == "Ready"
    (handle,) = harness.chosen.last
    created = fake.project(handle.ref)
    assert created.name == "bookings" and handle.title == "bookings"
    assert ("bookings", created.region, "Ready") in harness.projects_shown()
    assert step.projects.currentItem().text(0) == "bookings"
    assert not step.create_box.isVisibleTo(step)
    password = harness.context.store.get_db_password(created.ref)
    assert password is not None and password.reveal() == created.db_pass
    assert created.db_pass not in labels_text(step)
    assert step.problems() == []
    assert run_sql(harness, handle, "select 1") == [(1,)]


def test_cancel_during_provisioning_stops_waiting_and_says_where_the_project_is(
    qtbot: QtBot, qloop: qasync.QEventLoop, fake: FakePlatform, ada: FakeAccount, os_store: SecretStore,
    local_server: LocalServer, tmp_path: Path,
) -> None:
    harness = Harness(qtbot, qloop, make_context(fake, os_store, tmp_path), local_server, tmp_path / "my-app")
    fake.polls_to_healthy = 1_000_000
    step = harness.step
    click(step.cards[ACCOUNT])
    harness.sign_in(ada.token)
    harness.wait(harness.listed)
    open_create_form(harness, "bookings")
    progress = Spy(harness.platform.creation_progress)
    click(step.create_button)
    run_until(harness.loop, lambda: any(u.status == "COMING_UP" and u.percent >= 10 for (u,) in progress.calls))
    assert 0 < step.progress.value() < 100
    assert "Starting the database and services" in step.progress_label.text()
    screenshot(step, "wizard_connect.png", tmp_path)

    stopped = Spy(harness.platform.creation_stopped)
    listed = len(harness.listed.calls)
    click(step.cancel_create_button)
    harness.wait(stopped)
    _, project, message = stopped.last
    assert "still starting" in message and harness.context.store.report.name in message
    assert step.create_message.text() == message and not step.progress_box.isVisibleTo(step)
    assert not harness.platform.creating
    password = harness.context.store.get_db_password(project.ref)
    assert password is not None and password.reveal() == fake.project(project.ref).db_pass

    harness.wait(harness.listed, listed + 1)
    polls = len(fake.matching_requests("GET", rf"/v1/projects/{project.ref}(/health)?"))
    assert ("bookings", project.region, "Starting") in harness.projects_shown()
    harness.select_project("bookings")
    assert step.problems() == ["“bookings” is not ready yet (starting). Press Refresh in a minute."]
    assert step.project() is None
    click(step.refresh_button)
    harness.wait(harness.listed, listed + 2)
    assert len(fake.matching_requests("GET", rf"/v1/projects/{project.ref}(/health)?")) == polls, "no more polls"


def test_cancel_while_supabase_answers_the_create_request_keeps_the_password(
    harness: Harness, ada: FakeAccount, fake: FakePlatform
) -> None:
    fake.inject("POST", "/v1/projects", delay=0.5)
    step = harness.step
    click(step.cards[ACCOUNT])
    harness.sign_in(ada.token)
    harness.wait(harness.listed)
    open_create_form(harness, "bookings")
    stopped = Spy(harness.platform.creation_stopped)
    click(step.create_button)
    click(step.cancel_create_button)
    assert "waits for that answer" in step.progress_label.text()
    harness.wait(stopped)
    _, project, message = stopped.last
    created = [p for p in fake.projects() if p.name == "bookings"]
    assert [p.ref for p in created] == [project.ref]
    password = harness.context.store.get_db_password(project.ref)
    assert password is not None and password.reveal() == created[0].db_pass
    assert "was created on Supabase" in message
    assert not fake.matching_requests("GET", rf"/v1/projects/{project.ref}(/health)?"), "it never waited"


# -- browser sign-in -------------------------------------------------------------------------------------------


def test_browser_sign_in_with_an_oauth_app_and_its_cancel(
    qtbot: QtBot, qloop: qasync.QEventLoop, fake: FakePlatform, ada: FakeAccount, memory_store: SecretStore,
    local_server: LocalServer, tmp_path: Path,
) -> None:
    app = fake.register_oauth_app()
    browser = Browser()
    harness = Harness(qtbot, qloop, make_context(fake, memory_store, tmp_path), local_server, tmp_path / "my-app",
                      open_browser=browser)
    step = harness.step
    click(step.cards[ACCOUNT])
    assert step.oauth_box.isVisibleTo(step)
    click(step.browser_button)
    assert "client id and secret first" in step.sign_in_message.text()
    step.oauth_client_id.setText(app.client_id)
    step.oauth_client_secret.setText(app.client_secret)
    started = Spy(harness.platform.browser_sign_in_started)
    click(step.browser_button)
    harness.wait(started)
    assert "approve Studio in your browser" in step.sign_in_message.text()
    assert step.browser_address.isVisibleTo(step) and step.cancel_sign_in_button.isVisibleTo(step)
    assert app.client_secret not in labels_text(step)
    click(step.cancel_sign_in_button)
    harness.wait(harness.failures, failures=True)
    assert step.sign_in_message.text().startswith("Sign-in cancelled.")
    assert "Nothing was stored" in step.sign_in_message.text()
    assert harness.context.registry.accounts() == []
    assert memory_store.get_oauth_client_secret(app.client_id) is None

    browser.approve = True  # the builder approves this time
    signed = Spy(harness.platform.signed_in)
    click(step.browser_button)
    harness.wait(signed)
    harness.wait(harness.listed)
    assert step.account_label.text() == "Signed in as ada@example.com"
    assert harness.projects_shown() == [("shop", "eu-central-1", "Ready")]
    assert not step.sign_in_box.isVisibleTo(step)
    assert harness.platform.remembered_oauth_app() == app.client_id


# -- an existing database --------------------------------------------------------------------------------------


def test_an_existing_database_is_tested_before_going_on_and_its_password_never_shows(
    harness: Harness, db_url: str
) -> None:
    step = harness.step
    click(step.cards[DATABASE])
    assert step.problems() == ["Paste the connection string of your database."]

    step.conninfo_edit.setText("my database on the server")
    assert "cannot read this connection string" in step.conninfo_summary.text()
    assert not step.test_button.isEnabled() and "cannot read" in step.problems()[0]

    password = "s3cret-Pa55word"
    checked = Spy(harness.database.check_failed)
    step.conninfo_edit.setText(f"postgresql://builder:{password}@127.0.0.1:1/postgres")
    assert step.conninfo_summary.text() == "Studio will connect to 127.0.0.1:1/postgres."
    assert step.problems() == ["Press “Test connection” so Studio can check that it reaches your database."]
    click(step.test_button)
    assert step.problems() == ["Studio is still testing the connection."]
    run_until(harness.loop, lambda: bool(checked.calls))
    assert "No database server is answering at 127.0.0.1:1/postgres" in step.database_message.text()
    assert step.problems() == [step.database_message.text()]
    assert password not in labels_text(step)
    assert password not in step.conninfo_edit.displayText(), "the field hides the string once it is pasted"
    assert password not in json.dumps(step.state())
    assert step.project() is None and not harness.chosen.calls

    ok = Spy(harness.database.checked)
    step.conninfo_edit.setText(db_url)
    click(step.test_button)
    run_until(harness.loop, lambda: bool(ok.calls))
    assert step.database_message.text().startswith("Connected to local socket/")
    assert "PostgreSQL" in step.database_message.text()
    assert step.problems() == []
    (handle,) = harness.chosen.last
    assert handle.kind is ProjectKind.DATABASE and handle is step.project()
    assert run_sql(harness, handle, "select current_user") == [("postgres",)]

    step.conninfo_edit.setText(db_url + "&application_name=changed")
    assert step.project() is None, "an edited string has to be tested again"


# -- leaving and coming back -----------------------------------------------------------------------------------


def test_the_step_resumes_the_choice_account_organization_and_project(
    qtbot: QtBot, harness: Harness, ada: FakeAccount, fake: FakePlatform, local_server: LocalServer
) -> None:
    step = harness.step
    click(step.cards[ACCOUNT])
    harness.sign_in(ada.token)
    harness.wait(harness.listed)
    step.organization_combo.setCurrentIndex(1)
    harness.select_project("blog")
    harness.wait(harness.chosen)
    saved = json.loads(json.dumps(step.state()))
    assert ada.token not in json.dumps(saved)

    again = Harness(qtbot, harness.loop, harness.context, local_server, harness.workspace)
    again.step.restore(saved)
    assert again.step.choice == ACCOUNT and again.step.cards[ACCOUNT].isChecked()
    again.wait(again.chosen)
    assert again.step.organization_combo.currentText() == "Beta"
    assert again.step.projects.currentItem().text(0) == "blog"
    (handle,) = again.chosen.last
    assert handle.ref == saved["project_ref"] and again.step.problems() == []

    stale = Harness(qtbot, harness.loop, harness.context, local_server, harness.workspace)
    stale.step.restore({"choice": "teleport", "account_id": "gone", "project_ref": 7})
    assert stale.step.choice is None and stale.step.state() == {"choice": None,
                                                                 "account_id": ada.gotrue_id}
