"""Fixtures for driving real widgets with asyncio on the Qt loop (qasync), as the app does.

* `qloop`: a qasync event loop installed as the current asyncio loop for the test, closed afterwards.
  Services start their jobs with `asyncio.ensure_future`; tests run the loop until what they wait for
  happens with `run_until_signal(qloop, signal)`, `run_until(qloop, condition)` or `finished(qloop, coro)`
  - never with sleeps.
* Garbage is collected on the GUI thread only, between tests (autouse).
* `messages`: a fresh user-message channel recording what the user was told.
* Studio's cache folder (offline views) is a fresh temporary folder per test (autouse), never the user's.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
import qasync
from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QApplication

from studio.services.messages import UserMessages, replace_user_messages


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop for this test (set as asyncio's current loop)."""
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)


def finished(loop: qasync.QEventLoop, work: Any, timeout_message: str = "timed out") -> Any:
    """Run the loop until `work` (a coroutine) is done and return its result; fail the test on a timeout.

    Built on `run_forever`, as the app runs: qasync's `run_until_complete` keeps processing Qt events after
    the loop has stopped, and a task step running then (an HTTP connection being opened) finds no running
    event loop.
    """
    task = loop.create_task(work)
    task.add_done_callback(lambda _: loop.stop())
    loop.run_forever()
    assert task.done(), "the loop stopped before the work was done"
    if not task.cancelled() and isinstance(task.exception(), TimeoutError):
        pytest.fail(timeout_message)
    return task.result()


def run_until_signal(loop: qasync.QEventLoop, signal: SignalInstance, timeout: float = 30.0) -> tuple[Any, ...]:
    """Run the loop until `signal` is emitted; returns its arguments. Fails the test after `timeout` s."""
    future: asyncio.Future[tuple[Any, ...]] = loop.create_future()

    def _emitted(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    signal.connect(_emitted)
    try:
        result: tuple[Any, ...] = finished(loop, asyncio.wait_for(future, timeout),
                                           f"signal not emitted within {timeout} s")
        return result
    finally:
        signal.disconnect(_emitted)


def run_until(loop: qasync.QEventLoop, condition: Any, timeout: float = 30.0) -> None:
    """Run the loop until `condition()` is true (checked every 10 ms of loop time)."""

    async def _wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    finished(loop, asyncio.wait_for(_wait(), timeout), f"condition not met within {timeout} s")


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """Garbage is collected here, on the GUI thread, never by chance in another thread (as the app does).

    A Qt object freed by a collection in another thread (a closed qasync loop's timer, a service of an
    earlier test, collected while a fake server thread allocates) leaves Qt a dangling timer, and a later
    event crashes the process. Autouse fixtures are set up first, so this one is torn down last.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline caches of the test go to a folder of its own (`STUDIO_CACHE_DIR`)."""
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def messages() -> Iterator[UserMessages]:
    """A fresh user-message channel; `messages.history` holds what the user was told."""
    channel = UserMessages()
    replace_user_messages(channel)
    yield channel
    replace_user_messages(None)
