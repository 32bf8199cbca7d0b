"""The data model of a project: the editor, its diagram and the files it makes, in the wizard and outside it.

`ModelWorkbench` is the part both places share: the editor on the left; the diagram and the preview of
every generated file on the right; below them, what stops generation and what the schema checks found.
`ModelPage` is the main window's "Data model" area for the selected project, with Save and Generate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import ModelInvalid, StudioError
from studio.core.generate.workspace import CLIENT_TARGETS
from studio.core.lint import Finding, Level
from studio.core.model import AppModel
from studio.core.model.templates import TEMPLATES, template
from studio.core.words import plural
from studio.services.generate import (
    CLIENT_TITLES,
    Preview,
    SchemaChecker,
    detected_clients,
    load_workspace_model,
    preview,
    save_workspace_model,
    write_workspace,
)
from studio.services.messages import user_messages
from studio.services.projects import ProjectHandle
from studio.ui.theme import colors
from studio.ui.widgets.er_diagram import ErDiagram
from studio.ui.widgets.file_preview import FilePreview
from studio.ui.widgets.model_editor import ModelEditor

#: Pause after the last edit before the schema is checked in a scratch database.
CHECK_DELAY_MS = 600
_SHOWN_PROBLEMS = 8


def empty_model() -> AppModel:
    """The model of "start empty": an app with no entities yet."""
    return AppModel(name="My app")


def findings_by_entity(model: AppModel, findings: Sequence[Finding]) -> dict[str, list[str]]:
    """Each finding's title under the entity whose table it concerns (`table:public.posts`, `policy:...`)."""
    notes: dict[str, list[str]] = {}
    for finding in findings:
        _kind, _, name = finding.object_key.partition(":")
        for entity in model.entities:
            prefix = f"{model.schema}.{entity.name}"
            if name == prefix or name.startswith(prefix + "."):
                notes.setdefault(entity.name, []).append(f"{finding.title} ({finding.level.value})")
                break
    return notes


class TemplatePicker(QWidget):
    """"Start from": a template or nothing. Replacing a model that has entities asks first, inline.

    Signals:
        chosen(str): start from this template ("" for an empty model).
    """

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._needs_confirm = False
        self.combo = QComboBox()
        self.combo.setAccessibleName("Start from")
        self.combo.addItem("An empty model: add your own entities", "")
        for item in TEMPLATES:
            self.combo.addItem(f"{item.title}: {item.summary}", item.name)
        self.use_button = QPushButton("Start from this")
        self.confirm = QWidget()
        self.confirm_label = QLabel()
        self.confirm_label.setTextFormat(Qt.TextFormat.PlainText)
        self.confirm_label.setWordWrap(True)
        self.replace_button = QPushButton("Replace my model")
        self.keep_button = QPushButton("Keep my model")
        confirm_layout = QHBoxLayout(self.confirm)
        confirm_layout.setContentsMargins(0, 0, 0, 0)
        confirm_layout.addWidget(self.confirm_label, 1)
        confirm_layout.addWidget(self.replace_button)
        confirm_layout.addWidget(self.keep_button)
        self.confirm.setStyleSheet(f"QLabel {{ color: {colors().warning.name()} }}")
        self.confirm.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Start from")
        row.addWidget(self.label)
        row.addWidget(self.combo, 1)
        row.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.confirm)
        self.use_button.clicked.connect(self._use)
        self.replace_button.clicked.connect(self._replace)
        self.keep_button.clicked.connect(self.confirm.hide)
        self.combo.currentIndexChanged.connect(lambda _i: self.confirm.hide())

    def set_needs_confirm(self, needed: bool, what: str = "") -> None:
        """Whether starting over would throw away work (`what` says which, e.g. "your 3 entities")."""
        self._needs_confirm = needed
        self.label.setText("Start again from" if needed else "Start from")
        self.confirm_label.setText(f"This replaces {what or 'your data model'}. Undo can bring it back.")
        if not needed:
            self.confirm.hide()

    def current(self) -> str:
        """The template picked in the list ("" for empty)."""
        return str(self.combo.currentData() or "")

    def set_current(self, name: str) -> None:
        """Pick `name` in the list (unknown names pick "empty")."""
        index = self.combo.findData(name)
        self.combo.setCurrentIndex(max(index, 0))

    def _use(self) -> None:
        if self._needs_confirm:
            self.confirm.show()
            return
        self.chosen.emit(self.current())

    def _replace(self) -> None:
        self.confirm.hide()
        self.chosen.emit(self.current())


class ClientTargets(QWidget):
    """Which client code to generate: TypeScript, Dart (Flutter), Python.

    Signals:
        changed(): the choice changed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.boxes: dict[str, QCheckBox] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Client code"))
        for name in CLIENT_TARGETS:
            box = QCheckBox(CLIENT_TITLES[name])
            box.setChecked(True)
            box.toggled.connect(lambda _on: self.changed.emit())
            self.boxes[name] = box
            layout.addWidget(box)
        layout.addStretch(1)

    def clients(self) -> list[str]:
        """The chosen targets, in Studio's order."""
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def set_clients(self, clients: Sequence[str]) -> None:
        """Choose exactly `clients` (unknown names are ignored); emits `changed` once."""
        for name, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(name in clients)
            box.blockSignals(False)
        self.changed.emit()


class ModelWorkbench(QWidget):
    """The editor with its diagram, the generated files and the checks, kept in step with every edit.

    Signals:
        model_changed(object): the user edited the model (the new `AppModel`), after everything refreshed.
        checks_done(): the schema checks of the current model finished (their result is shown).
    """

    model_changed = Signal(object)
    checks_done = Signal()

    def __init__(self, checker: SchemaChecker | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checker = checker or SchemaChecker(parent=self)
        self._workspace: Path | None = None
        self._clients: list[str] = list(CLIENT_TARGETS)
        self._findings: list[Finding] | None = None
        self._check_error = ""
        self.preview = Preview()
        self.editor = ModelEditor()
        self.diagram = ErDiagram()
        self.files = FilePreview()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.editor)
        splitter.addWidget(self.diagram)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([560, 500])
        self.tabs = QTabWidget()
        self.tabs.addTab(splitter, "Data model")
        self.tabs.addTab(self.files, "Files")
        self.checks = QLabel()
        self.checks.setTextFormat(Qt.TextFormat.PlainText)
        self.checks.setWordWrap(True)
        self.checks.setAccessibleName("Checks")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.checks)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.check_now)
        self.editor.model_changed.connect(self._on_edit)
        self.editor.entity_selected.connect(self.diagram.select)
        self.diagram.entity_clicked.connect(self.editor.select_entity)
        self.checker.checked.connect(self._on_checked)
        self.checker.failed.connect(self._on_check_failed)
        self.refresh()

    def model(self) -> AppModel:
        """The model as edited."""
        return self.editor.model()

    def set_model(self, model: AppModel, *, select: str | None = None) -> None:
        """Show `model` (no `model_changed`: nothing was edited)."""
        self.editor.set_model(model, select=select)
        self.refresh()

    def set_workspace(self, workspace: Path | None) -> None:
        """Compare the preview with the files of `workspace` (None: everything is new)."""
        self._workspace = workspace
        self.refresh()

    def set_clients(self, clients: Sequence[str]) -> None:
        """Preview client code for `clients`."""
        self._clients = list(clients)
        self.refresh()

    def problems(self) -> list[str]:
        """What stops the model from being generated, in plain words (empty when nothing does)."""
        return [p[:1].upper() + p[1:] for p in self.preview.problems]

    def findings(self) -> list[Finding] | None:
        """What the schema checks found for the current model (None until they have run)."""
        return None if self._findings is None else list(self._findings)

    def refresh(self) -> None:
        """Redraw the diagram, regenerate the preview, show the problems; schedule the schema checks."""
        model = self.model()
        placed = self.editor.problems()
        self.diagram.set_model(model, flagged={p.entity for p in placed if p.entity})
        self.diagram.select(self.editor.selected_entity())
        self.preview = preview(model, self._clients, self._workspace)
        if self.preview.problems:
            count = len(self.preview.problems)
            self.files.show_message(f"Fix the {plural(count, 'problem')} of the data model to see the files it"
                                    " makes.")
        else:
            self.files.set_files(self.preview.files, self.preview.statuses)
        count = len(self.preview.files)
        self.tabs.setTabText(1, f"Files ({count})" if count else "Files")
        self._findings = None
        self._check_error = ""
        self.editor.set_notes({})
        self._check_timer.stop()
        if not self.preview.problems and self.checker.available:
            self._check_timer.start()
        self._show_checks()

    def check_now(self) -> None:
        """Run the schema checks of the current model now (when it has no problems and a server is known)."""
        self._check_timer.stop()
        if not self.preview.problems and self.checker.check(self.model()):
            self._show_checks(running=True)

    def _on_edit(self, model: AppModel) -> None:
        self.refresh()
        self.model_changed.emit(model)

    def _on_checked(self, model: AppModel, findings: list[Finding]) -> None:
        if model != self.model():
            return  # an older model's result
        self._findings = list(findings)
        self.editor.set_notes(findings_by_entity(model, findings))
        self._show_checks()
        self.checks_done.emit()

    def _on_check_failed(self, model: AppModel, message: str) -> None:
        if model != self.model():
            return
        self._check_error = message
        self._show_checks()
        self.checks_done.emit()

    def _show_checks(self, running: bool = False) -> None:
        problems = self.problems()
        color = colors().danger
        if problems:
            shown = problems[:_SHOWN_PROBLEMS]
            more = len(problems) - len(shown)
            lines = [f"{plural(len(problems), 'problem')} to fix before the files can be made:"]
            lines += [f"• {p}" for p in shown]
            if more:
                lines.append(f"… and {more} more (see the entities marked in the list).")
            text = "\n".join(lines)
        elif self._check_error:
            text = f"The schema could not be checked: {self._check_error}"
        elif running:
            color = colors().muted
            text = "No problems in the model. Checking the schema in a scratch database…"
        elif self._findings is None:
            color = colors().ok
            text = "No problems: the files are ready to write."
        elif not self._findings:
            color = colors().ok
            text = ("No problems. The schema applies cleanly and passes Supabase's security and performance"
                    " checks.")
        else:
            serious = any(f.level is Level.ERROR for f in self._findings)
            color = colors().danger if serious else colors().warning
            lines = [f"The schema checks found {plural(len(self._findings), 'thing')} to look at:"]
            lines += [f"• {f.title} ({f.level.value}): {f.explanation}" for f in self._findings[:_SHOWN_PROBLEMS]]
            text = "\n".join(lines)
        self.checks.setStyleSheet(f"color: {color.name()}")
        self.checks.setText(text)


class ModelPage(QWidget):
    """The "Data model" area of the main window for the selected project: edit, Save, Generate.

    Signals:
        saved(object): the model was saved into the workspace's studio.json (the workspace `Path`).
        files_written(object): the generated files were written (the workspace `Path`).
    """

    saved = Signal(object)
    files_written = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, checker: SchemaChecker | None = None) -> None:
        super().__init__(parent)
        self.handle: ProjectHandle | None = None
        self._saved_model: AppModel | None = None
        # Unsaved edits of the projects left for another, by workspace: coming back brings them back.
        self._drafts: dict[Path, AppModel] = {}
        self._damaged = False
        self.title = QLabel("Data model")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.folder_label = QLabel()
        self.folder_label.setTextFormat(Qt.TextFormat.PlainText)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.picker = TemplatePicker()
        self.workbench = ModelWorkbench(checker)
        self.targets = ClientTargets()
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save the data model in the project's studio.json")
        self.generate_button = QPushButton("Generate files")
        self.generate_button.setToolTip("Save, then write the schema, sample data and client code into the folder")
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.folder_label, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.targets, 1)
        footer.addWidget(self.save_button)
        footer.addWidget(self.generate_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.picker)
        layout.addWidget(self.workbench, 1)
        layout.addLayout(footer)
        layout.addWidget(self.status)
        self.picker.chosen.connect(self._start_from)
        self.workbench.model_changed.connect(lambda _m: self._update_buttons())
        self.workbench.model_changed.connect(lambda _m: self.status.clear())
        self.targets.changed.connect(self._on_targets)
        self.save_button.clicked.connect(self.save)
        self.generate_button.clicked.connect(self.generate)
        self.set_project(None)

    # -- public API ---------------------------------------------------------------------------------------------

    def set_project(self, handle: ProjectHandle | None) -> None:
        """Show the data model of `handle`'s workspace (None: no project selected).

        Unsaved edits of the project shown so far are kept (not saved) and come back with it.
        """
        # Another project (or none) shown next: keep the edits for when this one comes back. The same
        # workspace shown again (after the wizard wrote its studio.json) reads the file afresh instead.
        leaving = self.handle is not None and (handle is None or handle.workspace != self.handle.workspace)
        if self.handle is not None and leaving and self.unsaved():
            self._drafts[self.handle.workspace] = self.workbench.model()
        self.handle = handle
        self.workbench.checker.set_server(handle.ensure_server if handle is not None else None)
        self._damaged = False
        model: AppModel | None = None
        self.status.clear()
        if handle is None:
            self.folder_label.setText("")
        else:
            self.folder_label.setText(f"{handle.title} · {handle.workspace}")
            try:
                model = load_workspace_model(handle.workspace)
            except StudioError as exc:
                self._damaged = True
                self._say(str(exc), error=True)
            self.targets.set_clients(detected_clients(handle.workspace))
        self._saved_model = model
        draft = self._drafts.pop(handle.workspace, None) if handle is not None and not self._damaged else None
        self.workbench.set_workspace(handle.workspace if handle is not None else None)
        self.workbench.set_model(draft or model or empty_model())
        self.picker.setVisible(handle is not None and not self._damaged)
        self.workbench.setEnabled(not self._damaged)
        if draft is not None:
            self._say("Your unsaved changes are back: Save to keep them.")
        elif handle is not None and model is None and not self._damaged:
            self._say("This project has no data model yet: start from a template, or add entities.")
        self._update_buttons()

    def unsaved(self) -> bool:
        """Whether the model differs from the one in studio.json (an untouched empty model is not a change)."""
        if self.handle is None:
            return False
        model = self.workbench.model()
        if self._saved_model is None:
            return model != empty_model()
        return model != self._saved_model

    def save(self) -> bool:
        """Save the model into the workspace's studio.json (problems and all: it is the user's work)."""
        if self.handle is None or self._damaged:
            return False
        workspace = self.handle.workspace
        try:
            save_workspace_model(workspace, self.workbench.model())
        except StudioError as exc:
            self._say(f"The data model was not saved. {exc}", error=True)
            user_messages().error("The data model was not saved.", hint=str(exc))
            return False
        self._saved_model = self.workbench.model()
        count = len(self.workbench.problems())
        note = f" It still has {plural(count, 'problem')} to fix before generating." if count else ""
        self._say(f"Saved in {workspace / 'studio.json'}.{note}")
        self._update_buttons()
        self.saved.emit(workspace)
        return True

    def generate(self) -> bool:
        """Save the model and write every generated file into the workspace; False (and why) when it cannot."""
        if self.handle is None or self._damaged:
            return False
        problems = self.workbench.problems()
        if problems:
            self._say(f"Fix the {plural(len(problems), 'problem')} shown first: the files cannot be made from"
                      " this model yet.", error=True)
            return False
        workspace = self.handle.workspace
        try:
            written = write_workspace(workspace, self.workbench.model(), self.targets.clients())
        except ModelInvalid as exc:
            self._say(str(exc), error=True)
            return False
        except StudioError as exc:
            self._say(f"The files were not written. {exc}", error=True)
            user_messages().error("The files were not written.", hint=str(exc))
            return False
        self._saved_model = self.workbench.model()
        total = len(self.workbench.preview.files)
        self._say(f"Wrote {plural(len(written), 'changed file')} into {workspace} ({total - len(written)}"
                  " already up to date). Deploy to put the tables in the database.")
        self.workbench.refresh()
        self._update_buttons()
        self.files_written.emit(workspace)
        return True

    # -- internals ----------------------------------------------------------------------------------------------

    def _start_from(self, name: str) -> None:
        model = template(name).build() if name else empty_model()
        self.workbench.editor.replace_model(model, status="Undo brings your previous model back.")
        self._say(f"Started from “{template(name).title}”. Save to keep it." if name else "Started an empty model.")

    def _on_targets(self) -> None:
        self.workbench.set_clients(self.targets.clients())

    def _update_buttons(self) -> None:
        usable = self.handle is not None and not self._damaged
        self.save_button.setEnabled(usable and self.unsaved())
        self.generate_button.setEnabled(usable)
        self.save_button.setText("Save*" if usable and self.unsaved() else "Save")
        entities = len(self.workbench.model().entities)
        self.picker.set_needs_confirm(entities > 0, f"your {plural(entities, 'entity', 'entities')}")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(f"color: {colors().danger.name()}" if error else "")
        self.status.setText(text)
