"""Hazards against real row counts: lock hazards follow table size, data loss and failures count rows."""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind, Plan
from studio.core.schema.render import render_plan
from tests.support.roundtrip import Case, Outcomes, RoundTripFailed, params

LOCK = HazardKind.LOCK
DATA_LOSS = HazardKind.DATA_LOSS
FAILURE = HazardKind.FAILURE

BIG = 20_000
T = "create table public.t (id int primary key, a int, b text);"
BIG_ROWS = (f"insert into public.t select g, case when g % 4000 = 0 then null else g end, 'x'"
            f" from generate_series(1, {BIG}) g;")  # 5 nulls in a
SMALL_ROWS = "insert into public.t values (1, 1, 'x'), (2, null, 'y');"
T_BIGINT = T.replace("a int", "a bigint")
T_SMALLINT = T.replace("a int", "a smallint")

CASES = [
    Case("lock-on-large-table-type-change", T, T_BIGINT, rows=BIG_ROWS, hazards=[(LOCK, BIG)]),
    Case("no-lock-on-small-table-type-change", T, T_BIGINT, rows=SMALL_ROWS, hazards=[], compare_lock=True),
    Case("no-lock-on-small-table-index", T, T + " create index t_a on public.t (a);", rows=SMALL_ROWS, hazards=[],
         compare_lock=True),
    Case("lock-on-large-table-index", T, T + " create index t_a on public.t (a);", rows=BIG_ROWS,
         hazards=[(LOCK, BIG)]),
    Case("data-loss-counts-non-null-values", T, T_SMALLINT,
         rows=BIG_ROWS.replace("else g end", "else g % 1000 end"), hazards=[(DATA_LOSS, BIG - 5), LOCK]),
    Case("data-loss-counts-dropped-column-values", T, "create table public.t (id int primary key, b text);",
         rows=BIG_ROWS, hazards=[(DATA_LOSS, BIG - 5)]),
    Case("data-loss-counts-dropped-table-rows", T, "", rows=BIG_ROWS, hazards=[(DATA_LOSS, BIG)]),
    Case("failure-not-null-counts-null-rows", T, T.replace("a int", "a int not null"), rows=BIG_ROWS,
         hazards=[(FAILURE, 5)]),
    Case("failure-sequence-min-above-current-value", "create sequence public.s;",
         "create sequence public.s minvalue 5 maxvalue 500 start with 5;", hazards=[FAILURE]),
    Case("failure-sequence-turned-descending", "create sequence public.s;",
         "create sequence public.s increment by -1;", hazards=[FAILURE]),
]

# Cases whose plan must fail to apply, and say so beforehand: (hazard message, server error).
FAILING = {
    "failure-not-null-counts-null-rows": (
        "MAY FAIL: Makes a of public.t required: the migration fails while 5 rows have no value",
        'check constraint "a_studio_not_null" of relation "t" is violated'),
    "failure-sequence-min-above-current-value": (
        "MAY FAIL: Narrows the range of sequence public.s", "RESTART value (1) cannot be less than MINVALUE (5)"),
    "failure-sequence-turned-descending": (
        "MAY FAIL: Narrows the range of sequence public.s", "RESTART value (1) cannot be greater than MAXVALUE"),
}


@pytest.mark.parametrize("case", params(CASES))
def test_hazards(round_trips: Outcomes, case: Case) -> None:
    if case.name in FAILING:
        warning, error = FAILING[case.name]
        with pytest.raises(RoundTripFailed, match="applying the plan failed") as caught:
            round_trips.check(case)
        assert warning in str(caught.value)
        assert error in str(caught.value)
        return
    plan: Plan = round_trips.check(case)
    if case.name == "data-loss-counts-non-null-values":
        assert f"DATA LOSS: Changes a of public.t from integer to smallint: {BIG - 5:,} values" in render_plan(plan)
