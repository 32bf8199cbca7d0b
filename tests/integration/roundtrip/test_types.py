"""Round trips of enums, composite types and domains (alone and used by a table with rows)."""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind
from tests.integration.roundtrip.known_bugs import (
    COMPOSITE_ALTER_ATTRIBUTE_IN_USE,
)
from tests.support.roundtrip import Case, Outcomes, params

DATA_LOSS = HazardKind.DATA_LOSS
FAILURE = HazardKind.FAILURE


def enum_table(labels: str, extra: str = "") -> str:
    return (f"create type public.mood as enum ({labels});"
            f" create table public.people (id int primary key, mood public.mood{extra});")


PEOPLE_ROWS = "insert into public.people values (1, 'ok'), (2, 'sad'), (3, null);"

ENUMS = [
    Case("enum-create", "", "create type public.mood as enum ('sad', 'ok', 'happy');", hazards=[]),
    Case("enum-create-with-table",
         "create table public.people (id int primary key);",
         enum_table("'sad', 'ok'"),
         rows="insert into public.people values (1);", hazards=[]),
    Case("enum-add-value-last", enum_table("'sad', 'ok'"), enum_table("'sad', 'ok', 'happy'"),
         rows=PEOPLE_ROWS, hazards=[]),
    Case("enum-add-value-first", enum_table("'sad', 'ok'"), enum_table("'angry', 'sad', 'ok'"),
         rows=PEOPLE_ROWS, hazards=[], statements_contain=("ADD VALUE 'angry' BEFORE 'sad'",)),
    Case("enum-add-value-middle", enum_table("'sad', 'ok'"), enum_table("'sad', 'meh', 'ok'"),
         rows=PEOPLE_ROWS, hazards=[], statements_contain=("ADD VALUE 'meh' BEFORE 'ok'",)),
    Case("enum-add-several-values", enum_table("'sad', 'ok'"), enum_table("'awful', 'sad', 'meh', 'ok', 'great'"),
         rows=PEOPLE_ROWS, hazards=[]),
    Case("enum-add-hostile-value", enum_table("'sad', 'ok'"), enum_table("'sad', 'ok', 'it''s \"fine\" ☕'"),
         rows=PEOPLE_ROWS, hazards=[]),
    Case("enum-rename-value", enum_table("'sad', 'ok'"), enum_table("'sad', 'fine'"),
         rows="insert into public.people values (1, 'sad'), (2, null);",
         hazards=[], statements_contain=("RENAME VALUE 'ok' TO 'fine'",)),
    Case("enum-drop-value-is-not-handled", enum_table("'sad', 'ok', 'happy'"), enum_table("'sad', 'ok'"),
         rows=PEOPLE_ROWS, not_handled=("enum public.mood",), xfail=None,
         hazards=...),
    Case("enum-drop", "create type public.mood as enum ('sad', 'ok');", "", hazards=[]),
    Case("enum-drop-with-column",
         enum_table("'sad', 'ok'"), "create table public.people (id int primary key);",
         rows=PEOPLE_ROWS, hazards=[(DATA_LOSS, 2)]),
    Case("enum-comment", enum_table("'sad', 'ok'"),
         enum_table("'sad', 'ok'") + " comment on type public.mood is 'How one feels';",
         rows=PEOPLE_ROWS, hazards=[]),
    Case("enum-column-from-text",
         "create type public.mood as enum ('sad', 'ok'); create table public.people (id int primary key, mood text);",
         enum_table("'sad', 'ok'"), rows=PEOPLE_ROWS, hazards=[DATA_LOSS]),
    Case("enum-column-to-text",
         enum_table("'sad', 'ok'"),
         "create type public.mood as enum ('sad', 'ok'); create table public.people (id int primary key, mood text);",
         rows=PEOPLE_ROWS, hazards=[]),
    Case("enum-column-default",
         enum_table("'sad', 'ok'"), enum_table("'sad', 'ok'", " default 'ok'"), rows=PEOPLE_ROWS, hazards=[]),
]


def point_table(attrs: str) -> str:
    return (f"create type public.point3 as ({attrs});"
            " create table public.shapes (id int primary key, p public.point3);")


SHAPE_ROWS = "insert into public.shapes values (1, row(1, 2)), (2, null);"

COMPOSITES = [
    Case("composite-create", "", "create type public.point3 as (x int, y int, label text collate \"C\");",
         hazards=[]),
    Case("composite-add-attribute", point_table("x int, y int"), point_table("x int, y int, z int"),
         rows=SHAPE_ROWS, hazards=[], unchecked=("public.shapes.p",)),  # (1,2) reads (1,2,) afterwards
    Case("composite-drop-attribute", point_table("x int, y int, z int"), point_table("x int, y int"),
         rows="insert into public.shapes values (1, row(1, 2, 3)), (2, null);", unchecked=("public.shapes.p",),
         hazards=[DATA_LOSS]),
    Case("composite-alter-attribute-type-unused",
         "create type public.point3 as (x int, y int);", "create type public.point3 as (x bigint, y int);",
         hazards=[]),
    Case("composite-alter-attribute-type-used", point_table("x int, y int"), point_table("x bigint, y int"),
         rows=SHAPE_ROWS, hazards=...,
         xfail=COMPOSITE_ALTER_ATTRIBUTE_IN_USE),
    Case("composite-drop", "create type public.point3 as (x int, y int);", "", hazards=[]),
    Case("composite-comment", "create type public.point3 as (x int, y int);",
         "create type public.point3 as (x int, y int); comment on type public.point3 is 'A point';", hazards=[]),
]


def money_domain(definition: str = "") -> str:
    return (f"create domain public.price as numeric(10,2) {definition};"
            " create table public.items (id int primary key, price public.price);")


ITEM_ROWS = "insert into public.items values (1, 9.99), (2, 0);"

DOMAINS = [
    Case("domain-create", "",
         "create domain public.price as numeric(10,2) default 0 not null"
         " constraint price_positive check (value >= 0);", hazards=[]),
    Case("domain-create-used-by-new-column",
         "create table public.items (id int primary key);", money_domain(),
         rows="insert into public.items values (1);", hazards=[]),
    Case("domain-set-default", money_domain(), money_domain("default 1"), rows=ITEM_ROWS, hazards=[]),
    Case("domain-change-default", money_domain("default 1"), money_domain("default 2.5"), rows=ITEM_ROWS, hazards=[]),
    Case("domain-drop-default", money_domain("default 1"), money_domain(), rows=ITEM_ROWS, hazards=[]),
    Case("domain-set-not-null", money_domain(), money_domain("not null"), rows=ITEM_ROWS, hazards=[FAILURE]),
    Case("domain-drop-not-null", money_domain("not null"), money_domain(), rows=ITEM_ROWS, hazards=[]),
    Case("domain-add-check", money_domain(), money_domain("constraint price_positive check (value >= 0)"),
         rows=ITEM_ROWS, hazards=[FAILURE]),
    Case("domain-drop-check", money_domain("constraint price_positive check (value >= 0)"), money_domain(),
         rows=ITEM_ROWS, hazards=[]),
    Case("domain-change-check",
         money_domain("constraint price_ok check (value >= 0)"),
         money_domain("constraint price_ok check (value >= 0 and value < 1000)"),
         rows=ITEM_ROWS, hazards=...),
    Case("domain-comment", money_domain(), money_domain() + " comment on domain public.price is 'In euros';",
         rows=ITEM_ROWS, hazards=[]),
    Case("domain-drop", "create domain public.price as numeric(10,2);", "", hazards=[]),
    Case("domain-drop-with-column", money_domain(), "create table public.items (id int primary key);",
         rows=ITEM_ROWS, hazards=[(DATA_LOSS, 2)]),
    Case("domain-base-type-change-is-not-handled",
         "create domain public.code as varchar(5);", "create domain public.code as varchar(10);",
         not_handled=("domain public.code",), hazards=...),
]

CASES = ENUMS + COMPOSITES + DOMAINS


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
