"""Round trips with hostile identifiers: quotes, spaces, mixed case, unicode and reserved words everywhere.

Every object kind that has a name gets one of these names, and every change runs with rows present.
"""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind
from tests.support.roundtrip import Case, Outcomes, params

DATA_LOSS = HazardKind.DATA_LOSS

S = '"Café ☕"'  # schema
TB = '"Order ""Items"""'  # table
COL = '"select"'
COL2 = '"User Name"'
COL3 = '"Ünïcode ☕"'
Q = f"{S}.{TB}"

BASE = (f"create schema {S}; create table {Q} (id int primary key, {COL} int, {COL2} text, \"order\" text);")
ROWS = f"insert into {Q} values (1, 10, 'Ada', 'first'), (2, null, 'Grace \"G\"', null);"


def base(*statements: str) -> str:
    return BASE + "".join(f" {s};" for s in statements)


CASES = [
    Case("hostile-create-everything", "",
         base(f'create type {S}."Mood ""☕""" as enum (\'it\'\'s\', \'ok ☕\')',
              f'create domain {S}."Pos Int" as int check (value > 0)',
              f'create sequence {S}."Seq ☕"',
              f'create index "Idx ""☕""" on {Q} ({COL2})',
              f'alter table {Q} add constraint "Chk ""select""" check ({COL} > 0)',
              f'alter table {Q} enable row level security',
              f'create policy "Pol ""user"" ☕" on {Q} for select to authenticated using ({COL} > 0)',
              f'create function {S}."Fn ""x"" ☕"("Arg ☕" int) returns int language sql as $$ select 1 $$',
              f'create view {S}."View ☕" as select id, {COL} from {Q}',
              f'comment on column {Q}.{COL2} is \'name ☕\''),
         hazards=...),
    Case("hostile-add-column", base(), base().replace('"order" text)', f'"order" text, {COL3} text default \'☕\')'),
         rows=ROWS, hazards=[]),
    Case("hostile-drop-column", base(), base().replace(f", {COL2} text", ""), rows=ROWS,
         hazards=[(DATA_LOSS, 2)]),
    Case("hostile-type-change", base(), base().replace(f"{COL} int", f"{COL} bigint"), rows=ROWS, hazards=[]),
    Case("hostile-narrowing", base(), base().replace(f"{COL2} text", f"{COL2} varchar(20)"), rows=ROWS,
         hazards=[(DATA_LOSS, 2)]),
    Case("hostile-not-null", base(), base().replace(f"{COL2} text", f"{COL2} text not null"), rows=ROWS,
         hazards=[(HazardKind.FAILURE, 0)]),
    Case("hostile-default", base(), base().replace('"order" text', '"order" text default \'it\'\'s ☕\''),
         rows=ROWS, hazards=[]),
    Case("hostile-reserved-column-names", base(),
         base().replace('"order" text)', '"order" text, "user" text, "from" int, "table" boolean)'),
         rows=ROWS, hazards=[]),
    Case("hostile-constraints", base(),
         base(f'alter table {Q} add constraint "Uniq ""Name"" ☕" unique ({COL2})',
              f'alter table {Q} add constraint "Chk ☕" check ({COL} is null or {COL} > 0)'),
         rows=ROWS, hazards=[HazardKind.FAILURE]),
    Case("hostile-foreign-key", base(f'create table {S}."Child ☕" (id int primary key, "Parent Id" int)'),
         base(f'create table {S}."Child ☕" (id int primary key, "Parent Id" int'
              f' constraint "FK ""to"" ☕" references {Q} (id) on delete cascade)'),
         rows=ROWS + f' insert into {S}."Child ☕" values (1, 1);', hazards=[HazardKind.FAILURE]),
    Case("hostile-index-change", base(f'create index "Idx ☕" on {Q} ({COL2})'),
         base(f'create index "Idx ☕" on {Q} ({COL2}, {COL}) where {COL} > 0'), rows=ROWS, hazards=[]),
    Case("hostile-policy-alter",
         base(f"alter table {Q} enable row level security",
              f'create policy "Pol ☕" on {Q} for select to authenticated using ({COL} > 0)'),
         base(f"alter table {Q} enable row level security",
              f'create policy "Pol ☕" on {Q} for select to authenticated, anon using ({COL} > 1)'),
         rows=ROWS, hazards=[HazardKind.SECURITY]),
    Case("hostile-function-change",
         base(f'create function {S}."Fn ☕"("In ""x""" int) returns int language sql as $$ select "In ""x""" $$'),
         base(f'create function {S}."Fn ☕"("In ""x""" int) returns int language sql as $$ select 2 $$'),
         rows=ROWS, hazards=[]),
    Case("hostile-trigger",
         base('create function "Café ☕"."Trg ☕"() returns trigger language plpgsql as $$ begin return new; end $$'),
         base('create function "Café ☕"."Trg ☕"() returns trigger language plpgsql as $$ begin return new; end $$',
              f'create trigger "Trg ""x"" ☕" before insert on {Q} for each row execute function "Café ☕"."Trg ☕"()'),
         rows=ROWS, hazards=[]),
    Case("hostile-enum-add-value", base(f'create type {S}."Mood ☕" as enum (\'a\')'),
         base(f'create type {S}."Mood ☕" as enum (\'a\', \'b ""☕""\')'), rows=ROWS,
         hazards=[]),
    Case("hostile-grants", base(), base(f"revoke all on {Q} from anon", f"grant select ({COL2}) on {Q} to anon"),
         rows=ROWS, hazards=[HazardKind.SECURITY]),
    Case("hostile-comments", base(),
         base(f"comment on table {Q} is 'Table ''☕'''", f"comment on column {Q}.{COL} is 'reserved; -- yes'",
              f"comment on schema {S} is 'Schema ☕'"), rows=ROWS, hazards=[]),
    Case("hostile-publication", base(), base(f"alter publication supabase_realtime add table {Q}"),
         rows=ROWS, hazards=...),
    Case("hostile-view-change", base(f'create view {S}."View ☕" as select id, {COL} from {Q}'),
         base(f'create view {S}."View ☕" as select id, {COL}, {COL2} from {Q}'), rows=ROWS, hazards=...),
    Case("hostile-drop-everything",
         base(f'create type {S}."Mood ☕" as enum (\'a\')', f'create index "Idx ☕" on {Q} ({COL2})',
              f'create view {S}."View ☕" as select id from {Q}'), "", rows=ROWS, hazards=[(DATA_LOSS, 2)]),
    Case("hostile-mixed-case-vs-lower", "create table public.items (id int primary key);",
         'create table public.items (id int primary key); create table public."Items" (id int primary key);'
         ' create table public."ITEMS" (id int primary key);',
         rows="insert into public.items values (1);", hazards=...),
    Case("hostile-long-names", "create table public.t (id int primary key);",
         "create table public.t (id int primary key, " + "c" * 63 + " int);"
         " create index " + "i" * 63 + " on public.t (" + "c" * 63 + ");",
         rows="insert into public.t values (1);", hazards=[]),
]


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
