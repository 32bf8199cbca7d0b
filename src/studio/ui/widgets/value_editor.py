"""A side editor for one long value: JSON (checked and pretty-printed) or long text, with NULL distinct.

Knows nothing of databases: it is given a title, the text (None for NULL) and whether it is JSON, and
reports the value the user applies.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui.theme import colors
from studio.ui.widgets.code_view import CodeHighlighter, monospace_font


class ValueEditor(QWidget):
    """Edit (or just read) one value.

    Signals:
        applied(object): the user applied the value: the text, or None for NULL.
        closed(): the user closed the editor.
    """

    applied = Signal(object)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._json = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600;")
        self.title.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setFont(monospace_font())
        self.text.setAccessibleName("Value")
        self.highlighter = CodeHighlighter(self.text.document(), "")
        self.null = QCheckBox("NULL (no value)")
        self.null.toggled.connect(self._null_toggled)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {colors().danger.name()};")
        self.problem.hide()
        buttons = QHBoxLayout()
        self.format_button = QPushButton("Format JSON")
        self.format_button.clicked.connect(self.format_json)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        close = QPushButton("Close")
        close.clicked.connect(self._close)
        buttons.addWidget(self.format_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.apply_button)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.null)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)

    def show_value(self, title: str, value: str | None, *, is_json: bool, editable: bool) -> None:
        """Show `value` (None: NULL); JSON is pretty-printed and checked before it is applied."""
        self._json = is_json
        self.title.setText(title)
        self.highlighter.set_language("json" if is_json else "")
        self.null.blockSignals(True)
        self.null.setChecked(value is None)
        self.null.blockSignals(False)
        text = value or ""
        if is_json and value is not None:
            try:
                text = json.dumps(json.loads(value), indent=2, ensure_ascii=False)
            except ValueError:
                text = value
        self.text.setPlainText(text)
        self.text.setEnabled(value is not None)
        self.text.setReadOnly(not editable)
        self.null.setEnabled(editable)
        self.apply_button.setVisible(editable)
        self.format_button.setVisible(is_json and editable)
        self.problem.hide()
        self.show()

    @property
    def value(self) -> str | None:
        """The value as edited (None when NULL is ticked)."""
        return None if self.null.isChecked() else self.text.toPlainText()

    def format_json(self) -> bool:
        """Pretty-print the JSON; False (with the problem shown) when it does not parse."""
        try:
            parsed = json.loads(self.text.toPlainText())
        except ValueError as exc:
            self.problem.setText(f"This is not valid JSON: {exc}")
            self.problem.show()
            return False
        self.text.setPlainText(json.dumps(parsed, indent=2, ensure_ascii=False))
        self.problem.hide()
        return True

    def apply(self) -> None:
        """Report the value (signal `applied`); invalid JSON is refused with the reason shown."""
        value = self.value
        if self._json and value is not None:
            try:
                json.loads(value)
            except ValueError as exc:
                self.problem.setText(f"This is not valid JSON: {exc}")
                self.problem.show()
                return
        self.problem.hide()
        self.applied.emit(value)

    def _null_toggled(self, checked: bool) -> None:
        self.text.setEnabled(not checked)

    def _close(self) -> None:
        self.hide()
        self.closed.emit()
