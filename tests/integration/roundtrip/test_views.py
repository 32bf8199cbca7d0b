"""Round trips of views and materialized views, alone and on top of changing tables and views."""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind
from tests.support.roundtrip import Case, Outcomes, params

SECURITY = HazardKind.SECURITY
DATA_LOSS = HazardKind.DATA_LOSS

T = "create table public.t (id int primary key, a int, b text);"
T_ROWS = "insert into public.t values (1, 10, 'x'), (2, null, 'y');"


def with_t(*statements: str) -> str:
    return T + "".join(f" {s};" for s in statements)


V = "create view public.v as select id, a from public.t"
MV = "create materialized view public.mv as select id, a from public.t"

VIEWS = [
    Case("view-create", with_t(), with_t(V), rows=T_ROWS, hazards=...),
    Case("view-create-with-column-names", with_t(),
         with_t("create view public.v (ident, doubled) as select id, a * 2 from public.t"), rows=T_ROWS,
         hazards=...),
    Case("view-create-security-invoker", with_t(),
         with_t("create view public.v with (security_invoker = true) as select id, a from public.t"),
         rows=T_ROWS, hazards=...),
    Case("view-create-check-option", with_t(),
         with_t("create view public.v as select id, a from public.t where a > 0 with local check option"),
         rows=T_ROWS, hazards=...),
    Case("view-create-joins-and-aggregates",
         with_t("create table public.u (id int primary key, t_id int)"),
         with_t("create table public.u (id int primary key, t_id int)",
                "create view public.v as select t.id, count(u.id) as n, string_agg(t.b, ', ') as bs"
                " from public.t t left join public.u u on u.t_id = t.id group by t.id"),
         rows=T_ROWS + " insert into public.u values (1, 1);", hazards=...),
    Case("view-change-definition", with_t(V), with_t("create view public.v as select id, a, b from public.t"),
         rows=T_ROWS, hazards=...),
    Case("view-change-filter", with_t(V), with_t(V + " where a is not null"), rows=T_ROWS, hazards=...),
    Case("view-security-invoker-on", with_t(V),
         with_t("create view public.v with (security_invoker = true) as select id, a from public.t"),
         rows=T_ROWS, hazards=[]),
    Case("view-security-invoker-off",
         with_t("create view public.v with (security_invoker = true) as select id, a from public.t"),
         with_t(V), rows=T_ROWS, hazards=[SECURITY]),
    Case("view-security-invoker-true-to-false",
         with_t("create view public.v with (security_invoker = true) as select id, a from public.t"),
         with_t("create view public.v with (security_invoker = false) as select id, a from public.t"),
         rows=T_ROWS, hazards=[SECURITY]),
    Case("view-security-barrier-on", with_t(V),
         with_t("create view public.v with (security_barrier) as select id, a from public.t"),
         rows=T_ROWS, hazards=[]),
    Case("view-drop", with_t(V), with_t(), rows=T_ROWS, hazards=[]),
    Case("view-comment", with_t(V), with_t(V, "comment on view public.v is 'Visible rows'"), rows=T_ROWS,
         hazards=[]),
    Case("view-on-view-create", with_t(), with_t(V, "create view public.vv as select id from public.v"),
         rows=T_ROWS, hazards=...),
    Case("view-on-view-inner-changes",
         with_t(V, "create view public.vv as select id from public.v"),
         with_t("create view public.v as select id, a, b from public.t",
                "create view public.vv as select id from public.v"),
         rows=T_ROWS, hazards=...),
    Case("view-on-view-both-change",
         with_t(V, "create view public.vv as select id from public.v"),
         with_t("create view public.v as select id, a, b from public.t",
                "create view public.vv as select id, b from public.v"),
         rows=T_ROWS, hazards=...),
    Case("view-on-view-drop-both", with_t(V, "create view public.vv as select id from public.v"), with_t(),
         rows=T_ROWS, hazards=[]),
    Case("view-column-type-change",
         with_t(V), with_t(V).replace("a int", "a bigint"), rows=T_ROWS, hazards=...),
    Case("view-on-view-column-type-change",
         with_t(V, "create view public.vv as select id, a from public.v"),
         with_t(V, "create view public.vv as select id, a from public.v").replace("a int", "a bigint"),
         rows=T_ROWS, hazards=...),
    Case("view-column-type-change-with-comment-and-grant",
         with_t(V, "comment on view public.v is 'kept'", "revoke all on public.v from anon"),
         with_t(V, "comment on view public.v is 'kept'", "revoke all on public.v from anon").replace("a int",
                                                                                                     "a bigint"),
         rows=T_ROWS, hazards=...),
    Case("view-depends-on-dropped-column-which-it-stops-using",
         with_t("create view public.v as select id, a, b from public.t"),
         "create table public.t (id int primary key, a int); create view public.v as select id, a from public.t;",
         rows=T_ROWS, hazards=[DATA_LOSS]),
    Case("view-on-new-column", with_t(V),
         "create table public.t (id int primary key, a int, b text, c int);"
         " create view public.v as select id, a, c from public.t;", rows=T_ROWS, hazards=...),
]

MATVIEWS = [
    Case("matview-create", with_t(), with_t(MV), rows=T_ROWS, hazards=...),
    Case("matview-create-with-index", with_t(), with_t(MV, "create unique index mv_id on public.mv (id)"),
         rows=T_ROWS, hazards=...),
    Case("matview-change", with_t(MV, "create unique index mv_id on public.mv (id)"),
         with_t("create materialized view public.mv as select id, a, b from public.t",
                "create unique index mv_id on public.mv (id)"),
         rows=T_ROWS, hazards=...),
    Case("matview-add-index", with_t(MV), with_t(MV, "create index mv_a on public.mv (a)"), rows=T_ROWS,
         hazards=[]),
    Case("matview-drop", with_t(MV, "create unique index mv_id on public.mv (id)"), with_t(), rows=T_ROWS,
         hazards=...),
    Case("matview-comment", with_t(MV), with_t(MV, "comment on materialized view public.mv is 'Cached'"),
         rows=T_ROWS, hazards=[]),
    Case("matview-on-column-type-change", with_t(MV, "create index mv_a on public.mv (a)"),
         with_t(MV, "create index mv_a on public.mv (a)").replace("a int", "a bigint"), rows=T_ROWS,
         hazards=...),
    Case("matview-with-storage-options", with_t(MV),
         with_t("create materialized view public.mv with (fillfactor = 50) as select id, a from public.t"),
         rows=T_ROWS, hazards=...),
    Case("view-on-matview", with_t(MV), with_t(MV, "create view public.v as select id from public.mv"),
         rows=T_ROWS, hazards=...),
]

CASES = VIEWS + MATVIEWS


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
