"""Fixtures for driving real widgets with asyncio on the Qt loop (qasync), as the app does.

* `qloop`: a qasync event loop installed as the current asyncio loop for the test, closed afterwards.
  Services start their jobs with `asyncio.ensure_future`; tests run the loop until what they wait for
  happens with `run_until_signal(qloop, signal)` or `qloop.run_until_complete(...)` - never with sleeps.
* `messages`: a fresh user-message channel recording what the user was told.
"""

from __future__ import annotations

import asyncio
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


def run_until_signal(loop: qasync.QEventLoop, signal: SignalInstance, timeout: float = 30.0) -> tuple[Any, ...]:
    """Run the loop until `signal` is emitted; returns its arguments. Fails the test after `timeout` s."""
    future: asyncio.Future[tuple[Any, ...]] = loop.create_future()

    def _emitted(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    signal.connect(_emitted)
    try:
        return loop.run_until_complete(asyncio.wait_for(future, timeout))
    except TimeoutError:
        pytest.fail(f"signal not emitted within {timeout} s")
    finally:
        signal.disconnect(_emitted)


def run_until(loop: qasync.QEventLoop, condition: Any, timeout: float = 30.0) -> None:
    """Run the loop until `condition()` is true (checked every 10 ms of loop time)."""

    async def _wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    try:
        loop.run_until_complete(asyncio.wait_for(_wait(), timeout))
    except TimeoutError:
        pytest.fail(f"condition not met within {timeout} s")


@pytest.fixture
def messages() -> Iterator[UserMessages]:
    """A fresh user-message channel; `messages.history` holds what the user was told."""
    channel = UserMessages()
    replace_user_messages(channel)
    yield channel
    replace_user_messages(None)
