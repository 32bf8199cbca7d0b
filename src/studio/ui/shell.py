"""The app assembled: services, the main window with its areas, and the wizard, wired to each other.

`studio.app` builds one `AppShell` and runs the loop; tests build one against the session's server, a
settings file of their own and the fake platform. Lifetimes are declared here, where things are created:
`shutdown()` stops every job and the local server.
"""

from __future__ import annotations

import logging
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QApplication, QTabWidget, QWidget

from studio.core.errors import StudioError
from studio.core.paths import default_workspace
from studio.core.platform.accounts import Account, AccountRegistry
from studio.core.platform.management import Project
from studio.core.schema.plan import PlanOptions
from studio.core.targets.local import LocalServer
from studio.core.workspace_file import read_link
from studio.services.browse import CLOSE_JOB
from studio.services.credentials import CredentialStoreService
from studio.services.generate import SchemaChecker
from studio.services.jobs import JobRunner
from studio.services.local_project import LocalProjectService
from studio.services.messages import user_messages
from studio.services.platform import DatabaseCheckService, PlatformService, describe_status
from studio.services.projects import ProjectHandle, ProjectKind, local_project
from studio.ui.main_window import MainWindow
from studio.ui.pages.browser import BrowserPage
from studio.ui.pages.compare import ComparePage
from studio.ui.pages.data_model import ModelPage
from studio.ui.pages.history import HistoryPage
from studio.ui.pages.review import ReviewPage
from studio.ui.pages.settings import SettingsPage
from studio.ui.theme import Scheme, apply_theme, follow_system
from studio.ui.wizard.connect import LOCAL, ConnectStep
from studio.ui.wizard.deploy import DeployStep
from studio.ui.wizard.generate import GenerateStep
from studio.ui.wizard.welcome import WelcomePanel
from studio.ui.wizard.wizard import Wizard

log = logging.getLogger(__name__)

AREAS = ("Data model", "Migrations", "Tables", "Settings")


class MigrationsArea(QTabWidget):
    """The Migrations area: review and deploy the pending plan, the history of applied migrations, compare."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review = ReviewPage(runner)
        self.history = HistoryPage(runner)
        self.compare = ComparePage(runner)
        self.addTab(self.review, "Review and deploy")
        self.addTab(self.history, "History")
        self.addTab(self.compare, "Compare")
        self.review.history_requested.connect(lambda: self.setCurrentWidget(self.history))
        self.review.applied.connect(lambda _applied: self.history.set_project(self.history.handle))

    def set_project(self, handle: ProjectHandle | None) -> None:
        """Work on this project in every tab."""
        for page in (self.review, self.history, self.compare):
            page.set_project(handle)

    def set_plan_options(self, options: PlanOptions) -> None:
        """Make plans with these options from now on."""
        self.review.set_plan_options(options)


def _scheme(value: object) -> Scheme:
    try:
        return Scheme(str(value))
    except ValueError:
        return Scheme.SYSTEM


class AppShell(QObject):
    """Studio's services, window, areas and wizard, wired together.

    `server` is the local project's embedded server (default: the per-user one); `credentials` and
    `platform` may be given (tests: a memory store and the fake platform); a `server` given is left
    running at shutdown. Call `start()` once the window
    should appear, `shutdown()` when the app quits.
    """

    def __init__(
        self,
        app: QApplication,
        settings: QSettings,
        *,
        server: LocalServer | None = None,
        credentials: CredentialStoreService | None = None,
        platform: PlatformService | None = None,
        registry: AccountRegistry | None = None,
    ) -> None:
        super().__init__()
        self.app = app
        self.settings = settings
        apply_theme(app, _scheme(settings.value("appearance/theme", Scheme.SYSTEM.value)))
        self.jobs = JobRunner(parent=self)
        # The wizard's jobs are its own: its plan must not replace (cancel) the Migrations area's, or back.
        self.wizard_jobs = JobRunner(parent=self)
        # A server given by the caller is the caller's to stop; the per-user one is stopped at shutdown.
        self._owns_server = server is None
        self._shut_down = False
        self.local = LocalProjectService(server, parent=self)
        self.server = self.local.server
        self.credentials = credentials or CredentialStoreService(parent=self)
        self.platform = platform or PlatformService(jobs=self.jobs, parent=self)
        self._registry = registry
        self.database_check = DatabaseCheckService(self.wizard_jobs, parent=self)

        self.window = MainWindow(settings)
        self.local_handle = local_project(self.server, self.local_workspace())
        self.model_page = ModelPage(checker=SchemaChecker(jobs=self.jobs))
        self.migrations = MigrationsArea(self.jobs)
        self.browser = BrowserPage(self.jobs)
        self.settings_page = SettingsPage(settings)
        for title, page in zip(AREAS, (self.model_page, self.migrations, self.browser, self.settings_page),
                               strict=True):
            self.window.add_area(title, page)
        self.migrations.set_plan_options(self.settings_page.plan_options())
        self.settings_page.show_workspace(self.local_handle.workspace)
        self.wizard: Wizard | None = None
        self.connect_step: ConnectStep | None = None
        self.generate_step: GenerateStep | None = None
        self.deploy_step: DeployStep | None = None
        self._wizard_passed: ProjectHandle | None = None
        self.welcome: WelcomePanel | None = None
        self._secrets_location = ""
        self._secrets_problem = ""
        self._wire()
        follow_system(app, self.settings_page.theme)

    # -- wiring -------------------------------------------------------------------------------------------

    def _wire(self) -> None:
        window = self.window
        user_messages().posted.connect(window.show_message)
        self.local.starting.connect(window.show_starting)
        self.local.ready.connect(window.show_ready)
        self.local.ready.connect(self._local_ready)
        self.local.failed.connect(self._local_failed)
        self.local.failed.connect(window.show_failed)
        self.credentials.ready.connect(self._secrets_ready)
        self.credentials.unavailable.connect(self._secrets_unavailable)
        window.session_only_chosen.connect(self.credentials.use_session_only)
        self.settings_page.session_only_chosen.connect(self.credentials.use_session_only)
        window.wizard_requested.connect(self.open_wizard)
        window.refresh_requested.connect(self.refresh)
        self.platform.projects_listed.connect(self._projects_listed)
        self.platform.listing_failed.connect(self._listing_failed)
        self.platform.accounts_changed.connect(self._accounts_changed)
        self.platform.signed_out.connect(lambda account, _note: window.remove_account(account.label))
        self.settings_page.theme_chosen.connect(lambda value: apply_theme(self.app, _scheme(value)))
        self.settings_page.workspace_chosen.connect(self._local_workspace_chosen)
        self.settings_page.plan_options_changed.connect(self._plan_options_changed)
        self.migrations.review.open_tables_requested.connect(lambda: window.show_area("Tables"))
        # The table list is the first thing read from a selected project: it tells whether it is reachable.
        self.browser.service.relations_loaded.connect(lambda _relations: self._online_state())
        self.browser.service.online_changed.connect(lambda _online: self._online_state())
        self.browser.outbox_changed.connect(window.show_offline_edits)
        self.browser.service.relations_loaded.connect(self.window.show_relations)
        window.table_requested.connect(self._open_table)
        self.browser.service.failed.connect(self._browse_failed)

    def _connection_state(self, state: str) -> None:
        handle = self.browser.handle
        if handle is not None:
            self.window.show_connection(handle, state)

    def _online_state(self) -> None:
        self._connection_state("connected" if self.browser.service.online
                               else "offline (showing the data saved on this computer)")

    def _browse_failed(self, kind: str, _message: str) -> None:
        if kind in ("browse.open", "browse.relations"):
            self._connection_state("not reachable (see the message above)")

    def _local_ready(self, _summary: str, _tables: list[str]) -> None:
        self.window.postgres_version = self.local.version
        if self.welcome is not None and shiboken6.isValid(self.welcome):
            self.welcome.show_local_ready(self.local.version)

    def _local_failed(self, message: str) -> None:
        if self.welcome is not None and shiboken6.isValid(self.welcome):
            self.welcome.show_local_failed(message)

    def _open_table(self, schema: str, name: str) -> None:
        self.window.show_area("Tables")
        self.browser.open_relation(schema, name)

    def local_workspace(self) -> Path:
        """The local project's workspace folder (chosen in Settings, else the default)."""
        chosen = self.settings.value("local/workspace")
        return Path(chosen) if isinstance(chosen, str) and chosen.strip() else default_workspace()

    # -- starting and stopping ----------------------------------------------------------------------------

    def start(self) -> None:
        """Show the window on the local project, start the local server, find the password store.

        A first start (no account, the wizard never finished) opens the wizard on the local project.
        """
        self.window.set_local_project(self.local_handle)
        self.window.restore_window_state()
        self.window.show()
        self.local.start()
        if self.credentials.store is None:
            self.credentials.probe()
        else:
            self._secrets_ready(self.credentials.store.report.name)
        if self.first_start():
            self.open_wizard(welcome=True)

    def first_start(self) -> bool:
        """True when the wizard was never finished and no Supabase account is signed in."""
        if self.settings.value("wizard/completed") in (True, "true"):
            return False
        try:
            registry = self._registry or AccountRegistry()
            return not registry.accounts()
        except StudioError:
            return True

    @property
    def busy(self) -> bool:
        """True while any job of the app runs."""
        return (any(runner.busy for runner in (self.jobs, self.wizard_jobs, self.platform.jobs))
                or self.local.busy or self.credentials.busy)

    def shutdown(self) -> None:
        """Stop every job and the local server (called when the app quits; a second call does nothing)."""
        if self._shut_down:
            return
        self._shut_down = True
        if shiboken6.isValid(self.window):
            self.window.save_window_state()
        self.browser.shutdown()
        self.platform.shutdown()
        self.credentials.shutdown()
        self.jobs.cancel_all(sparing=CLOSE_JOB)  # connections still close
        self.wizard_jobs.cancel_all()
        if self._owns_server:
            self.local.shutdown()

    def refresh(self) -> None:
        """Reload what the current area shows (F5)."""
        page = self.window.areas.currentWidget()
        if isinstance(page, MigrationsArea):
            page = page.currentWidget()
        refresh = getattr(page, "refresh", None)
        if callable(refresh):
            refresh()
        if self.platform.ready:
            self.platform.refresh_all()

    # -- secrets and accounts -----------------------------------------------------------------------------

    def _secrets_ready(self, name: str) -> None:
        self._secrets_location = name
        self._secrets_problem = ""
        self.window.show_secrets_ready(name)
        self.settings_page.show_secret_store(f"Stored in {name}")
        if self.credentials.store is not None:
            self.platform.use_store(self.credentials.store, registry=self._registry)
        if self.connect_step is not None:
            self.connect_step.set_secrets_location(name)

    def _secrets_unavailable(self, problem: str) -> None:
        self._secrets_problem = problem
        self.window.show_secrets_unavailable(problem)
        self.settings_page.show_secret_store(problem, missing=True)
        if self.connect_step is not None:
            self.connect_step.set_secrets_problem(problem)

    def _accounts_changed(self, accounts: list[Account]) -> None:
        for account in accounts:
            self.platform.list_projects(account)

    def _projects_listed(self, account: Account, projects: list[Project]) -> None:
        linked = self._linked_ref()  # read once for the whole list
        entries = [(self.cloud_handle(account, project, linked_ref=linked), describe_status(project.status))
                   for project in projects]
        self.window.show_account_projects(account.label, entries)

    def _listing_failed(self, account: Account, message: str) -> None:
        self.window.show_account_projects(account.label, [])
        user_messages().warning(f"Studio could not list the projects of {account.label}. {message}")

    def _linked_ref(self) -> str | None:
        """The ref of the cloud project the local workspace is linked to (None: not linked, or unreadable)."""
        try:
            link = read_link(self.local_handle.workspace)
        except StudioError:
            return None
        return link.ref if link is not None else None

    def cloud_handle(self, account: Account, project: Project, *, linked_ref: str | None) -> ProjectHandle:
        """The handle of a cloud project: its workspace is the local one when that is linked to it
        (`linked_ref`, as `_linked_ref` reads it)."""
        linked = project.ref == linked_ref
        workspace = self.local_handle.workspace if linked else default_workspace().parent / project.ref
        return self.platform.project_handle(account, project, server=self.server, workspace=workspace)

    # -- settings -----------------------------------------------------------------------------------------

    def _local_workspace_chosen(self, folder: str) -> None:
        self.local_handle = local_project(self.server, Path(folder).expanduser())
        self.window.set_local_project(self.local_handle)

    def _plan_options_changed(self, options: PlanOptions) -> None:
        self.migrations.set_plan_options(options)
        if self.deploy_step is not None:
            self.deploy_step.review.set_plan_options(options)

    # -- the wizard ---------------------------------------------------------------------------------------

    def open_wizard(self, *, welcome: bool = False) -> None:
        """Show the wizard (built the first time; a left wizard resumes where it was).

        With `welcome` (a first start) a welcome explains the three steps above it, and unless the user
        had already chosen, "This computer" is chosen for them: the local project needs no question.
        """
        if self.wizard is None:
            self.wizard = self._build_wizard()
            resumed = self.wizard.resume()
            if welcome and not resumed and self.connect_step is not None:
                self.connect_step.choose(LOCAL)
            if welcome:
                self.welcome = WelcomePanel()
                if self.local.version:
                    self.welcome.show_local_ready(self.local.version)
                self.wizard.set_intro(self.welcome)
        self.window.open_wizard(self.wizard)

    def _build_wizard(self) -> Wizard:
        self.connect_step = ConnectStep(self.platform, self.database_check, self.server,
                                        workspace=self.local_handle.workspace,
                                        secrets_location=self._secrets_location)
        if self._secrets_problem:
            self.connect_step.set_secrets_problem(self._secrets_problem)
        self.generate_step = GenerateStep(checker=SchemaChecker(jobs=self.wizard_jobs))
        self.deploy_step = DeployStep(self.wizard_jobs)
        self.deploy_step.review.set_plan_options(self.settings_page.plan_options())
        wizard = Wizard([self.connect_step, self.generate_step, self.deploy_step], self.settings)
        self.connect_step.project_chosen.connect(self._wizard_project)
        wizard.step_entered.connect(self._wizard_step_entered)
        wizard.left.connect(self.window.close_wizard)
        wizard.finished.connect(self._wizard_finished)
        self.deploy_step.open_tables_requested.connect(self._wizard_open_tables)
        self.deploy_step.deployed.connect(self._wizard_deployed)
        return wizard

    def _wizard_handle(self) -> ProjectHandle | None:
        if self.connect_step is None:
            return None
        handle = self.connect_step.project()
        if handle is not None and handle.kind == ProjectKind.LOCAL:
            return self.local_handle  # one local project: the one the window shows
        return handle

    def _wizard_project(self, _handle: ProjectHandle) -> None:
        self._pass_wizard_project()

    def _wizard_step_entered(self, index: int) -> None:
        if index > 0 and self.welcome is not None and shiboken6.isValid(self.welcome):
            self.welcome.hide()  # it has done its job; the next steps need the room
        self._pass_wizard_project()

    def _pass_wizard_project(self) -> None:
        handle = self._wizard_handle()
        if handle is self._wizard_passed:
            return
        self._wizard_passed = handle
        if self.generate_step is not None:
            self.generate_step.set_project(handle)
        if self.deploy_step is not None:
            self.deploy_step.set_project(handle)

    def _wizard_deployed(self, _applied: object) -> None:
        if self._wizard_handle() is self.local_handle:
            self.local.start()  # the overview lists the local project's tables afresh

    def _wizard_finished(self) -> None:
        handle = self._wizard_handle()
        wizard = self.wizard
        self.window.remove_wizard()
        if handle is not None:
            if self.window.current_project() is handle:
                self._reload(handle)
            else:
                self.window.select_project(handle)  # the areas follow the selection
        self.window.show_area("Tables")
        # Finished: a new wizard starts afresh next time.
        self.wizard = None
        self.connect_step = self.generate_step = self.deploy_step = None
        self._wizard_passed = None
        self.welcome = None
        if wizard is not None:
            wizard.deleteLater()

    def _wizard_open_tables(self) -> None:
        if self.wizard is not None:
            self.wizard.next()  # the deploy is done: finishing is allowed and opens the tables

    def _reload(self, handle: ProjectHandle) -> None:
        """Show `handle`'s fresh state in every area (its schema was just deployed)."""
        self.model_page.set_project(handle)
        self.migrations.set_project(handle)
        self.browser.set_project(handle)
