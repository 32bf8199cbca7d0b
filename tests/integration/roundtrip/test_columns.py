"""Round trips of columns: add, drop, type, default, nullability, identity, generated, collation, comment.

Every case has rows in its table; the values of every column that both states have must survive.
"""

from __future__ import annotations

from typing import Any

import pytest

from studio.core.schema.plan import HazardKind
from studio.core.targets.local import LocalServer
from tests.support.roundtrip import Case, Outcomes, params

DATA_LOSS = HazardKind.DATA_LOSS
FAILURE = HazardKind.FAILURE


def col(name: str, a_cols: str, b_cols: str, rows: str, **kw: Any) -> Case:
    """A case on `public.t (id int primary key, ...)` with `rows` as the VALUES of its rows."""
    a = f"create table public.t (id int primary key, {a_cols});"
    b = f"create table public.t (id int primary key, {b_cols});"
    return Case(name, a, b, rows=f"insert into public.t values {rows};", **kw)


THREE = "(1, 10), (2, 20), (3, null)"  # two values, one null
TEXTS = "(1, 'abc'), (2, 'de'), (3, null)"

ADD_DROP = [
    col("add-nullable", "a int", "a int, b text", THREE, hazards=[]),
    col("add-not-null-with-default", "a int", "a int, b text not null default 'x'", THREE, hazards=[]),
    col("add-with-volatile-default", "a int", "a int, b uuid not null default gen_random_uuid()", THREE,
        hazards=[]),
    col("add-with-now-default", "a int", "a int, b timestamptz default now()", THREE, hazards=[]),
    col("add-array-and-jsonb", "a int", "a int, tags text[] default '{}', meta jsonb default '{\"k\": 1}'",
        THREE, hazards=[]),
    col("add-identity", "a int", "a int, n bigint generated always as identity", THREE, hazards=[]),
    col("add-generated-stored", "a int", "a int, doubled int generated always as (a * 2) stored", THREE,
        hazards=[]),
    col("add-generated-virtual", "a int", "a int, doubled int generated always as (a * 2) virtual", THREE,
        hazards=[]),
    col("add-with-collation", "a int", "a int, b text collate \"C\"", THREE, hazards=[]),
    col("add-several", "a int", "a int, b int, c text, d boolean not null default false", THREE, hazards=[]),
    col("drop", "a int, b text", "a int", "(1, 10, 'x'), (2, 20, null), (3, null, 'y')",
        hazards=[(DATA_LOSS, 2)]),
    col("drop-several", "a int, b text, c int", "b text", "(1, 10, 'x', 1), (2, 20, null, 2), (3, null, 'y', 3)",
        hazards=[(DATA_LOSS, 2), (DATA_LOSS, 3)]),
]

TYPES = [
    # widening: no data loss
    col("type-int-to-bigint", "a int", "a bigint", THREE, hazards=[]),
    col("type-smallint-to-int", "a smallint", "a int", THREE, hazards=[]),
    col("type-int-to-numeric", "a int", "a numeric", THREE, hazards=[]),
    col("type-varchar-longer", "a varchar(5)", "a varchar(50)", TEXTS, hazards=[]),
    col("type-varchar-to-text", "a varchar(5)", "a text", TEXTS, hazards=[]),
    col("type-text-to-varchar-unbounded", "a text", "a varchar", TEXTS, hazards=[]),
    col("type-numeric-wider", "a numeric(5,2)", "a numeric(10,2)", "(1, 1.25), (2, 999.99), (3, null)",
        hazards=[]),
    col("type-numeric-more-scale", "a numeric(5,2)", "a numeric(8,4)", "(1, 1.25), (2, 999.99), (3, null)",
        hazards=[]),
    col("type-real-to-double", "a real", "a double precision", "(1, 1.5), (2, -2.25), (3, null)", hazards=[]),
    col("type-timestamp-to-timestamptz", "a timestamp", "a timestamptz",
        "(1, '2024-01-02 03:04:05'), (2, '1999-12-31 23:59:59'), (3, null)", hazards=[]),
    col("type-char-to-text", "a char(3)", "a text", "(1, 'ab'), (2, 'xyz'), (3, null)", hazards=...),
    # narrowing: DATA_LOSS with the number of non-null values at risk
    col("type-bigint-to-int", "a bigint", "a int", THREE, hazards=[(DATA_LOSS, 2)]),
    col("type-int-to-smallint", "a int", "a smallint", THREE, hazards=[(DATA_LOSS, 2)]),
    col("type-text-to-varchar-short", "a text", "a varchar(3)", TEXTS, hazards=[(DATA_LOSS, 2)]),
    col("type-varchar-shorter", "a varchar(10)", "a varchar(3)", TEXTS, hazards=[(DATA_LOSS, 2)]),
    col("type-numeric-less-scale", "a numeric(6,3)", "a numeric(6,1)", "(1, 1.25), (2, 2.125), (3, null)",
        hazards=[(DATA_LOSS, 2)]),
    col("type-double-to-real", "a double precision", "a real", "(1, 1.5), (2, 2.25), (3, null)",
        hazards=[(DATA_LOSS, 2)]),
    col("type-timestamptz-to-date", "a timestamptz", "a date",
        "(1, '2024-01-02 03:04:05+00'), (2, '2020-02-29 00:00:00+00'), (3, null)", hazards=[(DATA_LOSS, 2)]),
    # conversions that need USING
    col("type-text-to-int", "a text", "a int", "(1, '10'), (2, '-3'), (3, null)", hazards=[(DATA_LOSS, 2)]),
    col("type-text-to-boolean", "a text", "a boolean", "(1, 'true'), (2, 'f'), (3, null)",
        hazards=[(DATA_LOSS, 2)]),
    col("type-text-to-jsonb", "a text", "a jsonb", "(1, '{\"k\": 1}'), (2, '[1, 2]'), (3, null)",
        hazards=[(DATA_LOSS, 2)]),
    col("type-text-to-uuid", "a text", "a uuid",
        "(1, '7d444840-9dc0-11d1-b245-5ffdce74fad2'), (2, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), (3, null)",
        hazards=[(DATA_LOSS, 2)]),
    col("type-int-to-text", "a int", "a text", THREE, hazards=...),
    col("type-int-to-bigint-with-default", "a int default 7", "a bigint default 7", THREE, hazards=[]),
    col("type-change-with-index", "a int", "a bigint", THREE, hazards=[]),
    col("type-change-keeps-check-constraint", "a int check (a > 0)", "a bigint check (a > 0)", THREE,
        hazards=[]),
    col("type-change-and-default-change", "a int default 1", "a bigint default 2", THREE, hazards=[]),
    col("type-change-and-not-null", "a int default 0", "a bigint not null default 0",
        "(1, 10), (2, 20), (3, 0)", hazards=[(FAILURE, 0)]),
    col("type-array", "a int[]", "a bigint[]", "(1, '{1,2}'), (2, '{}'), (3, null)", hazards=...),
]

DEFAULTS = [
    col("default-set", "a int", "a int default 5", THREE, hazards=[]),
    col("default-change", "a int default 5", "a int default 6", THREE, hazards=[]),
    col("default-change-expression", "a text default 'x'", "a text default upper('y' || 'z')", TEXTS, hazards=[]),
    col("default-drop", "a int default 5", "a int", THREE, hazards=[]),
    col("default-with-quotes", "a text", "a text default 'it''s \"quoted\"; -- not a comment'", TEXTS,
        hazards=[]),
    col("default-now-to-clock", "a timestamptz default now()", "a timestamptz default clock_timestamp()",
        "(1, now()), (2, null), (3, '2024-01-01')", hazards=[]),
]

NULLABILITY = [
    col("not-null-set-rows-present", "a int", "a int not null", "(1, 10), (2, 20), (3, 30)",
        hazards=[(FAILURE, 0)]),
    col("not-null-drop", "a int not null", "a int", "(1, 10), (2, 20), (3, 30)", hazards=[]),
    col("not-null-set-with-default", "a int", "a int not null default 0", "(1, 10), (2, 20), (3, 30)",
        hazards=[(FAILURE, 0)]),
    col("not-null-named-constraint", "a int", "a int constraint a_required not null", "(1, 10), (2, 20), (3, 30)",
        hazards=[(FAILURE, 0)]),
]

IDENTITY = [
    col("identity-add-always", "a int not null", "a int generated always as identity",
        "(1, 10), (2, 20), (3, 30)", hazards=[]),
    col("identity-add-by-default", "a bigint not null", "a bigint generated by default as identity",
        "(1, 10), (2, 20), (3, 30)", hazards=[]),
    col("identity-drop", "a int generated always as identity", "a int not null",
        "(1, default), (2, default), (3, default)", hazards=[]),
    col("identity-always-to-by-default", "a int generated always as identity",
        "a int generated by default as identity", "(1, default), (2, default), (3, default)", hazards=[]),
    col("identity-by-default-to-always", "a int generated by default as identity",
        "a int generated always as identity", "(1, default), (2, 5), (3, default)", hazards=[]),
    col("identity-from-serial", "a serial", "a int generated by default as identity",
        "(1, default), (2, default), (3, default)", hazards=[]),
    col("identity-to-serial", "a int generated by default as identity", "a serial",
        "(1, default), (2, default), (3, default)", hazards=...),
    col("identity-type-change", "a int generated always as identity", "a bigint generated always as identity",
        "(1, default), (2, default), (3, default)", hazards=[]),
]

GENERATED = [
    col("generated-stored-expression-change", "a int, g int generated always as (a * 2) stored",
        "a int, g int generated always as (a * 3) stored", THREE, hazards=[]),
    col("generated-virtual-expression-change", "a int, g int generated always as (a * 2) virtual",
        "a int, g int generated always as (a + 1) virtual", THREE, hazards=[]),
    col("generated-stored-to-virtual", "a int, g int generated always as (a * 2) stored",
        "a int, g int generated always as (a * 2) virtual", THREE, hazards=...,
        not_handled=("generated",)),
    col("generated-drop-expression", "a int, g int generated always as (a * 2) stored", "a int, g int", THREE,
        hazards=[]),
    col("generated-drop-column", "a int, g int generated always as (a * 2) stored", "a int", THREE,
        hazards=[(DATA_LOSS, 2)]),
    col("generated-from-plain-is-not-handled", "a int, g int", "a int, g int generated always as (a * 2) stored",
        "(1, 10, 1), (2, 20, 2), (3, null, 3)", not_handled=("generated",), hazards=...),
    col("generated-text-expression", "first text, last text",
        "first text, last text, full_name text generated always as (first || ' ' || last) stored",
        "(1, 'Ada', 'Lovelace'), (2, 'Alan', null), (3, null, null)", hazards=[]),
]

COLLATION = [
    col("collation-set", "a text", "a text collate \"C\"", TEXTS, hazards=...),
    col("collation-change", "a text collate \"C\"", "a text collate \"POSIX\"", TEXTS, hazards=...),
    col("collation-drop", "a text collate \"C\"", "a text", TEXTS, hazards=...),
    col("collation-with-index", "a text", "a text collate \"C\"", TEXTS, hazards=...),
]

COMMENTS = [
    Case("comment-set", "create table public.t (id int primary key, a int);",
         "create table public.t (id int primary key, a int); comment on column public.t.a is 'The a';",
         rows="insert into public.t values (1, 1);", hazards=[]),
    Case("comment-change",
         "create table public.t (id int primary key, a int); comment on column public.t.a is 'The a';",
         "create table public.t (id int primary key, a int); comment on column public.t.a is 'The ''new'' a';",
         rows="insert into public.t values (1, 1);", hazards=[]),
    Case("comment-remove",
         "create table public.t (id int primary key, a int); comment on column public.t.a is 'The a';",
         "create table public.t (id int primary key, a int);",
         rows="insert into public.t values (1, 1);", hazards=[]),
    Case("comment-on-new-column", "create table public.t (id int primary key);",
         "create table public.t (id int primary key, a int); comment on column public.t.a is 'The a';",
         rows="insert into public.t values (1);", hazards=[]),
    Case("comment-on-column-of-new-table", "",
         "create table public.t (id int primary key, a int); comment on column public.t.a is 'The a';",
         hazards=...),
]

CASES = ADD_DROP + TYPES + DEFAULTS + NULLABILITY + IDENTITY + GENERATED + COLLATION + COMMENTS


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)


def test_required_column_without_default_fails_on_rows_and_says_so(local_server: LocalServer) -> None:
    """The plan warns (FAILURE, with the row count) and the migration then fails, changing nothing."""
    import asyncio

    from tests.support.roundtrip import RoundTripFailed, assert_round_trip

    with pytest.raises(RoundTripFailed, match="applying the plan failed") as caught:
        asyncio.run(assert_round_trip(
            local_server, "create table public.t (id int primary key);",
            "create table public.t (id int primary key, b text not null);",
            rows_sql="insert into public.t values (1), (2);"))
    assert "MAY FAIL: Adds required column b" in str(caught.value)
    assert "(2 now)" in str(caught.value)
