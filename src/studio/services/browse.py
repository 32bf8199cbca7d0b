"""The table browser's service: owns the browsing connection and every job the browser starts.

Views (the browser page and its row model) never touch the database: they call this service, which
starts jobs on the app's `JobRunner` and reports through signals or the callbacks given. One target is
opened per project and shared by the page loads (the target makes calls take turns); an export opens a
target of its own, so a long export does not hold up scrolling.

Job kinds (a newer job of a kind cancels the older one):

* `browse.open`, `browse.relations`, `browse.describe`, `browse.users`, `browse.user` - the project, its
  relation list, the opened relation, the users to view as, one typed user id looked up;
* `browse.page` (the first or last page after a reset), `browse.after`, `browse.before` (scrolling),
  `browse.reload` (pages read again after they were dropped from memory), `browse.value` (a whole cell),
  `browse.copy` (the whole values of the cells being copied);
* `browse.commit`, `browse.export`;
* `browse.sync` - the long-lived job sending the outbox (`keep_syncing`), started when the project opens,
  cancelled when it changes or at shutdown, woken when an edit is queued or the connection comes back;
  `browse.pinned` - pinned offline views read again in the background while online.

Offline (issue 6): the project's `TargetSource` is wrapped in an `OfflineSource` over the project's
`OfflineStore` (one SQLite file per project under `cache_dir()/offline`, keyed by `offline_key`: the
project's kind and ref / connection description / workspace, never a secret). Pages read are remembered and
served, marked stale, when the server cannot be reached or is slow; commits that fail with a network error
are queued in the `Outbox` and sent by `browse.sync` when the connection is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.browse import (
    AuthUser,
    BrowseQuery,
    BrowseSource,
    CommitFailed,
    ExportFormat,
    Page,
    PageRequest,
    Relation,
    StagedChanges,
    TargetSource,
    ViewAs,
    export_rows,
)
from studio.core.errors import ConnectionFailed, StudioError
from studio.core.offline import (
    DEFAULT_SLOW_AFTER,
    NETWORK_ERRORS,
    CachedPage,
    EditState,
    OfflineSource,
    OfflineStore,
    Outbox,
    OutboxCounts,
    OutboxEdit,
    PinnedView,
    RowMark,
    SyncReport,
    keep_syncing,
)
from studio.core.offline.outbox import Value
from studio.core.targets.base import Target
from studio.services.jobs import JobRunner, describe_failure
from studio.services.messages import user_messages
from studio.services.projects import ProjectHandle, ProjectKind

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Every job kind that reads rows for the grid (cancelled together when the grid is reset).
PAGE_KINDS = ("browse.page", "browse.after", "browse.before", "browse.reload", "browse.value")


CLOSE_JOB = "browse.close."  # + the target's id: closing a connection, never cancelled
SYNC_JOB = "browse.sync"
PINNED_JOB = "browse.pinned"
#: Said when edits could not be sent and wait on this computer.
QUEUED_MESSAGE = "Saved on this computer - will be sent when the connection is back."
#: Milliseconds between background refreshes of pinned offline views while online.
PINNED_REFRESH_MS = 15 * 60 * 1000


def offline_key(handle: ProjectHandle) -> str:
    """The name of a project's offline cache: its kind and what tells it apart (the cloud project's ref, the
    connection's description - host, port, database, never a password - or the local workspace)."""
    if handle.kind is ProjectKind.CLOUD and handle.ref:
        return f"cloud:{handle.ref}"
    if handle.kind is ProjectKind.DATABASE:
        return f"database:{handle.detail or handle.title}"
    return f"{handle.kind.value}:{handle.workspace.resolve()}"


class BrowseService(QObject):
    """Browsing one project's tables (see the module's notes).

    Signals:
        project_ready(bool): a project's database was opened (True) or closed / failed to open (False).
        relations_loaded(object): the relation list, a `list[RelationSummary]`.
        relation_opened(object): the `Relation` asked for with `open_relation`.
        users_loaded(object): `list[AuthUser]` to view the data as.
        commit_finished(int): staged changes were saved; the number of statements run.
        commit_failed(object): saving failed and nothing was saved; the `StudioError` (usually
            `CommitFailed`) says which change and why.
        export_progress(int, object): rows written so far, and the expected total (int) or None.
        export_finished(str, int): the export's file path and the number of rows written.
        export_failed(str): the export failed or was cancelled; the message for people.
        failed(str, str): a job of this kind (first argument) failed; the message for people (also posted
            to the user-message channel).
        commit_queued(int, str): the staged changes could not be sent and were saved on this computer (the
            outbox); the number of edits queued and why, in words.
        outbox_changed(object): the outbox's `OutboxCounts` (pending, conflicting, rejected edits) changed or
            were read again.
        sync_finished(object): the outbox was sent; the `SyncReport`.
        online_changed(bool): the server answered again (True) or could not be reached (False).
        page_refreshed(object, object): a page first served from the cache (the server was slow) was read
            fresh after all: the `PageRequest` and the fresh `CachedPage`.
        pinned_changed(): the pinned offline views changed or were refreshed.
    """

    project_ready = Signal(bool)
    relations_loaded = Signal(object)
    relation_opened = Signal(object)
    users_loaded = Signal(object)
    commit_finished = Signal(int)
    commit_failed = Signal(object)
    export_progress = Signal(int, object)
    export_finished = Signal(str, int)
    export_failed = Signal(str)
    failed = Signal(str, str)
    commit_queued = Signal(int, str)
    outbox_changed = Signal(object)
    sync_finished = Signal(object)
    online_changed = Signal(bool)
    page_refreshed = Signal(object, object)
    pinned_changed = Signal()

    def __init__(self, jobs: JobRunner, parent: QObject | None = None, *, offline_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.handle: ProjectHandle | None = None
        self.source: BrowseSource | None = None
        self._target: Target | None = None
        self._opening: asyncio.Task[Any] | None = None
        #: Where the offline files go (None: `cache_dir()/offline`).
        self.offline_dir = offline_dir
        #: Seconds a page read may take before the cached page is shown instead.
        self.slow_after = DEFAULT_SLOW_AFTER
        #: Seconds between outbox syncs when nothing wakes it (transient failures back off by themselves).
        self.sync_idle = 60.0
        #: Backoff of the outbox after transient failures: first and longest wait, in seconds.
        self.retry_base, self.retry_max = 2.0, 60.0
        self.store: OfflineStore | None = None
        self.outbox: Outbox | None = None
        self.offline: OfflineSource | None = None
        self.online = True
        self._wake: asyncio.Event | None = None
        self._sync_task: asyncio.Task[Any] | None = None
        self._queued_into: list[tuple[int, str]] | None = None  # edits queued by the running commit
        self._pinned_timer = QTimer(self)
        self._pinned_timer.setInterval(PINNED_REFRESH_MS)
        self._pinned_timer.timeout.connect(self.refresh_pinned)
        # The first refresh waits a little after the project opens: the user's own reads go first.
        self._pinned_soon = QTimer(self)
        self._pinned_soon.setSingleShot(True)
        self._pinned_soon.setInterval(10_000)
        self._pinned_soon.timeout.connect(self.refresh_pinned)

    # -- the project -------------------------------------------------------------------------------

    def set_project(self, handle: ProjectHandle | None) -> None:
        """Browse `handle`'s database from now on (None: nothing); the previous one is closed."""
        for kind in (*PAGE_KINDS, "browse.open", "browse.relations", "browse.describe", "browse.users",
                     "browse.user", "browse.copy", "browse.commit", PINNED_JOB):
            self.jobs.cancel(kind)
        self._release()
        self.handle = handle
        if handle is None:
            self.project_ready.emit(False)
            return
        self._open_offline(handle)

        async def _open() -> Target:
            return await handle.open_target()

        self._opening = self.jobs.start("browse.open", _open(), on_result=self._opened,
                                        on_error=self._report("browse.open", lambda: self.project_ready.emit(False)))

    def _opened(self, target: Target) -> None:
        if self._opening is None:  # the project changed meanwhile: this target is nobody's
            self._close_later(target)
            return
        self._opening = None
        self._target = target
        if self.store is not None and self.outbox is not None:
            self.offline = OfflineSource(TargetSource(target), self.store, outbox=self.outbox,
                                         slow_after=self.slow_after, on_late_page=self._late_page,
                                         on_queued=self._queued)
            self.source = self.offline
            self._start_sync(target, self.outbox)
            self._pinned_timer.start()
            self._pinned_soon.start()
        else:
            self.source = TargetSource(target)
        self.project_ready.emit(True)
        self.reload_relations()

    def _open_offline(self, handle: ProjectHandle) -> None:
        try:
            self.store = OfflineStore(offline_key(handle), directory=self.offline_dir)
        except (OSError, sqlite3.Error) as exc:  # no cache folder: browse online only
            log.warning("The offline cache could not be opened: %s", exc)
            user_messages().warning("Offline views are off for this project: the cache could not be opened.",
                                    str(exc))
            self.store = None
            self.outbox = None
            return
        if self.store.recovered:
            user_messages().warning(f"The offline cache of this project was rebuilt: {self.store.recovered}.",
                                    f"The old file was kept next to it: {self.store.path.parent}")
        self.outbox = Outbox(self.store, retry_base=self.retry_base, retry_max=self.retry_max)
        self.online = True
        self.outbox_changed.emit(self.outbox.counts())

    def _release(self) -> None:
        self._opening = None
        self.source = None
        self._pinned_timer.stop()
        self._pinned_soon.stop()
        self.jobs.cancel(SYNC_JOB)
        sync, self._sync_task, self._wake = self._sync_task, None, None
        offline, self.offline = self.offline, None
        store, self.store, self.outbox = self.store, None, None
        target, self._target = self._target, None
        if target is not None:
            self._close_later(target, sync=sync, offline=offline, store=store)
        elif store is not None:
            store.close()

    def _close_later(self, target: Target, *, sync: asyncio.Task[Any] | None = None,
                     offline: OfflineSource | None = None, store: OfflineStore | None = None) -> None:
        # Not replaceable and never cancelled by a newer job: the connection must be closed (after the sync
        # and the late page reads using it have ended, and then the offline file).
        async def _close() -> None:
            try:
                if sync is not None:
                    sync.cancel()
                    with contextlib.suppress(BaseException):
                        await sync
                if offline is not None:
                    await offline.aclose()
                await target.close()
            finally:
                if store is not None:
                    store.close()

        self.jobs.start(f"{CLOSE_JOB}{id(target)}", _close(), replace=False, on_error=lambda *_: None)

    def shutdown(self) -> None:
        """Cancel every job (the outbox sync too) and close the connection and the offline file (at exit, or
        when the page goes away)."""
        self.jobs.cancel("browse.export")
        self.set_project(None)

    # -- reading -----------------------------------------------------------------------------------

    def _need_source(self) -> BrowseSource:
        if self.source is None:
            raise StudioError("No project is open.", hint="Pick a project on the left first.")
        return self.source

    def _run(self, kind: str, work: Callable[[BrowseSource], Coroutine[Any, Any, T]],
             on_result: Callable[[T], None], on_error: Callable[[], None] | None = None) -> bool:
        """Start `work(source)` as a job of `kind`; False (and a message) when no project is open."""
        source = self.source
        if source is None:
            user_messages().warning("No project is open.", "Pick a project on the left first.")
            if on_error is not None:
                on_error()
            return False
        def _done(value: T) -> None:
            self._note_online()
            on_result(value)

        self.jobs.start(kind, work(source), on_result=_done, on_error=self._report(kind, on_error))
        return True

    def _report(self, kind: str, then: Callable[[], None] | None = None) -> Callable[[BaseException, str], None]:
        def _failed(exc: BaseException, message: str) -> None:
            self._note_online()
            hint = exc.hint if isinstance(exc, StudioError) else ""
            text = exc.message if isinstance(exc, StudioError) else message
            user_messages().error(text, hint)
            self.failed.emit(kind, describe_failure(exc))
            if then is not None:
                then()
        return _failed

    def reload_relations(self) -> None:
        """Read the relation list again (signal `relations_loaded`)."""
        self._run("browse.relations", lambda s: s.relations(), self.relations_loaded.emit)

    def open_relation(self, schema: str, name: str) -> None:
        """Read one relation's columns and keys (signal `relation_opened`)."""
        self._run("browse.describe", lambda s: s.describe(schema, name), self.relation_opened.emit)

    def load_users(self, search: str = "") -> None:
        """Read the users to view as (signal `users_loaded`)."""
        self._run("browse.users", lambda s: s.users(search), self.users_loaded.emit)

    def find_user(self, user_id: str, on_found: Callable[[AuthUser | None], None],
                  on_error: Callable[[], None] | None = None) -> bool:
        """Look one user id up in `auth.users` (job `browse.user`); `on_found` gets the user, or None when no
        row has that id."""

        async def _find(source: BrowseSource) -> AuthUser | None:
            users = await source.users(user_id, limit=5)
            return next((user for user in users if user.id == user_id), None)

        return self._run("browse.user", _find, on_found, on_error)

    def read_page(self, kind: str, request: PageRequest, on_page: Callable[[Page], None],
                  on_error: Callable[[], None]) -> bool:
        """Read one page as a job of `kind` (one of `PAGE_KINDS`); `on_page` gets it, `on_error` is told of a
        failure after the user was. Returns False when no project is open."""
        return self._run(kind, lambda s: self._read_page(s, request), on_page, on_error)

    async def _read_page(self, source: BrowseSource, request: PageRequest) -> Page:
        try:
            return await source.read_page(request)
        except NETWORK_ERRORS as exc:
            if not isinstance(source, OfflineSource):
                raise
            said = exc.message if isinstance(exc, StudioError) else str(exc)
            raise ConnectionFailed(
                f"Offline: these rows, viewed as {request.view_as.description}, are not on this computer.",
                hint="Offline, Studio shows only rows it has read before as the same role (and the same filters)."
                     f" Try again when the connection is back.\nDetails: {said}",
            ) from exc

    def read_pages(self, requests: list[PageRequest], on_page: Callable[[int, Page], None],
                   on_done: Callable[[], None]) -> bool:
        """Read several pages one after the other as one `browse.reload` job; `on_page(i, page)` is called as
        each arrives (a newer reload cancels the rest)."""

        async def _read(source: BrowseSource) -> None:
            for number, request in enumerate(requests):
                on_page(number, await self._read_page(source, request))

        return self._run("browse.reload", _read, lambda _: on_done(), on_done)

    def read_value(self, relation: Relation, identity: tuple[str | None, ...], column: str, view_as: ViewAs,
                   on_value: Callable[[str | None], None]) -> bool:
        """Read the whole text of one cell (for the side editor)."""
        return self._run("browse.value", lambda s: s.read_value(relation, identity, column, view_as), on_value)

    def read_values(self, relation: Relation, cells: list[tuple[tuple[str | None, ...], str]], view_as: ViewAs,
                    on_values: Callable[[list[str | None]], None],
                    on_error: Callable[[], None] | None = None) -> bool:
        """Read the whole text of several cells (rows named by identity, and a column each) as one
        `browse.copy` job; `on_values` gets them in the order asked (for copying long values whole)."""

        async def _read(source: BrowseSource) -> list[str | None]:
            return [await source.read_value(relation, identity, column, view_as) for identity, column in cells]

        return self._run("browse.copy", _read, on_values, on_error)

    def cached_page(self, request: PageRequest) -> CachedPage | None:
        """The page the cache holds for `request` (same view, role and claims, start), to show at once while
        the fresh one is read; None when there is none (or no cache)."""
        offline = self.offline
        return offline.cached_page(request) if offline is not None else None

    def cancel_pages(self) -> None:
        """Cancel every running page read (the grid was reset)."""
        for kind in PAGE_KINDS:
            self.jobs.cancel(kind)

    # -- writing -----------------------------------------------------------------------------------

    def commit(self, changes: StagedChanges, view_as: ViewAs) -> bool:
        """Save the staged changes in one transaction as `view_as` (signals `commit_finished` /
        `commit_failed`; nothing is saved on failure)."""
        source = self.source
        if source is None:
            self.commit_failed.emit(StudioError("No project is open.", hint="Pick a project on the left first."))
            return False

        def _failed(exc: BaseException, message: str) -> None:
            self._queued_into = None
            self._note_online()
            if not isinstance(exc, StudioError):
                user_messages().error(message)
                exc = StudioError(message)
            self.commit_failed.emit(exc)

        queued: list[tuple[int, str]] = []
        self._queued_into = queued

        def _done(count: int) -> None:
            self._queued_into = None
            self._note_online()
            if queued:
                self.commit_queued.emit(sum(number for number, _why in queued), queued[-1][1])
            else:
                self.commit_finished.emit(count)
            self._emit_counts()

        self.jobs.start("browse.commit", source.commit(changes, view_as), on_result=_done, on_error=_failed)
        return True

    # -- offline: the outbox, pinned views, the cache ----------------------------------------------

    def _queued(self, edits: list[OutboxEdit], why: str) -> None:
        """The offline source queued edits (called inside the commit job)."""
        if self._queued_into is not None:
            self._queued_into.append((len(edits), why))
        if self._wake is not None:
            self._wake.set()

    def _note_online(self) -> None:
        """Follow the source's view of the connection: tell when it changed; wake the sync on reconnect."""
        offline = self.offline
        if offline is None or offline.online == self.online:
            return
        self.online = offline.online
        self.online_changed.emit(self.online)
        if self.online:
            if self._wake is not None:
                self._wake.set()
            self.refresh_pinned()

    def _late_page(self, request: PageRequest, page: CachedPage) -> None:
        self._note_online()
        self.page_refreshed.emit(request, page)

    def _start_sync(self, target: Target, outbox: Outbox) -> None:
        wake = asyncio.Event()
        self._wake = wake

        def _report(report: SyncReport) -> None:
            if self._wake is not wake:
                return  # the project changed meanwhile
            offline = self.offline
            if offline is not None and report.retry_in is None and (report.applied or report.conflicts
                                                                    or report.rejected):
                offline.online = True  # the server took edits: it is reachable
            self._note_online()
            self._emit_counts()
            self.sync_finished.emit(report)

        self._sync_task = self.jobs.start(
            SYNC_JOB, keep_syncing(outbox, target, wake=wake, idle=self.sync_idle, on_report=_report),
            on_error=self._report(SYNC_JOB), background=True)

    def sync_now(self) -> None:
        """Send the outbox now (the sync job is woken; it also runs by itself after backoff and when idle)."""
        if self._wake is not None:
            self._wake.set()

    def _emit_counts(self) -> None:
        if self.outbox is not None:
            self.outbox_changed.emit(self.outbox.counts())

    def outbox_counts(self) -> OutboxCounts:
        """How many edits are pending, conflicting and rejected (zeros without a project)."""
        return self.outbox.counts() if self.outbox is not None else OutboxCounts()

    def outbox_row_marks(self, schema: str, table: str) -> list[RowMark]:
        """The unsettled edits of one table as its rows' badges need them (a light read, see `Outbox`)."""
        return [] if self.outbox is None else self.outbox.row_marks(schema, table)

    def outbox_edits(self, *states: EditState) -> list[OutboxEdit]:
        """The queued edits in one of `states` (every unsettled one when none is given), oldest first."""
        if self.outbox is None:
            return []
        return self.outbox.edits(*(states or (EditState.PENDING, EditState.CONFLICT, EditState.REJECTED)))

    def _decide(self, work: Callable[[Outbox], OutboxEdit]) -> OutboxEdit | None:
        outbox = self.outbox
        if outbox is None:
            user_messages().warning("No project is open.", "Pick a project on the left first.")
            return None
        try:
            edit = work(outbox)
        except StudioError as exc:
            user_messages().error(exc.message, exc.hint)
            self._emit_counts()
            return None
        self._emit_counts()
        if edit.state is EditState.PENDING:
            self.sync_now()
        return edit

    def keep_mine(self, seq: int) -> OutboxEdit | None:
        """Resolve a conflict with the user's values (sent again, checked against the server's)."""
        return self._decide(lambda outbox: outbox.keep_mine(seq))

    def keep_theirs(self, seq: int) -> OutboxEdit | None:
        """Resolve a conflict with the server's values (the edit is dropped)."""
        return self._decide(lambda outbox: outbox.keep_theirs(seq))

    def merge(self, seq: int, values: Mapping[str, Value]) -> OutboxEdit | None:
        """Resolve a conflicting change with merged values (column -> value), sent checked against the server's."""
        return self._decide(lambda outbox: outbox.merge(seq, values))

    def retry(self, seq: int, values: Mapping[str, Value] | None = None) -> OutboxEdit | None:
        """Send a rejected edit again, with corrected values when given."""
        return self._decide(lambda outbox: outbox.retry(seq, values))

    def dismiss(self, seq: int) -> OutboxEdit | None:
        """Drop a rejected edit the user has read about."""
        return self._decide(lambda outbox: outbox.dismiss(seq))

    def pinned_views(self) -> list[PinnedView]:
        """The project's pinned offline views."""
        return self.store.pinned() if self.store is not None else []

    def pin(self, query: BrowseQuery, view_as: ViewAs, label: str = "") -> PinnedView | None:
        """Keep `query` as `view_as` for offline use; it is read in full now (when online) and refreshed in the
        background while online."""
        if self.store is None:
            user_messages().warning("No project is open.", "Pick a project on the left first.")
            return None
        pinned = self.store.pin(query, view_as, label)
        self.pinned_changed.emit()
        self.refresh_pinned()
        return pinned

    def unpin(self, pinned_id: int) -> None:
        """Stop keeping a pinned view."""
        if self.store is not None:
            self.store.unpin(pinned_id)
            self.pinned_changed.emit()

    def refresh_pinned(self) -> bool:
        """Read the pinned views again in full (job `browse.pinned`; not while offline). False when nothing
        was started."""
        offline, store = self.offline, self.store
        if offline is None or store is None or not self.online or self.jobs.running(PINNED_JOB):
            return False
        views = store.pinned()
        if not views:
            return False

        async def _refresh() -> int:
            rows = 0
            for pinned in views:
                rows += await offline.refresh_pinned(pinned)
            return rows

        def _failed(exc: BaseException, message: str) -> None:  # in the background: no message box
            log.info("Pinned views were not refreshed: %s", message)
            self._note_online()

        def _done(_rows: int) -> None:
            self._note_online()
            self.pinned_changed.emit()

        self.jobs.start(PINNED_JOB, _refresh(), on_result=_done, on_error=_failed, background=True)
        return True

    def clear_offline_cache(self) -> int:
        """Forget the project's cached pages, relations and pinned views; queued edits stay. Returns how many
        queued edits stay."""
        if self.store is None:
            return 0
        self.jobs.cancel(PINNED_JOB)
        self.store.clear()
        self.pinned_changed.emit()
        counts = self.outbox_counts()
        return counts.pending + counts.conflict + counts.rejected

    # -- export ------------------------------------------------------------------------------------

    @property
    def exporting(self) -> bool:
        """Whether an export runs."""
        return self.jobs.running("browse.export")

    def export(self, query: BrowseQuery, view_as: ViewAs, path: Path, fmt: ExportFormat) -> bool:
        """Write every row of `query` (as `view_as`) to `path` in `fmt`, on a connection of its own.

        The file appears only when the export is complete (it is written next to it under a temporary name
        first). Signals `export_progress`, then `export_finished` or `export_failed`.
        """
        handle = self.handle
        if handle is None:
            self.export_failed.emit("No project is open.")
            return False

        async def _export() -> int:
            target = await handle.open_target()
            partial = path.with_name(f".{path.name}.partial")
            try:
                with partial.open("w", encoding="utf-8", newline="") as out:
                    written = await export_rows(TargetSource(target), query, view_as, out, fmt,
                                                lambda done, total: self.export_progress.emit(done, total))
                os.replace(partial, path)
                return written
            finally:
                with contextlib.suppress(OSError):
                    partial.unlink()
                await asyncio.shield(target.close())

        def _failed(exc: BaseException, message: str) -> None:
            text = str(exc) if isinstance(exc, StudioError | OSError) else message
            self.export_failed.emit(f"The export failed: {text}")

        self.jobs.start("browse.export", _export(),
                        on_result=lambda rows: self.export_finished.emit(str(path), rows), on_error=_failed)
        return True

    def cancel_export(self) -> None:
        """Stop a running export (no file is left behind)."""
        if self.exporting:
            self.jobs.cancel("browse.export")
            self.export_failed.emit("The export was cancelled; no file was written.")


__all__ = ["PAGE_KINDS", "QUEUED_MESSAGE", "BrowseService", "CommitFailed", "offline_key"]
