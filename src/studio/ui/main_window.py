"""Studio's main window: projects on the left, the selected project's overview on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)


class MainWindow(QMainWindow):
    """The top-level window. Views only: it shows what services report and starts nothing itself."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Studio")
        self.resize(1100, 700)
        self.projects = QListWidget()
        self.projects.setMaximumWidth(260)
        item = QListWidgetItem("This computer (local project)")
        self.projects.addItem(item)
        self.projects.setCurrentItem(item)

        overview = QWidget()
        layout = QVBoxLayout(overview)
        layout.setContentsMargins(24, 24, 24, 24)
        heading = QLabel("Local project")
        heading.setStyleSheet("font-size: 20px; font-weight: 600;")
        self.status = QLabel("Starting the local database…")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tables = QListWidget()
        layout.addWidget(heading)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Tables"))
        layout.addWidget(self.tables, 1)

        splitter = QSplitter()
        splitter.addWidget(self.projects)
        splitter.addWidget(overview)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)
        self.statusBar().showMessage("Local project: starting")

    def show_starting(self) -> None:
        """The local project is starting."""
        self.status.setText("Starting the local database…")
        self.statusBar().showMessage("Local project: starting")

    def show_ready(self, summary: str, tables: list[str]) -> None:
        """The local project is up; list its tables."""
        self.status.setText(summary)
        self.tables.clear()
        self.tables.addItems(tables or ["(no tables yet: generate a data model to create some)"])
        self.statusBar().showMessage("Local project: connected")

    def show_failed(self, message: str) -> None:
        """The local project could not start: say why and what to do."""
        self.status.setText(message)
        self.statusBar().showMessage("Local project: not running")
