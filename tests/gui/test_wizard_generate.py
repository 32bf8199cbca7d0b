"""The wizard's Generate step and the Data model page, driven through their real widgets (offscreen).

The files the step writes are compared with `generate_files` and applied to a real database (the session's
embedded PostgreSQL); the schema checks run in its scratch databases. The folder dialog is never opened:
tests pass their own folder chooser.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox
from pytestqt.qtbot import QtBot

from studio.core.generate.sql import POLICIES_FILE, SEED_FILE, TABLES_FILE
from studio.core.generate.workspace import generate_files
from studio.core.model import AppModel, Entity, Field, FieldType, Link, LinkKind, OnDelete, load_model, save_model
from studio.core.model.templates import template
from studio.core.targets.base import Target
from studio.core.targets.local import LocalServer
from studio.services.generate import SchemaChecker
from studio.services.messages import UserMessages
from studio.services.projects import ProjectHandle, ProjectKind, local_project
from studio.ui.pages.data_model import ModelPage
from studio.ui.widgets.model_editor import FIELD_KIND, FIELD_NAME
from studio.ui.wizard.generate import NOT_WRITTEN, GenerateStep
from tests.gui.conftest import run_until_signal


@pytest.fixture(autouse=True)
def default_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the step offers before the user picks one: inside the test's folder, never the user's."""
    folder = tmp_path / "default-app"
    monkeypatch.setenv("STUDIO_WORKSPACE", str(folder))
    return folder


class FolderAnswers:
    """Stands in for the folder dialog: Browse gets `answer` (None: the user cancelled)."""

    def __init__(self) -> None:
        self.answer: str | None = None
        self.asked_from: list[str] = []

    def __call__(self, start: str) -> str | None:
        self.asked_from.append(start)
        return self.answer


@pytest.fixture
def answers() -> FolderAnswers:
    """What the folder "dialog" answers."""
    return FolderAnswers()


@pytest.fixture
def step(qtbot: QtBot, answers: FolderAnswers) -> Iterator[GenerateStep]:
    """The step, shown at a window's size; Browse asks `answers`."""
    widget = GenerateStep(choose_folder=answers)
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    yield widget


def _start_from(step: GenerateStep | ModelPage, name: str) -> None:
    step.picker.set_current(name)
    step.picker.use_button.click()


def _type_folder(qtbot: QtBot, step: GenerateStep, folder: Path | str) -> None:
    step.folder_edit.selectAll()
    step.folder_edit.clear()
    qtbot.keyClicks(step.folder_edit, str(folder))
    qtbot.keyClick(step.folder_edit, Qt.Key.Key_Return)


def _files_under(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in folder.rglob("*") if p.is_file() and p.name != "studio.json"}


def _apply(db_url: str, files: dict[str, str], *, seed: bool = True) -> list[str]:
    """Run the schema files (tables, then policies) and the seed on a fresh database; the tables made."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute(files[TABLES_FILE].encode())
            conn.execute(files[POLICIES_FILE].encode())
            if seed:
                conn.execute(files[SEED_FILE].encode())
        rows = conn.execute("select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                            " where n.nspname = 'public' and c.relkind = 'r' and c.relrowsecurity"
                            " order by 1").fetchall()
    return [r[0] for r in rows]


# -- template -> files on disk -> a real database ---------------------------------------------------------------


def test_a_template_written_to_a_folder_is_exactly_what_generate_makes_and_deploys(
        qtbot: QtBot, step: GenerateStep, tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "blog-app"
    _type_folder(qtbot, step, folder)
    _start_from(step, "blog")
    model = step.model()
    assert model == template("blog").build()
    assert [step.workbench.editor.entity_list.item(i).text() for i in range(4)] == [
        "categories", "posts", "comments", "contact_messages"]
    assert len(step.workbench.diagram.boxes) == 4 and len(step.workbench.diagram.edges) == 2
    # Saved as it was chosen (so leaving now loses nothing), but not written: Next is blocked, and says why.
    assert load_model(folder) == model
    assert step.problems() == [NOT_WRITTEN]
    expected = generate_files(model, workspace=folder)
    with qtbot.waitSignal(step.files_written) as written:
        step.write_button.click()
    assert written.args == [folder]
    assert _files_under(folder) == expected
    assert step.problems() == []
    assert step.status.text().startswith(f"Wrote {len(expected)} files into {folder}")
    assert {step.workbench.files.status_of(p) for p in step.workbench.files.paths()} == {"same"}
    assert _apply(db_url, expected) == ["categories", "comments", "contact_messages", "posts"]


def test_only_the_chosen_clients_are_written(qtbot: QtBot, step: GenerateStep, tmp_path: Path) -> None:
    folder = tmp_path / "todo-app"
    _type_folder(qtbot, step, folder)
    _start_from(step, "todo")
    step.targets.boxes["dart"].setChecked(False)
    step.targets.boxes["python"].setChecked(False)
    assert not [p for p in step.workbench.files.paths() if p.startswith(("clients/dart", "clients/python"))]
    expected = generate_files(step.model(), clients=["typescript"], workspace=folder)
    assert step.write_files()
    assert sorted(p.name for p in (folder / "clients").iterdir()) == ["typescript"]
    assert _files_under(folder) == expected
    assert step.state()["targets"] == ["typescript"]


def test_a_model_built_by_hand_with_awkward_but_valid_names_deploys(
        qtbot: QtBot, step: GenerateStep, tmp_path: Path, db_url: str) -> None:
    """Names that are SQL keywords PostgreSQL allows unquoted in some places and not others."""
    folder = tmp_path / "kinds"
    _type_folder(qtbot, step, folder)
    _start_from(step, "")
    editor = step.workbench.editor
    editor.add_entity_button.click()
    editor.name_edit.setText("type")
    editor.name_edit.editingFinished.emit()
    for row, (name, kind) in enumerate((("key", "text"), ("value", "long_text"), ("position", "integer"),
                                        ("level", "enum"))):
        editor.add_field_button.click()
        editor.fields_table.item(row, FIELD_NAME).setText(name)
        combo = editor.fields_table.cellWidget(row, FIELD_KIND)
        assert isinstance(combo, QComboBox)
        combo.setCurrentIndex(combo.findData(kind))
    editor.fields_table.item(3, 5).setText("low, high, 'quoted'")
    editor.add_entity_button.click()
    editor.name_edit.setText("comment")
    editor.name_edit.editingFinished.emit()
    editor.add_link_button.click()
    assert step.workbench.problems() == []
    assert editor.model().links == (Link("type", "comment", "type", LinkKind.MANY_TO_ONE, on_delete=OnDelete.SET_NULL),)
    assert step.write_files()
    tables = _apply(db_url, _files_under(folder))
    assert tables == ["comment", "type"]


# -- Next is blocked, in plain words ----------------------------------------------------------------------------


def test_an_empty_or_broken_model_blocks_next_with_plain_words(qtbot: QtBot, step: GenerateStep,
                                                               tmp_path: Path) -> None:
    folder = tmp_path / "app"
    _type_folder(qtbot, step, folder)
    _start_from(step, "")
    assert step.problems() == ["The data model has 1 problem to fix:", "• Model: add at least one entity"]
    step.workbench.editor.add_entity_button.click()
    step.workbench.editor.add_field_button.click()
    step.workbench.editor.fields_table.item(0, FIELD_NAME).setText("order")
    problems = step.problems()
    assert problems[0] == "The data model has 1 problem to fix:"
    assert problems[1] == ("• Entity new_entity, field order: “order” is a reserved word in SQL; choose another"
                           " field name")
    assert not step.write_files()
    assert step.status.text() == "Fix the 1 problem of the data model first; nothing was written."
    assert sorted(p.name for p in folder.iterdir()) == ["studio.json"]  # the work is kept, nothing generated
    step.workbench.editor.fields_table.item(0, FIELD_NAME).setText("ordered_at")
    assert step.problems() == [NOT_WRITTEN]


def test_a_folder_that_cannot_hold_the_files_blocks_next(qtbot: QtBot, step: GenerateStep, tmp_path: Path) -> None:
    _start_from(step, "todo")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    _type_folder(qtbot, step, blocker)
    assert step.problems()[0] == f"{blocker} is a file, not a folder; choose a folder."
    assert step.folder_message.text() == step.problems()[0]
    _type_folder(qtbot, step, blocker / "inside")
    assert step.problems()[0] == f"The folder {blocker / 'inside'} cannot be created: {blocker} is a file."
    _type_folder(qtbot, step, "relative/app")
    assert step.problems()[0].startswith("Give the full path of the folder")
    _type_folder(qtbot, step, "")
    assert step.problems()[0] == "Choose a folder for your app's files."
    assert not step.write_files()


def test_a_damaged_studio_json_is_reported_and_never_overwritten(qtbot: QtBot, step: GenerateStep,
                                                                  tmp_path: Path) -> None:
    folder = tmp_path / "damaged"
    folder.mkdir()
    (folder / "studio.json").write_text('{"version": 1, "model": {"entities": [{"name": 3}]}}')
    before = (folder / "studio.json").read_text()
    _type_folder(qtbot, step, folder)
    assert step.problems()[0].startswith("The data model saved in this folder cannot be read. The data model in")
    assert "damaged at model.entities[0].name: expected text" in step.problems()[0]
    _start_from(step, "todo")
    assert not step.write_files()
    assert (folder / "studio.json").read_text() == before


# -- leave and resume -------------------------------------------------------------------------------------------


def test_leaving_and_resuming_brings_back_the_model_targets_and_folder(qtbot: QtBot, step: GenerateStep,
                                                                      tmp_path: Path) -> None:
    folder = tmp_path / "resume"
    _type_folder(qtbot, step, folder)
    _start_from(step, "marketplace")
    step.workbench.editor.select_entity("orders")
    step.workbench.editor.add_field_button.click()
    step.workbench.editor.fields_table.item(3, FIELD_NAME).setText("note")
    step.targets.boxes["python"].setChecked(False)
    edited = step.model()
    state = json.loads(json.dumps(step.state()))
    assert state == {"template": "marketplace", "targets": ["typescript", "dart"], "folder": str(folder)}

    later = GenerateStep(choose_folder=lambda _start: None)
    qtbot.addWidget(later)
    later.restore({**state, "stale": 1})
    assert later.model() == edited
    assert later.targets.clients() == ["typescript", "dart"]
    assert later.folder_edit.text() == str(folder)
    assert later.picker.current() == "marketplace"
    assert "clients/python/marketplace_client/__init__.py" not in later.workbench.files.paths()
    assert later.problems() == [NOT_WRITTEN]


def test_resuming_in_a_folder_without_a_model_starts_from_the_template(qtbot: QtBot, tmp_path: Path) -> None:
    step = GenerateStep(choose_folder=lambda _start: None)
    qtbot.addWidget(step)
    step.restore({"template": "booking", "targets": "not a list", "folder": str(tmp_path / "fresh")})
    assert step.model() == template("booking").build()
    assert load_model(tmp_path / "fresh") == template("booking").build()
    assert step.targets.clients() == ["typescript", "dart", "python"]
    step.restore({"template": "no-such-template", "folder": 42})
    assert step.picker.current() == ""


def test_browse_opens_the_model_saved_in_the_chosen_folder(step: GenerateStep, answers: FolderAnswers,
                                                            tmp_path: Path) -> None:
    other = tmp_path / "existing"
    other.mkdir()
    saved = AppModel("Existing", entities=(Entity("notes", fields=(Field("body", FieldType.LONG_TEXT),)),))
    save_model(other, saved)
    step.browse_button.click()  # cancelled: nothing changes
    assert answers.asked_from == [step.folder_edit.text()]
    assert step.model().entities == ()
    answers.answer = str(other)
    step.browse_button.click()
    assert step.folder_edit.text() == str(other)
    assert step.model() == saved
    assert step.folder_message.text().startswith(f"Opened the data model saved in {other / 'studio.json'}")


def test_picking_a_template_over_work_asks_first_and_undo_brings_the_work_back(
        qtbot: QtBot, step: GenerateStep, tmp_path: Path) -> None:
    _type_folder(qtbot, step, tmp_path / "app")
    _start_from(step, "todo")
    mine = step.model()
    _start_from(step, "blog")
    assert step.picker.confirm.isVisibleTo(step)
    assert step.picker.confirm_label.text() == "This replaces your 2 entities. Undo can bring it back."
    assert step.model() == mine
    step.picker.keep_button.click()
    assert step.model() == mine and not step.picker.confirm.isVisibleTo(step)
    _start_from(step, "blog")
    step.picker.replace_button.click()
    assert step.model() == template("blog").build()
    step.workbench.editor.undo_button.click()
    assert step.model() == mine
    assert load_model(tmp_path / "app") == mine


def test_hostile_names_block_next_and_are_kept_as_typed(qtbot: QtBot, step: GenerateStep, tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    _type_folder(qtbot, step, folder)
    _start_from(step, "todo")
    editor = step.workbench.editor
    editor.select_entity("todos")
    hostile = 'todos"; drop table auth.users; --'
    editor.name_edit.setText(hostile)
    editor.name_edit.editingFinished.emit()
    problems = step.problems()
    assert problems[0] == "The data model has 1 problem to fix:"
    assert problems[1] == (f"• Entity {hostile}: the entity name “{hostile}” must start with a lower-case letter"
                           " and use only lower-case letters, digits and underscores")
    assert load_model(folder).entities[1].name == hostile
    assert not step.write_files()
    assert not (folder / "supabase").exists()


# -- schema checks in a scratch database -----------------------------------------------------------------------


def test_the_generated_schema_is_checked_in_a_scratch_database(qtbot: QtBot, qloop: qasync.QEventLoop,
                                                               step: GenerateStep, local_server: LocalServer,
                                                               tmp_path: Path) -> None:
    handle = local_project(local_server, tmp_path / "project")
    step.set_project(handle)
    assert step.folder_edit.text() == str(tmp_path / "project")
    _start_from(step, "team")
    step.workbench.check_now()
    assert step.workbench.checks.text().endswith("Checking the schema in a scratch database…")
    run_until_signal(qloop, step.workbench.checks_done, timeout=120)
    assert step.workbench.findings() == [], step.workbench.checks.text()
    assert step.workbench.checks.text() == ("No problems. The schema applies cleanly and passes Supabase's security"
                                            " and performance checks.")


def test_a_schema_check_result_for_an_older_model_is_dropped(qtbot: QtBot, qloop: qasync.QEventLoop,
                                                             local_server: LocalServer, tmp_path: Path) -> None:
    handle = local_project(local_server, tmp_path / "project")
    checker = SchemaChecker(handle.ensure_server)
    page = ModelPage(checker=checker)
    qtbot.addWidget(page)
    page.set_project(handle)
    _start_from(page, "todo")
    delivered: list[AppModel] = []
    checker.checked.connect(lambda model, _findings: delivered.append(model))
    page.workbench.check_now()
    page.workbench.editor.select_entity("lists")
    page.workbench.editor.add_field_button.click()  # a newer model: the running check is replaced
    page.workbench.check_now()
    run_until_signal(qloop, page.workbench.checks_done, timeout=120)
    assert page.workbench.findings() == [], page.workbench.checks.text()
    assert delivered == [page.workbench.model()]


# -- the Data model page ---------------------------------------------------------------------------------------


def _open(page: ModelPage, tmp_path: Path, workspace: Path) -> None:
    """Show `workspace` in the page, without schema checks (they need a running loop and a server)."""
    page.set_project(_handle(tmp_path, workspace))
    page.workbench.checker.set_server(None)


def _handle(tmp_path: Path, workspace: Path) -> ProjectHandle:
    """A project whose database is never opened (the page needs only its folder)."""

    async def _no_target() -> Target:
        raise AssertionError("the Data model page opened the database")

    return ProjectHandle(ProjectKind.LOCAL, "Test project", workspace, LocalServer(tmp_path / "unused-server"),
                         _no_target)


def test_the_data_model_page_edits_saves_and_generates(qtbot: QtBot, tmp_path: Path,
                                                       messages: UserMessages) -> None:
    workspace = tmp_path / "shop"
    workspace.mkdir()
    save_model(workspace, template("marketplace").build())
    (workspace / "clients" / "dart").mkdir(parents=True)
    page = ModelPage()
    qtbot.addWidget(page)
    page.resize(1300, 850)
    _open(page, tmp_path, workspace)
    assert page.workbench.model() == template("marketplace").build()
    assert page.targets.clients() == ["dart"]  # what the project already has
    assert not page.save_button.isEnabled()
    page.workbench.editor.select_entity("orders")
    page.workbench.editor.add_field_button.click()
    page.workbench.editor.fields_table.item(3, FIELD_NAME).setText("note")
    assert page.unsaved() and page.save_button.isEnabled() and page.save_button.text() == "Save*"
    assert load_model(workspace) == template("marketplace").build()  # nothing saved before Save
    with qtbot.waitSignal(page.saved):
        page.save_button.click()
    assert load_model(workspace) == page.workbench.model()
    assert page.status.text() == f"Saved in {workspace / 'studio.json'}."
    assert not page.save_button.isEnabled()
    expected = generate_files(page.workbench.model(), clients=["dart"], workspace=workspace)
    with qtbot.waitSignal(page.files_written):
        page.generate_button.click()
    assert _files_under(workspace) == expected
    assert page.status.text().startswith(f"Wrote {len(_files_under(workspace))} changed files into {workspace}")
    assert messages.history == []


def test_unsaved_edits_come_back_when_the_user_returns_to_the_project(qtbot: QtBot, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for workspace, name in ((first, "todo"), (second, "booking")):
        workspace.mkdir()
        save_model(workspace, template(name).build())
    page = ModelPage()
    qtbot.addWidget(page)
    _open(page, tmp_path, first)
    page.workbench.editor.add_entity_button.click()
    edited = page.workbench.model()
    _open(page, tmp_path, second)
    assert page.workbench.model() == template("booking").build() and not page.unsaved()
    _open(page, tmp_path, first)
    assert page.workbench.model() == edited and page.unsaved()
    assert page.status.text() == "Your unsaved changes are back: Save to keep them."
    assert load_model(first) == template("todo").build()


def test_the_data_model_page_for_a_project_without_a_model_or_with_a_damaged_one(qtbot: QtBot,
                                                                                  tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    page = ModelPage()
    qtbot.addWidget(page)
    _open(page, tmp_path, empty)
    assert page.status.text() == "This project has no data model yet: start from a template, or add entities."
    assert page.picker.isVisibleTo(page)
    _start_from(page, "todo")
    assert page.workbench.model() == template("todo").build()
    assert page.unsaved()
    page.workbench.editor.fields_table.item(0, FIELD_NAME).setText("Title")
    assert not page.generate()
    assert page.status.text() == "Fix the 1 problem shown first: the files cannot be made from this model yet."
    assert not (empty / "supabase").exists()

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "studio.json").write_text("{not json")
    _open(page, tmp_path, damaged)
    assert page.status.text().startswith(f"{damaged / 'studio.json'} is not valid JSON")
    assert not page.save_button.isEnabled() and not page.generate_button.isEnabled()
    assert not page.save()
    assert (damaged / "studio.json").read_text() == "{not json"


def test_screenshots_of_the_step_and_the_page(qtbot: QtBot, step: GenerateStep, tmp_path: Path) -> None:
    """The step and the page render (saved in the test's folder, and in $STUDIO_SCREENSHOTS when set)."""
    _type_folder(qtbot, step, tmp_path / "shots")
    _start_from(step, "blog")
    step.workbench.editor.select_entity("posts")
    page = ModelPage()
    qtbot.addWidget(page)
    page.resize(1300, 850)
    _open(page, tmp_path, tmp_path / "shots")
    page.workbench.editor.select_entity("posts")
    page.show()
    assert page.workbench.model() == step.model()
    targets = [tmp_path]
    if os.environ.get("STUDIO_SCREENSHOTS"):
        targets.append(Path(os.environ["STUDIO_SCREENSHOTS"]))
    QApplication.processEvents()  # let the layouts settle, as the app's event loop would before painting
    for folder in targets:
        folder.mkdir(parents=True, exist_ok=True)
        assert step.grab().save(str(folder / "wizard_generate.png"))
        assert page.grab().save(str(folder / "data_model.png"))
