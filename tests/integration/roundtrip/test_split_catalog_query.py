"""The catalog query in two parts (run on two connections for large schemas on this computer) reads every
round-trip case's schema exactly as the whole query does, on the real server: same objects, same
attributes, same fingerprint. The split only kicks in at 200 tables, so here it is forced."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest

from studio.core.schema import introspect as introspect_module
from studio.core.schema.catalog import Catalog
from studio.core.schema.introspect import introspect
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget
from tests.integration.roundtrip import (
    test_constraints_indexes,
    test_functions_triggers,
    test_hostile_names,
    test_policies,
    test_views,
)
from tests.support.roundtrip import Case

SCHEMAS: list[Case] = [
    *test_hostile_names.CASES, *test_policies.CASES, *test_views.VIEWS, *test_views.MATVIEWS,
    *test_functions_triggers.FUNCTIONS, *test_functions_triggers.TRIGGERS,
    *test_constraints_indexes.CONSTRAINTS, *test_constraints_indexes.INDEXES,
]


@pytest.fixture(scope="module")
def database(local_server: LocalServer) -> Iterator[str]:
    """One scratch database, emptied between schemas (cheaper than a database per case)."""
    name = local_server.create_database()
    yield local_server.uri(name)
    local_server.drop_database(name)


def _reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        schemas = [row[0] for row in conn.execute(
            "select nspname from pg_namespace where nspname not like 'pg\\_%' and nspname not in"
            " ('information_schema', 'public', 'auth', 'storage', 'extensions', 'graphql', 'graphql_public',"
            " 'realtime', 'vault', 'supabase_migrations', 'supabase_functions', 'pgbouncer', 'net', 'cron',"
            " 'pgsodium')")]
        for schema in schemas:
            conn.execute(psycopg.sql.SQL("drop schema {} cascade").format(psycopg.sql.Identifier(schema)))
        conn.execute("drop schema public cascade; create schema public; grant all on schema public to"
                     " postgres, anon, authenticated, service_role; grant usage on schema public to public")
        conn.execute("drop extension if exists btree_gist cascade")


def _read(url: str, *, split: bool, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    monkeypatch.setattr(introspect_module, "SPLIT_FROM_TABLES", 0 if split else 1_000_000_000)

    async def _go() -> Catalog:
        target = PostgresTarget(url)
        try:
            assert target.concurrent_reads  # a unix socket: the split applies when the schema is large
            return await introspect(target)
        finally:
            await target.close()

    return asyncio.run(_go())


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in SCHEMAS if not c.xfail])
def test_the_two_part_query_reads_the_same_catalog_as_the_whole_one(
        case: Case, database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _reset(database)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(case.b.encode())
    whole = _read(database, split=False, monkeypatch=monkeypatch)
    parts = _read(database, split=True, monkeypatch=monkeypatch)
    assert parts.fingerprint == whole.fingerprint
    assert parts.objects.keys() == whole.objects.keys()
    different = [key for key in whole.objects if parts.objects[key].attrs != whole.objects[key].attrs]
    assert not different, different
