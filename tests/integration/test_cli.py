"""The headless commands, run as a user runs them: a separate process, real databases, exit codes."""

import os
import subprocess
import sys
from pathlib import Path

import pglast
import psycopg
import pytest

from studio.core.targets.local import LocalServer


def studio(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run `studio ARGS` in a child process (it shares the test session's local server)."""
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, input=stdin,
                          timeout=180, env=dict(os.environ), check=False)


def run_sql(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def second_db_url(local_server: LocalServer):  # type: ignore[no-untyped-def]
    name = local_server.create_database()
    yield local_server.uri(name)
    local_server.drop_database(name)


def test_diff_from_to_prints_only_sql_and_follows_migras_exit_codes(db_url: str, second_db_url: str) -> None:
    run_sql(db_url, "create table public.items (id int primary key, old_note text);"
                    "insert into public.items values (1, 'keep me?'), (2, null);")
    run_sql(second_db_url, "create table public.items (id int primary key, label text not null default '');")
    result = studio("diff", "--from", db_url, "--to", second_db_url)
    assert result.returncode == 2, result.stderr
    # stdout is SQL and nothing else: it parses, and the hazard is a comment with the row count
    pglast.parse_sql(result.stdout)
    assert "DATA LOSS: Drops column old_note of public.items: 1 rows have a value there." in result.stdout
    assert "ALTER TABLE public.items DROP COLUMN old_note;" in result.stdout
    # applying it makes the databases equal: the next diff has nothing to do
    run_sql(db_url, result.stdout)
    again = studio("diff", "--from", db_url, "--to", second_db_url)
    assert again.returncode == 0, again.stdout + again.stderr


def test_diff_with_a_bad_url_fails_clearly_without_echoing_the_password(db_url: str) -> None:
    result = studio("diff", "--from", "postgresql://admin:s3cret-pw@127.0.0.1:1/nowhere", "--to", db_url)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "s3cret-pw" not in result.stderr
    assert "studio:" in result.stderr


def _workspace(tmp_path: Path, sql: str) -> Path:
    schemas = tmp_path / "app" / "supabase" / "schemas"
    schemas.mkdir(parents=True)
    (schemas / "tables.sql").write_text(sql, encoding="utf-8")
    return tmp_path / "app"


def test_deploy_applies_records_and_then_has_nothing_to_do(db_url: str, tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, """
        create table public.todos (
            id bigint generated always as identity primary key,
            owner_id uuid not null default auth.uid() references auth.users (id),
            title text not null
        );
        create index todos_owner_idx on public.todos (owner_id);
        alter table public.todos enable row level security;
        create policy "own todos" on public.todos for all to authenticated
            using ((select auth.uid()) = owner_id) with check ((select auth.uid()) = owner_id);
    """)
    planned = studio("diff", "--workspace", str(workspace), "--db-url", db_url)
    assert planned.returncode == 2, planned.stderr
    assert (workspace / "pending_migrations.sql").read_text() == planned.stdout

    refused = studio("deploy", "--workspace", str(workspace), "--db-url", db_url)  # hazards, nobody to confirm
    assert refused.returncode == 1
    assert "--yes" in refused.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select to_regclass('public.todos')").fetchone() == (None,)

    deployed = studio("deploy", "--workspace", str(workspace), "--db-url", db_url, "--yes", "--name", "todos")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    files = sorted((workspace / "supabase" / "migrations").glob("*_todos.sql"))
    assert len(files) == 1 and len(files[0].name.split("_", 1)[0]) == 14
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("select version, name from supabase_migrations.schema_migrations").fetchall()
    assert rows == [(files[0].name.split("_", 1)[0], "todos")]
    assert not (workspace / "pending_migrations.sql").exists()

    assert studio("diff", "--workspace", str(workspace), "--db-url", db_url).returncode == 0
    status = studio("migrations", "--workspace", str(workspace), "--db-url", db_url)
    assert status.returncode == 0, status.stdout + status.stderr


def test_diff_without_schema_files_refuses_instead_of_planning_to_drop_everything(tmp_path: Path,
                                                                                  db_url: str) -> None:
    run_sql(db_url, "create table public.precious (id int)")
    result = studio("diff", "--workspace", str(tmp_path), "--db-url", db_url)
    assert result.returncode == 1
    assert "No schema files" in result.stderr
    assert "DROP TABLE" not in result.stdout
