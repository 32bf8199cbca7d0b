"""The data-model editor, its diagram and the file preview, driven through their real widgets (offscreen).

Each test edits the way a builder would (buttons, table cells, pickers, the name field and Enter) and
checks what they would see: the entity list, the boxes and lines of the diagram, the generated files, and
the problems written next to what they concern.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QComboBox, QLabel
from pytestqt.qtbot import QtBot

from studio.core.generate.sql import POLICIES_FILE, TABLES_FILE
from studio.core.lint import Finding, Level
from studio.core.model import AppModel, Entity, Field, FieldType, Link, LinkKind
from studio.core.model.templates import TEMPLATES, template
from studio.ui.pages.data_model import ModelWorkbench
from studio.ui.widgets.er_diagram import ErDiagram, columns_of
from studio.ui.widgets.model_editor import (
    FIELD_CHOICES,
    FIELD_DEFAULT,
    FIELD_KIND,
    FIELD_NAME,
    FIELD_REQUIRED,
    LINK_KIND,
    LINK_REQUIRED,
    LINK_TARGET,
    ModelEditor,
)


@pytest.fixture
def bench(qtbot: QtBot) -> Iterator[ModelWorkbench]:
    """A workbench (editor, diagram, files) with no schema checks, sized like a window."""
    widget = ModelWorkbench()
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    yield widget


def _entities(editor: ModelEditor) -> list[str]:
    return [editor.entity_list.item(i).text() for i in range(editor.entity_list.count())]


def _combo(table, row: int, column: int) -> QComboBox:  # type: ignore[no-untyped-def]
    widget = table.cellWidget(row, column)
    assert isinstance(widget, QComboBox)
    return widget


def _pick(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    assert index >= 0, f"{value} is not offered"
    combo.setCurrentIndex(index)


def _rename(qtbot: QtBot, editor: ModelEditor, name: str) -> None:
    """Type (or paste, for what a keyboard cannot type) a new name for the shown entity and press Enter."""
    editor.name_edit.selectAll()
    editor.name_edit.clear()
    if name.isascii():
        qtbot.keyClicks(editor.name_edit, name)
    else:
        editor.name_edit.insert(name)
    qtbot.keyClick(editor.name_edit, Qt.Key.Key_Return)


def _segments(path: QPainterPath) -> list[tuple[QPointF, QPointF]]:
    points = []
    for index in range(path.elementCount()):
        element = path.elementAt(index)
        points.append((element.isMoveTo(), QPointF(element.x, element.y)))
    return [(points[i - 1][1], point) for i, (move, point) in enumerate(points) if i and not move]


def _crosses(path: QPainterPath, rect: QRectF) -> bool:
    """Whether a line of `path` runs through the inside of `rect` (sampled along every segment)."""
    inside = rect.adjusted(1, 1, -1, -1)
    for start, end in _segments(path):
        for step in range(41):
            t = step / 40
            if inside.contains(QPointF(start.x() + (end.x() - start.x()) * t, start.y() + (end.y() - start.y()) * t)):
                return True
    return False


def _assert_legible(diagram: ErDiagram) -> None:
    """No two boxes overlap and no line runs through a box it does not join."""
    rects = {i: box.sceneBoundingRect() for i, box in diagram.boxes.items()}
    for a in rects:
        for b in rects:
            if a < b:
                assert not rects[a].intersects(rects[b]), f"boxes {a} and {b} overlap"
    for edge in diagram.edges:
        for index, rect in rects.items():
            if index not in (edge.source, edge.target):
                assert not _crosses(edge.item.path(), rect), f"the line of {edge.link.name} crosses box {index}"


# -- a template in the editor and the diagram ------------------------------------------------------------------


def test_a_template_shows_its_entities_in_the_editor_and_the_diagram(bench: ModelWorkbench) -> None:
    bench.editor.replace_model(template("blog").build())
    assert _entities(bench.editor) == ["categories", "posts", "comments", "contact_messages"]
    assert bench.editor.selected_entity() == "categories"
    assert [bench.diagram.box_text[i][0] for i in sorted(bench.diagram.boxes)] == _entities(bench.editor)
    posts = bench.diagram.box_text[1]
    assert "title *  text" in posts and "category  → categories" in posts
    drawn = sorted((e.link.source, e.link.target) for e in bench.diagram.edges)
    assert drawn == [("comments", "posts"), ("posts", "categories")]
    # What is linked to stands left of what links to it.
    box = bench.diagram.box_of
    assert box("categories").sceneBoundingRect().right() < box("posts").sceneBoundingRect().left()
    assert box("posts").sceneBoundingRect().right() < box("comments").sceneBoundingRect().left()
    assert bench.problems() == []
    assert TABLES_FILE in bench.files.paths() and "clients/typescript/database.types.ts" in bench.files.paths()
    assert bench.files.selected_path() == TABLES_FILE


@pytest.mark.parametrize("name", [t.name for t in TEMPLATES])
def test_every_template_draws_without_overlaps_or_lines_through_boxes(qtbot: QtBot, name: str) -> None:
    diagram = ErDiagram()
    qtbot.addWidget(diagram)
    model = template(name).build()
    diagram.set_model(model)
    assert len(diagram.boxes) == len(model.entities)
    assert len(diagram.edges) == len(model.links)
    _assert_legible(diagram)


def test_a_tangled_model_still_draws_legibly(qtbot: QtBot) -> None:
    """Long links that skip a column, a circle of links, a self link and many-to-many in one column."""
    entities = tuple(Entity(n, fields=(Field("name", FieldType.TEXT),)) for n in ("a", "b", "c", "d", "e"))
    links = (
        Link("b", "c", "b"), Link("a", "b", "a"), Link("a", "c", "a"),  # c -> b -> a and c -> a skipping b
        Link("parent", "d", "d"),  # to itself
        Link("e", "d", "e"), Link("d", "e", "d"),  # a circle
        Link("tags", "a", "e", LinkKind.MANY_TO_MANY),
    )
    model = AppModel("tangle", entities=entities, links=links)
    assert [sorted(column) for column in columns_of(model)] == [[0, 4], [1, 3], [2]]  # the circle cut at e
    diagram = ErDiagram()
    qtbot.addWidget(diagram)
    diagram.set_model(model)
    assert len(diagram.edges) == len(links)
    _assert_legible(diagram)


# -- editing updates the diagram and the files ---------------------------------------------------------------


def test_adding_a_field_shows_in_the_diagram_and_the_generated_sql(bench: ModelWorkbench) -> None:
    editor = bench.editor
    editor.replace_model(template("blog").build())
    assert editor.select_entity("posts")
    editor.add_field_button.click()
    row = editor.fields_table.rowCount() - 1
    editor.fields_table.item(row, FIELD_NAME).setText("subtitle")
    _pick(_combo(editor.fields_table, row, FIELD_KIND), "long_text")
    editor.fields_table.item(row, FIELD_REQUIRED).setCheckState(Qt.CheckState.Checked)
    field = editor.model().entity("posts").field("subtitle")
    assert field == Field("subtitle", FieldType.LONG_TEXT, required=True)
    assert "subtitle *  long text" in bench.diagram.box_text[1]
    assert "subtitle text not null" in bench.files.text_of(TABLES_FILE)
    assert "subtitle" in bench.files.text_of("clients/typescript/database.types.ts")


def test_adding_a_link_draws_a_line_and_adds_the_column(bench: ModelWorkbench) -> None:
    editor = bench.editor
    editor.replace_model(template("blog").build())
    editor.select_entity("comments")
    before = len(bench.diagram.edges)
    editor.add_link_button.click()
    row = editor.links_table.rowCount() - 1
    _pick(_combo(editor.links_table, row, LINK_TARGET), "categories")
    # The name followed the target: one category per comment.
    assert editor.links_table.item(row, 0).text() == "category"
    assert "Each comment can belong to one category" in editor.link_sentences.text()
    assert len(bench.diagram.edges) == before + 1
    assert ("comments", "categories") in {(e.link.source, e.link.target) for e in bench.diagram.edges}
    assert "category_id uuid" in bench.files.text_of(TABLES_FILE).split("create table public.comments", 1)[1]
    _assert_legible(bench.diagram)


def test_a_many_to_many_link_makes_a_join_table(bench: ModelWorkbench) -> None:
    editor = bench.editor
    editor.replace_model(AppModel("Tags", entities=(Entity("posts"), Entity("tags"))))
    editor.select_entity("posts")
    editor.add_link_button.click()
    _pick(_combo(editor.links_table, 0, LINK_TARGET), "tags")
    _pick(_combo(editor.links_table, 0, LINK_KIND), "many_to_many")
    assert [(lk.name, lk.source, lk.target, lk.kind) for lk in editor.model().links] == [
        ("tags", "posts", "tags", LinkKind.MANY_TO_MANY)]
    required = editor.links_table.item(0, LINK_REQUIRED)
    assert not required.flags() & Qt.ItemFlag.ItemIsEnabled  # "must be set" means nothing for many
    assert "Each post can have many tags, and each tag many posts." in editor.link_sentences.text()
    assert "create table public.posts_tags" in bench.files.text_of(TABLES_FILE)
    assert "tags (many)" in " ".join(bench.diagram.box_text[0])


def test_who_can_see_it_changes_the_access_rules(bench: ModelWorkbench) -> None:
    editor = bench.editor
    editor.replace_model(template("blog").build())
    editor.select_entity("posts")
    assert "Owners read their rows" not in bench.files.text_of(POLICIES_FILE).split("-- posts")[1]
    _pick(editor.access_combo, "private")
    assert editor.access_combo.currentText() == "Only the signed-in owner"
    assert "Nobody else can see it" in editor.access_hint.text()
    posts_policies = bench.files.text_of(POLICIES_FILE).split("-- posts", 1)[1].split("\n-- ", 1)[0]
    assert "Anyone can read" not in posts_policies and "Owners read their rows" in posts_policies
    assert bench.diagram.box_text[1][:2] == ["posts", "only the owner sees it"]


# -- problems, inline ------------------------------------------------------------------------------------------


def test_a_bad_field_name_is_explained_next_to_the_field_and_stops_the_files(bench: ModelWorkbench) -> None:
    editor = bench.editor
    editor.replace_model(template("todo").build())
    editor.select_entity("todos")
    editor.fields_table.item(0, FIELD_NAME).setText("Due Date")
    said = editor.entity_problems_label.text()
    assert editor.entity_problems_label.isVisibleTo(editor)
    assert "Field “Due Date”" in said and "must start with a lower-case letter" in said
    assert editor.fields_table.item(0, FIELD_NAME).toolTip().startswith("The field name “Due Date” must start")
    assert editor.fields_table.item(0, FIELD_NAME).background().color() != editor.fields_table.item(
        1, FIELD_NAME).background().color()
    assert "must start" in editor.entity_list.item(1).toolTip()
    assert bench.files.message_text().startswith("Fix the 1 problem")
    assert bench.files.paths() == []
    outlines = {i: box.pen().color().name() for i, box in bench.diagram.boxes.items()}
    assert [i for i, color in outlines.items() if color != outlines[0]] == [1]  # todos is outlined
    assert bench.checks.text().startswith("1 problem to fix")
    editor.fields_table.item(0, FIELD_NAME).setText("due_date")
    assert editor.problems() == [] and not editor.entity_problems_label.isVisibleTo(editor)
    assert TABLES_FILE in bench.files.paths()


def test_a_choice_field_needs_choices_and_defaults_are_read_in_words(bench: ModelWorkbench) -> None:
    editor = bench.editor
    editor.replace_model(AppModel("Shop", entities=(Entity("orders"),)))
    editor.add_field_button.click()
    editor.fields_table.item(0, FIELD_NAME).setText("status")
    _pick(_combo(editor.fields_table, 0, FIELD_KIND), "enum")
    assert any("needs at least one value" in text for text in editor.problem_texts("orders"))
    editor.fields_table.item(0, FIELD_CHOICES).setText("placed, paid ,shipped")
    editor.fields_table.item(0, FIELD_DEFAULT).setText("paid")
    assert editor.model().entities[0].fields[0].values == ("placed", "paid", "shipped")
    assert editor.problems() == []
    assert "create type public.order_status as enum ('placed', 'paid', 'shipped')" in bench.files.text_of(TABLES_FILE)
    editor.add_field_button.click()
    editor.fields_table.item(1, FIELD_NAME).setText("gift")
    _pick(_combo(editor.fields_table, 1, FIELD_KIND), "boolean")
    editor.fields_table.item(1, FIELD_DEFAULT).setText("yes")
    assert editor.model().entities[0].fields[1].default is True
    editor.fields_table.item(1, FIELD_DEFAULT).setText("maybe")
    assert any("The default 'maybe' does not suit a boolean field" in t for t in editor.problem_texts("orders"))


def test_an_empty_model_asks_for_an_entity(bench: ModelWorkbench) -> None:
    bench.editor.replace_model(AppModel("Nothing yet"))
    assert bench.editor.model_problems_label.isVisibleTo(bench.editor)
    assert bench.editor.model_problems_label.text() == "Model: add at least one entity"
    assert bench.editor.empty_hint.isVisibleTo(bench.editor)
    assert not bench.diagram.boxes


# -- entities: add, rename, remove, undo -----------------------------------------------------------------------


def test_renaming_an_entity_keeps_its_links_and_refuses_a_taken_name(qtbot: QtBot, bench: ModelWorkbench) -> None:
    editor = bench.editor
    editor.replace_model(template("blog").build())
    editor.select_entity("posts")
    _rename(qtbot, editor, "articles")
    model = editor.model()
    assert [e.name for e in model.entities] == ["categories", "articles", "comments", "contact_messages"]
    assert {(lk.source, lk.target) for lk in model.links} == {("articles", "categories"), ("comments", "articles")}
    assert _entities(editor)[1] == "articles"
    assert "post  → articles" in " | ".join(bench.diagram.box_text[2]).replace(" *", "")
    _rename(qtbot, editor, "comments")
    assert editor.name_message.text() == "Another entity is already called “comments”; choose a different name."
    assert editor.name_edit.text() == "articles"
    assert [e.name for e in editor.model().entities].count("comments") == 1


def test_removing_an_entity_takes_its_links_and_undo_brings_all_back(bench: ModelWorkbench) -> None:
    editor = bench.editor
    original = template("blog").build()
    editor.replace_model(original)
    editor.select_entity("posts")
    editor.remove_entity_button.click()
    assert _entities(editor) == ["categories", "comments", "contact_messages"]
    assert editor.model().links == ()
    assert editor.status_label.text() == "Removed “posts” and 2 links. Undo brings it back."
    assert not bench.diagram.edges
    editor.undo_button.click()
    assert editor.model() == original
    assert len(bench.diagram.edges) == 2


def test_add_entity_then_name_it(qtbot: QtBot, bench: ModelWorkbench) -> None:
    editor = bench.editor
    editor.replace_model(AppModel("Notes"))
    editor.add_entity_button.click()
    assert editor.selected_entity() == "new_entity"
    _rename(qtbot, editor, "notes")
    editor.add_field_button.click()
    editor.fields_table.item(0, FIELD_NAME).setText("body")
    assert editor.model().entities == (Entity("notes", fields=(Field("body", FieldType.TEXT),)),)
    assert bench.diagram.box_text[0] == ["notes", "only the owner sees it", "body  text"]
    assert "create table public.notes" in bench.files.text_of(TABLES_FILE)


# -- hostile names ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Robert'); drop table students;--", "<b>bold</b> & \"quoted\"", "café", "select",
                                  "my posts", "x" * 70])
def test_hostile_entity_names_are_shown_as_typed_and_explained(qtbot: QtBot, bench: ModelWorkbench,
                                                               name: str) -> None:
    editor = bench.editor
    editor.replace_model(template("todo").build())
    editor.select_entity("lists")
    _rename(qtbot, editor, name)
    assert editor.model().entities[0].name == name
    assert _entities(editor)[0] == name
    assert bench.diagram.box_text[0][0] == name
    assert {(lk.source, lk.target) for lk in editor.model().links} == {("todos", name)}
    said = editor.problem_texts(name)
    assert said, "the name must be flagged"
    assert any(word in " ".join(said) for word in ("lower-case", "reserved word", "63 bytes"))
    label: QLabel = editor.entity_problems_label
    assert label.textFormat() == Qt.TextFormat.PlainText  # markup in a name is never rendered
    assert name in label.text()
    assert bench.files.paths() == []  # nothing is generated from it


# -- schema checks shown inline ----------------------------------------------------------------------------------


def test_schema_check_findings_are_shown_under_their_entity_and_stale_ones_dropped(bench: ModelWorkbench) -> None:
    editor = bench.editor
    editor.replace_model(template("blog").build())
    model = editor.model()
    finding = Finding("auth_rls_initplan", Level.WARNING, "policy:public.posts.Owners change their rows",
                      "A policy checks the signed-in user once per row", "It gets slow on big tables.",
                      "Wrap the call in (select ...).")
    bench.checker.checked.emit(AppModel("older"), [finding])  # a result for a model no longer shown
    assert bench.findings() is None
    bench.checker.checked.emit(model, [finding])
    assert bench.findings() == [finding]
    assert bench.checks.text() == ("The schema checks found 1 thing to look at:\n• A policy checks the signed-in"
                                   " user once per row (warning): It gets slow on big tables.")
    editor.select_entity("posts")
    assert editor.notes_label.isVisibleTo(editor)
    assert editor.notes_label.text() == "• A policy checks the signed-in user once per row (warning)"
    editor.select_entity("comments")
    assert not editor.notes_label.isVisibleTo(editor)
    bench.checker.failed.emit(model, "The local database did not start.")
    assert bench.checks.text() == "The schema could not be checked: The local database did not start."
    editor.select_entity("posts")
    editor.add_field_button.click()  # the model changed: old findings no longer apply
    assert bench.findings() is None and not editor.notes_label.isVisibleTo(editor)
    assert bench.checks.text() == "No problems: the files are ready to write."
