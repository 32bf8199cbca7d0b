"""Start the desktop app: settings, the assembled shell (`studio.ui.shell`), and the Qt loop with asyncio on it.

Garbage is collected on the GUI thread only, on a timer: a collection that happens to run in a worker
thread (an HTTP or database thread) could free Qt objects there, which Qt does not allow.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from studio import __version__
from studio.core.paths import config_dir, resources_dir

log = logging.getLogger(__name__)

STARTUP_PROBE = "STUDIO_STARTUP_PROBE"  # benchmarks/startup.py: report the window shown, then quit
_GC_INTERVAL_MS = 2000


def app_settings() -> QSettings:
    """The app's settings file (`studio.ini` in the config folder; never a secret)."""
    return QSettings(str(config_dir() / "studio.ini"), QSettings.Format.IniFormat)


def app_icon() -> QIcon:
    """Studio's icon in every size shipped in resources/icons (empty when they are not installed)."""
    icon = QIcon()
    for path in sorted((resources_dir() / "icons").glob("studio-*.png")):
        icon.addFile(str(path))
    return icon


def generation_due(counts: tuple[int, int, int], thresholds: tuple[int, int, int]) -> int:
    """The oldest generation the collector would collect now (what automatic collection would do)."""
    for generation in (2, 1):
        if counts[generation] > thresholds[generation]:
            return generation
    return 0


def _collect_on_gui_thread(app: QApplication) -> QTimer:
    gc.disable()
    timer = QTimer(app)
    # Older generations too when they are due: collecting only the youngest would never free a cycle that
    # once survived it.
    timer.timeout.connect(lambda: gc.collect(generation_due(gc.get_count(), gc.get_threshold())))
    timer.start(_GC_INTERVAL_MS)
    return timer


def main() -> int:
    """Start the app with the local project selected; returns the process exit code."""
    import qasync

    from studio.ui.shell import AppShell

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Studio")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("studio")  # matches resources/studio.desktop, so the desktop shows the right icon
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    collector = _collect_on_gui_thread(app)

    shell = AppShell(app, app_settings())
    # Lifetime declared where things are created: jobs and the local server stop when the app quits.
    app.aboutToQuit.connect(shell.shutdown)
    app.aboutToQuit.connect(collector.stop)

    # Ctrl+C in the terminal (or SIGTERM) quits like closing the window, so the server stops cleanly.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.quit())
    wake = QTimer()
    wake.start(250)  # lets Python run its signal handlers while Qt waits for events
    wake.timeout.connect(lambda: None)

    shell.start()
    if os.environ.get(STARTUP_PROBE) == "1":
        # After the first paint: the window is on screen. Then quit (stopping what started).
        def _shown() -> None:
            shell.window.repaint()  # a synchronous paint, so "shown" means painted
            print("studio-startup: window shown", flush=True)
            app.quit()

        QTimer.singleShot(0, _shown)
    with loop:
        return int(loop.run_forever() or 0)
