"""The table browser page, driven offscreen against real PostgreSQL (no mocks): browsing, scrolling,
sorting, filtering, editing, view-as with row level security, export and copying."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import qasync
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt, SignalInstance
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from studio.core.browse import ExportFormat, Filter, FilterOp, ViewAs
from studio.core.sqltext import qualified, quote_ident
from studio.core.targets.local import LocalServer
from studio.services.jobs import JobRunner
from studio.services.messages import Level, UserMessages
from studio.services.projects import database_project
from studio.ui.models.rows import RowsRole, RowState
from studio.ui.pages.browser import BrowserPage
from studio.ui.theme import Scheme, apply_theme, colors
from tests.gui.conftest import run_until
from tests.support.netcut import NetCut

ALICE = "11111111-1111-1111-1111-111111111111"
BOB = "22222222-2222-2222-2222-222222222222"


def execute(db_url: str, sql: str, params: list[Any] | None = None) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql, params)


def rows_of(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


MakePage = Callable[[], BrowserPage]


@pytest.fixture
def make_page(qloop: qasync.QEventLoop, qtbot: QtBot, local_server: LocalServer, db_url: str, tmp_path: Path,
              messages: UserMessages) -> Iterator[MakePage]:
    """Opens the browser page on the test's database, with its relation list loaded."""
    runner = JobRunner()
    pages: list[BrowserPage] = []

    def _make() -> BrowserPage:
        page = BrowserPage(runner)
        qtbot.addWidget(page)
        page.resize(1200, 700)
        page.show()
        wait_signal(qloop, page, page.service.relations_loaded,
                    lambda: page.set_project(database_project(local_server, tmp_path, db_url, "Test database")))
        pages.append(page)
        return page

    yield _make
    for page in pages:
        page.shutdown()
    run_until(qloop, lambda: not runner.busy)


# qasync's run_until_complete processes Qt events once more after it stopped being the running loop; a
# database read in flight at that moment would break. So every wait here ends with no job running.


def settle(qloop: qasync.QEventLoop, page: BrowserPage, condition: Callable[[], bool]) -> None:
    """Run the loop until `condition()` holds and no job of the page runs."""
    run_until(qloop, lambda: condition() and not page.runner.busy)


def wait_signal(qloop: qasync.QEventLoop, page: BrowserPage, signal: SignalInstance,
                trigger: Callable[[], object] | None = None) -> tuple[Any, ...]:
    """Connect to `signal`, call `trigger`, then settle once `signal` was emitted; returns its arguments."""
    seen: list[tuple[Any, ...]] = []

    def _fired(*args: Any) -> None:
        seen.append(args)

    signal.connect(_fired)
    try:
        if trigger is not None:
            trigger()
        settle(qloop, page, lambda: bool(seen))
    finally:
        signal.disconnect(_fired)
    return seen[0]


def open_table(qloop: qasync.QEventLoop, page: BrowserPage, name: str) -> None:
    item = page.relation_item(name)
    assert item is not None, f"{name} is not listed"
    wait_signal(qloop, page, page.relation_shown, lambda: page.tables.setCurrentItem(item))


def column_texts(page: BrowserPage, column: str) -> list[str]:
    model = page.model
    section = page.relation.index_of(column) if page.relation else 0
    return [model.index(row, section).data() for row in range(model.rowCount())]


def wait_idle(qloop: qasync.QEventLoop, page: BrowserPage) -> None:
    settle(qloop, page, lambda: not page.model.loading)


def edit_cell(qloop: qasync.QEventLoop, qtbot: QtBot, page: BrowserPage, row: int, column: int, text: str) -> None:
    """Type into a cell's inline editor and press Enter, as a user would."""
    index = page.model.index(row, column)
    page.select_cell(row, column)
    page.grid.edit(index)
    editor = page.grid.indexWidget(index)
    assert isinstance(editor, QLineEdit), "the cell did not open an editor"
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # The delegate commits and closes the editor in a queued call.
    settle(qloop, page, lambda: page.grid.indexWidget(index) is None)


# -- browsing -------------------------------------------------------------------------------------------


@pytest.fixture
def numbers(db_url: str) -> None:
    execute(db_url, """
        create table public.numbers (id int primary key, label text, score int);
        insert into public.numbers
        select g, 'row ' || g, case when g % 7 = 0 then null else g % 10 end from generate_series(1, 1200) g;
        analyze public.numbers;
        create view public.even_numbers as select id, label from public.numbers where id % 2 = 0;
    """)


def test_tables_are_listed_with_estimates_and_rows_appear_then_load_as_you_scroll(
        qloop: qasync.QEventLoop, make_page: MakePage, numbers: None) -> None:
    page = make_page()
    item = page.relation_item("public.numbers")
    assert item is not None and item.text(1) == "≈1.2k"
    view_item = page.relation_item("public.even_numbers")
    assert view_item is not None and view_item.text(1) == "view"
    open_table(qloop, page, "public.numbers")
    assert page.title.text() == "public.numbers"
    assert "about 1,200 rows" in page.subtitle.text()
    model = page.model
    assert model.rowCount() == 500 and model.has_more_after
    assert model.index(0, 1).data() == "row 1"
    assert "500 rows loaded, more load as you scroll" in page.status.text()
    # NULL is shown distinctly (muted, italic), not as an empty string
    null_cell = model.index(6, 2)
    assert null_cell.data() == "NULL" and null_cell.data(RowsRole.IS_NULL) is True
    assert null_cell.data(Qt.ItemDataRole.ForegroundRole).color() == colors().null_text
    while model.has_more_after:
        rows = model.rowCount()
        page.grid.scrollToBottom()
        settle(qloop, page, lambda rows=rows: model.rowCount() > rows)  # type: ignore[misc]
    assert model.rowCount() == 1200
    assert model.index(1199, 1).data() == "row 1200"
    assert page.status.text().startswith("1,200 rows ·")


def test_only_a_window_of_pages_stays_in_memory_and_dropped_pages_come_back(
        qloop: qasync.QEventLoop, make_page: MakePage, numbers: None) -> None:
    page = make_page()
    model = page.model
    model.page_rows, model.max_page_rows, model.resident_rows_limit = 50, 50, 150
    open_table(qloop, page, "public.numbers")
    while model.has_more_after:
        rows = model.rowCount()
        page.grid.scrollToBottom()
        settle(qloop, page, lambda rows=rows: model.rowCount() > rows)  # type: ignore[misc]
    assert model.rowCount() == 1200
    assert model.resident_rows <= 250  # a window, not the whole table
    assert model.index(0, 1).data() in ("…", "row 1")  # far from the view: dropped
    page.grid.scrollToTop()
    settle(qloop, page, lambda: model.index(0, 1).data() == "row 1")
    assert model.index(49, 1).data() == "row 50"
    assert model.resident_rows <= 250


def test_rows_deleted_and_saved_in_another_window_leave_the_grid_when_their_page_is_read_again(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, local_server: LocalServer, db_url: str,
        tmp_path: Path, numbers: None) -> None:
    page = make_page()
    model = page.model
    model.page_rows, model.max_page_rows, model.resident_rows_limit = 50, 50, 150
    open_table(qloop, page, "public.numbers")
    while model.has_more_after:
        rows = model.rowCount()
        page.grid.scrollToBottom()
        settle(qloop, page, lambda rows=rows: model.rowCount() > rows)  # type: ignore[misc]
    page.grid.scrollToTop()
    settle(qloop, page, lambda: model.index(0, 1).data() == "row 1")
    assert model.index(model.rowCount() - 1, 0).data() == "…"  # the last pages were dropped from memory

    # a second window deletes rows in two of those pages (one in the middle, the last) and saves
    other = BrowserPage(JobRunner())
    qtbot.addWidget(other)
    try:
        wait_signal(qloop, other, other.service.relations_loaded,
                    lambda: other.set_project(database_project(local_server, tmp_path, db_url, "Test database")))
        open_table(qloop, other, "public.numbers")
        other.jump_to_end()
        settle(qloop, other, lambda: other.model.index(other.model.rowCount() - 1, 1).data() == "row 1200")
        gone = {1003, 1004, 1005, 1196, 1197, 1198, 1199, 1200}
        for row in range(other.model.rowCount()):
            if int(other.model.index(row, 0).data()) in gone:
                other.select_cell(row, 0)
                other.delete_selected_rows()
        assert other.model.staged is not None and other.model.staged.summary == "8 deleted rows"
        wait_signal(qloop, other, other.changes_saved, other.save_changes)
    finally:
        other.shutdown()
        run_until(qloop, lambda: not other.runner.busy)

    # back in the first window, scrolling down reads those pages again: the real rows, no stand-ins
    def shown_ids() -> list[int]:
        texts = [model.index(row, 0).data() for row in range(model.rowCount())]
        assert "NULL" not in texts, "rows of NULLs stand in for the deleted ones"
        return [int(text) for text in texts if text != "…"]

    page.grid.scrollToBottom()
    settle(qloop, page, lambda: model.index(model.rowCount() - 1, 0).data() != "…")
    assert model.index(model.rowCount() - 1, 0).data() == "1195"
    loaded = shown_ids()
    assert loaded == sorted(set(loaded)) and set(loaded).isdisjoint(gone)
    page.grid.scrollTo(model.index(990, 0))
    settle(qloop, page, lambda: model.index(990, 0).data() != "…")
    loaded = shown_ids()
    assert loaded == sorted(set(loaded)), "a row is shown twice"
    assert set(loaded).isdisjoint(gone) and {1002, 1006} <= set(loaded)
    assert model.rowCount() == 1192


def test_jump_to_end_shows_the_last_rows_and_scrolling_up_reads_the_earlier_ones(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, numbers: None) -> None:
    page = make_page()
    model = page.model
    open_table(qloop, page, "public.numbers")
    qtbot.mouseClick(page.end_button, Qt.MouseButton.LeftButton)
    wait_signal(qloop, page, model.jumped_to_end)
    assert model.rowCount() == 500
    assert model.index(model.rowCount() - 1, 1).data() == "row 1200"
    assert model.has_more_before and not model.has_more_after
    last_visible = page.grid.rowAt(page.grid.viewport().height() - 1)
    assert last_visible in (model.rowCount() - 1, -1)
    # scrolling to the top reads the page before; the rows in view stay where they were
    page.grid.scrollToTop()
    settle(qloop, page, lambda: model.rowCount() == 1000)
    top = page.grid.rowAt(0)
    assert model.index(top, 1).data() == "row 701"
    page.grid.scrollToTop()
    settle(qloop, page, lambda: model.rowCount() == 1200 and not model.loading)
    assert model.index(0, 1).data() == "row 1"
    assert not model.has_more_before


def test_clicking_a_header_sorts_on_the_server_with_nulls_last_then_descending_then_back(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, numbers: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.numbers")
    header = page.grid.horizontalHeader()

    def click_score() -> None:
        x = header.sectionViewportPosition(2) + 5
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
        wait_idle(qloop, page)

    click_score()
    scores = column_texts(page, "score")
    assert scores[:3] == ["0", "0", "0"] and page.model.query is not None and page.model.query.sort is not None
    click_score()
    scores = column_texts(page, "score")
    assert scores[0] == "NULL"  # descending: NULLs first, as PostgreSQL orders them
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    click_score()
    assert column_texts(page, "id")[:3] == ["1", "2", "3"]
    assert not header.isSortIndicatorShown()


def test_the_filter_builder_and_quick_search_narrow_the_rows(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, numbers: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.numbers")
    qtbot.mouseClick(page.filter_button, Qt.MouseButton.LeftButton)
    row = page.filter_bar.rows[0]
    row.column.setCurrentText("score")
    row.operator.setCurrentText("≥")
    qtbot.keyClicks(row.value, "9")
    qtbot.mouseClick(page.filter_bar.apply_button, Qt.MouseButton.LeftButton)
    wait_idle(qloop, page)
    assert set(column_texts(page, "score")) == {"9"}
    assert page.model.rowCount() == 103
    assert "(filtered)" in page.status.text()
    page.filter_bar.add_condition("label", "ends with", "19")
    page.filter_bar.apply()
    wait_idle(qloop, page)
    # 119 and 819 are multiples of 7, whose score is NULL
    assert column_texts(page, "label") == ["row 19", "row 219", "row 319", "row 419", "row 519", "row 619",
                                           "row 719", "row 919", "row 1019", "row 1119"]
    page.filter_bar.clear()
    qtbot.keyClicks(page.search, "ROW 1111")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    wait_idle(qloop, page)
    assert column_texts(page, "label") == ["row 1111"]


def test_a_filter_value_that_does_not_fit_the_column_is_explained(
        qloop: qasync.QEventLoop, make_page: MakePage, messages: UserMessages, numbers: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.numbers")
    page.set_filters([Filter("score", FilterOp.GREATER, "lots")])
    settle(qloop, page, lambda: page.filter_problem.isVisible())
    assert "does not fit its column" in page.filter_problem.text()
    assert any("does not fit" in m.text for m in messages.history if m.level is Level.ERROR)


# -- editing --------------------------------------------------------------------------------------------


def test_edits_are_staged_in_colour_previewed_as_sql_and_saved_in_one_go(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, db_url: str, numbers: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.numbers")
    model = page.model
    edit_cell(qloop, qtbot, page, 0, 1, "first row")
    assert model.index(0, 1).data() == "first row"
    assert model.index(0, 1).data(RowsRole.STATE) == RowState.CHANGED
    assert model.index(0, 1).data(Qt.ItemDataRole.BackgroundRole).color() == colors().changed
    assert model.headerData(0, Qt.Orientation.Vertical) == "✎"
    # clearing a number means NULL
    edit_cell(qloop, qtbot, page, 1, 2, "")
    assert model.index(1, 2).data() == "NULL"
    # stage a deletion and a new row
    page.select_cell(2, 0)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert model.index(2, 0).data(RowsRole.STATE) == RowState.REMOVED
    assert model.index(2, 0).data(Qt.ItemDataRole.FontRole).strikeOut()
    qtbot.mouseClick(page.add_row_button, Qt.MouseButton.LeftButton)
    assert model.rowCount() == 501 and model.headerData(0, Qt.Orientation.Vertical) == "+"
    edit_cell(qloop, qtbot, page, 0, 0, "5000")
    edit_cell(qloop, qtbot, page, 0, 1, "brand new")
    assert model.index(0, 2).data() == "NULL"
    assert page.changes_bar.isVisible()
    assert page.changes_label.text() == "Not saved yet: 1 new row, 2 changed rows, 1 deleted row."
    qtbot.mouseClick(page.preview_button, Qt.MouseButton.LeftButton)
    sql = page.sql_preview.toPlainText()
    assert "delete from public.numbers where id = '3'::integer" in sql
    assert "update public.numbers set label = 'first row'::text where id = '1'::integer" in sql
    assert "update public.numbers set score = null where id = '2'::integer" in sql
    assert "insert into public.numbers (id, label) values ('5000'::integer, 'brand new'::text)" in sql
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    wait_signal(qloop, page, page.changes_saved)
    assert rows_of(db_url, "select id, label, score from public.numbers where id in (1, 2, 3, 5000) order by id") == [
        (1, "first row", 1), (2, "row 2", None), (5000, "brand new", None)]
    assert not page.changes_bar.isVisible()
    wait_idle(qloop, page)
    assert model.index(0, 1).data() == "first row" and model.rowCount() == 500


def test_staged_edits_take_the_new_colours_when_the_theme_switches(
        qloop: qasync.QEventLoop, qtbot: QtBot, qapp: QApplication, make_page: MakePage, numbers: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.numbers")
    model = page.model
    apply_theme(qapp, Scheme.LIGHT)
    try:
        edit_cell(qloop, qtbot, page, 0, 1, "changed")
        page.select_cell(1, 0)
        page.delete_selected_rows()
        page.add_row()
        light = colors()
        assert model.index(1, 1).data(Qt.ItemDataRole.BackgroundRole).color() == light.changed
        apply_theme(qapp, Scheme.DARK)
        dark = colors()
        assert dark.changed != light.changed
        # what the grid paints now: the new row, the changed cell, the deleted row, a NULL
        assert model.index(0, 1).data(Qt.ItemDataRole.BackgroundRole).color() == dark.added
        assert model.index(1, 1).data(Qt.ItemDataRole.BackgroundRole).color() == dark.changed
        assert model.index(2, 1).data(Qt.ItemDataRole.BackgroundRole).color() == dark.removed
        assert model.index(7, 2).data(Qt.ItemDataRole.ForegroundRole).color() == dark.null_text
        # the page's own colours follow once the palette change reaches it (an event, as in the app)
        settle(qloop, page, lambda: dark.changed.name() in page.changes_bar.styleSheet())
        image = page.grid.viewport().grab().toImage()
        cell = page.grid.visualRect(model.index(1, 1))
        assert image.pixelColor(cell.right() - 2, cell.center().y()) == dark.changed
    finally:
        apply_theme(qapp, Scheme.LIGHT)
    assert model.index(1, 1).data(Qt.ItemDataRole.BackgroundRole).color() == light.changed
    settle(qloop, page, lambda: light.changed.name() in page.changes_bar.styleSheet())


def test_a_failing_save_changes_nothing_keeps_the_edits_and_says_why(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, db_url: str, numbers: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.numbers")
    edit_cell(qloop, qtbot, page, 0, 1, "changed")
    page.add_row()
    edit_cell(qloop, qtbot, page, 0, 0, "2")  # id 2 exists already
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    settle(qloop, page, lambda: page.commit_problem.isVisible())
    problem = page.commit_problem.text()
    assert problem.startswith("Nothing was saved. Adding new row 1 failed")
    assert "must be unique" in problem and "(id)=(2)" in problem
    assert rows_of(db_url, "select label from public.numbers where id = 1") == [("row 1",)]
    assert page.changes_bar.isVisible() and page.save_button.isEnabled()
    assert page.changes_label.text() == "Not saved yet: 1 new row, 1 changed row."
    qtbot.mouseClick(page.discard_button, Qt.MouseButton.LeftButton)
    assert not page.changes_bar.isVisible()
    assert page.model.index(0, 1).data() == "row 1"


def test_unsaved_edits_keep_the_table_open_until_saved_or_discarded(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, messages: UserMessages, numbers: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.numbers")
    edit_cell(qloop, qtbot, page, 0, 1, "pending")
    view_item = page.relation_item("public.even_numbers")
    page.tables.setCurrentItem(view_item)
    assert page.relation is not None and page.relation.display_name == "public.numbers"
    settle(qloop, page, lambda: page.tables.currentItem() is page.relation_item("public.numbers"))
    assert any("Save or discard the changes to public.numbers" in m.text for m in messages.history)


def test_json_and_long_text_open_in_the_side_editor(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, db_url: str) -> None:
    execute(db_url, """
        create table public.docs (id int primary key, meta jsonb, body text);
        insert into public.docs values (1, '{"b": [1, 2], "a": "x"}', repeat('long line ', 500)),
                                       (2, null, 'short');
    """)
    page = make_page()
    open_table(qloop, page, "public.docs")
    model = page.model
    assert model.index(0, 2).data().endswith("…")  # only the start of the long text was read
    page.open_in_editor(model.index(0, 1))
    assert page.value_editor.isVisible()
    assert json.loads(page.value_editor.text.toPlainText()) == {"b": [1, 2], "a": "x"}
    assert "\n" in page.value_editor.text.toPlainText()  # pretty-printed
    page.value_editor.text.setPlainText('{"a": ')
    assert page.value_editor.width() > 200
    qtbot.mouseClick(page.value_editor.apply_button, Qt.MouseButton.LeftButton)
    assert "not valid JSON" in page.value_editor.problem.text()
    assert page.model.staged is not None and page.model.staged.empty
    page.value_editor.text.setPlainText('{"a": "y"}')
    qtbot.mouseClick(page.value_editor.apply_button, Qt.MouseButton.LeftButton)
    assert model.index(0, 1).data(RowsRole.STATE) == RowState.CHANGED
    # the long text is read whole for the editor
    page.open_in_editor(model.index(0, 2))
    settle(qloop, page, lambda: page.value_editor.text.toPlainText() == "long line " * 500)
    page.value_editor.text.setPlainText("short now")
    qtbot.mouseClick(page.value_editor.apply_button, Qt.MouseButton.LeftButton)
    # NULL is a choice of its own, apart from empty text
    page.open_in_editor(model.index(1, 1))
    assert page.value_editor.null.isChecked()
    page.save_changes()
    wait_signal(qloop, page, page.changes_saved)
    assert rows_of(db_url, "select meta, body from public.docs where id = 1") == [({"a": "y"}, "short now")]


def test_a_table_without_a_primary_key_is_read_only_and_says_why(
        qloop: qasync.QEventLoop, make_page: MakePage, db_url: str) -> None:
    execute(db_url, "create table public.loose (a int, b text); insert into public.loose values (1, 'x'), (2, null);")
    page = make_page()
    open_table(qloop, page, "public.loose")
    assert page.read_only_banner.isVisible()
    assert "no primary key" in page.read_only_banner.text()
    assert not page.add_row_button.isEnabled() and not page.delete_button.isEnabled()
    index = page.model.index(0, 1)
    assert index.data() == "x"
    assert not page.model.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert not page.model.setData(index, "y")


# -- view as --------------------------------------------------------------------------------------------


@pytest.fixture
def todos(db_url: str) -> None:
    execute(db_url, f"""
        insert into auth.users (id, email, last_sign_in_at)
        values ('{ALICE}', 'alice@example.com', now()), ('{BOB}', 'bob@example.com', now() - interval '1 day');
        create table public.todos (id int primary key, owner uuid, title text, public boolean default false);
        alter table public.todos enable row level security;
        create policy "own rows" on public.todos for all to authenticated
            using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
        create policy "public rows" on public.todos for select to anon using (public);
        insert into public.todos values
            (1, '{ALICE}', 'alice private', false), (2, '{ALICE}', 'alice public', true),
            (3, '{BOB}', 'bob private', false);
    """)


def test_view_as_shows_what_row_level_security_lets_each_role_and_user_see(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, todos: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.todos")
    assert column_texts(page, "title") == ["alice private", "alice public", "bob private"]
    page.role_picker.setCurrentIndex(page.role_picker.findText("Anonymous (anon)"))
    wait_idle(qloop, page)
    assert column_texts(page, "title") == ["alice public"]
    assert "viewing as anon" in page.status.text()
    page.role_picker.setCurrentIndex(page.role_picker.findText("Signed-in user"))
    settle(qloop, page, lambda: page.user_picker.count() == 2)
    assert page.user_picker.isVisible()
    assert page.user_picker.itemText(0).startswith("alice@example.com")  # most recently signed in first
    page.user_picker.setCurrentIndex(0)
    page.user_picker.activated.emit(0)
    wait_idle(qloop, page)
    assert column_texts(page, "title") == ["alice private", "alice public"]
    assert "viewing as user alice@example.com" in page.status.text()
    # a typed user id works too
    page.user_entry.setText(BOB)
    qtbot.keyClick(page.user_entry, Qt.Key.Key_Return)
    wait_idle(qloop, page)
    assert column_texts(page, "title") == ["bob private"]


def test_saving_as_a_user_is_judged_by_row_level_security_too(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, db_url: str, todos: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.todos")
    edit_cell(qloop, qtbot, page, 2, 2, "not yours")  # Bob's row, seen as the owner
    page.set_view_as(ViewAs.user(ALICE, "alice@example.com"))
    wait_idle(qloop, page)
    assert page.changes_bar.isVisible()  # the staged edit survives the role switch
    page.save_changes()
    settle(qloop, page, lambda: page.commit_problem.isVisible())
    assert "row level security" in page.commit_problem.text() and "id = 3" in page.commit_problem.text()
    assert rows_of(db_url, "select title from public.todos where id = 3") == [("bob private",)]


def test_a_typed_user_id_that_is_not_one_is_refused(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, messages: UserMessages, todos: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.todos")
    page.role_picker.setCurrentIndex(page.role_picker.findText("Signed-in user"))
    page.user_entry.setText("alice")
    qtbot.keyClick(page.user_entry, Qt.Key.Key_Return)
    assert any("not a user id" in m.text for m in messages.history)
    assert page.view_as == ViewAs()


def test_a_typed_user_id_with_no_row_in_auth_users_says_the_claims_have_only_the_id(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, todos: None) -> None:
    nobody = "33333333-3333-3333-3333-333333333333"
    page = make_page()
    open_table(qloop, page, "public.todos")
    page.role_picker.setCurrentIndex(page.role_picker.findText("Signed-in user"))
    settle(qloop, page, lambda: page.user_picker.count() == 2)
    page.user_entry.setText(nobody)
    qtbot.keyClick(page.user_entry, Qt.Key.Key_Return)
    settle(qloop, page, lambda: page.view_as.user_id == nobody and not page.model.loading)
    assert page.view_as == ViewAs.user(nobody) and page.view_as.email is None
    assert page.view_as_note.isVisible()
    assert page.view_as_note.text() == "No such user in auth.users: viewing with only the id as claims."
    assert column_texts(page, "title") == []
    # a user who exists (typed by id, beyond the list) gets the e-mail claim, and the note goes
    page.user_entry.setText(BOB)
    qtbot.keyClick(page.user_entry, Qt.Key.Key_Return)
    settle(qloop, page, lambda: page.view_as.user_id == BOB and not page.model.loading)
    assert page.view_as.email == "bob@example.com"
    assert not page.view_as_note.isVisible()
    page.user_entry.setText(nobody)
    qtbot.keyClick(page.user_entry, Qt.Key.Key_Return)
    settle(qloop, page, lambda: page.view_as.user_id == nobody)
    assert page.view_as_note.isVisible()
    page.role_picker.setCurrentIndex(page.role_picker.findText("Anonymous (anon)"))
    wait_idle(qloop, page)
    assert not page.view_as_note.isVisible()


# -- hostile names --------------------------------------------------------------------------------------


def test_hostile_names_browse_sort_filter_and_save(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, db_url: str) -> None:
    schema, table = 'Ünï "Schema"', "Order Lines; drop"
    columns = ["Key", 'sel"ect', "from", "naïve text"]
    target = qualified(schema, table)
    execute(db_url, f"create schema {quote_ident(schema)}")
    execute(db_url, f"create table {target} ({quote_ident('Key')} int primary key,"
                    f" {quote_ident(columns[1])} text, {quote_ident('from')} int, {quote_ident(columns[3])} text)")
    for i in range(1, 6):
        execute(db_url, f"insert into {target} values (%s, %s, %s, %s)", [i, f"it's {i}", 10 - i, f'"{i}"'])
    page = make_page()
    open_table(qloop, page, f"{schema}.{table}")
    assert [page.model.headerData(i, Qt.Orientation.Horizontal) for i in range(4)] == columns
    page.sort_by("from")
    wait_idle(qloop, page)
    assert column_texts(page, "Key") == ["5", "4", "3", "2", "1"]
    page.set_filters([Filter('sel"ect', FilterOp.CONTAINS, "it's")])
    wait_idle(qloop, page)
    assert page.model.rowCount() == 5
    edit_cell(qloop, qtbot, page, 0, 3, "'); drop table x; --")
    page.save_changes()
    wait_signal(qloop, page, page.changes_saved)
    assert rows_of(db_url, f"select {quote_ident(columns[3])} from {target} where {quote_ident('Key')} = 5") == [
        ("'); drop table x; --",)]


# -- export and copy ------------------------------------------------------------------------------------


def test_export_writes_the_current_view_with_progress(
        qloop: qasync.QEventLoop, make_page: MakePage, tmp_path: Path, numbers: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.numbers")
    progress: list[tuple[int, Any]] = []
    page.service.export_progress.connect(lambda done, total: progress.append((done, total)))
    path = tmp_path / "numbers.csv"
    page.export_to(path, ExportFormat.CSV)
    assert page.export_progress.isVisible()
    path_shown, rows = wait_signal(qloop, page, page.export_done)
    assert (path_shown, rows) == (str(path), 1200)
    lines = path.read_text().splitlines()
    assert lines[0] == "id,label,score" and lines[1] == "1,row 1,1" and lines[7] == "7,row 7,"
    assert len(lines) == 1201
    assert progress and progress[-1] == (1200, 1200)
    assert not page.export_progress.isVisible()
    assert "Exported 1,200 rows" in page.status.text()
    page.set_filters([Filter("score", FilterOp.EQUALS, "3")])
    wait_idle(qloop, page)
    json_path = tmp_path / "threes.json"
    page.export_to(json_path, ExportFormat.JSON)
    wait_signal(qloop, page, page.export_done)
    data = json.loads(json_path.read_text())
    assert len(data) == 103 and {item["score"] for item in data} == {3}


def test_ctrl_c_copies_the_selected_cells_as_tab_separated_lines(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, numbers: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.numbers")
    model = page.model
    selection = page.grid.selectionModel()
    top_left, bottom_right = model.index(5, 0), model.index(6, 2)
    selection.select(QItemSelection(top_left, bottom_right), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    page.activateWindow()
    page.grid.setFocus()
    qtbot.keyClick(page.grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "6\trow 6\t6\n7\trow 7\t"


def test_ctrl_c_copies_a_long_value_whole_not_its_preview(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, db_url: str) -> None:
    body = "".join(f"line {i:05d}; " for i in range(1000))  # 12,000 characters: the grid holds 2,000
    execute(db_url, "create table public.docs (id int primary key, body text)")
    execute(db_url, "insert into public.docs values (1, %s), (2, 'short')", [body])
    page = make_page()
    open_table(qloop, page, "public.docs")
    model = page.model
    assert model.index(0, 1).data(RowsRole.TRUNCATED)
    selection = page.grid.selectionModel()
    selection.select(QItemSelection(model.index(0, 0), model.index(1, 1)),
                     QItemSelectionModel.SelectionFlag.ClearAndSelect)
    page.activateWindow()
    page.grid.setFocus()
    QGuiApplication.clipboard().clear()
    wait_signal(qloop, page, page.copied,
                lambda: qtbot.keyClick(page.grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier))
    assert QGuiApplication.clipboard().text() == f"1\t{body}\n2\tshort"


def test_nothing_is_shown_without_a_project(qloop: qasync.QEventLoop, qtbot: QtBot) -> None:
    page = BrowserPage(JobRunner())
    qtbot.addWidget(page)
    page.set_project(None)
    assert page.status.text() == "No project open."
    assert not page.search.isEnabled() and page.model.rowCount(QModelIndex()) == 0


# -- keeping the place after a save ---------------------------------------------------------------------


@pytest.fixture
def many(db_url: str) -> None:
    execute(db_url, """
        create table public.many (id int primary key, label text, score int);
        insert into public.many
        select g, 'row ' || g, case when g % 7 = 0 then null else g % 10 end from generate_series(1, 5000) g;
        analyze public.many;
    """)


def open_many(qloop: qasync.QEventLoop, page: BrowserPage) -> None:
    """Open public.many with small pages, so that only a window of it stays in memory."""
    model = page.model
    model.page_rows, model.max_page_rows, model.resident_rows_limit = 100, 400, 1000
    open_table(qloop, page, "public.many")


def scroll_down(qloop: qasync.QEventLoop, page: BrowserPage, rows: int | None = None) -> None:
    """Scroll to the bottom, as a user would, until `rows` rows are loaded (None: all of them)."""
    model = page.model
    while model.has_more_after and (rows is None or model.rowCount() < rows):
        count = model.rowCount()
        page.grid.scrollToBottom()
        settle(qloop, page, lambda count=count: model.rowCount() > count)  # type: ignore[misc]


def scroll_up(qloop: qasync.QEventLoop, page: BrowserPage) -> None:
    """Scroll to the top, as a user would, until the first row is loaded."""
    model = page.model
    while model.has_more_before:
        count = model.rowCount()
        page.grid.scrollToTop()
        settle(qloop, page, lambda count=count: model.rowCount() > count or not model.has_more_before)  # type: ignore[misc]
    page.grid.scrollToTop()
    settle(qloop, page, lambda: model.index(0, 0).data() != "…" and not model.loading)


def first_visible(page: BrowserPage) -> tuple[int, str]:
    """The first row the grid shows, and its id."""
    row = page.grid.rowAt(0)
    assert row >= 0, "no row in view"
    return row, page.model.index(row, 0).data()


def show_at_top(qloop: qasync.QEventLoop, page: BrowserPage, row: int) -> None:
    model = page.model
    page.grid.scrollTo(model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    settle(qloop, page, lambda: model.index(row, 0).data() != "…" and not model.loading)
    assert page.grid.rowAt(0) == row


def resident_ids(page: BrowserPage) -> list[int]:
    model = page.model
    texts = [model.index(row, 0).data() for row in range(model.rowCount())]
    return [int(text) for text in texts if text != "…"]


def test_a_save_far_down_keeps_the_place_and_scrolling_from_there_works_both_ways(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, db_url: str, many: None) -> None:
    page = make_page()
    model = page.model
    open_many(qloop, page)
    scroll_down(qloop, page, 4300)
    show_at_top(qloop, page, 4000)
    top, shown = first_visible(page)
    assert shown == "4001"
    edit_cell(qloop, qtbot, page, top + 2, 1, "edited far down")
    wait_signal(qloop, page, page.changes_saved, page.save_changes)
    wait_idle(qloop, page)
    # the same rows are in view, read again from the server
    top, shown = first_visible(page)
    assert shown == "4001"
    assert model.index(top + 2, 0).data() == "4003"
    assert model.index(top + 2, 1).data() == "edited far down"
    assert RowState(model.index(top + 2, 1).data(RowsRole.STATE)) is RowState.UNCHANGED  # no staged edit left
    assert model.index(top - 1, 0).data() == "4000"  # the rows above are there too
    assert rows_of(db_url, "select label from public.many where id = 4003") == [("edited far down",)]
    assert model.has_more_before and model.has_more_after
    assert model.loaded_rows < 1000  # a window around the place, not the table
    assert page.model.staged is not None and page.model.staged.empty and not page.changes_bar.isVisible()
    # a second save at the same place (the offline cache now holds the rows read from it, shown at once)
    edit_cell(qloop, qtbot, page, top + 1, 2, "11")
    wait_signal(qloop, page, page.changes_saved, page.save_changes)
    wait_idle(qloop, page)
    top, shown = first_visible(page)
    assert shown == "4001" and model.index(top + 1, 2).data() == "11"
    # scrolling up from there reaches the first row, numbered again
    scroll_up(qloop, page)
    assert model.index(0, 0).data() == "1" and model.index(0, 1).data() == "row 1"
    assert model.headerData(0, Qt.Orientation.Vertical) == "1"
    # and down reaches the last: every row once, none lost or repeated around the kept place
    scroll_down(qloop, page)
    page.grid.scrollToBottom()
    settle(qloop, page, lambda: model.index(model.rowCount() - 1, 0).data() == "5000" and not model.loading)
    assert model.loaded_rows == 5000
    ids = resident_ids(page)
    assert ids == sorted(set(ids)) and 5000 in ids
    assert model.resident_rows <= 1500  # still a window in memory


def test_deleting_the_first_visible_row_and_saving_lands_on_the_next_row_with_sort_and_filter_kept(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, db_url: str, many: None) -> None:
    page = make_page()
    model = page.model
    page.grid.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)  # as styles on macOS have it
    open_many(qloop, page)
    page.set_filters([Filter("id", FilterOp.LESS_OR_EQUAL, "4500")])
    wait_idle(qloop, page)
    page.sort_by("score", descending=True)
    wait_idle(qloop, page)
    query = model.query
    assert query is not None and query.sort is not None and query.filters
    scroll_down(qloop, page, 3300)
    show_at_top(qloop, page, 3000)
    top, gone = first_visible(page)
    before = model.index(top - 1, 0).data()
    after = [model.index(top + n, 0).data() for n in range(1, 4)]
    page.select_cell(top, 0)
    page.delete_selected_rows()
    wait_signal(qloop, page, page.changes_saved, page.save_changes)
    wait_idle(qloop, page)
    top, shown = first_visible(page)
    assert shown == after[0]  # the next row, where the deleted one was
    assert [model.index(top + n, 0).data() for n in range(3)] == after
    assert model.index(top - 1, 0).data() == before
    assert rows_of(db_url, f"select count(*) from public.many where id = {int(gone)}") == [(0,)]
    assert model.query == query  # the same sort and filter
    scroll_up(qloop, page)
    scroll_down(qloop, page)
    assert model.loaded_rows == 4499
    expected = [row[0] for row in rows_of(
        db_url, "select id from public.many where id <= 4500 order by score desc nulls first, id desc")]
    ids = resident_ids(page)
    assert ids == [i for i in expected if i in set(ids)]


def test_deleting_every_row_from_the_first_visible_one_to_the_end_lands_on_the_last_rows_left(
        qloop: qasync.QEventLoop, make_page: MakePage, db_url: str, many: None) -> None:
    page = make_page()
    model = page.model
    open_many(qloop, page)
    scroll_down(qloop, page)
    page.grid.scrollToBottom()
    settle(qloop, page, lambda: model.index(model.rowCount() - 1, 0).data() == "5000" and not model.loading)
    top, first_gone = first_visible(page)
    last = model.rowCount() - 1
    page.grid.selectionModel().select(QItemSelection(model.index(top, 0), model.index(last, 0)),
                                      QItemSelectionModel.SelectionFlag.ClearAndSelect)
    page.delete_selected_rows()
    wait_signal(qloop, page, page.changes_saved, page.save_changes)
    wait_idle(qloop, page)
    left = int(first_gone) - 1
    assert rows_of(db_url, "select max(id) from public.many") == [(left,)]
    bottom = page.grid.rowAt(page.grid.viewport().height() - 1)
    assert model.index(model.rowCount() - 1, 0).data() == str(left) and not model.has_more_after
    assert bottom in (model.rowCount() - 1, -1)  # the last rows in view
    assert page.grid.rowAt(0) >= 0 and model.index(page.grid.rowAt(0), 0).data() != "…"


def test_a_save_on_the_first_page_reads_the_first_page_again_as_before(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, db_url: str, many: None) -> None:
    page = make_page()
    model = page.model
    open_many(qloop, page)
    show_at_top(qloop, page, 40)
    edit_cell(qloop, qtbot, page, 45, 1, "edited on the first page")
    loaded = wait_signal(qloop, page, model.first_page_loaded, page.save_changes)
    wait_idle(qloop, page)
    assert loaded == (100,)
    assert model.rowCount() == 100 and not model.has_more_before and model.has_more_after
    assert page.grid.rowAt(0) == 40  # as before: the cache's copy of the first page shows at once, in place
    assert model.index(45, 1).data() == "edited on the first page"
    assert model.headerData(45, Qt.Orientation.Vertical) == "46"
    assert rows_of(db_url, "select label from public.many where id = 46") == [("edited on the first page",)]


@contextlib.contextmanager
def far_down_through_a_proxy(qloop: qasync.QEventLoop, qtbot: QtBot, local_server: LocalServer, db_url: str,
                             tmp_path: Path) -> Iterator[tuple[BrowserPage, NetCut]]:
    """A page on `public.many` through a proxy the test can cut, scrolled so row 2,001 is the first shown."""
    with NetCut(db_url) as net:
        runner = JobRunner()
        page = BrowserPage(runner)
        page.service.retry_base, page.service.retry_max = 0.2, 1.0
        qtbot.addWidget(page)
        page.resize(1200, 700)
        page.show()
        try:
            wait_signal(qloop, page, page.service.relations_loaded,
                        lambda: page.set_project(database_project(local_server, tmp_path, net.url, "Test database")))
            open_many(qloop, page)
            scroll_down(qloop, page, 2300)
            show_at_top(qloop, page, 2000)
            assert first_visible(page)[1] == "2001"
            yield page, net
        finally:
            net.restore()
            page.shutdown()
            run_until(qloop, lambda: not runner.busy and not runner.background)


def queue_an_edit_offline(qloop: qasync.QEventLoop, qtbot: QtBot, page: BrowserPage, net: NetCut) -> int:
    """Cut the network, change the label of the second row shown and save (it is queued); returns the first
    row shown before."""
    top, _shown = first_visible(page)
    net.cut()
    edit_cell(qloop, qtbot, page, top + 1, 1, "written on a train")
    wait_signal(qloop, page, page.changes_queued, page.save_changes)
    wait_idle(qloop, page)
    return top


def test_edits_queued_offline_far_down_keep_the_place_with_the_queued_values_shown(
        qloop: qasync.QEventLoop, qtbot: QtBot, local_server: LocalServer, db_url: str, tmp_path: Path,
        messages: UserMessages, many: None) -> None:
    with far_down_through_a_proxy(qloop, qtbot, local_server, db_url, tmp_path) as (page, net):
        model = page.model
        top = queue_an_edit_offline(qloop, qtbot, page, net)
        top, shown = first_visible(page)
        assert shown == "2001"
        cell = model.index(top + 1, 1)
        assert cell.data() == "written on a train" and RowState(cell.data(RowsRole.STATE)) is RowState.QUEUED
        assert cell.data(RowsRole.OUTBOX) == "pending"
        assert page.model.staged is not None and page.model.staged.empty
        assert rows_of(db_url, "select label from public.many where id = 2002") == [("row 2002",)]
        # had a save gone through just before the network went: the kept place is not in the cache, so
        # the first page is shown from it (the failed read was reported)
        messages.history.clear()
        model.after_commit(top)
        settle(qloop, page, lambda: not model.loading)
        assert model.showing_cached and model.index(0, 0).data() == "1" and not model.has_more_before
        assert any("not on this computer" in message.text for message in messages.history)


def test_edits_sent_when_the_network_returns_keep_the_place_far_down(
        qloop: qasync.QEventLoop, qtbot: QtBot, local_server: LocalServer, db_url: str, tmp_path: Path,
        messages: UserMessages, many: None) -> None:
    with far_down_through_a_proxy(qloop, qtbot, local_server, db_url, tmp_path) as (page, net):
        model = page.model
        top = queue_an_edit_offline(qloop, qtbot, page, net)
        net.restore()
        page.offline_retry.click()
        run_until(qloop, lambda: rows_of(db_url, "select label from public.many where id = 2002")
                  == [("written on a train",)], timeout=30)
        settle(qloop, page, lambda: not model.loading and model.index(page.grid.rowAt(0) + 1, 1).data(
            RowsRole.OUTBOX) is None)
        top, shown = first_visible(page)
        assert shown == "2001"  # still where the user was, with what the server holds now
        assert model.index(top + 1, 1).data() == "written on a train"
        assert RowState(model.index(top + 1, 1).data(RowsRole.STATE)) is RowState.UNCHANGED
