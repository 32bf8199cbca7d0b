"""Async jobs of the app: run on the qasync loop, held until they end, a newer one cancels the older.

Services start their remote or long work through one `JobRunner`, so that:

* every task is referenced until it ends (nothing is garbage-collected mid-flight);
* a newer job of the same kind (a new page load, a new search) cancels the older one, whose result is
  never delivered;
* every failure reaches one place: `StudioError`s are problems of the environment or of the user's
  input and are reported with their message; anything else is our bug, logged with its traceback and
  reported with an apology.

Background jobs (`start(..., background=True)`: the outbox sync that runs as long as a project is open, a
refresh of pinned offline views) are held and reported the same way, but do not make the runner `busy`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal

from studio.core.errors import StudioError
from studio.services.messages import UserMessages, user_messages

log = logging.getLogger(__name__)

T = TypeVar("T")


def describe_failure(exc: BaseException) -> str:
    """The text a user sees for a failed job: the error's own message, or an apology for our bugs."""
    if isinstance(exc, StudioError):
        return str(exc)
    return (f"Something went wrong inside Studio ({type(exc).__name__}: {exc}). This is a bug in Studio;"
            " details are in the log.")


class JobRunner(QObject):
    """Runs coroutines as tasks on the running asyncio loop (qasync in the app, in tests too).

    Signals:
        busy_changed(bool): True when the first job starts, False when the last one ends.
        failed(str, str): a job of kind (first argument) failed; the second is the message for people.
    """

    busy_changed = Signal(bool)
    failed = Signal(str, str)

    def __init__(self, messages: UserMessages | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._messages = messages
        self._tasks: set[asyncio.Task[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._latest: dict[str, asyncio.Task[Any]] = {}

    @property
    def busy(self) -> bool:
        """True while any job runs."""
        return bool(self._tasks)

    @property
    def background(self) -> int:
        """How many background jobs run (they do not count as `busy`)."""
        return len(self._background)

    def running(self, kind: str) -> bool:
        """True while a job of this kind runs."""
        task = self._latest.get(kind)
        return task is not None and not task.done()

    def start(
        self,
        kind: str,
        work: Coroutine[Any, Any, T],
        *,
        on_result: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException, str], None] | None = None,
        replace: bool = True,
        background: bool = False,
    ) -> asyncio.Task[T]:
        """Run `work` as a job of `kind`; with `replace`, an older job of that kind is cancelled first; a
        `background` job does not make the runner busy.

        `on_result(value)` is called when it succeeds. On failure `on_error(exc, message)` is called when
        given; otherwise the message goes to the user-message channel. `failed` is emitted either way.
        A cancelled job calls neither.
        """
        if replace:
            self.cancel(kind)
        task = asyncio.ensure_future(work)
        task.set_name(kind)
        self._latest[kind] = task
        if background:
            self._background.add(task)
        else:
            was_busy = self.busy
            self._tasks.add(task)
            if not was_busy:
                self.busy_changed.emit(True)
        task.add_done_callback(lambda t: self._finished(kind, t, on_result, on_error))
        return task

    def cancel(self, kind: str) -> None:
        """Cancel the running job of this kind, if any; its result is never delivered."""
        task = self._latest.pop(kind, None)
        if task is not None and not task.done():
            task.cancel()

    def cancel_all(self, *, sparing: str = "") -> None:
        """Cancel every job (at shutdown), except those whose kind starts with `sparing` (when given)."""
        for task in [*self._tasks, *self._background]:
            if not (sparing and task.get_name().startswith(sparing)):
                task.cancel()
        self._latest = {kind: task for kind, task in self._latest.items() if sparing and kind.startswith(sparing)}

    def _finished(
        self,
        kind: str,
        task: asyncio.Task[Any],
        on_result: Callable[[Any], None] | None,
        on_error: Callable[[BaseException, str], None] | None,
    ) -> None:
        foreground = task in self._tasks
        self._tasks.discard(task)
        self._background.discard(task)
        if self._latest.get(kind) is task:
            del self._latest[kind]
        if not shiboken6.isValid(self):
            return  # the runner's owner was deleted (the app is closing): nobody is left to tell
        try:
            if task.cancelled():
                return
            exc = task.exception()
            if exc is None:
                if on_result is not None:
                    on_result(task.result())
                return
            if not isinstance(exc, StudioError):
                log.error("job %s failed", kind, exc_info=exc)
            message = describe_failure(exc)
            self.failed.emit(kind, message)
            if on_error is not None:
                on_error(exc, message)
            else:
                (self._messages or user_messages()).error(message)
        finally:
            if foreground and not self._tasks:
                self.busy_changed.emit(False)
