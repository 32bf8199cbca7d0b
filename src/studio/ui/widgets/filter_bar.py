"""A filter builder: rows of (column, operator, value), combined with AND.

Knows nothing of databases: it is given column names and operator labels (and which operators take no
value), and reports the conditions the user built as `(column, operator, value)` tuples.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

Condition = tuple[str, str, str]


class FilterRow(QWidget):
    """One condition: a column picker, an operator picker, a value field and a remove button.

    Signals:
        remove_requested(): the user clicked ✕.
        submitted(): the user pressed Enter in the value field.
    """

    remove_requested = Signal()
    submitted = Signal()

    def __init__(self, columns: list[str], operators: list[str], valueless: set[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._valueless = valueless
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.column = QComboBox()
        self.column.addItems(columns)
        self.column.setAccessibleName("Filter column")
        self.operator = QComboBox()
        self.operator.addItems(operators)
        self.operator.setAccessibleName("Filter operator")
        self.value = QLineEdit()
        self.value.setPlaceholderText("value")
        self.value.setAccessibleName("Filter value")
        self.value.returnPressed.connect(self.submitted)
        remove = QToolButton()
        remove.setText("✕")
        remove.setToolTip("Remove this condition")
        remove.clicked.connect(self.remove_requested)
        self.operator.currentTextChanged.connect(self._operator_changed)
        layout.addWidget(self.column)
        layout.addWidget(self.operator)
        layout.addWidget(self.value, 1)
        layout.addWidget(remove)

    def _operator_changed(self, text: str) -> None:
        self.value.setEnabled(text not in self._valueless)

    def condition(self) -> Condition:
        """(column, operator, value) as chosen."""
        return self.column.currentText(), self.operator.currentText(), self.value.text()

    def set_condition(self, column: str, operator: str, value: str = "") -> None:
        """Fill the row."""
        self.column.setCurrentText(column)
        self.operator.setCurrentText(operator)
        self.value.setText(value)


class FilterBar(QWidget):
    """Rows of conditions with "Add condition", "Apply" and "Clear".

    Signals:
        applied(object): the user applied the conditions, a `list[(column, operator, value)]`.
    """

    applied = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns: list[str] = []
        self._operators: list[str] = []
        self._valueless: set[str] = set()
        self.rows: list[FilterRow] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setSpacing(4)
        outer.addLayout(self._rows_layout)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add condition")
        self.add_button.clicked.connect(lambda: self.add_condition())
        self.apply_button = QPushButton("Apply filters")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.apply_button)
        outer.addLayout(buttons)

    def set_choices(self, columns: list[str], operators: list[str], valueless: Iterable[str]) -> None:
        """The columns and operators offered; existing conditions are removed."""
        self._columns, self._operators, self._valueless = list(columns), list(operators), set(valueless)
        for row in list(self.rows):
            self._remove(row)

    def add_condition(self, column: str | None = None, operator: str | None = None, value: str = "") -> FilterRow:
        """Add a condition row (filled when arguments are given) and show the bar."""
        row = FilterRow(self._columns, self._operators, self._valueless)
        if column is not None:
            row.set_condition(column, operator or self._operators[0], value)
        row.remove_requested.connect(lambda: self._remove(row, apply=True))
        row.submitted.connect(self.apply)
        self.rows.append(row)
        self._rows_layout.addWidget(row)
        self.show()
        row.value.setFocus()
        return row

    def conditions(self) -> list[Condition]:
        """Every condition, in order."""
        return [row.condition() for row in self.rows]

    def apply(self) -> None:
        """Report the conditions (signal `applied`)."""
        self.applied.emit(self.conditions())

    def clear(self) -> None:
        """Remove every condition, report that, and hide the bar."""
        for row in list(self.rows):
            self._remove(row)
        self.applied.emit([])
        self.hide()

    def _remove(self, row: FilterRow, *, apply: bool = False) -> None:
        self.rows.remove(row)
        self._rows_layout.removeWidget(row)
        row.deleteLater()
        if apply:
            self.apply()
            if not self.rows:
                self.hide()
