"""Render every main screen of the real app to PNG (run by hand; the pictures go into docs/screenshots/).

Usage: .venv/bin/python scripts/screenshots.py [--out DIR] [--keep]

The app is assembled as `studio.app` assembles it (`AppShell`) with settings, data and workspace folders
in a fresh temporary folder and an embedded PostgreSQL server of this script's own, so the user's Studio
is never touched. The script then walks the app as a person would: the wizard (connect to "This computer",
the blog template, write the files, deploy), the main window's areas, the table browser (after loading
the workspace's supabase/seed.sql, which the wizard does not do), a pending change with hazards in the
review, the history, a comparison of two .sql files, Settings, and the Overview in the dark theme (chosen
in Settings, then Studio started again). Every picture is taken once no job runs and the page shows its
data. The pictures are 1280x800 unless the window's contents need more room (a note says so).

Each file written is printed; the exit status is 1 when a screen could not be reached (the reason is
printed), 0 otherwise. Qt runs offscreen unless QT_QPA_PLATFORM is set.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "screenshots"
WIDTH, HEIGHT = 1280, 800
SETTLE_SECONDS = 0.4  # loop time given to layouts, lazy models and paints before a picture
TIMEOUT = 90.0  # a step that needs longer than this is reported as not reached

#: The two schemas the Compare screen compares (written into the temporary folder).
COMPARE_FROM = """\
create table public.customers (
    id bigint generated always as identity primary key,
    name text not null,
    email text
);

create table public.orders (
    id bigint generated always as identity primary key,
    customer_id bigint references public.customers (id),
    total numeric(10, 2) not null,
    note text
);
"""

COMPARE_TO = """\
create table public.customers (
    id bigint generated always as identity primary key,
    name text not null,
    email text not null unique,
    created_at timestamp with time zone not null default now()
);

create table public.orders (
    id bigint generated always as identity primary key,
    customer_id bigint not null references public.customers (id) on delete cascade,
    total numeric(12, 2) not null,
    status text not null default 'placed'
);
create index orders_customer_id_idx on public.orders (customer_id);
alter table public.orders enable row level security;
"""


class ScreenError(Exception):
    """A screen could not be reached; the message says why."""


# -- running the loop (as tests/gui/conftest.py does: run_forever, never run_until_complete) -----------------


def finished(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, Any], what: str) -> Any:
    """Run the qasync loop until `work` is done and return its result; a timeout raises `ScreenError`."""
    task = loop.create_task(work)
    task.add_done_callback(lambda _: loop.stop())
    loop.run_forever()
    if not task.done():
        task.cancel()
        raise ScreenError(f"the loop stopped before {what}")
    if not task.cancelled() and isinstance(task.exception(), TimeoutError):
        raise ScreenError(f"timed out waiting for {what}")
    return task.result()


def run_until(loop: asyncio.AbstractEventLoop, condition: Callable[[], object], what: str,
              timeout: float = TIMEOUT) -> None:
    """Run the loop until `condition()` is true (checked every 10 ms of loop time)."""

    async def _wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    finished(loop, asyncio.wait_for(_wait(), timeout), what)


def settle(loop: asyncio.AbstractEventLoop, seconds: float = SETTLE_SECONDS) -> None:
    """Let the loop run for a while (layouts, lazy fetches, repaints)."""
    finished(loop, asyncio.sleep(seconds), "the loop to settle")


@contextmanager
def emitted(signal: Any) -> Iterator[list[tuple[Any, ...]]]:
    """Record the emissions of `signal` while the block runs (connect before the action that emits)."""
    seen: list[tuple[Any, ...]] = []

    def _record(*args: Any) -> None:
        seen.append(args)

    signal.connect(_record)
    try:
        yield seen
    finally:
        signal.disconnect(_record)


# -- the run -------------------------------------------------------------------------------------------------


class Shooter:
    """Drives one assembled app through its screens and saves a picture of each."""

    def __init__(self, tmp: Path, out: Path) -> None:
        import qasync
        from PySide6.QtCore import QSettings, QTimer
        from PySide6.QtWidgets import QApplication

        from studio.core.platform.accounts import AccountRegistry
        from studio.core.targets.local import LocalServer
        from studio.services.credentials import CredentialStoreService
        from studio.ui.shell import AppShell

        self.tmp = tmp
        self.out = out
        self.written: list[Path] = []
        self.failures: list[tuple[str, str]] = []
        app = QApplication.instance() or QApplication([sys.argv[0]])
        assert isinstance(app, QApplication)
        app.setApplicationName("Studio")
        self.app = app
        self.loop = qasync.QEventLoop(app, already_running=False)
        asyncio.set_event_loop(self.loop)
        # Garbage is collected on the GUI thread only, as the app does.
        gc.disable()
        self.collector = QTimer(app)
        self.collector.timeout.connect(lambda: gc.collect(0))
        self.collector.start(2000)

        folder = tmp / "local-postgres"
        folder.parent.chmod(0o755)  # the server may run as a user of its own (as root it does)
        self.server = LocalServer(folder)

        def make_shell() -> AppShell:
            settings = QSettings(str(tmp / "config" / "studio.ini"), QSettings.Format.IniFormat)
            shell = AppShell(app, settings, server=self.server,
                             credentials=CredentialStoreService(service=f"studio-screenshots-{os.getpid()}"),
                             registry=AccountRegistry(tmp / "accounts.json"))
            shell.window.resize(WIDTH, HEIGHT)
            return shell

        self.make_shell = make_shell
        self.server.start()
        try:
            self.server.ensure_supabase_base()
            self.shell = make_shell()
        except BaseException:
            self.server.stop()
            raise

    # -- helpers -------------------------------------------------------------------------------------------

    def idle(self, what: str, condition: Callable[[], object] = lambda: True, timeout: float = TIMEOUT) -> None:
        """Run the loop until no job runs and `condition()` holds, then let it settle."""
        try:
            run_until(self.loop, lambda: not self.shell.busy and condition(), what, timeout)
            settle(self.loop)
            run_until(self.loop, lambda: not self.shell.busy and condition(), what, timeout)
        except ScreenError as exc:
            state = "a job was still running" if self.shell.busy else "no job ran, but the page never showed it"
            raise ScreenError(f"{exc} ({state})") from None

    def save(self, name: str) -> None:
        """Grab the whole window into `<out>/<name>`."""
        window = self.shell.window
        if window.size().width() != WIDTH or window.size().height() != HEIGHT:
            window.resize(WIDTH, HEIGHT)
            settle(self.loop)
        if window.size().width() != WIDTH or window.size().height() != HEIGHT:
            print(f"note: {name} is {window.width()}x{window.height()}, not {WIDTH}x{HEIGHT}: the window's"
                  " contents need more room than that", file=sys.stderr, flush=True)
        path = self.out / name
        if not window.grab().save(str(path)):
            raise ScreenError(f"Qt could not write {path}")
        self.written.append(path)
        print(f"wrote {path}", flush=True)

    def shot(self, name: str, step: Callable[[], None]) -> bool:
        """Run `step` (which reaches the screen), then save it; a failure is recorded, not raised."""
        try:
            step()
            self.save(name)
            return True
        except ScreenError as exc:
            reason = str(exc)
        except Exception as exc:  # a bug of the app or of this script: keep going, report it
            reason = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        self.failures.append((name, reason))
        print(f"FAILED {name}: {reason}", file=sys.stderr, flush=True)
        if (self.out / name).exists():
            print(f"note: {self.out / name} is an older picture, not from this run", file=sys.stderr, flush=True)
        return False

    @staticmethod
    def checks_settled(workbench: Any) -> bool:
        """True when a model workbench's schema checks have reported (they start after a short delay)."""
        if workbench.problems() or not workbench.checker.available:
            return True
        return workbench.findings() is not None or "could not be checked" in workbench.checks.text()

    def show_area(self, title: str) -> None:
        """Switch the main window to an area, as Ctrl+<n> does."""
        self.shell.window.show_area(title)
        if self.shell.window.area(title) is None:
            raise ScreenError(f"the main window has no area {title!r}")

    # -- the wizard ----------------------------------------------------------------------------------------

    def wizard_connect(self) -> None:
        """First start: the wizard, with the "This computer" card chosen."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        from studio.ui.wizard.connect import LOCAL

        shell = self.shell
        shell.start()
        shell.window.resize(WIDTH, HEIGHT)
        if not shell.window.wizard_open or shell.connect_step is None:
            raise ScreenError("the first start did not open the wizard")
        QTest.mouseClick(shell.connect_step.cards[LOCAL], Qt.MouseButton.LeftButton)
        if shell.connect_step.choice != LOCAL:
            raise ScreenError("clicking the local card did not choose it")
        self.idle("the local project to start",
                  lambda: "Local project ready" in shell.window.status.text())

    def dismiss_welcome(self) -> None:
        """Close the first start's welcome above the wizard ("Got it"), as a person would after reading it."""
        from PySide6.QtWidgets import QPushButton

        welcome = getattr(self.shell, "welcome", None)
        if welcome is None or not welcome.isVisible():
            return
        button = next((b for b in welcome.findChildren(QPushButton) if b.text() == "Got it"), None)
        if button is None:
            raise ScreenError("the welcome above the wizard has no “Got it” button")
        button.click()

    def wizard_generate(self) -> None:
        """Generate: the blog template, its files written into the workspace."""
        shell = self.shell
        assert shell.wizard is not None
        self.dismiss_welcome()
        if not shell.wizard.next() or shell.generate_step is None or shell.wizard.current is not shell.generate_step:
            raise ScreenError(f"Next did not lead to Generate: {shell.wizard.problems_label.text()}")
        generate = shell.generate_step
        generate.picker.set_current("blog")
        generate.picker.use_button.click()
        self.idle("the schema check of the blog model", lambda: self.checks_settled(generate.workbench))
        if not generate.write_files():
            raise ScreenError(f"the files were not written: {generate.status.text()}")
        if not (self.workspace / "supabase" / "schemas" / "supabase_tables.sql").is_file():
            raise ScreenError("Write files wrote no supabase/schemas/supabase_tables.sql")
        self.idle("the schema check after writing", lambda: self.checks_settled(generate.workbench))

    def wizard_deploy(self) -> None:
        """Deploy: the plan made from the files just written, before applying."""
        from studio.ui.wizard.deploy import PLANNING

        shell = self.shell
        assert shell.wizard is not None
        if not shell.wizard.next() or shell.deploy_step is None or shell.wizard.current is not shell.deploy_step:
            raise ScreenError(f"Next did not lead to Deploy: {shell.wizard.problems_label.text()}")
        deploy = shell.deploy_step
        self.idle("the wizard's plan", lambda: deploy.problems() != [PLANNING])
        review = deploy.review
        if review.result is None:
            raise ScreenError(f"no plan: {deploy.problems()}")
        if review.result.review.plan.empty:
            raise ScreenError("the plan is empty: nothing to deploy")
        if not review.apply_button.isEnabled():
            raise ScreenError(f"Apply is disabled: {review.blocker.text()}")

    def wizard_deployed(self) -> None:
        """Deploy, after Apply: the outcome "Applied"."""
        shell = self.shell
        assert shell.deploy_step is not None
        deploy = shell.deploy_step
        review = deploy.review
        with emitted(deploy.deployed) as deployed, emitted(review.apply_failed) as failed:
            review.apply_button.click()
            self.idle("the apply", lambda: deployed or failed)
        if failed:
            raise ScreenError(f"the apply failed: {review.outcome_title.text()}: {review.outcome_text.text()}")
        if review.outcome_title.text() != "Applied":
            raise ScreenError(f"the outcome says {review.outcome_title.text()!r}, not 'Applied'")

    # -- the main window -----------------------------------------------------------------------------------

    def seed(self) -> None:
        """Load the workspace's supabase/seed.sql (as `supabase db reset` would) and make one post a draft.

        Studio's wizard does not load the sample data itself; the browser and the review need rows.
        """
        import psycopg

        seed = (self.workspace / "supabase" / "seed.sql").read_text(encoding="utf-8")
        with psycopg.connect(self.server.uri(), autocommit=True) as conn:
            conn.execute(seed)  # our own generated file, run as one script (no parameters)
            conn.execute("update public.posts set published_at = null where title = 'What we learned shipping v2'")
            conn.execute("analyze")

    def overview(self) -> None:
        """"Open the tables" ends the wizard; then the Overview with the local project's tables."""
        shell = self.shell
        assert shell.deploy_step is not None
        self.seed()
        shell.deploy_step.review.open_tables_button.click()
        if shell.window.wizard_open:
            raise ScreenError("Open the tables did not close the wizard")
        self.show_area("Overview")
        self.idle("the Overview to list the blog's tables", self.overview_ready)

    def overview_ready(self) -> bool:
        """True when the Overview says the local project is ready and lists the blog's four tables."""
        window = self.shell.window
        return "Local project ready" in window.status.text() and window.tables.model().rowCount() >= 4

    def data_model(self) -> None:
        """Data model: the blog's entities, as saved by the wizard."""
        self.show_area("Data model")
        page = self.shell.model_page
        try:
            self.idle("the blog's data model", lambda: len(page.workbench.model().entities) >= 4
                      and self.checks_settled(page.workbench), timeout=15)
        except ScreenError as exc:
            shown = len(page.workbench.model().entities)
            raise ScreenError(f"{exc}: the Data model area shows {shown} entities, not the 4 the wizard saved in"
                              f" studio.json; it says {page.status.text()!r}") from None

    def table_browser(self) -> None:
        """Tables: public.posts with its sample rows, a filter, and a draft post's empty date (null)."""
        from studio.core.browse import Filter, FilterOp
        from studio.ui.models.rows import RowsRole

        self.show_area("Tables")
        browser = self.shell.browser
        self.idle("the table list", lambda: browser.relation_item("public.posts") is not None)
        with emitted(browser.relation_shown) as shown:
            if not browser.open_relation("public", "posts"):
                raise ScreenError("public.posts could not be opened")
            self.idle("the rows of public.posts", lambda: shown)
        with emitted(browser.relation_shown) as shown:
            browser.set_filters([Filter("title", FilterOp.NOT_CONTAINS, "sleep")])
            self.idle("the filtered rows of public.posts", lambda: shown and not browser.model.loading)
        model = browser.model
        if model.rowCount() == 0:
            raise ScreenError(f"public.posts shows no rows: {browser.status.text()}")
        column = next((i for i in range(model.columnCount())
                       if (c := model.column_at(i)) is not None and c.name == "published_at"), None)
        row = next((r for r in range(model.rowCount()) if column is not None
                    and model.index(r, column).data(RowsRole.IS_NULL)), None)
        if column is None or row is None:
            raise ScreenError("the draft post's empty published_at (NULL) is not among the rows shown")
        browser.select_cell(row, 1)  # its title, so the muted NULL stays unselected
        browser.grid.scrollTo(model.index(row, column))
        browser.grid.setFocus()
        self.idle("the NULL cell to be scrolled into view")

    def review(self) -> None:
        """Migrations > Review and deploy: a pending change that adds a column and drops one with data."""
        shell = self.shell
        tables = self.workspace / "supabase" / "schemas" / "supabase_tables.sql"
        text = tables.read_text(encoding="utf-8")
        edits = [("    cover_image text,\n", "    subtitle text,\n"),
                 ("comment on column public.posts.cover_image is 'Cover image';\n",
                  "comment on column public.posts.subtitle is 'Subtitle';\n")]
        for old, new in edits:
            if old not in text:
                raise ScreenError(f"the generated schema has no line {old.strip()!r} to edit")
            text = text.replace(old, new)
        tables.write_text(text, encoding="utf-8")

        self.show_area("Migrations")
        page = shell.migrations.review
        shell.migrations.setCurrentWidget(page)
        self.idle("the Migrations area")
        with emitted(page.plan_shown) as shown, emitted(page.plan_failed) as failed:
            page.refresh()
            self.idle("the plan of the edited schema", lambda: shown or failed)
        if failed or page.result is None:
            raise ScreenError(f"the plan could not be made: {failed}")
        destructive = [c for c in page.result.review.plan.changes if c.destructive]
        if not destructive:
            raise ScreenError("dropping posts.cover_image made no destructive change")
        for change in destructive:
            page.plan_view.set_ticked(change.id, True)
        page.plan_view.select_change(destructive[0].id)
        self.idle("the typed confirmation", page.confirm_box.isVisible)

    def history(self) -> None:
        """Migrations > History: the wizard's migration, in sync with its file."""
        page = self.shell.migrations.history
        with emitted(page.history_shown) as shown, emitted(page.history_failed) as failed:
            self.shell.migrations.setCurrentWidget(page)
            if page.result is None and not shown:
                page.refresh()
            self.idle("the history", lambda: shown or failed or page.result is not None)
        if failed:
            raise ScreenError(f"the history could not be read: {failed}")
        if page.table.rowCount() == 0:
            raise ScreenError("the history lists no migration")

    def compare(self) -> None:
        """Migrations > Compare: two .sql files."""
        from studio.services.deploy import SourceKind

        first, second = self.tmp / "schema_v1.sql", self.tmp / "schema_v2.sql"
        first.write_text(COMPARE_FROM, encoding="utf-8")
        second.write_text(COMPARE_TO, encoding="utf-8")
        page = self.shell.migrations.compare
        self.shell.migrations.setCurrentWidget(page)
        page.set_sources((SourceKind.FILE, str(first)), (SourceKind.FILE, str(second)))
        with emitted(page.compared) as shown, emitted(page.compare_failed) as failed:
            page.compare()
            self.idle("the comparison", lambda: shown or failed)
        if failed:
            raise ScreenError(f"the comparison failed: {failed}")
        if page.result is None or page.result.review.plan.empty:
            raise ScreenError("the comparison found no differences")
        changes = page.result.review.plan.changes
        page.plan_view.select_change(changes[0].id)
        self.idle("the first change of the comparison")

    def settings(self) -> None:
        """Settings."""
        self.show_area("Settings")
        self.idle("Settings")

    def overview_dark(self) -> None:
        """The Overview in the dark theme: Settings > Appearance > Dark, then Studio started again.

        The choice is applied at once (`apply_theme`), but colours set when widgets were built (headings,
        banners) keep the light theme's until the window is built again, so the picture is taken after a
        restart, as a person would see the app the next time they open it.
        """
        from studio.ui.theme import Scheme, colors

        page = self.shell.settings_page
        button = next((b for b in page.theme_buttons.buttons() if b.property("scheme") == Scheme.DARK.value), None)
        if button is None:
            raise ScreenError("Settings has no Dark theme choice")
        button.click()  # stores the choice and applies the theme through the shell's wiring
        if not colors().dark:
            raise ScreenError("choosing Dark in Settings did not switch to the dark theme")
        self.restart()
        shell = self.shell
        if shell.window.wizard_open:
            raise ScreenError("the restart opened the wizard again, though it was finished")
        self.show_area("Overview")
        self.idle("the dark Overview to list the blog's tables", self.overview_ready)

    def restart(self) -> None:
        """Quit the app (its jobs end; the server is this script's and keeps running) and start it again."""
        old = self.shell
        old.shutdown()
        run_until(self.loop, lambda: not old.busy, "every job to end before the restart", 30)
        old.window.close()
        old.window.deleteLater()
        settle(self.loop, 0.1)
        self.shell = self.make_shell()
        self.shell.start()
        self.shell.window.resize(WIDTH, HEIGHT)

    # -- all of it -----------------------------------------------------------------------------------------

    @property
    def workspace(self) -> Path:
        """The local project's workspace folder."""
        return Path(self.shell.local_handle.workspace)

    def run(self) -> None:
        """Every screen in order; a wizard step that fails stops the steps that need it."""
        wizard = [("wizard_connect.png", self.wizard_connect), ("wizard_generate.png", self.wizard_generate),
                  ("wizard_deploy.png", self.wizard_deploy), ("wizard_deployed.png", self.wizard_deployed),
                  ("overview.png", self.overview)]
        after = [("data_model.png", self.data_model), ("table_browser.png", self.table_browser),
                 ("review.png", self.review), ("history.png", self.history), ("compare.png", self.compare),
                 ("settings.png", self.settings), ("overview_dark.png", self.overview_dark)]
        for index, (name, step) in enumerate(wizard):
            if not self.shot(name, step):
                for skipped, _ in wizard[index + 1:]:
                    self.failures.append((skipped, f"{name} failed first"))
                if self.shell.window.wizard_open:
                    self.shell.window.close_wizard()
                break
        for name, step in after:
            self.shot(name, step)

    def close(self) -> None:
        """Quit as the app quits, then stop the server and the loop."""
        try:
            self.shell.shutdown()
            run_until(self.loop, lambda: not self.shell.busy, "every job to end", 30)
            self.shell.window.close()
            settle(self.loop, 0.1)
        except ScreenError as exc:
            print(f"note: quitting the app: {exc}", file=sys.stderr)
        finally:
            self.server.stop()
            self.collector.stop()
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                finished(self.loop, asyncio.wait(pending, timeout=5), "cancelled tasks to end")
            self.loop.close()
            asyncio.set_event_loop(None)
            gc.collect()


def main(argv: list[str] | None = None) -> int:
    """Render the screens into `--out`; returns 1 when a screen could not be reached."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the PNGs (default {DEFAULT_OUT})")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args(argv)
    started = time.monotonic()

    tmp = Path(tempfile.mkdtemp(prefix="studio-screenshots-"))
    # Before studio is imported: its folders are this run's, never the user's.
    os.environ["STUDIO_CONFIG_DIR"] = str(tmp / "config")
    os.environ["STUDIO_DATA_DIR"] = str(tmp / "data")
    os.environ["STUDIO_CACHE_DIR"] = str(tmp / "cache")
    os.environ["STUDIO_WORKSPACE"] = str(tmp / "my-app")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT / "src"))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)

    shooter: Shooter | None = None
    try:
        shooter = Shooter(tmp, args.out)
        shooter.run()
    except Exception as exc:  # the app could not even be assembled
        print(f"FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exc()
        return 1
    finally:
        if shooter is not None:
            shooter.close()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"{len(shooter.written)} screenshot(s) in {time.monotonic() - started:.1f} s", flush=True)
    for name, reason in shooter.failures:
        print(f"not reached: {name}: {reason.splitlines()[0]}", file=sys.stderr)
    return 1 if shooter.failures else 0


if __name__ == "__main__":
    sys.exit(main())
