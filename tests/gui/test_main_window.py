"""The app's window against the real local project (offscreen Qt, real embedded PostgreSQL)."""

import asyncio
from pathlib import Path

import psycopg
import qasync
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from studio.core.targets.local import LocalServer
from studio.services.local_project import LocalProjectService
from studio.ui.main_window import MainWindow


def _wire(window: MainWindow, service: LocalProjectService) -> None:
    service.starting.connect(window.show_starting)
    service.ready.connect(window.show_ready)
    service.failed.connect(window.show_failed)


def test_window_shows_the_local_project_and_its_tables(qtbot: QtBot, qapp: QApplication, local_server: LocalServer,
                                                       tmp_path: Path) -> None:
    with psycopg.connect(local_server.uri(), autocommit=True) as conn:
        conn.execute("create table if not exists public.gui_demo_notes (id int primary key)")
    window = MainWindow()
    qtbot.addWidget(window)
    service = LocalProjectService(server=local_server)
    _wire(window, service)
    loop = qasync.QEventLoop(qapp)
    try:
        with qtbot.waitSignal(service.ready, timeout=60_000):
            loop.run_until_complete(service.start_async())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert "Local project ready" in window.status.text()
    assert " table" in window.status.text()
    assert window.connection_status.text() == "Local project: connected"
    window.grab().save(str(tmp_path / "main_window.png"))
    assert (tmp_path / "main_window.png").stat().st_size > 0


def test_window_explains_a_server_that_cannot_start(qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be")
    window = MainWindow()
    qtbot.addWidget(window)
    service = LocalProjectService(server=LocalServer(blocked))
    _wire(window, service)
    loop = qasync.QEventLoop(qapp)
    try:
        with qtbot.waitSignal(service.failed, timeout=60_000):
            loop.run_until_complete(service.start_async())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert "local database" in window.status.text().lower()
    assert window.connection_status.text() == "Local project: not running"
