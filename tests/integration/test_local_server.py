"""The embedded server and the Supabase base it installs (a real server; nothing mocked)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from pathlib import Path

import psutil
import psycopg
import pytest

from studio.core.errors import LocalServerError
from studio.core.targets import local as local_module
from studio.core.targets.local import (
    LOCAL_PROJECT_DESCRIPTION,
    TEMPLATE_DATABASE,
    LocalServer,
    LocalTarget,
)

USER_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
USER_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")


def claims(sub: uuid.UUID | None = None, role: str = "authenticated", **extra: object) -> str:
    """A JSON text like the one PostgREST puts into `request.jwt.claims`."""
    body: dict[str, object] = {"role": role, **extra}
    if sub is not None:
        body["sub"] = str(sub)
    return json.dumps(body)


def dead_pid() -> int:
    """A process id that no running process has."""
    pid = 4_000_000
    while psutil.pid_exists(pid):
        pid -= 1
    return pid


# -- the server ------------------------------------------------------------------------------------


def test_server_runs_postgres_18_on_a_socket(local_server: LocalServer) -> None:
    assert local_server.is_running()
    url = local_server.uri()
    assert url.startswith("postgresql://postgres@/postgres?host=")
    with psycopg.connect(url) as conn:
        row = conn.execute("select current_setting('server_version_num')::int, current_user").fetchone()
    assert row is not None
    assert row[0] >= 180000
    assert row[1] == "postgres"


def test_start_is_idempotent(local_server: LocalServer) -> None:
    url = local_server.uri()
    began = time.perf_counter()
    local_server.start()
    assert time.perf_counter() - began < 0.5
    assert local_server.uri() == url


@pytest.mark.slow
def test_stop_and_start_again_keeps_the_data(tmp_path: Path) -> None:
    server = LocalServer(tmp_path / "studio-local")
    with server:
        with psycopg.connect(server.uri()) as conn:
            conn.execute("create table kept (note text)")
            conn.execute("insert into kept values ('still here')")
        pid_file = server.pgdata / "postmaster.pid"
        assert pid_file.exists()
        # A Studio that crashed while using this server left its process id behind; stopping must
        # not wait for it forever.
        handles = server.pgdata / ".handle_pids.json"
        handles.write_text(json.dumps([*json.loads(handles.read_text()), dead_pid()]))
    assert not server.is_running()
    assert not pid_file.exists()

    server.start()
    try:
        assert (server.pgdata / "PG_VERSION").exists()
        with psycopg.connect(server.uri()) as conn:
            assert conn.execute("select note from kept").fetchall() == [("still here",)]
    finally:
        server.stop()
    assert not server.is_running()


def test_a_failed_start_explains_itself(tmp_path: Path) -> None:
    # A data folder from a PostgreSQL version this server cannot read.
    pgdata = tmp_path / "broken" / "data"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("9.6\n")
    (pgdata / "postgresql.conf").write_text("")
    pgdata.chmod(0o700)
    server = LocalServer(tmp_path / "broken")
    with pytest.raises(LocalServerError) as caught:
        server.start()
    error = caught.value
    assert "could not be started" in error.message
    assert "another PostgreSQL version" in error.hint
    assert "9.6" in error.hint  # the end of the server's log is included
    assert not server.is_running()
    # Trying again fails the same way (nothing half-started is cached).
    with pytest.raises(LocalServerError):
        server.start()


# -- the Supabase base -----------------------------------------------------------------------------


def test_roles_are_like_supabase(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select rolname, rolcanlogin, rolinherit, rolbypassrls from pg_roles"
            " where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')"
            " order by rolname"
        ).fetchall()
        members = conn.execute(
            "select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid"
            " join pg_roles u on u.oid = m.member where u.rolname = 'authenticator' order by 1"
        ).fetchall()
    assert rows == [
        ("anon", False, False, False),
        ("authenticated", False, False, False),
        ("authenticator", True, False, False),
        ("service_role", False, False, True),
    ]
    assert members == [("anon",), ("authenticated",), ("service_role",)]


def test_schemas_tables_and_publication_exist(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace").fetchall()}
        user_columns = {
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'auth' and table_name = 'users'"
            ).fetchall()
        }
        publications = conn.execute("select pubname from pg_publication").fetchall()
        conn.execute("insert into storage.buckets (id, name) values ('avatars', 'avatars')")
        conn.execute(
            "insert into storage.objects (bucket_id, name) values ('avatars', 'user-1/photos/me.tar.gz')"
        )
        helpers = conn.execute(
            "select storage.foldername(name), storage.filename(name), storage.extension(name), path_tokens"
            " from storage.objects"
        ).fetchone()
    assert {"auth", "storage", "extensions", "public"} <= schemas
    assert {
        "id", "instance_id", "aud", "role", "email", "encrypted_password", "email_confirmed_at",
        "last_sign_in_at", "raw_app_meta_data", "raw_user_meta_data", "is_super_admin", "created_at",
        "updated_at", "phone", "is_anonymous",
    } <= user_columns
    assert publications == [("supabase_realtime",)]
    assert helpers == (["user-1", "photos"], "me.tar.gz", "gz", ["user-1", "photos", "me.tar.gz"])


def test_new_public_tables_are_granted_to_the_api_roles(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute("create table public.things (id bigint generated always as identity primary key)")
        conn.execute("create function public.answer() returns int language sql as 'select 42'")
        rows = conn.execute(
            "select r, has_table_privilege(r, 'public.things', 'select, insert, update, delete'),"
            " has_sequence_privilege(r, 'public.things_id_seq', 'usage'),"
            " has_function_privilege(r, 'public.answer()', 'execute'),"
            " has_schema_privilege(r, 'auth', 'usage'), has_schema_privilege(r, 'storage', 'usage'),"
            " has_schema_privilege(r, 'extensions', 'usage'),"
            " has_table_privilege(r, 'auth.users', 'select')"
            " from unnest(array['anon', 'authenticated', 'service_role']) as r"
        ).fetchall()
    for role, *privileges in rows:
        assert privileges == [True, True, True, True, True, True, False], role


def test_auth_functions_read_the_jwt_claims(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        with conn.transaction():
            conn.execute("set local role authenticated")
            conn.execute(
                "select set_config('request.jwt.claims', %s, true)",
                [claims(USER_A, email="a@example.com", app_metadata={"plan": "pro"})],
            )
            row = conn.execute(
                "select auth.uid(), auth.role(), auth.email(), auth.jwt() -> 'app_metadata' ->> 'plan',"
                " current_user"
            ).fetchone()
        assert row == (USER_A, "authenticated", "a@example.com", "pro", "authenticated")

        # The literal form from Supabase's documentation works too.
        with conn.transaction():
            conn.execute("set local role authenticated")
            conn.execute(f"set local request.jwt.claims = '{claims(USER_B)}'")
            assert conn.execute("select auth.uid()").fetchone() == (USER_B,)

        # No claims, or empty ones: NULL, not an error.
        assert conn.execute("select auth.uid(), auth.role(), auth.email(), auth.jwt()").fetchone() == (
            None, None, None, None,
        )
        with conn.transaction():
            conn.execute("set local request.jwt.claims = ''")
            assert conn.execute("select auth.uid(), auth.jwt()").fetchone() == (None, None)

        # The older one-setting-per-claim form is still honoured, and wins.
        with conn.transaction():
            conn.execute("select set_config('request.jwt.claim.sub', %s, true)", [str(USER_B)])
            conn.execute("select set_config('request.jwt.claims', %s, true)", [claims(USER_A)])
            assert conn.execute("select auth.uid()").fetchone() == (USER_B,)


def test_row_level_security_with_auth_uid(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "create table public.notes ("
            " id bigint generated always as identity primary key,"
            " owner uuid not null default auth.uid() references auth.users (id) on delete cascade,"
            " body text not null)"
        )
        conn.execute("alter table public.notes enable row level security")
        conn.execute(
            "create policy own_notes on public.notes for all to authenticated"
            " using ((select auth.uid()) = owner) with check ((select auth.uid()) = owner)"
        )
        conn.execute("insert into auth.users (id, email) values (%s, 'a@x.io'), (%s, 'b@x.io')", [USER_A, USER_B])
        conn.execute("insert into public.notes (owner, body) values (%s, 'a1'), (%s, 'a2'), (%s, 'b1')",
                     [USER_A, USER_A, USER_B])
        conn.commit()

        def visible(role: str, sub: uuid.UUID | None) -> list[str]:
            with conn.transaction():
                conn.execute("select set_config('role', %s, true)", [role])
                conn.execute("select set_config('request.jwt.claims', %s, true)", [claims(sub, role=role)])
                return [r[0] for r in conn.execute("select body from public.notes order by body").fetchall()]

        assert visible("authenticated", USER_A) == ["a1", "a2"]
        assert visible("authenticated", USER_B) == ["b1"]
        assert visible("anon", None) == []
        assert visible("service_role", None) == ["a1", "a2", "b1"]

        # Writing a row for someone else is refused; one's own row goes in, owned by the caller.
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("set local role authenticated")
            conn.execute("select set_config('request.jwt.claims', %s, true)", [claims(USER_A)])
            conn.execute("insert into public.notes (owner, body) values (%s, 'forged')", [USER_B])
        with conn.transaction():
            conn.execute("set local role authenticated")
            conn.execute("select set_config('request.jwt.claims', %s, true)", [claims(USER_A)])
            conn.execute("insert into public.notes (body) values ('a3')")
        owners = conn.execute("select owner from public.notes where body = 'a3'").fetchall()
        assert owners == [(USER_A,)]


# -- databases -------------------------------------------------------------------------------------


def test_created_databases_are_separate_copies_of_the_template(local_server: LocalServer) -> None:
    first = local_server.create_database()
    second = local_server.create_database("Odd name; with \"quotes\"")
    try:
        assert first != second
        assert first.startswith("studio_")
        with psycopg.connect(local_server.uri(first)) as conn:
            conn.execute("create table only_here (x int)")
        with psycopg.connect(local_server.uri(second)) as conn:
            assert conn.execute("select to_regclass('only_here')").fetchone() == (None,)
            assert conn.execute("select to_regclass('auth.users')").fetchone() == ("auth.users",)
        assert {first, second} <= set(local_server.list_databases())
    finally:
        local_server.drop_database(first)
        local_server.drop_database(second)
    assert not {first, second} & set(local_server.list_databases())
    local_server.drop_database(first)  # already gone: no error


def test_create_database_is_fast(local_server: LocalServer) -> None:
    created: list[float] = []
    dropped: list[float] = []
    for _ in range(7):
        began = time.perf_counter()
        name = local_server.create_database()
        created.append(time.perf_counter() - began)
        began = time.perf_counter()
        local_server.drop_database(name)
        dropped.append(time.perf_counter() - began)
    create_ms = statistics.median(created) * 1000
    drop_ms = statistics.median(dropped) * 1000
    print(f"create_database median {create_ms:.1f} ms, drop_database median {drop_ms:.1f} ms")  # -rP shows it
    # Typically 50-70 ms; the bound only catches something gone badly wrong on a busy machine.
    assert create_ms < 1500, f"create_database took {create_ms:.0f} ms (median)"


def test_protected_databases_cannot_be_dropped(local_server: LocalServer) -> None:
    for name in ("postgres", TEMPLATE_DATABASE, "template0", "template1"):
        with pytest.raises(ValueError):
            local_server.drop_database(name)


def test_the_template_accepts_no_connections(local_server: LocalServer) -> None:
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(local_server.uri(TEMPLATE_DATABASE)).close()


def test_a_new_base_rebuilds_the_template_and_updates_the_project(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    oid_query = "select oid from pg_database where datname = %s"
    with psycopg.connect(local_server.uri(), autocommit=True) as conn:
        conn.execute("create table public.user_data_survives (x int)")
        try:
            before = conn.execute(oid_query, [TEMPLATE_DATABASE]).fetchone()
            local_server.ensure_supabase_base()  # up to date: nothing happens
            assert conn.execute(oid_query, [TEMPLATE_DATABASE]).fetchone() == before

            monkeypatch.setattr(local_module, "base_version", lambda: "a-newer-base")
            local_server.ensure_supabase_base()
            after = conn.execute(oid_query, [TEMPLATE_DATABASE]).fetchone()
            assert after != before
            comments = conn.execute(
                "select datname, shobj_description(oid, 'pg_database') from pg_database"
                " where datname in ('postgres', %s) order by 1",
                [TEMPLATE_DATABASE],
            ).fetchall()
            assert comments == [
                ("postgres", "Studio Supabase base a-newer-base"),
                (TEMPLATE_DATABASE, "Studio Supabase base a-newer-base"),
            ]
            assert conn.execute("select to_regclass('public.user_data_survives')").fetchone() is not None
        finally:
            monkeypatch.undo()
            local_server.ensure_supabase_base()  # back to the real base for the other tests
            conn.execute("drop table public.user_data_survives")
    name = local_server.create_database()
    local_server.drop_database(name)


def test_local_target_is_the_local_project(local_server: LocalServer) -> None:
    async def scenario() -> tuple[str, str]:
        async with LocalTarget(local_server) as target:
            rows = await target.fetch("select current_database()")
            return target.description, rows[0][0]

    assert asyncio.run(scenario()) == (LOCAL_PROJECT_DESCRIPTION, "postgres")
    other = local_server.local_target("some_db")
    assert "some_db" in other.description
    asyncio.run(other.close())
