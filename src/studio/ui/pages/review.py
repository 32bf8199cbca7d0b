"""The migration review: pick the changes of a plan, read their hazards and checks, apply them, see the outcome.

Three panes, like pgAdmin's schema diff but written for people: the changes grouped by table with a
checkbox each; for the selected change its live and desired definitions side by side; and the SQL that
will run. Below them: the typed confirmation destructive changes need, Apply, progress per statement, and
the outcome ("Applied" with what changed, or "Nothing was changed" with the failing statement and what the
server said).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap, QShowEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.migrations.apply import AppliedMigration
from studio.core.review import Group, Note, NoteLevel, Review, Toggle, short_title, suggested_migration_name
from studio.core.schema.plan import Change, PlanOptions
from studio.core.schema.render import render_plan
from studio.core.words import plural
from studio.services.deploy import (
    DEFAULT_MIGRATION_NAME,
    ApplyError,
    DeployService,
    Outcome,
    PlanResult,
)
from studio.services.jobs import JobRunner, describe_failure
from studio.services.projects import ProjectHandle
from studio.ui.theme import colors, heading_label
from studio.ui.widgets.code_view import CodeView
from studio.ui.widgets.ddl_diff import DdlDiff

CHANGE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
GROUP_KEY_ROLE = Qt.ItemDataRole.UserRole + 2

_ACTION_GLYPHS = {"create": "+", "alter": "~", "replace": "↻", "drop": "−"}


def action_icon(action: str) -> QIcon:
    """A small round badge for create (+), alter (~), replace (↻) and drop (−), in the theme's colours."""
    palette = colors()
    fill = {"create": palette.ok, "drop": palette.danger}.get(action, palette.warning)
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawEllipse(QRectF(2, 2, 28, 28))
    painter.setPen(QPen(QColor("#1e2127" if palette.dark else "#ffffff")))  # the dark theme's badges are light
    font = QFont()
    font.setPixelSize(22)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(QRectF(0, 0, 32, 31), Qt.AlignmentFlag.AlignCenter, _ACTION_GLYPHS.get(action, "•"))
    painter.end()
    return QIcon(pixmap)


def _level_color(level: NoteLevel) -> QColor:
    palette = colors()
    return {NoteLevel.DANGER: palette.danger, NoteLevel.WARNING: palette.warning}.get(level, palette.muted)


def notes_html(notes: list[Note]) -> str:
    """Notes as rich text: a coloured label, the sentence, then the explanation and fix in a muted colour."""
    parts = []
    muted = colors().muted.name()
    for note in notes:
        color = _level_color(note.level).name()
        text = (f"<p style='margin:0 0 6px 0'><b style='color:{color}'>{html.escape(note.label)}:</b> "
                f"{html.escape(note.text)}")
        if note.detail:
            text += f"<br><span style='color:{muted}'>{html.escape(note.detail)}</span>"
        if note.fix:
            first, *rest = note.fix.strip().splitlines()
            text += f"<br><span style='color:{muted}'>Fix: {html.escape(first)}</span>"
            if rest:  # usually the SQL that fixes it
                text += f"<pre style='margin:2px 0 0 12px'>{html.escape(chr(10).join(rest[:8]))}</pre>"
        parts.append(text + "</p>")
    return "".join(parts)


def _brief_reason(review: Review, change: Change) -> str:
    """The second column of an unticked change: why, in a few words."""
    missing = [review.change(r) for r in change.requires if not review.is_ticked(r)]
    if missing:
        group = review.group_of(missing[0].id)
        more = f" (+{len(missing) - 1})" if len(missing) > 1 else ""
        return f"needs: {short_title(missing[0], group)}{more}"
    if review.left_out_by_default(change.id):
        return "deletes data: tick to include"
    return "left out"


def _brief_notes(review: Review, change: Change) -> str:
    """The second column of a ticked change: its most serious hazard, in a few words."""
    data = [h for h in change.hazards if h.destructive]
    if data:
        rows = data[0].rows
        return f"deletes data · {rows:,} rows" if rows is not None else "deletes data"
    notes = review.notes(change.id)
    if notes:
        return plural(len(notes), "note")
    return ""


_KIND_PLURALS = {"index": "indexes", "policy": "policies", "sequence": "sequences", "schema": "schemas"}


def changes_in_words(titles: Sequence[str]) -> str:
    """What a migration changed, counted by action and kind: "create 4 tables, 14 policies; drop 1 column"."""
    counts: dict[str, dict[str, int]] = {}
    for title in titles:
        action, _, rest = title.partition(" ")
        kind = rest.split(" ", 1)[0] if rest else ""
        by_kind = counts.setdefault(action.lower(), {})
        by_kind[kind] = by_kind.get(kind, 0) + 1
    parts = []
    for action, by_kind in counts.items():
        listed = ", ".join(plural(n, kind, _KIND_PLURALS.get(kind, "")) for kind, n in by_kind.items())
        parts.append(f"{action} {listed}")
    return "; ".join(parts) or "nothing"


class PlanView(QWidget):
    """The three panes over a `Review`: the tree of changes, the selected change's definitions, the SQL.

    Used by the review page (ticks choose what is applied) and by the compare tool (ticks choose what the
    SQL shows).

    Signals:
        ticks_changed(): a change was ticked or unticked (by the person or by propagation).
        current_changed(int): the selected change's id (0 when a group or nothing is selected).
    """

    ticks_changed = Signal()
    current_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, live_title: str = "Live database",
                 desired_title: str = "Desired schema (supabase/schemas)",
                 live_missing: str = "Not in the live database yet: it will be created.",
                 desired_missing: str = "Not in the desired schema: it will be dropped.") -> None:
        super().__init__(parent)
        self.review: Review | None = None
        self.sql_header = ""
        self.live_title = live_title
        self.desired_title = desired_title
        self.live_missing = live_missing
        self.desired_missing = desired_missing
        self._syncing = False
        self._items: dict[int, QTreeWidgetItem] = {}
        self._group_items: dict[str, QTreeWidgetItem] = {}

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Change", "Notes"])
        self.tree.setIconSize(QSize(16, 16))
        self.tree.setUniformRowHeights(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(self._current_item_changed)
        self.toggle_note = QLabel()
        self.toggle_note.setWordWrap(True)
        self.toggle_note.setObjectName("toggleNote")
        self.other_checks = QLabel()
        self.other_checks.setWordWrap(True)
        self.other_checks.setTextFormat(Qt.TextFormat.RichText)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tree, 1)
        left_layout.addWidget(self.toggle_note)
        left_layout.addWidget(self.other_checks)

        self.change_title = QLabel()
        self.change_title.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.change_title.setWordWrap(True)
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.RichText)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        notes_scroll = QScrollArea()
        notes_scroll.setWidgetResizable(True)
        notes_scroll.setFrameShape(QFrame.Shape.NoFrame)
        notes_box = QWidget()
        notes_layout = QVBoxLayout(notes_box)
        notes_layout.setContentsMargins(0, 0, 0, 0)
        notes_layout.addWidget(self.change_title)
        notes_layout.addWidget(self.reason)
        notes_layout.addWidget(self.notes)
        notes_layout.addStretch(1)
        notes_scroll.setWidget(notes_box)
        self.ddl = DdlDiff()
        detail = QSplitter(Qt.Orientation.Vertical)
        detail.addWidget(notes_scroll)
        detail.addWidget(self.ddl)
        detail.setStretchFactor(0, 1)
        detail.setStretchFactor(1, 3)
        detail.setSizes([150, 400])

        self.sql_title = QLabel("SQL that will run")
        self.sql_title.setStyleSheet("font-weight: 600;")
        self.sql = CodeView()
        sql_box = QWidget()
        sql_layout = QVBoxLayout(sql_box)
        sql_layout.setContentsMargins(0, 0, 0, 0)
        sql_layout.addWidget(self.sql_title)
        sql_layout.addWidget(self.sql, 1)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(detail)
        right.addWidget(sql_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([560, 840])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    # -- showing ----------------------------------------------------------------------------------------

    def show_review(self, review: Review | None, *, sql_header: str = "") -> None:
        """Show a review (None clears the panes)."""
        self.review = review
        self.sql_header = sql_header
        self._syncing = True
        try:
            self.tree.clear()
            self._items.clear()
            self._group_items.clear()
            self.toggle_note.setText("")
            if review is None:
                self.other_checks.setText("")
                self._show_nothing()
                self.sql.show_code("")
                return
            for group in review.groups:
                self._add_group(review, group)
            self.tree.expandAll()
            other = review.other_notes
            self.other_checks.setText(
                f"<b>Checks on objects this plan does not change</b>{notes_html(other)}" if other else "")
        finally:
            self._syncing = False
        self._refresh_states()
        first = self.tree.topLevelItem(0)
        child = first.child(0) if first is not None and first.childCount() else None
        if child is not None:
            self.tree.setCurrentItem(child)
        else:
            self._show_nothing()

    def _add_group(self, review: Review, group: Group) -> None:
        item = QTreeWidgetItem([group.title, ""])
        item.setData(0, GROUP_KEY_ROLE, group.key)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
        item.setToolTip(0, f"{group.kind} {group.title}")
        if group.notes:
            worst = min(group.notes, key=lambda n: list(NoteLevel).index(n.level))
            item.setText(1, plural(len(group.notes), "check"))
            item.setForeground(1, _level_color(worst.level))
        self.tree.addTopLevelItem(item)
        self._group_items[group.key] = item
        for change_id in group.change_ids:
            change = review.change(change_id)
            child = QTreeWidgetItem([short_title(change, group), ""])
            child.setData(0, CHANGE_ID_ROLE, change_id)
            child.setIcon(0, action_icon(change.action))
            child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            child.setCheckState(0, Qt.CheckState.Checked)
            child.setToolTip(0, change.title)
            item.addChild(child)
            self._items[change_id] = child

    def _refresh_states(self) -> None:
        """Bring every checkbox and the second column in line with the review, then the SQL."""
        review = self.review
        if review is None:
            return
        palette = colors()
        self._syncing = True
        try:
            for change_id, item in self._items.items():
                change = review.change(change_id)
                ticked = review.is_ticked(change_id)
                item.setCheckState(0, Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
                if ticked:
                    item.setText(1, _brief_notes(review, change))
                    item.setForeground(1, palette.danger if change.destructive else palette.warning)
                    item.setToolTip(1, "\n".join(str(n) for n in review.notes(change_id)))
                else:
                    item.setText(1, _brief_reason(review, change))
                    item.setForeground(1, palette.muted)
                    item.setToolTip(1, review.reason(change_id))
                item.setForeground(0, palette.muted if not ticked else self.palette().text().color())
        finally:
            self._syncing = False
        self._show_sql()
        self._show_current()

    def _show_sql(self) -> None:
        review = self.review
        if review is None:
            return
        ids = review.ticked_ids()
        statements = sum(len(review.change(i).statements) for i in ids)
        self.sql_title.setText(f"SQL that will run · {plural(len(ids), 'change')}, {plural(statements, 'statement')}")
        self.sql.show_code(render_plan(review.plan, ids=ids, header=self.sql_header))

    def _show_nothing(self) -> None:
        self.change_title.setText("")
        self.reason.setText("")
        self.notes.setText("")
        self.ddl.clear()

    def current_change(self) -> int:
        """The selected change's id (0 when none)."""
        item = self.tree.currentItem()
        value = item.data(0, CHANGE_ID_ROLE) if item is not None else None
        return int(value) if value else 0

    def select_change(self, change_id: int) -> None:
        """Select a change in the tree."""
        item = self._items.get(change_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def item_of(self, change_id: int) -> QTreeWidgetItem:
        """The tree item of a change."""
        return self._items[change_id]

    def group_item(self, key: str) -> QTreeWidgetItem:
        """The tree item of a group."""
        return self._group_items[key]

    def _current_item_changed(self, *_: Any) -> None:
        self._show_current()
        self.current_changed.emit(self.current_change())

    def _show_current(self) -> None:
        review = self.review
        item = self.tree.currentItem()
        if review is None or item is None:
            self._show_nothing()
            return
        change_id = item.data(0, CHANGE_ID_ROLE)
        if not change_id:
            group = next((g for g in review.groups if g.key == item.data(0, GROUP_KEY_ROLE)), None)
            if group is None:
                self._show_nothing()
                return
            self.change_title.setText(group.title)
            self.reason.setText(f"{plural(len(group.change_ids), 'change')}. Select one to see its definitions.")
            self.notes.setText(notes_html(list(group.notes)))
            self.ddl.clear()
            return
        change = review.change(int(change_id))
        group = review.group_of(change.id)
        self.change_title.setText(change.title)
        reason = review.reason(change.id)
        self.reason.setText(reason)
        self.reason.setStyleSheet(f"color: {colors().muted.name()};")
        self.reason.setVisible(bool(reason))
        self.notes.setText(notes_html([*review.notes(change.id), *group.notes]))
        live, desired = review.ddl_pair(change.id)
        self.ddl.show_ddl(live, desired, live_title=self.live_title, desired_title=self.desired_title,
                          live_missing=self.live_missing, desired_missing=self.desired_missing)
        self._point_sql_at(change.id)

    def _point_sql_at(self, change_id: int) -> None:
        """Mark the selected change's block in the SQL and scroll to it."""
        document = self.sql.document()
        found = document.find(f"-- [{change_id}] ")
        if found.isNull():
            self.sql.setExtraSelections([])
            return
        selection = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setBackground(colors().changed)
        fmt.setProperty(QTextCharFormat.Property.FullWidthSelection, True)
        selection.format = fmt
        cursor = QTextCursor(found.block())
        selection.cursor = cursor
        self.sql.setExtraSelections([selection])
        self.sql.setTextCursor(cursor)
        self.sql.centerCursor()

    # -- ticking ------------------------------------------------------------------------------------------

    def set_ticked(self, change_id: int, ticked: bool) -> Toggle:
        """Tick or untick a change as the person would (propagation included)."""
        if self.review is None:
            return Toggle()
        toggle = self.review.set_ticked(change_id, ticked)
        self.toggle_note.setText(toggle.message)
        self._refresh_states()
        self.ticks_changed.emit()
        return toggle

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._syncing or column != 0 or self.review is None:
            return
        change_id = item.data(0, CHANGE_ID_ROLE)
        if not change_id:
            return  # a group: Qt ticks or unticks its children, each arriving here
        ticked = item.checkState(0) == Qt.CheckState.Checked
        if ticked != self.review.is_ticked(int(change_id)):
            self.set_ticked(int(change_id), ticked)

    def set_interactive(self, enabled: bool) -> None:
        """Allow or stop ticking (the panes stay readable), e.g. while an apply runs."""
        self.tree.setEnabled(enabled)


class ReviewPage(QWidget):
    """Review the pending plan of the open project, pick changes, apply them, and see the outcome.

    Signals:
        plan_shown(object): a plan (`PlanResult`) is on screen.
        plan_failed(str): the plan could not be made; the message shown.
        applied(object): the `AppliedMigration` of a successful apply.
        apply_failed(object): the `ApplyError` (or other exception) of a failed apply.
        open_tables_requested(): the person asked to open the tables after applying.
        history_requested(): the person asked to see the history of applied migrations.
    """

    plan_shown = Signal(object)
    plan_failed = Signal(str)
    applied = Signal(object)
    apply_failed = Signal(object)
    open_tables_requested = Signal()
    history_requested = Signal()

    def __init__(self, runner: JobRunner, service: DeployService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.service = service or DeployService(runner, parent=self)
        self.handle: ProjectHandle | None = None
        self.result: PlanResult | None = None
        self._stale = False

        self.heading = heading_label("Review and deploy")
        self.where = QLabel("No project open.")
        self.where.setWordWrap(True)
        self.summary = QLabel()
        self.refresh_button = QPushButton("Make the plan again")
        self.refresh_button.setToolTip("Read the schema files and the database again, and plan anew.")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.heading)
        titles.addWidget(self.where)
        top.addLayout(titles, 1)
        top.addWidget(self.summary)
        top.addWidget(self.refresh_button)

        self.banner = QLabel()
        self.banner.setObjectName("reviewBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()

        self.plan_view = PlanView()
        self.plan_view.ticks_changed.connect(self._update_apply)

        # the typed confirmation: inline, never a modal dialog
        self.confirm_box = QFrame()
        self.confirm_box.setObjectName("confirmBox")
        confirm_layout = QVBoxLayout(self.confirm_box)
        self.confirm_text = QLabel()
        self.confirm_text.setWordWrap(True)
        self.confirm_text.setTextFormat(Qt.TextFormat.RichText)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setObjectName("confirmEdit")
        self.confirm_edit.textChanged.connect(self._update_apply)
        confirm_layout.addWidget(self.confirm_text)
        confirm_layout.addWidget(self.confirm_edit)
        self.confirm_box.hide()

        self.name_edit = QLineEdit(DEFAULT_MIGRATION_NAME)
        self._name_typed = False  # a name the person typed is kept; otherwise each plan suggests one
        self.name_edit.textEdited.connect(lambda _text: setattr(self, "_name_typed", True))
        self.name_edit.setToolTip("The migration's name: supabase/migrations/<time>_<name>.sql")
        self.name_edit.setMinimumWidth(320)
        self.blocker = QLabel()
        self.blocker.setWordWrap(True)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel("Migration name"))
        bottom.addWidget(self.name_edit)
        bottom.addWidget(self.blocker, 1)
        bottom.addWidget(self.apply_button)

        self.progress_box = QFrame()
        progress_layout = QVBoxLayout(self.progress_box)
        self.progress_label = QLabel()
        self.progress = QProgressBar()
        self.steps = QListWidget()
        self.steps.setMaximumHeight(120)
        progress_layout.addWidget(self.progress_label)
        progress_layout.addWidget(self.progress)
        progress_layout.addWidget(self.steps)
        self.progress_box.hide()

        self.outcome_box = QFrame()
        self.outcome_box.setObjectName("outcomeBox")
        outcome_layout = QVBoxLayout(self.outcome_box)
        self.outcome_title = QLabel()
        self.outcome_title.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.outcome_text = QLabel()
        self.outcome_text.setWordWrap(True)
        self.outcome_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # What an apply changed: one line per kind in the text above, every change in this list, which
        # scrolls (a large plan must not push the window past the screen).
        self.changed_list = QListWidget()
        self.changed_list.setMaximumHeight(140)
        self.changed_list.hide()
        self.failed_statement = CodeView()
        self.failed_statement.setMaximumHeight(110)
        self.outcome_hint = QLabel()
        self.outcome_hint.setWordWrap(True)
        self.outcome_hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_tables_button = QPushButton("Open the tables")
        self.open_tables_button.clicked.connect(self.open_tables_requested)
        self.history_button = QPushButton("See the history")
        self.history_button.clicked.connect(self.history_requested)
        self.again_button = QPushButton("Review again")
        self.again_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.history_button)
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.open_tables_button)
        outcome_layout.addWidget(self.outcome_title)
        outcome_layout.addWidget(self.outcome_text)
        outcome_layout.addWidget(self.changed_list)
        outcome_layout.addWidget(self.failed_statement)
        outcome_layout.addWidget(self.outcome_hint)
        outcome_layout.addLayout(buttons)
        self.outcome_box.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.plan_view, 1)
        layout.addWidget(self.confirm_box)
        layout.addLayout(bottom)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.outcome_box)

        self.service.plan_started.connect(self._plan_started)
        self.service.plan_ready.connect(self.show_plan)
        self.service.plan_failed.connect(self._plan_failed)
        self.service.progress.connect(self._progress)
        self.service.applied.connect(self._applied)
        self.service.apply_failed.connect(self._apply_failed)
        self._update_apply()

    # -- project and plan --------------------------------------------------------------------------------

    def set_project(self, handle: ProjectHandle | None) -> None:
        """Work on this project (None: no project). The plan is made when the page is shown or refreshed."""
        self.handle = handle
        self.result = None
        self.plan_view.show_review(None)
        self.outcome_box.hide()
        self.progress_box.hide()
        self.banner.hide()
        self.where.setText(f"{handle.title} · {handle.workspace}" if handle else "No project open.")
        self._stale = handle is not None
        self._update_apply()
        if self._stale and self.isVisible():
            self.refresh()

    def set_plan_options(self, options: PlanOptions) -> None:
        """Make plans with these options from now on (lock and statement timeouts, concurrent indexes)."""
        self.service.options = options

    def showEvent(self, event: QShowEvent) -> None:
        """Make the plan the first time the page is shown for a project."""
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Make the plan again for the open project."""
        if self.handle is None or self.service.applying:
            return
        self._stale = False
        self.service.make_plan(self.handle)

    def _plan_started(self) -> None:
        self.summary.setText("Making the plan…")
        self.banner.hide()
        self.outcome_box.hide()
        self.progress_box.hide()
        self.apply_button.setEnabled(False)

    def _plan_failed(self, message: str) -> None:
        self.summary.setText("")
        self._show_banner(f"The plan could not be made. {message}", danger=True)
        self.plan_failed.emit(message)
        self._update_apply()

    def _show_banner(self, text: str, *, danger: bool) -> None:
        palette = colors()
        border = palette.danger if danger else palette.banner_border
        self.banner.setStyleSheet(
            f"#reviewBanner {{ background: {palette.banner_background.name()}; border: 1px solid {border.name()};"
            " border-radius: 6px; padding: 8px; }")
        self.banner.setText(text)
        self.banner.show()

    def show_plan(self, result: PlanResult) -> None:
        """Show a plan to review (from the service, or one the wizard already made)."""
        self.result = result
        self.where.setText(f"{result.target_description} · {result.workspace}")
        review = result.review
        self.summary.setText(review.summary())
        header = f"Migration for {result.target_description}"
        self.plan_view.show_review(review, sql_header=header)
        if not self._name_typed:
            suggested = suggested_migration_name([change.title for change in review.plan.changes])
            self.name_edit.setText(suggested or DEFAULT_MIGRATION_NAME)
        self.confirm_edit.clear()
        self.outcome_box.hide()
        self.progress_box.hide()
        if review.plan.empty:
            self._show_banner("Nothing to deploy: the database already matches supabase/schemas.", danger=False)
        elif review.plan.not_handled:
            self._show_banner("Studio cannot do these by itself: " + "; ".join(review.plan.not_handled), danger=False)
        else:
            self.banner.hide()
        self._update_apply()
        self.plan_shown.emit(result)

    # -- confirmation and apply --------------------------------------------------------------------------

    def _update_apply(self) -> None:
        result = self.result
        if result is None:
            self.confirm_box.hide()
            self.apply_button.setEnabled(False)
            self.blocker.setText("")
            return
        review = result.review
        self.summary.setText(review.summary())
        phrase = review.confirmation_phrase()
        if phrase:
            palette = colors()
            lines = "".join(
                f"<li>{html.escape(h.message)}</li>" for c in review.destructive_ticked() for h in c.hazards
                if h.destructive)
            self.confirm_text.setText(
                f"<b style='color:{palette.danger.name()}'>These changes delete data that cannot be brought back:"
                f"</b><ul style='margin:4px 0'>{lines}</ul>Type <b>{html.escape(phrase)}</b> to confirm.")
            self.confirm_edit.setPlaceholderText("Type it here")
            self.confirm_box.setStyleSheet(
                f"#confirmBox {{ border: 1px solid {palette.danger.name()}; border-radius: 6px; }}")
            self.confirm_box.show()
        else:
            self.confirm_box.hide()
        blocker = review.blocker(self.confirm_edit.text())
        self.blocker.setText(blocker)
        self.blocker.setStyleSheet(f"color: {colors().muted.name()};")
        busy = self.service.applying
        self.apply_button.setEnabled(not blocker and not busy)
        count = len(review.ticked)
        self.apply_button.setText(f"Apply {plural(count, 'change')}" if count else "Apply")

    def apply(self) -> None:
        """Apply the ticked changes (when nothing blocks it)."""
        result, handle = self.result, self.handle
        if result is None or handle is None or result.review.blocker(self.confirm_edit.text()):
            return
        self.steps.clear()
        self.progress.setRange(0, 0)
        self.progress_label.setText("Starting…")
        self.progress_box.show()
        self.outcome_box.hide()
        started = self.service.apply(handle, result, confirmation=self.confirm_edit.text(),
                                     name=self.name_edit.text().strip() or DEFAULT_MIGRATION_NAME)
        if started:
            self.plan_view.set_interactive(False)
            self.refresh_button.setEnabled(False)
            self.confirm_edit.setEnabled(False)
            self._update_apply()

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress_label.setText(f"{done} of {plural(total, 'statement')} done · {message}")
        last = self.steps.item(self.steps.count() - 1) if self.steps.count() else None
        if last is None or last.text() != message:
            self.steps.addItem(QListWidgetItem(message))
            self.steps.scrollToBottom()

    def _finish_apply(self) -> None:
        self.progress_box.hide()
        self.plan_view.set_interactive(True)
        self.refresh_button.setEnabled(True)
        self.confirm_edit.setEnabled(True)

    def _applied(self, applied: AppliedMigration) -> None:
        self._finish_apply()
        palette = colors()
        self.outcome_box.setStyleSheet(
            f"#outcomeBox {{ border: 1px solid {palette.ok.name()}; border-radius: 6px; }}")
        self.outcome_title.setText("Applied")
        self.outcome_title.setStyleSheet(f"font-size: 16px; font-weight: 600; color: {palette.ok.name()};")
        where = f" Written to {applied.path}." if applied.path else ""
        notice = f"\n{applied.name_notice}" if applied.name_notice else ""
        self.outcome_text.setText(
            f"Migration {applied.version}_{applied.name}: {plural(applied.statements_count, 'statement')} ran,"
            f" recorded in supabase_migrations.schema_migrations.{where}{notice}\n\n"
            f"What changed: {changes_in_words(applied.change_titles)}.")
        self.changed_list.clear()
        self.changed_list.addItems(list(applied.change_titles))
        self.changed_list.setVisible(bool(applied.change_titles))
        self.failed_statement.hide()
        self.outcome_hint.setText("")
        self.open_tables_button.show()
        self.outcome_box.show()
        self.result = None
        self.plan_view.set_interactive(False)
        self.apply_button.setEnabled(False)
        self.confirm_box.hide()
        self.blocker.setText("Applied. Make the plan again to review further changes.")
        self.applied.emit(applied)

    def _apply_failed(self, error: BaseException) -> None:
        self._finish_apply()
        self.changed_list.hide()
        palette = colors()
        self.outcome_box.setStyleSheet(
            f"#outcomeBox {{ border: 1px solid {palette.danger.name()}; border-radius: 6px; }}")
        self.outcome_title.setStyleSheet(f"font-size: 16px; font-weight: 600; color: {palette.danger.name()};")
        self.open_tables_button.hide()
        if isinstance(error, ApplyError):
            self.outcome_title.setText({
                Outcome.NOTHING_CHANGED: "Nothing was changed",
                Outcome.PARTLY_APPLIED: "Applied, but a later step failed",
                Outcome.UNKNOWN: "The outcome is not known",
            }[error.outcome])
            first = error.message.split("\nThe statement was:", 1)[0]
            self.outcome_text.setText(first if not error.server_message or error.server_message in first
                                      else f"{first}\nThe server said: {error.server_message}")
            self.failed_statement.setVisible(bool(error.statement))
            self.failed_statement.show_code(error.statement)
            self.outcome_hint.setText(error.hint)
        else:
            # raised before the database was touched (a precondition), or our bug
            known = isinstance(error, StudioError)
            self.outcome_title.setText("Nothing was changed" if known else "Something went wrong inside Studio")
            self.outcome_text.setText(describe_failure(error))
            self.failed_statement.hide()
            self.outcome_hint.setText("")
        self.outcome_box.show()
        self._update_apply()
        self.apply_failed.emit(error)
