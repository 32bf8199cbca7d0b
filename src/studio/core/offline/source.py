"""`OfflineSource`: a `BrowseSource` that remembers what it read and answers from memory when it must.

Fresh pages come from the wrapped source and are stored in the project's `OfflineStore`. When the source
fails with a network error (`NETWORK_ERRORS`), or takes longer than `slow_after` seconds while a cached page
exists, the cached page is returned instead - a `CachedPage` with `stale=True` and the time its rows were
fetched, for the "Offline - showing data from 14:02" banner. A read that was only slow is not abandoned: it
finishes in the background, its page is stored, and `on_late_page` is told, so the grid can swap it in.
Pages read as one role (and claims) are never served to another: the cache is keyed by them.

The relation list and relation descriptions are remembered the same way, so a table can be opened offline.

Commits: with an `Outbox`, saving never loses an edit. When edits are already queued, new ones queue behind
them (order is kept) and `on_queued` is told. Otherwise the commit runs directly, in one transaction, with
its edits' idempotency keys written to the server's ledger in the same transaction; if the network fails,
the same edits (same keys) are queued, so a commit whose answer was lost is never applied twice. When the
connection may not create the ledger, commits run as plain `TargetSource` commits (and the outbox cannot
sync until an owner connects - `sync_outbox` says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from studio.core.browse.changes import StagedChanges, commit_failure
from studio.core.browse.paging import Page, PageRequest
from studio.core.browse.relations import Relation, RelationSummary
from studio.core.browse.source import AuthUser, BrowseSource, TargetSource
from studio.core.browse.view_as import ViewAs
from studio.core.errors import ConnectionFailed, MigrationFailed, StudioError
from studio.core.offline.outbox import EditState, Outbox, OutboxEdit
from studio.core.offline.store import CachedPage, OfflineStore, PinnedView
from studio.core.offline.sync import LEDGER, NETWORK_ERRORS, ensure_ledger_statements
from studio.core.sqltext import quote_literal

__all__ = ["DEFAULT_SLOW_AFTER", "OfflineSource"]

log = logging.getLogger(__name__)

#: Seconds a page read may take before the cached page is shown instead.
DEFAULT_SLOW_AFTER = 3.0

LatePage = Callable[[PageRequest, CachedPage], None]
Queued = Callable[[list[OutboxEdit], str], None]


def _offline(exc: BaseException, what: str) -> StudioError:
    said = exc.message if isinstance(exc, StudioError) else str(exc)
    return ConnectionFailed(f"{what} is not available offline: {said}",
                            hint="Studio has no copy of it on this computer yet. Try again when online.")


class OfflineSource(BrowseSource):
    """A caching `BrowseSource` around `source` (see the module's notes). Owns neither the source nor the store.

    `online` is False after the last read failed with a network error, True after one succeeded.
    """

    def __init__(self, source: BrowseSource, store: OfflineStore, *, outbox: Outbox | None = None,
                 slow_after: float = DEFAULT_SLOW_AFTER, on_late_page: LatePage | None = None,
                 on_queued: Queued | None = None) -> None:
        self.source = source
        self.store = store
        self.outbox = outbox
        self.slow_after = slow_after
        self.on_late_page = on_late_page
        self.on_queued = on_queued
        self.online = True
        self._late: set[asyncio.Task[None]] = set()
        self._ledger_ready: bool | None = None  # None: not tried yet

    async def aclose(self) -> None:
        """Wait for (cancel) the reads still finishing in the background."""
        tasks = list(self._late)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    # -- reading --------------------------------------------------------------------------------------

    async def relations(self) -> list[RelationSummary]:
        """The relation list (the remembered one when offline)."""
        try:
            found = await self.source.relations()
        except NETWORK_ERRORS as exc:
            self.online = False
            cached = self.store.relations()
            if cached is None:
                raise _offline(exc, "The list of tables") from exc
            return cached
        self.online = True
        self.store.store_relations(found)
        return found

    async def describe(self, schema: str, name: str) -> Relation:
        """One relation's shape (the remembered one when offline)."""
        try:
            found = await self.source.describe(schema, name)
        except NETWORK_ERRORS as exc:
            self.online = False
            cached = self.store.relation(schema, name)
            if cached is None:
                raise _offline(exc, f"The table {schema}.{name}") from exc
            return cached
        self.online = True
        self.store.store_relation(found)
        return found

    async def users(self, search: str = "", limit: int = 100) -> list[AuthUser]:
        """Users to view as (online only: the list is not kept)."""
        return await self.source.users(search, limit)

    def cached_page(self, request: PageRequest) -> CachedPage | None:
        """The cached page for `request`, to show at once while the fresh one loads (None when there is none)."""
        return self.store.page(request, stale=True)

    async def read_page(self, request: PageRequest) -> Page:
        """A fresh page (stored), or the cached one marked stale when offline or slow (see the module's notes)."""
        cached = self.store.page(request, stale=True) if self.slow_after > 0 else None
        fetch = asyncio.ensure_future(self._fetch(request))
        try:
            if cached is None:
                return await fetch
            done, _ = await asyncio.wait({fetch}, timeout=self.slow_after)
            if done:
                return fetch.result()
        except NETWORK_ERRORS as exc:
            self.online = False
            cached = cached or self.store.page(request, stale=True)
            if cached is None:
                raise
            log.info("Serving a cached page (%s)", exc)
            return cached
        except asyncio.CancelledError:
            fetch.cancel()
            raise
        # Too slow: show the cached page now and let the read finish in the background.
        task = asyncio.ensure_future(self._finish_late(request, fetch))
        self._late.add(task)
        task.add_done_callback(self._late.discard)
        return cached

    async def _fetch(self, request: PageRequest) -> CachedPage:
        page = await self.source.read_page(request)
        self.online = True
        fetched = time.time()
        self.store.store_page(request, page, fetched_at=fetched)
        return CachedPage(rows=page.rows, start=page.start, end=page.end, more=page.more, backward=page.backward,
                          fetched_at=datetime.fromtimestamp(fetched, UTC), stale=False)

    async def _finish_late(self, request: PageRequest, fetch: asyncio.Future[CachedPage]) -> None:
        try:
            page = await fetch
        except NETWORK_ERRORS:
            self.online = False
            return
        except StudioError as exc:
            log.info("A late page read failed: %s", exc)
            return
        if self.on_late_page is not None:
            self.on_late_page(request, page)

    async def read_value(self, relation: Relation, identity: tuple[str | None, ...], column: str,
                         view_as: ViewAs) -> str | None:
        """The whole text of one cell (online only)."""
        return await self.source.read_value(relation, identity, column, view_as)

    async def refresh_pinned(self, pinned: PinnedView, *, page_size: int = 200, max_rows: int = 1_000_000) -> int:
        """Read a pinned view again in full (pages of `page_size`, as the browser reads them) and store it;
        returns the number of rows read. Raises what the source raises (a network error when offline)."""
        start = None
        rows = 0
        while rows < max_rows:
            request = PageRequest(pinned.query, pinned.view_as, start, limit=page_size)
            page = await self._fetch(request)
            rows += len(page.rows)
            if not page.more_after:
                break
            start = page.end
        self.store.mark_refreshed(pinned.id, rows)
        return rows

    # -- writing --------------------------------------------------------------------------------------

    async def commit(self, changes: StagedChanges, view_as: ViewAs) -> int:
        """Save the staged changes (see the module's notes); returns how many edits were saved or queued."""
        outbox = self.outbox
        if outbox is None:
            return await self.source.commit(changes, view_as)
        drafts = outbox.drafts(changes)
        if outbox.counts().pending:
            queued = outbox.queue(drafts, view_as)
            self._queued(queued, "Earlier edits are still waiting to be sent; these wait behind them.")
            return len(queued)
        target = self.source.target if isinstance(self.source, TargetSource) else None
        if target is None:  # no ledger to write to: queue, and let the sync apply them exactly once
            queued = outbox.queue(drafts, view_as)
            self._queued(queued, "The edits were queued to be sent.")
            return len(queued)
        listed = changes.changes()
        keys = ", ".join(f"({quote_literal(d.key)}::uuid, {quote_literal(f'{d.schema}.{d.table}')},"
                         f" {quote_literal(d.kind.value)})" for d in drafts)
        statements = changes.statements(view_as)
        if view_as.settings():
            statements.append("select pg_catalog.set_config('role', 'none', true)")
        statements.append(f"insert into {LEDGER} (key, relation, kind) values {keys}")
        try:
            if self._ledger_ready is None:
                try:
                    await target.run_transaction(ensure_ledger_statements())
                    self._ledger_ready = True
                except MigrationFailed as exc:  # no privilege to create it: save as before, without keys
                    log.warning("No ledger of applied edits on this database: %s", exc.server_message)
                    self._ledger_ready = False
            if not self._ledger_ready:
                return await self.source.commit(changes, view_as)
            await target.run_transaction(statements)
        except NETWORK_ERRORS as exc:
            self.online = False
            queued = outbox.queue(drafts, view_as)
            said = exc.message if isinstance(exc, StudioError) else str(exc)
            self._queued(queued, f"The server could not be reached ({said}); the edits are saved on this computer.")
            return len(queued)
        except MigrationFailed as exc:
            raise commit_failure(exc, listed, view_as) from exc
        self.online = True
        outbox.queue(drafts, view_as, state=EditState.APPLIED)  # their ledger keys are forgotten at the next sync
        return len(listed)

    def _queued(self, edits: list[OutboxEdit], why: str) -> None:
        if self.on_queued is not None:
            self.on_queued(edits, why)
