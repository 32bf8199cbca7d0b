"""Round trips of schemas and extensions."""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind
from tests.support.roundtrip import Case, Outcomes, params

DATA_LOSS = HazardKind.DATA_LOSS

CASES = [
    # -- schemas -------------------------------------------------------------------------------------
    Case("schema-create", "", "create schema app;", hazards=[]),
    Case("schema-create-with-table",
         "",
         "create schema app; create table app.items (id int primary key, name text);",
         hazards=...),
    Case("schema-drop-empty", "create schema app;", "", hazards=[]),
    Case("schema-drop-with-table",
         "create schema app; create table app.items (id int primary key, name text);",
         "",
         rows="insert into app.items values (1, 'a'), (2, 'b');",
         hazards=[(DATA_LOSS, 2)]),
    Case("schema-comment-set", "create schema app;", "create schema app; comment on schema app is 'The app';",
         hazards=[]),
    Case("schema-comment-change",
         "create schema app; comment on schema app is 'old';",
         "create schema app; comment on schema app is 'new ''quoted''';", hazards=[]),
    Case("schema-comment-remove", "create schema app; comment on schema app is 'old';", "create schema app;",
         hazards=[]),
    Case("schema-hostile-names",
         "",
         'create schema "Café ☕"; create schema "sch""ema"; create schema "select";'
         ' create schema "with space";',
         hazards=[]),
    Case("schema-usage-grant",
         "create schema app;",
         "create schema app; grant usage on schema app to anon, authenticated;"),
    # -- extensions ----------------------------------------------------------------------------------
    Case("extension-create-in-extensions-schema", "", "create extension pg_trgm with schema extensions;",
         hazards=[]),
    Case("extension-create-vector-in-public", "", "create extension vector with schema public;", hazards=[]),
    Case("extension-create-used-by-table",
         "create table public.docs (id int primary key, body text);",
         "create extension pg_trgm with schema extensions;"
         " create table public.docs (id int primary key, body text);"
         " create index docs_body_trgm on public.docs using gin (body extensions.gin_trgm_ops);",
         rows="insert into public.docs values (1, 'hello');",
         hazards=[]),
    Case("extension-create-btree-gist-with-exclusion",
         "create table public.rooms (id int primary key, room int, during tstzrange);",
         "create extension btree_gist with schema extensions;"
         " create table public.rooms (id int primary key, room int, during tstzrange,"
         "   constraint no_overlap exclude using gist (room with =, during with &&));",
         rows="insert into public.rooms values (1, 1, tstzrange('2024-01-01', '2024-01-02'));",
         hazards=[HazardKind.FAILURE]),
    Case("extension-drop-from-public",
         "create extension vector with schema public;", "", hazards=[DATA_LOSS]),
    Case("extension-drop-used-by-column",
         "create extension vector with schema public;"
         " create table public.items (id int primary key, embedding public.vector(3));",
         "create table public.items (id int primary key);",
         rows="insert into public.items values (1, '[1,2,3]');",
         hazards=[DATA_LOSS]),
    Case("extension-move-schema",
         "create extension pg_trgm with schema public;",
         "create extension pg_trgm with schema extensions;", hazards=[]),
    # Studio never drops an extension from Supabase's `extensions` schema, and says so.
    Case("extension-in-managed-schema-is-never-dropped",
         "create extension pg_trgm with schema extensions;", "",
         not_handled=("extension pg_trgm is not in the desired schema but stays installed",), hazards=[]),
]


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
