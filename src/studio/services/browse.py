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
* `browse.commit`, `browse.export`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

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
from studio.core.errors import StudioError
from studio.core.targets.base import Target
from studio.services.jobs import JobRunner, describe_failure
from studio.services.messages import user_messages
from studio.services.projects import ProjectHandle

T = TypeVar("T")

#: Every job kind that reads rows for the grid (cancelled together when the grid is reset).
PAGE_KINDS = ("browse.page", "browse.after", "browse.before", "browse.reload", "browse.value")


CLOSE_JOB = "browse.close."  # + the target's id: closing a connection, never cancelled


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

    def __init__(self, jobs: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.handle: ProjectHandle | None = None
        self.source: BrowseSource | None = None
        self._target: Target | None = None
        self._opening: asyncio.Task[Any] | None = None

    # -- the project -------------------------------------------------------------------------------

    def set_project(self, handle: ProjectHandle | None) -> None:
        """Browse `handle`'s database from now on (None: nothing); the previous one is closed."""
        for kind in (*PAGE_KINDS, "browse.open", "browse.relations", "browse.describe", "browse.users",
                     "browse.user", "browse.copy", "browse.commit"):
            self.jobs.cancel(kind)
        self._release()
        self.handle = handle
        if handle is None:
            self.project_ready.emit(False)
            return

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
        self.source = TargetSource(target)
        self.project_ready.emit(True)
        self.reload_relations()

    def _release(self) -> None:
        self._opening = None
        self.source = None
        target, self._target = self._target, None
        if target is not None:
            self._close_later(target)

    def _close_later(self, target: Target) -> None:
        # Not replaceable and never cancelled by a newer job: the connection must be closed.
        self.jobs.start(f"{CLOSE_JOB}{id(target)}", target.close(), replace=False,
                        on_error=lambda *_: None)

    def shutdown(self) -> None:
        """Cancel every job and close the connection (at exit, or when the page goes away)."""
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
        self.jobs.start(kind, work(source), on_result=on_result, on_error=self._report(kind, on_error))
        return True

    def _report(self, kind: str, then: Callable[[], None] | None = None) -> Callable[[BaseException, str], None]:
        def _failed(exc: BaseException, message: str) -> None:
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
        return self._run(kind, lambda s: s.read_page(request), on_page, on_error)

    def read_pages(self, requests: list[PageRequest], on_page: Callable[[int, Page], None],
                   on_done: Callable[[], None]) -> bool:
        """Read several pages one after the other as one `browse.reload` job; `on_page(i, page)` is called as
        each arrives (a newer reload cancels the rest)."""

        async def _read(source: BrowseSource) -> None:
            for number, request in enumerate(requests):
                on_page(number, await source.read_page(request))

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
            if not isinstance(exc, StudioError):
                user_messages().error(message)
                exc = StudioError(message)
            self.commit_failed.emit(exc)

        self.jobs.start("browse.commit", source.commit(changes, view_as),
                        on_result=self.commit_finished.emit, on_error=_failed)
        return True

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


__all__ = ["PAGE_KINDS", "BrowseService", "CommitFailed"]
