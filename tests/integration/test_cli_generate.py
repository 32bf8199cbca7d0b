"""The generate commands as a builder runs them: template -> files -> deploy -> edit -> regenerate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

from studio.core.targets.local import LocalServer


def studio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ), check=False)


def test_templates_generate_deploy_and_regenerate(db_url: str, tmp_path: Path, local_server: LocalServer) -> None:
    listing = studio("templates")
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == ["todo", "blog", "marketplace", "team",
                                                                          "booking"]
    workspace = tmp_path / "app"
    made = studio("generate", "--template", "todo", "--workspace", str(workspace))
    assert made.returncode == 0, made.stderr
    for path in ["studio.json", "supabase/schemas/supabase_tables.sql", "supabase/schemas/supabase_policies.sql",
                 "supabase/seed.sql", "clients/typescript/database.types.ts", "clients/dart/lib/supabase_config.dart"]:
        assert (workspace / path).is_file(), path
    assert list((workspace / "clients" / "python").glob("*/services/todos.py"))
    first = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}

    again = studio("generate", "--template", "todo", "--workspace", str(workspace))
    assert again.returncode == 1 and "already has a data model" in again.stderr

    deployed = studio("deploy", "--workspace", str(workspace), "--db-url", db_url, "--yes", "--name", "todo")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from pg_policies where schemaname = 'public'").fetchone()[0] > 0
        assert conn.execute("select relrowsecurity from pg_class where oid = 'public.todos'::regclass").fetchone() == (
            True,)

    data = json.loads((workspace / "studio.json").read_text())
    data["model"]["entities"][1]["fields"].append({"name": "estimate", "type": "integer"})
    (workspace / "studio.json").write_text(json.dumps(data))
    regenerated = studio("generate", "--workspace", str(workspace))
    assert regenerated.returncode == 0, regenerated.stderr
    assert "supabase/schemas/supabase_tables.sql" in regenerated.stdout
    assert "estimate integer" in (workspace / "supabase/schemas/supabase_tables.sql").read_text()
    unchanged = [p for p, content in first.items() if p.exists() and p.read_bytes() == content]
    assert workspace / "supabase/schemas/supabase_policies.sql" in unchanged

    diff = studio("diff", "--workspace", str(workspace), "--db-url", db_url)
    assert diff.returncode == 2 and "ADD COLUMN estimate integer" in diff.stdout


def test_generate_explains_a_broken_model_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "studio.json").write_text(json.dumps({"version": 1, "model": {
        "format": 1, "name": "x", "entities": [{"name": "order", "access": "private", "fields": []}], "links": []}}))
    result = studio("generate", "--workspace", str(tmp_path))
    assert result.returncode == 1
    assert "“order” is a reserved word in SQL" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studio.json"]


def test_import_reads_a_database_into_studio_json(db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("create table public.notes (id uuid primary key default gen_random_uuid(), body text not null,"
                     " owner_id uuid not null default auth.uid() references auth.users (id))")
    result = studio("import", "--workspace", str(tmp_path), "--db-url", db_url)
    assert result.returncode == 0, result.stderr
    model = json.loads((tmp_path / "studio.json").read_text())["model"]
    assert model["entities"] == [{"name": "notes", "access": "private",
                                  "fields": [{"name": "body", "type": "text", "required": True}]}]


def test_generated_names_that_would_clash_are_explained(tmp_path: Path) -> None:
    (tmp_path / "studio.json").write_text(json.dumps({"version": 1, "model": {
        "format": 1, "name": "x", "links": [], "entities": [
            {"name": "todos", "access": "private", "fields": [{"name": "status", "type": "enum", "values": ["a"]}]},
            {"name": "todo", "access": "private", "fields": [{"name": "status", "type": "enum", "values": ["b"]}]},
        ]}}))
    result = studio("generate", "--workspace", str(tmp_path))
    assert result.returncode == 1
    assert "“todo_status” is also used for" in result.stderr and "unexpected" not in result.stderr


def test_schema_checks_come_with_every_plan(db_url: str, tmp_path: Path) -> None:
    schemas = tmp_path / "supabase" / "schemas"
    schemas.mkdir(parents=True)
    (schemas / "open.sql").write_text("create table public.secrets (id int primary key, value text);")
    diff = studio("diff", "--workspace", str(tmp_path), "--db-url", db_url)
    assert diff.returncode == 2
    assert "[error]" in diff.stderr and "public.secrets" in diff.stderr
    assert "-- Checks on the desired schema: 1 finding" in (tmp_path / "pending_migrations.sql").read_text()
    refused = studio("deploy", "--workspace", str(tmp_path), "--db-url", db_url)
    assert refused.returncode == 1 and "nobody is here to confirm" in refused.stderr
    assert "[error]" in refused.stdout
