"""`CloudTarget`: a Supabase project's database, reached through the Management API.

SQL goes to `POST /v1/projects/{ref}/database/query`, so no database password and no direct connection
are needed - only the account's token. Every request is one round trip, which shapes the design:

* `fetch` sends one query; `settings` travel in the same request, applied with `set_config(..., true)`
  inside a `DO` block that precedes the query (the request's statements share one implicit transaction).
* `run_transaction` sends the whole migration as one `DO` block that runs each statement with `EXECUTE`
  and, on a failure, re-raises the server's error tagged with the statement's position, so the caller
  learns which statement failed exactly as with a direct connection. One statement failing rolls back
  all of them. `on_statement` is called for every statement as the block is sent: the API does not report
  progress within a request.
* `run_each` sends one request per statement (for `CREATE INDEX CONCURRENTLY`, which cannot run in a
  transaction).

A request whose answer is lost (the connection dropped after it was sent) is never sent again: it is
reported as `ConnectionFailed` saying the outcome is unknown.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from studio.core.errors import (
    ConnectionFailed,
    InternalError,
    MigrationFailed,
    NetworkDown,
    PlatformError,
    SqlError,
    joined_lines,
)
from studio.core.platform.management import ManagementClient
from studio.core.sqltext import quote_literal
from studio.core.targets.base import Row, StatementCallback, Target
from studio.core.words import plural

#: Prefix the API puts before the server's error ("Failed to run sql query: ERROR:  42P01: ...").
_ERROR = re.compile(r"ERROR:\s+(?P<sqlstate>[0-9A-Z]{5}):\s*(?P<message>.*)", re.DOTALL)
#: Tag `run_transaction` puts in front of a re-raised error to say which statement failed.
_TAGGED = re.compile(r"^\[studio statement (?P<index>\d+)\] ?(?P<message>.*)$", re.DOTALL)


class CloudTarget(Target):
    """The database of Supabase project `ref`, through an account's `ManagementClient`.

    The client is shared, not owned: `close()` leaves it open for the caller to close.
    """

    def __init__(self, client: ManagementClient, ref: str, *, name: str | None = None) -> None:
        self._client = client
        self.ref = ref
        self.description = f"Supabase project {name} ({ref})" if name else f"Supabase project {ref}"

    def __repr__(self) -> str:
        return f"<CloudTarget {self.ref}>"

    async def fetch(
        self, sql: str, params: Sequence[Any] | None = None, *, settings: Mapping[str, str] | None = None
    ) -> list[Row]:
        """Run one read query through the API and return its rows as tuples, in column order."""
        query = sql
        if settings:
            if params:
                raise InternalError("A cloud query cannot take both settings and parameters.")
            applied = " ".join(
                f"PERFORM pg_catalog.set_config({quote_literal(k)}, {quote_literal(v)}, true);"
                for k, v in settings.items()
            )
            query = f"DO $studio$BEGIN {applied} END$studio$;\n{sql}"
        body = await self._send(query, params)
        if not isinstance(body, list):
            raise PlatformError(
                "Supabase answered a query with something other than rows.",
                hint="Try again; if it persists, Supabase's API may have changed - update Studio.",
            )
        return [tuple(row.values()) if isinstance(row, dict) else (row,) for row in body]

    async def run_transaction(
        self, statements: Sequence[str], *, on_statement: StatementCallback | None = None
    ) -> None:
        """Run the statements as one all-or-nothing request (see the module's notes)."""
        if not statements:
            return
        block = _transaction_block(statements)
        for index, statement in enumerate(statements):
            if on_statement is not None:
                on_statement(index, statement)
        try:
            await self._send(block, None)
        except SqlError as exc:
            tagged = _TAGGED.match(exc.message)
            index = int(tagged.group("index")) if tagged else len(statements)
            said = tagged.group("message") if tagged else exc.message
            statement = statements[index] if index < len(statements) else "COMMIT"
            where = "The commit" if index >= len(statements) else f"Statement {index + 1} of {len(statements)}"
            raise MigrationFailed(
                f"{where} failed: {said}",
                hint=joined_lines("Nothing was changed: the whole migration was rolled back.", exc.hint),
                statement=statement,
                index=min(index, len(statements)),
                server_message=said,
                sqlstate=exc.sqlstate,
            ) from exc

    async def run_each(
        self, statements: Sequence[str], *, on_statement: StatementCallback | None = None
    ) -> None:
        """Run each statement in a request of its own, stopping at the first failure."""
        for index, statement in enumerate(statements):
            if on_statement is not None:
                on_statement(index, statement)
            try:
                await self._send(statement, None)
            except SqlError as exc:
                done = (
                    f"The {plural(index, 'statement')} before it stayed applied."
                    if index
                    else "Nothing was changed."
                )
                raise MigrationFailed(
                    f"Statement {index + 1} of {len(statements)} failed: {exc.message}",
                    hint=joined_lines(done, exc.hint),
                    statement=statement,
                    index=index,
                    server_message=exc.message,
                    sqlstate=exc.sqlstate,
                ) from exc

    async def close(self) -> None:
        """Nothing to release: the Management API client belongs to the caller."""

    async def _send(self, query: str, params: Sequence[Any] | None) -> Any:
        try:
            response = await self._client.run_query(self.ref, query, parameters=params)
        except NetworkDown as exc:
            raise ConnectionFailed(exc.message, hint=exc.hint) from exc
        try:
            body = response.json() if response.content else []
        except ValueError:
            body = None  # an HTML error page from a proxy, say
        if response.status_code in (200, 201) and body is not None:
            return body
        said = body.get("message", "") if isinstance(body, dict) else ""
        found = _ERROR.search(said)
        if found is None:
            raise self._client.http.error_for(response)
        message, _, rest = found.group("message").partition("\n")
        # The re-raised error of a migration carries empty DETAIL/HINT fields when the original had none.
        advice = []
        for line in rest.splitlines():
            label, _, text = line.partition(":")
            if label in ("DETAIL", "HINT") and text.strip():
                advice.append(f"{label.capitalize()}: {text.strip()}")
        raise SqlError(
            message.strip(),
            hint="\n".join(advice),
            sqlstate=found.group("sqlstate"),
            statement=query,
        )


def _dollar_tag(statements: Sequence[str]) -> str:
    """A dollar-quote tag that appears in none of the statements."""
    while True:
        tag = f"$s{secrets.token_hex(4)}$"
        if not any(tag in statement for statement in statements):
            return tag


def _transaction_block(statements: Sequence[str]) -> str:
    """One `DO` block running every statement, re-raising any error tagged with the statement's index."""
    tag = _dollar_tag(statements)
    body = "\n".join(f"  i := {index}; EXECUTE {tag}{statement}{tag};" for index, statement in enumerate(statements))
    outer = _dollar_tag([*statements, tag])
    return f"""DO {outer}
DECLARE
  i integer := 0;
  state text; msg text; det text; hnt text;
BEGIN
{body}
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
    hnt = PG_EXCEPTION_HINT;
  RAISE EXCEPTION USING ERRCODE = state, MESSAGE = '[studio statement ' || i || '] ' || msg,
    DETAIL = coalesce(det, ''), HINT = coalesce(hnt, '');
END {outer};"""
