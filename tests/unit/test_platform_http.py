"""Retry timing rules of the platform client: what the server asks for is what Studio waits."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from studio.core.platform.http import RetryPolicy, rate_limit_wait, server_message


def _response(status: int = 429, headers: dict[str, str] | None = None, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, headers=headers or {}, **kwargs)  # type: ignore[arg-type]


def test_retry_after_in_seconds_is_honoured() -> None:
    assert rate_limit_wait(_response(headers={"Retry-After": "20"}), now=1000.0) == 20.0


def test_retry_after_as_http_date_is_converted_to_seconds() -> None:
    when = email.utils.formatdate(1_700_000_030, usegmt=True)
    assert rate_limit_wait(_response(headers={"Retry-After": when}), now=1_700_000_000.0) == pytest.approx(30.0)


def test_rate_limit_reset_as_unix_time_or_seconds() -> None:
    assert rate_limit_wait(_response(headers={"X-RateLimit-Reset": "1700000012"}), now=1_700_000_000.0) == 12.0
    assert rate_limit_wait(_response(headers={"X-RateLimit-Reset": "7"}), now=1_700_000_000.0) == 7.0


def test_a_reset_in_the_past_means_no_wait_and_garbage_means_unknown() -> None:
    assert rate_limit_wait(_response(headers={"X-RateLimit-Reset": "1600000000"}), now=1_700_000_000.0) == 0.0
    assert rate_limit_wait(_response(headers={"X-RateLimit-Reset": "soon"})) is None
    assert rate_limit_wait(_response()) is None


def test_backoff_grows_and_is_capped_with_jitter() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        waits = [policy.backoff(retry) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1, "waits must be jittered so clients do not retry in lockstep"


def test_server_message_reads_the_usual_shapes() -> None:
    assert server_message(_response(400, json={"message": "Invalid region"})) == "Invalid region"
    assert server_message(_response(400, json={"error": "invalid_grant", "error_description": "Code used"})) == (
        "Code used"
    )
    assert server_message(_response(502, text="<html>\nBad gateway")) == "<html>"
    assert server_message(_response(500, content=b"")) == ""
