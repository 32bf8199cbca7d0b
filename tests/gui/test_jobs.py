"""The job runner: results delivered, older jobs of a kind cancelled, failures told to the user."""

import asyncio

import qasync

from studio.core.errors import StudioError
from studio.services.jobs import JobRunner
from studio.services.messages import Level, UserMessages
from tests.gui.conftest import run_until, run_until_signal


def test_a_newer_job_of_a_kind_cancels_the_older_and_only_its_result_arrives(qloop: qasync.QEventLoop) -> None:
    runner = JobRunner()
    results: list[str] = []

    async def page(name: str, delay: float) -> str:
        await asyncio.sleep(delay)
        return name

    first = runner.start("page", page("old", 0.2), on_result=results.append)
    runner.start("page", page("new", 0.01), on_result=results.append)
    run_until(qloop, lambda: not runner.busy)
    assert results == ["new"]
    assert first.cancelled()


def test_a_failed_job_tells_the_user_and_a_bug_gets_an_apology(qloop: qasync.QEventLoop,
                                                                 messages: UserMessages) -> None:
    runner = JobRunner()

    async def wrong_token() -> None:
        raise StudioError("Supabase no longer accepts this account's token - sign in again")

    async def bug() -> None:
        raise KeyError("oops")

    runner.start("a", wrong_token())
    kind, text = run_until_signal(qloop, runner.failed)
    assert kind == "a" and "sign in again" in text
    runner.start("b", bug())
    run_until_signal(qloop, runner.failed)
    assert [m.level for m in messages.history] == [Level.ERROR, Level.ERROR]
    assert "sign in again" in messages.history[0].text
    assert "bug in Studio" in messages.history[1].text and "KeyError" in messages.history[1].text
