"""Two versions of some SQL side by side, lines aligned, with changed lines and the changed words in them marked."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from studio.core.words import plural
from studio.ui.theme import colors, theme_signals
from studio.ui.widgets.code_view import CodeView

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


class RowKind(StrEnum):
    """How one aligned row differs between the two sides."""

    SAME = "same"
    REMOVED = "removed"  # only on the left
    ADDED = "added"  # only on the right
    CHANGED = "changed"  # on both sides, different


@dataclass(frozen=True)
class DiffRow:
    """One aligned row: the left and right line (None where that side has a gap) and how they differ.

    `left_words` / `right_words` are (start, end) character ranges that differ within a changed row.
    """

    kind: RowKind
    left: str | None
    right: str | None
    left_words: tuple[tuple[int, int], ...] = ()
    right_words: tuple[tuple[int, int], ...] = ()


def _word_ranges(old: str, new: str) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """Character ranges of the tokens that differ between two lines."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    starts_a = [0]
    for token in a:
        starts_a.append(starts_a[-1] + len(token))
    starts_b = [0]
    for token in b:
        starts_b.append(starts_b[-1] + len(token))
    left: list[tuple[int, int]] = []
    right: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            left.append((starts_a[i1], starts_a[i2]))
        if j2 > j1:
            right.append((starts_b[j1], starts_b[j2]))
    return tuple(left), tuple(right)


def align(left: str, right: str) -> list[DiffRow]:
    """The two texts as aligned rows: equal lines side by side, gaps where one side has no line."""
    a, b = left.splitlines(), right.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows.extend(DiffRow(RowKind.SAME, a[i], b[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        old, new = a[i1:i2], b[j1:j2]
        paired = min(len(old), len(new)) if tag == "replace" else 0
        for k in range(paired):
            words = _word_ranges(old[k], new[k])
            rows.append(DiffRow(RowKind.CHANGED, old[k], new[k], words[0], words[1]))
        rows.extend(DiffRow(RowKind.REMOVED, line, None) for line in old[paired:])
        rows.extend(DiffRow(RowKind.ADDED, None, line) for line in new[paired:])
    return rows


def _stronger(color: QColor) -> QColor:
    return color.lighter(150) if colors().dark else color.darker(112)


class DdlDiff(QWidget):
    """Live DDL on the left, desired DDL on the right; the two views scroll together.

    Removed lines are marked on the left, added ones on the right, changed lines on both sides with the
    differing words in a stronger colour. Gaps keep the rows aligned. A side that does not exist shows a
    short note instead of code.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel()
        self.summary.setObjectName("ddlDiffSummary")
        layout.addWidget(self.summary)
        sides = QHBoxLayout()
        sides.setSpacing(6)
        self.left_title = QLabel("Live database")
        self.right_title = QLabel("Desired schema")
        self.left = CodeView()
        self.right = CodeView()
        for title, view in ((self.left_title, self.left), (self.right_title, self.right)):
            column = QVBoxLayout()
            title.setStyleSheet("font-weight: 600;")
            column.addWidget(title)
            column.addWidget(view, 1)
            sides.addLayout(column, 1)
        layout.addLayout(sides, 1)
        self.rows: list[DiffRow] = []
        self._syncing = False
        theme_signals().changed.connect(self._remark)
        for one, other in ((self.left, self.right), (self.right, self.left)):
            one.verticalScrollBar().valueChanged.connect(lambda v, o=other: self._follow(o, v, vertical=True))
            one.horizontalScrollBar().valueChanged.connect(lambda v, o=other: self._follow(o, v, vertical=False))

    def _follow(self, other: QPlainTextEdit, value: int, *, vertical: bool) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            bar = other.verticalScrollBar() if vertical else other.horizontalScrollBar()
            bar.setValue(value)
        finally:
            self._syncing = False

    def clear(self) -> None:
        """Show nothing."""
        self.show_ddl("", "")
        self.summary.setText("")

    def show_ddl(self, live: str, desired: str, *, live_title: str = "Live database",
                 desired_title: str = "Desired schema", live_missing: str = "Not in the live database.",
                 desired_missing: str = "Not in the desired schema: it will be dropped.") -> None:
        """Show two versions; an empty side shows its `*_missing` note."""
        self.left_title.setText(live_title)
        self.right_title.setText(desired_title)
        self.rows = align(live, desired)
        left_lines = ["" if r.left is None else r.left for r in self.rows]
        right_lines = ["" if r.right is None else r.right for r in self.rows]
        if not live.strip() and desired.strip():
            left_lines[0] = f"-- {live_missing}"
        if not desired.strip() and live.strip():
            right_lines[0] = f"-- {desired_missing}"
        self.left.show_code("\n".join(left_lines))
        self.right.show_code("\n".join(right_lines))
        self._mark(self.left, left=True)
        self._mark(self.right, left=False)
        removed = sum(1 for r in self.rows if r.kind is RowKind.REMOVED)
        added = sum(1 for r in self.rows if r.kind is RowKind.ADDED)
        changed = sum(1 for r in self.rows if r.kind is RowKind.CHANGED)
        if not live.strip() and not desired.strip():
            self.summary.setText("")
        elif not (removed or added or changed):
            self.summary.setText("The definitions read the same: the change is in something they do not show.")
        else:
            parts = [f"{plural(n, 'line')} {word}" for n, word in ((removed, "removed"), (changed, "changed"),
                                                                  (added, "added")) if n]
            self.summary.setText(", ".join(parts))

    def marked(self, kind: RowKind) -> list[tuple[str | None, str | None]]:
        """The (left, right) lines of the rows marked `kind`: what a person sees highlighted."""
        return [(r.left, r.right) for r in self.rows if r.kind is kind]

    def _remark(self) -> None:
        """Mark the lines again in the new theme's colours."""
        self._mark(self.left, left=True)
        self._mark(self.right, left=False)

    def _mark(self, view: CodeView, *, left: bool) -> None:
        palette = colors()
        gap = QColor(palette.muted)
        gap.setAlpha(90)
        selections: list[QTextEdit.ExtraSelection] = []
        document = view.document()
        for number, row in enumerate(self.rows):
            text = row.left if left else row.right
            if text is None:
                background: QColor | None = gap
            elif row.kind is RowKind.CHANGED:
                background = palette.changed
            elif row.kind is RowKind.REMOVED:
                background = palette.removed
            elif row.kind is RowKind.ADDED:
                background = palette.added
            else:
                background = None
            if background is None:
                continue
            block = document.findBlockByNumber(number)
            line = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            if text is None:
                fmt.setBackground(QBrush(background, Qt.BrushStyle.BDiagPattern))
            else:
                fmt.setBackground(background)
            fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
            line.format = fmt
            cursor = QTextCursor(block)
            line.cursor = cursor
            selections.append(line)
            words = row.left_words if left else row.right_words
            for start, end in words:
                word = QTextEdit.ExtraSelection()
                word_format = QTextCharFormat()
                word_format.setBackground(_stronger(background))
                word.format = word_format
                word_cursor = QTextCursor(block)
                word_cursor.setPosition(block.position() + start)
                word_cursor.setPosition(block.position() + end, QTextCursor.MoveMode.KeepAnchor)
                word.cursor = word_cursor
                selections.append(word)
        view.setExtraSelections(selections)
