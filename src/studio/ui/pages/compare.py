"""The admin's compare tool: the differences between two schemas, each a .sql file, a database or the project.

What it shows is what `studio diff --from A --to B` prints: the changes that turn the first schema into
the second, grouped by table, with hazards (rows at risk are counted when the first side is a database),
each change's two definitions side by side, and the SQL. Nothing is applied from here: ticks choose what
the SQL shows, to copy or save.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.migrations.files import write_atomic
from studio.services.deploy import CompareResult, DeployService, Source, SourceKind
from studio.services.jobs import JobRunner
from studio.services.projects import ProjectHandle
from studio.ui.pages.review import PlanView
from studio.ui.theme import colors, heading_label

_KIND_LABELS = [(SourceKind.FILE, "SQL file"), (SourceKind.DATABASE, "Database"),
                (SourceKind.PROJECT, "The open project")]
_PLACEHOLDERS = {
    SourceKind.FILE: "Path of a .sql file",
    SourceKind.DATABASE: "postgresql://user:password@host:5432/postgres",
    SourceKind.PROJECT: "",
}


class SourcePicker(QGroupBox):
    """One side of a comparison: what it is (file, database, the project) and where.

    Signals:
        changed(): the side was edited.
    """

    changed = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.kind = QComboBox()
        for kind, label in _KIND_LABELS:
            self.kind.addItem(label, kind.value)
        self.value = QLineEdit()
        self.value.setClearButtonEnabled(True)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        layout = QHBoxLayout(self)
        layout.addWidget(self.kind)
        layout.addWidget(self.value, 1)
        layout.addWidget(self.browse)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.value.textChanged.connect(self.changed)
        self._kind_changed()

    def source(self) -> Source:
        """The side as chosen."""
        return Source(SourceKind(self.kind.currentData()), self.value.text().strip())

    def set_source(self, kind: SourceKind | str, value: str = "") -> None:
        """Choose a side (as the person would)."""
        self.kind.setCurrentIndex(self.kind.findData(SourceKind(kind).value))
        self.value.setText(value)

    def _kind_changed(self) -> None:
        kind = SourceKind(self.kind.currentData())
        self.value.setPlaceholderText(_PLACEHOLDERS[kind])
        self.value.setEnabled(kind is not SourceKind.PROJECT)
        self.browse.setVisible(kind is SourceKind.FILE)
        # a connection string holds a password: keep it off the screen
        self.value.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit if kind is SourceKind.DATABASE
                               else QLineEdit.EchoMode.Normal)
        self.changed.emit()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a SQL file", self.value.text(), "SQL files (*.sql)")
        if path:
            self.value.setText(path)


class ComparePage(QWidget):
    """Compare two schemas and read the SQL that turns the first into the second.

    Signals:
        compared(object): a `CompareResult` is on screen.
        compare_failed(str): the comparison failed; the message shown.
    """

    compared = Signal(object)
    compare_failed = Signal(str)

    def __init__(self, runner: JobRunner, service: DeployService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.service = service or DeployService(runner, parent=self)
        self.handle: ProjectHandle | None = None
        self.result: CompareResult | None = None

        heading = heading_label("Compare schemas")
        explain = QLabel("See what turns one schema into another: .sql files, databases, or the open project."
                         " Nothing is changed from here.")
        explain.setWordWrap(True)
        self.source = SourcePicker("From: the schema to change")
        self.wanted = SourcePicker("To: the schema to match")
        self.swap_button = QPushButton("⇄ Swap")
        self.swap_button.setToolTip("Swap the two sides")
        self.swap_button.clicked.connect(self.swap)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setDefault(True)
        self.compare_button.clicked.connect(self.compare)
        sides = QHBoxLayout()
        sides.addWidget(self.source, 1)
        sides.addWidget(self.swap_button)
        sides.addWidget(self.wanted, 1)
        sides.addWidget(self.compare_button)

        self.status = QLabel()
        self.status.setObjectName("compareStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plan_view = PlanView(live_title="From", desired_title="To")
        self.copy_button = QPushButton("Copy SQL")
        self.copy_button.clicked.connect(self.copy_sql)
        self.save_button = QPushButton("Save SQL…")
        self.save_button.clicked.connect(self._save_dialog)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.copy_button)
        actions.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addWidget(heading)
        layout.addWidget(explain)
        layout.addLayout(sides)
        layout.addWidget(self.status)
        layout.addWidget(self.plan_view, 1)
        layout.addLayout(actions)

        self.source.changed.connect(self._update_buttons)
        self.wanted.changed.connect(self._update_buttons)
        self.service.compare_ready.connect(self.show_result)
        self.service.compare_failed.connect(self._failed)
        self._update_buttons()

    def set_project(self, handle: ProjectHandle | None) -> None:
        """The open project: one possible side, and the local server that builds .sql files."""
        self.handle = handle
        if handle is not None:
            self.service.server = handle.server
        self._update_buttons()

    def set_sources(self, source: tuple[SourceKind | str, str], wanted: tuple[SourceKind | str, str]) -> None:
        """Choose both sides: (kind, file path or connection string) each."""
        self.source.set_source(*source)
        self.wanted.set_source(*wanted)

    def swap(self) -> None:
        """Exchange the two sides."""
        first, second = self.source.source(), self.wanted.source()
        self.source.set_source(second.kind, second.value)
        self.wanted.set_source(first.kind, first.value)

    def _problem(self) -> str:
        for picker in (self.source, self.wanted):
            side = picker.source()
            if side.kind is SourceKind.PROJECT and self.handle is None:
                return "No project is open: choose a file or a database instead."
            if side.kind is not SourceKind.PROJECT and not side.value:
                return ""  # nothing typed yet: the button waits quietly
        return ""

    def _ready(self) -> bool:
        sides = (self.source.source(), self.wanted.source())
        return not self._problem() and all(s.kind is SourceKind.PROJECT or s.value for s in sides)

    def _update_buttons(self) -> None:
        self.compare_button.setEnabled(self._ready())
        has_sql = self.result is not None
        self.copy_button.setEnabled(has_sql)
        self.save_button.setEnabled(has_sql)
        problem = self._problem()
        if problem:
            self._say(problem, colors().warning.name())

    def _say(self, text: str, color: str) -> None:
        self.status.setStyleSheet(f"color: {color};")
        self.status.setText(text)

    def compare(self) -> None:
        """Compare the two sides."""
        if not self._ready():
            return
        self._say("Comparing…", colors().muted.name())
        self.compare_button.setEnabled(False)
        self.service.compare(self.source.source(), self.wanted.source(), self.handle)

    def _failed(self, message: str) -> None:
        self._say(f"The comparison failed. {message}", colors().danger.name())
        self.compare_button.setEnabled(self._ready())
        self.compare_failed.emit(message)

    def show_result(self, result: CompareResult) -> None:
        """Show a comparison."""
        self.result = result
        plan = result.review.plan
        self.plan_view.live_title = f"From: {result.source_label}"
        self.plan_view.desired_title = f"To: {result.wanted_label}"
        self.plan_view.live_missing = f"Not in {result.source_label}."
        self.plan_view.desired_missing = f"Not in {result.wanted_label}."
        # nothing here is applied: every change starts ticked, so the SQL shows the whole difference
        for change in plan.changes:
            result.review.tick(change.id)
        self.plan_view.show_review(result.review, sql_header=f"Changes that make {result.source_label} match"
                                                             f" {result.wanted_label}")
        if plan.empty:
            self._say(f"No differences: {result.source_label} and {result.wanted_label} have the same schema.",
                      colors().ok.name())
        else:
            counted = "" if result.rows_counted else " Rows at risk are counted only when the first side is a database."
            self._say(f"What turns {result.source_label} into {result.wanted_label}: {result.review.summary()}."
                      f"{counted}", colors().muted.name())
        self._update_buttons()
        self.compared.emit(result)

    def sql(self) -> str:
        """The SQL of the ticked changes, as shown."""
        return self.plan_view.sql.toPlainText()

    def copy_sql(self) -> None:
        """Put the SQL on the clipboard."""
        QGuiApplication.clipboard().setText(self.sql())
        self._say("The SQL is on the clipboard.", colors().muted.name())

    def save_sql(self, path: Path) -> None:
        """Write the SQL to a file (a failure is said on the page)."""
        try:
            write_atomic(path, self.sql())
        except StudioError as exc:
            self._say(str(exc), colors().danger.name())
            return
        self._say(f"Saved to {path}.", colors().muted.name())

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the SQL", "changes.sql", "SQL files (*.sql)")
        if path:
            self.save_sql(Path(path))
