"""The wizard's Generate step: describe the app's data, see what it makes, write it into the app's folder.

The data model lives in the folder's `studio.json` and is saved there after every edit, so the step can be
left and resumed (its own state is only the template, the client targets and the folder). Next needs a
model without problems, a folder Studio may write into, and the files written there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from studio.core.errors import StudioError
from studio.core.generate.workspace import CLIENT_TARGETS
from studio.core.model import AppModel
from studio.core.model.templates import TEMPLATES, template
from studio.core.paths import default_workspace
from studio.core.words import plural
from studio.services.generate import (
    FileStatus,
    SchemaChecker,
    file_statuses,
    folder_problem,
    load_workspace_model,
    save_workspace_model,
    write_workspace,
)
from studio.services.projects import ProjectHandle
from studio.ui.pages.data_model import ClientTargets, ModelWorkbench, TemplatePicker, empty_model
from studio.ui.theme import colors
from studio.ui.wizard.step import WizardStep

FolderChooser = Callable[[str], str | None]
"""Asks the user for a folder, starting at the given one; None when they cancel."""

NOT_WRITTEN = "The files are not written into the folder yet: press “Write files”."


def _dialog_folder(start: str) -> str | None:
    """The system's folder dialog (never used by tests: they pass their own chooser)."""
    chosen = QFileDialog.getExistingDirectory(None, "Folder for your app's files", start)
    return chosen or None


class GenerateStep(WizardStep):
    """Pick a template or start empty, edit the data model, preview every file, write them into a folder.

    Signals (besides `changed`):
        files_written(object): the files and studio.json were written into this folder (a `Path`).
    """

    files_written = Signal(object)

    title = "Generate"
    subtitle = ("Describe the things your app stores and who may see them. Studio makes the tables, the access"
                " rules, sample data and client code from it.")

    def __init__(self, parent: QWidget | None = None, *, choose_folder: FolderChooser | None = None,
                 checker: SchemaChecker | None = None) -> None:
        super().__init__(parent)
        self._choose_folder = choose_folder or _dialog_folder
        self._template = ""
        self._folder_error = ""  # studio.json of the folder cannot be read
        self._folder_chosen = False
        self._opened = ""  # the folder whose model is shown
        self.picker = TemplatePicker()
        self.workbench = ModelWorkbench(checker)
        self.targets = ClientTargets()
        self.folder_edit = QLineEdit()
        self.folder_edit.setAccessibleName("Output folder")
        self.folder_edit.setPlaceholderText(str(default_workspace()))
        self.browse_button = QPushButton("Browse…")
        self.write_button = QPushButton("Write files")
        self.write_button.setToolTip("Write the schema, sample data and client code into the folder")
        self.folder_message = QLabel()
        self.folder_message.setTextFormat(Qt.TextFormat.PlainText)
        self.folder_message.setWordWrap(True)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Output folder"))
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        folder_row.addWidget(self.write_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(self.workbench, 1)
        layout.addWidget(self.targets)
        layout.addLayout(folder_row)
        layout.addWidget(self.folder_message)
        layout.addWidget(self.status)

        self.picker.chosen.connect(self._start_from)
        self.workbench.model_changed.connect(self._on_model_edited)
        self.targets.changed.connect(self._on_targets)
        self.folder_edit.editingFinished.connect(self._on_folder_edited)
        self.browse_button.clicked.connect(self._browse)
        self.write_button.clicked.connect(self.write_files)
        self.workbench.set_model(empty_model())
        self.set_folder(str(default_workspace()), chosen=False)

    # -- WizardStep ---------------------------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What blocks Next: the folder, the model's problems, files not written yet."""
        found: list[str] = []
        folder = folder_problem(self.folder_edit.text())
        if folder:
            found.append(folder)
        elif self._folder_error:
            found.append(self._folder_error)
        model = self.workbench.problems()
        if model:
            found.append(f"The data model has {plural(len(model), 'problem')} to fix:")
            found += [f"• {problem}" for problem in model]
        if not found:
            # Compared afresh: the folder may have changed since the preview was made.
            statuses = file_statuses(self.folder(), self.workbench.preview.files)
            if any(status is not FileStatus.SAME for status in statuses.values()):
                found.append(NOT_WRITTEN)
        return found

    def state(self) -> dict[str, Any]:
        """Template, client targets and folder (the model itself is in the folder's studio.json)."""
        return {"template": self._template, "targets": self.targets.clients(), "folder": self.folder_edit.text()}

    def restore(self, state: dict[str, Any]) -> None:
        """Bring back a saved state: the folder's model, or the template's when the folder has none."""
        name = state.get("template")
        self._template = name if isinstance(name, str) and name in {t.name for t in TEMPLATES} else ""
        self.picker.set_current(self._template)
        targets = state.get("targets")
        if isinstance(targets, list):
            self.targets.set_clients([t for t in targets if isinstance(t, str) and t in CLIENT_TARGETS])
        folder = state.get("folder")
        if isinstance(folder, str) and folder.strip():
            self.set_folder(folder)
        if self._opened != self.folder_edit.text() and self._template and not self._folder_error:
            # The folder had no model saved: start again from the template the user had picked.
            self.workbench.set_model(template(self._template).build())
            self._autosave()
        self.changed.emit()

    def entered(self) -> None:
        """Compare the preview with the folder again (files may have changed since)."""
        self.workbench.set_workspace(self.folder())

    # -- public API ---------------------------------------------------------------------------------------------

    def set_project(self, handle: ProjectHandle | None) -> None:
        """Use `handle`'s server for the schema checks, and its workspace as the folder unless one was chosen."""
        self.workbench.checker.set_server(handle.ensure_server if handle is not None else None)
        if handle is not None and not self._folder_chosen:
            self.set_folder(str(handle.workspace), chosen=False)
        self.workbench.refresh()

    def model(self) -> AppModel:
        """The data model as edited."""
        return self.workbench.model()

    def folder(self) -> Path | None:
        """The output folder, when it is usable."""
        if folder_problem(self.folder_edit.text()):
            return None
        return Path(self.folder_edit.text().strip()).expanduser()

    def set_folder(self, text: str, *, chosen: bool = True) -> None:
        """Use the folder `text`; its saved data model, if it has one, is opened."""
        self.folder_edit.setText(text)
        self._folder_chosen = self._folder_chosen or chosen
        self._open_folder()

    def write_files(self) -> bool:
        """Save the model in the folder's studio.json and write every generated file there; False and a
        message in plain words when something stops it."""
        folder = self.folder()
        problems = self.workbench.problems()
        if folder is None:
            self._say(folder_problem(self.folder_edit.text()) or "", error=True)
            return False
        if self._folder_error:
            self._say(self._folder_error, error=True)
            return False
        if problems:
            self._say(f"Fix the {plural(len(problems), 'problem')} of the data model"
                      " first; nothing was written.", error=True)
            return False
        try:
            written = write_workspace(folder, self.model(), self.targets.clients())
        except StudioError as exc:
            self._say(f"The files were not written. {exc}", error=True)
            return False
        self._opened = self.folder_edit.text()
        total = len(self.workbench.preview.files)
        self.workbench.set_workspace(folder)
        self._say(f"Wrote {plural(len(written), 'file')} into {folder}"
                  f" ({total - len(written)} already up to date).")
        self.files_written.emit(folder)
        self.changed.emit()
        return True

    # -- internals ----------------------------------------------------------------------------------------------

    def _open_folder(self) -> None:
        """Show the folder's problem, or open the model saved in it (keeping the current one if it has none)."""
        text = self.folder_edit.text()
        self._folder_error = ""
        problem = folder_problem(text)
        self.folder_message.setStyleSheet(f"color: {colors().danger.name()}" if problem else "")
        folder = self.folder()
        if problem or folder is None:
            self.folder_message.setText(problem or "")
            self.workbench.set_workspace(None)
            self.changed.emit()
            return
        try:
            saved = load_workspace_model(folder)
        except StudioError as exc:
            self._folder_error = f"The data model saved in this folder cannot be read. {exc}"
            self.folder_message.setStyleSheet(f"color: {colors().danger.name()}")
            self.folder_message.setText(self._folder_error)
            self.workbench.set_workspace(folder)
            self.changed.emit()
            return
        if saved is not None:
            self.workbench.set_model(saved)
            self._opened = text
            self.folder_message.setText(f"Opened the data model saved in {folder / 'studio.json'}. Changes are"
                                        " saved there as you edit.")
        else:
            self.folder_message.setText(f"Your data model will be saved in {folder / 'studio.json'} as you edit.")
            if self.model().entities:
                self._autosave()  # so that resuming in this folder finds the model shown now
        self.workbench.set_workspace(folder)
        self._update_picker()
        self.changed.emit()

    def _on_folder_edited(self) -> None:
        if self.folder_edit.text() != self._opened:
            self._folder_chosen = True
            self._open_folder()

    def _browse(self) -> None:
        chosen = self._choose_folder(self.folder_edit.text() or str(default_workspace()))
        if chosen:
            self.set_folder(chosen)

    def _start_from(self, name: str) -> None:
        self._template = name
        model = template(name).build() if name else empty_model()
        self.workbench.editor.replace_model(model, status="Undo brings your previous model back.")

    def _on_model_edited(self, _model: AppModel) -> None:
        self._autosave()
        self._update_picker()
        self.status.clear()
        self.changed.emit()

    def _on_targets(self) -> None:
        self.workbench.set_clients(self.targets.clients())
        self.changed.emit()

    def _autosave(self) -> None:
        """Keep studio.json in step with the editor, so leaving the wizard never loses work."""
        folder = self.folder()
        if folder is None or self._folder_error:
            return
        try:
            save_workspace_model(folder, self.model())
        except StudioError as exc:
            self._say(f"Your changes could not be saved in the folder. {exc}", error=True)
            return
        self._opened = self.folder_edit.text()

    def _update_picker(self) -> None:
        count = len(self.model().entities)
        self.picker.set_needs_confirm(count > 0, f"your {count} entit{'y' if count == 1 else 'ies'}")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(f"color: {colors().danger.name()}" if error else f"color: {colors().ok.name()}")
        self.status.setText(text)
