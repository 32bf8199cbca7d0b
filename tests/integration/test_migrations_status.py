"""compare_history against the real embedded PostgreSQL: each kind of mismatch, and what it does not flag."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from studio.core.migrations import (
    AppliedMigration,
    FindingKind,
    HistoryReport,
    apply_plan,
    compare_history,
)
from studio.core.schema.planner import make_plan
from studio.core.schema.shadow import catalog_of_sources
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget

FIRST = "create table public.authors (id int primary key, name text not null);"
SECOND = FIRST + "create table public.books (id int primary key, title text default 'Untitled');"


@dataclass
class Deployed:
    """A workspace and database after two deploys."""

    workspace: Path
    first: AppliedMigration
    second: AppliedMigration
    target: PostgresTarget
    db_url: str

    def report(self) -> HistoryReport:
        return asyncio.run(compare_history(self.target, self.workspace))


async def _deploy(
    server: LocalServer, target: PostgresTarget, sql: str, workspace: Path, name: str
) -> AppliedMigration:
    desired = await catalog_of_sources(server, [("desired.sql", sql)])
    plan = await make_plan(target, desired)
    return await apply_plan(target, plan, workspace=workspace, name=name)


@pytest.fixture
def deployed(local_server: LocalServer, target: PostgresTarget, db_url: str, tmp_path: Path) -> Deployed:
    workspace = tmp_path / "app"
    first = asyncio.run(_deploy(local_server, target, FIRST, workspace, "authors"))
    second = asyncio.run(_deploy(local_server, target, SECOND, workspace, "books"))
    return Deployed(workspace, first, second, target, db_url)


def _only(report: HistoryReport, kind: FindingKind) -> str:
    assert not report.ok
    assert [f.kind for f in report.findings] == [kind], report.findings
    return str(report.findings[0])


def test_files_and_history_of_studio_deploys_agree(deployed: Deployed) -> None:
    report = deployed.report()
    assert report.ok, report.findings
    assert report.versions_in_sync == [deployed.first.version, deployed.second.version]
    assert [r.name for r in report.remote] == ["authors", "books"]


def test_reformatting_an_applied_file_is_not_a_change(deployed: Deployed) -> None:
    assert deployed.second.path is not None
    text = deployed.second.path.read_text(encoding="utf-8")
    reformatted = "/* tidied up */\n" + text.upper().replace("'UNTITLED'", "'Untitled'").replace("\n", "\n\n  ")
    deployed.second.path.write_text(reformatted + "\n;\n-- end\n", encoding="utf-8")
    assert deployed.report().ok


def test_a_local_file_not_applied_is_reported_with_how_to_apply_it(deployed: Deployed) -> None:
    extra = deployed.workspace / "supabase" / "migrations" / "29990101000000_later.sql"
    extra.write_text("create table public.later (id int);\n", encoding="utf-8")
    text = _only(deployed.report(), FindingKind.NOT_APPLIED)
    assert "29990101000000_later.sql has not been applied" in text
    assert "`studio deploy`" in text and "`supabase db push`" in text
    assert "--include-all" not in text

    extra.unlink()
    older = deployed.workspace / "supabase" / "migrations" / "20000101000000_forgotten.sql"
    older.write_text("select 1;\n", encoding="utf-8")
    text = _only(deployed.report(), FindingKind.NOT_APPLIED)
    assert "--include-all" in text  # older than what was applied: push skips it without the flag


def test_a_history_row_without_a_file_says_how_to_get_it_back(deployed: Deployed) -> None:
    assert deployed.first.path is not None
    deployed.first.path.unlink()
    report = deployed.report()
    text = _only(report, FindingKind.MISSING_LOCALLY)
    assert report.findings[0].version == deployed.first.version
    assert f"{deployed.first.version}_authors" in text
    assert "supabase migration fetch" in text and "version control" in text


def test_the_same_version_under_another_name_is_reported(deployed: Deployed) -> None:
    assert deployed.second.path is not None
    deployed.second.path.rename(deployed.second.path.with_name(f"{deployed.second.version}_novels.sql"))
    report = deployed.report()
    text = _only(report, FindingKind.NAME_MISMATCH)
    finding = report.findings[0]
    assert (finding.local_name, finding.remote_name) == ("novels", "books")
    assert f"Rename the file to {deployed.second.version}_books.sql" in text


def test_an_applied_file_edited_afterwards_is_reported(deployed: Deployed) -> None:
    assert deployed.first.path is not None
    text = deployed.first.path.read_text(encoding="utf-8")
    edited = text.replace("name text NOT NULL", "name text NOT NULL,\n    email text")
    assert edited != text
    deployed.first.path.write_text(edited, encoding="utf-8")
    message = _only(deployed.report(), FindingKind.CONTENT_MISMATCH)
    assert "changed after it was applied" in message
    assert "email text" in message  # the first difference is shown
    assert "new migration" in message


def test_two_files_with_one_version_are_reported(deployed: Deployed) -> None:
    twin = deployed.workspace / "supabase" / "migrations" / f"{deployed.second.version}_twin.sql"
    twin.write_text("select 1;\n", encoding="utf-8")
    report = deployed.report()
    text = _only(report, FindingKind.DUPLICATE_VERSION)  # the twin is not also judged against the history
    assert "2 migration files share the version" in text
    assert f"{deployed.second.version}_twin.sql" in text and f"{deployed.second.version}_books.sql" in text


def test_ignored_names_are_reported_but_do_not_make_the_report_fail(deployed: Deployed) -> None:
    (deployed.workspace / "supabase" / "migrations" / "README.md").write_text("notes\n", encoding="utf-8")
    report = deployed.report()
    assert report.ok
    assert report.ignored == ["README.md"]
    assert "README.md is not a migration" in report.ignored_notices[0]


def test_rows_written_by_the_cli_compare_by_statement(
    target: PostgresTarget, db_url: str, tmp_path: Path
) -> None:
    # what `supabase db push` records: each statement of the file, its SET lines included
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (folder / "20240101000000_init.sql").write_text(
        "-- init\nset statement_timeout = '1min';\ncreate table public.a (\n  id int\n);\n"
        "create function public.f() returns int language plpgsql as $$ begin return 1; end $$;\n",
        encoding="utf-8")
    (folder / "20240102000000_repaired.sql").write_text("create table public.b (id int);\n", encoding="utf-8")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("create schema supabase_migrations;"
                     " create table supabase_migrations.schema_migrations"
                     " (version text not null primary key, statements text[], name text)")
        conn.execute("insert into supabase_migrations.schema_migrations values (%s, %s, %s), (%s, null, null)",
                     ["20240101000000", ["set statement_timeout = '1min'", "create table public.a (\n  id int\n)",
                                         "create function public.f() returns int language plpgsql as"
                                         " $$ begin return 1; end $$"], "init",
                      "20240102000000"])
    report = asyncio.run(compare_history(target, tmp_path))
    assert report.ok, report.findings  # a row without statements or name (`migration repair`) is not judged

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("update supabase_migrations.schema_migrations set statements[3] ="
                     " replace(statements[3], 'return 1', 'return 2') where version = '20240101000000'")
    report = asyncio.run(compare_history(target, tmp_path))
    assert [(f.kind, f.version) for f in report.findings] == [(FindingKind.CONTENT_MISMATCH, "20240101000000")]
    assert "Statement 2 differs" in report.findings[0].message


def test_a_database_without_history_lists_every_file_as_not_applied(target: PostgresTarget, tmp_path: Path) -> None:
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (folder / "20240101000000_one.sql").write_text("select 1;", encoding="utf-8")
    (folder / "20240102000000_two.sql").write_bytes(b"select '\xff';")  # not UTF-8: only read when compared
    report = asyncio.run(compare_history(target, tmp_path))
    assert [(f.kind, f.version) for f in report.findings] == [
        (FindingKind.NOT_APPLIED, "20240101000000"), (FindingKind.NOT_APPLIED, "20240102000000")]


def test_an_unreadable_applied_file_is_a_finding_not_a_crash(deployed: Deployed) -> None:
    assert deployed.first.path is not None
    deployed.first.path.write_bytes(b"create table \xff;")
    message = _only(deployed.report(), FindingKind.UNREADABLE)
    assert "not UTF-8" in message
