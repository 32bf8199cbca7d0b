"""The wizard frame: numbered steps, Back / Next, problems shown before Next, leave and resume.

It knows nothing of what the steps do; `studio.app` passes results between them (the project chosen in
Connect goes to Generate and Deploy). Its state - the step the user is on and each step's own state -
is saved in the app's settings whenever the user moves or leaves, so the wizard resumes where it was.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from studio.ui.theme import colors, heading_label
from studio.ui.wizard.step import WizardStep

_STATE_KEY = "wizard/state"


class Wizard(QWidget):
    """Steps in order, one at a time.

    Signals:
        left(): the user chose "Leave for now" (the state is saved; the wizard can be resumed).
        finished(): the user completed the last step.
        step_entered(int): the step with this index is now shown.
    """

    left = Signal()
    finished = Signal()
    step_entered = Signal(int)

    def __init__(self, steps: list[WizardStep], settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps = steps
        self.settings = settings
        self._index = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        self.progress = QHBoxLayout()
        self._markers: list[QLabel] = []
        for number, step in enumerate(steps, start=1):
            marker = QLabel(f"{number}  {step.title}")
            marker.setObjectName(f"wizardMarker{number}")
            self._markers.append(marker)
            self.progress.addWidget(marker)
            if number < len(steps):
                arrow = QLabel("›")
                arrow.setStyleSheet(f"color: {colors().muted.name()}; font-size: 16px;")
                self.progress.addWidget(arrow)
        self.progress.addStretch(1)
        self.heading = heading_label()
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.subtitle.setStyleSheet(f"color: {colors().muted.name()};")
        self.pages = QStackedWidget()
        for step in steps:
            self.pages.addWidget(step)
            step.changed.connect(self._step_changed)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_label.setStyleSheet(f"color: {colors().danger.name()};")
        self.problems_label.hide()
        self.leave_button = QPushButton("Leave for now")
        self.leave_button.setToolTip("Your choices are kept; open the wizard again to go on where you left.")
        self.back_button = QPushButton("Back")
        self.next_button = QPushButton("Next")
        self.next_button.setDefault(True)
        self.leave_button.clicked.connect(self.leave)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        buttons = QHBoxLayout()
        buttons.addWidget(self.leave_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        self._intro_slot = QVBoxLayout()
        self._intro_slot.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._intro_slot)
        layout.addLayout(self.progress)
        layout.addWidget(self.heading)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.problems_label)
        layout.addLayout(buttons)
        self._show(0)

    def set_intro(self, intro: QWidget) -> None:
        """Show `intro` above the steps (a welcome on a first start); it stays until it hides itself."""
        self._intro_slot.addWidget(intro)

    @property
    def index(self) -> int:
        """The index of the step shown."""
        return self._index

    @property
    def current(self) -> WizardStep:
        """The step shown."""
        return self.steps[self._index]

    def _show(self, index: int) -> None:
        self._index = index
        step = self.steps[index]
        self.pages.setCurrentWidget(step)
        self.heading.setText(step.title)
        self.subtitle.setText(step.subtitle)
        self.subtitle.setVisible(bool(step.subtitle))
        self.problems_label.hide()
        self.back_button.setEnabled(index > 0)
        self.next_button.setText("Finish" if index == len(self.steps) - 1 else "Next")
        for number, marker in enumerate(self._markers):
            weight = "700" if number == index else "400"
            tint = "" if number <= index else f"color: {colors().muted.name()};"
            marker.setStyleSheet(f"font-weight: {weight}; {tint}")
        step.entered()
        self.step_entered.emit(index)

    def _step_changed(self) -> None:
        if self.problems_label.isVisible() and not self.current.problems():
            self.problems_label.hide()

    def next(self) -> bool:
        """Go on when the current step has no problems; otherwise show them. Returns True if it moved."""
        problems = self.current.problems()
        if problems:
            self.problems_label.setText("Before going on:\n" + "\n".join(f"• {p}" for p in problems))
            self.problems_label.show()
            return False
        if self._index == len(self.steps) - 1:
            self.save_state(finished=True)
            self.finished.emit()
            return True
        self._show(self._index + 1)
        self.save_state()
        return True

    def back(self) -> None:
        """Go to the previous step (nothing is lost)."""
        if self._index > 0:
            self._show(self._index - 1)
            self.save_state()

    def go_to(self, index: int) -> None:
        """Show step `index` directly (used when resuming)."""
        self._show(max(0, min(index, len(self.steps) - 1)))

    def leave(self) -> None:
        """Save the state and tell the window to close the wizard."""
        self.save_state()
        self.left.emit()

    def state(self) -> dict[str, Any]:
        """The step shown and each step's state, JSON-serialisable."""
        return {"step": self._index, "steps": {step.title: step.state() for step in self.steps}}

    def save_state(self, *, finished: bool = False) -> None:
        """Write the state to the settings (a finished wizard starts afresh next time)."""
        if self.settings is None:
            return
        if finished:
            self.settings.remove(_STATE_KEY)
            self.settings.setValue("wizard/completed", True)
        else:
            self.settings.setValue(_STATE_KEY, json.dumps(self.state()))
        self.settings.sync()

    def resume(self) -> bool:
        """Bring back the state saved in the settings; returns False when there was none (or it was damaged)."""
        if self.settings is None:
            return False
        raw = self.settings.value(_STATE_KEY)
        if not isinstance(raw, str):
            return False
        try:
            saved = json.loads(raw)
            steps = saved.get("steps", {})
            index = int(saved.get("step", 0))
        except (ValueError, AttributeError, TypeError):
            return False
        for step in self.steps:
            state = steps.get(step.title) if isinstance(steps, dict) else None
            if isinstance(state, dict):
                step.restore(state)
        self.go_to(index)
        return True
