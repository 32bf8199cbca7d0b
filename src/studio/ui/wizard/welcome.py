"""The welcome shown above the wizard on a first start: the three steps in a sentence each, and the local
project getting ready meanwhile (nothing to answer: it needs no account)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.ui.theme import colors

STEPS = (
    ("Connect", "Choose where your app's data lives. “This computer” works right away, without an account."),
    ("Generate", "Describe what your app stores and who may see it. Studio writes the tables, the access"
                 " rules, sample data and client code."),
    ("Deploy", "See every change before it runs, then apply it safely. Anything that could lose data waits"
               " for your say-so."),
)


class WelcomePanel(QFrame):
    """Welcome to Studio: what the three steps do, and how the local project is doing.

    Signals:
        dismissed(): the user closed the panel.
    """

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePanel")
        palette = colors()
        self.setStyleSheet(f"#welcomePanel {{ border: 1px solid {palette.banner_border.name()};"
                           f" background: {palette.banner_background.name()}; border-radius: 8px; }}")
        title = QLabel("Welcome to Studio")
        title.setStyleSheet("font-size: 18px; font-weight: 600;")
        intro = QLabel("Three steps take you from nothing to a working, secure backend for your app:")
        intro.setWordWrap(True)
        close = QPushButton("Got it")
        close.clicked.connect(self._dismiss)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        steps = QHBoxLayout()
        steps.setSpacing(16)
        for number, (name, text) in enumerate(STEPS, start=1):
            step = QLabel(f"<b>{number}. {name}</b><br>{text}")
            step.setTextFormat(Qt.TextFormat.RichText)
            step.setWordWrap(True)
            step.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            steps.addWidget(step, 1)
        self.local_status = QLabel("Your local project is being set up on this computer…")
        self.local_status.setStyleSheet(f"color: {palette.muted.name()};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(intro)
        layout.addLayout(steps)
        layout.addWidget(self.local_status)

    def show_local_ready(self, version: str) -> None:
        """The local project is up: say so."""
        self.local_status.setText(f"Your local project is ready (PostgreSQL {version}), no account needed.")

    def show_local_failed(self, message: str) -> None:
        """The local project could not start: say why."""
        self.local_status.setText(f"The local project could not start: {message}")
        self.local_status.setStyleSheet(f"color: {colors().danger.name()};")

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
