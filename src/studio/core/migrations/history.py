"""The Supabase CLI's migration history table, `supabase_migrations.schema_migrations`.

The CLI creates it as `(version text NOT NULL PRIMARY KEY, statements text[], name text)`; newer CLIs add
columns (`created_by`, `idempotency_key`, ...). Studio creates the table the same way when it is absent,
writes only `version`, `statements` and `name`, and reads only those, so either tool can continue where
the other left off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from studio.core.migrations.files import version_key
from studio.core.sqltext import qualified, quote_ident, quote_literal, quote_text_array
from studio.core.targets.base import Target

#: The schema of the history table.
HISTORY_SCHEMA = "supabase_migrations"
#: The history table's name inside `HISTORY_SCHEMA`.
HISTORY_TABLE = "schema_migrations"

_TABLE = qualified(HISTORY_SCHEMA, HISTORY_TABLE)


@dataclass(frozen=True)
class HistoryRow:
    """One applied migration as recorded in the database.

    `statements` is None when the row has none recorded (rows written by old CLIs, or by
    `supabase migration repair`); `name` is None when the row has no name.
    """

    version: str
    name: str | None = None
    statements: tuple[str, ...] | None = field(default=None, repr=False)


def ensure_history_statements() -> list[str]:
    """Statements that create the history table when it is absent (and are harmless when it exists).

    Tables made by old CLIs have only `version`; the two columns Studio writes are added when missing.
    """
    return [
        f"CREATE SCHEMA IF NOT EXISTS {quote_ident(HISTORY_SCHEMA)}",
        f"CREATE TABLE IF NOT EXISTS {_TABLE} (version text NOT NULL PRIMARY KEY, statements text[], name text)",
        f"ALTER TABLE {_TABLE} ADD COLUMN IF NOT EXISTS statements text[]",
        f"ALTER TABLE {_TABLE} ADD COLUMN IF NOT EXISTS name text",
    ]


def insert_history_statement(version: str, name: str, statements: Sequence[str]) -> str:
    """The INSERT that records a migration: literal SQL (it runs inside the migration's script).

    Only `version`, `statements` and `name` are written; columns newer CLIs add keep their defaults.
    """
    return (
        f"INSERT INTO {_TABLE} (version, statements, name) VALUES "
        f"({quote_literal(version)}, {quote_text_array(list(statements))}, {quote_literal(name)})"
    )


_TABLE_QUERY = f"""
SELECT t.oid IS NOT NULL,
       coalesce((SELECT array_agg(a.attname::text) FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped), '{{}}'::text[])
FROM (SELECT pg_catalog.to_regclass({quote_literal(_TABLE)}) AS oid) AS t
"""


async def read_history(target: Target) -> list[HistoryRow]:
    """Every row of the history table, oldest version first; [] when the table does not exist.

    Columns an old table lacks read as None. Raises what `target.fetch` raises (`SqlError`,
    `ConnectionFailed`) when the table exists but cannot be read.
    """
    rows = await target.fetch(_TABLE_QUERY)
    exists, columns = bool(rows[0][0]), set(rows[0][1] or ())
    if not exists:
        return []
    statements = "statements" if "statements" in columns else "NULL::text[]"
    name = "name" if "name" in columns else "NULL::text"
    found = await target.fetch(f"SELECT version, {statements}, {name} FROM {_TABLE}")
    history = [
        HistoryRow(
            version=str(version),
            name=None if row_name is None else str(row_name),
            statements=None if recorded is None else tuple("" if s is None else str(s) for s in recorded),
        )
        for version, recorded, row_name in found
    ]
    history.sort(key=lambda r: version_key(r.version))
    return history
