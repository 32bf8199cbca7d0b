"""The browser's "Offline edits" panel: edits saved on this computer, and the ones that need a decision.

Left, every unsettled edit of the project (pending, conflict, rejected), newest problems first, each with its
badge. Right, the one picked:

* a **conflict** side by side - for each column the value you saw (original), yours, and the server's now
  (theirs) - with a fourth, editable column "Merged" (yours to start with). Keep mine sends yours again,
  checked against the server's values; Keep theirs drops yours; Merge sends the merged values.
* a **rejected** edit with the server's reason and your values, editable: Retry sends them again (as edited),
  Dismiss drops the edit.
* a **pending** edit: what waits to be sent.

The panel only shows and asks: decisions go to the `BrowseService` (which records them in the outbox and
wakes the sync).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.offline import EditKind, EditState, OutboxCounts, OutboxEdit
from studio.core.words import plural
from studio.services.browse import BrowseService
from studio.ui.models.rows import badge_icon
from studio.ui.theme import colors

__all__ = ["NULL_TEXT", "OfflineEditsPanel", "counts_text"]

#: How NULL is written in the panel's value tables (and read back from the editable column).
NULL_TEXT = "NULL"
_SEQ_ROLE = Qt.ItemDataRole.UserRole
_STATE_WORDS = {EditState.PENDING: "Waiting", EditState.CONFLICT: "Conflict", EditState.REJECTED: "Rejected"}


def counts_text(counts: OutboxCounts) -> str:
    """The outbox's counts in words: "2 waiting to be sent · 1 conflict · 1 rejected" ("" when none)."""
    parts = []
    if counts.pending:
        parts.append(f"{counts.pending} waiting to be sent")
    if counts.conflict:
        parts.append(plural(counts.conflict, "conflict"))
    if counts.rejected:
        parts.append(f"{counts.rejected} rejected")
    return " · ".join(parts)


def _shown(value: str | None) -> str:
    return NULL_TEXT if value is None else value


def _read(text: str) -> str | None:
    return None if text == NULL_TEXT else text


class OfflineEditsPanel(QWidget):
    """The list of unsettled offline edits and the decision view of the one picked (see the module's notes).

    Signals:
        decided(int): the user resolved, retried or dismissed the edit numbered so (its `seq`).
        close_requested(): the user asked to hide the panel.
    """

    decided = Signal(int)
    close_requested = Signal()

    def __init__(self, service: BrowseService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.edit: OutboxEdit | None = None
        self._edits: list[OutboxEdit] = []

        self.heading = QLabel("Offline edits")
        bold = QFont(self.heading.font())
        bold.setBold(True)
        self.heading.setFont(bold)
        self.summary = QLabel()
        self.send_button = QPushButton("Send now")
        self.send_button.setToolTip("Try to send the waiting edits now (Studio also tries by itself)")
        self.hide_button = QPushButton("Hide")
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addWidget(self.summary, 1)
        top.addWidget(self.send_button)
        top.addWidget(self.hide_button)

        self.list = QListWidget()
        self.list.setAccessibleName("Offline edits")
        self.list.setMinimumWidth(260)
        self.list.setWordWrap(True)  # the whole description, on as many lines as it takes
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(2)

        self.title = QLabel()
        self.title.setFont(bold)
        self.title.setWordWrap(True)
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        self.explain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.values = QTableWidget()
        self.values.setAccessibleName("Values of the edit")
        self.values.verticalHeader().hide()
        self.values.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.values.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                    | QAbstractItemView.EditTrigger.EditKeyPressed
                                    | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.values.horizontalHeader().setStretchLastSection(True)
        self.keep_mine_button = QPushButton("Keep mine")
        self.keep_mine_button.setToolTip("Send your values again, checked against the server's values now")
        self.keep_theirs_button = QPushButton("Keep theirs")
        self.keep_theirs_button.setToolTip("Drop your change: the server's values stay")
        self.merge_button = QPushButton("Merge")
        self.merge_button.setToolTip("Send the values of the “Merged” column (double-click a value to edit it)")
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Send your values again, as edited in the “Yours” column")
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Drop this edit: it is not sent")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.keep_theirs_button, self.merge_button, self.keep_mine_button, self.dismiss_button,
                       self.retry_button):
            buttons.addWidget(button)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(6, 0, 0, 0)
        detail_layout.addWidget(self.title)
        detail_layout.addWidget(self.explain)
        detail_layout.addWidget(self.values, 1)
        detail_layout.addLayout(buttons)

        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(detail)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)

        self.list.currentItemChanged.connect(lambda item, _previous: self._picked(item))
        self.send_button.clicked.connect(self.service.sync_now)
        self.hide_button.clicked.connect(self.close_requested.emit)
        self.keep_mine_button.clicked.connect(self.keep_mine)
        self.keep_theirs_button.clicked.connect(self.keep_theirs)
        self.merge_button.clicked.connect(self.merge)
        self.retry_button.clicked.connect(self.retry)
        self.dismiss_button.clicked.connect(self.dismiss)
        self.reload()

    def changeEvent(self, event: QEvent) -> None:
        """Follow a theme switch: badges and colours are drawn again from the new theme."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) and hasattr(
                self, "list"):
            self.reload()

    # -- the list ----------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the unsettled edits again (the one picked stays picked while it is listed)."""
        keep = self.edit.seq if self.edit is not None else None
        edits = self.service.outbox_edits()
        # Problems first (conflicts, then rejections), then what waits, each oldest first.
        order = {EditState.CONFLICT: 0, EditState.REJECTED: 1, EditState.PENDING: 2}
        self._edits = sorted(edits, key=lambda edit: (order.get(edit.state, 3), edit.seq))
        self.summary.setText(counts_text(self.service.outbox_counts()) or "Nothing waits: every edit was sent.")
        palette = colors()
        self.list.blockSignals(True)
        self.list.clear()
        picked: QListWidgetItem | None = None
        for edit in self._edits:
            item = QListWidgetItem(badge_icon(edit.state, palette), f"{_STATE_WORDS[edit.state]} · {edit.description}")
            item.setData(_SEQ_ROLE, edit.seq)
            item.setToolTip(edit.message or edit.description)
            self.list.addItem(item)
            if edit.seq == keep:
                picked = item
        if picked is None and self.list.count():
            first = self.list.item(0)
            if first is not None and self._edits[0].state is not EditState.PENDING:
                picked = first
        self.list.blockSignals(False)
        if picked is not None:
            self.list.setCurrentItem(picked)
            self._picked(picked)
        else:
            self.list.setCurrentRow(-1)
            self._show(None)

    def edits(self) -> list[OutboxEdit]:
        """The edits listed, in list order."""
        return list(self._edits)

    def pick(self, seq: int) -> bool:
        """Show the edit numbered `seq` (False when it is not listed)."""
        for row, edit in enumerate(self._edits):
            if edit.seq == seq:
                self.list.setCurrentRow(row)
                return True
        return False

    def _picked(self, item: QListWidgetItem | None) -> None:
        seq = item.data(_SEQ_ROLE) if item is not None else None
        self._show(next((edit for edit in self._edits if edit.seq == seq), None))

    # -- the edit picked ---------------------------------------------------------------------------

    def _show(self, edit: OutboxEdit | None) -> None:
        self.edit = edit
        for button in (self.keep_mine_button, self.keep_theirs_button, self.merge_button, self.retry_button,
                       self.dismiss_button):
            button.hide()
        self.values.clear()
        self.values.setRowCount(0)
        self.values.setColumnCount(0)
        palette = colors()
        if edit is None:
            self.title.setText("")
            self.explain.setStyleSheet("")
            self.explain.setText("Pick an edit on the left to see it." if self._edits else
                                 "Edits saved on this computer while the server could not be reached are listed"
                                 " here until they are sent.")
            self.values.hide()
            return
        self.values.show()
        self.title.setText(f"{edit.description} (as {edit.view_as.description})")
        names = list(dict.fromkeys([*edit.before, *edit.after, *(edit.theirs or {})]))
        if edit.state is EditState.CONFLICT:
            self.explain.setStyleSheet(f"color: {palette.warning.name()};")
            if edit.theirs is None:
                self.explain.setText("The row was deleted on the server after you read it, so your change has"
                                     " nothing to apply to. Keep theirs to drop your change (add the row again as"
                                     " a new row if you still need it).")
            else:
                self.explain.setText("Someone changed this row on the server after you read it. Compare the"
                                     " values, then keep yours, keep theirs, or edit the “Merged” column"
                                     " (double-click a value) and merge.")
            theirs = edit.theirs or {}
            headers = ["Column", "Original (what you saw)", "Yours", "Theirs (on the server now)"]
            can_merge = edit.kind is EditKind.UPDATE and edit.theirs is not None
            if can_merge:
                headers.append("Merged (editable)")
            self._table(headers, len(names))
            for row, name in enumerate(names):
                mine = edit.after.get(name, edit.before.get(name)) if name in edit.after else edit.before.get(name)
                cells = [name, _shown(edit.before.get(name)) if name in edit.before else "",
                         _shown(mine) if name in edit.after else "",
                         _shown(theirs.get(name)) if edit.theirs is not None else "(row deleted)"]
                if can_merge:
                    cells.append(_shown(edit.after[name]) if name in edit.after else "")
                self._row(row, cells, editable_column=4 if can_merge and name in edit.after else None)
                if name in edit.after and edit.theirs is not None and theirs.get(name) != edit.before.get(name):
                    for column in (2, 3):  # both sides changed this column
                        cell = self.values.item(row, column)
                        if cell is not None:
                            cell.setBackground(palette.changed)
            self.keep_theirs_button.show()
            self.keep_mine_button.show()
            self.keep_mine_button.setEnabled(edit.theirs is not None)
            self.merge_button.setVisible(can_merge)
        elif edit.state is EditState.REJECTED:
            self.explain.setStyleSheet(f"color: {palette.danger.name()};")
            code = f" ({edit.sqlstate})" if edit.sqlstate else ""
            self.explain.setText(f"The server refused this edit{code}: {edit.message or 'no reason given'}\n"
                                 "Correct the values in the “Yours” column and retry, or dismiss the edit.")
            self._table(["Column", "Before", "Yours"], len(names))
            for row, name in enumerate(names):
                self._row(row, [name, _shown(edit.before.get(name)) if name in edit.before else "",
                                _shown(edit.after.get(name)) if name in edit.after else ""],
                          editable_column=2 if name in edit.after else None)
            self.retry_button.show()
            self.dismiss_button.show()
        else:
            self.explain.setStyleSheet(f"color: {palette.muted.name()};")
            self.explain.setText("Saved on this computer - will be sent when the connection is back."
                                 + (f"\nLast try: {edit.message}" if edit.message else ""))
            self._table(["Column", "Before", "Yours"], len(names))
            for row, name in enumerate(names):
                self._row(row, [name, _shown(edit.before.get(name)) if name in edit.before else "",
                                _shown(edit.after.get(name)) if name in edit.after else ""], editable_column=None)
        self.values.resizeColumnsToContents()
        header = self.values.horizontalHeader()
        for column in range(self.values.columnCount()):
            header.resizeSection(column, min(max(header.sectionSize(column), 90), 260))
        header.setSectionResizeMode(self.values.columnCount() - 1, QHeaderView.ResizeMode.Stretch)

    def _table(self, headers: list[str], rows: int) -> None:
        self.values.setColumnCount(len(headers))
        self.values.setHorizontalHeaderLabels(headers)
        self.values.setRowCount(rows)

    def _row(self, row: int, cells: list[str], *, editable_column: int | None) -> None:
        palette = colors()
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            if column == editable_column:
                flags |= Qt.ItemFlag.ItemIsEditable
                item.setToolTip(f"Editable: type {NULL_TEXT} for no value")
            elif column > 0:
                item.setForeground(palette.muted if text in ("", NULL_TEXT) else self.palette().text().color())
            if text == NULL_TEXT:
                item.setForeground(palette.null_text)
            item.setFlags(flags)
            self.values.setItem(row, column, item)

    def _column_values(self, column: int) -> dict[str, str | None]:
        """Column name -> value of the editable cells of `column`."""
        values: dict[str, str | None] = {}
        for row in range(self.values.rowCount()):
            name, cell = self.values.item(row, 0), self.values.item(row, column)
            if name is not None and cell is not None and cell.flags() & Qt.ItemFlag.ItemIsEditable:
                values[name.text()] = _read(cell.text())
        return values

    def set_value(self, column_name: str, value: str | None) -> bool:
        """Type `value` into the editable cell of `column_name` (the merged or your value); False when none."""
        for row in range(self.values.rowCount()):
            name = self.values.item(row, 0)
            if name is None or name.text() != column_name:
                continue
            for column in range(1, self.values.columnCount()):
                cell = self.values.item(row, column)
                if cell is not None and cell.flags() & Qt.ItemFlag.ItemIsEditable:
                    cell.setText(_shown(value))
                    return True
        return False

    # -- decisions ---------------------------------------------------------------------------------

    def _done(self, edit: OutboxEdit | None, seq: int) -> None:
        if edit is not None:
            self.decided.emit(seq)
        self.reload()

    def keep_mine(self) -> None:
        """Resolve the conflict shown with your values."""
        if self.edit is not None:
            seq = self.edit.seq
            self._done(self.service.keep_mine(seq), seq)

    def keep_theirs(self) -> None:
        """Resolve the conflict shown with the server's values."""
        if self.edit is not None:
            seq = self.edit.seq
            self._done(self.service.keep_theirs(seq), seq)

    def merge(self) -> None:
        """Resolve the conflict shown with the "Merged" column's values."""
        if self.edit is not None:
            seq = self.edit.seq
            self._done(self.service.merge(seq, self._column_values(4)), seq)

    def retry(self) -> None:
        """Send the rejected edit shown again, with the values of the "Yours" column."""
        if self.edit is not None:
            seq = self.edit.seq
            self._done(self.service.retry(seq, self._column_values(2)), seq)

    def dismiss(self) -> None:
        """Drop the rejected edit shown."""
        if self.edit is not None:
            seq = self.edit.seq
            self._done(self.service.dismiss(seq), seq)
