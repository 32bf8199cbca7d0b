"""The table browser's core against real PostgreSQL: listing, keyset paging, filters, view-as, edits, export."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

import psycopg
import pytest

from studio.core.browse import (
    BrowseQuery,
    BrowseRole,
    CommitFailed,
    ExportFormat,
    Filter,
    FilterOp,
    KeyKind,
    PageRequest,
    Relation,
    RelationKind,
    Sort,
    StagedChanges,
    TargetSource,
    ViewAs,
    export_rows,
)
from studio.core.browse.paging import Page, Position, page_sql
from studio.core.browse.query import PREVIEW_CHARS, Selection, bind, inline
from studio.core.errors import StudioError
from studio.core.sqltext import qualified, quote_ident
from studio.core.targets.postgres import PostgresTarget

T = TypeVar("T")
OWNER = ViewAs()


def run(work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(work)


def execute(db_url: str, sql: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql)


def rows_of(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def describe(target: PostgresTarget, schema: str, name: str) -> Relation:
    return run(TargetSource(target).describe(schema, name))


def read_all_forward(source: TargetSource, query: BrowseQuery, limit: int, view_as: ViewAs = OWNER) -> list[Page]:
    pages: list[Page] = []
    start: Position | None = None
    while True:
        page = run(source.read_page(PageRequest(query, view_as, start, limit=limit)))
        pages.append(page)
        if not page.more_after:
            return pages
        start = page.end
        assert len(pages) < 10_000


def read_all_backward(source: TargetSource, query: BrowseQuery, limit: int, view_as: ViewAs = OWNER) -> list[Page]:
    pages: list[Page] = []
    start: Position | None = None
    while True:
        page = run(source.read_page(PageRequest(query, view_as, start, backward=True, limit=limit)))
        pages.insert(0, page)
        if not page.more_before:
            return pages
        start = page.start
        assert len(pages) < 10_000


def cells(query: BrowseQuery, pages: list[Page]) -> list[tuple[Any, ...]]:
    width = len(query.relation.columns)
    return [tuple(row[:width]) for page in pages for row in page.rows]


# -- listing and describing ---------------------------------------------------------------------------


def test_relations_are_listed_with_their_kind_and_a_row_estimate(db_url: str, target: PostgresTarget) -> None:
    execute(db_url, """
        create table public.notes (id bigint generated always as identity primary key, body text);
        insert into public.notes (body) select 'note ' || g from generate_series(1, 1000) g;
        analyze public.notes;
        create table public.fresh (id int primary key);
        insert into public.fresh select generate_series(1, 30);
        create table public.loose (a int, b text);
        create view public.note_bodies as select body from public.notes;
        create materialized view public.note_count as select count(*) as n from public.notes;
        create table public.events (id int, at date, primary key (id, at)) partition by range (at);
        create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
        create schema "Sales Team";
        create table "Sales Team"."Order" ("Id" int primary key);
    """)
    listed = {r.display_name: r for r in run(TargetSource(target).relations())}
    assert listed["public.notes"].kind is RelationKind.TABLE
    assert listed["public.notes"].estimate == 1000
    assert listed["public.note_bodies"].kind is RelationKind.VIEW
    assert listed["public.note_bodies"].estimate is None
    assert listed["public.note_count"].kind is RelationKind.MATERIALIZED_VIEW
    assert listed["public.events"].kind is RelationKind.PARTITIONED_TABLE
    assert "public.events_2024" not in listed  # partitions are reached through their parent
    assert listed["public.loose"].has_primary_key is False
    assert listed['Sales Team.Order'].qualified_name == '"Sales Team"."Order"'
    assert "auth.users" in listed and "storage.objects" in listed
    # public comes first, then the other schemas by name
    names = list(listed)
    assert names.index("public.notes") < names.index("Sales Team.Order") < names.index("auth.users")
    # a table never analysed still gets an estimate once the statistics collector has seen its rows
    assert listed["public.fresh"].estimate in (0, 30)


def test_describe_gives_columns_types_primary_key_and_what_can_be_sorted_or_edited(
        db_url: str, target: PostgresTarget) -> None:
    execute(db_url, """
        create domain public.positive as int check (value > 0);
        create type public.mood as enum ('sad', 'ok', 'happy');
        create table public.things (
            region text not null,
            id int not null,
            label varchar(20),
            doc jsonb,
            raw json,
            spot point,
            tags text[],
            qty public.positive,
            feeling public.mood,
            doubled int generated always as (id * 2) stored,
            serial_no int generated always as identity,
            uid uuid default gen_random_uuid(),
            primary key (id, region)
        );
    """)
    relation = describe(target, "public", "things")
    assert relation.primary_key == ("id", "region")  # key order, not column order
    assert relation.identity.kind is KeyKind.PRIMARY_KEY
    col = relation.column
    assert col("label").type_name == "character varying(20)"
    assert col("qty").type_name == "public.positive"
    assert col("label").sortable and col("tags").sortable and col("qty").sortable and col("feeling").sortable
    assert not col("raw").sortable and not col("spot").sortable
    assert col("doc").is_json and col("raw").is_json
    assert not col("doubled").editable and not col("serial_no").editable and col("label").editable
    assert col("serial_no").has_default and col("uid").has_default and not col("label").has_default
    assert col("uid").is_uuid and col("uid").text_like and col("label").text_like and col("feeling").text_like
    assert col("label").variable_length and not col("id").variable_length
    assert relation.read_only_reason is None


def test_views_and_tables_without_a_primary_key_are_read_only_with_a_reason(
        db_url: str, target: PostgresTarget) -> None:
    execute(db_url, """
        create table public.loose (a int);
        create view public.v as select a from public.loose;
        create materialized view public.m as select a from public.loose;
    """)
    loose, view, matview = (describe(target, "public", n) for n in ("loose", "v", "m"))
    assert "no primary key" in (loose.read_only_reason or "")
    assert "view" in (view.read_only_reason or "")
    assert "materialized view" in (matview.read_only_reason or "")
    assert loose.identity.kind is KeyKind.ROW_LOCATION and view.identity.kind is KeyKind.WHOLE_ROW
    with pytest.raises(StudioError, match="cannot be edited"):
        StagedChanges(loose)


def test_describing_a_relation_that_is_gone_says_so(target: PostgresTarget) -> None:
    with pytest.raises(StudioError, match="no longer exists"):
        describe(target, "public", "nothing_here")


# -- keyset paging ------------------------------------------------------------------------------------


@pytest.fixture
def people(db_url: str, target: PostgresTarget) -> Relation:
    # 37 rows; "score" has NULLs and many duplicates so the primary key must break ties.
    execute(db_url, """
        create table public.people (id int primary key, name text, score int);
        insert into public.people
        select g, 'person ' || g, case when g % 5 = 0 then null else g % 4 end
        from generate_series(1, 37) g;
    """)
    return describe(target, "public", "people")


@pytest.mark.parametrize("limit", [1, 2, 5, 36, 37, 100])
def test_paging_forward_and_backward_by_primary_key_gives_every_row_once_in_order(
        db_url: str, target: PostgresTarget, people: Relation, limit: int) -> None:
    source = TargetSource(target)
    query = BrowseQuery(people)
    expected = rows_of(db_url, "select id::text, name, score::text from public.people p order by p.id")
    assert cells(query, read_all_forward(source, query, limit)) == expected
    assert cells(query, read_all_backward(source, query, limit)) == expected


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [1, 3, 8])
def test_sorting_on_a_column_with_nulls_and_ties_pages_in_the_servers_order(
        db_url: str, target: PostgresTarget, people: Relation, descending: bool, limit: int) -> None:
    source = TargetSource(target)
    query = BrowseQuery(people, sort=Sort("score", descending))
    direction = "desc" if descending else "asc"
    expected = rows_of(db_url, "select id::text, name, score::text from public.people p"
                               f" order by p.score {direction}, p.id {direction}")
    # NULLs last going up and first going down, as PostgreSQL orders them
    assert (expected[0][2] is None) == descending
    assert cells(query, read_all_forward(source, query, limit)) == expected
    assert cells(query, read_all_backward(source, query, limit)) == expected


def test_the_last_page_comes_first_when_jumping_to_the_end_and_pages_reload_from_their_start(
        target: PostgresTarget, people: Relation) -> None:
    source = TargetSource(target)
    query = BrowseQuery(people, sort=Sort("name"))
    last = run(source.read_page(PageRequest(query, OWNER, None, backward=True, limit=10)))
    assert [row[1] for row in last.rows] == sorted(f"person {i}" for i in range(1, 38))[-10:]
    assert last.more_before and not last.more_after
    before = run(source.read_page(PageRequest(query, OWNER, last.start, backward=True, limit=10)))
    again = run(source.read_page(PageRequest(query, OWNER, before.start, limit=len(before.rows))))
    assert again.rows == before.rows


@pytest.mark.parametrize("sort", [None, Sort("name"), Sort("score", descending=True)])
@pytest.mark.parametrize("backward", [False, True])
def test_a_page_read_again_after_deletions_stays_within_its_old_bounds(
        db_url: str, target: PostgresTarget, people: Relation, sort: Sort | None, backward: bool) -> None:
    source = TargetSource(target)
    query = BrowseQuery(people, sort=sort)
    pages = read_all_backward(source, query, 10) if backward else read_all_forward(source, query, 10)
    middle, following = pages[1], pages[2]
    width = len(people.columns)
    # rows in the middle page are deleted, and its last one (the page's end names it)
    doomed = [middle.rows[2][0], middle.rows[5][0], middle.rows[-1][0]]
    execute(db_url, f"delete from public.people where id in ({', '.join(doomed)})")
    again = run(source.read_page(PageRequest(query, OWNER, middle.start, limit=len(middle.rows), stop=middle.end)))
    kept = [row[:width] for row in middle.rows if row[0] not in doomed]
    assert [row[:width] for row in again.rows] == kept  # nothing of the following page
    assert not {row[0] for row in again.rows} & {row[0] for row in following.rows}
    # the following page, read again from its own start, is whole
    tail = run(source.read_page(PageRequest(query, OWNER, following.start, limit=len(following.rows),
                                            stop=following.end)))
    assert tail.rows == following.rows


def test_the_extra_row_tells_whether_more_exist(target: PostgresTarget, people: Relation) -> None:
    source = TargetSource(target)
    query = BrowseQuery(people)
    exact = run(source.read_page(PageRequest(query, OWNER, None, limit=37)))
    assert len(exact.rows) == 37 and not exact.more_after
    short = run(source.read_page(PageRequest(query, OWNER, None, limit=36)))
    assert len(short.rows) == 36 and short.more_after


def test_a_view_with_identical_rows_pages_without_losing_or_repeating_any(
        db_url: str, target: PostgresTarget) -> None:
    execute(db_url, """
        create table public.visits (id int primary key, page text, extra json);
        insert into public.visits
        select g, case when g % 3 = 0 then null else 'page ' || (g % 4) end,
               case when g % 2 = 0 then '{"a": 1}'::json end
        from generate_series(1, 40) g;
        create view public.visit_pages as select page, extra from public.visits;
    """)
    view = describe(target, "public", "visit_pages")
    source = TargetSource(target)
    query = BrowseQuery(view)
    expected = sorted(rows_of(db_url, "select page, extra::text from public.visit_pages"),
                      key=lambda r: (r[0] is None, r[0] or "", r[1] is None, r[1] or ""))
    for limit in (1, 2, 3, 7, 50):
        assert cells(query, read_all_forward(source, query, limit)) == expected, limit
        assert cells(query, read_all_backward(source, query, limit)) == expected, limit
    # continuing backwards from a page reached forwards (and the other way) also works
    forward = read_all_forward(source, query, 4)
    middle = forward[5]
    back = run(source.read_page(PageRequest(query, OWNER, middle.start, backward=True, limit=4)))
    assert back.rows == forward[4].rows
    tail = read_all_backward(source, query, 4)
    on = run(source.read_page(PageRequest(query, OWNER, tail[3].end, limit=4)))
    assert cells(query, [on]) == cells(query, [tail[4]])


def test_a_table_without_a_primary_key_pages_by_row_location(db_url: str, target: PostgresTarget) -> None:
    execute(db_url, """
        create table public.log (line text);
        insert into public.log select 'same' from generate_series(1, 25);
    """)
    log = describe(target, "public", "log")
    source = TargetSource(target)
    query = BrowseQuery(log)
    assert len(cells(query, read_all_forward(source, query, 4))) == 25
    assert len(cells(query, read_all_backward(source, query, 4))) == 25


def test_long_values_are_cut_in_pages_and_read_whole_on_demand(db_url: str, target: PostgresTarget) -> None:
    execute(db_url, f"""
        create table public.docs (id int primary key, body text);
        insert into public.docs values (1, repeat('x', {PREVIEW_CHARS * 3})), (2, 'short');
    """)
    docs = describe(target, "public", "docs")
    source = TargetSource(target)
    page = run(source.read_page(PageRequest(BrowseQuery(docs), OWNER, None)))
    assert len(page.rows[0][1]) == PREVIEW_CHARS + 1  # one more than shown: it was cut
    assert page.rows[1][1] == "short"
    assert run(source.read_value(docs, ("1",), "body", OWNER)) == "x" * (PREVIEW_CHARS * 3)


# -- filters and search -------------------------------------------------------------------------------


@pytest.fixture
def shop(db_url: str, target: PostgresTarget) -> Relation:
    execute(db_url, """
        create table public.items (
            id int primary key, name text, price numeric, added date, tags text[], meta jsonb, code uuid);
        insert into public.items values
            (1, 'Apple', 1.50, '2024-01-05', '{fruit,red}', '{"stock": 3}', '00000000-0000-0000-0000-000000000001'),
            (2, 'O''Brien''s 100% juice', 3.20, '2024-02-10', '{drink}', '{"stock": 0}', null),
            (3, 'under_score', null, null, null, null, null),
            (4, 'banana', 0.25, '2024-03-01', '{fruit}', '{"stock": 12}', null),
            (5, '', 2, '2023-12-31', '{}', '{}', null);
    """)
    return describe(target, "public", "items")


def ids(target: PostgresTarget, query: BrowseQuery, view_as: ViewAs = OWNER) -> list[int]:
    page = run(TargetSource(target).read_page(PageRequest(query, view_as, None, limit=100)))
    return [int(row[0]) for row in page.rows]


@pytest.mark.parametrize(("flt", "expected"), [
    (Filter("price", FilterOp.EQUALS, "2"), [5]),
    (Filter("price", FilterOp.NOT_EQUALS, "2"), [1, 2, 4]),
    (Filter("price", FilterOp.LESS, "1.5"), [4]),
    (Filter("price", FilterOp.LESS_OR_EQUAL, "1.5"), [1, 4]),
    (Filter("price", FilterOp.GREATER, "2"), [2]),
    (Filter("added", FilterOp.GREATER_OR_EQUAL, "2024-02-10"), [2, 4]),
    (Filter("name", FilterOp.CONTAINS, "A"), [1, 4]),  # case-insensitive
    (Filter("name", FilterOp.CONTAINS, "100%"), [2]),  # % is literal
    (Filter("name", FilterOp.CONTAINS, "_"), [3]),  # so is _
    (Filter("name", FilterOp.CONTAINS, "O'Brien"), [2]),
    (Filter("name", FilterOp.NOT_CONTAINS, "a"), [2, 3, 5]),
    (Filter("name", FilterOp.STARTS_WITH, "b"), [4]),
    (Filter("name", FilterOp.ENDS_WITH, "E"), [1, 2, 3]),
    (Filter("name", FilterOp.EQUALS, ""), [5]),
    (Filter("id", FilterOp.ONE_OF, "1, 4,5"), [1, 4, 5]),
    (Filter("price", FilterOp.IS_NULL), [3]),
    (Filter("price", FilterOp.IS_NOT_NULL), [1, 2, 4, 5]),
    (Filter("tags", FilterOp.CONTAINS, "fruit"), [1, 4]),
    (Filter("tags", FilterOp.EQUALS, "{drink}"), [2]),
    (Filter("meta", FilterOp.EQUALS, '{"stock":0}'), [2]),
    (Filter("code", FilterOp.EQUALS, "00000000-0000-0000-0000-000000000001"), [1]),
])
def test_each_filter_operator_keeps_the_rows_a_user_expects(
        target: PostgresTarget, shop: Relation, flt: Filter, expected: list[int]) -> None:
    assert sorted(ids(target, BrowseQuery(shop, filters=(flt,)))) == sorted(set(expected))


def test_filters_combine_and_work_with_sorting_and_paging(target: PostgresTarget, shop: Relation) -> None:
    query = BrowseQuery(shop, sort=Sort("price", descending=True),
                        filters=(Filter("price", FilterOp.IS_NOT_NULL), Filter("name", FilterOp.NOT_EQUALS, "")))
    source = TargetSource(target)
    assert [int(r[0]) for r in cells(query, read_all_forward(source, query, 1))] == [2, 1, 4]


def test_a_filter_value_of_the_wrong_type_is_explained(target: PostgresTarget, shop: Relation) -> None:
    with pytest.raises(StudioError, match="does not fit its column"):
        ids(target, BrowseQuery(shop, filters=(Filter("price", FilterOp.GREATER, "cheap"),)))


def test_ordering_comparisons_are_refused_on_columns_without_an_order(db_url: str, target: PostgresTarget) -> None:
    execute(db_url, "create table public.shapes (id int primary key, at point, doc json)")
    shapes = describe(target, "public", "shapes")
    with pytest.raises(StudioError, match="cannot be compared"):
        BrowseQuery(shapes, filters=(Filter("at", FilterOp.LESS, "(1,1)"),))
    with pytest.raises(StudioError, match="cannot be sorted"):
        BrowseQuery(shapes, sort=Sort("doc"))


def test_quick_search_looks_in_text_columns_case_insensitively(target: PostgresTarget, shop: Relation) -> None:
    assert ids(target, BrowseQuery(shop, search="APPLE")) == [1]
    assert ids(target, BrowseQuery(shop, search="%")) == [2]
    assert ids(target, BrowseQuery(shop, search="0000-000000000001")) == [1]  # uuid columns too
    assert ids(target, BrowseQuery(shop, search="nothing like it")) == []


# -- hostile names ------------------------------------------------------------------------------------

HOSTILE_SCHEMA = 'My "Odd" Schema'
HOSTILE_TABLE = "select"
HOSTILE_COLUMNS = ('Order', 'weird "col"', "spaß ünï", "from", "a;drop table x", "100%s off %")


@pytest.fixture
def hostile(db_url: str, target: PostgresTarget) -> Relation:
    cols = ", ".join(f"{quote_ident(c)} text" for c in HOSTILE_COLUMNS)
    table = qualified(HOSTILE_SCHEMA, HOSTILE_TABLE)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"create schema {quote_ident(HOSTILE_SCHEMA)}")
        conn.execute(f"create table {table} ({quote_ident('Key Id')} int primary key, {cols})")
        for i in range(1, 8):
            conn.execute(f"insert into {table} values ({', '.join(['%s'] * 7)})".replace('%s off %', '%%s off %%'),
                         [i, f"o{i % 3}", f'it\'s "{i}"', f"ü{i}", None if i % 2 else "x", "a;b", f"{i}%"])
    return describe(target, HOSTILE_SCHEMA, HOSTILE_TABLE)


def test_hostile_names_page_sort_filter_and_edit(db_url: str, target: PostgresTarget, hostile: Relation) -> None:
    source = TargetSource(target)
    assert [c.name for c in hostile.columns] == ["Key Id", *HOSTILE_COLUMNS]
    query = BrowseQuery(hostile, sort=Sort("Order", descending=True),
                        filters=(Filter('weird "col"', FilterOp.CONTAINS, "it's"),
                                 Filter("100%s off %", FilterOp.ENDS_WITH, "%")), search="ü")
    got = [int(r[0]) for r in cells(query, read_all_forward(source, query, 2))]
    assert got == [5, 2, 7, 4, 1, 6, 3]
    changes = StagedChanges(hostile)
    changes.set_value(("3",), "spaß ünï", "new'value", "ü3")
    changes.set_value(("3",), "from", None, None)  # back to the original: not a change
    changes.delete_row(("4",))
    index = changes.add_row()
    changes.set_new_value(index, "Key Id", "100")
    changes.set_new_value(index, "a;drop table x", "'); drop table x; --")
    run(source.commit(changes, OWNER))
    table = qualified(HOSTILE_SCHEMA, HOSTILE_TABLE)
    rows = rows_of(db_url, f'select "Key Id", "spaß ünï", "a;drop table x" from {table}'
                           ' where "Key Id" in (3, 4, 100) order by 1')
    assert rows == [(3, "new'value", "a;b"), (100, None, "'); drop table x; --")]


def test_values_written_in_as_constants_select_the_same_rows_as_parameters(
        target: PostgresTarget, hostile: Relation) -> None:
    # The cloud target cannot take parameters together with settings: there the values are written in.
    query = BrowseQuery(hostile, sort=Sort("from"), search="it's",
                        filters=(Filter("Key Id", FilterOp.ONE_OF, "1,2,5,6"),
                                 Filter("100%s off %", FilterOp.CONTAINS, "%")))
    first = run(TargetSource(target).read_page(PageRequest(query, OWNER, None, limit=2)))
    sql, params = page_sql(query, after=query.key_of(first.rows[-1]), toward_high=True, inclusive=False, limit=10,
                           selection=Selection.DISPLAY)
    bound = run(target.fetch(*bind(sql, params)))
    written = run(target.fetch(inline(sql, params), settings={"application_name": "Studio inline test"}))
    # "from" ascending puts the NULLs (rows 1 and 5) after the x's (rows 2 and 6)
    assert [row[0] for row in first.rows] == ["2", "6"]
    assert bound == written and [row[0] for row in written] == ["1", "5"]


# -- view as ------------------------------------------------------------------------------------------

ALICE = "11111111-1111-1111-1111-111111111111"
BOB = "22222222-2222-2222-2222-222222222222"


@pytest.fixture
def todos(db_url: str, target: PostgresTarget) -> Relation:
    execute(db_url, f"""
        insert into auth.users (id, email) values ('{ALICE}', 'alice@example.com'), ('{BOB}', 'bob@example.com');
        create table public.todos (id int primary key, owner uuid, title text, public boolean default false);
        alter table public.todos enable row level security;
        create policy "own rows" on public.todos for all to authenticated
            using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
        create policy "public rows" on public.todos for select to anon using (public);
        insert into public.todos values
            (1, '{ALICE}', 'alice private', false), (2, '{ALICE}', 'alice public', true),
            (3, '{BOB}', 'bob private', false);
    """)
    return describe(target, "public", "todos")


def test_each_role_sees_what_row_level_security_shows_it(target: PostgresTarget, todos: Relation) -> None:
    query = BrowseQuery(todos)
    assert ids(target, query) == [1, 2, 3]
    assert ids(target, query, ViewAs(BrowseRole.SERVICE_ROLE)) == [1, 2, 3]
    assert ids(target, query, ViewAs(BrowseRole.ANON)) == [2]
    assert ids(target, query, ViewAs.user(ALICE, "alice@example.com")) == [1, 2]
    assert ids(target, query, ViewAs.user(BOB)) == [3]
    assert ids(target, query, ViewAs.user("33333333-3333-3333-3333-333333333333")) == []


def test_view_as_sets_the_role_and_the_claims_auth_functions_read(target: PostgresTarget) -> None:
    settings = ViewAs.user(ALICE, "alice@example.com").settings()
    rows = run(target.fetch("select current_user, auth.uid()::text, auth.role(), auth.email()", settings=settings))
    assert rows == [("authenticated", ALICE, "authenticated", "alice@example.com")]
    with pytest.raises(StudioError, match="not a user id"):
        ViewAs.user("alice")


def test_users_to_view_as_come_from_auth_users(target: PostgresTarget, todos: Relation) -> None:
    source = TargetSource(target)
    users = run(source.users())
    assert {u.email for u in users} == {"alice@example.com", "bob@example.com"}
    assert [u.id for u in run(source.users("BOB@"))] == [BOB]


def test_a_role_without_privileges_is_told_which_role_was_refused(db_url: str, target: PostgresTarget) -> None:
    execute(db_url, "create table public.secret (id int primary key); revoke all on public.secret from anon;")
    secret = describe(target, "public", "secret")
    with pytest.raises(StudioError, match="The role anon may not read this"):
        ids(target, BrowseQuery(secret), ViewAs(BrowseRole.ANON))


def test_edits_as_a_user_obey_row_level_security_and_a_refused_one_saves_nothing(
        db_url: str, target: PostgresTarget, todos: Relation) -> None:
    source = TargetSource(target)
    alice = ViewAs.user(ALICE)
    mine = StagedChanges(todos)
    mine.set_value(("1",), "title", "alice edited", "alice private")
    run(source.commit(mine, alice))
    assert rows_of(db_url, "select title from public.todos where id = 1") == [("alice edited",)]

    blocked = StagedChanges(todos)
    blocked.set_value(("2",), "title", "fine", "alice public")
    blocked.set_value(("3",), "title", "not hers", "bob private")  # hidden from Alice by RLS
    with pytest.raises(CommitFailed) as caught:
        run(source.commit(blocked, alice))
    assert "Nothing was saved" in caught.value.message
    assert "id = 3" in caught.value.message and "row level security" in caught.value.message
    assert caught.value.change == 1
    assert rows_of(db_url, "select id, title from public.todos order by id") == [
        (1, "alice edited"), (2, "alice public"), (3, "bob private")]

    forged = StagedChanges(todos)
    row = forged.add_row()
    forged.set_new_value(row, "id", "9")
    forged.set_new_value(row, "owner", BOB)  # the policy's WITH CHECK refuses rows for someone else
    with pytest.raises(CommitFailed, match="may not do this"):
        run(source.commit(forged, alice))
    assert rows_of(db_url, "select count(*) from public.todos") == [(3,)]


# -- staged edits -------------------------------------------------------------------------------------


def test_staged_edits_preview_the_sql_and_commit_in_one_transaction(db_url: str, target: PostgresTarget,
                                                                     people: Relation) -> None:
    changes = StagedChanges(people)
    changes.set_value(("1",), "name", "Ada", "person 1")
    changes.set_value(("1",), "score", None, "1")
    changes.delete_row(("2",))
    new = changes.add_row()
    changes.set_new_value(new, "id", "100")
    changes.set_new_value(new, "name", "New")
    assert changes.summary == "1 new row, 1 changed row, 1 deleted row"
    preview = changes.preview(ViewAs(BrowseRole.SERVICE_ROLE))
    assert "set_config('role', 'service_role', true)" in preview
    assert "delete from public.people where id = '2'::integer" in preview
    assert "update public.people set name = 'Ada'::text, score = null where id = '1'::integer" in preview
    assert "insert into public.people (id, name) values ('100'::integer, 'New'::text)" in preview
    assert run(TargetSource(target).commit(changes, ViewAs(BrowseRole.SERVICE_ROLE))) == 3
    assert rows_of(db_url, "select id, name, score from public.people where id in (1, 2, 100) order by id") == [
        (1, "Ada", None), (100, "New", None)]


def test_a_failing_commit_changes_nothing_and_says_why_in_plain_words(db_url: str, target: PostgresTarget,
                                                                       people: Relation) -> None:
    changes = StagedChanges(people)
    changes.set_value(("5",), "name", "changed", "person 5")
    changes.delete_row(("6",))
    new = changes.add_row()
    changes.set_new_value(new, "id", "7")  # already taken
    with pytest.raises(CommitFailed) as caught:
        run(TargetSource(target).commit(changes, OWNER))
    message = caught.value.message
    assert message.startswith("Nothing was saved. Adding new row 1 failed")
    assert "must be unique" in message and "duplicate key" in message
    assert "(id)=(7)" in caught.value.hint
    assert rows_of(db_url, "select name from public.people where id in (5, 6) order by id") == [
        ("person 5",), ("person 6",)]
    bad = StagedChanges(people)
    bad.set_value(("5",), "score", "lots", "0")
    with pytest.raises(CommitFailed, match="not written the way its column's type needs"):
        run(TargetSource(target).commit(bad, OWNER))


def test_setting_a_value_back_unstages_it_and_deleting_drops_its_edits(people: Relation) -> None:
    changes = StagedChanges(people)
    changes.set_value(("1",), "name", "x", "person 1")
    changes.set_value(("1",), "name", "person 1", "ignored: the first original is kept")
    assert changes.empty
    changes.set_value(("2",), "name", "y", "person 2")
    changes.delete_row(("2",))
    assert changes.counts == (0, 0, 1) and changes.is_deleted(("2",))
    changes.undelete_row(("2",))
    assert changes.empty
    row = changes.add_row()
    with pytest.raises(StudioError):
        changes.set_new_value(row, "nope", "1")
    assert changes.changes()[0].sql == "insert into public.people default values"


def test_generated_columns_cannot_be_staged(db_url: str, target: PostgresTarget) -> None:
    execute(db_url, "create table public.g (id int primary key, twice int generated always as (id * 2) stored)")
    with pytest.raises(StudioError, match="computed by the database"):
        StagedChanges(describe(target, "public", "g")).set_value(("1",), "twice", "4", "2")


# -- export -------------------------------------------------------------------------------------------


def test_export_csv_streams_every_page_and_keeps_null_apart_from_empty(
        target: PostgresTarget, shop: Relation) -> None:
    out = io.StringIO()
    seen: list[tuple[int, int | None]] = []
    written = run(export_rows(TargetSource(target), BrowseQuery(shop), OWNER, out, ExportFormat.CSV,
                              lambda done, total: seen.append((done, total)), page_rows=2))
    assert written == 5
    assert [done for done, _ in seen] == [2, 4, 5]
    lines = out.getvalue().split("\r\n")
    assert lines[0] == "id,name,price,added,tags,meta,code"
    assert lines[2] == '2,O\'Brien\'s 100% juice,3.20,2024-02-10,{drink},"{""stock"": 0}",'
    assert lines[3] == "3,under_score,,,,,"
    assert lines[5] == '5,"",2,2023-12-31,{},{},'


def test_export_json_gives_typed_values_for_the_filtered_view(target: PostgresTarget, shop: Relation) -> None:
    out = io.StringIO()
    query = BrowseQuery(shop, sort=Sort("price"), filters=(Filter("price", FilterOp.IS_NOT_NULL),))
    seen: list[tuple[int, int | None]] = []
    run(export_rows(TargetSource(target), query, OWNER, out, ExportFormat.JSON,
                    lambda done, total: seen.append((done, total)), page_rows=3))
    data = json.loads(out.getvalue())
    assert [item["id"] for item in data] == [4, 1, 5, 2]
    assert data[0]["meta"] == {"stock": 12} and data[0]["tags"] == ["fruit"] and data[0]["price"] == 0.25
    assert seen[-1] == (4, None)  # filtered: no estimate to show progress against


def test_export_of_an_empty_result_is_valid(target: PostgresTarget, shop: Relation) -> None:
    out = io.StringIO()
    query = BrowseQuery(shop, search="no such thing")
    assert run(export_rows(TargetSource(target), query, OWNER, out, ExportFormat.JSON)) == 0
    assert json.loads(out.getvalue()) == []


def test_a_user_with_only_a_phone_is_shown_by_it_but_never_given_it_as_an_email_claim(
        db_url: str, target: PostgresTarget) -> None:
    phone_only = "33333333-3333-3333-3333-333333333333"
    execute(db_url, f"insert into auth.users (id, phone) values ('{phone_only}', '+15550100')")
    source = TargetSource(target)
    (user,) = [u for u in run(source.users("+1555")) if u.id == phone_only]
    assert user.email == "" and user.phone == "+15550100"
    assert user.label.startswith("+15550100 (")
