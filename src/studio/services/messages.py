"""One channel for messages to the user (qutebrowser's `message` module is the model).

Services and views post here instead of opening dialogs themselves; the main window shows them (status
bar for information, a banner for errors), and tests replace the channel with a recorder.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, Signal


class Level(StrEnum):
    """How much a message matters."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class UserMessage:
    """One message: its level, the text, and optionally what to do about it."""

    level: Level
    text: str
    hint: str = ""


class UserMessages(QObject):
    """The channel. Keeps the messages posted so far (tests read them), newest last.

    Signals:
        posted(object): a `UserMessage` was posted.
    """

    posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.history: list[UserMessage] = []

    def post(self, level: Level, text: str, hint: str = "") -> None:
        """Post a message at `level`."""
        message = UserMessage(level, text, hint)
        self.history.append(message)
        del self.history[:-200]
        self.posted.emit(message)

    def info(self, text: str, hint: str = "") -> None:
        """Something the user may want to know (shown in the status bar)."""
        self.post(Level.INFO, text, hint)

    def warning(self, text: str, hint: str = "") -> None:
        """Something worth attention that did not fail."""
        self.post(Level.WARNING, text, hint)

    def error(self, text: str, hint: str = "") -> None:
        """Something failed: what happened and, in `hint`, what to do."""
        self.post(Level.ERROR, text, hint)


_channel: UserMessages | None = None


def user_messages() -> UserMessages:
    """The app's channel (created on first use)."""
    global _channel
    if _channel is None:
        _channel = UserMessages()
    return _channel


def replace_user_messages(channel: UserMessages | None) -> None:
    """Use `channel` from now on (tests install a fresh one; None makes a new one on next use)."""
    global _channel
    _channel = channel
