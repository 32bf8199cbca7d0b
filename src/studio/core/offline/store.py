"""The offline SQLite file of one project: viewed pages, described relations, pinned offline views - and the
outbox's tables (see `studio.core.offline.outbox`), which live in the same file so one transaction can cover
both.

One file per project under `studio.core.paths.cache_dir()/offline/`, named by a hash of the project's key
(the caller's name for the project and connection - never a secret). The file carries a format version in
its `meta` table; a file of another version, or one SQLite cannot read, is moved aside (renamed
`*.unreadable-<time>`, never deleted, since it may hold queued edits) and a new one is built. Nothing here
raises on a damaged cache: the worst case is an empty cache and `OfflineStore.recovered` saying why.

Schema (format 1):

```
meta(name text primary key, value text)                      -- format_version, project, created_at
relations(rel_key text primary key, payload text, fetched_at real)    -- relation list and described tables
pages(id integer primary key,
      view_key text, role_key text, start_key text,           -- which view, as whom, from where
      relation text, query text,                              -- schema.name and the query as JSON (for people)
      columns text,                                           -- [[name, type], ...] of the rows
      rows text, page text,                                   -- the rows and the positions around them (JSON)
      row_count integer, bytes integer,
      fetched_at real, used_at real,                          -- unix times: when read from the server / shown
      unique (view_key, role_key, start_key))
pinned(id integer primary key, view_key text, role_key text,  -- an offline view kept on purpose
       label text, spec text,                                 -- the relation, query and role to refresh it
       created_at real, refreshed_at real, rows integer,
       unique (view_key, role_key))
outbox(...), outbox_state(...)                                -- see studio.core.offline.outbox
```

Rows are always looked up by `role_key` (a hash of the role and the JWT claims the rows were read with), so
rows read as one user are never served to another. Page bytes are counted; past the size cap the least
recently used pages go first (pages of pinned views last).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from studio.core.browse.paging import Page, PageRequest, Position
from studio.core.browse.query import BrowseQuery, Filter, FilterOp, Selection, Sort
from studio.core.browse.relations import Column, Relation, RelationKind, RelationSummary
from studio.core.browse.view_as import BrowseRole, ViewAs
from studio.core.paths import cache_dir

__all__ = [
    "DEFAULT_SIZE_CAP",
    "FORMAT_VERSION",
    "CachedPage",
    "OfflineStore",
    "PinnedView",
    "query_from_json",
    "query_to_json",
    "relation_from_json",
    "relation_to_json",
    "role_key",
    "view_as_from_json",
    "view_as_to_json",
    "view_key",
]

log = logging.getLogger(__name__)

#: Version of the file's layout; a file with another one is moved aside and rebuilt.
FORMAT_VERSION = 1
#: Bytes of cached rows kept per project before the least recently used pages are dropped.
DEFAULT_SIZE_CAP = 256 * 1024 * 1024

_SCHEMA = """
create table if not exists meta (name text primary key, value text not null);
create table if not exists relations (
    rel_key text primary key, payload text not null, fetched_at real not null);
create table if not exists pages (
    id integer primary key,
    view_key text not null, role_key text not null, start_key text not null,
    relation text not null, query text not null, columns text not null,
    rows text not null, page text not null,
    row_count integer not null, bytes integer not null,
    fetched_at real not null, used_at real not null,
    unique (view_key, role_key, start_key));
create index if not exists pages_lru on pages (used_at);
create table if not exists pinned (
    id integer primary key, view_key text not null, role_key text not null,
    label text not null, spec text not null,
    created_at real not null, refreshed_at real, rows integer,
    unique (view_key, role_key));
create table if not exists outbox (
    seq integer primary key autoincrement,
    key text not null unique,
    schema_name text not null, table_name text not null,
    kind text not null check (kind in ('insert', 'update', 'delete')),
    identity text not null, before text not null, after text not null, types text not null,
    view_as text not null, role_key text not null,
    state text not null default 'pending'
        check (state in ('pending', 'applied', 'conflict', 'rejected', 'discarded')),
    attempts integer not null default 0,
    sqlstate text, message text, theirs text,
    created_at real not null, settled_at real,
    ledger_cleared integer not null default 0);
create index if not exists outbox_by_state on outbox (state, seq);
create index if not exists outbox_row on outbox (schema_name, table_name, identity);
create table if not exists outbox_state (
    id integer primary key check (id = 1),
    failures integer not null default 0, retry_at real, last_error text);
"""


# -- keys and serialisation ---------------------------------------------------------------------------


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def view_as_to_json(view_as: ViewAs) -> dict[str, Any]:
    """`view_as` as plain data (role, user id, e-mail)."""
    return {"role": view_as.role.value, "user_id": view_as.user_id, "email": view_as.email}


def view_as_from_json(data: dict[str, Any]) -> ViewAs:
    """The `ViewAs` written by `view_as_to_json`."""
    return ViewAs(BrowseRole(data["role"]), data.get("user_id"), data.get("email"))


def role_key(view_as: ViewAs) -> str:
    """The cache key of a role: a hash of exactly what the server was told (the role and the JWT claims)."""
    settings = view_as.settings()
    return "owner" if not settings else _digest(settings)


def relation_to_json(relation: Relation) -> dict[str, Any]:
    """A `Relation` as plain data."""
    return {
        "summary": asdict(relation.summary),
        "columns": [asdict(column) for column in relation.columns],
        "primary_key": list(relation.primary_key),
    }


def relation_from_json(data: dict[str, Any]) -> Relation:
    """The `Relation` written by `relation_to_json`."""
    summary = dict(data["summary"])
    summary["kind"] = RelationKind(summary["kind"])
    return Relation(
        summary=RelationSummary(**summary),
        columns=tuple(Column(**column) for column in data["columns"]),
        primary_key=tuple(data["primary_key"]),
    )


def query_to_json(query: BrowseQuery) -> dict[str, Any]:
    """A `BrowseQuery` as plain data (with its relation)."""
    return {
        "relation": relation_to_json(query.relation),
        "sort": None if query.sort is None else [query.sort.column, query.sort.descending],
        "filters": [[item.column, item.op.value, item.value] for item in query.filters],
        "search": query.search,
    }


def query_from_json(data: dict[str, Any]) -> BrowseQuery:
    """The `BrowseQuery` written by `query_to_json`."""
    sort = data.get("sort")
    return BrowseQuery(
        relation_from_json(data["relation"]),
        sort=None if sort is None else Sort(sort[0], bool(sort[1])),
        filters=tuple(Filter(column, FilterOp(op), value) for column, op, value in data.get("filters", [])),
        search=data.get("search", ""),
    )


def _query_identity(query: BrowseQuery, selection: Selection) -> dict[str, Any]:
    """What decides which rows a page query returns, and in which shape."""
    relation = query.relation
    return {
        "relation": [relation.schema, relation.name],
        "columns": [[column.name, column.type_name] for column in relation.columns],
        "key": [[part.name, part.type_name] for part in query.key_parts],
        "sort": None if query.sort is None else [query.sort.column, query.sort.descending],
        "filters": [[item.column, item.op.value, item.value] for item in query.filters],
        "search": query.search.strip(),
        "selection": selection.value,
    }


def view_key(query: BrowseQuery, selection: Selection = Selection.DISPLAY) -> str:
    """The cache key of a view: relation, its columns and their types, sort, filters, search, selection."""
    return _digest(_query_identity(query, selection))


def _position_to_json(position: Position | None) -> Any:
    if position is None:
        return None
    return {"key": list(position.key), "count": position.count, "from_start": position.from_start,
            "row": None if position.row is None else list(position.row)}


def _position_from_json(data: Any) -> Position | None:
    if data is None:
        return None
    row = data.get("row")
    return Position(tuple(data["key"]), int(data["count"]), bool(data["from_start"]),
                    None if row is None else tuple(row))


def _start_key(request: PageRequest) -> str:
    start = request.start
    where = None if start is None else [list(start.key), start.count, start.from_start]
    return json.dumps([where, request.backward], separators=(",", ":"), ensure_ascii=False)


# -- values -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedPage(Page):
    """A page with where it came from: `stale` pages were served from the cache because the server could not
    be reached (or was too slow); `fetched_at` is when its rows were read from the server (UTC)."""

    fetched_at: datetime
    stale: bool

    @property
    def age_seconds(self) -> float:
        """How old the rows are."""
        return max(0.0, (datetime.now(UTC) - self.fetched_at).total_seconds())


@dataclass(frozen=True)
class PinnedView:
    """An offline view the user asked to keep: a query, read as a role, refreshed while online."""

    id: int
    label: str
    query: BrowseQuery
    view_as: ViewAs
    created_at: datetime
    refreshed_at: datetime | None
    rows: int | None


def _when(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


# -- the store ----------------------------------------------------------------------------------------


class OfflineStore:
    """The SQLite file of one project's offline data (see the module's notes).

    `project` names the project and connection (for example the project ref, or a target's description);
    it must not contain a secret. `recovered` says why an unreadable or outdated file was moved aside at
    open (empty when nothing happened). `size_cap` is the byte budget of cached rows.
    """

    def __init__(self, project: str, *, directory: Path | None = None, size_cap: int = DEFAULT_SIZE_CAP) -> None:
        self.project = project
        self.size_cap = size_cap
        folder = directory if directory is not None else cache_dir() / "offline"
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # rows of the user's tables: for this user's eyes only
            folder.chmod(0o700)
        self.path = folder / f"{_digest(project)[:24]}.sqlite3"
        self.recovered = ""
        self.conn = self._open()

    # -- lifetime -------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0, check_same_thread=False)
        conn.execute("pragma busy_timeout = 10000")
        return conn

    def _open(self) -> sqlite3.Connection:
        problem = ""
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connect()
            problem = self._check(conn)
        except sqlite3.DatabaseError as exc:
            problem = f"the file could not be read ({exc})"
        if problem:
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._move_aside(problem)
            conn = self._connect()
        assert conn is not None
        try:
            self._build(conn)
        except sqlite3.DatabaseError as exc:  # still unusable: start from nothing once more
            conn.close()
            self._move_aside(f"the file could not be set up ({exc})")
            conn = self._connect()
            self._build(conn)
        return conn

    def _check(self, conn: sqlite3.Connection) -> str:
        """Why the file cannot be used as it is ("" when it can, or when it is new)."""
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        if not tables:
            return ""
        if "meta" not in tables:
            return "the file is not a Studio cache"
        rows = dict(conn.execute("select name, value from meta").fetchall())
        version = rows.get("format_version")
        if version != str(FORMAT_VERSION):
            return f"the file has format {version}, this Studio writes format {FORMAT_VERSION}"
        checked = conn.execute("pragma quick_check(1)").fetchone()
        if not checked or checked[0] != "ok":
            return f"the file is damaged ({checked[0] if checked else 'no answer'})"
        return ""

    def _move_aside(self, why: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                try:
                    os.replace(source, Path(f"{aside}{suffix}"))
                except OSError:
                    with contextlib.suppress(OSError):
                        source.unlink()
        self.recovered = f"The offline cache was rebuilt: {why}. The old file was kept as {aside.name}."
        log.warning("%s", self.recovered)

    def _build(self, conn: sqlite3.Connection) -> None:
        conn.execute("pragma auto_vacuum = incremental")
        conn.execute("pragma journal_mode = wal")
        with _transaction(conn):
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("insert or ignore into meta values ('format_version', ?)", [str(FORMAT_VERSION)])
            conn.execute("insert or ignore into meta values ('project', ?)", [self.project])
            conn.execute("insert or ignore into meta values ('created_at', ?)", [str(time.time())])
            conn.execute("insert or ignore into outbox_state (id) values (1)")

    def close(self) -> None:
        """Close the file."""
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    @contextlib.contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction on the file (committed when the block ends without an error).

        `durable` transactions reach the disk before the block returns, surviving a power cut (queued edits);
        the others survive the app crashing but may be lost with the power (cached pages, sync bookkeeping
        the server's ledger can rebuild).
        """
        self.conn.execute(f"pragma synchronous = {'full' if durable else 'normal'}")
        with _transaction(self.conn) as conn:
            yield conn

    # -- relations ------------------------------------------------------------------------------------

    def store_relations(self, summaries: list[RelationSummary]) -> None:
        """Remember the relation list."""
        payload = json.dumps([asdict(summary) for summary in summaries])
        self._write("insert or replace into relations values ('list', ?, ?)", [payload, time.time()])

    def relations(self) -> list[RelationSummary] | None:
        """The remembered relation list, or None."""
        row = self._read_one("select payload from relations where rel_key = 'list'", [])
        if row is None:
            return None
        out = []
        for item in json.loads(row[0]):
            item["kind"] = RelationKind(item["kind"])
            out.append(RelationSummary(**item))
        return out

    def store_relation(self, relation: Relation) -> None:
        """Remember how a relation was described."""
        self._write("insert or replace into relations values (?, ?, ?)",
                    [_digest(["rel", relation.schema, relation.name]), json.dumps(relation_to_json(relation)),
                     time.time()])

    def relation(self, schema: str, name: str) -> Relation | None:
        """The remembered description of `schema.name`, or None."""
        row = self._read_one("select payload from relations where rel_key = ?", [_digest(["rel", schema, name])])
        return None if row is None else relation_from_json(json.loads(row[0]))

    # -- pages ----------------------------------------------------------------------------------------

    def store_page(self, request: PageRequest, page: Page, *, fetched_at: float | None = None) -> None:
        """Keep a page read from the server (replacing the one read from the same place), then evict past the
        size cap."""
        query = request.query
        rows = json.dumps([list(row) for row in page.rows], ensure_ascii=False, separators=(",", ":"))
        shape = json.dumps({"start": _position_to_json(page.start), "end": _position_to_json(page.end),
                            "more": page.more, "backward": page.backward}, ensure_ascii=False)
        columns = json.dumps([[column.name, column.type_name] for column in query.relation.columns])
        identity = _query_identity(query, request.selection)
        now = time.time()
        evicted = 0
        with contextlib.suppress(sqlite3.DatabaseError), self.transaction() as conn:
            conn.execute(
                "insert or replace into pages (view_key, role_key, start_key, relation, query, columns, rows, page,"
                " row_count, bytes, fetched_at, used_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_digest(identity), role_key(request.view_as), _start_key(request), query.relation.display_name,
                 json.dumps(identity, ensure_ascii=False), columns, rows, shape, len(page.rows),
                 len(rows) + len(shape), now if fetched_at is None else fetched_at, now],
            )
            evicted = self._evict(conn)
        if evicted:  # give the freed pages back to the file system
            with contextlib.suppress(sqlite3.DatabaseError):
                self.conn.execute("pragma incremental_vacuum")

    def page(self, request: PageRequest, *, stale: bool = True) -> CachedPage | None:
        """The cached page for `request` (same view, same role and claims, same start), or None."""
        try:
            row = self.conn.execute(
                "select id, rows, page, fetched_at from pages where view_key = ? and role_key = ? and start_key = ?",
                [view_key(request.query, request.selection), role_key(request.view_as), _start_key(request)],
            ).fetchone()
            if row is None:
                return None
            self.conn.execute("update pages set used_at = ? where id = ?", [time.time(), row[0]])
            shape = json.loads(row[2])
            return CachedPage(
                rows=[tuple(item) for item in json.loads(row[1])],
                start=_position_from_json(shape["start"]),
                end=_position_from_json(shape["end"]),
                more=bool(shape["more"]),
                backward=bool(shape["backward"]),
                fetched_at=_when(row[3]),
                stale=stale,
            )
        except (sqlite3.DatabaseError, ValueError, KeyError, TypeError) as exc:
            log.warning("A cached page could not be read: %s", exc)
            return None

    def cached_bytes(self) -> int:
        """Bytes of rows held."""
        row = self._read_one("select coalesce(sum(bytes), 0) from pages", [])
        return int(row[0]) if row else 0

    def page_count(self) -> int:
        """How many pages are held."""
        row = self._read_one("select count(*) from pages", [])
        return int(row[0]) if row else 0

    def _evict(self, conn: sqlite3.Connection) -> int:
        """Drop least recently used pages (pinned views' last) until the rest fit the cap; returns how many."""
        total = int(conn.execute("select coalesce(sum(bytes), 0) from pages").fetchone()[0])
        if total <= self.size_cap:
            return 0
        victims = conn.execute(
            "select p.id, p.bytes from pages p"
            " left join pinned k on k.view_key = p.view_key and k.role_key = p.role_key"
            " order by k.id is not null, p.used_at, p.id"
        )
        doomed: list[int] = []
        for page_id, size in victims:
            if total <= self.size_cap:
                break
            doomed.append(int(page_id))
            total -= int(size)
        for start in range(0, len(doomed), 500):
            chunk = doomed[start:start + 500]
            conn.execute(f"delete from pages where id in ({','.join('?' * len(chunk))})", chunk)
        return len(doomed)

    def clear(self) -> None:
        """Forget every cached page, relation and pinned view of the project (queued edits stay)."""
        with self.transaction() as conn:
            conn.execute("delete from pages")
            conn.execute("delete from relations")
            conn.execute("delete from pinned")
        with contextlib.suppress(sqlite3.DatabaseError):
            self.conn.execute("pragma incremental_vacuum")

    # -- pinned views ---------------------------------------------------------------------------------

    def pin(self, query: BrowseQuery, view_as: ViewAs, label: str = "") -> PinnedView:
        """Keep `query` as `view_as` offline (refresh it with `OfflineSource.refresh_pinned`)."""
        spec = json.dumps({"query": query_to_json(query), "view_as": view_as_to_json(view_as)}, ensure_ascii=False)
        name = label or query.relation.display_name
        with self.transaction() as conn:
            conn.execute(
                "insert into pinned (view_key, role_key, label, spec, created_at) values (?, ?, ?, ?, ?)"
                " on conflict (view_key, role_key) do update set label = excluded.label, spec = excluded.spec",
                [view_key(query), role_key(view_as), name, spec, time.time()],
            )
        pinned = [item for item in self.pinned() if item.label == name and item.view_as == view_as]
        return pinned[-1]

    def unpin(self, pinned_id: int) -> None:
        """Stop keeping a pinned view (its pages stay until evicted)."""
        self._write("delete from pinned where id = ?", [pinned_id])

    def pinned(self) -> list[PinnedView]:
        """The pinned views, oldest first."""
        out = []
        for pid, label, spec, created, refreshed, rows in self.conn.execute(
            "select id, label, spec, created_at, refreshed_at, rows from pinned order by id"
        ):
            data = json.loads(spec)
            out.append(PinnedView(int(pid), str(label), query_from_json(data["query"]),
                                  view_as_from_json(data["view_as"]), _when(created),
                                  None if refreshed is None else _when(refreshed), rows))
        return out

    def mark_refreshed(self, pinned_id: int, rows: int) -> None:
        """Record that a pinned view was read again in full."""
        self._write("update pinned set refreshed_at = ?, rows = ? where id = ?", [time.time(), rows, pinned_id])

    # -- internals ------------------------------------------------------------------------------------

    def _write(self, sql: str, params: list[Any]) -> None:
        try:
            with self.transaction() as conn:
                conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            log.warning("The offline cache could not be written: %s", exc)

    def _read_one(self, sql: str, params: list[Any]) -> tuple[Any, ...] | None:
        try:
            row = self.conn.execute(sql, params).fetchone()
        except sqlite3.DatabaseError as exc:
            log.warning("The offline cache could not be read: %s", exc)
            return None
        return None if row is None else tuple(row)


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("begin immediate")
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("rollback")
        raise
    conn.execute("commit")
