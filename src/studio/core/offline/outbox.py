"""The outbox: edits saved on this computer until the server has them, in the project's offline file.

Each edit is one row's change - an update, an insert or a delete - with an idempotency key (a UUID made when
it is queued), the row's primary key, the values the user saw before editing (`before`), the new values
(`after`), the column types (so its SQL can be built without the server) and the role it was made as.
Queueing is one durable SQLite transaction: when `queue`/`queue_changes` return, the edits survive a crash
or a power cut, and only then may the app say "saved locally".

States: `pending` (to be sent, in `seq` order), `applied` (the server has it), `conflict` (the row changed on
the server since it was read: `theirs` holds the server's values, or None when the row was deleted),
`rejected` (the server refused it: `sqlstate` and `message` say why), `discarded` (the user chose the
server's version or dismissed a rejection). Conflicts and rejections never block the edits behind them.

Sending is `studio.core.offline.sync`'s job; this module only keeps the records.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from studio.core.browse.changes import StagedChanges
from studio.core.browse.relations import Relation
from studio.core.browse.view_as import ViewAs
from studio.core.errors import StudioError
from studio.core.offline.store import OfflineStore, role_key, view_as_from_json, view_as_to_json

__all__ = ["EditDraft", "EditKind", "EditState", "Outbox", "OutboxCounts", "OutboxEdit"]

Value = str | None
Identity = tuple[str | None, ...]


class EditKind(StrEnum):
    """What an edit does to its row."""

    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


class EditState(StrEnum):
    """Where an edit stands (see the module's notes)."""

    PENDING = "pending"
    APPLIED = "applied"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    DISCARDED = "discarded"


@dataclass(frozen=True)
class OutboxEdit:
    """One queued edit of one row (see the module's notes).

    `identity` maps the primary key's columns to their values as text (empty for an insert whose key the
    server makes). `types` maps every column named in `identity`, `before` and `after` to its type, for casts.
    """

    seq: int
    key: str
    schema: str
    table: str
    kind: EditKind
    identity: dict[str, Value]
    before: dict[str, Value]
    after: dict[str, Value]
    types: dict[str, str]
    view_as: ViewAs
    state: EditState = EditState.PENDING
    attempts: int = 0
    sqlstate: str | None = None
    message: str | None = None
    theirs: dict[str, Value] | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    settled_at: datetime | None = None

    @property
    def display_name(self) -> str:
        """`schema.table` as people write it."""
        return f"{self.schema}.{self.table}"

    @property
    def row_label(self) -> str:
        """The row in words: `id = 7`, or "a new row"."""
        if not self.identity:
            return "a new row"
        return ", ".join(f"{name} = {value}" for name, value in self.identity.items())

    @property
    def description(self) -> str:
        """The edit in words, for lists and badges."""
        if self.kind is EditKind.INSERT:
            return f"Adding a row to {self.display_name}"
        if self.kind is EditKind.DELETE:
            return f"Deleting the row {self.row_label} of {self.display_name}"
        return f"Changing {', '.join(self.after)} of the row {self.row_label} of {self.display_name}"


@dataclass(frozen=True)
class OutboxCounts:
    """How many edits wait, conflict or were rejected (the status bar's numbers)."""

    pending: int = 0
    conflict: int = 0
    rejected: int = 0

    @property
    def attention(self) -> int:
        """Edits the user has to look at."""
        return self.conflict + self.rejected


_COLUMNS = ("seq, key, schema_name, table_name, kind, identity, before, after, types, view_as, state, attempts,"
            " sqlstate, message, theirs, created_at, settled_at")


def _edit(row: Sequence[Any]) -> OutboxEdit:
    (seq, key, schema, table, kind, identity, before, after, types, view_as, state, attempts, sqlstate, message,
     theirs, created, settled) = row
    return OutboxEdit(
        seq=int(seq), key=str(key), schema=str(schema), table=str(table), kind=EditKind(kind),
        identity=dict(json.loads(identity)), before=dict(json.loads(before)), after=dict(json.loads(after)),
        types=dict(json.loads(types)), view_as=view_as_from_json(json.loads(view_as)), state=EditState(state),
        attempts=int(attempts), sqlstate=sqlstate, message=message,
        theirs=None if theirs is None else json.loads(theirs),
        created_at=datetime.fromtimestamp(created, UTC),
        settled_at=None if settled is None else datetime.fromtimestamp(settled, UTC),
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class EditDraft:
    """An edit about to be queued (see `OutboxEdit`); `build` makes one from a relation."""

    schema: str
    table: str
    kind: EditKind
    identity: dict[str, Value]
    before: dict[str, Value]
    after: dict[str, Value]
    types: dict[str, str]
    key: str

    @classmethod
    def build(cls, relation: Relation, kind: EditKind, identity: Identity | None, before: Mapping[str, Value],
              after: Mapping[str, Value], *, key: str | None = None) -> EditDraft:
        """An edit of `relation`'s row `identity` (primary key values in key order; None for an insert), with
        a fresh idempotency key unless `key` is given."""
        keys = {} if identity is None else dict(zip(relation.primary_key, identity, strict=True))
        names = {*keys, *before, *after}
        types = {name: relation.column(name).type_name for name in names}
        return cls(relation.schema, relation.name, kind, keys, dict(before), dict(after), types,
                   key or str(uuid.uuid4()))


@dataclass(frozen=True)
class RowMark:
    """One unsettled edit as a row's badge sees it: which row, its state and kind, the new values of a
    pending change, and the server's message."""

    identity: dict[str, Value]
    state: EditState
    kind: EditKind
    after: dict[str, Value]
    message: str | None


class Outbox:
    """The queued edits of one project, in its `OfflineStore` (see the module's notes).

    `retry_base` and `retry_max` (seconds) shape the backoff after transient failures: base * 2**(n-1),
    capped, with +-20% jitter.
    """

    def __init__(self, store: OfflineStore, *, retry_base: float = 1.0, retry_max: float = 300.0) -> None:
        self.store = store
        self.retry_base = retry_base
        self.retry_max = retry_max

    @property
    def _conn(self) -> sqlite3.Connection:
        return self.store.conn

    # -- queueing -------------------------------------------------------------------------------------

    @staticmethod
    def drafts(changes: StagedChanges, *,
               seen: Mapping[Identity, Mapping[str, Value]] | None = None) -> list[EditDraft]:
        """The staged changes as one edit per row, in the order a commit runs them (deletions, changes, new
        rows), each with a fresh idempotency key. `seen` gives, per row, the values the user saw - checked
        before a deletion (an update checks the originals of the cells it changes)."""
        relation = changes.relation
        drafts: list[EditDraft] = []
        for identity in changes.deletes:
            before = dict((seen or {}).get(identity, {}))
            drafts.append(EditDraft.build(relation, EditKind.DELETE, identity, before, {}))
        for identity, values in changes.updates.items():
            originals = dict(changes.originals.get(identity, {}))
            drafts.append(EditDraft.build(relation, EditKind.UPDATE, identity, originals, dict(values)))
        for values in changes.inserts:
            drafts.append(EditDraft.build(relation, EditKind.INSERT, None, {}, dict(values)))
        return drafts

    def queue_changes(self, changes: StagedChanges, view_as: ViewAs, *,
                      seen: Mapping[Identity, Mapping[str, Value]] | None = None) -> list[OutboxEdit]:
        """Queue the staged changes (see `drafts`) in one durable transaction; returns the queued edits."""
        return self.queue(self.drafts(changes, seen=seen), view_as)

    def queue(self, drafts: Iterable[EditDraft], view_as: ViewAs, *,
              state: EditState = EditState.PENDING) -> list[OutboxEdit]:
        """Write `drafts` as edits made as `view_as`, all or none, durably (see the module's notes)."""
        now = time.time()
        seqs: list[int] = []
        who, rkey = _json(view_as_to_json(view_as)), role_key(view_as)
        settled = now if state is not EditState.PENDING else None
        with self.store.transaction(durable=True) as conn:
            for draft in drafts:
                cursor = conn.execute(
                    "insert into outbox (key, schema_name, table_name, kind, identity, before, after, types,"
                    " view_as, role_key, state, created_at, settled_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [draft.key, draft.schema, draft.table, draft.kind.value, _json(draft.identity),
                     _json(draft.before), _json(draft.after), _json(draft.types), who, rkey, state.value, now,
                     settled],
                )
                assert cursor.lastrowid is not None
                seqs.append(cursor.lastrowid)
        return self._by_seqs(seqs)

    # -- reading --------------------------------------------------------------------------------------

    def _by_seqs(self, seqs: Sequence[int]) -> list[OutboxEdit]:
        out: list[OutboxEdit] = []
        for start in range(0, len(seqs), 500):
            chunk = list(seqs[start:start + 500])
            rows = self._conn.execute(
                f"select {_COLUMNS} from outbox where seq in ({','.join('?' * len(chunk))}) order by seq", chunk
            ).fetchall()
            out.extend(_edit(row) for row in rows)
        return out

    def get(self, seq: int) -> OutboxEdit:
        """The edit numbered `seq` (`StudioError` when there is none)."""
        found = self._by_seqs([seq])
        if not found:
            raise StudioError("That queued edit no longer exists.", hint="The list may be out of date: reload it.")
        return found[0]

    def pending(self, limit: int = 100) -> list[OutboxEdit]:
        """The next edits to send, oldest first."""
        rows = self._conn.execute(
            f"select {_COLUMNS} from outbox where state = 'pending' order by seq limit ?", [limit]
        ).fetchall()
        return [_edit(row) for row in rows]

    def edits(self, *states: EditState) -> list[OutboxEdit]:
        """Every edit in one of `states` (every edit when none is given), oldest first."""
        if not states:
            rows = self._conn.execute(f"select {_COLUMNS} from outbox order by seq").fetchall()
        else:
            marks = ",".join("?" * len(states))
            rows = self._conn.execute(f"select {_COLUMNS} from outbox where state in ({marks}) order by seq",
                                      [state.value for state in states]).fetchall()
        return [_edit(row) for row in rows]

    def row_marks(self, schema: str, table: str) -> list[RowMark]:
        """What the grid shows of one table's unsettled edits, oldest first: a light read for the row badges
        (only the columns they need, only this table; the new values of pending changes)."""
        rows = self._conn.execute(
            "select identity, state, kind, case when state = 'pending' and kind <> 'delete' then after end,"
            " message from outbox where schema_name = ? and table_name = ?"
            " and state in ('pending', 'conflict', 'rejected') order by seq",
            [schema, table],
        ).fetchall()
        return [RowMark(json.loads(identity), EditState(state), EditKind(kind),
                        json.loads(after) if after is not None else {}, message)
                for identity, state, kind, after, message in rows]

    def for_row(self, schema: str, table: str, identity: Mapping[str, Value]) -> list[OutboxEdit]:
        """The unsettled edits (pending, conflict, rejected) of one row, oldest first: the row's badges."""
        rows = self._conn.execute(
            f"select {_COLUMNS} from outbox where schema_name = ? and table_name = ? and identity = ?"
            " and state in ('pending', 'conflict', 'rejected') order by seq",
            [schema, table, _json(dict(identity))],
        ).fetchall()
        return [_edit(row) for row in rows]

    def counts(self) -> OutboxCounts:
        """How many edits are pending, conflicting and rejected."""
        found = dict(self._conn.execute(
            "select state, count(*) from outbox where state in ('pending', 'conflict', 'rejected') group by state"
        ).fetchall())
        return OutboxCounts(int(found.get("pending", 0)), int(found.get("conflict", 0)),
                            int(found.get("rejected", 0)))

    def retry_in(self) -> float:
        """Seconds until the next attempt after transient failures (0: now)."""
        row = self._conn.execute("select retry_at from outbox_state where id = 1").fetchone()
        if row is None or row[0] is None:
            return 0.0
        return max(0.0, float(row[0]) - time.time())

    def last_error(self) -> str:
        """What the last transient failure said ("" after a successful sync)."""
        row = self._conn.execute("select last_error from outbox_state where id = 1").fetchone()
        return str(row[0]) if row and row[0] else ""

    # -- what the sync records ------------------------------------------------------------------------

    def mark_applied(self, edits: Sequence[OutboxEdit]) -> None:
        """The server has these edits (committed)."""
        now = time.time()
        with self.store.transaction() as conn:
            conn.executemany("update outbox set state = 'applied', settled_at = ?, attempts = attempts + 1,"
                             " sqlstate = null, message = null where seq = ?", [(now, edit.seq) for edit in edits])

    def mark_conflict(self, edit: OutboxEdit, theirs: dict[str, Value] | None, message: str,
                      sqlstate: str) -> None:
        """The row changed (or went) on the server since it was read; `theirs` is what it holds now."""
        with self.store.transaction() as conn:
            conn.execute("update outbox set state = 'conflict', theirs = ?, message = ?, sqlstate = ?,"
                         " attempts = attempts + 1, settled_at = ? where seq = ?",
                         [None if theirs is None else _json(theirs), message, sqlstate, time.time(), edit.seq])

    def mark_rejected(self, edit: OutboxEdit, message: str, sqlstate: str) -> None:
        """The server refused the edit; `message` is its reason."""
        with self.store.transaction() as conn:
            conn.execute("update outbox set state = 'rejected', message = ?, sqlstate = ?, attempts = attempts + 1,"
                         " settled_at = ? where seq = ?", [message, sqlstate, time.time(), edit.seq])

    def note_failure(self, message: str) -> float:
        """A transient failure (network, lock, overload): back off; returns the seconds until the next try."""
        with self.store.transaction() as conn:
            row = conn.execute("select failures from outbox_state where id = 1").fetchone()
            failures = (int(row[0]) if row else 0) + 1
            delay = min(self.retry_max, self.retry_base * 2 ** min(failures - 1, 30))
            delay = float(delay * random.uniform(0.8, 1.2))
            conn.execute("update outbox_state set failures = ?, retry_at = ?, last_error = ? where id = 1",
                         [failures, time.time() + delay, message])
        return delay

    def note_success(self) -> None:
        """The server answered: no more backoff."""
        with self.store.transaction() as conn:
            conn.execute("update outbox_state set failures = 0, retry_at = null, last_error = null where id = 1")

    def ledger_keys(self, limit: int = 1000) -> list[str]:
        """Keys of settled edits whose record in the server's ledger may still be there (see `sync`)."""
        rows = self._conn.execute("select key from outbox where state = 'applied' and ledger_cleared = 0"
                                  " order by seq limit ?", [limit]).fetchall()
        return [str(row[0]) for row in rows]

    def mark_ledger_cleared(self, keys: Sequence[str]) -> None:
        """The server's ledger no longer holds these keys."""
        with self.store.transaction() as conn:
            conn.executemany("update outbox set ledger_cleared = 1 where key = ?", [(key,) for key in keys])

    def prune(self, older_than: float = 30 * 24 * 3600) -> int:
        """Forget settled edits (applied with their ledger key forgotten, or discarded) settled more than
        `older_than` seconds ago; returns how many. Pending, conflicting and rejected edits always stay."""
        cutoff = time.time() - older_than
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "delete from outbox where settled_at <= ? and"
                " ((state = 'applied' and ledger_cleared = 1) or state = 'discarded')", [cutoff])
            return cursor.rowcount

    # -- the user's decisions -------------------------------------------------------------------------

    def keep_mine(self, seq: int) -> OutboxEdit:
        """Resolve a conflict with the user's values: send the edit again, checked against the server's values."""
        edit = self._expect(seq, EditState.CONFLICT)
        if edit.theirs is None:
            raise StudioError("The row was deleted on the server, so your change cannot be applied to it.",
                              hint="Keep the server's version, or add the row again as a new row.")
        before = {name: edit.theirs.get(name) for name in edit.before}
        return self._requeue(edit, before, edit.after)

    def keep_theirs(self, seq: int) -> OutboxEdit:
        """Resolve a conflict with the server's values: the edit is dropped (kept in the list as discarded)."""
        self._expect(seq, EditState.CONFLICT)
        return self._set_state(seq, EditState.DISCARDED)

    def merge(self, seq: int, values: Mapping[str, Value]) -> OutboxEdit:
        """Resolve a conflicting update with merged `values` (column -> value): they are sent, checked
        against the server's values."""
        edit = self._expect(seq, EditState.CONFLICT)
        if edit.kind is not EditKind.UPDATE or edit.theirs is None:
            raise StudioError("Only a change to a row that still exists can be merged.",
                              hint="Keep your version or the server's instead.")
        unknown = [name for name in values if name not in edit.types and name not in edit.theirs]
        if unknown:
            raise StudioError(f"The merge names columns the edit does not know: {', '.join(unknown)}.")
        before = {name: edit.theirs.get(name) for name in (*edit.before, *values) if name in edit.theirs}
        return self._requeue(edit, before, dict(values))

    def dismiss(self, seq: int) -> OutboxEdit:
        """The user has read a rejection and drops the edit."""
        self._expect(seq, EditState.REJECTED)
        return self._set_state(seq, EditState.DISCARDED)

    def retry(self, seq: int, values: Mapping[str, Value] | None = None) -> OutboxEdit:
        """Send a rejected edit again, with corrected `values` when given."""
        edit = self._expect(seq, EditState.REJECTED)
        return self._requeue(edit, edit.before, dict(values) if values is not None else edit.after)

    def _expect(self, seq: int, state: EditState) -> OutboxEdit:
        edit = self.get(seq)
        if edit.state is not state:
            raise StudioError(f"That edit is {edit.state.value}, not {state.value}.",
                              hint="The list may be out of date: reload it.")
        return edit

    def _set_state(self, seq: int, state: EditState) -> OutboxEdit:
        with self.store.transaction(durable=True) as conn:
            conn.execute("update outbox set state = ?, settled_at = ? where seq = ?", [state.value, time.time(), seq])
        return self.get(seq)

    def _requeue(self, edit: OutboxEdit, before: Mapping[str, Value], after: Mapping[str, Value]) -> OutboxEdit:
        # A new idempotency key: the old one was never applied (its transaction rolled back), but a new one
        # keeps the server's ledger a plain record of what was applied.
        with self.store.transaction(durable=True) as conn:
            conn.execute("update outbox set state = 'pending', key = ?, before = ?, after = ?, theirs = null,"
                         " sqlstate = null, message = null, settled_at = null where seq = ?",
                         [str(uuid.uuid4()), _json(dict(before)), _json(dict(after)), edit.seq])
        return self.get(edit.seq)

