"""The wizard's Deploy step: the review screen on the pending plan, then what changed and the way to the tables."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.services.deploy import DeployService
from studio.services.jobs import JobRunner
from studio.services.projects import ProjectHandle
from studio.ui.pages.review import ReviewPage
from studio.ui.wizard.step import WizardStep

NO_PROJECT = "Go back to Connect and choose where your app's data lives."
PLANNING = "Studio is still working out what to change. Wait a moment."
NOT_APPLIED = ("Apply the changes to finish, or press “Leave for now” to come back later: nothing has been"
               " changed in the database yet.")


class DeployStep(WizardStep):
    """Review the plan made from the files Generate wrote, apply it, and offer to open the tables.

    The plan is made afresh every time the step is entered (the files or the database may have changed).
    Finish is allowed once the changes are applied, or when there is nothing to change.

    Signals (besides `changed`):
        open_tables_requested(): after applying, the builder asked to see the tables.
        deployed(object): a migration was applied (its `AppliedMigration`).
    """

    open_tables_requested = Signal()
    deployed = Signal(object)

    title = "Deploy"
    subtitle = ("Check what Studio will change in your database, then apply it. Anything that could lose data"
                " is left out until you tick it and confirm.")

    def __init__(self, runner: JobRunner, service: DeployService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.handle: ProjectHandle | None = None
        self.review = ReviewPage(runner, service)
        self.review.heading.hide()  # the wizard's own heading says it already
        self._applied = False
        self._plan_error = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.review)
        self.review.service.plan_started.connect(self._plan_started)
        self.review.plan_shown.connect(lambda _result: self.changed.emit())
        self.review.plan_failed.connect(self._plan_failed)
        self.review.applied.connect(self._on_applied)
        self.review.apply_failed.connect(lambda _error: self.changed.emit())
        self.review.open_tables_requested.connect(self.open_tables_requested)

    # -- the WizardStep contract --------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What stops Finish: no project, the plan not made (or failed), changes not applied yet."""
        if self.handle is None:
            return [NO_PROJECT]
        if self._applied:
            return []
        if self._plan_error:
            return [f"The plan could not be made: {self._plan_error} Fix it, then press “Make the plan again”."]
        result = self.review.result
        if result is None:
            return [PLANNING]
        if result.review.plan.empty:
            return []
        return [NOT_APPLIED]

    def state(self) -> dict[str, Any]:
        """Nothing to keep: the plan is made again when the builder comes back."""
        return {}

    def entered(self) -> None:
        """Make the plan again for the chosen project (Generate may just have written new files)."""
        self._applied = False
        self._plan_error = ""
        self.review.set_project(self.handle)
        if self.handle is not None and not self.review.isVisible():
            self.review.refresh()  # shown later: plan now so it is ready when it is

    # -- public API ---------------------------------------------------------------------------------------

    def set_project(self, handle: ProjectHandle | None) -> None:
        """Deploy to this project (the one chosen in Connect)."""
        if handle is not self.handle:
            self.handle = handle
            self._applied = False
            self.review.set_project(handle)
            self.changed.emit()

    @property
    def applied(self) -> bool:
        """True once this visit's changes were applied."""
        return self._applied

    def _plan_started(self) -> None:
        self._plan_error = ""
        self.changed.emit()

    def _plan_failed(self, message: str) -> None:
        self._plan_error = message
        self.changed.emit()

    def _on_applied(self, applied: object) -> None:
        self._applied = True
        self.changed.emit()
        self.deployed.emit(applied)
