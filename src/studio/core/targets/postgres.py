"""`PostgresTarget`: a database reached through a PostgreSQL connection string.

It serves self-hosted Supabase, the Supabase CLI's local stack, a project's direct or pooled
connection, and Studio's own embedded server (see `studio.core.targets.local`).

One connection is opened on first use, in autocommit mode, and shared by every call; an
`asyncio.Lock` makes calls take turns so their statements never interleave. Prepared statements are
turned off, so transaction-mode poolers (Supavisor, PgBouncer) work too.

Passwords never leave this module: `description` is built from the host, port and database name, and
every error message that could echo the connection string has the password blanked out first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg.conninfo import conninfo_to_dict

from studio.core.errors import ConnectionFailed, InternalError, MigrationFailed, SqlError, StudioError, joined_lines
from studio.core.targets.base import Row, StatementCallback, Target

__all__ = ["CONNECT_TIMEOUT_SECONDS", "PostgresTarget", "describe_conninfo", "redact"]

#: Seconds to wait for a server to answer a connection attempt, unless the string says otherwise.
CONNECT_TIMEOUT_SECONDS = 10

#: Shown in `pg_stat_activity`, so people can see which sessions are Studio's.
APPLICATION_NAME = "Studio"

_MASK = "********"

# SQLSTATEs that mean the session is gone (class 08 is "connection exception" and is matched apart).
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})  # admin/crash shutdown, cannot connect now


def _passwords_in(conninfo: str) -> list[str]:
    """Every spelling of a password found in `conninfo`, even when it does not parse."""
    found: list[str] = []
    try:
        password = conninfo_to_dict(conninfo).get("password")
    except psycopg.Error:
        password = None
    if password:
        found.append(str(password))
    # URL form: scheme://user:password@host... (raw, possibly percent-encoded).
    url = re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://[^@/?#]*?:([^@/?#]*)@", conninfo)
    if url and url.group(1):
        found.append(url.group(1))
        # A raw password with '@' or '/' in it would end the match early; take everything up to
        # the last '@' before the path as well.
        userinfo = conninfo.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[0]
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
    # key=value form: password=secret or password='sec ret'.
    for quoted, bare in re.findall(r"password\s*=\s*(?:'((?:[^'\\]|\\.)*)'?|([^\s&]+))", conninfo):
        if quoted or bare:
            found.append(quoted or bare)
    # Longest first, so a password containing another one is masked whole.
    return sorted({p for p in found if p}, key=len, reverse=True)


def redact(text: str, conninfo: str) -> str:
    """`text` with every password from `conninfo` (and the string itself, if it holds one) masked."""
    secrets = _passwords_in(conninfo)
    if secrets and conninfo.strip() and conninfo.strip() in text:
        text = text.replace(conninfo.strip(), "<connection string>")
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return text


def describe_conninfo(conninfo: str) -> str:
    """A name for people: "host:port/dbname", or "local socket/dbname". Never contains a password.

    Raises `psycopg.ProgrammingError` if `conninfo` is not a valid connection string.
    """
    params = conninfo_to_dict(conninfo)
    host = str(params.get("host") or params.get("hostaddr") or "")
    port = str(params.get("port") or "5432")
    dbname = str(params.get("dbname") or params.get("user") or "default database")
    if not host or host.startswith(("/", "@")):
        return f"local socket/{dbname}"
    return f"{host}:{port}/{dbname}"


def _server_said(exc: psycopg.Error) -> str:
    """The server's (or libpq's) main message, without psycopg's decorations."""
    primary = exc.diag.message_primary
    return primary if primary else str(exc).strip()


def _server_advice(exc: psycopg.Error) -> str:
    """The server's DETAIL and HINT lines, when it sent any."""
    parts = [f"Detail: {exc.diag.message_detail}" if exc.diag.message_detail else "",
             f"Hint: {exc.diag.message_hint}" if exc.diag.message_hint else ""]
    return "\n".join(part for part in parts if part)



def _is_local(params: Mapping[str, Any]) -> bool:
    """Whether connection parameters lead to a server on this computer: no host (libpq's default socket), a
    socket directory, or a loopback address (every one of them, when several hosts are given)."""
    hosts = str(params.get("hostaddr") or params.get("host") or os.environ.get("PGHOSTADDR")
                or os.environ.get("PGHOST") or "")
    return all(not host or host.startswith(("/", "@")) or host in {"localhost", "127.0.0.1", "::1"}
               for host in hosts.split(","))


class _StatementFailed(Exception):
    """Carries a statement's failure out of the transaction block (which then rolls back)."""

    def __init__(self, index: int, statement: str, error: psycopg.Error) -> None:
        super().__init__(index)
        self.index = index
        self.statement = statement
        self.error = error


class PostgresTarget(Target):
    """A PostgreSQL database reached through a connection string (URL or libpq key=value form).

    The connection is opened lazily, on first use; `open()` or the `connect()` factory open it at
    once so a bad string is reported early. Use it as an async context manager, or call `close()`.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        description: str | None = None,
        connect_timeout: int = CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        """Prepare a target; nothing is connected yet.

        Raises `ConnectionFailed` at once if `conninfo` is not a valid connection string.
        """
        self._conninfo = conninfo
        problem: ConnectionFailed | None = None
        try:
            params = conninfo_to_dict(conninfo)
        except psycopg.Error as exc:
            problem = ConnectionFailed(
                "The connection string is not valid.",
                hint=joined_lines(
                    "Copy it again from where it came from (for Supabase: the Connect button of the"
                    " project). Special characters in the password must be percent-encoded in a URL.",
                    f"Details: {redact(str(exc).strip(), conninfo)}",
                ),
            )
        if problem is not None:
            raise problem
        self.description = redact(description, conninfo) if description else describe_conninfo(conninfo)
        self._overrides: dict[str, Any] = {}
        self._connect_timeout = connect_timeout
        self._local = _is_local(params)
        if "connect_timeout" not in params:
            self._overrides["connect_timeout"] = connect_timeout
        if "application_name" not in params:
            self._overrides["application_name"] = APPLICATION_NAME
        self._conn: psycopg.AsyncConnection[Row] | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"

    # -- lifetime ---------------------------------------------------------------------------------

    @classmethod
    async def connect(cls, conninfo: str, *, description: str | None = None) -> Self:
        """Make a target and open its connection now (raises `ConnectionFailed` if that fails)."""
        target = cls(conninfo, description=description)
        await target.open()
        return target

    async def open(self) -> None:
        """Open the connection now instead of on first use; raises `ConnectionFailed`."""
        async with self._lock:
            await self._connection()

    async def close(self) -> None:
        """Close the connection. Safe to call twice; the target may not be used afterwards."""
        async with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close()

    async def __aenter__(self) -> Self:
        """Return the target itself (the connection still opens on first use)."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the target."""
        await self.close()

    # -- Target -----------------------------------------------------------------------------------

    async def fetch(
        self, sql: str, params: Sequence[Any] | None = None, *, settings: Mapping[str, str] | None = None
    ) -> list[Row]:
        """Run one query in its own short transaction and return every row ([] if it returns none).

        `params` fill `%s` placeholders (bound by the server); without `params` the text is sent
        as is, so `%` needs no escaping. `settings` (name -> value) are set for this transaction
        only, before the query. Raises `SqlError` when the server rejects the query (or a setting)
        and `ConnectionFailed` when the server cannot be reached.
        """
        async with self._lock:
            conn = await self._connection()
            failure: StudioError
            try:
                async with conn.transaction():
                    for name, value in (settings or {}).items():
                        await conn.execute("select set_config(%s, %s, true)", [name, value])
                    cursor = await conn.execute(sql, params)
                    rows = await cursor.fetchall() if cursor.description is not None else []
                return rows
            except psycopg.Error as exc:
                failure = await self._failure(exc, conn) or self._sql_error(exc, sql)
            raise failure

    @property
    def concurrent_reads(self) -> bool:
        """Whether `fetch_concurrently` is worth it: the server is on this computer (a unix socket or a loopback
        address), where one more connection costs a few milliseconds. Over a network it would cost a round
        trip or more (with TLS, several) and a connection slot of a remote server."""
        return self._local

    async def fetch_concurrently(
        self,
        queries: Sequence[str],
        *,
        settings: Mapping[str, str] | None = None,
        on_result: Callable[[int, list[Row]], None] | None = None,
    ) -> list[list[Row]]:
        """Run read queries at the same time and return each one's rows, in order: the first on this target's
        connection, each other one on a connection of its own (opened for it, closed after), so the server
        works on them on several cores. Each runs in its own transaction, as `fetch` runs it, so they may see
        the database at slightly different moments: a caller that needs one moment must check for changes
        (introspection's fingerprint does). If another connection cannot be opened (the server is out of
        connection slots), its query runs on this target's connection after the first.

        `on_result(number, rows)` is called as each query's rows arrive (`number` is its place in `queries`),
        so a caller can work on them while the others still run. Raises as `fetch` (or what `on_result`
        raised), once every query has ended.
        """

        async def run(number: int, query: str) -> list[Row]:
            if number == 0:
                rows = await self.fetch(query, settings=settings)
            else:
                helper = PostgresTarget(self._conninfo, description=self.description,
                                        connect_timeout=self._connect_timeout)
                try:
                    rows = await helper.fetch(query, settings=settings)
                except ConnectionFailed:
                    rows = await self.fetch(query, settings=settings)  # no slot for another connection
                finally:
                    await helper.close()
            if on_result is not None:
                on_result(number, rows)
            return rows

        results = await asyncio.gather(*(run(number, query) for number, query in enumerate(queries)),
                                       return_exceptions=True)
        rows: list[list[Row]] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            rows.append(result)
        return rows

    async def run_transaction(
        self, statements: Sequence[str], *, on_statement: StatementCallback | None = None
    ) -> None:
        """Run `statements` in order in one transaction; commit only if every one succeeds.

        Each item is sent on its own (so the failing one is known) as plain SQL without parameters.
        On failure the transaction is rolled back and `MigrationFailed` is raised with the index of
        the failing statement; an error raised by the server at COMMIT (a deferred constraint) is
        reported with `index == len(statements)` and `statement == "COMMIT"`. If the connection is
        lost, `ConnectionFailed` is raised instead.
        """
        async with self._lock:
            conn = await self._connection()
            failure: StudioError
            committing = False
            try:
                async with conn.transaction():
                    for index, statement in enumerate(statements):
                        if on_statement is not None:
                            on_statement(index, statement)
                        try:
                            await conn.execute(statement)
                        except psycopg.Error as exc:
                            raise _StatementFailed(index, statement, exc) from exc
                    committing = True
                return
            except _StatementFailed as failed:
                failure = await self._failure(failed.error, conn) or self._migration_failed(
                    failed.error, failed.statement, failed.index, len(statements),
                    "Nothing was changed: the whole migration was rolled back.",
                )
            except psycopg.Error as exc:
                lost = await self._failure(exc, conn, during_commit=committing)
                if lost is not None:
                    failure = lost
                elif committing:
                    failure = self._migration_failed(
                        exc, "COMMIT", len(statements), len(statements),
                        "Nothing was changed: the whole migration was rolled back.",
                    )
                else:
                    failure = self._sql_error(exc, "BEGIN")
            raise failure

    async def run_each(
        self, statements: Sequence[str], *, on_statement: StatementCallback | None = None
    ) -> None:
        """Run statements one by one, each committed on its own (no surrounding transaction).

        For statements that refuse to run in a transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
        Stops at the first failure with `MigrationFailed`; the statements before it stay applied.
        """
        async with self._lock:
            conn = await self._connection()
            failure: StudioError | None = None
            for index, statement in enumerate(statements):
                if on_statement is not None:
                    on_statement(index, statement)
                try:
                    await conn.execute(statement)
                except psycopg.Error as exc:
                    done = (
                        f"The {index} statement(s) before it were applied and stay applied."
                        if index
                        else "Nothing was changed."
                    )
                    failure = await self._failure(exc, conn) or self._migration_failed(
                        exc, statement, index, len(statements), done
                    )
                    break
            if failure is not None:
                raise failure

    # -- internals --------------------------------------------------------------------------------

    async def _connection(self) -> psycopg.AsyncConnection[Row]:
        """The open connection, opening (or reopening after a loss) it if needed. Hold the lock."""
        if self._closed:
            raise InternalError(f"The connection to {self.description} was already closed.")
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        problem: ConnectionFailed
        connecting = asyncio.ensure_future(psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, prepare_threshold=None, **self._overrides
        ))
        try:
            # Shielded: a job cancelled half-way through connecting would otherwise leave the driver's
            # connection open and unowned. The cancelled job finishes connecting, closes, then ends.
            conn = await asyncio.shield(connecting)
            self._conn = conn
            return conn
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await (await connecting).close()
            raise
        except psycopg.Error as exc:
            problem = self._connect_error(exc)
        # Raised outside the `except` block so the driver's error (which may quote the connection
        # string) is not chained to ours.
        raise problem

    def _connect_error(self, exc: psycopg.Error) -> ConnectionFailed:
        """Turn a failed connection attempt into a plain message and what to do about it."""
        said = redact(str(exc).strip(), self._conninfo)
        text = said.lower()
        where = self.description
        if isinstance(exc, psycopg.ProgrammingError):
            message = "The connection string is not valid."
            hint = (
                "Copy it again from where it came from; special characters in a URL's password must be"
                " percent-encoded."
            )
        elif "password authentication failed" in text or "no password supplied" in text or (
            "authentication failed" in text
        ):
            message = f"{where} refused the user name or password."
            hint = (
                "Check the user and password in the connection string. For a Supabase project the"
                " database password can be reset under Project Settings > Database."
            )
        elif any(s in text for s in ("failed to resolve host", "could not translate host name",
                                      "name or service not known", "nodename nor servname")):
            message = f"The server name of {where} could not be found."
            hint = "Check the host name for typing mistakes and that this computer is online."
        elif "connection refused" in text or "no such file or directory" in text:
            message = f"No database server is answering at {where}."
            hint = "Check that the server is running and that the host and port are right."
        elif "timeout" in text or "timed out" in text:
            message = f"The database server at {where} did not answer in time."
            hint = (
                "Check this computer's network connection; a firewall may be blocking the port. Some"
                " networks cannot reach IPv6-only hosts: try the project's connection pooler instead."
            )
        elif "database" in text and "does not exist" in text:
            message = f"The database named in the connection string does not exist ({where})."
            hint = "Check the database name at the end of the connection string (usually 'postgres')."
        elif "role" in text and "does not exist" in text:
            message = f"The user named in the connection string does not exist on {where}."
            hint = (
                "Check the user name in the connection string (for Supabase: 'postgres', or"
                " 'postgres.<project ref>' through the pooler)."
            )
        elif "too many" in text or "remaining connection slots" in text:
            message = f"{where} has no free connections."
            hint = (
                "Close other programs connected to it or try again later; for Supabase, use the"
                " connection pooler."
            )
        elif "pg_hba.conf" in text:
            message = f"{where} does not accept connections from this computer with these settings."
            hint = "Ask the server's administrator to allow this computer, or try with sslmode=require."
        elif "ssl" in text:
            message = f"A secure (SSL) connection to {where} could not be set up."
            hint = "Check the sslmode setting in the connection string."
        else:
            message = f"Could not connect to {where}."
            hint = "Check the connection string and that the server is running and reachable."
        return ConnectionFailed(message, hint=joined_lines(hint, f"Details: {said}"))

    async def _failure(
        self, exc: psycopg.Error, conn: psycopg.AsyncConnection[Row], *, during_commit: bool = False
    ) -> ConnectionFailed | None:
        """If `exc` means the connection is gone, forget it and return `ConnectionFailed`."""
        sqlstate = exc.sqlstate or ""
        lost = (
            conn.closed
            or conn.broken
            or sqlstate.startswith("08")
            or sqlstate in _SESSION_ENDED
            or (isinstance(exc, psycopg.OperationalError) and not sqlstate)
        )
        if not lost:
            return None
        if self._conn is conn:
            self._conn = None
        await conn.close()
        if during_commit:
            hint = (
                "The connection was lost while committing, so it is not known whether the changes were"
                " saved. Reconnect and look at the database before trying again."
            )
        else:
            hint = (
                "Nothing in progress was saved. Check that the server is running and reachable, then"
                " try again."
            )
        return ConnectionFailed(
            f"The connection to {self.description} was lost.",
            hint=joined_lines(hint, f"Details: {redact(str(exc).strip(), self._conninfo)}"),
        )

    @staticmethod
    def _sql_error(exc: psycopg.Error, sql: str) -> SqlError:
        """The server rejected a query."""
        position = exc.diag.statement_position
        return SqlError(
            _server_said(exc),
            hint=_server_advice(exc),
            sqlstate=exc.sqlstate,
            statement=sql,
            position=int(position) if position else None,
        )

    @staticmethod
    def _migration_failed(
        exc: psycopg.Error, statement: str, index: int, total: int, outcome: str
    ) -> MigrationFailed:
        """A statement of a migration failed."""
        said = _server_said(exc)
        where = "The commit" if statement == "COMMIT" and index == total else f"Statement {index + 1} of {total}"
        return MigrationFailed(
            f"{where} failed: {said}",
            hint=joined_lines(outcome, _server_advice(exc)),
            statement=statement,
            index=index,
            server_message=said,
            sqlstate=exc.sqlstate,
        )

