"""Studio's main window: projects on the left, the selected project's areas on the right.

Views only: the window shows what services report and emits what the user asks for; `studio.app`
wires both ways. Areas (Data model, Migrations, Tables, Settings) are pages added with `add_area`; the
Overview is built in. The wizard, when open, takes the whole window.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.browse.relations import RelationKind, RelationSummary
from studio.core.offline.outbox import OutboxCounts
from studio.core.schema.catalog import MANAGED_SCHEMAS
from studio.core.words import plural
from studio.services.messages import Level, UserMessage
from studio.services.projects import ProjectHandle
from studio.ui.about import AboutDialog
from studio.ui.pages.browser import format_estimate
from studio.ui.theme import colors, heading_label, theme_signals

_HANDLE_ROLE = Qt.ItemDataRole.UserRole


def access_words(summary: RelationSummary) -> str:
    """Who can read a table through the project's API, in builder words."""
    if summary.kind not in (RelationKind.TABLE, RelationKind.PARTITIONED_TABLE):
        return "depends on its settings and grants"
    if summary.rls_enabled:
        return "only as its access rules (policies) allow"
    return "anyone with the API key (row level security is off)"


class MainWindow(QMainWindow):
    """The top-level window.

    Signals:
        session_only_chosen(): the user chose to keep secrets for this session only.
        project_selected(object): the user picked a project (a `ProjectHandle`).
        wizard_requested(): the user asked for the connect -> generate -> deploy wizard.
        refresh_requested(): the user asked to reload what is shown (F5).
        table_requested(str, str): the user asked to open a table (schema, name) from the Overview.
    """

    session_only_chosen = Signal()
    project_selected = Signal(object)
    wizard_requested = Signal()
    refresh_requested = Signal()
    table_requested = Signal(str, str)

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.setWindowTitle("Studio")
        self.resize(1280, 800)
        self._wizard: QWidget | None = None
        self._local_summary = "Starting the local database…"
        self._local_connection = "Local project: starting"
        self.postgres_version = ""  # the local server's, once it is up
        self._relations: list[RelationSummary] = []
        theme_signals().changed.connect(self._recolor_relations)  # a bound slot: disconnected with the window

        self.projects = QTreeWidget()
        self.projects.setHeaderHidden(True)
        self.projects.setMinimumWidth(220)
        self.projects.setRootIsDecorated(True)
        self.projects.setAccessibleName("Projects")
        self.local_item = QTreeWidgetItem(["This computer (local project)"])
        self.local_item.setToolTip(0, "A Supabase-like database on this computer; no account needed.")
        self.projects.addTopLevelItem(self.local_item)
        self.projects.setCurrentItem(self.local_item)
        self.projects.currentItemChanged.connect(self._on_project_item)
        self._account_items: dict[str, QTreeWidgetItem] = {}

        self.areas = QTabWidget()
        self.areas.setDocumentMode(True)
        self.areas.addTab(self._build_overview(), "Overview")

        self.message_banner = QFrame()
        self.message_banner.setObjectName("messageBanner")
        banner_layout = QHBoxLayout(self.message_banner)
        banner_layout.setContentsMargins(12, 8, 8, 8)
        self.message_text = QLabel()
        self.message_text.setWordWrap(True)
        self.message_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dismiss = QPushButton("Dismiss")
        dismiss.clicked.connect(self.message_banner.hide)
        banner_layout.addWidget(self.message_text, 1)
        banner_layout.addWidget(dismiss)
        self.message_banner.hide()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.message_banner)
        right_layout.addWidget(self.areas, 1)

        self.splitter = QSplitter()
        self.splitter.addWidget(self.projects)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 1020])

        self.central = QStackedWidget()
        self.central.addWidget(self.splitter)
        self.setCentralWidget(self.central)

        self.connection_status = QLabel("Local project: starting")
        self.secrets_status = QLabel("Secrets: checking…")
        self.offline_status = QLabel()
        self.offline_status.setToolTip("Edits saved on this computer while the server could not be reached."
                                       " Tables > Offline edits lists them.")
        self.offline_status.hide()
        self.statusBar().addPermanentWidget(self.offline_status)
        self.statusBar().addPermanentWidget(self.connection_status)
        self.statusBar().addPermanentWidget(self.secrets_status)
        self._build_actions()

    # -- building -----------------------------------------------------------------------------------

    def _build_overview(self) -> QWidget:
        overview = QWidget()
        layout = QVBoxLayout(overview)
        layout.setContentsMargins(24, 24, 24, 24)
        self.heading = heading_label("Local project")
        self.detail = QLabel("This computer · no account needed")
        self.detail.setStyleSheet(f"color: {colors().muted.name()};")
        self.status = QLabel("Starting the local database…")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.workspace_label = QLabel()
        self.workspace_label.setWordWrap(True)
        self.workspace_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tables = QTreeWidget()
        self.tables.setColumnCount(3)
        self.tables.setHeaderLabels(["Table", "Rows", "Who can read it"])
        self.tables.setRootIsDecorated(False)
        self.tables.setAccessibleName("Tables of the project")
        self.tables.setToolTip("Double-click a table to open it")
        self.tables.itemActivated.connect(self._table_activated)
        self.tables_hint = QLabel("Reading the tables…")
        self.tables_hint.setStyleSheet(f"color: {colors().muted.name()};")
        self.secrets_banner = QFrame()
        self.secrets_banner.setObjectName("secretsBanner")
        palette = colors()
        self.secrets_banner.setStyleSheet(
            f"#secretsBanner {{ background: {palette.banner_background.name()};"
            f" border: 1px solid {palette.banner_border.name()}; border-radius: 6px; }}"
        )
        banner = QHBoxLayout(self.secrets_banner)
        self.secrets_problem = QLabel()
        self.secrets_problem.setWordWrap(True)
        self.session_only_button = QPushButton("Keep secrets for this session only")
        self.session_only_button.setToolTip("Tokens and passwords stay in memory and are forgotten when Studio quits.")
        self.session_only_button.clicked.connect(self.session_only_chosen)
        banner.addWidget(self.secrets_problem, 1)
        banner.addWidget(self.session_only_button)
        self.secrets_banner.hide()
        self.wizard_button = QPushButton("Build a backend step by step…")
        self.wizard_button.setToolTip("Connect, describe your data, and deploy it (Ctrl+N)")
        self.wizard_button.clicked.connect(self.wizard_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.wizard_button)
        buttons.addStretch(1)
        layout.addWidget(self.heading)
        layout.addWidget(self.detail)
        layout.addWidget(self.secrets_banner)
        layout.addWidget(self.status)
        layout.addWidget(self.workspace_label)
        layout.addLayout(buttons)
        tables_title = QLabel("Tables")
        bold = tables_title.font()
        bold.setBold(True)
        tables_title.setFont(bold)
        layout.addWidget(tables_title)
        layout.addWidget(self.tables_hint)
        layout.addWidget(self.tables, 1)
        return overview

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu("&Studio")
        self.wizard_action = QAction("New backend with the &wizard…", self)
        self.wizard_action.setShortcut(QKeySequence.StandardKey.New)
        self.wizard_action.triggered.connect(self.wizard_requested)
        self.refresh_action = QAction("&Refresh", self)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.refresh_action.triggered.connect(self.refresh_requested)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (self.wizard_action, self.refresh_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(quit_action)
        self.view_menu = self.menuBar().addMenu("&View")
        self._area_actions: list[QAction] = []
        self._add_area_action(0, "Overview")
        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = QAction("&About Studio", self)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.about_action)

    def _add_area_action(self, index: int, title: str) -> None:
        action = QAction(title, self)
        if index < 9:
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
        action.triggered.connect(lambda: self.show_area(title))
        self.view_menu.addAction(action)
        self._area_actions.append(action)
        self.addAction(action)

    def add_area(self, title: str, page: QWidget) -> None:
        """Add a page as an area (tab) on the right; Ctrl+<n> switches to it."""
        index = self.areas.addTab(page, title)
        self._add_area_action(index, title)

    def area(self, title: str) -> QWidget | None:
        """The page of the area with this title (None when there is none)."""
        for index in range(self.areas.count()):
            if self.areas.tabText(index) == title:
                return self.areas.widget(index)
        return None

    def show_area(self, title: str) -> None:
        """Switch to the area with this title (closing the wizard if it is open)."""
        for index in range(self.areas.count()):
            if self.areas.tabText(index) == title:
                self.close_wizard()
                self.areas.setCurrentIndex(index)
                return

    # -- projects -----------------------------------------------------------------------------------

    def set_local_project(self, handle: ProjectHandle) -> None:
        """Attach the local project's handle to the first entry (selected at start)."""
        self.local_item.setData(0, _HANDLE_ROLE, handle)
        if self.projects.currentItem() is self.local_item:
            self._show_project(handle)

    def show_account_projects(self, account: str, entries: list[tuple[ProjectHandle, str]]) -> None:
        """List a signed-in account's cloud projects, each with its status ("Active", "Paused", ...)."""
        item = self._account_items.get(account)
        if item is None:
            item = QTreeWidgetItem([account])
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.projects.addTopLevelItem(item)
            self._account_items[account] = item
        item.takeChildren()
        for handle, status in entries:
            child = QTreeWidgetItem([f"{handle.title}  ·  {status}" if status else handle.title])
            child.setToolTip(0, handle.detail)
            child.setData(0, _HANDLE_ROLE, handle)
            item.addChild(child)
        item.setExpanded(True)

    def remove_account(self, account: str) -> None:
        """Take a signed-out account and its projects off the list."""
        item = self._account_items.pop(account, None)
        if item is not None:
            self.projects.takeTopLevelItem(self.projects.indexOfTopLevelItem(item))

    def current_project(self) -> ProjectHandle | None:
        """The handle of the selected project (None before the app attached one)."""
        item = self.projects.currentItem()
        handle = item.data(0, _HANDLE_ROLE) if item is not None else None
        return handle if isinstance(handle, ProjectHandle) else None

    def select_project(self, handle: ProjectHandle) -> None:
        """Select the entry holding `handle` (added at the end of the list when it is not listed)."""
        for item in self._project_items():
            if item.data(0, _HANDLE_ROLE) is handle:
                self.projects.setCurrentItem(item)
                return
        item = QTreeWidgetItem([handle.title])
        item.setToolTip(0, handle.detail)
        item.setData(0, _HANDLE_ROLE, handle)
        self.projects.addTopLevelItem(item)
        self.projects.setCurrentItem(item)

    def _project_items(self) -> list[QTreeWidgetItem]:
        items: list[QTreeWidgetItem] = []
        for index in range(self.projects.topLevelItemCount()):
            top = self.projects.topLevelItem(index)
            if top is None:
                continue
            items.append(top)
            items.extend(child for i in range(top.childCount()) if (child := top.child(i)) is not None)
        return items

    def _on_project_item(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        handle = item.data(0, _HANDLE_ROLE) if item is not None else None
        if isinstance(handle, ProjectHandle):
            self._show_project(handle)
            self.project_selected.emit(handle)

    def _show_project(self, handle: ProjectHandle) -> None:
        if handle.kind != "local":
            self._connection(f"{handle.title}: connecting")
            self.status.setText("")
        else:
            self.status.setText(self._local_summary)
            self._connection(self._local_connection)
        self.tables.clear()
        self.tables_hint.setText("Reading the tables…")
        self.heading.setText("Local project" if handle.kind == "local" else handle.title)
        self.detail.setText(handle.detail)
        self.workspace_label.setText(f"Workspace folder: {handle.workspace}")
        for index in range(1, self.areas.count()):
            page = self.areas.widget(index)
            setter = getattr(page, "set_project", None)
            if callable(setter):
                setter(handle)

    # -- the wizard ---------------------------------------------------------------------------------

    def open_wizard(self, wizard: QWidget) -> None:
        """Show the wizard over the whole window (the projects and areas come back when it closes)."""
        if self._wizard is not wizard:
            if self._wizard is not None:
                self.central.removeWidget(self._wizard)
            self._wizard = wizard
            self.central.addWidget(wizard)
        self.central.setCurrentWidget(wizard)

    def close_wizard(self) -> None:
        """Go back to the projects and areas."""
        self.central.setCurrentWidget(self.splitter)

    def remove_wizard(self) -> None:
        """Take the wizard out of the window for good (it is finished; a new one starts afresh)."""
        self.close_wizard()
        if self._wizard is not None:
            self.central.removeWidget(self._wizard)
            self._wizard = None

    @property
    def wizard_open(self) -> bool:
        """True while the wizard is shown."""
        return self._wizard is not None and self.central.currentWidget() is self._wizard

    # -- what services report ----------------------------------------------------------------------

    def show_starting(self) -> None:
        """The local project is starting."""
        self._local_summary = "Starting the local database…"
        self._local_connection = "Local project: starting"
        if self._showing_local():
            self.status.setText(self._local_summary)
            self._connection(self._local_connection)

    def show_ready(self, summary: str, _tables: list[str]) -> None:
        """The local project is up (its tables come with `show_relations`)."""
        self._local_summary = summary
        self._local_connection = "Local project: connected"
        if self._showing_local():
            self.status.setText(summary)
            self._connection(self._local_connection)

    def _showing_local(self) -> bool:
        handle = self.current_project()
        return handle is None or handle.kind == "local"

    def show_relations(self, relations: list[RelationSummary]) -> None:
        """List the selected project's own tables and views (not Supabase's): about how many rows, and who
        can read them."""
        palette = colors()
        self._relations = relations
        relations = [r for r in relations if r.schema not in MANAGED_SCHEMAS and not r.schema.startswith("pg_")]
        self.tables.clear()
        for relation in relations:
            item = QTreeWidgetItem([relation.display_name, format_estimate(relation), access_words(relation)])
            item.setData(0, _HANDLE_ROLE, (relation.schema, relation.name))
            if relation.kind in (RelationKind.TABLE, RelationKind.PARTITIONED_TABLE) and not relation.rls_enabled:
                item.setForeground(2, palette.danger)
                item.setToolTip(2, "Row level security is off: anyone with the project's public API key can read"
                                   " and change every row. Turn it on and add policies (the Data model's access"
                                   " rules do this).")
            self.tables.addTopLevelItem(item)
        for column in range(3):
            self.tables.resizeColumnToContents(column)
            self.tables.setColumnWidth(column, self.tables.columnWidth(column) + 24)
        self.tables_hint.setText("No tables yet: build a backend with the wizard to create some." if not relations
                                 else f"{plural(len(relations), 'table')} (and views). Double-click one to open it.")

    def _recolor_relations(self) -> None:
        self.show_relations(self._relations)  # item colours are set per item, not by a style sheet

    def _table_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        where = item.data(0, _HANDLE_ROLE)
        if isinstance(where, tuple):
            self.table_requested.emit(*where)

    def show_failed(self, message: str) -> None:
        """The local project could not start: say why and what to do."""
        self._local_summary = message
        self._local_connection = "Local project: not running"
        if self._showing_local():
            self.status.setText(message)
            self._connection(self._local_connection)

    def show_message(self, message: UserMessage) -> None:
        """Show a message from the user-message channel: errors and warnings in a banner, the rest briefly."""
        if message.level is Level.INFO:
            self.statusBar().showMessage(message.text, 8000)
            return
        palette = colors()
        edge = palette.danger if message.level is Level.ERROR else palette.warning
        self.message_banner.setStyleSheet(
            f"#messageBanner {{ background: {palette.banner_background.name()}; border: 1px solid {edge.name()};"
            " border-radius: 6px; }")
        self.message_text.setText(message.text + (f"\n{message.hint}" if message.hint else ""))
        self.message_banner.show()

    def _connection(self, text: str) -> None:
        self.connection_status.setText(text)  # shown once, at the right; the left is for passing messages

    def show_connection(self, handle: ProjectHandle, state: str) -> None:
        """Say in the status bar how the selected project's connection stands ("connected", "not reachable")."""
        if handle is self.current_project():
            self._connection(f"{'Local project' if handle.kind == 'local' else handle.title}: {state}")

    def show_offline_edits(self, counts: OutboxCounts) -> None:
        """Count the selected project's offline edits in the status bar: waiting, conflicting, rejected."""
        parts = []
        if counts.pending:
            parts.append(f"{plural(counts.pending, 'edit')} waiting to be sent")
        if counts.conflict:
            parts.append(plural(counts.conflict, "conflict"))
        if counts.rejected:
            parts.append(f"{counts.rejected:,} rejected")
        self.offline_status.setText("Offline edits: " + ", ".join(parts) if parts else "")
        self.offline_status.setVisible(bool(parts))
        color = colors().danger if counts.attention else colors().warning
        self.offline_status.setStyleSheet(f"color: {color.name()};")

    def show_secrets_ready(self, store_name: str) -> None:
        """Say where tokens and passwords are kept."""
        self.secrets_banner.hide()
        self.secrets_status.setText(f"Secrets: {store_name}")

    def show_secrets_unavailable(self, problem: str) -> None:
        """No OS password store works: explain, and offer to keep secrets for this session only."""
        self.secrets_problem.setText(
            f"{problem}\nUntil then Studio can sign in to Supabase only if it keeps secrets in memory for this"
            " session. Nothing is written to a file."
        )
        self.secrets_banner.show()
        self.secrets_status.setText("Secrets: no password store")

    def show_about(self) -> AboutDialog:
        """Show the versions of Studio, Qt, Python and the local PostgreSQL, and Studio's folders."""
        dialog = AboutDialog(self.postgres_version, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # -- window state -------------------------------------------------------------------------------

    def restore_window_state(self) -> None:
        """Bring back size, position, splitter and the area last shown (from `settings`)."""
        if self.settings is None:
            return
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = self.settings.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        area = self.settings.value("window/area")
        if isinstance(area, str):
            for index in range(self.areas.count()):
                if self.areas.tabText(index) == area:
                    self.areas.setCurrentIndex(index)

    def save_window_state(self) -> None:
        """Remember size, position, splitter and the area shown."""
        if self.settings is None:
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("window/area", self.areas.tabText(self.areas.currentIndex()))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember the window's state before it closes."""
        self.save_window_state()
        super().closeEvent(event)
