"""The pg_dump oracle itself: its statement splitter, and its normaliser on real dumps."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from studio.core.targets.local import LocalServer
from tests.support.pgdump import dump_schema, normalise, split_statements


def test_split_keeps_semicolons_inside_strings_identifiers_and_bodies() -> None:
    text = (
        "\\restrict AbC123\n"
        "-- a comment; with a semicolon\n"
        "SET x = 1;\n"
        "CREATE TABLE public.\"a;b\" (c text DEFAULT 'x;y''z' /* ; */);\n"
        "CREATE FUNCTION f() RETURNS int AS $body$ select 1; -- ;\n$body$;\n"
        "SELECT E'it\\'s;';\n"
        "\\unrestrict AbC123\n"
    )
    assert split_statements(text) == [
        "SET x = 1",
        "CREATE TABLE public.\"a;b\" (c text DEFAULT 'x;y''z'  )",
        "CREATE FUNCTION f() RETURNS int AS $body$ select 1; -- ;\n$body$",
        "SELECT E'it\\'s;'",
    ]


def test_normalise_sorts_columns_statements_and_drops_noise() -> None:
    one = (
        "\\restrict KEY1\n--\n-- header\n--\n\nSET statement_timeout = 0;\n"
        "SELECT pg_catalog.set_config('search_path', '', false);\n\n"
        "CREATE TABLE public.t (\n    id integer NOT NULL,\n    b text\n);\n\n\n"
        "ALTER TABLE public.t OWNER TO postgres;\n"
        "CREATE INDEX i ON public.t USING btree (b);\n\\unrestrict KEY1\n"
    )
    two = (
        "\\restrict KEY2\nCREATE INDEX i ON public.t USING btree (b);\n"
        "CREATE TABLE public.t (\n    b text,\n    id integer NOT NULL\n);\n"
        "ALTER TABLE public.t OWNER TO someone_else;\n\\unrestrict KEY2\n"
    )
    assert normalise(one) == normalise(two)
    assert normalise(one) == (
        "CREATE INDEX i ON public.t USING btree (b);\n\n"
        "CREATE TABLE public.t (\n    b text,\n    id integer NOT NULL\n);\n"
    )


def test_normalise_keeps_partition_clause_and_options_after_the_columns() -> None:
    dump = "CREATE TABLE public.p (\n    z integer,\n    a integer\n)\nPARTITION BY RANGE (a);\n"
    assert normalise(dump) == "CREATE TABLE public.p (\n    a integer,\n    z integer\n)\nPARTITION BY RANGE (a);\n"


@pytest.fixture
def two_databases(local_server: LocalServer) -> Iterator[tuple[str, str]]:
    names = [local_server.create_database(), local_server.create_database()]
    yield local_server.uri(names[0]), local_server.uri(names[1])
    for name in names:
        local_server.drop_database(name)


def _run(url: str, script: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set client_min_messages = error")
        conn.execute(script)


def test_two_real_databases_with_the_same_schema_built_differently_compare_equal(
        two_databases: tuple[str, str]) -> None:
    url_a, url_b = two_databases
    _run(url_a, """
        create table public.t (id bigint generated always as identity primary key, b text default 'x;y');
        create function public.f() returns int language plpgsql as $$
        begin
          -- a comment; with a semicolon

          return 1;
        end $$;
        create view public.v as select id, b from public.t;
        create type public.mood as enum ('sad', 'ok');
        alter table public.t add column m public.mood;
        alter table public.t add column n int check (n > 0);
        alter table public.t enable row level security;
    """)
    _run(url_b, """
        create type public.mood as enum ('sad', 'ok');
        create table public.t (n int check (n > 0), m public.mood,
                               id bigint generated always as identity primary key, b text default 'x;y');
        alter table public.t enable row level security;
        create view public.v as select id, b from public.t;
        create function public.f() returns int language plpgsql as $$
        begin
          -- a comment; with a semicolon

          return 1;
        end $$;
    """)
    raw_a, raw_b = dump_schema(url_a), dump_schema(url_b)
    assert raw_a != raw_b  # column order, object order and the \restrict keys differ
    assert "\\restrict" in raw_a
    text = normalise(raw_a)
    assert text == normalise(raw_b)
    assert "auth.users" not in text and "storage." not in text  # Supabase's schemas are left out
    assert "OWNER TO" not in text and "\\restrict" not in text and "SET " not in text
    assert "CREATE TABLE public.t (\n    CONSTRAINT t_n_check CHECK ((n > 0)),\n    b text DEFAULT" in text


def test_a_real_difference_shows(two_databases: tuple[str, str]) -> None:
    url_a, url_b = two_databases
    _run(url_a, "create table public.t (id int, b text default 'x');")
    _run(url_b, "create table public.t (id int, b text default 'y');")
    assert normalise(dump_schema(url_a)) != normalise(dump_schema(url_b))


def test_normalise_sorts_storage_parameters() -> None:
    one = "CREATE TABLE public.t (\n    id integer\n)\nWITH (fillfactor='70', autovacuum_enabled='false');\n"
    two = "CREATE TABLE public.t (\n    id integer\n)\nWITH (autovacuum_enabled='false', fillfactor='70');\n"
    assert normalise(one) == normalise(two)


def test_normalise_leaves_out_privileges_on_managed_schemas_unless_included() -> None:
    dump = ("GRANT ALL ON FUNCTION extensions.similarity(text, text) TO anon;\n"
            "GRANT ALL ON TABLE public.t TO anon;\n")
    assert normalise(dump) == "GRANT ALL ON TABLE public.t TO anon;\n"
    assert "extensions.similarity" in normalise(dump, include_schemas=("extensions",))


def test_the_database_pool_reuses_clean_databases_and_drops_dirty_ones(local_server: LocalServer) -> None:
    import asyncio

    from tests.support.dbpool import DatabasePool

    pool = DatabasePool(local_server)
    try:
        async def use(extra: str) -> str:
            name = await pool.acquire()
            _run(pool.url(name), "create table public.t (id int); insert into public.t values (1);"
                                 " create schema app; create extension pg_trgm with schema extensions;"
                                 " alter publication supabase_realtime add table public.t;" + extra)
            await pool.release(name)
            return name

        first = asyncio.run(use(""))
        assert asyncio.run(use("")) == first  # reset and reused
        assert (pool.created, pool.reused, pool.discarded) == (1, 2, 0)  # the pool's first clone, twice
        asyncio.run(use(" create function auth.leftover() returns int language sql as $$ select 1 $$;"))
        assert pool.discarded == 1  # the reset does not clean auth functions: the check sees it
        assert first not in local_server.list_databases()
    finally:
        pool.close()
