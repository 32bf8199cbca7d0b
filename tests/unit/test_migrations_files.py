"""Migration files without a database: names, versions, listing, atomic writes, statement comparison."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pglast import parser as pg_parser

from studio.core.errors import WorkspaceError
from studio.core.migrations import (
    ensure_history_statements,
    insert_history_statement,
    list_migrations,
    migration_path,
    new_version,
    pending_migrations_path,
    read_migration,
    sanitise_name,
    write_atomic,
)
from studio.core.migrations.files import StagedFile
from studio.core.migrations.status import normalised_statements

NOON = datetime(2024, 5, 21, 12, 0, 0, tzinfo=UTC)


# -- names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Add todos", "add_todos"),
        ("add-todos.v2", "add_todos_v2"),
        ("'; DROP TABLE users; --", "drop_table_users"),
        ('Robert"); --', "robert"),
        ("Café Ünïcödé", "cafe_unicode"),
        ("名前", "migration"),
        ("", "migration"),
        ("  __x__  ", "x"),
        ("../../etc/passwd", "etc_passwd"),
        ("a" * 300, "a" * 100),
    ],
)
def test_hostile_names_become_safe_file_names_and_the_person_is_told(given: str, expected: str) -> None:
    name = sanitise_name(given)
    assert name.value == expected
    assert name.changed
    assert repr(given) in name.notice and repr(expected) in name.notice
    path = migration_path(Path("/ws"), "20240521120000", name.value)
    assert path.parent == Path("/ws/supabase/migrations")
    assert path.name == f"20240521120000_{expected}.sql"


@pytest.mark.parametrize("given", ["add_todos", "init", "v2_add__users", "_leading"])
def test_valid_names_are_kept_as_given_without_a_notice(given: str) -> None:
    name = sanitise_name(given)
    assert name.value == given
    assert not name.changed
    assert name.notice == ""


def test_migration_path_refuses_unsanitised_names() -> None:
    with pytest.raises(ValueError):
        migration_path(Path("/ws"), "20240521120000", "../evil")
    with pytest.raises(ValueError):
        migration_path(Path("/ws"), "2024-05-21", "ok")


def test_pending_migrations_file_is_at_the_workspace_root(tmp_path: Path) -> None:
    assert pending_migrations_path(tmp_path) == tmp_path / "pending_migrations.sql"


# -- versions -----------------------------------------------------------------------------------------


def test_new_version_is_the_utc_time_to_the_second() -> None:
    assert new_version([], now=NOON) == "20240521120000"
    # a local time is converted to UTC
    from datetime import timedelta, timezone

    paris = NOON.astimezone(timezone(timedelta(hours=2)))
    assert new_version([], now=paris) == "20240521120000"
    assert len(new_version()) == 14


def test_two_versions_in_the_same_second_are_distinct_and_increasing() -> None:
    first = new_version([], now=NOON)
    second = new_version([first], now=NOON)
    third = new_version([first, second], now=NOON)
    assert (first, second, third) == ("20240521120000", "20240521120001", "20240521120002")


def test_new_version_passes_the_newest_known_version_even_from_a_clock_ahead() -> None:
    # a colleague's clock (or a remote row) is an hour ahead: the new version still sorts after it
    assert new_version(["20240521130000", "20240101000000"], now=NOON) == "20240521130001"
    # rolling over midnight and the year is real time arithmetic, not +1 on the number
    assert new_version(["20241231235959"], now=NOON) == "20250101000000"
    # older versions do not matter
    assert new_version(["20240101000000"], now=NOON) == "20240521120000"
    # a hand-made version that is not a timestamp but sorts after now: the next number
    assert new_version(["99999999999999"], now=NOON) == "100000000000000"
    assert new_version(["0001", "not-a-version"], now=NOON) == "20240521120000"


# -- listing and reading ------------------------------------------------------------------------------


def test_listing_follows_the_cli_naming_and_reports_other_names(tmp_path: Path) -> None:
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    for name in ["20240102000000_second.sql", "20240101000000_first.sql", "0001_handmade.sql",
                 "notes.txt", "20240103_no_underscore_time.sql.bak", "init.sql", ".gitkeep"]:
        (folder / name).write_text("select 1;", encoding="utf-8")
    (folder / "20240104000000_a_folder.sql").mkdir()
    listing = list_migrations(tmp_path)
    assert [(f.version, f.name) for f in listing.files] == [
        ("0001", "handmade"), ("20240101000000", "first"), ("20240102000000", "second")]
    assert listing.ignored == ["20240103_no_underscore_time.sql.bak", "20240104000000_a_folder.sql/", "init.sql",
                               "notes.txt"]
    assert all("ignored" in notice and "<14-digit UTC timestamp>_<name>.sql" in notice
               for notice in listing.notices)
    assert listing.files[1].read() == "select 1;"


def test_a_workspace_without_migrations_lists_none(tmp_path: Path) -> None:
    listing = list_migrations(tmp_path)
    assert listing.files == [] and listing.ignored == []


def test_unreadable_migrations_say_what_to_do(tmp_path: Path) -> None:
    bad = tmp_path / "20240101000000_latin1.sql"
    bad.write_bytes("select 'café';".encode("latin-1"))
    with pytest.raises(WorkspaceError) as caught:
        read_migration(bad)
    assert "not UTF-8" in caught.value.message and "UTF-8" in caught.value.hint
    with pytest.raises(WorkspaceError) as missing:
        read_migration(tmp_path / "missing.sql")
    assert "could not be read" in missing.value.message
    (tmp_path / "supabase").mkdir()
    (tmp_path / "supabase" / "migrations").write_text("a file, not a folder")
    with pytest.raises(WorkspaceError):
        list_migrations(tmp_path)


# -- writing ------------------------------------------------------------------------------------------


def test_write_atomic_creates_folders_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "supabase" / "migrations" / "20240101000000_x.sql"
    write_atomic(path, "create table t ();\n-- ünï\r\n")
    assert path.read_bytes() == "create table t ();\n-- ünï\r\n".encode()
    write_atomic(path, "second")
    assert path.read_text(encoding="utf-8") == "second"
    assert sorted(os.listdir(path.parent)) == [path.name]


def test_a_discarded_staged_file_leaves_the_workspace_exactly_as_before(tmp_path: Path) -> None:
    path = tmp_path / "supabase" / "migrations" / "20240101000000_x.sql"
    staged = StagedFile(path, "select 1;")
    assert staged.temp_path.exists() and not path.exists()
    assert list_migrations(tmp_path).files == []  # the hidden temporary file is not a migration
    staged.discard()
    assert list(tmp_path.iterdir()) == []  # the folders made for it are gone too
    staged.discard()  # twice is fine


def test_a_staged_file_keeps_folders_it_did_not_create(tmp_path: Path) -> None:
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    staged = StagedFile(folder / "20240101000000_x.sql", "x")
    staged.discard()
    assert folder.is_dir() and list(folder.iterdir()) == []
    committed = StagedFile(folder / "20240101000000_y.sql", "y")
    committed.commit()
    assert [p.name for p in folder.iterdir()] == ["20240101000000_y.sql"]
    with pytest.raises(ValueError):
        committed.commit()


def test_an_unwritable_workspace_is_a_workspace_error(tmp_path: Path) -> None:
    (tmp_path / "supabase").write_text("a file where the folder should be")
    with pytest.raises(WorkspaceError) as caught:
        write_atomic(tmp_path / "supabase" / "migrations" / "20240101000000_x.sql", "x")
    assert "Could not create the folder" in caught.value.message
    assert "writable" in caught.value.hint
    assert (tmp_path / "supabase").read_text() == "a file where the folder should be"


# -- history SQL --------------------------------------------------------------------------------------


def test_history_statements_are_the_cli_table_and_an_insert_of_literals() -> None:
    ddl = ensure_history_statements()
    assert ddl[0] == "CREATE SCHEMA IF NOT EXISTS supabase_migrations"
    assert ddl[1] == ("CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations"
                      " (version text NOT NULL PRIMARY KEY, statements text[], name text)")
    hostile = ["create table \"it's\" (a text default 'O''Brien')", "select $$;'$$"]
    insert = insert_history_statement("20240101000000", "it_s", hostile)
    # one statement, which the server's parser reads as an INSERT of exactly three columns
    parsed = pg_parser.parse_sql(insert)
    assert len(parsed) == 1
    assert insert.startswith(
        "INSERT INTO supabase_migrations.schema_migrations (version, statements, name) VALUES ('20240101000000', ")
    assert "'create table \"it''s\" (a text default ''O''''Brien'')'" in insert
    assert insert_history_statement("1", "x", []).endswith("ARRAY[]::text[], 'x')")


# -- comparing statements -----------------------------------------------------------------------------


def test_statement_comparison_ignores_formatting_but_not_meaning() -> None:
    recorded = ["CREATE TABLE public.todos (\n    id bigint NOT NULL,\n    title text DEFAULT 'Hi'\n)",
                "CREATE INDEX i ON public.todos USING btree (title)"]
    file_text = (
        "-- header\nSET lock_timeout = '5s';\nset statement_timeout='5min';\n\n"
        "create table PUBLIC.Todos (id bigint not null, /* c */ title text default 'Hi');;\n"
        "create index i on public.todos using btree (title)\n"
    )
    flat = [s for r in recorded for s in normalised_statements(r)]
    assert normalised_statements(file_text) == flat
    # a different literal or quoted name is a different statement
    assert normalised_statements(file_text.replace("'Hi'", "'hi'")) != flat
    assert normalised_statements(file_text.replace("PUBLIC.Todos", 'public."Todos"')) != flat
    # text the scanner cannot read is still compared, whitespace collapsed
    assert normalised_statements("select 'unterminated\n  x") == ["select 'unterminated x"]
