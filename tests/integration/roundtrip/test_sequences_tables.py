"""Round trips of sequences and tables (the table itself: creation, kind, logging, RLS, options, drop)."""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind
from tests.support.roundtrip import Case, Outcomes, params

DATA_LOSS = HazardKind.DATA_LOSS
SECURITY = HazardKind.SECURITY

SEQ = "create sequence public.counter"
TABLE = "create table public.t (id int primary key, a int, b int);"
U = "create table public.u (id int primary key);"
TABLE_ROWS = "insert into public.t values (1, 10, 100), (2, 20, null);"

SEQUENCES = [
    Case("sequence-create", "", f"{SEQ};", hazards=[]),
    Case("sequence-create-with-every-option", "",
         f"{SEQ} as smallint increment by 5 minvalue 10 maxvalue 1000 start with 20 cache 10 cycle;", hazards=[]),
    Case("sequence-alter-increment", f"{SEQ};", f"{SEQ} increment by 10;", hazards=[]),
    # Narrowing a sequence's range fails when its current value falls outside: a FAILURE hazard says so
    # (tests/integration/roundtrip/test_hazards.py runs the cases where it does).
    Case("sequence-alter-max", f"{SEQ};", f"{SEQ} maxvalue 500;", hazards=[HazardKind.FAILURE]),
    Case("sequence-alter-min-below-current", f"{SEQ} start with 10 minvalue 10;",
         f"{SEQ} minvalue 1 start with 10;", hazards=[]),
    Case("sequence-alter-cycle-on", f"{SEQ};", f"{SEQ} cycle;", hazards=[]),
    Case("sequence-alter-cycle-off", f"{SEQ} cycle;", f"{SEQ};", hazards=[]),
    Case("sequence-alter-cache", f"{SEQ};", f"{SEQ} cache 20;", hazards=[]),
    Case("sequence-alter-type", f"{SEQ} as bigint;", f"{SEQ} as integer;", hazards=[HazardKind.FAILURE]),
    Case("sequence-alter-type-wider", f"{SEQ} as integer;", f"{SEQ} as bigint;", hazards=[]),
    Case("sequence-owned-by-add", f"{SEQ}; {TABLE}",
         f"{SEQ}; {TABLE} alter sequence public.counter owned by public.t.a;",
         rows=TABLE_ROWS, hazards=[]),
    Case("sequence-owned-by-change",
         f"{SEQ}; {TABLE} alter sequence public.counter owned by public.t.a;",
         f"{SEQ}; {TABLE} alter sequence public.counter owned by public.t.b;", rows=TABLE_ROWS, hazards=[]),
    Case("sequence-owned-by-remove",
         f"{SEQ}; {TABLE} alter sequence public.counter owned by public.t.a;", f"{SEQ}; {TABLE}",
         rows=TABLE_ROWS, hazards=[]),
    Case("sequence-owned-by-other-table",
         f"{SEQ}; {TABLE} {U} alter sequence public.counter owned by public.t.a;",
         f"{SEQ}; {TABLE} {U} alter sequence public.counter owned by public.u.id;",
         rows=TABLE_ROWS + " insert into public.u values (1);", hazards=[]),
    Case("sequence-as-column-default-add",
         f"{SEQ}; {TABLE}",
         f"{SEQ}; create table public.t (id int primary key, a int default nextval('public.counter'), b int);",
         rows=TABLE_ROWS, hazards=[]),
    Case("sequence-drop", f"{SEQ};", "", hazards=[]),
    Case("sequence-drop-with-column-default",
         f"{SEQ}; create table public.t (id int primary key, a int default nextval('public.counter'), b int);",
         TABLE, rows=TABLE_ROWS, hazards=[]),
    Case("sequence-serial-column-add", TABLE,
         "create table public.t (id int primary key, a int, b int, n serial);", rows=TABLE_ROWS, hazards=...),
    Case("sequence-serial-table-create", "", "create table public.t (id serial primary key, name text);",
         hazards=...),
    Case("sequence-serial-column-drop", "create table public.t (id int primary key, a int, n serial);",
         "create table public.t (id int primary key, a int);",
         rows="insert into public.t (id, a) values (1, 1), (2, 2);", hazards=[(DATA_LOSS, 2)]),
    Case("sequence-hostile-name", "", 'create sequence public."Seq ""☕"" select";', hazards=[]),
    Case("sequence-comment", f"{SEQ};", f"{SEQ}; comment on sequence public.counter is 'Tickets';", hazards=[]),
]

TABLES = [
    Case("table-create", "", "create table public.t (id int primary key, name text not null, at timestamptz);",
         hazards=...),
    Case("table-create-no-columns", "", "create table public.empty ();", hazards=...),
    Case("table-create-unlogged", "", "create unlogged table public.cache (k text primary key, v jsonb);",
         hazards=...),
    Case("table-create-partitioned-range", "",
         "create table public.events (id bigint, at date not null, primary key (id, at)) partition by range (at);",
         hazards=...),
    Case("table-create-partitioned-list", "",
         "create table public.by_region (id int, region text) partition by list (region);", hazards=...),
    Case("table-create-partitioned-hash", "",
         "create table public.by_hash (id int) partition by hash (id);", hazards=...),
    Case("table-create-with-options", "",
         "create table public.t (id int primary key) with (fillfactor = 70, autovacuum_enabled = false);",
         hazards=...),
    Case("table-create-with-rls", "",
         "create table public.t (id int primary key); alter table public.t enable row level security;"
         " alter table public.t force row level security;", hazards=...),
    Case("table-drop", TABLE, "", rows=TABLE_ROWS, hazards=[(DATA_LOSS, 2)]),
    Case("table-drop-empty-no-rows-needed", "create table public.t (id int);", "", require_rows=False,
         hazards=[(DATA_LOSS, 0)]),
    Case("table-drop-partitioned-parent",
         "create table public.events (id bigint, at date) partition by range (at);", "", require_rows=False,
         hazards=[(DATA_LOSS, 0)]),
    Case("table-set-unlogged", TABLE, TABLE.replace("create table", "create unlogged table"),
         rows=TABLE_ROWS, hazards=[]),
    Case("table-set-logged", TABLE.replace("create table", "create unlogged table"), TABLE,
         rows=TABLE_ROWS, hazards=[]),
    Case("table-rls-enable", TABLE, TABLE + " alter table public.t enable row level security;",
         rows=TABLE_ROWS, hazards=[]),
    Case("table-rls-disable", TABLE + " alter table public.t enable row level security;", TABLE,
         rows=TABLE_ROWS, hazards=[SECURITY]),
    Case("table-rls-force", TABLE + " alter table public.t enable row level security;",
         TABLE + " alter table public.t enable row level security; alter table public.t force row level security;",
         rows=TABLE_ROWS, hazards=[]),
    Case("table-rls-no-force",
         TABLE + " alter table public.t enable row level security; alter table public.t force row level security;",
         TABLE + " alter table public.t enable row level security;", rows=TABLE_ROWS, hazards=[SECURITY]),
    Case("table-options-set", TABLE, TABLE + " alter table public.t set (fillfactor = 80);",
         rows=TABLE_ROWS, hazards=[]),
    Case("table-options-change",
         TABLE + " alter table public.t set (fillfactor = 80, autovacuum_enabled = false);",
         TABLE + " alter table public.t set (fillfactor = 60);", rows=TABLE_ROWS, hazards=[]),
    Case("table-options-reset", TABLE + " alter table public.t set (fillfactor = 80);", TABLE,
         rows=TABLE_ROWS, hazards=[]),
    Case("table-comment-set", TABLE, TABLE + " comment on table public.t is 'Things';", rows=TABLE_ROWS,
         hazards=[]),
    Case("table-comment-change", TABLE + " comment on table public.t is 'Things';",
         TABLE + " comment on table public.t is 'Other ''things''';", rows=TABLE_ROWS, hazards=[]),
    Case("table-comment-remove", TABLE + " comment on table public.t is 'Things';", TABLE, rows=TABLE_ROWS,
         hazards=[]),
    Case("table-partition-is-not-handled", "",
         "create table public.events (id bigint, at date) partition by range (at);"
         " create table public.events_2024 partition of public.events"
         "   for values from ('2024-01-01') to ('2025-01-01');",
         not_handled=("partition public.events_2024",), hazards=...),
    Case("table-inheritance-is-not-handled", "",
         "create table public.base (id int); create table public.child (extra text) inherits (public.base);",
         not_handled=("table inheritance of public.child",), hazards=...),
]

CASES = SEQUENCES + TABLES


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
