"""Hazards carry the numbers a reviewer needs: rows at risk and table sizes, read from the live database."""

import asyncio

import psycopg

from studio.core.schema.plan import HazardKind, Plan, PlanOptions
from studio.core.schema.planner import make_plan
from studio.core.schema.shadow import catalog_of_sources
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget

BIG = "create table public.events (id bigint primary key, kind text, note text);"


def _plan(local_server: LocalServer, url: str, desired_sql: str, options: PlanOptions | None = None) -> Plan:
    async def run() -> Plan:
        desired = await catalog_of_sources(local_server, [("desired.sql", desired_sql)])
        target = PostgresTarget(url)
        try:
            return await make_plan(target, desired, options)
        finally:
            await target.close()

    return asyncio.run(run())


def _fill(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(BIG)
        conn.execute("insert into public.events select g, 'k' || (g % 7), case when g % 4 = 0 then 'n' end"
                     " from generate_series(1, 20000) g")
        conn.execute("analyze public.events")


def test_index_on_a_large_table_warns_of_the_lock_with_its_size(local_server: LocalServer, db_url: str) -> None:
    _fill(db_url)
    plan = _plan(local_server, db_url, BIG + "create index events_kind_idx on public.events (kind);")
    [change] = plan.changes
    [hazard] = change.hazards
    assert hazard.kind is HazardKind.LOCK
    assert hazard.rows == 20000
    assert hazard.message == ("Building index events_kind_idx scans public.events (about 20,000 rows) and blocks"
                              " writes to it until it finishes.")
    assert change.transactional


def test_concurrent_option_moves_the_index_out_of_the_transaction(local_server: LocalServer, db_url: str) -> None:
    _fill(db_url)
    plan = _plan(local_server, db_url, BIG + "create index events_kind_idx on public.events (kind);",
                 PlanOptions(concurrent_indexes=True))
    [change] = plan.changes
    assert not change.transactional
    assert change.statements == ["CREATE INDEX CONCURRENTLY events_kind_idx ON public.events USING btree (kind)"]
    assert [h.kind for h in change.hazards] == [HazardKind.NON_TRANSACTIONAL]
    assert plan.transactional_statements() == []


def test_dropping_a_column_counts_the_values_lost(local_server: LocalServer, db_url: str) -> None:
    _fill(db_url)
    plan = _plan(local_server, db_url, "create table public.events (id bigint primary key, kind text);")
    [change] = plan.changes
    [hazard] = change.hazards
    assert hazard.kind is HazardKind.DATA_LOSS and hazard.destructive
    assert hazard.rows == 5000  # every fourth row has a note
    assert "5,000 rows have a value" in hazard.message


def test_small_tables_get_no_lock_warning(local_server: LocalServer, db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(BIG + "insert into public.events values (1, 'a', null); analyze public.events;")
    plan = _plan(local_server, db_url, BIG + "create index events_kind_idx on public.events (kind);")
    assert [h.kind for c in plan.changes for h in c.hazards] == []
