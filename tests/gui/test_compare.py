"""The compare tool against real schemas: two .sql files, a database and a file, and a file that does not build."""

from __future__ import annotations

from pathlib import Path

import psycopg
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.core.targets.local import LocalServer
from studio.services.deploy import CompareResult, SourceKind
from studio.services.jobs import JobRunner
from studio.services.projects import database_project
from studio.ui.pages.compare import ComparePage
from studio.ui.widgets.ddl_diff import RowKind
from tests.gui.conftest import run_until_signal

OLD = """
create table public.books (
    id bigint primary key,
    title text not null,
    isbn text
);
"""
NEW = """
create table public.books (
    id bigint primary key,
    title varchar(200) not null,
    published_on date
);
create table public.authors (id bigint primary key, name text not null);
"""


def compare_page(qtbot: QtBot, local_server: LocalServer, tmp_path: Path, db_url: str) -> ComparePage:
    """A compare page with a project open (its local server builds the .sql files)."""
    page = ComparePage(JobRunner())
    qtbot.addWidget(page)
    page.resize(1300, 850)
    page.set_project(database_project(local_server, tmp_path, db_url))
    return page


def titles(page: ComparePage) -> list[str]:
    """Every change's title as the tree shows it, with its group."""
    tree = page.plan_view.tree
    out = []
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        out.extend(f"{group.text(0)}: {group.child(j).text(0)}" for j in range(group.childCount()))
    return out


def test_two_sql_files_are_compared_with_the_sql_that_turns_one_into_the_other(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path) -> None:
    (tmp_path / "old.sql").write_text(OLD, encoding="utf-8")
    (tmp_path / "new.sql").write_text(NEW, encoding="utf-8")
    page = compare_page(qtbot, local_server, tmp_path, db_url)
    assert not page.compare_button.isEnabled()
    page.set_sources((SourceKind.FILE, str(tmp_path / "old.sql")), (SourceKind.FILE, str(tmp_path / "new.sql")))
    assert page.compare_button.isEnabled()
    qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    (result,) = run_until_signal(qloop, page.compared, timeout=60)
    assert isinstance(result, CompareResult) and not result.rows_counted

    shown = titles(page)
    assert "public.books: Drop column isbn" in shown
    assert "public.books: Create column published_on" in shown
    assert "public.books: Change column title" in shown
    assert "public.authors: Create table public.authors" in shown
    sql = page.sql()
    assert "ALTER TABLE public.books DROP COLUMN isbn;" in sql  # nothing is applied here: all of it is shown
    assert "ALTER TABLE public.books ADD COLUMN published_on date;" in sql
    assert "CREATE TABLE public.authors (" in sql
    assert "Rows at risk are counted only when the first side is a database." in page.status.text()

    # the selected change's table, side by side, with the changed words marked
    page.plan_view.select_change(next(c.id for c in result.review.plan.changes if c.title.endswith("books.title")))
    assert page.plan_view.ddl.left_title.text() == "From: old.sql"
    assert page.plan_view.ddl.marked(RowKind.CHANGED)[0] == ("    title text NOT NULL,",
                                                               "    title character varying(200) NOT NULL,")

    # unticking a change takes it out of the SQL; the SQL can be saved
    page.plan_view.item_of(next(c.id for c in result.review.plan.changes if c.title.endswith("authors"))) \
        .setCheckState(0, Qt.CheckState.Unchecked)
    assert "public.authors" not in page.sql().split("\n\n", 2)[-1]
    page.save_sql(tmp_path / "out" / "changes.sql")
    assert (tmp_path / "out" / "changes.sql").read_text(encoding="utf-8") == page.sql()

    # swapped, the same files give the way back
    page.swap()
    page.compare()
    run_until_signal(qloop, page.compared, timeout=60)
    assert "public.authors: Drop table public.authors" in titles(page)
    assert "public.books: Create column isbn" in titles(page)


def test_a_database_compared_with_a_file_counts_the_rows_at_risk(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(OLD + "insert into public.books select g, 'Book ' || g, case when g % 2 = 0 then 'x' end"
                           " from generate_series(1, 40) g;")
    (tmp_path / "new.sql").write_text(NEW, encoding="utf-8")
    page = compare_page(qtbot, local_server, tmp_path, db_url)
    page.set_sources((SourceKind.DATABASE, db_url), (SourceKind.FILE, str(tmp_path / "new.sql")))
    page.compare()
    (result,) = run_until_signal(qloop, page.compared, timeout=60)
    assert result.rows_counted
    drop = next(c.id for c in result.review.plan.changes if c.title == "Drop column public.books.isbn")
    page.plan_view.select_change(drop)
    assert "Drops column isbn of public.books: 20 rows have a value there." in page.plan_view.notes.text()
    assert page.plan_view.item_of(drop).text(1) == "deletes data · 20 rows"
    assert page.plan_view.ddl.left_title.text().startswith("From: local socket/")
    assert "password" not in page.status.text()


def test_a_file_that_does_not_build_is_named_with_its_line(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path) -> None:
    (tmp_path / "good.sql").write_text(OLD, encoding="utf-8")
    (tmp_path / "bad.sql").write_text(OLD + "\ncreate tabel oops ();\n", encoding="utf-8")
    page = compare_page(qtbot, local_server, tmp_path, db_url)
    page.set_sources((SourceKind.FILE, str(tmp_path / "good.sql")), (SourceKind.FILE, str(tmp_path / "bad.sql")))
    page.compare()
    (message,) = run_until_signal(qloop, page.compare_failed, timeout=60)
    assert "bad.sql, line 8" in message and 'syntax error at or near "tabel"' in message
    assert page.status.text().startswith("The comparison failed. bad.sql, line 8")
    assert page.compare_button.isEnabled()
