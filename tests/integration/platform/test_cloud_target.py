"""CloudTarget: the same answers and the same all-or-nothing deploys through the Management API as direct.

The fake platform runs `database/query` on a real database of the embedded server, so every comparison
here is between two real paths to the same PostgreSQL database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest

from studio.core.errors import ConnectionFailed, DriftError, MigrationFailed, PlatformUnavailable, SqlError
from studio.core.migrations import apply_plan, compare_history, read_history
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.management import ManagementClient
from studio.core.schema.introspect import introspect
from studio.core.schema.planner import make_plan
from studio.core.schema.shadow import catalog_of_sources
from studio.core.targets.cloud import CloudTarget
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget

SCHEMA = """
create type public.status as enum ('open', 'done');
create table public.todos (
  id bigint generated always as identity primary key,
  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  title text not null check (length(title) > 0),
  status public.status not null default 'open',
  created_at timestamptz not null default now()
);
create index todos_owner_idx on public.todos (owner_id);
alter table public.todos enable row level security;
create policy "owners read" on public.todos for select to authenticated using ((select auth.uid()) = owner_id);
create function public.open_count() returns bigint language sql stable set search_path = ''
  as $$ select count(*) from public.todos where status = 'open' $$;
"""


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def execute(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


class Cloud:
    """A CloudTarget on the fake account's project, plus a direct URL to the same database."""

    def __init__(self, fake: Any, account: Any, server: LocalServer) -> None:
        self.fake = fake
        self.account = account
        self.url = server.uri(account.project.db_name)

    async def __aenter__(self) -> CloudTarget:
        token = self.account.token

        async def bearer() -> str:
            return token

        self.client = ManagementClient.connect(
            PlatformEndpoints(api_url=self.fake.url, project_url_template=self.fake.project_url_template), token=bearer
        )
        return CloudTarget(self.client, self.account.project.ref, name="shop")

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()


def test_rows_come_back_as_tuples_in_column_order(
    fake_platform: Any, fake_account: Any, local_server: LocalServer
) -> None:
    async def scenario() -> Any:
        async with Cloud(fake_platform, fake_account, local_server) as target:
            return (
                await target.fetch("select 1 as b, 'x' as a, null::int as c, true as d, '{\"k\": [1]}'::jsonb e"),
                await target.fetch("select $1::int + $2::int", [2, 3]),
                await target.fetch("select current_setting('search_path')", settings={"search_path": "pg_catalog"}),
                await target.server_version_num(),
            )

    rows, summed, path, version = run(scenario())
    assert rows == [(1, "x", None, True, {"k": [1]})]
    assert summed == [(5,)]
    assert path == [("pg_catalog",)]
    assert version >= 150000


def test_introspection_through_the_api_equals_a_direct_connection(
    fake_platform: Any, fake_account: Any, local_server: LocalServer
) -> None:
    cloud = Cloud(fake_platform, fake_account, local_server)
    execute(cloud.url, SCHEMA)

    async def scenario() -> Any:
        async with cloud as target:
            via_api = await introspect(target)
        direct = PostgresTarget(cloud.url)
        try:
            return via_api, await introspect(direct)
        finally:
            await direct.close()

    via_api, direct = run(scenario())
    assert via_api.fingerprint == direct.fingerprint
    assert set(via_api.objects) == set(direct.objects)
    assert "table:public.todos" in {f"{o.kind}:{o.key}" for o in via_api.objects.values()} or any(
        "todos" in key for key in via_api.objects
    )


def test_a_deploy_through_the_api_is_recorded_as_the_cli_records_it(
    fake_platform: Any, fake_account: Any, local_server: LocalServer, tmp_path: Path
) -> None:
    cloud = Cloud(fake_platform, fake_account, local_server)

    async def scenario() -> Any:
        desired = await catalog_of_sources(local_server, [("schema.sql", SCHEMA)])
        async with cloud as target:
            plan = await make_plan(target, desired)
            progress: list[str] = []
            applied = await apply_plan(
                target, plan, workspace=tmp_path, name="todos", on_progress=lambda i, n, title: progress.append(title)
            )
            history = await read_history(target)
            report = await compare_history(target, tmp_path)
            again = await make_plan(target, desired)
            return applied, history, report, again, progress

    applied, history, report, again, progress = run(scenario())
    assert execute(cloud.url, "select count(*) from public.todos") == [(0,)]
    assert [entry.version for entry in history] == [applied.version]
    assert history[0].name == "todos" and history[0].statements
    assert report.ok, report.findings
    assert again.empty, [c.title for c in again.changes]
    assert progress, "progress is reported"
    rows = execute(
        cloud.url, "select version, name, array_length(statements, 1) from supabase_migrations.schema_migrations"
    )
    assert rows == [(applied.version, "todos", len(history[0].statements))]


def test_a_failing_statement_is_named_and_nothing_changes(
    fake_platform: Any, fake_account: Any, local_server: LocalServer, tmp_path: Path
) -> None:
    cloud = Cloud(fake_platform, fake_account, local_server)
    execute(
        cloud.url,
        "create table public.items (id int primary key, code text);insert into public.items values (1, 'a'), (2, 'a');",
    )
    desired_sql = (
        "create table public.items (id int primary key, code text unique);"
        "create table public.extra (id int primary key);"
    )

    async def scenario() -> Any:
        desired = await catalog_of_sources(local_server, [("schema.sql", desired_sql)])
        async with cloud as target:
            plan = await make_plan(target, desired)
            await apply_plan(target, plan, workspace=tmp_path, name="unique_code")

    with pytest.raises(MigrationFailed) as caught:
        run(scenario())
    failure = caught.value
    assert failure.sqlstate == "23505"
    assert "unique" in failure.statement.lower() and "items" in failure.statement
    assert "[studio statement" not in failure.message and "[studio statement" not in failure.server_message
    assert "Detail: Key (code)=(a) is duplicated." in failure.hint
    assert "Hint:" not in failure.hint, "no empty advice lines"
    assert execute(cloud.url, "select to_regclass('public.extra')") == [(None,)]
    assert execute(cloud.url, "select to_regclass('supabase_migrations.schema_migrations')") == [(None,)]
    assert not list((tmp_path / "supabase" / "migrations").glob("*.sql")) if (tmp_path / "supabase").exists() else True


def test_drift_since_the_plan_is_caught_through_the_api(
    fake_platform: Any, fake_account: Any, local_server: LocalServer, tmp_path: Path
) -> None:
    cloud = Cloud(fake_platform, fake_account, local_server)

    async def scenario() -> Any:
        desired = await catalog_of_sources(local_server, [("schema.sql", "create table public.a (id int);")])
        async with cloud as target:
            plan = await make_plan(target, desired)
            execute(cloud.url, "create table public.sneaky (id int)")
            await apply_plan(target, plan, workspace=tmp_path, name="a")

    with pytest.raises(DriftError) as caught:
        run(scenario())
    assert any("sneaky" in change for change in caught.value.changes)
    assert execute(cloud.url, "select to_regclass('public.a')") == [(None,)]


def test_a_lost_answer_during_a_deploy_says_the_outcome_is_unknown(
    fake_platform: Any, fake_account: Any, local_server: LocalServer, tmp_path: Path
) -> None:
    cloud = Cloud(fake_platform, fake_account, local_server)

    async def scenario() -> Any:
        desired = await catalog_of_sources(local_server, [("schema.sql", "create table public.a (id int);")])
        async with cloud as target:
            plan = await make_plan(target, desired)

            cut: list[object] = []

            def cut_when_the_migration_is_sent(index: int, total: int, title: str) -> None:
                if not cut and not title.startswith("Reading"):  # the history is read first, on its own
                    cut.append(fake_platform.inject("POST", r"/v1/projects/[a-z]+/database/query",
                                                    drop_after_handling=True))

            await apply_plan(target, plan, workspace=tmp_path, name="a", on_progress=cut_when_the_migration_is_sent)

    with pytest.raises(ConnectionFailed) as caught:
        run(scenario())
    assert "may or may not" in caught.value.message
    assert "supabase migration list" in caught.value.hint
    # The request did run: the history and the table agree, and the user was told to compare them.
    assert execute(cloud.url, "select count(*) from supabase_migrations.schema_migrations") == [(1,)]
    assert not (tmp_path / "supabase" / "migrations").exists() or not list(
        (tmp_path / "supabase" / "migrations").glob("*.sql")
    )


def test_sql_errors_and_platform_errors_are_told_apart(fake_platform: Any, fake_account: Any,
                                                       local_server: LocalServer) -> None:
    query_path = r"/v1/projects/[a-z]+/database/query"
    fake_platform.inject("POST", query_path, status=500,
                         body={"message": 'Failed to run sql query: ERROR:  42P01: relation "gone" does not exist\n'})
    fake_platform.inject("POST", query_path, status=500, body={"message": "Internal server error"})

    async def scenario() -> list[BaseException]:
        caught: list[BaseException] = []
        async with Cloud(fake_platform, fake_account, local_server) as target:
            for _ in range(3):
                try:
                    await target.fetch("select * from gone")
                except Exception as exc:  # collected for the assertions below
                    caught.append(exc)
        return caught

    as_500, platform_failure, real = run(scenario())
    assert isinstance(as_500, SqlError) and as_500.sqlstate == "42P01" and as_500.message == (
        'relation "gone" does not exist')
    assert isinstance(platform_failure, PlatformUnavailable) and not isinstance(platform_failure, SqlError)
    assert isinstance(real, SqlError) and real.sqlstate == "42P01"


def test_an_error_page_instead_of_json_is_a_platform_error(fake_platform: Any, fake_account: Any,
                                                           local_server: LocalServer) -> None:
    fake_platform.inject("POST", r"/v1/projects/[a-z]+/database/query", status=500,
                         body="<html><body>Internal Server Error</body></html>")

    async def scenario() -> Any:
        async with Cloud(fake_platform, fake_account, local_server) as target:
            return await target.fetch("select 1")

    with pytest.raises(PlatformUnavailable, match="HTTP 500"):
        run(scenario())
