"""The local project's server as a Qt service: starts it off the GUI thread and reports through signals."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, Signal

from studio.core.errors import StudioError
from studio.core.schema.introspect import introspect
from studio.core.targets.local import LocalServer
from studio.core.words import plural

log = logging.getLogger(__name__)


class LocalProjectService(QObject):
    """Owns the embedded PostgreSQL server of the local project.

    Signals:
        starting(): the server is being started.
        ready(str, list): started; a one-line status and the names of the project's tables.
        failed(str): it could not start; a message a user can act on.
    """

    starting = Signal()
    ready = Signal(str, list)
    failed = Signal(str)

    def __init__(self, server: LocalServer | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = server or LocalServer()
        self._task: asyncio.Task[None] | None = None
        self.version = ""  # the server's PostgreSQL version, once started

    def start(self) -> None:
        """Start the server in the background (a second call while starting does nothing)."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.ensure_future(self.start_async())

    async def start_async(self) -> None:
        """Start the server and report `ready` or `failed` (never raises)."""
        self.starting.emit()
        try:
            await asyncio.to_thread(self.server.start)
            await asyncio.to_thread(self.server.ensure_supabase_base)
            target = self.server.local_target()
            try:
                version = (await target.fetch("select current_setting('server_version')"))[0][0]
                catalog = await introspect(target)
            finally:
                await target.close()
        except StudioError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # our bug: log it and tell the user
            log.exception("starting the local project failed")
            self.failed.emit(f"Studio could not start the local project: {exc}")
            return
        self.version = str(version)
        tables = [obj.qualified for obj in catalog.of_kind("table")]
        self.ready.emit(f"Local project ready · PostgreSQL {version} · {plural(len(tables), 'table')}", tables)

    @property
    def busy(self) -> bool:
        """True while starting the server."""
        return self._task is not None and not self._task.done()

    def shutdown(self) -> None:
        """Stop the server (called when the app quits)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.server.stop()
