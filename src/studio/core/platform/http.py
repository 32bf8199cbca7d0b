"""HTTP to Supabase's platform: retries that are safe, and failures turned into errors a builder can act on.

What is retried, with capped exponential backoff and jitter:

* HTTP 429, for every method: the server refused before doing anything. The wait honours `Retry-After`
  (seconds or an HTTP date) or `X-RateLimit-Reset` (seconds, or a Unix time), capped by the policy.
* A connection that could not be opened, for every method: the request never left this computer.
* 502/503/504, timeouts and connections dropped mid-answer, only for idempotent requests (GET, HEAD,
  PUT, DELETE, or a POST its caller declares idempotent). A POST that may have reached the server is never
  sent again blindly: the caller gets `ResponseLost` and decides (project creation looks the project up).

Each wait is announced through `on_retry(message, seconds)` so the app can say "Supabase is rate limiting
this account, retrying in 20 s".
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from studio.core.errors import (
    AccessDenied,
    NetworkDown,
    NotFoundOnPlatform,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
    RequestRejected,
    SignInRequired,
)

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})

TokenSource = Callable[[], Awaitable[str]]
"""Returns the bearer token to send (refreshing it first when it is about to expire)."""
UnauthorizedHandler = Callable[[], Awaitable[bool]]
"""Called once on a 401; returns True when it obtained a new token worth one more try."""
RetryNotice = Callable[[str, float], None]
"""Told before each wait: a sentence for the user and the seconds until the next attempt."""
Sleep = Callable[[float], Awaitable[None]]


class ResponseLost(NetworkDown):
    """The request may have reached Supabase, but its answer never arrived.

    Raised instead of retrying a request that is not safe to send twice.
    """


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    `attempts` counts every try, the first included. `max_rate_limit_wait` is the longest Studio waits for
    a rate limit to reset before giving up with `RateLimited`.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_rate_limit_wait: float = 90.0
    timeout: float = 30.0

    def backoff(self, retry_number: int) -> float:
        """The wait before retry number `retry_number` (1-based): exponential, capped, with full jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        return random.uniform(ceiling / 2, ceiling)


def rate_limit_wait(response: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from `Retry-After` or `X-RateLimit-Reset`; None if neither."""
    now = time.time() if now is None else now
    retry_after = response.headers.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(retry_after) if retry_after.strip() else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now)
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        # A Unix time when large, otherwise seconds from now (both forms are in use).
        return max(0.0, value - now) if value > 1_000_000_000 else max(0.0, value)
    return None


def server_message(response: httpx.Response) -> str:
    """The human part of an error response (`message`, `error_description`, `error`), or its first line."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip().splitlines()
        return text[0][:300] if text else ""
    if isinstance(body, dict):
        for key in ("message", "error_description", "msg", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:2000]
    return ""


class PlatformHttp:
    """One HTTP client for one base URL, with Studio's retry rules and error mapping.

    `token` supplies the bearer token (None for endpoints that take none, such as OAuth's token endpoint);
    `on_unauthorized` may refresh it once after a 401. `sleep` is replaceable so tests can record waits.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: TokenSource | None = None,
        on_unauthorized: UnauthorizedHandler | None = None,
        policy: RetryPolicy | None = None,
        on_retry: RetryNotice | None = None,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        service_name: str = "Supabase",
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._token = token
        self._on_unauthorized = on_unauthorized
        self._on_retry = on_retry
        self._sleep = sleep
        self._service = service_name
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=self.policy.timeout,
            transport=transport,
            headers={"User-Agent": "Studio", "Accept": "application/json"},
            follow_redirects=False,
        )

    @property
    def host(self) -> str:
        """The host this client talks to, for messages."""
        return self._client.base_url.host or str(self._client.base_url)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        ok: frozenset[int] = frozenset({200, 201, 204}),
    ) -> httpx.Response:
        """Send a request, retrying what is safe, and return the response if its status is in `ok`.

        Any other outcome raises a `PlatformError` subclass whose message says what happened and what to do.
        """
        method = method.upper()
        safe_to_repeat = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            send_headers = dict(headers or {})
            if self._token is not None:
                send_headers["Authorization"] = f"Bearer {await self._token()}"
            try:
                response = await self._client.request(
                    method, path, params=params, json=json_body, data=form, headers=send_headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing was sent: always safe to try again.
                if attempt < self.policy.attempts:
                    await self._wait(self.policy.backoff(attempt), f"Cannot reach {self.host} yet")
                    continue
                raise NetworkDown(
                    f"No network: Studio could not reach {self.host}.",
                    hint="Check this computer's internet connection, then try again.",
                ) from exc
            except httpx.TimeoutException as exc:
                if safe_to_repeat and attempt < self.policy.attempts:
                    await self._wait(self.policy.backoff(attempt), f"{self._service} is slow to answer")
                    continue
                if not safe_to_repeat:
                    raise ResponseLost(
                        f"{self._service} did not answer in time; the request may or may not have been carried out.",
                        hint="Check its state before trying again.",
                    ) from exc
                raise PlatformUnavailable(
                    f"{self._service} did not answer within {self.policy.timeout:.0f} s.",
                    hint="It may be busy or the connection slow; try again in a minute.",
                ) from exc
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if safe_to_repeat and attempt < self.policy.attempts:
                    await self._wait(self.policy.backoff(attempt), f"The connection to {self.host} dropped")
                    continue
                if not safe_to_repeat:
                    raise ResponseLost(
                        f"The connection to {self.host} dropped before {self._service} answered; "
                        "the request may or may not have been carried out.",
                        hint="Check its state before trying again.",
                    ) from exc
                raise NetworkDown(
                    f"The connection to {self.host} keeps dropping.",
                    hint="Check this computer's internet connection, then try again.",
                ) from exc

            status = response.status_code
            if status in ok:
                return response
            if status == 401 and not refreshed and self._on_unauthorized is not None:
                refreshed = True
                if await self._on_unauthorized():
                    continue
            if status == 429 and attempt < self.policy.attempts:
                asked = rate_limit_wait(response)
                wait = self.policy.backoff(attempt) if asked is None else asked + random.uniform(0, 0.25)
                if wait <= self.policy.max_rate_limit_wait:
                    await self._wait(wait, f"{self._service} is rate limiting this account")
                    continue
            if status in RETRYABLE_STATUSES and safe_to_repeat and attempt < self.policy.attempts:
                await self._wait(self.policy.backoff(attempt), f"{self._service} is temporarily unavailable")
                continue
            raise self.error_for(response)

    async def _wait(self, seconds: float, reason: str) -> None:
        log.info("%s; retrying in %.1f s", reason, seconds)
        if self._on_retry is not None:
            self._on_retry(f"{reason}, retrying in {max(1, round(seconds))} s", seconds)
        await self._sleep(seconds)

    def error_for(self, response: httpx.Response) -> PlatformError:
        """The error to raise for an unsuccessful response."""
        status = response.status_code
        said = server_message(response)
        quoted = f" ({said})" if said else ""
        if status == 401:
            return SignInRequired(
                "Supabase no longer accepts this account's token: it was revoked or has expired - sign in again.",
                hint="Sign in again (Studio: Connect, or `studio login`).",
                status=status,
            )
        if status == 403:
            return AccessDenied(
                f"This account is not allowed to do that{quoted}.",
                hint="Ask an owner of the organization for access, or sign in with another account.",
                status=status,
            )
        if status == 404:
            return NotFoundOnPlatform(
                f"Supabase could not find that{quoted}.",
                hint="It may have been deleted, or it belongs to an account you are not signed in with.",
                status=status,
            )
        if status == 429:
            wait = rate_limit_wait(response)
            return RateLimited(
                "Supabase is rate limiting this account"
                + (f"; it can be tried again in {round(wait)} s." if wait is not None else "."),
                hint="Wait a little, then try again.",
                retry_after=wait if wait is not None else 60.0,
            )
        if status >= 500:
            return PlatformUnavailable(
                f"{self._service} had a problem on its side (HTTP {status}){quoted}.",
                hint="Check https://status.supabase.com, then try again in a few minutes.",
                status=status,
            )
        return RequestRejected(
            f"{self._service} refused the request (HTTP {status}){quoted}.",
            hint="Check the values you entered.",
            status=status,
        )
