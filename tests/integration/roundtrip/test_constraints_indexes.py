"""Round trips of constraints (primary, unique, foreign, check, exclusion; deferrable) and indexes."""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind, PlanOptions
from tests.support.roundtrip import Case, Outcomes, params

FAILURE = HazardKind.FAILURE

T = "create table public.t (id int not null, code text, qty int, parent int);"
T_ROWS = "insert into public.t values (1, 'a', 5, null), (2, 'b', 7, 1), (3, 'c', 9, 1);"
PARENT = "create table public.parents (id int primary key, name text);"
CHILD = "create table public.children (id int primary key, parent_id int, name text);"
FAMILY_ROWS = ("insert into public.parents values (1, 'p1'), (2, 'p2');"
               " insert into public.children values (1, 1, 'c1'), (2, null, 'c2'), (3, 2, 'c3');")


def t(extra: str = "") -> str:
    return T + (" " + extra if extra else "")


def family(extra: str = "") -> str:
    return PARENT + " " + CHILD + (" " + extra if extra else "")


FK = ("alter table public.children add constraint children_parent_fk"
      " foreign key (parent_id) references public.parents (id)")

CONSTRAINTS = [
    # primary keys
    Case("pk-add", t(), t("alter table public.t add primary key (id);"), rows=T_ROWS, hazards=[FAILURE]),
    Case("pk-drop", t("alter table public.t add primary key (id);"), t(), rows=T_ROWS, hazards=[]),
    Case("pk-change-columns", t("alter table public.t add constraint t_pkey primary key (id);"),
         t("alter table public.t alter column code set not null;"
           " alter table public.t add constraint t_pkey primary key (id, code);"),
         rows=T_ROWS, hazards=...),
    Case("pk-named-hostile", t(), t('alter table public.t add constraint "The ""Key"" ☕" primary key (id);'),
         rows=T_ROWS, hazards=[FAILURE]),
    # unique
    Case("unique-add", t(), t("alter table public.t add constraint t_code_key unique (code);"), rows=T_ROWS,
         hazards=[FAILURE]),
    Case("unique-add-multi-column", t(), t("alter table public.t add constraint t_code_qty_key unique (code, qty);"),
         rows=T_ROWS, hazards=[FAILURE]),
    Case("unique-nulls-not-distinct", t(),
         t("alter table public.t add constraint t_code_key unique nulls not distinct (code);"),
         rows=T_ROWS, hazards=[FAILURE]),
    Case("unique-drop", t("alter table public.t add constraint t_code_key unique (code);"), t(), rows=T_ROWS,
         hazards=[]),
    Case("unique-change", t("alter table public.t add constraint t_code_key unique (code);"),
         t("alter table public.t add constraint t_code_key unique (code, qty);"), rows=T_ROWS, hazards=...),
    Case("unique-deferrable", t("alter table public.t add constraint t_code_key unique (code);"),
         t("alter table public.t add constraint t_code_key unique (code) deferrable initially deferred;"),
         rows=T_ROWS, hazards=...),
    # foreign keys
    Case("fk-add", family(), family(FK + ";"), rows=FAMILY_ROWS, hazards=[FAILURE]),
    Case("fk-add-with-new-table", PARENT,
         family(FK + ";"), rows="insert into public.parents values (1, 'p1');", hazards=...),
    Case("fk-drop", family(FK + ";"), family(), rows=FAMILY_ROWS, hazards=[]),
    Case("fk-on-delete-cascade", family(FK + ";"), family(FK + " on delete cascade;"), rows=FAMILY_ROWS,
         hazards=[FAILURE]),
    Case("fk-on-delete-set-null-on-update-cascade", family(FK + ";"),
         family(FK + " on delete set null on update cascade;"), rows=FAMILY_ROWS, hazards=[FAILURE]),
    Case("fk-deferrable", family(FK + ";"), family(FK + " deferrable initially deferred;"), rows=FAMILY_ROWS,
         hazards=[FAILURE]),
    Case("fk-not-deferrable-again", family(FK + " deferrable initially deferred;"), family(FK + ";"),
         rows=FAMILY_ROWS, hazards=[FAILURE]),
    Case("fk-self-reference", t("alter table public.t add primary key (id);"),
         t("alter table public.t add primary key (id);"
           " alter table public.t add constraint t_parent_fk foreign key (parent) references public.t (id);"),
         rows=T_ROWS, hazards=[FAILURE]),
    Case("fk-to-unique-not-pk",
         family("alter table public.parents add constraint parents_name_key unique (name);"
                " alter table public.children add column parent_name text;"),
         family("alter table public.parents add constraint parents_name_key unique (name);"
                " alter table public.children add column parent_name text"
                "   references public.parents (name) on delete set null;"),
         rows=FAMILY_ROWS, hazards=[FAILURE]),
    Case("fk-to-auth-users",
         "create table public.profiles (id uuid primary key, name text);",
         "create table public.profiles (id uuid primary key references auth.users (id) on delete cascade,"
         " name text);",
         rows="insert into auth.users (id) values ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');"
              " insert into public.profiles values ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'x');",
         hazards=[FAILURE]),
    Case("fk-referenced-pk-replaced",
         family(FK + ";"),
         "create table public.parents (id int, name text, constraint parents_pkey primary key (id) include (name));"
         f" {CHILD} {FK};",
         rows=FAMILY_ROWS, hazards=...),
    # check
    Case("check-add", t(), t("alter table public.t add constraint qty_positive check (qty > 0);"), rows=T_ROWS,
         hazards=[FAILURE]),
    Case("check-drop", t("alter table public.t add constraint qty_positive check (qty > 0);"), t(), rows=T_ROWS,
         hazards=[]),
    Case("check-change", t("alter table public.t add constraint qty_positive check (qty > 0);"),
         t("alter table public.t add constraint qty_positive check (qty > 0 and qty < 100);"), rows=T_ROWS,
         hazards=[FAILURE]),
    Case("check-multi-column-and-functions", t(),
         t("alter table public.t add constraint code_ok check (length(code) < 10 and code = lower(code)"
           " or qty is null);"), rows=T_ROWS, hazards=[FAILURE]),
    Case("check-no-inherit", t(), t("alter table public.t add constraint qty_ok check (qty <> 0) no inherit;"),
         rows=T_ROWS, hazards=[FAILURE]),
    Case("check-not-valid-in-desired-state", t(),
         t("alter table public.t add constraint qty_ok check (qty > 6) not valid;"), rows=T_ROWS,
         hazards=[]),
    # exclusion
    Case("exclusion-add",
         "create extension btree_gist with schema extensions;"
         " create table public.rooms (id int primary key, room int, during tstzrange);",
         "create extension btree_gist with schema extensions;"
         " create table public.rooms (id int primary key, room int, during tstzrange,"
         "   constraint no_overlap exclude using gist (room with =, during with &&));",
         rows="insert into public.rooms values (1, 1, '[2024-01-01, 2024-01-02)'),"
              " (2, 1, '[2024-01-02, 2024-01-03)');",
         hazards=[FAILURE]),
    Case("exclusion-drop",
         "create extension btree_gist with schema extensions;"
         " create table public.rooms (id int primary key, room int, during tstzrange,"
         "   constraint no_overlap exclude using gist (room with =, during with &&));",
         "create extension btree_gist with schema extensions;"
         " create table public.rooms (id int primary key, room int, during tstzrange);",
         rows="insert into public.rooms values (1, 1, '[2024-01-01, 2024-01-02)');",
         hazards=[]),
    Case("exclusion-change-with-where",
         "create extension btree_gist with schema extensions;"
         " create table public.rooms (id int primary key, room int, during tstzrange,"
         "   constraint no_overlap exclude using gist (room with =, during with &&));",
         "create extension btree_gist with schema extensions;"
         " create table public.rooms (id int primary key, room int, during tstzrange,"
         "   constraint no_overlap exclude using gist (room with =, during with &&) where (room > 0));",
         rows="insert into public.rooms values (1, 1, '[2024-01-01, 2024-01-02)');",
         hazards=[FAILURE]),
    Case("constraint-comment",
         t("alter table public.t add constraint qty_positive check (qty > 0);"),
         t("alter table public.t add constraint qty_positive check (qty > 0);"
           " comment on constraint qty_positive on public.t is 'Never zero';"), rows=T_ROWS, hazards=[]),
    # a new constraint keeps its comment (it was once planned without it)
    Case("constraint-create-with-comment", t(),
         t("alter table public.t add constraint qty_positive check (qty > 0);"
           " comment on constraint qty_positive on public.t is 'Never zero';"), rows=T_ROWS, hazards=[FAILURE]),
]

INDEXES = [
    Case("index-create", t(), t("create index t_code_idx on public.t (code);"), rows=T_ROWS, hazards=[]),
    Case("index-create-unique", t(), t("create unique index t_code_key_idx on public.t (code);"), rows=T_ROWS,
         hazards=[]),
    Case("index-create-partial", t(), t("create index t_qty_partial on public.t (qty) where qty > 5;"),
         rows=T_ROWS, hazards=[]),
    Case("index-create-expression", t(), t("create index t_lower_code on public.t (lower(code));"),
         rows=T_ROWS, hazards=[]),
    Case("index-create-multi-column-desc", t(),
         t("create index t_multi on public.t (code desc nulls last, qty) include (parent);"),
         rows=T_ROWS, hazards=[]),
    Case("index-create-gin-trgm", t(),
         "create extension pg_trgm with schema extensions; "
         + t("create index t_code_trgm on public.t using gin (code extensions.gin_trgm_ops);"),
         rows=T_ROWS, hazards=[]),
    Case("index-create-brin-with-options", t(),
         t("create index t_qty_brin on public.t using brin (qty) with (pages_per_range = 16);"),
         rows=T_ROWS, hazards=[]),
    Case("index-drop", t("create index t_code_idx on public.t (code);"), t(), rows=T_ROWS, hazards=[]),
    Case("index-change-columns", t("create index t_code_idx on public.t (code);"),
         t("create index t_code_idx on public.t (code, qty);"), rows=T_ROWS, hazards=[]),
    Case("index-change-to-unique", t("create index t_code_idx on public.t (code);"),
         t("create unique index t_code_idx on public.t (code);"), rows=T_ROWS, hazards=[]),
    Case("index-change-predicate", t("create index t_qty_partial on public.t (qty) where qty > 5;"),
         t("create index t_qty_partial on public.t (qty) where qty > 6;"), rows=T_ROWS, hazards=[]),
    Case("index-comment", t("create index t_code_idx on public.t (code);"),
         t("create index t_code_idx on public.t (code); comment on index public.t_code_idx is 'For lookups';"),
         rows=T_ROWS, hazards=[]),
    Case("index-on-new-column", t(), t("alter table public.t add column email text;"
                                       " create index t_email_idx on public.t (email);"),
         rows=T_ROWS, hazards=[]),
    Case("index-concurrently", t(), t("create index t_code_idx on public.t (code);"),
         rows=T_ROWS, hazards=[HazardKind.NON_TRANSACTIONAL],
         options=PlanOptions(concurrent_indexes=True)),
    Case("index-drop-concurrently", t("create index t_code_idx on public.t (code);"), t(),
         rows=T_ROWS, hazards=[HazardKind.NON_TRANSACTIONAL],
         options=PlanOptions(concurrent_indexes=True)),
]

CASES = CONSTRAINTS + INDEXES


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
