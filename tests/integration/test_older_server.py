"""The live database may run an older PostgreSQL than the local one that reads the desired schema.

Supabase projects mostly run PostgreSQL 15; the local server is 18. The same schema must compare equal
across the two, and a plan made from 18's definitions must apply on 15.
"""

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.schema.introspect import introspect
from studio.core.schema.planner import make_plan
from studio.core.schema.shadow import catalog_of_sources
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget
from tests.support.older_server import OlderServer, available

SCHEMA = """
create extension if not exists btree_gist with schema extensions;
create type public.status as enum ('draft', 'published');
create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    username text unique check (char_length(username) >= 3),
    "full" text generated always as (upper(username)) stored,
    created_at timestamptz not null default now(),
    tags text[] default '{}'::text[],
    meta jsonb default '{}'::jsonb,
    score numeric(10, 2) default 0.5
);
comment on column public.profiles.username is 'shown to other users';
alter table public.profiles enable row level security;
create policy "profiles are public" on public.profiles for select using (true);
create policy "insert own profile" on public.profiles for insert with check ((select auth.uid()) = id);
create policy "update own profile" on public.profiles for update to authenticated
    using ((select auth.uid()) = id and created_at > now() - interval '1 day')
    with check (coalesce(score, 0) between 0 and 100);
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = ''
    as $$ begin insert into public.profiles (id) values (new.id); return new; end; $$;
create trigger on_auth_user_created after insert on auth.users
    for each row execute procedure public.handle_new_user();
create view public.popular with (security_invoker = true) as
    select p.id, p.username, count(*) over () as n from public.profiles p
    where p.score > 1 and p.tags @> array['x'] order by 1;
create index profiles_meta_idx on public.profiles using gin (meta jsonb_path_ops);
create index profiles_lower_name on public.profiles (lower(username)) where username is not null;
create table public.posts (
    id bigserial primary key,
    status public.status not null default 'draft',
    author uuid references public.profiles (id),
    during tsrange,
    exclude using gist (during with &&)
);
create materialized view public.post_counts as select status, count(*) from public.posts group by status;
create function public.add(a int, b int default 2) returns int language sql immutable return a + b;
grant select (username) on public.profiles to anon;
alter publication supabase_realtime add table public.posts;
"""


@pytest.fixture(scope="session")
def pg15(local_server: LocalServer) -> Iterator[OlderServer]:
    if not available():
        if os.environ.get("CI"):
            pytest.fail("Debian's PostgreSQL 15 is not installed; .ci/run installs package postgresql-15")
        pytest.skip("PostgreSQL 15 server binaries not installed (apt-get install postgresql-15)")
    folder = Path(tempfile.mkdtemp(prefix="studio-test-pg15-"))  # outside pytest's 0700 folders, see conftest
    server = OlderServer(folder)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg15_url(pg15: OlderServer) -> Iterator[str]:
    name = pg15.create_database()
    yield pg15.uri(name)
    pg15.drop_database(name)


def _plan_against(url: str, local_server: LocalServer):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        desired = await catalog_of_sources(local_server, [("schema.sql", SCHEMA)])
        target = PostgresTarget(url)
        try:
            return await make_plan(target, desired), target
        finally:
            await target.close()
    return asyncio.run(run())


def test_same_schema_on_15_and_18_needs_no_change(pg15_url: str, local_server: LocalServer) -> None:
    target = PostgresTarget(pg15_url)
    asyncio.run(target.run_transaction([SCHEMA]))
    asyncio.run(target.close())
    plan, _ = _plan_against(pg15_url, local_server)
    assert [c.title for c in plan.changes] == []
    assert plan.not_handled == []


def test_plan_made_from_18_applies_on_15(pg15_url: str, local_server: LocalServer) -> None:
    plan, _ = _plan_against(pg15_url, local_server)
    assert len(plan.changes) > 10
    assert not any("MAINTAIN" in s for c in plan.changes for s in c.statements)  # 17+ only
    target = PostgresTarget(pg15_url)
    try:
        asyncio.run(target.run_transaction(plan.transactional_statements()))
        catalog = asyncio.run(introspect(target))
    finally:
        asyncio.run(target.close())
    assert catalog.server_version // 10000 == 15
    assert "view:public.popular" in catalog and "matview:public.post_counts" in catalog
    again, _ = _plan_against(pg15_url, local_server)
    assert [c.title for c in again.changes] == []
