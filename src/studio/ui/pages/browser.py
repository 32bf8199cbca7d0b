"""The table browser: a project's tables and views, their rows, and edits saved in one transaction.

Left: every table and view with its estimated row count. Right: the rows of the one picked, read page by
page as the grid scrolls (`RowsModel`), sortable by a click on a column header, narrowed by a quick
search and a filter builder, shown "as" a role or a signed-in user so row level security applies exactly
as in the app. Edits, new rows and deletions are staged in colour until "Save changes" runs them (their
SQL can be reviewed first) in one transaction; long text and JSON open in a side editor, and are copied
whole (Ctrl+C reads what the grid holds only the start of). The current view exports to CSV or JSON with a
progress bar.

Offline: rows the project's cache holds show at once and the fresh ones replace them; when the server cannot
be reached (or is slow) the cached rows stay with a banner saying how old they are ("Offline - showing data
from 14:02, 3 hours ago"). Saving while the server is out of reach keeps the edits on this computer (the
outbox) and says so; rows with queued edits carry a badge (pending / conflict / rejected) in the row header,
and the "Offline edits" panel shows conflicts side by side and rejections with the server's reason. The
"Offline" menu pins the current view for offline use and clears the project's cache.

The page only shows and asks: every database call is a job of its `BrowseService`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.browse import (
    AuthUser,
    BrowseQuery,
    BrowseRole,
    ExportFormat,
    Filter,
    FilterOp,
    Relation,
    RelationKind,
    RelationSummary,
    ViewAs,
)
from studio.core.errors import StudioError
from studio.core.offline import OutboxCounts, PinnedView, SyncReport
from studio.core.offline.store import view_key
from studio.core.words import plural
from studio.services.browse import QUEUED_MESSAGE, BrowseService
from studio.services.jobs import JobRunner
from studio.services.messages import user_messages
from studio.services.projects import ProjectHandle
from studio.ui.models.rows import RowsModel, RowsRole, RowState
from studio.ui.pages.offline_edits import OfflineEditsPanel, counts_text
from studio.ui.theme import Colors, colors
from studio.ui.widgets.code_view import CodeView
from studio.ui.widgets.filter_bar import FilterBar
from studio.ui.widgets.value_editor import ValueEditor

__all__ = ["NO_SUCH_USER", "BrowserPage", "format_age", "format_estimate", "staleness_text"]

_RELATION_ROLE = Qt.ItemDataRole.UserRole
#: Cells longer than this (or with line breaks) open in the side editor rather than in the grid.
_INLINE_CHARS = 200
_MAX_COLUMN_WIDTH = 320
_SEARCH_DELAY_MS = 300
#: Said under "View as" when a typed user id has no row in auth.users.
NO_SUCH_USER = "No such user in auth.users: viewing with only the id as claims."
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


def format_estimate(summary: RelationSummary) -> str:
    """The row count column of the relation list: "≈1.2M", "≈350", "view"."""
    if summary.kind is RelationKind.VIEW:
        return "view"
    if summary.estimate is None:
        return "?"
    count = summary.estimate
    if count < 1000:
        return f"≈{count}"
    if count < 1_000_000:
        return f"≈{count / 1000:.1f}k".replace(".0k", "k")
    return f"≈{count / 1_000_000:.1f}M".replace(".0M", "M")


def format_age(seconds: float) -> str:
    """An age in words: "just now", "5 minutes ago", "3 hours ago", "2 days ago"."""
    seconds = max(0.0, seconds)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{plural(count, unit)} ago"
    return "just now"


def staleness_text(fetched_at: datetime, *, offline: bool, now: datetime | None = None) -> str:
    """The banner over rows from the cache: "Offline - showing data from 14:02, 3 hours ago" (local time; the
    date too when it was not today)."""
    now = now or datetime.now(UTC)
    local, today = fetched_at.astimezone(), now.astimezone()
    when = local.strftime("%H:%M") if local.date() == today.date() else (
        f"{local.day} {local.strftime('%b')} {local.strftime('%H:%M')}")
    age = format_age((now - fetched_at).total_seconds())
    if offline:
        return f"Offline - showing data from {when}, {age}. Edits are kept on this computer until the server is back."
    return (f"The server is slow - showing data from {when}, {age}. The fresh rows replace them when they"
            " arrive.")


class BrowserPage(QWidget):
    """Browse and edit the tables of the open project (see the module's notes).

    Signals:
        relation_shown(str): a relation's first rows are on screen; its name (`schema.name`).
        changes_saved(int): staged changes were saved; the number of statements run.
        export_done(str, int): an export finished; the file's path and the rows written.
        copied(str): text was put on the clipboard (after long values were read whole, if any).
        changes_queued(int): staged changes could not be sent and were saved on this computer; how many edits.
        outbox_changed(object): the project's `OutboxCounts` (pending, conflicting, rejected offline edits),
            for the status bar.
    """

    relation_shown = Signal(str)
    changes_saved = Signal(int)
    export_done = Signal(str, int)
    copied = Signal(str)
    changes_queued = Signal(int)
    outbox_changed = Signal(object)

    def __init__(self, runner: JobRunner, service: BrowseService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.service = service or BrowseService(runner, parent=self)
        self.handle: ProjectHandle | None = None
        self.relation: Relation | None = None
        self.view_as = ViewAs()
        self._summaries: list[RelationSummary] = []
        self._pending: tuple[str, str] | None = None
        self._users: list[AuthUser] = []
        self._sized_columns = False
        self._editor_target: tuple[int, int] | None = None
        self._editor_whole_original: str | None = None
        self._user_note: tuple[str, str] | None = None  # (typed user id, why its claims carry only the id)
        self._user_lookup = 0  # bumped by every change of "view as": a lookup answered late is ignored
        self._shown_counts: OutboxCounts | None = None
        self._read_problem: tuple[int, str] | None = None  # (model generation, why its rows could not be read)

        self.model = RowsModel(self.service, self)
        self._build()
        self._wire()
        self._show_relation_header()

    # -- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        # Left: relations.
        self.find_table = QLineEdit()
        self.find_table.setPlaceholderText("Find a table…")
        self.find_table.setClearButtonEnabled(True)
        self.tables = QTreeWidget()
        self.tables.setColumnCount(2)
        self.tables.setHeaderLabels(["Table", "Rows"])
        self.tables.setAccessibleName("Tables and views")
        self.tables.setRootIsDecorated(True)
        self.tables.setUniformRowHeights(True)
        header = self.tables.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.find_table)
        left_layout.addWidget(self.tables, 1)

        # Right, top: title and "view as".
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 18px; font-weight: 600;")
        self.subtitle = QLabel()
        self.role_picker = QComboBox()
        self.role_picker.setAccessibleName("View as")
        for role in BrowseRole:
            self.role_picker.addItem(role.label, role)
        self.role_picker.setToolTip("Every query runs as this role, with its JWT claims, so row level security"
                                    " shows exactly what the app would see.")
        self.user_picker = QComboBox()
        self.user_picker.setEditable(True)
        self.user_entry = QLineEdit()
        self.user_entry.setPlaceholderText("Pick a user or type a user id")
        self.user_picker.setLineEdit(self.user_entry)
        self.user_picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.user_picker.setMinimumWidth(280)
        self.user_picker.setAccessibleName("User to view as")
        self.user_picker.hide()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the tables and rows again (F5)")
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        top = QHBoxLayout()
        top.addLayout(titles, 1)
        top.addWidget(QLabel("View as"))
        top.addWidget(self.role_picker)
        top.addWidget(self.user_picker)
        top.addWidget(self.refresh_button)

        self.read_only_banner = QLabel()
        self.read_only_banner.setObjectName("readOnlyBanner")
        self.read_only_banner.setWordWrap(True)
        self.read_only_banner.hide()
        self.view_as_note = QLabel()
        self.view_as_note.setObjectName("viewAsNote")
        self.view_as_note.setWordWrap(True)
        self.view_as_note.hide()
        self.offline_banner = QFrame()
        self.offline_banner.setObjectName("offlineBanner")
        banner = QHBoxLayout(self.offline_banner)
        banner.setContentsMargins(8, 4, 4, 4)
        self.offline_label = QLabel()
        self.offline_label.setWordWrap(True)
        self.offline_retry = QPushButton("Try again")
        self.offline_retry.setToolTip("Read the rows from the server again (F5)")
        banner.addWidget(self.offline_label, 1)
        banner.addWidget(self.offline_retry)
        self.offline_banner.hide()

        # Toolbar.
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search text columns…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Quick search")
        self.filter_button = QPushButton("Filter")
        self.filter_button.setToolTip("Add a condition (column, operator, value)")
        self.add_row_button = QPushButton("Add row")
        self.delete_button = QPushButton("Delete rows")
        self.delete_button.setToolTip("Stage the deletion of the selected rows (again to take it back)")
        self.end_button = QPushButton("Jump to end")
        self.end_button.setToolTip("Show the last rows (Ctrl+End)")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        export_menu.addAction("As CSV…", lambda: self._ask_export(ExportFormat.CSV))
        export_menu.addAction("As JSON…", lambda: self._ask_export(ExportFormat.JSON))
        self.export_button.setMenu(export_menu)
        self.offline_button = QToolButton()
        self.offline_button.setText("Offline")
        self.offline_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        offline_menu = QMenu(self.offline_button)
        self.pin_action = offline_menu.addAction("Pin this view for offline use", self.toggle_pin)
        self.pin_action.setToolTip("Keep this table, with its filters, as this role on this computer; it is"
                                   " read again in the background while online")
        offline_menu.addAction("Show offline edits", lambda: self.show_offline_edits(True))
        offline_menu.addSeparator()
        offline_menu.addAction("Clear offline cache for this project", self.clear_offline_cache)
        offline_menu.aboutToShow.connect(self._offline_menu_shown)
        self.offline_button.setMenu(offline_menu)
        self.outbox_button = QPushButton()
        self.outbox_button.setObjectName("outboxButton")
        self.outbox_button.setCheckable(True)
        self.outbox_button.setToolTip("Edits saved on this computer: waiting, in conflict or rejected")
        self.outbox_button.hide()
        self.export_progress = QProgressBar()
        self.export_progress.setMaximumWidth(220)
        self.export_progress.setFormat("%v rows")
        self.export_progress.hide()
        self.export_cancel = QPushButton("Cancel export")
        self.export_cancel.hide()
        tools = QHBoxLayout()
        tools.addWidget(self.search, 1)
        tools.addWidget(self.filter_button)
        tools.addWidget(self.add_row_button)
        tools.addWidget(self.delete_button)
        tools.addWidget(self.end_button)
        tools.addWidget(self.export_button)
        tools.addWidget(self.offline_button)
        tools.addWidget(self.outbox_button)
        tools.addWidget(self.export_progress)
        tools.addWidget(self.export_cancel)

        self.filter_bar = FilterBar()
        self.filter_bar.hide()
        self.filter_problem = QLabel()
        self.filter_problem.setWordWrap(True)
        self.filter_problem.hide()

        # Grid and side editor.
        self.grid = QTableView()
        self.grid.setModel(self.model)
        self.grid.setAccessibleName("Rows")
        self.grid.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.grid.setWordWrap(False)
        self.grid.setAlternatingRowColors(True)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        vertical = self.grid.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.grid.fontMetrics().height() + 8)
        vertical.setMinimumWidth(36)
        vertical.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        horizontal = self.grid.horizontalHeader()
        horizontal.setSortIndicatorShown(False)
        horizontal.setStretchLastSection(True)
        horizontal.setSectionsClickable(True)
        horizontal.setHighlightSections(False)
        horizontal.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.value_editor = ValueEditor()
        self.value_editor.hide()
        self.grid_split = QSplitter()
        self.grid_split.addWidget(self.grid)
        self.grid_split.addWidget(self.value_editor)
        self.grid_split.setStretchFactor(0, 3)
        self.grid_split.setStretchFactor(1, 1)
        self.offline_edits = OfflineEditsPanel(self.service)
        self.offline_edits.hide()
        self.work_split = QSplitter(Qt.Orientation.Vertical)
        self.work_split.addWidget(self.grid_split)
        self.work_split.addWidget(self.offline_edits)
        self.work_split.setStretchFactor(0, 3)
        self.work_split.setStretchFactor(1, 2)
        self.work_split.setChildrenCollapsible(False)

        # Staged changes.
        self.changes_bar = QFrame()
        self.changes_bar.setObjectName("changesBar")
        bar = QHBoxLayout(self.changes_bar)
        bar.setContentsMargins(10, 6, 6, 6)
        self.changes_label = QLabel()
        self.preview_button = QPushButton("Review SQL")
        self.preview_button.setCheckable(True)
        self.discard_button = QPushButton("Discard")
        self.save_button = QPushButton("Save changes")
        self.save_button.setDefault(True)
        bar.addWidget(self.changes_label, 1)
        bar.addWidget(self.preview_button)
        bar.addWidget(self.discard_button)
        bar.addWidget(self.save_button)
        self.changes_bar.hide()
        self.commit_problem = QLabel()
        self.commit_problem.setObjectName("commitProblem")
        self.commit_problem.setWordWrap(True)
        self.commit_problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.commit_problem.hide()
        self.queued_note = QLabel()
        self.queued_note.setObjectName("queuedNote")
        self.queued_note.setWordWrap(True)
        self.queued_note.hide()
        self.sql_preview = CodeView()
        self.sql_preview.setMaximumHeight(220)
        self.sql_preview.hide()

        self.status = QLabel()

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 0, 0)
        right_layout.addLayout(top)
        right_layout.addWidget(self.read_only_banner)
        right_layout.addWidget(self.view_as_note)
        right_layout.addWidget(self.offline_banner)
        right_layout.addLayout(tools)
        right_layout.addWidget(self.filter_bar)
        right_layout.addWidget(self.filter_problem)
        right_layout.addWidget(self.work_split, 1)
        right_layout.addWidget(self.changes_bar)
        right_layout.addWidget(self.commit_problem)
        right_layout.addWidget(self.queued_note)
        right_layout.addWidget(self.sql_preview)
        right_layout.addWidget(self.status)

        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.splitter)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(_SEARCH_DELAY_MS)
        self._styled_for: Colors | None = None
        self._restyle()

    def _restyle(self) -> None:
        """Colour the page's own parts from the theme in use (again after a switch between light and dark)."""
        palette = colors()
        if palette is self._styled_for:
            return
        self._styled_for = palette
        self.subtitle.setStyleSheet(f"color: {palette.muted.name()};")
        self.read_only_banner.setStyleSheet(
            f"background: {palette.banner_background.name()}; border: 1px solid {palette.banner_border.name()};"
            " border-radius: 4px; padding: 6px 8px;")
        self.filter_problem.setStyleSheet(f"color: {palette.danger.name()};")
        self.changes_bar.setStyleSheet(
            f"#changesBar {{ background: {palette.changed.name()}; border-radius: 4px; }}")
        self.commit_problem.setStyleSheet(f"color: {palette.danger.name()};")
        self.status.setStyleSheet(f"color: {palette.muted.name()};")
        self.view_as_note.setStyleSheet(f"color: {palette.warning.name()};")
        self.offline_banner.setStyleSheet(
            f"#offlineBanner {{ background: {palette.banner_background.name()};"
            f" border: 1px solid {palette.banner_border.name()}; border-radius: 4px; }}")
        self.offline_label.setStyleSheet(f"color: {palette.warning.name()}; font-weight: 600;")
        self.queued_note.setStyleSheet(f"color: {palette.warning.name()};")
        self._show_outbox_counts(self.service.outbox_counts())
        for _schema, children in self._schema_items():
            for child in children:
                summary = child.data(0, _RELATION_ROLE)
                if summary is not None and summary.kind not in (RelationKind.TABLE, RelationKind.PARTITIONED_TABLE):
                    child.setForeground(0, palette.muted)
        self.grid.viewport().update()

    def changeEvent(self, event: QEvent) -> None:
        """Follow a theme switch (the application's palette changes with it)."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) and hasattr(
                self, "_styled_for"):
            self._restyle()

    def _wire(self) -> None:
        service, model = self.service, self.model
        service.project_ready.connect(self._project_ready)
        service.relations_loaded.connect(self._show_relations)
        service.relation_opened.connect(self._relation_opened)
        service.users_loaded.connect(self._show_users)
        service.commit_finished.connect(self._committed)
        service.commit_failed.connect(self._commit_failed)
        service.export_progress.connect(self._export_progress)
        service.export_finished.connect(self._export_finished)
        service.export_failed.connect(self._export_failed)
        service.failed.connect(self._job_failed)
        service.commit_queued.connect(self._commit_queued)
        service.outbox_changed.connect(self._outbox_changed)
        service.online_changed.connect(self._online_changed)
        service.sync_finished.connect(self._synced)

        model.first_page_loaded.connect(self._first_page_loaded)
        model.loading_changed.connect(lambda _: self._update_status())
        model.rows_prepended.connect(self._keep_view_still)
        model.jumped_to_end.connect(self.grid.scrollToBottom)
        model.place_kept.connect(self.grid.scrollToTop)
        model.staged_changed.connect(self._staged_changed)
        model.rowsInserted.connect(lambda *_: self._update_status())
        model.cache_state_changed.connect(self._show_cache_state)
        self.offline_retry.clicked.connect(self.refresh)
        self.outbox_button.toggled.connect(self.show_offline_edits)
        self.offline_edits.close_requested.connect(lambda: self.show_offline_edits(False))
        self.offline_edits.decided.connect(lambda _seq: self.model.reload_outbox())

        self.find_table.textChanged.connect(self._filter_tables)
        self.tables.currentItemChanged.connect(self._table_picked)
        self.role_picker.currentIndexChanged.connect(self._role_picked)
        self.user_picker.activated.connect(self._user_picked)
        self.user_entry.returnPressed.connect(self._user_typed)
        self.refresh_button.clicked.connect(self.refresh)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.search.returnPressed.connect(self._apply_view)
        self._search_timer.timeout.connect(self._apply_view)
        self.filter_button.clicked.connect(self._add_filter)
        self.filter_bar.applied.connect(lambda _: self._apply_view())
        self.add_row_button.clicked.connect(self.add_row)
        self.delete_button.clicked.connect(self.delete_selected_rows)
        self.end_button.clicked.connect(self.jump_to_end)
        self.export_cancel.clicked.connect(self.service.cancel_export)
        self.grid.horizontalHeader().sectionClicked.connect(self._header_clicked)
        self.grid.doubleClicked.connect(self._cell_double_clicked)
        self.grid.customContextMenuRequested.connect(self._context_menu)
        self.grid.verticalScrollBar().valueChanged.connect(lambda _: self._scrolled())
        self.value_editor.applied.connect(self._editor_applied)
        self.preview_button.toggled.connect(self._toggle_preview)
        self.discard_button.clicked.connect(self.discard_changes)
        self.save_button.clicked.connect(self.save_changes)

        def shortcut(keys: QKeySequence | QKeySequence.StandardKey | str, slot: object,
                     context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetShortcut) -> None:
            item = QShortcut(QKeySequence(keys), self.grid)
            item.setContext(context)
            item.activated.connect(slot)

        shortcut(QKeySequence.StandardKey.Copy, self.copy_selection)
        shortcut("Ctrl+End", self.jump_to_end)
        shortcut("Return", self._open_current)
        shortcut("Ctrl+Shift+N", self._set_current_null)
        refresh = QShortcut(QKeySequence("F5"), self)
        refresh.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh.activated.connect(self.refresh)

    # -- the project -------------------------------------------------------------------------------

    def set_project(self, handle: ProjectHandle | None) -> None:
        """Browse `handle`'s database (None: nothing). Staged edits of the previous project are dropped."""
        if self.model.staged is not None and not self.model.staged.empty:
            user_messages().warning(f"The unsaved changes to {self.relation.display_name if self.relation else ''}"
                                    " were discarded.")
        self.handle = handle
        self.relation = None
        self._pending = None
        self._users = []
        self._user_note = None
        self.view_as_note.hide()
        self.offline_banner.hide()
        self.offline_edits.hide()
        self.queued_note.hide()
        self.tables.clear()
        self.model.set_query(None, keep_staged=False)
        self.value_editor.hide()
        self._show_relation_header()
        self.status.setText("Opening the project…" if handle is not None else "No project open.")
        self.service.set_project(handle)
        self.offline_edits.reload()

    def shutdown(self) -> None:
        """Stop every job and close the connection."""
        self.service.shutdown()

    def _project_ready(self, ready: bool) -> None:
        if not ready:
            self.status.setText("No project open." if self.handle is None else "The project could not be opened.")
            return
        self.status.setText("Reading the tables…")

    def refresh(self) -> None:
        """Read the relation list and the shown rows again (where the user is: far down stays far down)."""
        if self.service.source is None:
            return
        self.service.reload_relations()
        if self.model.query is not None:
            self.model.refresh_in_place(self.grid.rowAt(0))

    # -- relations ---------------------------------------------------------------------------------

    def _show_relations(self, summaries: list[RelationSummary]) -> None:
        self._summaries = summaries
        current = self.relation.display_name if self.relation else None
        self.tables.blockSignals(True)
        self.tables.clear()
        schemas: dict[str, QTreeWidgetItem] = {}
        select: QTreeWidgetItem | None = None
        for summary in summaries:
            parent = schemas.get(summary.schema)
            if parent is None:
                parent = QTreeWidgetItem([summary.schema, ""])
                font = parent.font(0)
                font.setBold(True)
                parent.setFont(0, font)
                parent.setFlags(parent.flags() & ~Qt.ItemFlag.ItemIsSelectable)
                schemas[summary.schema] = parent
                self.tables.addTopLevelItem(parent)
                parent.setExpanded(summary.schema == "public")
            item = QTreeWidgetItem([summary.name, format_estimate(summary)])
            item.setData(0, _RELATION_ROLE, summary)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            notes = [summary.kind.label]
            if summary.estimate is not None:
                notes.append(f"about {summary.estimate:,} rows (the server's estimate)")
            if not summary.has_primary_key and summary.kind in (RelationKind.TABLE,
                                                                RelationKind.PARTITIONED_TABLE):
                notes.append("no primary key: read-only")
            if summary.rls_enabled:
                notes.append("row level security on")
            if summary.comment:
                notes.append(summary.comment)
            item.setToolTip(0, f"{summary.display_name}\n" + "\n".join(notes))
            if summary.kind is not RelationKind.TABLE and summary.kind is not RelationKind.PARTITIONED_TABLE:
                item.setForeground(0, colors().muted)
            parent.addChild(item)
            if summary.display_name == current:
                select = item
        if select is not None:
            self.tables.setCurrentItem(select)
        self.tables.blockSignals(False)
        self._filter_tables(self.find_table.text())
        if self.relation is None:
            self.status.setText(f"{len(summaries)} tables and views. Pick one on the left.")

    def _schema_items(self) -> list[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]]:
        result = []
        for i in range(self.tables.topLevelItemCount()):
            schema = self.tables.topLevelItem(i)
            if schema is None:
                continue
            children = [schema.child(j) for j in range(schema.childCount())]
            result.append((schema, [child for child in children if child is not None]))
        return result

    def _filter_tables(self, text: str) -> None:
        needle = text.strip().lower()
        for schema, children in self._schema_items():
            shown = 0
            for child in children:
                hidden = bool(needle) and needle not in child.text(0).lower() and needle not in schema.text(0).lower()
                child.setHidden(hidden)
                shown += not hidden
            schema.setHidden(shown == 0)
            if needle and shown:
                schema.setExpanded(True)

    def relation_item(self, display_name: str) -> QTreeWidgetItem | None:
        """The list item of relation `schema.name`."""
        for _schema, children in self._schema_items():
            for child in children:
                summary = child.data(0, _RELATION_ROLE)
                if summary is not None and summary.display_name == display_name:
                    return child
        return None

    def open_relation(self, schema: str, name: str) -> bool:
        """Open `schema.name` (as a click in the list would); False when staged edits must be saved first."""
        if self.model.staged is not None and not self.model.staged.empty:
            current = self.relation.display_name if self.relation else "this table"
            user_messages().warning(f"Save or discard the changes to {current} first.",
                                    f"{self.model.staged.summary} are staged.")
            return False
        self._pending = (schema, name)
        self.title.setText(f"{schema}.{name}")
        self.subtitle.setText("Opening…")
        self.service.open_relation(schema, name)
        return True

    def _table_picked(self, item: QTreeWidgetItem | None, previous: QTreeWidgetItem | None) -> None:
        summary = item.data(0, _RELATION_ROLE) if item is not None else None
        if summary is None:
            return
        if self.relation is not None and summary.display_name == self.relation.display_name:
            return
        if not self.open_relation(summary.schema, summary.name) and previous is not None:
            # Not from inside the tree's own signal: it would finish making `item` current afterwards.
            QTimer.singleShot(0, lambda: self._reselect(previous))

    def _reselect(self, item: QTreeWidgetItem) -> None:
        self.tables.blockSignals(True)
        self.tables.setCurrentItem(item)
        self.tables.blockSignals(False)

    def _relation_opened(self, relation: Relation) -> None:
        if self._pending != (relation.schema, relation.name):
            return
        self._pending = None
        self.relation = relation
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.filter_bar.set_choices([c.name for c in relation.columns], [op.value for op in FilterOp],
                                    [op.value for op in FilterOp if not op.takes_value])
        self.filter_bar.hide()
        self.filter_problem.hide()
        self.commit_problem.hide()
        self.value_editor.hide()
        self.grid.horizontalHeader().setSortIndicatorShown(False)
        self._show_relation_header()
        self._sized_columns = False
        self.model.set_query(BrowseQuery(relation), self.view_as, keep_staged=False)

    def _show_relation_header(self) -> None:
        relation = self.relation
        editable = relation is not None and relation.editable
        for widget in (self.add_row_button, self.delete_button):
            widget.setEnabled(editable)
        for tool in (self.search, self.filter_button, self.end_button, self.export_button):
            tool.setEnabled(relation is not None)
        if relation is None:
            self.title.setText("Tables")
            self.subtitle.setText("Pick a table or view on the left.")
            self.read_only_banner.hide()
            return
        self.title.setText(relation.display_name)
        summary = relation.summary
        parts = [summary.kind.label.capitalize(), f"{len(relation.columns)} columns"]
        if summary.estimate is not None:
            parts.append(f"about {summary.estimate:,} rows")
        if summary.rls_enabled:
            parts.append("row level security on")
        self.subtitle.setText(" · ".join(parts))
        reason = relation.read_only_reason
        self.read_only_banner.setText(f"Read-only. {reason}" if reason else "")
        self.read_only_banner.setVisible(reason is not None)

    # -- rows --------------------------------------------------------------------------------------

    def _first_page_loaded(self, rows: int) -> None:
        if self.relation is None:
            return
        if not self._sized_columns and rows:
            self._sized_columns = True
            self._size_columns()
        self._update_status()
        self.relation_shown.emit(self.relation.display_name)

    def _size_columns(self) -> None:
        """Fit columns to their name and the first rows' text (measuring every loaded cell would be slow)."""
        model = self.model
        header = self.grid.horizontalHeader()
        cells = self.grid.fontMetrics()
        names = header.fontMetrics()
        sample = range(min(model.rowCount(), 40))
        for section in range(model.columnCount()):
            texts = [str(model.index(row, section).data() or "") for row in sample]
            column = model.column_at(section)
            if column is not None and column.has_default and model.staged is not None:
                texts.append("DEFAULT")  # what a new row shows until a value is typed
            widest = max([cells.horizontalAdvance(text[:80]) for text in texts] or [0])
            title = names.horizontalAdvance(str(model.headerData(section, Qt.Orientation.Horizontal))) + 12
            header.resizeSection(section, min(max(widest + 16, title + 16, 60), _MAX_COLUMN_WIDTH))

    def _update_status(self) -> None:
        model = self.model
        if model.query is None:
            return
        if model.loading and model.loaded_rows == 0 and not model.provisional:
            text = "Loading…"
        else:
            count = model.loaded_rows
            text = plural(count, "row")
            if model.has_more_before or model.has_more_after:
                text += " loaded, more load as you scroll"
            if model.query.narrowed:
                text += " (filtered)"
            if model.loading:
                text += " · loading…"
        text += f" · viewing as {self.view_as.description}"
        problem = self._read_problem
        if problem is not None and problem[0] == model.generation and not model.loading:
            text = f"{problem[1]} · {text}"
        cached = model.cached_page
        if cached is not None and model.provisional:
            text += f" · showing the rows saved at {cached.fetched_at.astimezone():%H:%M} while fresh ones load"
        self.status.setText(text)

    def _scrolled(self) -> None:
        grid = self.grid
        first = grid.rowAt(0)
        last = grid.rowAt(grid.viewport().height() - 1)
        if first < 0:
            return
        if last < 0:
            last = self.model.rowCount() - 1
        self.model.set_viewport(first, last)
        if first < 5 and self.model.has_more_before:
            self.model.fetch_before()

    def _keep_view_still(self, inserted: int) -> None:
        bar = self.grid.verticalScrollBar()
        step = inserted
        if self.grid.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerPixel:  # macOS' default
            step *= self.grid.verticalHeader().defaultSectionSize()  # rows are of one fixed height
        # The view widens its scroll range only at its next layout; widen it now so the value fits.
        bar.setMaximum(bar.maximum() + step)
        bar.setValue(bar.value() + step)

    def jump_to_end(self) -> None:
        """Show the last rows of the relation."""
        self.model.jump_to_end()

    def _header_clicked(self, section: int) -> None:
        query = self.model.query
        col = self.model.column_at(section)
        if query is None or col is None:
            return
        if not col.sortable:
            user_messages().info(f"The column {col.name} cannot be sorted: {col.type_name} values have no order.")
            return
        header = self.grid.horizontalHeader()
        # ascending -> descending -> the table's own order
        if query.sort is None or query.sort.column != col.name:
            order: Qt.SortOrder | None = Qt.SortOrder.AscendingOrder
        elif not query.sort.descending:
            order = Qt.SortOrder.DescendingOrder
        else:
            order = None
        if order is None:
            header.setSortIndicatorShown(False)
            self.model.sort(-1)
        else:
            header.setSortIndicatorShown(True)
            header.setSortIndicator(section, order)
            self.model.sort(section, order)

    def sort_by(self, column: str, descending: bool = False) -> None:
        """Sort by `column` (as clicking its header would)."""
        if self.relation is None:
            return
        section = self.relation.index_of(column)
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.grid.horizontalHeader().setSortIndicatorShown(True)
        self.grid.horizontalHeader().setSortIndicator(section, order)
        self.model.sort(section, order)

    # -- filters, search, view as ------------------------------------------------------------------

    def _add_filter(self) -> None:
        if self.relation is None:
            return
        column = self.model.column_at(max(0, self.grid.currentIndex().column()))
        self.filter_bar.add_condition(column.name if column else None, FilterOp.EQUALS.value)

    def set_filters(self, filters: list[Filter]) -> None:
        """Show only rows matching every filter (as the filter bar would)."""
        self.filter_bar.set_choices([c.name for c in self.relation.columns] if self.relation else [],
                                    [op.value for op in FilterOp], [op.value for op in FilterOp if not op.takes_value])
        for item in filters:
            self.filter_bar.add_condition(item.column, item.op.value, item.value)
        self._apply_view()

    def _apply_view(self) -> None:
        self._search_timer.stop()
        relation = self.relation
        if relation is None or self.model.query is None:
            return
        filters = [Filter(column, FilterOp(op), value) for column, op, value in self.filter_bar.conditions()
                   if column]
        try:
            query = BrowseQuery(relation, self.model.query.sort, tuple(filters), self.search.text())
        except StudioError as exc:
            self.filter_problem.setText(f"{exc.message} {exc.hint}".strip())
            self.filter_problem.show()
            return
        self.filter_problem.hide()
        if query == self.model.query:
            return
        self.model.set_query(query)

    def _role_picked(self, _index: int) -> None:
        role = BrowseRole(self.role_picker.currentData())
        self.user_picker.setVisible(role is BrowseRole.AUTHENTICATED)
        if role is BrowseRole.AUTHENTICATED:
            if not self._users:
                self.service.load_users()
            if self.user_picker.currentIndex() >= 0 and self.user_picker.currentData():
                self._user_picked(self.user_picker.currentIndex())
            else:
                self.status.setText("Pick the user to view the data as.")
            return
        self.set_view_as(ViewAs(role))

    def _show_users(self, users: list[AuthUser]) -> None:
        self._users = users
        typed = self.user_picker.currentText()
        self.user_picker.blockSignals(True)
        self.user_picker.clear()
        for user in users:
            self.user_picker.addItem(user.label, user)
            self.user_picker.setItemData(self.user_picker.count() - 1, user.id, Qt.ItemDataRole.ToolTipRole)
        self.user_picker.setCurrentIndex(-1)
        self.user_picker.setEditText(typed)
        self.user_picker.blockSignals(False)
        if not users:
            self.user_entry.setPlaceholderText("No users in auth.users: type a user id")

    def _user_picked(self, index: int) -> None:
        user = self.user_picker.itemData(index)
        if isinstance(user, AuthUser):
            self.set_view_as(ViewAs.user(user.id, user.email or None))

    def _user_typed(self) -> None:
        text = self.user_picker.currentText().strip()
        for user in self._users:
            if text in (user.label, user.id, user.email):
                self.set_view_as(ViewAs.user(user.id, user.email or None))
                return
        found = _UUID.search(text)
        try:
            view_as = ViewAs.user(found.group(0) if found else text)
        except StudioError as exc:
            user_messages().error(exc.message, exc.hint)
            return
        user_id = view_as.user_id or ""
        self._user_lookup += 1
        lookup = self._user_lookup

        def _found(user: AuthUser | None) -> None:
            if lookup != self._user_lookup:
                return  # "view as" changed meanwhile
            if user is not None:
                self.set_view_as(ViewAs.user(user.id, user.email or None))
                return
            self._user_note = (user_id, NO_SUCH_USER)
            self.set_view_as(view_as)

        def _not_looked_up() -> None:  # the failure itself was reported
            if lookup == self._user_lookup:
                self._user_note = (user_id, "The user could not be looked up in auth.users: viewing with only the"
                                            " id as claims.")
                self.set_view_as(view_as)

        self.status.setText("Looking the user up in auth.users…")
        self.service.find_user(user_id, _found, _not_looked_up)

    def set_view_as(self, view_as: ViewAs) -> None:
        """Run every query (and the next save) as `view_as`; the rows are read again."""
        self._user_lookup += 1
        self.view_as = view_as
        note = self._user_note
        unknown = note is not None and view_as.role is BrowseRole.AUTHENTICATED and view_as.email is None and (
            view_as.user_id == note[0])
        self.view_as_note.setText(note[1] if note is not None and unknown else "")
        self.view_as_note.setToolTip(
            "auth.uid() gives this id, but the claims carry no e-mail: policies reading auth.jwt() ->> 'email'"
            " see null." if unknown else "")
        self.view_as_note.setVisible(unknown)
        index = self.role_picker.findData(view_as.role)
        if index != self.role_picker.currentIndex():
            self.role_picker.blockSignals(True)
            self.role_picker.setCurrentIndex(index)
            self.role_picker.blockSignals(False)
            self.user_picker.setVisible(view_as.role is BrowseRole.AUTHENTICATED)
        if view_as.role is BrowseRole.AUTHENTICATED and view_as.user_id:
            shown = next((i for i in range(self.user_picker.count())
                          if isinstance(self.user_picker.itemData(i), AuthUser)
                          and self.user_picker.itemData(i).id == view_as.user_id), -1)
            self.user_picker.blockSignals(True)
            if shown >= 0:
                self.user_picker.setCurrentIndex(shown)
            else:
                self.user_picker.setEditText(view_as.user_id)
            self.user_picker.blockSignals(False)
            self.user_entry.setCursorPosition(0)
            self.user_picker.setToolTip(f"Viewing as {view_as.description} ({view_as.user_id})")
        if self.model.query is not None:
            self.model.set_query(self.model.query, view_as)
        self._refresh_preview()
        self._update_status()

    # -- editing -----------------------------------------------------------------------------------

    def add_row(self) -> None:
        """Stage a new row at the top and start editing its first settable column."""
        row = self.model.add_row()
        if row is None:
            return
        self.grid.scrollToTop()
        relation = self.relation
        first = next((i for i, c in enumerate(relation.columns) if c.editable), 0) if relation else 0
        self.grid.setCurrentIndex(self.model.index(row, first))

    def selected_rows(self) -> list[int]:
        """Rows with a selected cell (or the current row)."""
        rows = {index.row() for index in self.grid.selectionModel().selectedIndexes()}
        if not rows and self.grid.currentIndex().isValid():
            rows.add(self.grid.currentIndex().row())
        return sorted(rows)

    def delete_selected_rows(self) -> None:
        """Stage the deletion of the selected rows (or take it back)."""
        self.model.toggle_delete(self.selected_rows())

    def select_cell(self, row: int, column: int) -> None:
        """Make a cell current and selected (keyboard-free helper for tests and shortcuts)."""
        index = self.model.index(row, column)
        self.grid.setCurrentIndex(index)
        self.grid.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _set_current_null(self) -> None:
        index = self.grid.currentIndex()
        if index.isValid() and self.model.flags(index) & Qt.ItemFlag.ItemIsEditable:
            self.model.stage_value(index.row(), index.column(), None)

    def _needs_side_editor(self, index: QModelIndex) -> bool:
        col = self.model.column_at(index.column())
        value = index.data(RowsRole.VALUE)
        if col is None:
            return False
        long = isinstance(value, str) and (len(value) > _INLINE_CHARS or "\n" in value)
        return col.is_json or bool(index.data(RowsRole.TRUNCATED)) or long

    def _cell_double_clicked(self, index: QModelIndex) -> None:
        if self._needs_side_editor(index) or not (self.model.flags(index) & Qt.ItemFlag.ItemIsEditable):
            self.open_in_editor(index)
        else:
            self.grid.edit(index)

    def _open_current(self) -> None:
        index = self.grid.currentIndex()
        if not index.isValid():
            return
        if self._needs_side_editor(index) or not (self.model.flags(index) & Qt.ItemFlag.ItemIsEditable):
            self.open_in_editor(index)
        else:
            self.grid.edit(index)

    def open_in_editor(self, index: QModelIndex) -> None:
        """Show a cell in the side editor, reading the whole value first when only its start was loaded."""
        col = self.model.column_at(index.column())
        relation = self.relation
        if col is None or relation is None or not index.data(RowsRole.LOADED):
            return
        row, column = index.row(), index.column()
        state = RowState(index.data(RowsRole.STATE))
        editable = (self.model.staged is not None and col.editable and state is not RowState.REMOVED)
        title = f"{col.name} · {col.type_name}"
        self._editor_target = (row, column)
        self._editor_whole_original = None
        if index.data(RowsRole.TRUNCATED):
            identity = self.model.identity(row)
            if identity is None:
                return

            def _show(value: str | None) -> None:
                if self._editor_target == (row, column):
                    self._editor_whole_original = value
                    self.value_editor.show_value(title, value, is_json=col.is_json, editable=editable)

            self.value_editor.show_value(title + " (reading…)", "", is_json=False, editable=False)
            self._reveal_editor()
            self.service.read_value(relation, identity, col.name, self.view_as, _show)
            return
        self.value_editor.show_value(title, index.data(RowsRole.VALUE), is_json=col.is_json, editable=editable)
        self._reveal_editor()

    def _reveal_editor(self) -> None:
        sizes = self.grid_split.sizes()
        total = sum(sizes)
        if len(sizes) == 2 and sizes[1] < 240 and total > 0:
            editor = max(280, total // 3)
            self.grid_split.setSizes([total - editor, editor])

    def _editor_applied(self, value: str | None) -> None:
        if self._editor_target is None:
            return
        row, column = self._editor_target
        whole = self._editor_whole_original
        if whole is not None:
            self.model.stage_value(row, column, value, whole, whole_original=True)
        else:
            self.model.stage_value(row, column, value)

    def _context_menu(self, point: QPoint) -> None:
        index = self.grid.indexAt(point)
        menu = QMenu(self)
        if index.isValid():
            menu.addAction("Open in editor", lambda: self.open_in_editor(index))
            set_null = QAction("Set to NULL", menu)
            set_null.setEnabled(bool(self.model.flags(index) & Qt.ItemFlag.ItemIsEditable))
            set_null.triggered.connect(lambda: self.model.stage_value(index.row(), index.column(), None))
            menu.addAction(set_null)
        menu.addAction("Copy", self.copy_selection)
        if self.model.staged is not None:
            menu.addAction("Delete rows / take deletion back", self.delete_selected_rows)
        menu.popup(self.grid.viewport().mapToGlobal(point))

    def copy_selection(self) -> str:
        """Copy the selected cells to the clipboard as tab-separated lines (NULL as empty).

        Cells of which only a preview was loaded are copied whole: their values are read first, and the
        clipboard is filled when they arrive (`copied` is emitted then). Returns the text copied at once, or ""
        when it is still being read (or nothing is selected).
        """
        indexes = self.grid.selectionModel().selectedIndexes()
        if not indexes and self.grid.currentIndex().isValid():
            indexes = [self.grid.currentIndex()]
        if not indexes:
            return ""
        rows = sorted({i.row() for i in indexes})
        columns = sorted({i.column() for i in indexes})
        chosen = {(i.row(), i.column()) for i in indexes}
        cells: list[list[str | None]] = []
        whole: list[tuple[int, int, tuple[str | None, ...], str]] = []  # (line, cell, row identity, column)
        for line, row in enumerate(rows):
            values: list[str | None] = []
            for place, column in enumerate(columns):
                index = self.model.index(row, column)
                values.append(index.data(RowsRole.VALUE) if (row, column) in chosen else None)
                if (row, column) in chosen and index.data(RowsRole.TRUNCATED):
                    identity = self.model.identity(row)
                    col = self.model.column_at(column)
                    if identity is not None and col is not None:
                        whole.append((line, place, identity, col.name))
            cells.append(values)
        relation = self.relation
        if not whole or relation is None:
            return self._to_clipboard(cells)

        def _arrived(values: list[str | None]) -> None:
            for (line, place, _identity, _column), value in zip(whole, values, strict=True):
                cells[line][place] = value
            self._to_clipboard(cells)
            self.status.setText(f"Copied {plural(len(chosen), 'cell')}, long values whole.")

        count = len(whole)
        self.status.setText(f"Copying: reading the whole of {plural(count, 'long value')}…")
        self.service.read_values(relation, [(identity, column) for _line, _place, identity, column in whole],
                                 self.view_as, _arrived, self._update_status)
        return ""

    def _to_clipboard(self, cells: list[list[str | None]]) -> str:
        text = "\n".join("\t".join("" if value is None else str(value).replace("\t", " ").replace("\n", " ")
                                   for value in values) for values in cells)
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)
        return text

    # -- staged changes ----------------------------------------------------------------------------

    def _staged_changed(self) -> None:
        staged = self.model.staged
        if staged is None or staged.empty:
            self.changes_bar.hide()
            self.sql_preview.hide()
            self.preview_button.setChecked(False)
            return
        self.changes_label.setText(f"Not saved yet: {staged.summary}.")
        self.changes_bar.show()
        self._refresh_preview()

    def _toggle_preview(self, shown: bool) -> None:
        self.sql_preview.setVisible(shown)
        self._refresh_preview()

    def _refresh_preview(self) -> None:
        staged = self.model.staged
        if staged is not None and not staged.empty and self.sql_preview.isVisibleTo(self):
            self.sql_preview.show_code(staged.preview(self.view_as))

    def preview_sql(self) -> str:
        """The SQL "Save changes" will run ("" when nothing is staged)."""
        staged = self.model.staged
        return staged.preview(self.view_as) if staged is not None and not staged.empty else ""

    def save_changes(self) -> None:
        """Run the staged changes in one transaction, as the role picked under "View as"."""
        staged = self.model.staged
        if staged is None or staged.empty:
            return
        self.commit_problem.hide()
        self._set_saving(True)
        if not self.service.commit(staged, self.view_as):
            self._set_saving(False)

    def _set_saving(self, saving: bool) -> None:
        for widget in (self.save_button, self.discard_button, self.grid, self.add_row_button, self.delete_button):
            widget.setEnabled(not saving)
        if saving:
            self.changes_label.setText("Saving…")

    def _committed(self, statements: int) -> None:
        self._set_saving(False)
        self._show_relation_header()
        self.model.after_commit(self.grid.rowAt(0))  # keeps the user's place below the first page
        user_messages().info(f"Saved {plural(statements, 'change')} to "
                             f"{self.relation.display_name if self.relation else 'the table'}.")
        self.changes_saved.emit(statements)

    def _commit_failed(self, error: StudioError) -> None:
        self._set_saving(False)
        self._show_relation_header()
        self._staged_changed()
        self.commit_problem.setText(f"{error.message}\n{error.hint}".strip())
        self.commit_problem.show()
        user_messages().error(error.message, error.hint)

    def _commit_queued(self, edits: int, why: str) -> None:
        self._set_saving(False)
        self._show_relation_header()
        self.model.after_commit(self.grid.rowAt(0), queued=True)
        self.queued_note.setText(QUEUED_MESSAGE)
        self.queued_note.setToolTip(why)
        self.queued_note.show()
        user_messages().info(QUEUED_MESSAGE, why)
        self.changes_queued.emit(edits)

    # -- offline -----------------------------------------------------------------------------------

    def _outbox_changed(self, counts: OutboxCounts) -> None:
        attention = self._shown_counts.attention if self._shown_counts is not None else 0
        self._show_outbox_counts(counts)
        if not counts.pending:
            self.queued_note.hide()  # everything saved here was sent (or needs a decision, shown in the panel)
        if self.offline_edits.isVisibleTo(self):
            self.offline_edits.reload()
        elif counts.attention > attention:  # a new conflict or rejection: show it
            self.show_offline_edits(True)
        self.outbox_changed.emit(counts)

    def _show_outbox_counts(self, counts: OutboxCounts) -> None:
        self._shown_counts = counts
        total = counts.pending + counts.conflict + counts.rejected
        self.outbox_button.setText(f"Offline edits: {counts_text(counts)}" if total else "Offline edits")
        self.outbox_button.setVisible(bool(total) or self.offline_edits.isVisibleTo(self))
        palette = colors()
        colour = palette.danger if counts.attention else palette.warning
        self.outbox_button.setStyleSheet(f"#outboxButton {{ color: {colour.name()}; font-weight: 600; }}"
                                         if total else "")

    def show_offline_edits(self, shown: bool = True) -> None:
        """Show (or hide) the "Offline edits" panel: queued edits, conflicts and rejections."""
        if shown:
            self.offline_edits.reload()
        self.offline_edits.setVisible(shown)
        if shown:
            sizes = self.work_split.sizes()
            total = sum(sizes)
            if len(sizes) == 2 and sizes[1] < 200 and total > 0:
                panel = max(240, total * 2 // 5)
                self.work_split.setSizes([total - panel, panel])
        self.outbox_button.blockSignals(True)
        self.outbox_button.setChecked(shown)
        self.outbox_button.blockSignals(False)
        self._show_outbox_counts(self.service.outbox_counts())

    def _online_changed(self, online: bool) -> None:
        self._show_cache_state()
        if online and self.model.showing_cached and not self.model.provisional:
            self.model.refresh_in_place(self.grid.rowAt(0))  # back online: fresh rows replace the cached ones

    def _synced(self, report: SyncReport) -> None:
        if (report.applied or report.conflicts) and self.model.query is not None and not self.model.loading:
            self.model.refresh_in_place(self.grid.rowAt(0))  # show what the server holds now, in place
        if report.error and report.remaining:
            self.outbox_button.setToolTip(f"{report.remaining} edits wait: {report.error}")

    def _show_cache_state(self) -> None:
        model = self.model
        cached = model.cached_page
        if cached is None or model.provisional:
            self.offline_banner.hide()
        else:
            self.offline_label.setText(staleness_text(cached.fetched_at, offline=not self.service.online))
            self.offline_banner.show()
        self._update_status()

    def current_pin(self) -> PinnedView | None:
        """The pinned offline view of what is shown (same table, filters, search and role), if pinned."""
        query = self.model.query
        if query is None:
            return None
        key = view_key(query)
        return next((pinned for pinned in self.service.pinned_views()
                     if view_key(pinned.query) == key and pinned.view_as == self.view_as), None)

    def _offline_menu_shown(self) -> None:
        pinned = self.current_pin()
        self.pin_action.setEnabled(self.model.query is not None)
        self.pin_action.setText("Unpin this view (stop keeping it offline)" if pinned is not None
                                else "Pin this view for offline use")

    def toggle_pin(self) -> PinnedView | None:
        """Pin the current view (table, filters, search, role) for offline use, or unpin it when pinned;
        returns the pinned view (None after unpinning)."""
        query = self.model.query
        if query is None:
            return None
        pinned = self.current_pin()
        if pinned is not None:
            self.service.unpin(pinned.id)
            self.status.setText(f"{pinned.label} is no longer kept for offline use.")
            return None
        label = query.relation.display_name + (" (filtered)" if query.narrowed else "")
        label += f" as {self.view_as.description}"
        made = self.service.pin(query, self.view_as, label)
        if made is not None:
            self.status.setText(f"Pinned: {label} is kept on this computer and read again in the background"
                                " while online.")
        return made

    def clear_offline_cache(self) -> None:
        """Forget the rows and pinned views this project keeps on this computer (queued edits stay)."""
        staying = self.service.clear_offline_cache()
        text = "The offline copies of this project's tables were cleared."
        if staying:
            text += f" {plural(staying, 'edit')} saved on this computer stay until sent or dismissed."
        self.status.setText(text)
        user_messages().info(text)

    def discard_changes(self) -> None:
        """Forget every staged edit."""
        self.model.discard_changes()
        self.commit_problem.hide()

    # -- export ------------------------------------------------------------------------------------

    def _ask_export(self, fmt: ExportFormat) -> None:
        if self.relation is None:
            return
        suggested = str(Path.home() / f"{self.relation.name}.{fmt.value}")
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.relation.display_name}", suggested,
                                              f"{fmt.value.upper()} files (*.{fmt.value})")
        if path:
            self.export_to(Path(path), fmt)

    def export_to(self, path: Path, fmt: ExportFormat) -> None:
        """Export every row of the current view (sort, filters, search, role) to `path`."""
        query = self.model.query
        if query is None or self.service.exporting:
            return
        self.export_progress.setRange(0, 0)
        self.export_progress.setValue(0)
        self.export_progress.show()
        self.export_cancel.show()
        self.export_button.setEnabled(False)
        self.service.export(query, self.view_as, path, fmt)

    def _export_progress(self, done: int, expected: int | None) -> None:
        if expected:
            self.export_progress.setRange(0, max(expected, done))
            self.export_progress.setFormat(f"%v of ≈{expected:,} rows")
        else:
            self.export_progress.setRange(0, 0)
        self.export_progress.setValue(done)
        self.status.setText(f"Exporting… {done:,} rows written")

    def _export_ended(self) -> None:
        self.export_progress.hide()
        self.export_cancel.hide()
        self.export_button.setEnabled(self.relation is not None)

    def _export_finished(self, path: str, rows: int) -> None:
        self._export_ended()
        self.status.setText(f"Exported {rows:,} rows to {path}")
        user_messages().info(f"Exported {rows:,} rows to {path}")
        self.export_done.emit(path, rows)

    def _export_failed(self, message: str) -> None:
        self._export_ended()
        self.status.setText(message)
        user_messages().error(message)

    def _job_failed(self, kind: str, message: str) -> None:
        if kind == "browse.describe":
            self._pending = None
            self._show_relation_header()
        if kind in ("browse.page", "browse.after", "browse.before"):
            first_line = message.split("\n", 1)[0]
            # Kept until the rows are read again (the status line is redrawn as loading ends).
            self._read_problem = (self.model.generation, first_line)
            self.status.setText(first_line)
            query = self.model.query
            if query is not None and query.narrowed:
                self.filter_problem.setText(message)
                self.filter_problem.show()
