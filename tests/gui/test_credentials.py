"""Where secrets go, as the window shows it: the OS keyring, or - when there is none - the user's choice."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
import qasync
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from studio.core.secrets import Secret, SecretStore
from studio.services.credentials import CredentialStoreService
from studio.ui.main_window import MainWindow


def _probe(qapp: QApplication, service: CredentialStoreService) -> None:
    loop = qasync.QEventLoop(qapp)
    try:
        loop.run_until_complete(service.probe_async())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _wired(qtbot: QtBot, service: CredentialStoreService) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    service.ready.connect(window.show_secrets_ready)
    service.unavailable.connect(window.show_secrets_unavailable)
    window.session_only_chosen.connect(service.use_session_only)
    return window


def test_no_password_store_is_explained_and_session_only_is_the_users_choice(qtbot: QtBot, qapp: QApplication,
                                                                            tmp_path: Path) -> None:
    service = CredentialStoreService(fail.Keyring(), service=f"studio-test-{uuid.uuid4().hex[:8]}")
    window = _wired(qtbot, service)
    window.show()
    with qtbot.waitSignal(service.unavailable, timeout=10_000):
        _probe(qapp, service)
    assert window.secrets_banner.isVisible()
    assert "no password store" in window.secrets_problem.text().lower()
    assert window.secrets_status.text() == "Secrets: no password store"
    assert service.store is None, "nothing is kept anywhere until the user chooses"
    window.grab().save(str(tmp_path / "no_keyring.png"))
    if os.environ.get("STUDIO_SCREENSHOTS"):
        window.grab().save(os.environ["STUDIO_SCREENSHOTS"] + "/no_keyring.png")

    with qtbot.waitSignal(service.ready, timeout=5_000):
        qtbot.mouseClick(window.session_only_button, Qt.MouseButton.LeftButton)
    assert not window.secrets_banner.isVisible()
    assert window.secrets_status.text().startswith("Secrets: Session only")
    assert service.store is not None and not service.store.report.persistent
    service.store.set_db_password("abcdefghijklmnopqrst", Secret("kept in memory"))
    assert service.store.get_db_password("abcdefghijklmnopqrst") == Secret("kept in memory")


def test_a_working_os_keyring_is_named_in_the_status_bar(qtbot: QtBot, qapp: QApplication) -> None:
    name = f"studio-test-{uuid.uuid4().hex[:8]}"
    store, report = SecretStore.open_default(service=name)
    if store is None:
        if os.environ.get("STUDIO_REQUIRE_SECRET_SERVICE") == "1":
            pytest.fail(f"CI must provide an OS keyring: {report.problem}")
        pytest.skip(f"no OS keyring here: {report.problem}")
    service = CredentialStoreService(service=name)
    window = _wired(qtbot, service)
    with qtbot.waitSignal(service.ready, timeout=10_000):
        _probe(qapp, service)
    assert window.secrets_status.text() == f"Secrets: {report.name}"
    assert not window.secrets_banner.isVisible()
    assert service.store is not None and service.store.report.persistent
