"""Desired state from SQL files: applied to a scratch database, errors point at file and line."""

import asyncio
from pathlib import Path

import pytest

from studio.core.errors import SchemaFileError
from studio.core.schema.shadow import desired_catalog, schema_files, split_statements
from studio.core.targets.local import LocalServer


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_files_apply_in_name_order_and_can_use_supabase_auth(local_server: LocalServer, tmp_path: Path) -> None:
    schemas = tmp_path / "supabase" / "schemas"
    _write(schemas, "02_policies.sql", """
        alter table public.notes enable row level security;
        create policy "own notes" on public.notes for select to authenticated
            using ((select auth.uid()) = owner_id);
    """)
    _write(schemas, "01_tables.sql", """
        create table public.notes (
            id bigint generated always as identity primary key,
            owner_id uuid not null references auth.users (id) default auth.uid(),
            body text
        );
    """)
    before = set(local_server.list_databases())
    catalog = asyncio.run(desired_catalog(local_server, schema_files(schemas), base_dir=tmp_path))
    assert "table:public.notes" in catalog
    assert catalog.objects["table:public.notes"].attrs["rls"] is True
    assert 'policy:public.notes."own notes"' in catalog
    # the scratch database is gone afterwards
    assert set(local_server.list_databases()) == before


def test_syntax_error_names_file_and_line(local_server: LocalServer, tmp_path: Path) -> None:
    schemas = tmp_path / "supabase" / "schemas"
    _write(schemas, "01_ok.sql", "create table public.a (id int);\n")
    _write(schemas, "02_bad.sql", "-- café\ncreate table public.b (id int);\n\ncreate tabel public.c (id int);\n")
    with pytest.raises(SchemaFileError) as caught:
        asyncio.run(desired_catalog(local_server, schema_files(schemas), base_dir=tmp_path))
    error = caught.value
    assert error.path == "supabase/schemas/02_bad.sql"
    assert error.line == 4
    assert "syntax error" in error.server_message
    assert "02_bad.sql, line 4" in str(error)


def test_server_error_names_file_and_line(local_server: LocalServer, tmp_path: Path) -> None:
    schemas = tmp_path / "supabase" / "schemas"
    _write(schemas, "01.sql", "create table public.a (id int primary key);\n\n"
                              "create table public.b (\n  id int,\n  kind public.no_such_type\n);\n")
    with pytest.raises(SchemaFileError) as caught:
        asyncio.run(desired_catalog(local_server, schema_files(schemas), base_dir=tmp_path))
    assert caught.value.line == 5  # the line of the type, from the server's error position
    assert 'type "public.no_such_type" does not exist' in caught.value.server_message
    # without a position from the server, the statement's first line
    _write(schemas, "01.sql", "create table public.a (id int primary key);\n\n"
                              "create table public.b (\n  id int,\n  a_id int references public.missing (id)\n);\n")
    with pytest.raises(SchemaFileError) as caught:
        asyncio.run(desired_catalog(local_server, schema_files(schemas), base_dir=tmp_path))
    assert caught.value.line == 3
    assert 'relation "public.missing" does not exist' in caught.value.server_message


def test_split_keeps_dollar_quoted_bodies_whole() -> None:
    text = "create function f() returns int language plpgsql as $$\nbegin\n  return 1; -- ;\nend $$;\nselect 1;"
    statements = split_statements(text)
    assert [s.line for s in statements] == [1, 5]
    assert statements[0].text.endswith("end $$")
