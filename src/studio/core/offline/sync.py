"""Sending the outbox to the server: in order, exactly once, conflicts and rejections set aside.

Exactly once
    The server keeps a ledger, `supabase_migrations.studio_applied_edits(key uuid primary key, ...)`, created
    when absent (in the schema of the CLI's migration history, which Studio's schema diff and lints already
    leave alone). Every edit runs as one `DO` block that first inserts its idempotency key into the ledger
    (`on conflict do nothing`) and does nothing more when the key was already there; the key and the edit
    commit in the same transaction. So if Studio dies, or the connection drops, between the server's commit
    and the outbox marking the edit applied, the next sync sends it again and the server skips it: applied
    once, never twice. Once the outbox has marked an edit applied it never sends it again, and its key is
    then deleted from the ledger (`forget_applied`), so the ledger stays small.

Conflicts
    An update or delete only touches the row when every column in the edit's `before` still reads (as text)
    as the user saw it. When it touches nothing, the block finds out why and raises: the row now holds the
    user's values already (fine: applied), the row is there as seen but row level security refused the write
    (42501: rejected), the row differs (`ST409`: conflict), the row is hidden from the role (42501: rejected)
    or gone (`ST410`: a conflict for an update; a delete of a gone row is simply done).

Batches
    Edits go in batches, one transaction each. When edit i fails, the batch is rolled back, edits before i
    are sent again as a batch, edit i is recorded (conflict or rejected) and sending continues after it.
    Transient failures (network, serialization, locks, overload) stop the sync and back off; the edits stay
    pending in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from studio.core.errors import (
    ConnectionFailed,
    MigrationFailed,
    NetworkDown,
    PlatformUnavailable,
    RateLimited,
    SqlError,
    StudioError,
)
from studio.core.offline.outbox import EditKind, Outbox, OutboxEdit, Value
from studio.core.sqltext import qualified, quote_ident, quote_literal
from studio.core.targets.base import Target

__all__ = [
    "CONFLICT_CHANGED",
    "CONFLICT_GONE",
    "LEDGER",
    "NETWORK_ERRORS",
    "SyncReport",
    "edit_statement",
    "ensure_ledger_statements",
    "forget_applied",
    "is_transient",
    "keep_syncing",
    "sync_outbox",
]

#: The server's record of applied idempotency keys.
LEDGER_SCHEMA = "supabase_migrations"
LEDGER_TABLE = "studio_applied_edits"
LEDGER = qualified(LEDGER_SCHEMA, LEDGER_TABLE)

#: SQLSTATEs the edit blocks raise: the row changed since it was read / the row is gone.
CONFLICT_CHANGED = "ST409"
CONFLICT_GONE = "ST410"

#: Errors that mean "the server could not be reached (in time)", not "the server said no".
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionFailed, NetworkDown, PlatformUnavailable, RateLimited, OSError, TimeoutError,
)

_TRANSIENT_CLASSES = ("08", "40", "53", "57", "58")
_TRANSIENT_STATES = frozenset({"55P03", "55006", "55000"})


def is_transient(sqlstate: str | None) -> bool:
    """Whether a server error is worth retrying unchanged (connection, serialization, locks, resources)."""
    code = sqlstate or ""
    return code.startswith(_TRANSIENT_CLASSES) or code in _TRANSIENT_STATES


def ensure_ledger_statements() -> list[str]:
    """Statements that create the ledger when it is absent (harmless when it exists)."""
    return [
        f"create schema if not exists {quote_ident(LEDGER_SCHEMA)}",
        f"create table if not exists {LEDGER} (key uuid primary key, relation text not null, kind text not null,"
        " applied_at timestamptz not null default now())",
        f"revoke all on {LEDGER} from public",
    ]


# -- the SQL of one edit ------------------------------------------------------------------------------


def _literal(edit: OutboxEdit, column: str, value: Value) -> str:
    if value is None:
        return "null"
    try:
        return f"{quote_literal(value)}::{edit.types[column]}"
    except ValueError:
        raise StudioError(f"The value for {column} contains a NUL character, which PostgreSQL cannot store.") from None


def _text(value: Value) -> str:
    return "null" if value is None else quote_literal(value)


def _all(parts: list[str]) -> str:
    return " and ".join(parts) if parts else "true"


def edit_statement(edit: OutboxEdit) -> str:
    """The `DO` block that applies `edit` once (see the module's notes)."""
    table = qualified(edit.schema, edit.table)
    who = edit.view_as.description
    settings = edit.view_as.settings()
    switch = ("perform " + ", ".join(f"pg_catalog.set_config({quote_literal(name)}, {quote_literal(value)}, true)"
                                     for name, value in settings.items()) + ";") if settings else ""
    reset = ("perform pg_catalog.set_config('role', 'none', true),"
             " pg_catalog.set_config('request.jwt.claims', '', true);") if settings else ""
    pk = _all([f"{quote_ident(name)} = {_literal(edit, name, value)}" for name, value in edit.identity.items()])
    seen = _all([f"({quote_ident(name)})::text is not distinct from {_text(value)}"
                 for name, value in edit.before.items()])
    ledger = (f"insert into {LEDGER} (key, relation, kind) values ({quote_literal(edit.key)}::uuid,"
              f" {quote_literal(edit.display_name)}, {quote_literal(edit.kind.value)}) on conflict (key) do nothing;"
              "\n  if not found then return; end if;")

    def refuse(state: str, message: str) -> str:
        return f"raise exception using errcode = {quote_literal(state)}, message = {quote_literal(message)};"

    if edit.kind is EditKind.INSERT:
        if edit.after:
            names = ", ".join(quote_ident(name) for name in edit.after)
            values = ", ".join(_literal(edit, name, value) for name, value in edit.after.items())
            write = f"insert into {table} ({names}) values ({values});"
        else:
            write = f"insert into {table} default values;"
        body = f"{write}\n  {reset}"
    else:
        if edit.kind is EditKind.UPDATE:
            sets = ", ".join(f"{quote_ident(name)} = {_literal(edit, name, value)}"
                             for name, value in edit.after.items())
            write = f"update {table} set {sets} where {pk} and {seen};"
            mine = _all([f"({quote_ident(name)})::text is not distinct from ({_literal(edit, name, value)})::text"
                         for name, value in edit.after.items()])
            done_already = f"if exists (select from {table} where {pk} and {mine}) then {reset} return; end if;"
            verb, gone = "change", refuse(CONFLICT_GONE, "The row was deleted on the server since it was read.")
        else:
            write = f"delete from {table} where {pk} and {seen};"
            done_already = ""
            verb, gone = "delete", "null;  -- already gone: nothing left to do"
        body = f"""{write}
  if not found then
    {done_already}
    if exists (select from {table} where {pk} and {seen}) then
      {refuse('42501', f'Row level security does not let {who} {verb} this row.')}
    end if;
    if exists (select from {table} where {pk}) then
      {refuse(CONFLICT_CHANGED, 'The row changed on the server since it was read.')}
    end if;
    {reset}
    if exists (select from {table} where {pk}) then
      {refuse('42501', f'Row level security hides this row from {who}.')}
    end if;
    {gone}
  end if;
  {reset}"""
    text = f"#variable_conflict use_column\nbegin\n  {ledger}\n  {switch}\n  {body}\nend"
    tag, serial = "$studio_edit$", 0
    while tag in text:
        serial += 1
        tag = f"$studio_edit{serial}$"
    return f"do {tag}\n{text}\n{tag}"


# -- syncing ------------------------------------------------------------------------------------------


@dataclass
class SyncReport:
    """What one sync did. `retry_in` is set (seconds) when a transient failure stopped it; `error` says what."""

    applied: int = 0
    conflicts: int = 0
    rejected: int = 0
    remaining: int = 0
    retry_in: float | None = None
    error: str = ""


class _Transient(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


#: Called with edits the server has just committed, before the outbox marks them applied (for progress).
AfterCommit = Callable[[Sequence[OutboxEdit]], None]


async def _ensure_ledger(target: Target) -> None:
    try:
        await target.run_transaction(ensure_ledger_statements())
    except NETWORK_ERRORS as exc:
        raise _Transient(str(exc)) from exc
    except MigrationFailed as exc:
        if is_transient(exc.sqlstate) or exc.sqlstate in ("23505", "42P07"):  # another client created it meanwhile
            raise _Transient(exc.message) from exc
        raise StudioError(
            f"Studio could not create its record of applied edits ({LEDGER}): {exc.server_message}.",
            hint="The queued edits stay on this computer. Connect as the database owner (postgres) to send them.",
        ) from exc


async def _theirs(target: Target, edit: OutboxEdit) -> dict[str, Value] | None:
    """The row as the edit's role sees it now (None when it sees no row)."""
    names = list(dict.fromkeys([*edit.before, *edit.after]))
    if not names:
        return None
    table = qualified(edit.schema, edit.table)
    pk = _all([f"{quote_ident(name)} = {_literal(edit, name, value)}" for name, value in edit.identity.items()])
    cells = ", ".join(f"({quote_ident(name)})::text" for name in names)
    try:
        rows = await target.fetch(f"select {cells} from {table} where {pk}", settings=edit.view_as.settings())
    except NETWORK_ERRORS as exc:
        raise _Transient(str(exc)) from exc
    except SqlError:
        return None
    if not rows:
        return None
    return {name: (None if value is None else str(value)) for name, value in zip(names, rows[0], strict=True)}


class _Syncer:
    def __init__(self, outbox: Outbox, target: Target, report: SyncReport, after_commit: AfterCommit | None) -> None:
        self.outbox = outbox
        self.target = target
        self.report = report
        self.after_commit = after_commit

    async def apply(self, edits: Sequence[OutboxEdit]) -> None:
        if not edits:
            return
        try:
            await self.target.run_transaction([edit_statement(edit) for edit in edits])
        except NETWORK_ERRORS as exc:
            raise _Transient(str(exc)) from exc
        except MigrationFailed as exc:
            if is_transient(exc.sqlstate):
                raise _Transient(exc.message) from exc
            index = exc.index
            if not 0 <= index < len(edits):  # failed at COMMIT (a deferred constraint): find the edit
                if len(edits) == 1:
                    index = 0
                else:
                    middle = len(edits) // 2
                    await self.apply(edits[:middle])
                    await self.apply(edits[middle:])
                    return
            await self.apply(edits[:index])
            await self.settle(edits[index], exc)
            await self.apply(edits[index + 1:])
            return
        if self.after_commit is not None:
            self.after_commit(edits)
        self.outbox.mark_applied(edits)
        self.report.applied += len(edits)

    async def settle(self, edit: OutboxEdit, exc: MigrationFailed) -> None:
        state = exc.sqlstate or ""
        said = exc.server_message
        if state in (CONFLICT_CHANGED, CONFLICT_GONE):
            theirs = None if state == CONFLICT_GONE else await _theirs(self.target, edit)
            self.outbox.mark_conflict(edit, theirs, said, state)
            self.report.conflicts += 1
        else:
            self.outbox.mark_rejected(edit, said, state)
            self.report.rejected += 1


async def sync_outbox(outbox: Outbox, target: Target, *, batch_size: int = 100,
                      after_commit: AfterCommit | None = None) -> SyncReport:
    """Send every pending edit to `target`, oldest first (see the module's notes), whatever the backoff says.

    Returns what happened; transient failures are reported (`retry_in`), not raised. Raises `StudioError`
    only when the ledger cannot be created (the connection lacks the privilege).
    """
    report = SyncReport()
    syncer = _Syncer(outbox, target, report, after_commit)
    try:
        if outbox.pending(1):
            await _ensure_ledger(target)
            while batch := outbox.pending(batch_size):
                await syncer.apply(batch)
        outbox.note_success()
    except _Transient as exc:
        report.error = exc.message
        report.retry_in = outbox.note_failure(exc.message)
    else:
        with contextlib.suppress(*NETWORK_ERRORS, MigrationFailed):
            await forget_applied(outbox, target)
    report.remaining = outbox.counts().pending
    return report


async def forget_applied(outbox: Outbox, target: Target, *, chunk: int = 1000) -> int:
    """Delete from the server's ledger the keys of edits the outbox has marked applied (never sent again, so
    their keys are no longer needed). Returns how many keys were forgotten."""
    forgotten = 0
    while keys := outbox.ledger_keys(chunk):
        array = quote_literal("{" + ",".join(keys) + "}")
        await target.run_transaction([f"delete from {LEDGER} where key = any({array}::uuid[])"])
        outbox.mark_ledger_cleared(keys)
        forgotten += len(keys)
    return forgotten


async def keep_syncing(outbox: Outbox, target: Target, *, wake: asyncio.Event, idle: float = 60.0,
                       on_report: Callable[[SyncReport], None] | None = None) -> None:
    """Sync now, then again after the backoff when a transient failure stopped it, after `idle` seconds, or
    when `wake` is set (a new edit, the network came back). Runs until cancelled."""
    while True:
        wake.clear()
        report = await sync_outbox(outbox, target)
        if on_report is not None:
            on_report(report)
        delay = report.retry_in if report.retry_in is not None else idle
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), delay)
