"""Round trips of the schema engine: build state A and state B, migrate A to B, check A became B.

`assert_round_trip` is the whole check (see its docstring). It judges the result three ways that do not
trust each other: PostgreSQL's own `pg_dump` (normalised, `tests/support/pgdump.py`), Studio's own re-diff
(which must find nothing left to do), and the data (every row in A before the migration is still there
afterwards, with the values of every column that exists in both states).

`Case` describes one round trip as data, so a test module can hold a list of them and parametrize over
it; `run_case` runs one, `run_cases` runs many side by side (see `tests/integration/roundtrip/conftest.py`).
"""

from __future__ import annotations

import asyncio
import difflib
import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql

from studio.core.migrations.apply import migration_script
from studio.core.schema.diff import diff
from studio.core.schema.introspect import introspect
from studio.core.schema.plan import HazardKind, Plan, PlanOptions
from studio.core.schema.planner import make_plan
from studio.core.schema.render import render_plan
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget
from tests.support.dbpool import DatabasePool
from tests.support.pgdump import EXCLUDED_SCHEMAS, normalised_schema

#: Hazard expectations: `...` (do not check), or the hazards the plan must carry: each item a HazardKind
#: (any row count) or a (HazardKind, rows) pair. The plan's set of hazard kinds must equal the expected one
#: (LOCK hazards, which depend on table sizes, are only compared when LOCK is expected or `compare_lock`).
HazardSpec = Any

_USER_TABLES_SQL = """
select n.nspname, c.relname, c.oid
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and not c.relispartition
  and n.nspname <> all (%s) and n.nspname not like 'pg\\_%%' and n.nspname <> 'information_schema'
  and not exists (select 1 from pg_catalog.pg_depend d
                  where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = c.oid
                    and d.deptype = 'e')
order by 1, 2
"""

_COLUMNS_SQL = """
select a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attgenerated <> ''
from pg_catalog.pg_attribute a
where a.attrelid = %s and a.attnum > 0 and not a.attisdropped
order by a.attnum
"""


class RoundTripFailed(AssertionError):
    """A round trip did not end with A equal to B; the message has every problem and the plan."""


# -- the databases -----------------------------------------------------------------------------------------


async def _run_script(url: str, script: str, what: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("set client_min_messages = error")
        try:
            await conn.execute(script)  # no parameters: sent as one simple query, many statements allowed
        except psycopg.Error as exc:
            raise RoundTripFailed(f"{what} failed to run: {exc}\n--- SQL ---\n{script}") from exc


async def _tables(conn: psycopg.AsyncConnection[Any]) -> list[tuple[str, str, int]]:
    cursor = await conn.execute(_USER_TABLES_SQL, [list(EXCLUDED_SCHEMAS)])
    return [(str(s), str(t), int(o)) for s, t, o in await cursor.fetchall()]


async def _columns(conn: psycopg.AsyncConnection[Any], oid: int) -> list[tuple[str, str, bool]]:
    cursor = await conn.execute(_COLUMNS_SQL, [oid])
    return [(str(n), str(t), bool(g)) for n, t, g in await cursor.fetchall()]


async def _schema_columns(url: str) -> dict[tuple[str, str], dict[str, tuple[str, bool]]]:
    """(schema, table) -> column -> (type, generated) for the user tables of a database."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("set search_path = ''")
        out: dict[tuple[str, str], dict[str, tuple[str, bool]]] = {}
        for schema, table, oid in await _tables(conn):
            out[(schema, table)] = {n: (t, g) for n, t, g in await _columns(conn, oid)}
        return out


async def _analyze_and_count(url: str) -> dict[tuple[str, str], int]:
    """ANALYZE the user tables (so row estimates are real, as on a live project) and count their rows."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        counts: dict[tuple[str, str], int] = {}
        for schema, table, _ in await _tables(conn):
            name = sql.Identifier(schema, table)
            await conn.execute(sql.SQL("analyze {}").format(name))
            cursor = await conn.execute(sql.SQL("select count(*) from {}").format(name))
            row = await cursor.fetchone()
            counts[(schema, table)] = int(row[0]) if row else 0
        return counts


async def _snapshot(url: str, plan_columns: dict[tuple[str, str], list[tuple[str, str | None]]],
                    ) -> dict[tuple[str, str], list[tuple[str | None, ...]]]:
    """For each table: its rows (sorted) as text of the chosen columns.

    `plan_columns` maps a table to (column, cast) pairs: with a cast, the value is first cast to the type
    it will have in state B (so `1.5` in numeric(4,1) and `1.50` in numeric(5,2) compare equal); if that
    cast cannot run here (the type does not exist yet), the plain text is used.
    """
    out: dict[tuple[str, str], list[tuple[str | None, ...]]] = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("set search_path = ''")
        for (schema, table), columns in plan_columns.items():
            table_sql = sql.Identifier(schema, table)
            exprs = []
            for column, cast in columns:
                plain = sql.SQL("{}::text").format(sql.Identifier(column))
                expr = plain
                if cast is not None:
                    candidate = sql.SQL("{}::{}::text").format(sql.Identifier(column), sql.SQL(cast))
                    try:
                        async with conn.transaction():
                            await conn.execute(sql.SQL("select {} from {} limit 0").format(candidate, table_sql))
                        expr = candidate
                    except psycopg.Error:
                        expr = plain
                exprs.append(expr)
            select = sql.SQL(", ").join(exprs) if exprs else sql.SQL("1")
            cursor = await conn.execute(sql.SQL("select {} from {}").format(select, table_sql))
            rows = [tuple(None if v is None else str(v) for v in r) for r in await cursor.fetchall()]
            out[(schema, table)] = sorted(rows, key=lambda r: tuple((v is None, v or "") for v in r))
    return out


def _surviving_columns(before: dict[tuple[str, str], dict[str, tuple[str, bool]]],
                       after: dict[tuple[str, str], dict[str, tuple[str, bool]]],
                       unchecked: Collection[str],
                       ) -> dict[tuple[str, str], list[tuple[str, str | None]]]:
    """Tables of A that B keeps, with the columns whose values must survive (and B's type when it changes)."""
    out: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for key, columns in before.items():
        if key not in after:
            continue
        kept: list[tuple[str, str | None]] = []
        for name, (type_a, generated_a) in columns.items():
            if name not in after[key] or f"{key[0]}.{key[1]}.{name}" in unchecked:
                continue
            type_b, generated_b = after[key][name]
            if generated_a or generated_b:
                continue  # computed values follow their expression, not the data
            kept.append((name, type_b if type_b != type_a else None))
        out[key] = kept
    return out


# -- hazards ---------------------------------------------------------------------------------------------


def _hazard_problems(plan: Plan, expected: HazardSpec, compare_lock: bool = False) -> list[str]:
    if expected is ...:
        return []
    present = [h for c in plan.changes for h in c.hazards]
    kinds_present = {h.kind for h in present}
    kinds_expected: set[HazardKind] = set()
    problems = []
    for item in expected:
        kind, rows = (item, None) if isinstance(item, HazardKind) else item
        kinds_expected.add(kind)
        if rows is not None and not any(h.kind is kind and h.rows == rows for h in present):
            found = [(h.rows, h.message) for h in present if h.kind is kind]
            problems.append(f"expected a {kind.value} hazard with rows={rows}; found {found}")
    if HazardKind.LOCK not in kinds_expected and not compare_lock:
        kinds_present.discard(HazardKind.LOCK)  # depends on table sizes; checked by dedicated tests
    if kinds_present != kinds_expected:
        detail = "\n".join(f"  [{c.title}] {h.kind.value}: {h.message}" for c in plan.changes for h in c.hazards)
        problems.append(f"hazard kinds {sorted(k.value for k in kinds_present)} != expected "
                        f"{sorted(k.value for k in kinds_expected)}\n{detail}")
    return problems


# -- the round trip --------------------------------------------------------------------------------------


async def assert_round_trip(
    server_or_urls: LocalServer | DatabasePool | tuple[str, str],
    state_a_sql: str,
    state_b_sql: str,
    *,
    rows_sql: str | None = None,
    expect_hazards: HazardSpec = ...,
    options: PlanOptions | None = None,
    expect_not_handled: Sequence[str] = (),
    unchecked_columns: Collection[str] = (),
    require_rows: bool = True,
    compare_lock: bool = False,
) -> Plan:
    """Migrate a database in state A to state B with Studio's plan, and check it is then in state B.

    `server_or_urls` is the test session's `LocalServer` (two fresh databases are cloned from the Supabase
    template and dropped afterwards), a `DatabasePool` (two clean databases are taken from it and given
    back), or two URLs of fresh databases (A, B) the caller owns.

    1. A gets `state_a_sql` then `rows_sql`; B gets `state_b_sql`. Unless `require_rows` is false, every
       table of A must hold at least one row, so every alter runs against data.
    2. The plan is made with `make_plan` against A and B's catalog; its transactional statements run in
       one transaction, wrapped as a deploy wraps them (`migration_script`: advisory lock, drift check,
       timeouts), then the others one by one.
    3. Then: (a) the normalised `pg_dump --schema-only` of A equals that of B; (b) Studio's own diff of A
       against B is empty; (c) every table of A that B keeps has the same rows, compared on the columns
       both states have (less generated columns and `unchecked_columns`, given as `schema.table.column`).
       The plan's `not_handled` must equal `expect_not_handled` (each expected item is a substring of one
       reported item), and its hazards must match `expect_hazards` (see `HazardSpec`; LOCK hazards are
       compared only when expected or with `compare_lock`). When something is expected in `not_handled`,
       A cannot become B, so (a) and (b) are skipped.

    Every problem found is reported together, with the rendered plan. Returns the plan.
    """
    options = options or PlanOptions()
    server: LocalServer | None = None
    pool: DatabasePool | None = None
    names: list[str] = []
    if isinstance(server_or_urls, LocalServer):
        server = server_or_urls
        names = list(await asyncio.gather(asyncio.to_thread(server.create_database),
                                          asyncio.to_thread(server.create_database)))
        url_a, url_b = server.uri(names[0]), server.uri(names[1])
    elif isinstance(server_or_urls, DatabasePool):
        pool = server_or_urls
        names = list(await asyncio.gather(pool.acquire(), pool.acquire()))
        url_a, url_b = pool.url(names[0]), pool.url(names[1])
    else:
        url_a, url_b = server_or_urls
    target_a = PostgresTarget(url_a, description="round trip A")
    target_b = PostgresTarget(url_b, description="round trip B")
    try:
        return await _round_trip(target_a, target_b, url_a, url_b, state_a_sql, state_b_sql, rows_sql,
                                 expect_hazards, options, expect_not_handled, unchecked_columns, require_rows,
                                 compare_lock)
    finally:
        await target_a.close()
        await target_b.close()
        if server is not None:
            await asyncio.gather(*(asyncio.to_thread(server.drop_database, n) for n in names))
        if pool is not None:
            await asyncio.gather(*(pool.release(n) for n in names))


async def _round_trip(target_a: PostgresTarget, target_b: PostgresTarget, url_a: str, url_b: str,
                      state_a_sql: str, state_b_sql: str, rows_sql: str | None, expect_hazards: HazardSpec,
                      options: PlanOptions, expect_not_handled: Sequence[str], unchecked: Collection[str],
                      require_rows: bool, compare_lock: bool) -> Plan:
    async def build_a() -> dict[tuple[str, str], int]:
        await _run_script(url_a, state_a_sql, "state A")
        if rows_sql:
            await _run_script(url_a, rows_sql, "rows_sql (on state A)")
        return await _analyze_and_count(url_a)

    async def build_b() -> None:
        await _run_script(url_b, state_b_sql, "state B")

    counts, _ = await asyncio.gather(build_a(), build_b())
    if require_rows:
        empty = [f"{s}.{t}" for (s, t), n in counts.items() if n == 0]
        if empty:
            raise RoundTripFailed(f"every table of state A needs a row (rows_sql); empty: {empty}")

    (columns_a, columns_b), desired = await asyncio.gather(
        asyncio.gather(_schema_columns(url_a), _schema_columns(url_b)),
        introspect(target_b, include_schemas=options.include_schemas))
    surviving = _surviving_columns(columns_a, columns_b, unchecked)
    before = await _snapshot(url_a, surviving)

    plan = await make_plan(target_a, desired, options)
    rendered = render_plan(plan)
    problems: list[str] = []
    try:
        # The deploy's own transaction script: lock, drift check, timeouts, check_function_bodies = off.
        await target_a.run_transaction(migration_script(plan, plan.transactional_statements(), []))
        outside = plan.non_transactional_statements()
        if outside:
            await target_a.run_each(outside)
    except Exception as exc:  # the plan itself failed: nothing else is worth checking
        hint = getattr(exc, "hint", "") or ""
        detail = f"{exc}\n{hint}" if hint and hint not in str(exc) else str(exc)
        raise RoundTripFailed(f"applying the plan failed (statement numbers count the deploy's preamble): "
                              f"{detail}\n--- plan ---\n{rendered}") from exc

    # When the plan says it leaves something out, A cannot equal B: only the rest is checked.
    complete = not expect_not_handled
    included = options.include_schemas or ()
    dump_a, dump_b = await asyncio.gather(normalised_schema(url_a, included), normalised_schema(url_b, included))
    if complete and dump_a != dump_b:
        delta = "\n".join(difflib.unified_diff(dump_b.splitlines(), dump_a.splitlines(),
                                               "pg_dump of B (desired)", "pg_dump of A (migrated)", lineterm="", n=2))
        problems.append(f"(a) pg_dump differs after the migration:\n{delta}")

    again = diff(await introspect(target_a, include_schemas=options.include_schemas), desired, options)
    if complete and again.changes:
        left = "\n".join(f"  {c.title}: {c.statements}" for c in again.changes)
        problems.append(f"(b) Studio's re-diff of A against B is not empty:\n{left}")

    after = await _snapshot(url_a, {k: [(c, None) for c, _ in v] for k, v in surviving.items()})
    for key, rows in before.items():
        if after.get(key) != rows:
            problems.append(f"(c) data of {key[0]}.{key[1]} changed: before {rows}, after {after.get(key)}")

    for item in expect_not_handled:
        if not any(item in reported for reported in plan.not_handled):
            problems.append(f"expected {item!r} in not_handled; got {plan.not_handled}")
    unexpected = [r for r in plan.not_handled if not any(item in r for item in expect_not_handled)]
    if unexpected:
        problems.append(f"unexpected not_handled items: {unexpected}")
    problems.extend(_hazard_problems(plan, expect_hazards, compare_lock))

    if problems:
        raise RoundTripFailed("\n\n".join(problems) + f"\n\n--- plan ---\n{rendered}")
    return plan


# -- cases as data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One round trip: state A, state B, rows for A, and what the plan must say.

    `xfail` is the reason of a known engine bug (the case is then a strict xfail).
    """

    name: str
    a: str
    b: str
    rows: str | None = None
    hazards: HazardSpec = ...
    not_handled: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()
    options: PlanOptions | None = None
    require_rows: bool = True
    xfail: str | None = None
    compare_lock: bool = False
    statements_contain: tuple[str, ...] = field(default=())

    def param(self) -> Any:
        """This case as a `pytest.param`, named, with its xfail mark if any."""
        marks = [pytest.mark.xfail(strict=True, reason=self.xfail, raises=AssertionError)] if self.xfail else []
        return pytest.param(self, id=self.name, marks=marks)


def params(cases: Iterable[Case]) -> list[Any]:
    """`pytest.param`s for a list of cases (names must be unique)."""
    cases = list(cases)
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"duplicate case names: {duplicates}"
    return [c.param() for c in cases]


async def run_case_async(server: LocalServer | DatabasePool, case: Case) -> Plan:
    """Run one case's round trip and check its extra expectations; returns the plan."""
    plan = await assert_round_trip(
        server, case.a, case.b, rows_sql=case.rows, expect_hazards=case.hazards, options=case.options,
        expect_not_handled=case.not_handled, unchecked_columns=case.unchecked, require_rows=case.require_rows,
        compare_lock=case.compare_lock)
    statements = "\n".join(s for c in plan.changes for s in c.statements)
    for fragment in case.statements_contain:
        if fragment not in statements:
            raise RoundTripFailed(f"expected {fragment!r} in the plan's statements:\n{render_plan(plan)}")
    return plan


def run_case(server: LocalServer | DatabasePool, case: Case) -> Plan:
    """Run one case's round trip synchronously (as tests do)."""
    return asyncio.run(run_case_async(server, case))


#: How many round trips run at once by default. The server's CPU is the bottleneck, so more than two
#: buys little; two overlap one case's waiting (pg_dump, round trips) with another's work.
DEFAULT_CONCURRENCY = int(os.environ.get("STUDIO_ROUNDTRIP_CONCURRENCY", "2"))


class Outcomes(dict[str, "Plan | BaseException"]):
    """Results of round trips run together, by case name; `check` turns one back into a test result."""

    def check(self, case: Case) -> Plan:
        """The case's plan, or its failure raised again (an AssertionError for a failed round trip)."""
        outcome = self[case.name]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def run_cases(server: LocalServer | DatabasePool, cases: Iterable[Case],
              concurrency: int = DEFAULT_CONCURRENCY) -> Outcomes:
    """Run many cases (at most `concurrency` at a time), each on its own two databases, in one event loop."""
    unique = {case.name: case for case in cases}

    async def run_all() -> Outcomes:
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(case: Case) -> tuple[str, Plan | BaseException]:
            async with gate:
                try:
                    return case.name, await run_case_async(server, case)
                except Exception as exc:  # kept and raised again by the case's own test
                    return case.name, exc

        return Outcomes(await asyncio.gather(*(one(c) for c in unique.values())))

    return asyncio.run(run_all())
