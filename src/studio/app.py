"""Build the services, show the main window, run the Qt event loop with asyncio on it (qasync)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from studio import __version__

log = logging.getLogger(__name__)


def main() -> int:
    """Start the app with the local project selected; returns the process exit code."""
    import qasync

    from studio.services.credentials import CredentialStoreService
    from studio.services.local_project import LocalProjectService
    from studio.ui.main_window import MainWindow

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Studio")
    app.setApplicationVersion(__version__)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    window = MainWindow()
    local = LocalProjectService()
    local.starting.connect(window.show_starting)
    local.ready.connect(window.show_ready)
    local.failed.connect(window.show_failed)
    credentials = CredentialStoreService()
    credentials.ready.connect(window.show_secrets_ready)
    credentials.unavailable.connect(window.show_secrets_unavailable)
    window.session_only_chosen.connect(credentials.use_session_only)
    # Lifetime declared where things are created: the server stops when the app quits.
    app.aboutToQuit.connect(local.shutdown)

    # Ctrl+C in the terminal (or SIGTERM) quits like closing the window, so the server stops cleanly.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.quit())
    wake = QTimer()
    wake.start(250)  # lets Python run its signal handlers while Qt waits for events
    wake.timeout.connect(lambda: None)

    window.show()
    local.start()
    credentials.probe()
    with loop:
        return int(loop.run_forever() or 0)
