"""The desired schema: apply the workspace's SQL files to a scratch ("shadow") database and read it back.

The shadow database is a fresh copy of the local server's Supabase template, so files may use `auth.uid()`,
the API roles and the `extensions` schema as they would on a real project. Files run in name order, one
statement at a time, so an error points at its file and line with the server's own message.
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pglast
import psycopg

from studio.core.errors import SchemaFileError, WorkspaceError
from studio.core.schema.catalog import Catalog
from studio.core.schema.introspect import introspect
from studio.core.targets.local import LocalServer


@dataclass(frozen=True)
class SqlStatement:
    """One statement of a file, with where it starts (1-based line) and its offset in the file's text."""

    text: str
    line: int
    offset: int


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def split_statements(text: str, path: str = "<sql>") -> list[SqlStatement]:
    """Split SQL text into statements with PostgreSQL's own parser; a syntax error names its line."""
    try:
        raw = pglast.parse_sql(text)
    except pglast.parser.ParseError as exc:
        message = str(exc.args[0]) if exc.args else str(exc)
        offset = int(exc.args[1]) if len(exc.args) > 1 else 0
        line = _line_of(text, offset)
        raise SchemaFileError(
            f"{path}, line {line}: {message}",
            hint="Fix the SQL at that line, then try again.",
            path=path, line=line, server_message=message,
        ) from None
    out = []
    for stmt in raw:
        start = stmt.stmt_location or 0
        length = stmt.stmt_len or (len(text) - start)
        body = text[start:start + length].strip()
        if body:
            out.append(SqlStatement(text=body, line=_line_of(text, start), offset=start))
    return out


def schema_files(schemas_dir: Path) -> list[Path]:
    """The `.sql` files of a schemas folder, in the order they are applied, as the Supabase CLI does.

    That is the order of `[db.migrations] schema_paths` in `supabase/config.toml` when it is set (each
    entry a path or glob relative to the `supabase` folder; a glob's matches by name; a file listed twice
    applied once), else every file of the folder by name.
    """
    order = schema_paths(schemas_dir.parent)
    if order is None:
        if not schemas_dir.is_dir():
            return []
        return sorted(p for p in schemas_dir.glob("*.sql") if p.is_file())
    found: list[Path] = []
    for pattern in order:
        for path in sorted(schemas_dir.parent.glob(pattern.removeprefix("./"))):
            if path.is_file() and path not in found:
                found.append(path)
    return found


def schema_paths(supabase_dir: Path) -> list[str] | None:
    """`[db.migrations] schema_paths` of `supabase/config.toml`, or None when it is not set."""
    config = supabase_dir / "config.toml"
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise WorkspaceError(f"{config} cannot be read: {exc}.",
                             hint="Fix the file; the Supabase CLI reads it too.") from exc
    paths = data.get("db", {}).get("migrations", {}).get("schema_paths")
    if paths is None:
        return None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise WorkspaceError(f"{config}: [db.migrations] schema_paths must be a list of paths.",
                             hint='For example: schema_paths = ["./schemas/*.sql"]')
    return paths


def _read(path: Path, display: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"Could not read {display}: {exc}",
                             hint="Check that the file exists and is UTF-8 text.") from None


async def _apply_text(conn: psycopg.AsyncConnection[tuple[object, ...]], text: str, display: str) -> None:
    for statement in split_statements(text, display):
        try:
            await conn.execute(statement.text.encode("utf-8"))
        except psycopg.Error as exc:
            said = exc.diag.message_primary or str(exc).strip()
            line = statement.line
            position = exc.diag.statement_position
            if position:
                line = _line_of(text, statement.offset + int(position) - 1)
            detail = f" ({exc.diag.message_detail})" if exc.diag.message_detail else ""
            hint = exc.diag.message_hint or "Fix the statement at that line, then try again."
            raise SchemaFileError(f"{display}, line {line}: {said}{detail}", hint=hint, path=display, line=line,
                                  server_message=said) from None


async def catalog_of_sources(
    server: LocalServer, sources: Sequence[tuple[str, str]], *, include_schemas: Sequence[str] | None = None
) -> Catalog:
    """The catalog that SQL texts describe, built in a scratch database that is dropped afterwards.

    `sources` are (name shown in errors, SQL text) pairs, applied in order. Raises `SchemaFileError`
    naming the source and line when a statement fails.
    """
    name = await asyncio.to_thread(server.create_database)
    try:
        uri = await asyncio.to_thread(server.uri, name)
        async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as conn:
            await conn.execute("SET client_min_messages = warning")
            for display, text in sources:
                await _apply_text(conn, text, display)
        target = server.local_target(name)
        try:
            return await introspect(target, include_schemas=include_schemas)
        finally:
            await target.close()
    finally:
        await asyncio.to_thread(server.drop_database, name)


async def desired_catalog(
    server: LocalServer,
    files: Sequence[Path],
    *,
    base_dir: Path | None = None,
    include_schemas: Sequence[str] | None = None,
) -> Catalog:
    """The catalog that schema `files` describe. `base_dir` makes file names in errors relative."""
    sources = []
    for path in files:
        display = str(path.relative_to(base_dir)) if base_dir and path.is_relative_to(base_dir) else str(path)
        sources.append((display, _read(path, display)))
    return await catalog_of_sources(server, sources, include_schemas=include_schemas)
