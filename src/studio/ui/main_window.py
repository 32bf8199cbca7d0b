"""Studio's main window: projects on the left, the selected project's overview on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)


class MainWindow(QMainWindow):
    """The top-level window. Views only: it shows what services report and starts nothing itself.

    Signals:
        session_only_chosen(): the user chose to keep secrets for this session only.
    """

    session_only_chosen = Signal()

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
        self.secrets_banner = QFrame()
        self.secrets_banner.setObjectName("secretsBanner")
        self.secrets_banner.setStyleSheet(
            "#secretsBanner { background: #fff4e5; border: 1px solid #f0b35b; border-radius: 6px; }"
            " #secretsBanner QLabel { color: #5a3b00; }"
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
        layout.addWidget(heading)
        layout.addWidget(self.secrets_banner)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Tables"))
        layout.addWidget(self.tables, 1)

        splitter = QSplitter()
        splitter.addWidget(self.projects)
        splitter.addWidget(overview)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)
        self.secrets_status = QLabel("Secrets: checking…")
        self.statusBar().addPermanentWidget(self.secrets_status)
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
