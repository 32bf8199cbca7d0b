"""PostgresTarget against a real server: reads, transactions, one-by-one runs and failures."""

from __future__ import annotations

import asyncio
import traceback

import psycopg
import pytest

from studio.core.errors import ConnectionFailed, InternalError, MigrationFailed, SqlError
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget, describe_conninfo, redact

SECRET = "s3cr3t-Pa55"


def full_text(error: BaseException) -> str:
    """Everything a log could show of an error: message, hint, traceback and chained errors."""
    return "".join(traceback.format_exception(error)) + repr(error) + str(error)


# -- descriptions never hold a password ------------------------------------------------------------


@pytest.mark.parametrize(
    ("conninfo", "expected"),
    [
        (f"postgresql://postgres.abc:{SECRET}@aws-0-eu.pooler.supabase.com:6543/postgres",
         "aws-0-eu.pooler.supabase.com:6543/postgres"),
        (f"postgres://me:{SECRET}@db.example.com/app?sslmode=require", "db.example.com:5432/app"),
        (f"host=10.0.0.5 port=5433 dbname=shop user=me password={SECRET}", "10.0.0.5:5433/shop"),
        ("postgresql://postgres@/postgres?host=/tmp/some%20dir", "local socket/postgres"),
        (f"dbname=other password='{SECRET}'", "local socket/other"),
    ],
)
def test_description_has_no_password(conninfo: str, expected: str) -> None:
    target = PostgresTarget(conninfo)
    assert target.description == expected
    assert describe_conninfo(conninfo) == expected
    assert SECRET not in repr(target)


def test_a_given_description_is_kept_but_redacted() -> None:
    conninfo = f"postgresql://me:{SECRET}@db.example.com/app"
    assert PostgresTarget(conninfo, description="Staging").description == "Staging"
    assert SECRET not in PostgresTarget(conninfo, description=f"Staging {SECRET}").description


@pytest.mark.parametrize(
    "conninfo",
    [
        f"postgresql://me:{SECRET} with spaces@db.example.com/app",  # libpq quotes it back
        f"postgresql://me:{SECRET}@[::1/app",
        f"host=db.example.com password='{SECRET}",
    ],
)
def test_an_invalid_string_is_refused_without_echoing_the_password(conninfo: str) -> None:
    with pytest.raises(ConnectionFailed) as caught:
        PostgresTarget(conninfo)
    assert caught.value.message == "The connection string is not valid."
    assert SECRET not in full_text(caught.value)


def test_redact_masks_every_spelling_of_the_password() -> None:
    url = "postgresql://me:p%40ss@h/db"
    assert "p%40ss" not in redact(f"bad uri: {url} (p@ss)", url)
    assert "p@ss" not in redact("p@ss", url)
    query = f"postgresql://h/db?password={SECRET}&sslmode=require"
    assert SECRET not in redact(f"said: {SECRET}", query)


# -- connection failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conninfo", "words"),
    [
        (f"postgresql://me:{SECRET}@127.0.0.1:1/app?connect_timeout=5", "No database server is answering"),
        (f"postgresql://me:{SECRET}@no-such-host.invalid:5432/app", "could not be found"),
    ],
)
def test_unreachable_servers_give_connection_failed(conninfo: str, words: str) -> None:
    async def scenario() -> None:
        async with PostgresTarget(conninfo) as target:
            await target.fetch("select 1")

    with pytest.raises(ConnectionFailed) as caught:
        asyncio.run(scenario())
    error = caught.value
    assert words in error.message
    assert error.hint
    assert SECRET not in full_text(error)


def test_a_missing_database_gives_connection_failed(local_server: LocalServer) -> None:
    url = local_server.uri("no_such_database")

    with pytest.raises(ConnectionFailed) as caught:
        asyncio.run(PostgresTarget.connect(url))
    assert "does not exist" in caught.value.message


def test_a_lost_connection_is_reported_and_then_reopened(target: PostgresTarget, db_url: str) -> None:
    async def scenario() -> None:
        pid = (await target.fetch("select pg_backend_pid()"))[0][0]
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", [pid])
        with pytest.raises(ConnectionFailed) as caught:
            await target.fetch("select 1")
        assert "was lost" in caught.value.message
        assert await target.fetch("select 2") == [(2,)]  # a new connection is opened

    asyncio.run(scenario())


# -- fetch -----------------------------------------------------------------------------------------


def test_fetch_returns_rows(target: PostgresTarget) -> None:
    async def scenario() -> None:
        assert await target.fetch("select 1, 'a' union all select 2, 'b' order by 1") == [(1, "a"), (2, "b")]
        assert await target.fetch("select %s::int + %s", [40, 2]) == [(42,)]
        assert await target.fetch("select '100%'") == [("100%",)]  # no parameters: % is plain text
        assert await target.fetch("create temporary table t (x int)") == []
        assert await target.server_version_num() >= 180000

    asyncio.run(scenario())


def test_fetch_settings_apply_to_that_query_only(target: PostgresTarget) -> None:
    async def scenario() -> None:
        rows = await target.fetch(
            "select current_user, current_setting('search_path'), auth.uid()",
            settings={
                "role": "authenticated",
                "search_path": "pg_catalog",
                "request.jwt.claims": '{"sub": "00000000-0000-4000-8000-000000000001"}',
            },
        )
        assert [(r[0], r[1], str(r[2])) for r in rows] == [
            ("authenticated", "pg_catalog", "00000000-0000-4000-8000-000000000001")
        ]
        assert await target.fetch("select current_user, auth.uid()") == [("postgres", None)]

    asyncio.run(scenario())


def test_fetch_errors_carry_the_sqlstate(target: PostgresTarget) -> None:
    async def scenario() -> None:
        with pytest.raises(SqlError) as caught:
            await target.fetch("select * from missing_table")
        error = caught.value
        assert error.sqlstate == "42P01"
        assert 'relation "missing_table" does not exist' in error.message
        assert error.statement == "select * from missing_table"
        assert error.position == 15
        # The connection is fine afterwards: the failed transaction was rolled back.
        assert await target.fetch("select 1") == [(1,)]

        with pytest.raises(SqlError) as caught:
            await target.fetch("select 1/0")
        assert caught.value.sqlstate == "22012"

    asyncio.run(scenario())


def test_concurrent_calls_take_turns(target: PostgresTarget) -> None:
    async def scenario() -> list[list[tuple[object, ...]]]:
        return list(
            await asyncio.gather(*(target.fetch("select %s::int, pg_sleep(0.01)", [i]) for i in range(8)))
        )

    results = asyncio.run(scenario())
    assert [rows[0][0] for rows in results] == list(range(8))


def test_a_closed_target_cannot_be_used(db_url: str) -> None:
    async def scenario() -> None:
        async with PostgresTarget(db_url) as target:
            await target.fetch("select 1")
        await target.close()  # twice is fine
        with pytest.raises(InternalError):
            await target.fetch("select 1")

    asyncio.run(scenario())


# -- run_transaction -------------------------------------------------------------------------------

FUNCTION = """
create function public.greet(who text) returns text
language plpgsql as $$
begin
    -- a semicolon; inside the body, and a 'quote'
    return 'hello; ' || who;
end;
$$
"""


def test_run_transaction_applies_everything(target: PostgresTarget) -> None:
    seen: list[tuple[int, str]] = []
    statements = [
        "create table public.items (id int primary key, label text)",
        "insert into public.items values (1, 'semi;colon'), (2, 'it''s')",
        FUNCTION,
        "comment on table public.items is 'with ; and $$ inside'",
    ]

    async def scenario() -> None:
        await target.run_transaction(statements, on_statement=lambda i, s: seen.append((i, s)))
        assert await target.fetch("select label from public.items order by id") == [("semi;colon",), ("it's",)]
        assert await target.fetch("select public.greet('you')") == [("hello; you",)]

    asyncio.run(scenario())
    assert seen == list(enumerate(statements))


def test_run_transaction_rolls_back_everything_on_failure(target: PostgresTarget) -> None:
    statements = [
        "create table public.items (id int primary key)",
        "insert into public.items values (1), (2)",
        "insert into public.no_such_table values (3)",
        "create table public.never (id int)",
    ]
    seen: list[int] = []

    async def scenario() -> MigrationFailed:
        with pytest.raises(MigrationFailed) as caught:
            await target.run_transaction(statements, on_statement=lambda i, s: seen.append(i))
        assert await target.fetch("select to_regclass('public.items'), to_regclass('public.never')") == [
            (None, None)
        ]
        return caught.value

    error = asyncio.run(scenario())
    assert error.index == 2
    assert error.statement == statements[2]
    assert error.server_message == 'relation "public.no_such_table" does not exist'
    assert error.sqlstate == "42P01"
    assert error.message.startswith("Statement 3 of 4 failed")
    assert "rolled back" in error.hint
    assert seen == [0, 1, 2]


def test_run_transaction_reports_a_failure_at_commit(target: PostgresTarget) -> None:
    async def scenario() -> MigrationFailed:
        await target.run_transaction([
            "create table public.parent (id int primary key)",
            "create table public.child (parent_id int references public.parent"
            " deferrable initially deferred)",
        ])
        with pytest.raises(MigrationFailed) as caught:
            await target.run_transaction([
                "insert into public.child values (1)",  # checked only at commit
                "insert into public.parent values (2)",
            ])
        assert await target.fetch("select count(*) from public.parent") == [(0,)]
        return caught.value

    error = asyncio.run(scenario())
    assert error.index == 2
    assert error.statement == "COMMIT"
    assert error.sqlstate == "23503"


def test_run_transaction_refuses_concurrent_index_builds(target: PostgresTarget) -> None:
    async def scenario() -> MigrationFailed:
        await target.run_transaction(["create table public.t (x int)"])
        with pytest.raises(MigrationFailed) as caught:
            await target.run_transaction(["create index concurrently t_x on public.t (x)"])
        return caught.value

    assert asyncio.run(scenario()).sqlstate == "25001"  # active_sql_transaction


# -- run_each --------------------------------------------------------------------------------------


def test_run_each_runs_outside_a_transaction(target: PostgresTarget) -> None:
    async def scenario() -> None:
        await target.run_each([
            "create table public.t (x int)",
            "create index concurrently t_x on public.t (x)",
            "vacuum public.t",
        ])
        assert await target.fetch("select to_regclass('public.t_x')") == [("t_x",)]

    asyncio.run(scenario())


def test_run_each_stops_at_the_first_failure_and_keeps_what_ran(target: PostgresTarget) -> None:
    statements = [
        "create table public.first (x int)",
        "create table public.first (x int)",
        "create table public.third (x int)",
    ]

    async def scenario() -> MigrationFailed:
        with pytest.raises(MigrationFailed) as caught:
            await target.run_each(statements)
        assert await target.fetch("select to_regclass('public.first'), to_regclass('public.third')") == [
            ("first", None)
        ]
        return caught.value

    error = asyncio.run(scenario())
    assert error.index == 1
    assert error.sqlstate == "42P07"
    assert error.server_message == 'relation "first" already exists'
    assert "stay applied" in error.hint
