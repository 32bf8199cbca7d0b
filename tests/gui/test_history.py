"""The history page against a real database: applied migrations with their SQL, and the local files' findings."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import qasync
from pytestqt.qtbot import QtBot

from studio.core.migrations.apply import AppliedMigration, apply_plan
from studio.core.schema.planner import make_plan
from studio.core.schema.shadow import catalog_of_sources
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget
from studio.services.deploy import HistoryResult
from studio.services.jobs import JobRunner
from studio.services.projects import database_project
from studio.ui.pages.history import (
    HEADERS,
    NAME_COLUMN,
    STATEMENTS_COLUMN,
    STATUS_COLUMN,
    VERSION_COLUMN,
    WHEN_COLUMN,
    HistoryPage,
)
from tests.gui.conftest import run_until_signal


async def deploy(server: LocalServer, db_url: str, workspace: Path, sql: str, name: str) -> AppliedMigration:
    """Apply the plan towards `sql` as `studio deploy` would (the history's setup, not what is tested)."""
    desired = await catalog_of_sources(server, [("schema.sql", sql)])
    target = PostgresTarget(db_url)
    try:
        return await apply_plan(target, await make_plan(target, desired), workspace=workspace, name=name)
    finally:
        await target.close()


def cells(page: HistoryPage, row: int) -> list[str]:
    """The texts of one row of the history table."""
    return [page.table.item(row, column).text() for column in range(page.table.columnCount())]


def test_history_lists_applied_migrations_with_their_sql_and_says_what_differs_locally(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path) -> None:
    workspace = tmp_path / "app"
    workspace.mkdir()
    notes = "create table public.notes (id bigint primary key, body text);"
    first = qloop.run_until_complete(deploy(local_server, db_url, workspace, notes, "notes"))
    second = qloop.run_until_complete(deploy(local_server, db_url, workspace, notes.replace(
        "body text", "body text, pinned boolean not null default false"), "pin notes"))
    unapplied = workspace / "supabase" / "migrations" / "20990101000000_add_tags.sql"
    unapplied.write_text("create table public.tags (id bigint primary key);\n", encoding="utf-8")

    page = HistoryPage(JobRunner())
    qtbot.addWidget(page)
    page.set_project(database_project(local_server, workspace, db_url))
    page.show()
    (result,) = run_until_signal(qloop, page.history_shown, timeout=60)
    assert isinstance(result, HistoryResult)

    # newest first; the local file nobody applied is listed as such
    assert [page.table.item(r, VERSION_COLUMN).text() for r in range(page.table.rowCount())] == [
        "20990101000000", second.version, first.version]
    assert cells(page, 0)[NAME_COLUMN] == "add_tags" and cells(page, 0)[STATUS_COLUMN] == "not applied"
    assert cells(page, 1)[NAME_COLUMN] == "pin_notes" and cells(page, 1)[STATUS_COLUMN] == "in sync"
    assert cells(page, 1)[STATEMENTS_COLUMN] == str(second.statements_count)
    report = page.report.text()
    assert "1 difference between" in report
    assert "supabase/migrations/20990101000000_add_tags.sql has not been applied to this database." in report

    # the SQL each migration ran, as the database recorded it
    page.table.selectRow(1)
    assert "ALTER TABLE public.notes ADD COLUMN pinned boolean DEFAULT false NOT NULL;" in page.sql.toPlainText()
    assert page.sql_title.text().startswith(f"{second.version}_pin_notes")
    page.table.selectRow(2)
    assert "CREATE TABLE public.notes" in page.sql.toPlainText()
    page.table.selectRow(0)
    assert page.sql.toPlainText() == "create table public.tags (id bigint primary key);\n"
    assert "local file, not applied" in page.sql_title.text()

    # someone edits an applied migration: the page says so after a refresh
    assert first.path is not None
    first.path.write_text(first.path.read_text(encoding="utf-8").replace("body text", "body varchar(10)"),
                          encoding="utf-8")
    page.refresh()
    run_until_signal(qloop, page.history_shown, timeout=60)
    assert cells(page, 2)[STATUS_COLUMN] == "changed after it was applied"
    assert f"supabase/migrations/{first.version}_notes.sql was changed after it was applied" in page.report.text()


def test_a_database_without_history_says_so(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path) -> None:
    page = HistoryPage(JobRunner())
    qtbot.addWidget(page)
    page.set_project(database_project(local_server, tmp_path, db_url))
    page.refresh()
    run_until_signal(qloop, page.history_shown, timeout=60)
    assert page.table.rowCount() == 0
    assert page.sql_title.text() == "No migrations yet"
    assert "Local files and the database's history agree." in page.report.text()


@pytest.fixture
def berlin_winter_time() -> Iterator[None]:
    """The local time zone is UTC+2 (a POSIX rule, so no time zone database is needed) for the test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "EET-2"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_each_applied_migration_shows_when_it_was_made_in_local_time(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path,
        berlin_winter_time: None) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("""
            create schema supabase_migrations;
            create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
            insert into supabase_migrations.schema_migrations values
                ('20261206140200', '{"create table public.a (id int)"}', 'first'),
                ('20261231233000', '{"create table public.b (id int)"}', 'new_year'),
                ('0003', '{"create table public.c (id int)"}', 'hand_made');
        """)
    page = HistoryPage(JobRunner())
    qtbot.addWidget(page)
    page.set_project(database_project(local_server, tmp_path, db_url))
    page.refresh()
    run_until_signal(qloop, page.history_shown, timeout=60)
    assert HEADERS[WHEN_COLUMN] == "Applied"
    shown = {cells(page, row)[NAME_COLUMN]: cells(page, row)[WHEN_COLUMN] for row in range(page.table.rowCount())}
    # 14:02 UTC is 16:02 at UTC+2; half past eleven on New Year's Eve (UTC) is already the next year here
    assert shown == {"first": "6 Dec 2026, 16:02", "new_year": "1 Jan 2027, 01:30", "hand_made": ""}
