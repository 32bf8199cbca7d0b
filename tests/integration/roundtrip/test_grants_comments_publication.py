"""Round trips of privileges (tables, columns, sequences, functions), comments and realtime publication."""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind
from tests.integration.roundtrip.known_bugs import (
    PUBLICATION_COLUMN_LIST,
    PUBLICATION_ROW_FILTER,
)
from tests.support.roundtrip import Case, Outcomes, params

SECURITY = HazardKind.SECURITY

T = "create table public.t (id int primary key, a int, secret text);"
T_ROWS = "insert into public.t values (1, 1, 's');"
FN = "create function public.f(x int) returns int language sql as $$ select x $$;"
SEQ = "create sequence public.s;"


def t(*statements: str) -> str:
    return T + "".join(f" {s};" for s in statements)


LOCKED = "revoke all on table public.t from anon, authenticated"

GRANTS = [
    # tables (default privileges give the API roles everything; the cases start from a locked table)
    Case("grant-table-select-to-anon", t(LOCKED), t(LOCKED, "grant select on public.t to anon"), rows=T_ROWS,
         hazards=[SECURITY]),
    Case("grant-table-several-to-authenticated", t(LOCKED),
         t(LOCKED, "grant select, insert, update on public.t to authenticated"), rows=T_ROWS, hazards=[SECURITY]),
    Case("grant-table-with-grant-option", t(LOCKED),
         t(LOCKED, "grant select on public.t to authenticated with grant option"), rows=T_ROWS, hazards=[SECURITY]),
    Case("grant-table-to-public", t(), t("grant select on public.t to public"), rows=T_ROWS, hazards=[SECURITY]),
    Case("revoke-table-all-from-anon", t(), t("revoke all on public.t from anon"), rows=T_ROWS, hazards=[]),
    Case("revoke-table-some-from-authenticated", t(), t("revoke delete, truncate on public.t from authenticated"),
         rows=T_ROWS, hazards=[]),
    Case("revoke-table-from-service-role", t(), t("revoke all on public.t from service_role"), rows=T_ROWS,
         hazards=[]),
    Case("grant-table-back-to-service-role", t("revoke all on public.t from service_role"), t(), rows=T_ROWS,
         hazards=[]),
    Case("grant-table-change-privileges", t(LOCKED, "grant select on public.t to anon"),
         t(LOCKED, "grant insert on public.t to anon"), rows=T_ROWS, hazards=[SECURITY]),
    # columns
    Case("grant-column-select", t(LOCKED), t(LOCKED, "grant select (id, a) on public.t to authenticated"),
         rows=T_ROWS, hazards=[SECURITY]),
    Case("grant-column-update-to-anon", t(LOCKED), t(LOCKED, "grant update (a) on public.t to anon"),
         rows=T_ROWS, hazards=[SECURITY]),
    Case("revoke-column", t(LOCKED, "grant select (id, a) on public.t to authenticated"),
         t(LOCKED, "grant select (id) on public.t to authenticated"), rows=T_ROWS, hazards=[]),
    Case("grant-column-on-new-column", t(LOCKED),
         "create table public.t (id int primary key, a int, secret text, b int);"
         f" {LOCKED}; grant select (b) on public.t to authenticated;", rows=T_ROWS, hazards=[SECURITY]),
    # sequences
    Case("revoke-sequence-from-anon", SEQ, SEQ + " revoke all on sequence public.s from anon;", hazards=[]),
    Case("grant-sequence-usage", SEQ + " revoke all on sequence public.s from anon;",
         SEQ + " revoke all on sequence public.s from anon; grant usage on sequence public.s to anon;",
         hazards=[SECURITY]),
    # functions
    Case("revoke-function-from-public-and-anon", FN,
         FN + " revoke execute on function public.f(int) from public, anon;", hazards=[]),
    Case("grant-function-to-authenticated-only",
         FN + " revoke execute on function public.f(int) from public, anon, authenticated;",
         FN + " revoke execute on function public.f(int) from public, anon;", hazards=[SECURITY]),
    Case("grant-function-back-to-public", FN + " revoke execute on function public.f(int) from public;", FN,
         hazards=[SECURITY]),
    Case("revoke-procedure", "create procedure public.p() language sql as $$ select 1 $$;",
         "create procedure public.p() language sql as $$ select 1 $$;"
         " revoke execute on procedure public.p() from public, anon, authenticated;", hazards=[]),
    Case("grant-on-view", "create view public.v as select 1 as x; revoke all on public.v from anon;",
         "create view public.v as select 1 as x; revoke all on public.v from anon; grant select on public.v to anon;",
         hazards=[SECURITY]),
    Case("grant-kept-when-view-is-replaced",
         t("create view public.v as select id from public.t", "revoke all on public.v from anon, authenticated",
           "grant select on public.v to authenticated"),
         t("create view public.v as select id, a from public.t", "revoke all on public.v from anon, authenticated",
           "grant select on public.v to authenticated"), rows=T_ROWS, hazards=...),
    Case("grant-kept-when-function-is-replaced",
         FN + " revoke execute on function public.f(int) from public, anon;",
         "create function public.f(x int) returns bigint language sql as $$ select x $$;"
         " revoke execute on function public.f(int) from public, anon;", hazards=...),
]

OBJECTS = (FN, "create type public.k as enum ('a')", "create domain public.d as int",
           "create view public.v as select id from public.t", "create index t_a on public.t (a)",
           "alter table public.t enable row level security",
           "create policy p on public.t for select using (false)",
           "create function public.trg() returns trigger language plpgsql as $$ begin return new; end $$",
           "create trigger tr before insert on public.t for each row execute function public.trg()",
           "alter table public.t add constraint a_pos check (a > 0)", "create sequence public.s",
           "create materialized view public.mv as select id from public.t")


def comments(text: str) -> list[str]:
    """A comment `text` on every kind of object in OBJECTS (and the table and a column)."""
    targets = ["table public.t", "column public.t.a", "function public.f(int)", "type public.k",
               "domain public.d", "view public.v", "index public.t_a", "policy p on public.t",
               "trigger tr on public.t", "constraint a_pos on public.t", "sequence public.s",
               "materialized view public.mv"]
    return [f"comment on {target} is '{text}'" for target in targets]


COMMENTS = [
    Case("comment-on-table-column-function-type-policy", t(FN, "create type public.k as enum ('a')",
                                                            "alter table public.t enable row level security",
                                                            "create policy p on public.t for select using (false)"),
         t(FN, "create type public.k as enum ('a')", "alter table public.t enable row level security",
           "create policy p on public.t for select using (false)",
           "comment on table public.t is 'Table ☕'", "comment on column public.t.a is 'Column \"a\"'",
           "comment on function public.f(int) is 'Function; with '' quote'",
           "comment on type public.k is 'Type'", "comment on policy p on public.t is 'Policy'"),
         rows=T_ROWS, hazards=...),
    Case("comment-change-all", t(*OBJECTS, *comments("one")), t(*OBJECTS, *comments("two ''☕''")),
         rows=T_ROWS, hazards=[]),
    Case("comment-remove-all", t(*OBJECTS, *comments("one")), t(*OBJECTS), rows=T_ROWS, hazards=[]),
    Case("comment-multiline-and-empty",
         t(), t("comment on table public.t is E'line one\\nline two'", "comment on column public.t.a is ''"),
         rows=T_ROWS, hazards=[],
         xfail=None),
]

PUBLICATION = [
    Case("publication-add-table", t(), t("alter publication supabase_realtime add table public.t"), rows=T_ROWS,
         hazards=...),
    Case("publication-remove-table", t("alter publication supabase_realtime add table public.t"), t(),
         rows=T_ROWS, hazards=...),
    Case("publication-add-new-table", "", t("alter publication supabase_realtime add table public.t"),
         hazards=...),
    Case("publication-drop-published-table", t("alter publication supabase_realtime add table public.t"), "",
         rows=T_ROWS, hazards=[HazardKind.DATA_LOSS]),
    Case("publication-hostile-table-name", 'create table public."Chat ☕ ""Room""" (id int primary key);',
         'create table public."Chat ☕ ""Room""" (id int primary key);'
         ' alter publication supabase_realtime add table public."Chat ☕ ""Room""";',
         rows='insert into public."Chat ☕ ""Room""" values (1);', hazards=...),
    Case("publication-column-list", t(), t("alter publication supabase_realtime add table public.t (id, a)"),
         rows=T_ROWS, hazards=...,
         xfail=PUBLICATION_COLUMN_LIST),
    Case("publication-row-filter", t(), t("alter publication supabase_realtime add table public.t where (a > 0)"),
         rows=T_ROWS, hazards=...,
         xfail=PUBLICATION_ROW_FILTER),
]

CASES = GRANTS + COMMENTS + PUBLICATION


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
