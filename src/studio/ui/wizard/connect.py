"""The wizard's first step: where the builder's app keeps its data.

Three large choices: "This computer" (the local embedded project, no account), "Supabase account" (sign
in with the browser or an access token, pick an organization and a project or create one with a live
progress bar), and "Existing database" (a PostgreSQL connection string, tested before going on). The step
shows where secrets go, explains every problem in plain words, and saves what was chosen - never a
secret - so the builder can leave and come back.

The step only starts jobs of `PlatformService` and `DatabaseCheckService` and shows what they report.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import psycopg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import RequestRejected
from studio.core.paths import default_workspace
from studio.core.platform.accounts import Account
from studio.core.platform.linking import LinkResult
from studio.core.platform.management import Organization, Project, Region
from studio.core.platform.session import check_token_format
from studio.core.secrets import Secret
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import describe_conninfo
from studio.services.platform import (
    KIND_CREATE,
    KIND_LINK,
    KIND_REGIONS,
    KIND_SIGN_IN,
    KIND_SIGN_OUT,
    USABLE_STATES,
    CreationProgress,
    DatabaseCheck,
    DatabaseCheckService,
    PlatformService,
    describe_status,
    status_advice,
)
from studio.services.projects import ProjectHandle, database_project, local_project
from studio.ui.theme import colors, heading_label
from studio.ui.wizard.step import WizardStep

LOCAL = "local"
ACCOUNT = "account"
DATABASE = "database"
CHOICES = (LOCAL, ACCOUNT, DATABASE)

_REF_ROLE = Qt.ItemDataRole.UserRole
_MAX_NAME = 64


class ChoiceCard(QFrame):
    """A large choice: a title and a sentence, picked with a click, Space or Enter.

    Signals:
        clicked(): the user picked this card.
    """

    clicked = Signal()

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("choiceCard")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName(title)
        self.setAccessibleDescription(text)
        self.setMinimumHeight(104)
        self.title = QLabel(title)
        self.title.setStyleSheet("font-size: 16px; font-weight: 600; background: transparent;")
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setStyleSheet("background: transparent;")
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        self._checked = False
        self._restyle()

    def isChecked(self) -> bool:
        """Whether this card is the current choice."""
        return self._checked

    def setChecked(self, checked: bool) -> None:
        """Show the card as chosen or not."""
        self._checked = checked
        self._restyle()

    def _restyle(self) -> None:
        # The application's palette: the widget's own one already carries this card's style sheet.
        palette = QApplication.palette()
        highlight = palette.highlight().color().name()
        border = highlight if self._checked else palette.mid().color().name()
        width = 2 if self._checked else 1
        background = palette.alternateBase().color().name() if self._checked else palette.base().color().name()
        self.setStyleSheet(
            f"#choiceCard {{ border: {width}px solid {border}; border-radius: 8px; background: {background}; }}"
            f" #choiceCard:focus {{ border: 2px solid {highlight}; }}"
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A click picks the card."""
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Space and Enter pick the card."""
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.clicked.emit()
            return
        super().keyPressEvent(event)


def _message_style(kind: str) -> str:
    palette = colors()
    color = {"error": palette.danger, "ok": palette.ok, "warning": palette.warning}.get(kind, palette.muted)
    return f"color: {color.name()};"


class _Message(QLabel):
    """A line of feedback: plain, selectable, coloured by what it means."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = "info"
        self.hide()

    def show_text(self, text: str, kind: str = "info") -> None:
        """Show `text` as info, ok, warning or error ("" hides the line)."""
        self.kind = kind
        self.setStyleSheet(_message_style(kind))
        self.setText(text)
        self.setVisible(bool(text))


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _shown_path(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


class ConnectStep(WizardStep):
    """Choose where the app's data lives; the result is a `ProjectHandle`.

    `platform` runs everything that talks to Supabase, `database` tests connection strings, `server` is
    the local embedded server (the local project, and scratch databases for every kind of project) and
    `workspace` the app's folder (default: `default_workspace()`). `secrets_location` names the store
    secrets go to, as `CredentialStoreService.ready` reports it (`set_secrets_location` updates it).

    Signals:
        project_chosen(object): a `ProjectHandle` is ready to use (local chosen, a cloud project linked,
            or a database connection tested).
    """

    project_chosen = Signal(object)

    title = "Connect"
    subtitle = "Choose where your app keeps its data. You can change this later."

    def __init__(
        self,
        platform: PlatformService,
        database: DatabaseCheckService,
        server: LocalServer,
        *,
        workspace: Path | None = None,
        secrets_location: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.platform = platform
        self.database = database
        self.server = server
        self.workspace = workspace or default_workspace()
        self._secrets_location = secrets_location or platform.store_name
        self._secrets_problem = ""

        self._choice: str | None = None
        self._local: ProjectHandle | None = None
        self._announced: ProjectHandle | None = None
        # Account path: what is shown, what was listed, what the user asked for.
        self._account_id: str | None = None
        self._organization: str | None = None
        self._wanted_ref: str | None = None
        self._organizations: dict[str, list[Organization]] = {}
        self._projects: dict[str, list[Project]] = {}
        self._list_errors: dict[str, str] = {}
        self._regions: dict[str, list[Region]] = {}
        self._adding_account = False
        self._oauth_app_needed = True
        self._link_error = ""
        self._cloud: ProjectHandle | None = None
        self._cloud_key: tuple[str, str] | None = None  # (account id, ref) of `_cloud`
        self._creating_name = ""
        # Database path.
        self._db_handle: ProjectHandle | None = None
        self._db_tested_text: str | None = None
        self._db_testing_text: str | None = None
        self._db_error = ""

        self._build()
        self._connect_services()
        self._show_secrets_location()
        self._refresh_accounts()

    # -- building -----------------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        heading = heading_label("Where should your app's data live?")
        layout.addWidget(heading)

        cards = QHBoxLayout()
        cards.setSpacing(12)
        self.cards = {
            LOCAL: ChoiceCard(
                "This computer",
                "Build and try your app here. No account needed, and you can move it to Supabase later.",
            ),
            ACCOUNT: ChoiceCard(
                "Supabase account",
                "Use a project on supabase.com, or create a new one. Sign in with your browser or a token.",
            ),
            DATABASE: ChoiceCard(
                "Existing database",
                "Connect to a PostgreSQL database you already have, with its connection string.",
            ),
        }
        for choice, card in self.cards.items():
            card.clicked.connect(lambda choice=choice: self.choose(choice))
            cards.addWidget(card, 1)
        layout.addLayout(cards)

        self.pages = QStackedWidget()
        self._empty_page = QLabel("Pick one of the three to continue.")
        self._empty_page.setStyleSheet(_message_style("info"))
        self._empty_page.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.pages.addWidget(self._empty_page)
        self.local_page = self._build_local_page()
        self.account_page = self._build_account_page()
        self.database_page = self._build_database_page()
        for page in (self.local_page, self.account_page, self.database_page):
            self.pages.addWidget(page)
        layout.addWidget(self.pages, 1)

    def _build_local_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        about = QLabel(
            "Studio runs a private database on this computer, with Supabase's roles and sign-in tables, so"
            " your app behaves here as it will on Supabase. Nothing leaves this computer."
        )
        about.setWordWrap(True)
        self.local_workspace = QLabel(f"Your app's files go to {_shown_path(self.workspace)}")
        self.local_workspace.setStyleSheet(_message_style("info"))
        self.local_workspace.setWordWrap(True)
        layout.addWidget(about)
        layout.addWidget(self.local_workspace)
        layout.addStretch(1)
        return page

    def _build_account_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.account_secrets = QLabel()
        self.account_secrets.setWordWrap(True)
        layout.addWidget(self.account_secrets)

        # Signing in.
        self.sign_in_box = QGroupBox("Sign in to Supabase")
        sign_in = QVBoxLayout(self.sign_in_box)
        browser_row = QHBoxLayout()
        self.browser_button = QPushButton("Sign in with your browser")
        self.browser_button.setDefault(True)
        self.browser_button.clicked.connect(self._sign_in_with_browser)
        self.cancel_sign_in_button = QPushButton("Cancel")
        self.cancel_sign_in_button.clicked.connect(self.platform.cancel_sign_in)
        self.cancel_sign_in_button.hide()
        self.back_to_account_button = QPushButton("Back to my account")
        self.back_to_account_button.clicked.connect(lambda: self._set_adding_account(False))
        browser_row.addWidget(self.browser_button)
        browser_row.addWidget(self.cancel_sign_in_button)
        browser_row.addStretch(1)
        browser_row.addWidget(self.back_to_account_button)
        self.browser_address = QLabel()
        self.browser_address.setWordWrap(True)
        self.browser_address.setOpenExternalLinks(True)
        self.browser_address.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.browser_address.hide()
        self.oauth_box = QWidget()
        oauth = QFormLayout(self.oauth_box)
        oauth.setContentsMargins(0, 0, 0, 0)
        oauth_about = QLabel(
            "The browser sign-in goes through your organization's OAuth app. Copy its client id and secret"
            " from supabase.com (Organization settings > OAuth Apps); Studio remembers them."
        )
        oauth_about.setWordWrap(True)
        oauth_about.setStyleSheet(_message_style("info"))
        self.oauth_client_id = QLineEdit()
        self.oauth_client_id.setPlaceholderText("Client id, e.g. 66666666-6666-4666-8666-666666666666")
        self.oauth_client_secret = QLineEdit()
        self.oauth_client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.oauth_client_secret.setPlaceholderText("Client secret")
        oauth.addRow(oauth_about)
        oauth.addRow("OAuth app", self.oauth_client_id)
        oauth.addRow("", self.oauth_client_secret)
        sign_in.addWidget(self.oauth_box)
        sign_in.addLayout(browser_row)
        sign_in.addWidget(self.browser_address)
        or_token = QLabel("Or paste a personal access token (supabase.com > Account > Access Tokens):")
        or_token.setWordWrap(True)
        sign_in.addWidget(or_token)
        token_row = QHBoxLayout()
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("sbp_…")
        self.token_edit.setAccessibleName("Personal access token")
        self.token_edit.textChanged.connect(self._token_edited)
        self.token_edit.returnPressed.connect(self._sign_in_with_token)
        self.token_button = QPushButton("Sign in")
        self.token_button.setEnabled(False)
        self.token_button.clicked.connect(self._sign_in_with_token)
        token_row.addWidget(self.token_edit, 1)
        token_row.addWidget(self.token_button)
        sign_in.addLayout(token_row)
        self.sign_in_message = _Message()
        sign_in.addWidget(self.sign_in_message)
        layout.addWidget(self.sign_in_box)

        # The signed-in account: organization and projects.
        self.account_box = QWidget()
        account = QVBoxLayout(self.account_box)
        account.setContentsMargins(0, 0, 0, 0)
        account.setSpacing(8)
        rows = QGridLayout()
        rows.setColumnStretch(1, 1)
        self.account_label = QLabel()
        self.account_combo = QComboBox()
        self.account_combo.setAccessibleName("Account")
        self.account_combo.currentIndexChanged.connect(self._account_picked)
        self.add_account_button = QPushButton("Add another account")
        self.add_account_button.clicked.connect(lambda: self._set_adding_account(True))
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.clicked.connect(self._sign_out)
        who = QHBoxLayout()
        who.addWidget(self.account_label, 1)
        who.addWidget(self.account_combo, 1)
        who.addWidget(self.add_account_button)
        who.addWidget(self.sign_out_button)
        rows.addWidget(QLabel("Account"), 0, 0)
        rows.addLayout(who, 0, 1)
        self.organization_combo = QComboBox()
        self.organization_combo.setAccessibleName("Organization")
        self.organization_combo.currentIndexChanged.connect(self._organization_picked)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self._refresh_projects)
        where = QHBoxLayout()
        where.addWidget(self.organization_combo, 1)
        where.addWidget(self.refresh_button)
        rows.addWidget(QLabel("Organization"), 1, 0)
        rows.addLayout(where, 1, 1)
        account.addLayout(rows)
        self.projects = QTreeWidget()
        self.projects.setHeaderLabels(["Project", "Region", "Status"])
        self.projects.setRootIsDecorated(False)
        self.projects.setUniformRowHeights(True)
        self.projects.setAccessibleName("Projects")
        header = self.projects.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.projects.setMinimumHeight(110)
        self.projects.setMaximumHeight(240)
        self.projects.itemSelectionChanged.connect(self._project_picked)
        account.addWidget(self.projects)
        self.account_message = _Message()
        self.retry_button = QPushButton("Try again")
        self.retry_button.clicked.connect(self._refresh_projects)
        self.retry_button.hide()
        status_row = QHBoxLayout()
        status_row.addWidget(self.account_message, 1)
        status_row.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        account.addLayout(status_row)
        self.new_project_button = QPushButton("Create a new project…")
        self.new_project_button.clicked.connect(self._show_create_form)
        new_row = QHBoxLayout()
        new_row.addWidget(self.new_project_button)
        new_row.addStretch(1)
        account.addLayout(new_row)

        self.create_box = QGroupBox("New project")
        create = QFormLayout(self.create_box)
        self.project_name = QLineEdit(self.workspace.name[:_MAX_NAME])
        self.project_name.setAccessibleName("Project name")
        self.project_name.textChanged.connect(self._create_form_changed)
        self.region_combo = QComboBox()
        self.region_combo.setAccessibleName("Region")
        self.region_combo.currentIndexChanged.connect(self._create_form_changed)
        self.password_note = QLabel()
        self.password_note.setWordWrap(True)
        self.password_note.setStyleSheet(_message_style("info"))
        self.create_button = QPushButton("Create project")
        self.create_button.clicked.connect(self._create_project)
        self.close_create_button = QPushButton("Close")
        self.close_create_button.clicked.connect(lambda: self.create_box.hide())
        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.close_create_button)
        buttons.addStretch(1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setAccessibleName("Project creation progress")
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        self.cancel_create_button = QPushButton("Cancel")
        self.cancel_create_button.clicked.connect(self._cancel_creation)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_create_button)
        self.progress_box = QWidget()
        progress_layout = QVBoxLayout(self.progress_box)
        progress_layout.setContentsMargins(0, 0, 0, 0)
        progress_layout.addLayout(progress_row)
        progress_layout.addWidget(self.progress_label)
        self.progress_box.hide()
        self.create_message = _Message()
        create.addRow("Name", self.project_name)
        create.addRow("Region", self.region_combo)
        create.addRow(self.password_note)
        self.create_buttons = QWidget()
        self.create_buttons.setLayout(buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        create.addRow(self.create_buttons)
        create.addRow(self.progress_box)
        create.addRow(self.create_message)
        self.create_box.hide()
        account.addWidget(self.create_box)
        layout.addWidget(self.account_box)
        layout.addStretch(1)
        return page

    def _build_database_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        about = QLabel(
            "Paste the connection string of a PostgreSQL database: a self-hosted Supabase, the Supabase"
            " command line's local stack, or a project's database connection (supabase.com > Connect)."
        )
        about.setWordWrap(True)
        layout.addWidget(about)
        row = QHBoxLayout()
        self.conninfo_edit = QLineEdit()
        # Shown while typing, hidden afterwards: the string usually holds the password.
        self.conninfo_edit.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.conninfo_edit.setPlaceholderText("postgresql://user:password@host:5432/postgres")
        self.conninfo_edit.setAccessibleName("Connection string")
        self.conninfo_edit.textChanged.connect(self._conninfo_edited)
        self.conninfo_edit.returnPressed.connect(self._test_connection)
        self.test_button = QPushButton("Test connection")
        self.test_button.setEnabled(False)
        self.test_button.clicked.connect(self._test_connection)
        row.addWidget(self.conninfo_edit, 1)
        row.addWidget(self.test_button)
        layout.addLayout(row)
        self.conninfo_summary = _Message()
        layout.addWidget(self.conninfo_summary)
        self.database_message = _Message()
        layout.addWidget(self.database_message)
        self.database_secrets = QLabel(
            "Studio does not save this connection string, because it holds your password: you paste it again"
            " the next time you open the app."
        )
        self.database_secrets.setWordWrap(True)
        self.database_secrets.setStyleSheet(_message_style("info"))
        layout.addWidget(self.database_secrets)
        layout.addStretch(1)
        return page

    def _connect_services(self) -> None:
        platform = self.platform
        platform.store_ready.connect(self._store_ready)
        platform.accounts_changed.connect(self._accounts_changed)
        platform.signed_in.connect(self._signed_in)
        platform.signed_out.connect(self._signed_out)
        platform.browser_sign_in_started.connect(self._browser_opened)
        platform.organizations_listed.connect(self._organizations_listed)
        platform.projects_listed.connect(self._projects_listed)
        platform.listing_failed.connect(self._listing_failed)
        platform.regions_listed.connect(self._regions_listed)
        platform.creation_progress.connect(self._creation_progress)
        platform.project_created.connect(self._project_created)
        platform.creation_stopped.connect(self._creation_stopped)
        platform.project_linked.connect(self._project_linked)
        platform.retrying.connect(self._retrying)
        platform.failed.connect(self._platform_failed)
        self.database.checked.connect(self._database_checked)
        self.database.check_failed.connect(self._database_failed)

    # -- the WizardStep contract --------------------------------------------------------------------------

    def project(self) -> ProjectHandle | None:
        """The project chosen so far, ready to open (None until the choice is complete)."""
        if self._choice == LOCAL:
            if self._local is None:
                self._local = local_project(self.server, self.workspace)
            return self._local
        if self._choice == ACCOUNT:
            current = self._current_project()
            if self._cloud is not None and current is not None and self._cloud_key == (self._account_id, current.ref):
                return self._cloud
            return None
        if self._choice == DATABASE:
            return self._db_handle if self._db_tested_text == self.conninfo_edit.text() else None
        return None

    def problems(self) -> list[str]:
        """What is missing before going on, in plain words."""
        if self._choice is None:
            return ["Choose where your app's data lives: this computer, a Supabase account, or an existing database."]
        if self._choice == LOCAL:
            return []
        if self._choice == DATABASE:
            return self._database_problems()
        return self._account_problems()

    def _account_problems(self) -> list[str]:
        if not self.platform.ready:
            if self._secrets_problem:
                return [f"Studio has no safe place for your Supabase sign-in: {self._secrets_problem}"]
            return ["Studio is still checking where it can keep your sign-in safely. Wait a moment."]
        account = self._current_account()
        if account is None:
            if self.platform.signing_in:
                return ["Studio is still signing you in."]
            return ["Sign in to Supabase: with your browser, or by pasting an access token."]
        if self.platform.creating:
            return [f"“{self._creating_name}” is still being created. Wait until it is ready, or press Cancel."]
        error = self._list_errors.get(account.id)
        if error:
            return [error]
        if account.id not in self._projects:
            return ["Studio is still loading your organizations and projects."]
        if not self._organizations.get(account.id):
            return [f"{account.label} belongs to no organization. Create one on supabase.com, then press Refresh."]
        project = self._current_project()
        if project is None:
            return ["Choose a project in the list, or create a new one."]
        advice = status_advice(project)
        if advice:
            return [advice]
        if self.platform.linking:
            return [f"Studio is still connecting to “{project.name}”."]
        if self._link_error:
            return [self._link_error]
        if self.project() is None:
            return [f"Studio could not connect to “{project.name}” yet. Choose it again."]
        return []

    def _database_problems(self) -> list[str]:
        text = self.conninfo_edit.text().strip()
        if not text:
            return ["Paste the connection string of your database."]
        if self._conninfo_problem(text):
            return [self._conninfo_problem(text)]
        if self._db_testing_text == self.conninfo_edit.text():
            return ["Studio is still testing the connection."]
        if self._db_error:
            return [self._db_error]
        if self.project() is None:
            return ["Press “Test connection” so Studio can check that it reaches your database."]
        return []

    def state(self) -> dict[str, Any]:
        """The choice, account, organization and project to come back to (never a secret)."""
        state: dict[str, Any] = {"choice": self._choice}
        if self._account_id:
            state["account_id"] = self._account_id
        if self._organization:
            state["organization"] = self._organization
        project = self._current_project()
        ref = project.ref if project is not None else self._wanted_ref
        if ref:
            state["project_ref"] = ref
        return state

    def restore(self, state: dict[str, Any]) -> None:
        """Come back to a saved choice; accounts, organizations and projects that are gone are ignored."""
        account_id = state.get("account_id")
        if isinstance(account_id, str) and self.platform.account(account_id) is not None:
            self._account_id = account_id
        organization = state.get("organization")
        self._organization = organization if isinstance(organization, str) else None
        ref = state.get("project_ref")
        self._wanted_ref = ref if isinstance(ref, str) else None
        self._refresh_accounts()
        choice = state.get("choice")
        if choice in CHOICES:
            self.choose(choice)
        self.changed.emit()

    def entered(self) -> None:
        """Refresh the accounts (another window or `studio login` may have changed them)."""
        self._refresh_accounts()

    # -- choosing -----------------------------------------------------------------------------------------

    @property
    def choice(self) -> str | None:
        """"local", "account", "database" or None."""
        return self._choice

    def choose(self, choice: str) -> None:
        """Pick one of the three cards."""
        if choice not in CHOICES:
            raise ValueError(choice)
        self._choice = choice
        for name, card in self.cards.items():
            card.setChecked(name == choice)
        self.pages.setCurrentWidget(
            {LOCAL: self.local_page, ACCOUNT: self.account_page, DATABASE: self.database_page}[choice]
        )
        if choice == ACCOUNT:
            self._load_account()
        self._announce()

    def _announce(self) -> None:
        """Tell the wizard something changed, and hand over the project when it is new and complete."""
        self.changed.emit()
        handle = self.project()
        if handle is not None and handle is not self._announced:
            self._announced = handle
            self.project_chosen.emit(handle)

    # -- secrets ------------------------------------------------------------------------------------------

    def set_secrets_location(self, name: str) -> None:
        """Where secrets go, as `CredentialStoreService.ready` names it ("GNOME Keyring (Secret Service)")."""
        self._secrets_location = name
        self._secrets_problem = ""
        self._show_secrets_location()
        self.changed.emit()

    def set_secrets_problem(self, problem: str) -> None:
        """No OS password store works (`CredentialStoreService.unavailable`): say so on the account path."""
        self._secrets_problem = problem
        self._show_secrets_location()
        self.changed.emit()

    def _show_secrets_location(self) -> None:
        name = self._secrets_location or self.platform.store_name
        if self._secrets_problem and not self.platform.ready:
            text = (
                f"{self._secrets_problem} To sign in anyway, choose “Keep secrets for this session only” at the"
                " top of the window."
            )
            self.account_secrets.setStyleSheet(_message_style("warning"))
        elif name:
            text = (
                f"Stored in {name}: your Supabase sign-in, your projects' keys and database passwords. Never in"
                " a file."
            )
            self.account_secrets.setStyleSheet(_message_style("info"))
        else:
            text = "Studio is checking where it can keep your sign-in safely…"
            self.account_secrets.setStyleSheet(_message_style("info"))
        self.account_secrets.setText(text)
        self.password_note.setText(
            "Studio makes a strong database password for the project and keeps it"
            f" {'in ' + name if name else 'safe'}: you never need to type it. Supabase takes one to three minutes"
            " to start a new project."
        )
        enabled = self.platform.ready
        self.browser_button.setEnabled(enabled and not self.platform.signing_in)
        self._token_edited(self.token_edit.text())

    def _store_ready(self, name: str) -> None:
        self.set_secrets_location(name)
        self._refresh_accounts()

    # -- accounts -----------------------------------------------------------------------------------------

    def _current_account(self) -> Account | None:
        return self.platform.account(self._account_id) if self._account_id else None

    def _refresh_accounts(self) -> None:
        accounts = self.platform.accounts()
        if self._account_id is None or self.platform.account(self._account_id) is None:
            active = self.platform.active_account()
            self._account_id = active.id if active is not None else (accounts[0].id if accounts else None)
        combo = self.account_combo
        combo.blockSignals(True)
        combo.clear()
        for each in accounts:
            combo.addItem(each.label, each.id)
        if self._account_id is not None:
            combo.setCurrentIndex(combo.findData(self._account_id))
        combo.blockSignals(False)
        account = self._current_account()
        several = len(accounts) > 1
        combo.setVisible(several)
        self.account_label.setVisible(not several)
        self.account_label.setText(f"Signed in as {account.label}" if account else "")
        self._show_sign_in_or_account()
        if self._choice == ACCOUNT:
            self._load_account()

    def _show_sign_in_or_account(self) -> None:
        has_account = self._current_account() is not None
        self.sign_in_box.setVisible(not has_account or self._adding_account)
        self.account_box.setVisible(has_account and not self._adding_account)
        self.back_to_account_button.setVisible(has_account and self._adding_account)
        self._oauth_app_needed = self.platform.remembered_oauth_app() is None
        self.oauth_box.setVisible(self._oauth_app_needed)

    def _set_adding_account(self, adding: bool) -> None:
        self._adding_account = adding
        self.sign_in_message.show_text("")
        self._show_sign_in_or_account()

    def _accounts_changed(self, accounts: list[Account]) -> None:
        self._refresh_accounts()
        self.changed.emit()

    def _account_picked(self, index: int) -> None:
        account_id = self.account_combo.itemData(index)
        if not isinstance(account_id, str) or account_id == self._account_id:
            return
        self._account_id = account_id
        self._organization = None
        account = self._current_account()
        if account is not None:
            self.platform.set_active(account)
            self.account_label.setText(f"Signed in as {account.label}")
        self._load_account()
        self._announce()

    def _token_edited(self, text: str) -> None:
        text = text.strip()
        ok = False
        if not text:
            self.sign_in_message.show_text("")
        else:
            try:
                check_token_format(text)
            except RequestRejected as exc:
                self.sign_in_message.show_text(exc.message, "error")
            else:
                ok = True
                self.sign_in_message.show_text("")
        self.token_button.setEnabled(ok and self.platform.ready and not self.platform.signing_in)

    def _sign_in_with_token(self) -> None:
        if not self.token_button.isEnabled():
            return
        self.platform.sign_in_with_token(self.token_edit.text())
        self._signing_in("Checking the token with Supabase…")

    def _sign_in_with_browser(self) -> None:
        asks = self._oauth_app_needed
        client_id = self.oauth_client_id.text().strip() if asks else ""
        secret_text = self.oauth_client_secret.text().strip() if asks else ""
        if asks and not (client_id and secret_text):
            self.sign_in_message.show_text(
                "Enter the OAuth app's client id and secret first, or paste an access token below.", "error"
            )
            return
        self.platform.sign_in_with_browser(client_id or None, Secret(secret_text) if secret_text else None)
        self._signing_in("Waiting for you to approve Studio in your browser…")
        self.cancel_sign_in_button.show()

    def _signing_in(self, text: str) -> None:
        self.sign_in_message.show_text(text)
        self.browser_button.setEnabled(False)
        self.token_button.setEnabled(False)
        self.changed.emit()

    def _browser_opened(self, url: str) -> None:
        self.browser_address.setText(
            f'If your browser did not open, <a href="{html.escape(url)}">open the sign-in page</a>.'
        )
        self.browser_address.show()

    def _sign_in_ended(self) -> None:
        self.cancel_sign_in_button.hide()
        self.browser_address.hide()
        self.browser_button.setEnabled(self.platform.ready)
        self._token_edited(self.token_edit.text())

    def _signed_in(self, account: Account) -> None:
        self._account_id = account.id
        self._organization = None
        self._adding_account = False
        self.token_edit.clear()
        self.oauth_client_secret.clear()
        self._sign_in_ended()
        self.sign_in_message.show_text("")
        self._refresh_accounts()
        self._announce()

    def _sign_out(self) -> None:
        account = self._current_account()
        if account is not None:
            self.platform.sign_out(account)
            self.account_message.show_text(f"Signing out of {account.label}…")

    def _signed_out(self, account: Account, note: str) -> None:
        for cache in (self._organizations, self._projects, self._list_errors):
            cache.pop(account.id, None)
        if self._account_id == account.id:
            self._account_id = None
            self._organization = None
            self._forget_cloud()
        self.account_message.show_text(" ".join(p for p in (f"Signed out of {account.label}.", note) if p))
        self._refresh_accounts()
        self._announce()

    # -- organizations and projects ------------------------------------------------------------------------

    def _load_account(self) -> None:
        """Show the current account's organizations and projects, listing them when not known yet."""
        account = self._current_account()
        if account is None:
            self._fill_organizations()
            return
        if account.id not in self._projects and not self.platform.listing(account):
            self._list(account)
        self._fill_organizations()

    def _list(self, account: Account) -> None:
        self._list_errors.pop(account.id, None)
        self.retry_button.hide()
        self.account_message.show_text("Loading your organizations and projects…")
        self.platform.list_projects(account)

    def _refresh_projects(self) -> None:
        account = self._current_account()
        if account is not None:
            self._list(account)
            self.changed.emit()

    def _organizations_listed(self, account: Account, organizations: list[Organization]) -> None:
        self._organizations[account.id] = organizations

    def _projects_listed(self, account: Account, projects: list[Project]) -> None:
        self._projects[account.id] = projects
        self._list_errors.pop(account.id, None)
        if account.id != self._account_id:
            return
        if self.account_message.kind != "ok":
            self.account_message.show_text("")
        self.retry_button.hide()
        self._fill_organizations()
        self._announce()

    def _listing_failed(self, account: Account, message: str) -> None:
        self._list_errors[account.id] = message
        if account.id != self._account_id:
            return
        self.account_message.show_text(message, "error")
        self.retry_button.show()
        self.changed.emit()

    def _fill_organizations(self) -> None:
        account = self._current_account()
        organizations = self._organizations.get(account.id, []) if account else []
        combo = self.organization_combo
        combo.blockSignals(True)
        combo.clear()
        for organization in organizations:
            combo.addItem(organization.name, organization.slug)
        slugs = [o.slug for o in organizations]
        wanted_ref_org = next(
            (p.organization_slug for p in self._projects.get(account.id, []) if p.ref == self._wanted_ref), None
        ) if account else None
        if self._organization not in slugs:
            self._organization = wanted_ref_org or (slugs[0] if slugs else None)
        if self._organization is not None:
            combo.setCurrentIndex(slugs.index(self._organization))
        combo.blockSignals(False)
        combo.setEnabled(len(organizations) > 1)
        self.new_project_button.setEnabled(self._organization is not None)
        self._fill_projects()

    def _organization_picked(self, index: int) -> None:
        slug = self.organization_combo.itemData(index)
        if isinstance(slug, str) and slug != self._organization:
            self._organization = slug
            self._fill_projects()
            if self.create_box.isVisible():
                self._load_regions()
            self._announce()

    def _fill_projects(self) -> None:
        account = self._current_account()
        wanted = self._current_ref() or self._wanted_ref
        tree = self.projects
        tree.blockSignals(True)
        tree.clear()
        listed = self._projects.get(account.id, []) if account else []
        shown = [p for p in listed if p.organization_slug == self._organization]
        for project in shown:
            item = QTreeWidgetItem([project.name, project.region, describe_status(project.status)])
            item.setData(0, _REF_ROLE, project.ref)
            item.setToolTip(0, f"{project.name} ({project.ref})")
            color = colors().ok if project.status in USABLE_STATES else colors().warning
            item.setForeground(2, color)
            tree.addTopLevelItem(item)
            if project.ref == wanted:
                item.setSelected(True)
                tree.setCurrentItem(item)
        if account is not None and account.id in self._projects and not shown and self._organization:
            placeholder = QTreeWidgetItem(["No projects here yet: create one below.", "", ""])
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            tree.addTopLevelItem(placeholder)
        tree.blockSignals(False)
        self._project_picked()

    def _current_ref(self) -> str | None:
        items = self.projects.selectedItems()
        ref = items[0].data(0, _REF_ROLE) if items else None
        return ref if isinstance(ref, str) else None

    def _current_project(self) -> Project | None:
        account = self._current_account()
        ref = self._current_ref()
        if account is None or ref is None:
            return None
        return next((p for p in self._projects.get(account.id, []) if p.ref == ref), None)

    def _project_picked(self) -> None:
        project = self._current_project()
        account = self._current_account()
        if project is None or account is None:
            self.changed.emit()
            return
        self._wanted_ref = project.ref
        if self._cloud_key == (account.id, project.ref):
            self._announce()
            return
        self._forget_cloud()
        self._link_error = ""
        advice = status_advice(project)
        if advice:
            self.platform.cancel_link()
            self.account_message.show_text(advice, "warning")
        elif self._choice == ACCOUNT:
            self.account_message.show_text(f"Connecting to “{project.name}”: fetching its API keys…")
            self.platform.link(account, project.ref, self.workspace)
        self.changed.emit()

    def _forget_cloud(self) -> None:
        self._cloud = None
        self._cloud_key = None

    def _project_linked(self, account: Account, result: LinkResult) -> None:
        current = self._current_project()
        if current is None or account.id != self._account_id or current.ref != result.project.ref:
            return
        self._cloud = self.platform.project_handle(account, result.project, server=self.server,
                                                   workspace=self.workspace)
        self._cloud_key = (account.id, result.project.ref)
        where = self._secrets_location or self.platform.store_name
        text = (
            f"Connected to “{result.project.name}”. Its API keys are stored in {where}; studio.json in"
            f" {_shown_path(self.workspace)} records the link (no secrets)."
        )
        if result.api_works:
            self.account_message.show_text(text, "ok")
        else:
            problems = " ".join(check.message for check in result.checks if not check.ok)
            self.account_message.show_text(f"{text} But its API did not answer as expected: {problems}", "warning")
        self._announce()

    # -- creating a project -------------------------------------------------------------------------------

    def _show_create_form(self) -> None:
        self.create_box.show()
        self.create_message.show_text("")
        self._load_regions()
        self._create_form_changed()
        self.project_name.setFocus()

    def _load_regions(self) -> None:
        account = self._current_account()
        slug = self._organization
        if account is None or slug is None:
            return
        if slug in self._regions:
            self._fill_regions(slug)
        else:
            self.region_combo.clear()
            self.region_combo.setPlaceholderText("Loading regions…")
            self.platform.list_regions(account, slug)

    def _regions_listed(self, slug: str, regions: list[Region]) -> None:
        self._regions[slug] = regions
        if slug == self._organization:
            self._fill_regions(slug)

    def _fill_regions(self, slug: str) -> None:
        combo = self.region_combo
        combo.blockSignals(True)
        combo.clear()
        for region in self._regions.get(slug, []):
            combo.addItem(f"{region.name} (recommended)" if region.recommended else region.name, region.code)
        combo.setCurrentIndex(0 if combo.count() else -1)
        combo.blockSignals(False)
        self._create_form_changed()

    def _create_problem(self) -> str:
        name = self.project_name.text().strip()
        if not name:
            return "Give the project a name, for example your app's."
        if len(name) > _MAX_NAME:
            return f"Project names can have at most {_MAX_NAME} characters."
        account = self._current_account()
        taken = [
            p for p in (self._projects.get(account.id, []) if account else [])
            if p.organization_slug == self._organization and p.name == name
        ]
        if taken:
            return f"“{name}” already exists in this organization: choose it in the list, or pick another name."
        if self.region_combo.currentData() is None:
            return "Choose a region (pick one near the people who will use your app)."
        return ""

    def _create_form_changed(self) -> None:
        creating = self.platform.creating
        problem = self._create_problem()
        self.create_button.setEnabled(not problem and not creating)
        if not creating:
            self.create_message.show_text(problem if self.project_name.text().strip() else "", "info")

    def _create_project(self) -> None:
        account = self._current_account()
        problem = self._create_problem()
        if account is None or self._organization is None or problem:
            self.create_message.show_text(problem or "Choose an organization first.", "error")
            return
        self._creating_name = self.project_name.text().strip()
        self.platform.create_project(account, self._organization, self._creating_name, self.region_combo.currentData())
        self.create_message.show_text("")
        self.progress.setValue(0)
        self.progress_label.setText(f"Asking Supabase to create “{self._creating_name}”…")
        self.progress_box.show()
        self.cancel_create_button.setEnabled(True)
        self._set_create_inputs(False)
        self.changed.emit()

    def _set_create_inputs(self, enabled: bool) -> None:
        for widget in (self.project_name, self.region_combo, self.close_create_button):
            widget.setEnabled(enabled)
        self.create_button.setEnabled(enabled and not self._create_problem())
        self.create_buttons.setVisible(enabled)
        self.cancel_create_button.setVisible(not enabled)

    def _cancel_creation(self) -> None:
        self.platform.cancel_creation()
        self.cancel_create_button.setEnabled(False)
        self.progress_label.setText(
            "Stopping… If Supabase is still answering the request to create the project, Studio waits for"
            " that answer, so the new project's database password is not lost."
        )

    def _creation_progress(self, update: CreationProgress) -> None:
        self.progress.setValue(update.percent)
        if self.cancel_create_button.isEnabled():
            so_far = f" ({_duration(update.elapsed)} so far)" if update.elapsed >= 1 else ""
            self.progress_label.setText(f"{update.message}…{so_far}" if update.percent < 100 else update.message)

    def _project_created(self, account: Account, project: Project) -> None:
        self.progress.setValue(100)
        self.progress_label.setText(f"“{project.name}” is ready.")
        self._set_create_inputs(True)
        self.cancel_create_button.hide()
        self.create_box.hide()
        self.progress_box.hide()
        self._organization = project.organization_slug or self._organization
        self._wanted_ref = project.ref
        self.account_message.show_text(f"“{project.name}” is ready.", "ok")
        if account.id == self._account_id:
            self._list(account)
        self.changed.emit()

    def _creation_stopped(self, account: Account, project: Project | None, message: str) -> None:
        self._set_create_inputs(True)
        self.progress_box.hide()
        self.create_message.show_text(message, "warning")
        if account.id == self._account_id:
            self._list(account)
        self.changed.emit()

    # -- feedback from the services ------------------------------------------------------------------------

    def _retrying(self, message: str) -> None:
        if self.platform.creating and self.progress_box.isVisible():
            self.progress_label.setText(message + "…")
        else:
            self.account_message.show_text(message + "…", "warning")

    def _platform_failed(self, kind: str, message: str) -> None:
        if kind == KIND_SIGN_IN:
            self._sign_in_ended()
            cancelled = message.startswith("Sign-in cancelled")
            self.sign_in_message.show_text(message, "info" if cancelled else "error")
        elif kind == KIND_SIGN_OUT:
            self.account_message.show_text(message, "error")
        elif kind == KIND_LINK:
            self._link_error = message
            self.account_message.show_text(message, "error")
            self.retry_button.show()
        elif kind in (KIND_CREATE, KIND_REGIONS):
            if kind == KIND_CREATE:
                self._set_create_inputs(True)
                self.progress_box.hide()
                account = self._current_account()
                if account is not None:
                    self._list(account)  # a failed project may still have been created: show it
            self.create_message.show_text(message, "error")
        self.changed.emit()

    # -- an existing database -----------------------------------------------------------------------------

    @staticmethod
    def _conninfo_problem(text: str) -> str:
        try:
            describe_conninfo(text)
        except psycopg.Error:
            return (
                "Studio cannot read this connection string. It should look like"
                " postgresql://user:password@host:5432/postgres (special characters in the password"
                " percent-encoded)."
            )
        return ""

    def _conninfo_edited(self, text: str) -> None:
        self._db_handle = None
        self._db_tested_text = None
        self._db_error = ""
        self.database_message.show_text("")
        stripped = text.strip()
        problem = self._conninfo_problem(stripped) if stripped else ""
        if not stripped:
            self.conninfo_summary.show_text("")
        elif problem:
            self.conninfo_summary.show_text(problem, "error")
        else:
            self.conninfo_summary.show_text(f"Studio will connect to {describe_conninfo(stripped)}.")
        self.test_button.setEnabled(bool(stripped) and not problem)
        self.changed.emit()

    def _test_connection(self) -> None:
        text = self.conninfo_edit.text()
        if not self.test_button.isEnabled():
            return
        self._db_testing_text = text
        self._db_error = ""
        self.database_message.show_text("Testing the connection…")
        self.database.check(text.strip())
        self.changed.emit()

    def _database_checked(self, check: DatabaseCheck) -> None:
        text = self.conninfo_edit.text()
        if self._db_testing_text != text:
            return
        self._db_testing_text = None
        self._db_tested_text = text
        self._db_handle = database_project(self.server, self.workspace, text.strip(), title=check.description)
        self.database_message.show_text(check.message, "ok" if check.has_supabase_auth else "warning")
        if self._choice == DATABASE:
            self._announce()

    def _database_failed(self, message: str) -> None:
        if self._db_testing_text != self.conninfo_edit.text():
            return
        self._db_testing_text = None
        self._db_error = message
        self.database_message.show_text(message, "error")
        self.changed.emit()
