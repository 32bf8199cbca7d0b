"""Objects the engine does not model must show up in `plan.not_handled`, in either state, never be ignored."""

from __future__ import annotations

import pytest

from tests.support.roundtrip import Case, Outcomes, params

# Both states have the table (and the function an event trigger needs); one of them has the object.
T = ("create table public.t (id int primary key, a int);"
     " create function public.on_ddl() returns event_trigger language plpgsql as $$ begin end $$;")
ROWS = "insert into public.t values (1, 1);"

OBJECTS = [
    ("rule", "create rule t_no_delete as on delete to public.t do instead nothing", "rule t_no_delete"),
    ("aggregate",
     "create aggregate public.my_sum(int) (sfunc = int4pl, stype = int, initcond = '0')", "aggregate public.my_sum"),
    ("statistics", "create statistics public.t_stats (dependencies) on id, a from public.t",
     "statistics public.t_stats"),
    ("operator", "create operator public.=== (leftarg = int, rightarg = int, function = pg_catalog.int4eq)",
     "operator public.==="),
    ("collation", "create collation public.my_c (provider = libc, locale = 'C')", "collation public.my_c"),
    ("range-type", "create type public.floatrange as range (subtype = float8)", "range type public.floatrange"),
    ("text-search-configuration", "create text search configuration public.my_cfg (copy = pg_catalog.english)",
     "text search configuration public.my_cfg"),
    ("event-trigger", "create event trigger my_ddl on ddl_command_end execute function public.on_ddl()",
     "event trigger my_ddl"),
    ("other-publication", "create publication my_pub for table public.t", "publication my_pub"),
    ("foreign-table",
     "create foreign data wrapper dummy_fdw; create server other foreign data wrapper dummy_fdw;"
     " create foreign table public.remote (id int) server other", "foreign table public.remote"),
    ("window-function",
     "create function public.my_rank() returns bigint language internal window as 'window_rank'",
     "window function public.my_rank"),
]

CASES = []
for name, sql, expected in OBJECTS:
    CASES.append(Case(f"{name}-in-desired", T, f"{T} {sql};", rows=ROWS, not_handled=(expected,), hazards=...))
    CASES.append(Case(f"{name}-in-live", f"{T} {sql};", T, rows=ROWS, not_handled=(expected,), hazards=...))


@pytest.mark.parametrize("case", params(CASES))
def test_reported(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
