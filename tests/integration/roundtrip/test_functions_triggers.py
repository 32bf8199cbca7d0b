"""Round trips of functions, procedures and triggers."""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind
from tests.support.roundtrip import Case, Outcomes, params

SECURITY = HazardKind.SECURITY


def sql_fn(body: str = "select 1", returns: str = "int", args: str = "", extra: str = "",
           name: str = "public.f") -> str:
    return f"create function {name}({args}) returns {returns} language sql {extra} as $fn$ {body} $fn$;"


PLPGSQL = """create function public.bump(n int) returns int language plpgsql as $fn$
declare
  result int;  -- a comment; with a semicolon
begin

  result := n + {step};
  return result;
end
$fn$;"""

FUNCTIONS = [
    Case("function-create-sql", "", sql_fn(), hazards=...),
    Case("function-create-plpgsql", "", PLPGSQL.format(step=1), hazards=...),
    Case("function-create-security-definer-empty-search-path", "",
         sql_fn("select count(*)::int from public.t", extra="stable security definer set search_path = ''")
         .replace("create function", "create table public.t (id int); create function"),
         require_rows=False, hazards=...),
    Case("function-create-sql-standard-body", "create table public.t (id int primary key, v int);",
         "create table public.t (id int primary key, v int);"
         " create function public.total() returns bigint language sql stable"
         " begin atomic select sum(v) from public.t; end;",
         rows="insert into public.t values (1, 2);", hazards=...),
    Case("function-create-returns-table-and-defaults", "",
         "create function public.pairs(n int default 3, label text default 'x')"
         " returns table (i int, l text) language sql immutable as $$ select g, label from generate_series(1, n) g $$;",
         hazards=...),
    Case("function-create-procedure", "create table public.log (msg text);",
         "create table public.log (msg text);"
         " create procedure public.note(m text) language sql as $$ insert into public.log values (m) $$;",
         rows="insert into public.log values ('x');", hazards=...),
    Case("function-create-variadic-and-out", "",
         "create function public.spread(variadic xs int[], out lo int, out hi int) language sql immutable"
         " as $$ select min(x), max(x) from unnest(xs) x $$;", hazards=...),
    Case("function-change-body", sql_fn("select 1"), sql_fn("select 2"), hazards=[]),
    Case("function-change-plpgsql-body", PLPGSQL.format(step=1), PLPGSQL.format(step=2), hazards=[]),
    Case("function-change-volatility", sql_fn(extra="volatile"), sql_fn(extra="immutable"), hazards=[]),
    Case("function-add-security-definer", sql_fn(), sql_fn(extra="security definer set search_path = ''"),
         hazards=...),
    Case("function-remove-security-definer-and-search-path", sql_fn(extra="security definer set search_path = ''"),
         sql_fn(), hazards=...),
    Case("function-change-search-path", sql_fn(extra="set search_path = public"),
         sql_fn(extra="set search_path = ''"), hazards=[]),
    Case("function-change-cost-strict-parallel", sql_fn(args="x int", body="select x"),
         sql_fn(args="x int", body="select x", extra="strict parallel safe cost 5"), hazards=[]),
    Case("function-change-return-type", sql_fn("select 1"), sql_fn("select 1::bigint", returns="bigint"),
         hazards=...),
    Case("function-change-args", sql_fn("select x", args="x int"), sql_fn("select x::int", args="x bigint"),
         hazards=...),
    Case("function-add-arg-default", sql_fn("select x", args="x int"), sql_fn("select x", args="x int default 0"),
         hazards=...),
    Case("function-rename-arg", sql_fn("select x", args="x int"), sql_fn("select y", args="y int"), hazards=...),
    Case("function-add-overload", sql_fn("select x", args="x int"),
         sql_fn("select x", args="x int") + sql_fn("select length(x)", args="x text"), hazards=...),
    Case("function-drop-one-overload", sql_fn("select x", args="x int") + sql_fn("select length(x)", args="x text"),
         sql_fn("select length(x)", args="x text"), hazards=[]),
    Case("function-change-one-overload",
         sql_fn("select x", args="x int") + sql_fn("select length(x)", args="x text"),
         sql_fn("select x + 1", args="x int") + sql_fn("select length(x)", args="x text"), hazards=[]),
    Case("function-drop", sql_fn(), "", hazards=[]),
    Case("function-drop-procedure", "create procedure public.p() language sql as $$ select 1 $$;", "",
         hazards=[]),
    Case("function-change-procedure-body", "create procedure public.p() language sql as $$ select 1 $$;",
         "create procedure public.p() language sql as $$ select 2 $$;", hazards=[]),
    Case("function-to-procedure", sql_fn(), "create procedure public.f() language sql as $$ select 1 $$;",
         hazards=...),
    Case("function-comment", sql_fn(), sql_fn() + " comment on function public.f() is 'One';", hazards=[]),
    Case("function-hostile-names", "",
         sql_fn('select "Weird ""arg"""', args='"Weird ""arg""" int', name='public."Fn ☕ ""x"""')
         + sql_fn("select 1", name='public."select"'), hazards=...),
    Case("function-used-by-view-return-type-change",
         sql_fn("select 1") + " create view public.v as select public.f() as x;",
         sql_fn("select 1::bigint", returns="bigint") + " create view public.v as select public.f() as x;",
         hazards=...),
    Case("function-used-by-check-constraint-replaced",
         sql_fn("select x > 0", args="x int", returns="boolean", extra="immutable")
         + " create table public.t (id int primary key, a int check (public.f(a)));",
         sql_fn("select x > 0", args="x bigint", returns="boolean", extra="immutable")
         + " create table public.t (id int primary key, a int check (public.f(a)));",
         rows="insert into public.t values (1, 5);", hazards=...),
    Case("function-used-by-index-body-change",
         sql_fn("select x * 2", args="x int", extra="immutable")
         + " create table public.t (id int primary key, a int); create index t_f on public.t (public.f(a));",
         sql_fn("select x * 3", args="x int", extra="immutable")
         + " create table public.t (id int primary key, a int); create index t_f on public.t (public.f(a));",
         rows="insert into public.t values (1, 5);", hazards=[]),
    Case("function-used-by-column-default-replaced",
         sql_fn("select 1") + " create table public.t (id int primary key, a int default public.f());",
         sql_fn("select 1::bigint", returns="bigint")
         + " create table public.t (id int primary key, a int default public.f());",
         rows="insert into public.t values (1, 5);", hazards=...),
]

TRIGGER_FN = ("create function public.touch() returns trigger language plpgsql as $fn$"
              " begin new.updated_at := now(); return new; end $fn$;")
T = "create table public.t (id int primary key, a int, updated_at timestamptz);"
T_ROWS = "insert into public.t values (1, 1, null), (2, 2, '2024-01-01');"


def trig(definition: str = "", extra: str = "") -> str:
    body = TRIGGER_FN + " " + T
    if definition:
        body += f" create trigger touch_t {definition} execute function public.touch();"
    return body + (" " + extra if extra else "")


TRIGGERS = [
    Case("trigger-create", trig(), trig("before update on public.t for each row"), rows=T_ROWS, hazards=[]),
    Case("trigger-create-with-function", T, trig("before update on public.t for each row"), rows=T_ROWS,
         hazards=...),
    Case("trigger-create-with-table", "", trig("before update on public.t for each row"), hazards=...),
    Case("trigger-change-timing", trig("before update on public.t for each row"),
         trig("after update on public.t for each row"), rows=T_ROWS, hazards=[]),
    Case("trigger-change-events", trig("before update on public.t for each row"),
         trig("before insert or update on public.t for each row"), rows=T_ROWS, hazards=[]),
    Case("trigger-change-update-of-columns", trig("before update on public.t for each row"),
         trig("before update of a on public.t for each row"), rows=T_ROWS, hazards=[]),
    Case("trigger-change-when", trig("before update on public.t for each row"),
         trig("before update on public.t for each row when (old.a is distinct from new.a)"), rows=T_ROWS,
         hazards=[]),
    Case("trigger-change-level", trig("after update on public.t for each row"),
         trig("after update on public.t for each statement"), rows=T_ROWS, hazards=[]),
    Case("trigger-disable", trig("before update on public.t for each row"),
         trig("before update on public.t for each row", "alter table public.t disable trigger touch_t;"),
         rows=T_ROWS, hazards=[]),
    Case("trigger-enable",
         trig("before update on public.t for each row", "alter table public.t disable trigger touch_t;"),
         trig("before update on public.t for each row"), rows=T_ROWS, hazards=[]),
    Case("trigger-enable-always", trig("before update on public.t for each row"),
         trig("before update on public.t for each row", "alter table public.t enable always trigger touch_t;"),
         rows=T_ROWS, hazards=[]),
    Case("trigger-create-disabled", trig(),
         trig("before update on public.t for each row", "alter table public.t disable trigger touch_t;"),
         rows=T_ROWS, hazards=[]),
    Case("trigger-drop", trig("before update on public.t for each row"), trig(), rows=T_ROWS, hazards=[]),
    Case("trigger-drop-with-function", trig("before update on public.t for each row"), T, rows=T_ROWS,
         hazards=[]),
    Case("trigger-change-function-body", trig("before update on public.t for each row"),
         trig("before update on public.t for each row").replace("now()", "clock_timestamp()"), rows=T_ROWS,
         hazards=[]),
    Case("trigger-switch-function",
         trig("before update on public.t for each row")
         + " create function public.touch2() returns trigger language plpgsql as $fn$ begin return new; end $fn$;",
         trig().replace("create table", "create function public.touch2() returns trigger language plpgsql"
                        " as $fn$ begin return new; end $fn$; create table")
         + " create trigger touch_t before update on public.t for each row execute function public.touch2();",
         rows=T_ROWS, hazards=[]),
    Case("trigger-with-arguments", trig(),
         trig().replace("new.updated_at := now();", "new.a := tg_argv[0]::int;")
         + " create trigger set_a before insert on public.t for each row execute function public.touch('42', 'x y');",
         rows=T_ROWS, hazards=[]),
    Case("trigger-constraint-deferrable", trig(),
         trig() + " create constraint trigger late after insert on public.t deferrable initially deferred"
                  " for each row execute function public.touch();", rows=T_ROWS, hazards=[]),
    Case("trigger-comment", trig("before update on public.t for each row"),
         trig("before update on public.t for each row", "comment on trigger touch_t on public.t is 'Keeps time';"),
         rows=T_ROWS, hazards=[]),
]

CASES = FUNCTIONS + TRIGGERS


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
