"""The credential store as a Qt service: probes the OS keyring off the GUI thread and reports the outcome.

When the computer has no usable store, the app shows the probe's explanation and lets the user keep
secrets for this session only; Studio never falls back to a file on its own.
"""

from __future__ import annotations

import asyncio
import logging

from keyring.backend import KeyringBackend
from PySide6.QtCore import QObject, Signal

from studio.core.secrets import SERVICE, SecretStore, probe_backend

log = logging.getLogger(__name__)


class CredentialStoreService(QObject):
    """Owns Studio's `SecretStore` once it is known where secrets can go.

    Signals:
        ready(str): secrets go to the store named (for example "GNOME Keyring (Secret Service)").
        unavailable(str): no OS store works here; the message says why and what to do.
    """

    ready = Signal(str)
    unavailable = Signal(str)

    def __init__(
        self, backend: KeyringBackend | None = None, *, service: str = SERVICE, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._backend = backend
        self._service = service
        self.store: SecretStore | None = None
        self._task: asyncio.Task[None] | None = None

    def probe(self) -> None:
        """Probe the keyring in the background (a second call while probing does nothing)."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.probe_async())

    async def probe_async(self) -> None:
        """Probe the keyring (a D-Bus round trip, maybe an unlock prompt) and report; never raises."""
        try:
            if self._backend is None:
                store, report = await asyncio.to_thread(SecretStore.open_default, service=self._service)
            else:
                report = await asyncio.to_thread(probe_backend, self._backend, service=self._service)
                store = SecretStore(self._backend, service=self._service, report=report) if report.persistent else None
        except Exception as exc:  # our bug: the probe is meant to report, not raise
            log.exception("probing the keyring failed")
            self.unavailable.emit(f"Studio could not check this computer's password store: {exc}")
            return
        if store is None:
            self.unavailable.emit(report.problem)
            return
        self.store = store
        self.ready.emit(report.name)

    def use_session_only(self) -> None:
        """Keep secrets in memory until Studio quits (the user's choice when there is no OS store)."""
        self.store = SecretStore.session_only(service=self._service)
        self.ready.emit(self.store.report.name)

    @property
    def busy(self) -> bool:
        """True while probing the password store."""
        return self._task is not None and not self._task.done()

    def shutdown(self) -> None:
        """Stop a probe still running (called when the app quits)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
