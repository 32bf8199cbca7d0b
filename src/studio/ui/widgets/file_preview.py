"""A preview of generated files: every file in a tree by folder, the chosen one highlighted on the right.

Each file can carry a status ("new", "changed", "same": how it compares with the folder it will be written
to), so the user sees what writing will do before it happens.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.words import plural
from studio.ui.theme import colors
from studio.ui.widgets.code_view import CodeView, language_of

_PATH = Qt.ItemDataRole.UserRole
_STATUS_WORDS = {"new": "new", "changed": "changed", "same": "unchanged"}
#: Folders whose files are shown together, in this order, under these titles.
_GROUP_TITLES = {
    "supabase/schemas/": "Database schema (supabase/schemas)",
    "supabase/": "Supabase project (supabase)",
    "clients/typescript/": "TypeScript client (clients/typescript)",
    "clients/dart/": "Dart / Flutter client (clients/dart)",
    "clients/python/": "Python client (clients/python)",
}


def _group_of(path: str) -> tuple[str, str]:
    """The group a file is shown in, and its path within it."""
    for root in _GROUP_TITLES:
        if path.startswith(root):
            return root, path[len(root):]
    root, _, rest = path.rpartition("/")
    return (root + "/", rest) if root else ("", path)


def _order(path: str) -> tuple[int, int, str]:
    """Groups in their order; the tables first in theirs (they are applied before the policies)."""
    roots = list(_GROUP_TITLES)
    root, _ = _group_of(path)
    return (roots.index(root) if root in roots else len(roots), 0 if path.endswith("_tables.sql") else 1, path)


class FilePreview(QWidget):
    """Generated files and the text of the one selected.

    Signals:
        file_selected(str): the user chose this file (its relative path).
    """

    file_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._files: dict[str, str] = {}
        self._statuses: dict[str, str] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._shown = ""
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Generated files")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["File", "On disk"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.path_label = QLabel()
        self.path_label.setTextFormat(Qt.TextFormat.PlainText)
        self.code = CodeView()
        self.code.setAccessibleName("File contents")
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.path_label)
        right_layout.addWidget(self.code, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.tree)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        self.stack = QStackedWidget()
        self.stack.addWidget(splitter)
        self.stack.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        self.tree.currentItemChanged.connect(self._on_current)
        self.show_message("The files appear here once there is a data model.")

    def set_files(self, files: Mapping[str, str], statuses: Mapping[str, str] | None = None) -> None:
        """Show `files` (relative path -> text); the file shown stays shown when it is still there."""
        keep = self.selected_path()
        self._files = dict(files)
        self._statuses = {k: str(v) for k, v in (statuses or {}).items()}
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            self._items.clear()
            groups: dict[str, QTreeWidgetItem] = {}
            for path in sorted(self._files, key=_order):
                root, rest = _group_of(path)
                group = groups.get(root)
                if group is None and root:
                    group = QTreeWidgetItem([_GROUP_TITLES.get(root, root)])
                    group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                    group.setToolTip(0, root)
                    self.tree.addTopLevelItem(group)
                    groups[root] = group
                status = self._statuses.get(path, "")
                item = QTreeWidgetItem([rest, _STATUS_WORDS.get(status, status)])
                item.setData(0, _PATH, path)
                item.setToolTip(0, path)
                if status in ("new", "changed"):
                    item.setForeground(1, QBrush(colors().ok if status == "new" else colors().warning))
                else:
                    item.setForeground(1, QBrush(colors().muted))
                if group is None:
                    self.tree.addTopLevelItem(item)
                else:
                    group.addChild(item)
                self._items[path] = item
            self.tree.expandAll()
        finally:
            self.tree.blockSignals(False)
        self.stack.setCurrentIndex(0)
        counts = {s: sum(1 for v in self._statuses.values() if v == s) for s in ("new", "changed")}
        pieces = [plural(len(self._files), "file")]
        if self._statuses:
            pieces += [f"{counts['new']} new", f"{counts['changed']} changed"]
        self.summary.setText(" · ".join(pieces))
        if not self.select(keep) and self._files:
            self.select(min(self._files, key=_order))

    def show_message(self, text: str) -> None:
        """Show `text` instead of files (no files to show, and why)."""
        self._files = {}
        self._statuses = {}
        self._items.clear()
        self.tree.clear()
        self.code.show_code("")
        self._shown = ""
        self.message.setText(text)
        self.summary.setText("")
        self.stack.setCurrentIndex(1)

    def message_text(self) -> str:
        """The message shown instead of files ("" when files are shown)."""
        return self.message.text() if self.stack.currentIndex() == 1 else ""

    def paths(self) -> list[str]:
        """Every file shown, sorted."""
        return sorted(self._files)

    def status_of(self, path: str) -> str:
        """The status shown for `path` ("" when none)."""
        return self._statuses.get(path, "")

    def text_of(self, path: str) -> str:
        """The text of `path` as previewed."""
        return self._files[path]

    def selected_path(self) -> str:
        """The file shown on the right ("" when none)."""
        item = self.tree.currentItem()
        return str(item.data(0, _PATH) or "") if item is not None else ""

    def select(self, path: str) -> bool:
        """Show `path`; False when it is not among the files."""
        item = self._items.get(path)
        if item is None:
            return False
        if self.tree.currentItem() is item:
            self._show(path)  # same file, maybe new text
        else:
            self.tree.setCurrentItem(item)
        return True

    def _on_current(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        path = str(item.data(0, _PATH) or "") if item is not None else ""
        if path:
            self._show(path)
            self.file_selected.emit(path)

    def _show(self, path: str) -> None:
        status = self._statuses.get(path, "")
        said = f"  ({_STATUS_WORDS.get(status, status)})" if status else ""
        self.path_label.setText(path + said)
        text = self._files[path]
        if path != self._shown or self.code.toPlainText() != text:
            # The same file with new text keeps its place, so an edit's effect can be watched.
            scroll = self.code.verticalScrollBar().value() if path == self._shown else 0
            self.code.show_code(text, language_of(path))
            self.code.verticalScrollBar().setValue(scroll)
            self._shown = path
