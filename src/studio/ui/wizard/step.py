"""The contract every wizard step keeps, so the wizard can validate, leave and resume any of them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget


class WizardStep(QWidget):
    """One step of the builder's wizard (connect, generate, deploy).

    The wizard shows `title` and `subtitle`, asks `problems()` before Next (a non-empty list blocks
    Next and is shown to the user in plain words), and saves `state()` so the user can leave and
    resume later (`restore(state)` brings the step back; unknown or stale keys must be ignored).

    Signals:
        changed(): something the user did may change `problems()` or `state()`.
    """

    changed = Signal()

    title = ""
    subtitle = ""

    def problems(self) -> list[str]:
        """What stops the user from going on, in plain words (empty when the step is complete)."""
        return []

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state to resume this step later (never a secret)."""
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        """Bring back a state saved by `state()`; ignore keys that no longer make sense."""

    def entered(self) -> None:
        """The user arrived at this step (refresh what depends on earlier steps)."""
