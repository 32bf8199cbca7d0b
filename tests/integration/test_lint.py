"""Lints on catalogs of real schemas: each rule fires on a faulty schema, stays quiet on the corrected one,
and the SQL of its fix (when it offers one) makes the finding go away."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import psycopg
import pytest

from studio.core.lint import RULES, Finding, Level, lint_catalog
from studio.core.schema.introspect import introspect
from studio.core.schema.shadow import catalog_of_sources
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget

ERROR, WARNING, INFO = Level.ERROR, Level.WARNING, Level.INFO

TODOS = """
create table public.todos (
    id bigint generated always as identity primary key,
    user_id uuid not null default auth.uid() references auth.users (id),
    title text not null
);
create index todos_user_id_idx on public.todos (user_id);
"""
TODOS_RLS = TODOS + "alter table public.todos enable row level security;\n"
READ_OWN = ('create policy "read own" on public.todos for select to authenticated'
            " using ((select auth.uid()) = user_id);\n")

TEAMS = """
create table public.teams (id bigint generated always as identity primary key, name text not null);
alter table public.teams enable row level security;
create policy "teams are listed" on public.teams for select to authenticated using (true);
create table public.team_members (
    team_id bigint not null references public.teams (id),
    user_id uuid not null references auth.users (id),
    primary key (team_id, user_id)
);
create index team_members_user_id_idx on public.team_members (user_id);
alter table public.team_members enable row level security;
"""
MY_TEAMS = "select team_id from public.team_members where user_id = (select auth.uid())"
SEE_TEAMMATES = ('create policy "see teammates" on public.team_members for select to authenticated'
                 " using (team_id in ({lookup}));\n")
PRIVATE_HELPER = f"""
create schema private;
create function private.my_team_ids() returns setof bigint language sql stable security definer
    set search_path = '' as $$ {MY_TEAMS} $$;
"""

TEAM_COUNT = "select count(*) from public.team_members m where m.team_id = team_members.team_id"
TEAM_SIZE = """
create schema private;
create function private.team_size(team bigint) returns bigint language sql stable security definer
    set search_path = '' as $$ select count(*) from public.team_members where team_id = team $$;
"""


@dataclass(frozen=True)
class Case:
    """A schema that breaks `rule` on `key` at `level`, and a corrected one that does not."""

    rule: str
    key: str
    level: Level
    bad: str
    good: str
    fixable: bool  # whether the finding carries SQL that fixes it as it is


CASES = [
    Case("rls_disabled_in_public", "table:public.todos", ERROR, TODOS, TODOS_RLS + READ_OWN, True),
    Case("rls_disabled_in_public", 'table:public."My ""Todo"" List"', ERROR,
         'create table public."My ""Todo"" List" (id int primary key);',
         'create table public."My ""Todo"" List" (id int primary key);'
         ' alter table public."My ""Todo"" List" enable row level security;'
         ' create policy "all read" on public."My ""Todo"" List" for select to authenticated using (true);', True),
    Case("policy_exists_rls_disabled", "table:public.todos", ERROR, TODOS + READ_OWN, TODOS_RLS + READ_OWN, True),
    Case("rls_enabled_no_policy", "table:public.todos", INFO, TODOS_RLS, TODOS_RLS + READ_OWN, False),
    Case("rls_policy_always_true", 'policy:public.todos."anyone adds"', ERROR,
         TODOS_RLS + 'create policy "anyone adds" on public.todos for insert to anon with check (true);',
         TODOS_RLS + 'create policy "users add own" on public.todos for insert to authenticated'
                     " with check ((select auth.uid()) = user_id);", True),
    Case("rls_policy_always_true", 'policy:public.todos."users change all"', WARNING,
         TODOS_RLS + 'create policy "users change all" on public.todos for update to authenticated using (true);',
         TODOS_RLS + 'create policy "users change own" on public.todos for update to authenticated'
                     " using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);", True),
    Case("rls_policy_always_true", 'policy:public.todos."everyone deletes"', ERROR,
         TODOS_RLS + 'create policy "everyone deletes" on public.todos for delete using (true);',
         TODOS_RLS + 'create policy "everyone reads" on public.todos for select using (true);', True),
    Case("auth_rls_initplan", 'policy:public.todos."read own"', WARNING,
         TODOS_RLS + 'create policy "read own" on public.todos for select to authenticated'
                     " using (auth.uid() = user_id or current_setting('app.admin', true) = 'on');",
         TODOS_RLS + 'create policy "read own" on public.todos for select to authenticated'
                     " using ((select auth.uid()) = user_id or (select current_setting('app.admin', true)) = 'on');",
         True),
    Case("auth_rls_initplan", 'policy:public.team_members."see teammates"', WARNING,
         TEAMS + PRIVATE_HELPER + 'create policy "see teammates" on public.team_members for select'
                                  " to authenticated using (exists (select 1 from private.my_team_ids() t"
                                  " where t = team_id and auth.jwt() ->> 'aal' = 'aal2'));",
         TEAMS + PRIVATE_HELPER + 'create policy "see teammates" on public.team_members for select'
                                  " to authenticated using (exists (select 1 from private.my_team_ids() t"
                                  " where t = team_id and (select auth.jwt() ->> 'aal') = 'aal2'));", True),
    Case("multiple_permissive_policies", "table:public.todos", WARNING,
         TODOS_RLS + READ_OWN + 'create policy "read shared" on public.todos for select to authenticated'
                                " using (title like 'shared:%');",
         TODOS_RLS + 'create policy "read own or shared" on public.todos for select to authenticated'
                     " using ((select auth.uid()) = user_id or title like 'shared:%');"
                     ' create policy "only short" on public.todos as restrictive for select to authenticated'
                     " using (length(title) < 100);", True),
    Case("unindexed_foreign_keys", "constraint:public.todos.todos_user_id_fkey", INFO,
         TODOS.replace("create index todos_user_id_idx on public.todos (user_id);", ""), TODOS, True),
    Case("unindexed_foreign_keys", "constraint:public.cells.cells_x_y_fkey", INFO,
         "create table public.grid (x int, y int, primary key (x, y));"
         " create table public.cells (id int primary key, x int, y int, foreign key (x, y) references public.grid);"
         " create index cells_y on public.cells (y); create index cells_x_y_some on public.cells (x, y) where x > 0;",
         "create table public.grid (x int, y int, primary key (x, y));"
         " create table public.cells (x int, y int, z int, primary key (y, x, z),"
         " foreign key (x, y) references public.grid);", True),
    Case("duplicate_index", "index:public.todos_user_id_idx", WARNING,
         TODOS + "create index todos_user_id_again on public.todos using btree (user_id);",
         TODOS + "create index todos_user_id_title on public.todos (user_id, title);"
                 " create index todos_user_id_desc on public.todos (user_id desc);"
                 " create index todos_user_id_some on public.todos (user_id) where title <> '';", True),
    Case("duplicate_index", "index:public.todos_id_unique", WARNING,
         TODOS + "create unique index todos_id_unique on public.todos (id);",
         TODOS + "create unique index todos_id_title on public.todos (id, title);", True),
    Case("no_primary_key", "table:public.log", INFO, "create table public.log (id bigint, message text);",
         "create table public.log (id bigint primary key, message text);", True),
    Case("security_definer_view", "view:public.todo_titles", ERROR,
         TODOS_RLS + "create view public.todo_titles as select id, title from public.todos;",
         TODOS_RLS + "create view public.todo_titles with (security_invoker = on) as"
                     " select id, title from public.todos;", True),
    Case("function_search_path_mutable", "function:public.todo_count()", WARNING,
         TODOS_RLS + "create function public.todo_count() returns bigint language sql stable"
                     " as $$ select count(*) from public.todos $$;",
         TODOS_RLS + "create function public.todo_count() returns bigint language sql stable set search_path = ''"
                     " as $$ select count(*) from public.todos $$;", True),
    Case("function_search_path_mutable", "function:public.todo_count()", WARNING,
         TODOS_RLS + "create function public.todo_count() returns bigint language plpgsql stable"
                     " as $$ begin return (select count(*) from todos); end $$;",
         TODOS_RLS + "create function public.todo_count() returns bigint language plpgsql stable"
                     " set search_path = pg_catalog, public as $$ begin return (select count(*) from todos); end $$;",
         False),
    Case("extension_in_public", "extension:pg_trgm", WARNING, "create extension pg_trgm schema public;",
         "create extension pg_trgm schema extensions;", True),
    Case("auth_users_exposed", "view:public.user_emails", ERROR,
         "create view public.user_emails as select id, email from auth.users;",
         "create view public.user_emails with (security_invoker = true) as select id, email from auth.users;", True),
    Case("auth_users_exposed", "matview:public.user_emails", ERROR,
         "create materialized view public.user_emails as select id, email from auth.users;",
         "create materialized view public.user_emails as select id, email from auth.users;"
         " revoke select on public.user_emails from anon, authenticated;", True),
    Case("rls_references_user_metadata", 'policy:public.todos."admins read"', ERROR,
         TODOS_RLS + 'create policy "admins read" on public.todos for select to authenticated'
                     " using (((select auth.jwt()) -> 'user_metadata' ->> 'role') = 'admin');",
         TODOS_RLS + 'create policy "admins read" on public.todos for select to authenticated'
                     " using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin');", False),
    Case("rls_references_user_metadata", 'policy:public.todos."admins read"', ERROR,
         TODOS_RLS + 'create policy "admins read" on public.todos for select to authenticated'
                     " using (exists (select 1 from auth.users u where u.id = (select auth.uid())"
                     " and u.raw_user_meta_data ->> 'role' = 'admin'));",
         TODOS_RLS + 'create policy "admins read" on public.todos for select to authenticated'
                     " using (exists (select 1 from auth.users u where u.id = (select auth.uid())"
                     " and u.raw_app_meta_data ->> 'role' = 'admin'));", False),
    Case("policy_recursion", 'policy:public.team_members."see teammates"', ERROR,
         TEAMS + SEE_TEAMMATES.format(lookup=MY_TEAMS),
         TEAMS + PRIVATE_HELPER + SEE_TEAMMATES.format(lookup="select private.my_team_ids()"), False),
    Case("policy_recursion", 'policy:public.team_members."see teammates"', ERROR,
         TEAMS + "create function public.my_team_ids() returns setof bigint language sql stable"
                 f" set search_path = '' as $$ {MY_TEAMS} $$;"
               + SEE_TEAMMATES.format(lookup="select public.my_team_ids()"),
         TEAMS + "create function public.my_team_ids() returns setof bigint language sql stable security definer"
                 f" set search_path = '' as $$ {MY_TEAMS} $$;"
               + SEE_TEAMMATES.format(lookup="select public.my_team_ids()"), True),
    Case("policy_recursion", 'policy:public.team_members."see teammates"', ERROR,
         TEAMS + "create function public.my_team_ids() returns setof bigint language plpgsql stable"
                 " set search_path = public as $$ begin return query select team_id from team_members"
                 " where user_id = (select auth.uid()); end $$;"
               + SEE_TEAMMATES.format(lookup="select public.my_team_ids()"),
         TEAMS + "create function public.my_team_ids() returns setof bigint language plpgsql stable"
                 " set search_path = public as $$ begin return query select team_id from teams; end $$;"
               + SEE_TEAMMATES.format(lookup="select public.my_team_ids()"), False),
    Case("policy_recursion", 'policy:public.team_members."at most 100 members"', ERROR,
         TEAMS + SEE_TEAMMATES.format(lookup="select id from public.teams")
               + 'create policy "at most 100 members" on public.team_members for insert to authenticated'
                 f" with check (({TEAM_COUNT}) < 100);",
         TEAMS + SEE_TEAMMATES.format(lookup="select id from public.teams") + TEAM_SIZE
               + 'create policy "at most 100 members" on public.team_members for insert to authenticated'
                 " with check (private.team_size(team_id) < 100);", False),
    Case("policy_recursion", 'policy:public.team_members."at most 100 members"', ERROR,
         TEAMS + 'create policy "see own" on public.team_members for select using (user_id = (select auth.uid()));'
               + 'create policy "at most 100 members" on public.team_members for insert to authenticated'
                 f" with check (({TEAM_COUNT}) < 100);",
         TEAMS + 'create policy "see own" on public.team_members for select to anon'
                 " using (user_id = (select auth.uid()));"
               + 'create policy "at most 100 members" on public.team_members for insert to authenticated'
                 f" with check (({TEAM_COUNT}) < 100);",
         False),
]


def _lint(server: LocalServer, *sources: str, exposed: tuple[str, ...] = ("public",)) -> list[Finding]:
    catalog = asyncio.run(catalog_of_sources(server, [(f"{i:02}.sql", s) for i, s in enumerate(sources)]))
    return lint_catalog(catalog, exposed_schemas=exposed)


def _case_id(case: Case) -> str:
    return f"{case.rule}-{case.key.split(':', 1)[1]}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_rule_fires_on_faulty_schema_and_not_on_corrected_one(local_server: LocalServer, case: Case) -> None:
    found = [f for f in _lint(local_server, case.bad) if f.rule == case.rule]
    assert [(f.object_key, f.level) for f in found] == [(case.key, case.level)]
    finding = found[0]
    assert finding.title and finding.explanation and finding.fix
    assert (finding.fix_sql is not None) == case.fixable
    if finding.fix_sql:
        assert finding.fix_sql in finding.fix  # the text shows the same statements
        after_fix = _lint(local_server, case.bad, finding.fix_sql)
        assert [f for f in after_fix if f.rule == case.rule and f.object_key == case.key] == []
    assert [f for f in _lint(local_server, case.good) if f.rule == case.rule] == []


def test_every_rule_has_a_case() -> None:
    assert {c.rule for c in CASES} == set(RULES)


CLEAN_APP = TODOS_RLS + READ_OWN + """
create policy "add own" on public.todos for insert to authenticated with check ((select auth.uid()) = user_id);
create policy "change own" on public.todos for update to authenticated
    using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
create policy "delete own" on public.todos for delete to authenticated using ((select auth.uid()) = user_id);
create view public.my_todos with (security_invoker = true) as
    select id, title from public.todos where user_id = (select auth.uid());
create function public.todo_count() returns bigint language sql stable set search_path = ''
    as $$ select count(*) from public.todos $$;
create extension pg_trgm schema extensions;
create index todos_title_trgm on public.todos using gin (title extensions.gin_trgm_ops);
""" + TEAMS + PRIVATE_HELPER + SEE_TEAMMATES.format(lookup="select private.my_team_ids()")


def test_a_well_made_schema_has_no_findings(local_server: LocalServer) -> None:
    assert _lint(local_server, CLEAN_APP) == []


def test_findings_come_most_serious_first_then_by_object_and_rule(local_server: LocalServer) -> None:
    sql = (TODOS + READ_OWN + "create view public.todo_titles as select title from public.todos;"
           " create table public.log (message text); create extension pg_trgm schema public;")
    findings = _lint(local_server, sql)
    order = [(f.level.rank, f.object_key, f.rule) for f in findings]
    assert order == sorted(order)
    assert [f.level for f in findings][:1] == [ERROR] and findings[-1].level == INFO
    assert {f.rule for f in findings} >= {"rls_disabled_in_public", "policy_exists_rls_disabled",
                                          "security_definer_view", "extension_in_public", "no_primary_key"}
    assert findings == _lint(local_server, sql)


def test_exposure_rules_look_only_at_exposed_schemas(local_server: LocalServer) -> None:
    sql = ("create schema api; create table api.items (id int primary key);"
           " create view api.item_ids as select id from api.items;"
           " create function api.item_count() returns bigint language sql as $$ select count(*) from api.items $$;"
           " create schema internal; create table internal.jobs (payload text);")
    by_default = {(f.rule, f.object_key) for f in _lint(local_server, sql)}
    assert by_default == {("no_primary_key", "table:internal.jobs")}
    with_api = {(f.rule, f.object_key) for f in _lint(local_server, sql, exposed=("public", "api"))}
    assert with_api == by_default | {("rls_disabled_in_public", "table:api.items"),
                                     ("security_definer_view", "view:api.item_ids"),
                                     ("function_search_path_mutable", "function:api.item_count()")}


def test_supabase_managed_schemas_are_never_linted(local_server: LocalServer) -> None:
    sql = "create view public.user_emails as select id, email from auth.users;"
    catalog = asyncio.run(catalog_of_sources(local_server, [("a.sql", sql)], include_schemas=["auth", "storage"]))
    assert "table:auth.users" in catalog
    findings = lint_catalog(catalog)
    assert {(f.rule, f.object_key) for f in findings} == {("security_definer_view", "view:public.user_emails"),
                                                          ("auth_users_exposed", "view:public.user_emails")}


def test_recursion_finding_matches_what_the_server_does(db_url: str, target: PostgresTarget) -> None:
    """The faulty policy really fails as the finding says; the fix it suggests really works."""

    def read_as_user(conn: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
        with conn.transaction():
            conn.execute("set local role authenticated")
            conn.execute("select set_config('request.jwt.claims', %s, true)",
                         ['{"sub": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "role": "authenticated"}'])
            return conn.execute("select team_id from public.team_members").fetchall()

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(TEAMS + SEE_TEAMMATES.format(lookup=MY_TEAMS))
        conn.execute("insert into auth.users (id) values ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');"
                     " insert into public.teams (name) values ('red');"
                     " insert into public.team_members values (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');")
        with pytest.raises(psycopg.errors.InvalidObjectDefinition, match="infinite recursion"):
            read_as_user(conn)
        findings = lint_catalog(asyncio.run(introspect(target)))
        assert [f.rule for f in findings] == ["policy_recursion"]

        conn.execute(PRIVATE_HELPER + 'alter policy "see teammates" on public.team_members'
                     " using (team_id in (select private.my_team_ids()));")
        assert read_as_user(conn) == [(1,)]
        assert lint_catalog(asyncio.run(introspect(target))) == []
