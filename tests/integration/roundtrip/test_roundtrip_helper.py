"""The round-trip check itself must catch a wrong plan: each of its three judges is shown failing once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import tests.support.roundtrip as roundtrip
from studio.core.schema.plan import Change, HazardKind, Plan
from tests.support.dbpool import DatabasePool
from tests.support.roundtrip import RoundTripFailed, assert_round_trip

A = "create table public.t (id int primary key, a int);"
B = "create table public.t (id int primary key, a bigint);"
ROWS = "insert into public.t values (1, 10), (2, null);"


def _with_changes(monkeypatch: pytest.MonkeyPatch, statements: list[str]) -> None:
    """Make the round trip use a plan whose changes are replaced by one change running `statements`."""
    real = roundtrip.make_plan

    async def wrong_plan(*args: Any, **kwargs: Any) -> Plan:
        plan = await real(*args, **kwargs)
        plan.changes = [Change(id=1, action="alter", kind="table", key="table:public.t", title="Wrong",
                               statements=statements)] if statements else []
        return plan

    monkeypatch.setattr(roundtrip, "make_plan", wrong_plan)


def test_a_plan_that_does_nothing_fails_the_dump_and_the_re_diff(
        database_pool: DatabasePool, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_changes(monkeypatch, [])
    with pytest.raises(RoundTripFailed) as caught:
        asyncio.run(assert_round_trip(database_pool, A, B, rows_sql=ROWS))
    text = str(caught.value)
    assert "(a) pg_dump differs" in text and "-    a bigint" in text
    assert "(b) Studio's re-diff of A against B is not empty" in text


def test_a_plan_that_loses_rows_fails_the_data_check(
        database_pool: DatabasePool, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_changes(monkeypatch, ["DROP TABLE public.t", B])
    with pytest.raises(RoundTripFailed) as caught:
        asyncio.run(assert_round_trip(database_pool, A, B, rows_sql=ROWS))
    text = str(caught.value)
    assert "(a)" not in text and "(b)" not in text  # the schema is right...
    assert "(c) data of public.t changed" in text  # ...the rows are gone


def test_a_plan_that_fails_is_reported_with_the_plan(
        database_pool: DatabasePool, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_changes(monkeypatch, ["ALTER TABLE public.t ALTER COLUMN a TYPE no_such_type"])
    with pytest.raises(RoundTripFailed, match=r"(?s)applying the plan failed .*no_such_type.*--- plan ---"):
        asyncio.run(assert_round_trip(database_pool, A, B, rows_sql=ROWS))


def test_missing_or_unexpected_hazards_fail(database_pool: DatabasePool) -> None:
    with pytest.raises(RoundTripFailed, match=r"hazard kinds \[\] != expected \['data_loss'\]"):
        asyncio.run(assert_round_trip(database_pool, A, B, rows_sql=ROWS, expect_hazards=[HazardKind.DATA_LOSS]))
    with pytest.raises(RoundTripFailed, match="expected a data_loss hazard with rows=2"):
        asyncio.run(assert_round_trip(database_pool, B, A, rows_sql=ROWS,
                                      expect_hazards=[(HazardKind.DATA_LOSS, 2)]))


def test_every_table_of_state_a_needs_a_row(database_pool: DatabasePool) -> None:
    with pytest.raises(RoundTripFailed, match=r"needs a row .* empty: \['public.t'\]"):
        asyncio.run(assert_round_trip(database_pool, A, B))


def test_a_good_round_trip_returns_its_plan(database_pool: DatabasePool) -> None:
    plan = asyncio.run(assert_round_trip(database_pool, B, A, rows_sql=ROWS,
                                         expect_hazards=[(HazardKind.DATA_LOSS, 1)]))
    assert [c.title for c in plan.changes] == ["Change column public.t.a"]
    assert plan.changes[0].statements == ["ALTER TABLE public.t ALTER COLUMN a TYPE integer"]
