"""The OAuth sign-in against the fake platform: authorize, code exchange with PKCE, refresh, revoke, faults.

The "browser" follows the authorize URL with httpx: the fake approves at once (as `browser_account`) and
redirects to Studio's loopback listener, exactly as a real browser would after the builder clicked
"Authorize". Waits are recorded instead of slept.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from studio.core.errors import NetworkDown, SignInFailed, SignInRequired
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.http import ResponseLost, RetryPolicy
from studio.core.platform.oauth import (
    OAuthClient,
    needs_refresh,
    refresh_tokens,
    revoke_tokens,
    sign_in_with_browser,
)
from studio.core.secrets import AccountTokens, Secret

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, timeout=10.0)


class Waits:
    """Stands in for asyncio.sleep: records each wait instead of spending it."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(0)


class Browser:
    """Follows the authorize URL (optionally rewritten first) through the fake's redirect to the listener."""

    def __init__(self, rewrite: Callable[[str], str] | None = None) -> None:
        self.rewrite = rewrite
        self.urls: list[str] = []
        self.pages: list[httpx.Response] = []

    async def __call__(self, url: str) -> None:
        self.urls.append(url)
        if self.rewrite is not None:
            url = self.rewrite(url)
        async with httpx.AsyncClient(follow_redirects=True, trust_env=False, timeout=10) as http:
            self.pages.append(await http.get(url))

    @property
    def listener_port(self) -> int:
        port = urlsplit(dict(parse_qsl(urlsplit(self.urls[-1]).query))["redirect_uri"]).port
        assert port is not None
        return port


def forge_state(url: str) -> str:
    """The authorize URL with another `state`, as a forged or mixed-up sign-in would come back."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["state"] = "forged-" + query["state"][:8]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def endpoints_of(fake: Any) -> PlatformEndpoints:
    return PlatformEndpoints(api_url=fake.url, project_url_template=fake.project_url_template)


def client_of(fake: Any) -> OAuthClient:
    app = fake.register_oauth_app()
    return OAuthClient(client_id=app.client_id, client_secret=Secret(app.client_secret))


def sign_in(fake: Any, client: OAuthClient, browser: Browser | None = None, **kwargs: Any) -> AccountTokens:
    async def attempt() -> AccountTokens:
        try:
            return await sign_in_with_browser(
                endpoints_of(fake), client, open_browser=browser or Browser(), timeout=30, policy=FAST, **kwargs
            )
        finally:
            assert asyncio.all_tasks() == {asyncio.current_task()}

    return asyncio.run(attempt())


def profile_status(fake: Any, tokens: AccountTokens) -> int:
    response = httpx.get(
        f"{fake.url}/v1/profile",
        headers={"Authorization": f"Bearer {tokens.access_token.reveal()}"},
        trust_env=False,
    )
    return response.status_code


def refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_sign_in_gives_tokens_that_work_on_the_api(fake_platform: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    account = fake_platform.add_account(email="grace@example.com", username="grace")
    client = client_of(fake_platform)
    browser = Browser()

    tokens = sign_in(fake_platform, client, browser)

    assert tokens.kind == "oauth" and tokens.refresh_token is not None and tokens.expires_at is not None
    assert not needs_refresh(tokens)
    response = httpx.get(
        f"{fake_platform.url}/v1/profile",
        headers={"Authorization": f"Bearer {tokens.access_token.reveal()}"},
        trust_env=False,
    )
    assert response.status_code == 200 and response.json()["gotrue_id"] == account.gotrue_id
    assert "Studio is signed in" in browser.pages[0].text
    (exchange,) = fake_platform.matching_requests("POST", "/v1/oauth/token")
    assert exchange.body["grant_type"] == "authorization_code" and "client_secret" not in exchange.body
    assert exchange.headers["authorization"] != f"Bearer {tokens.access_token.reveal()}"
    assert refused(browser.listener_port)
    for secret in (tokens.access_token, tokens.refresh_token, client.client_secret):
        assert secret.reveal() not in caplog.text


def test_short_lived_access_tokens_need_refreshing_at_once(fake_platform: Any) -> None:
    fake_platform.add_account()
    fake_platform.oauth_access_token_ttl = 60
    tokens = sign_in(fake_platform, client_of(fake_platform))
    assert needs_refresh(tokens)


def test_denied_in_the_browser(fake_platform: Any) -> None:
    fake_platform.add_account()
    fake_platform.deny_next_authorization = True
    browser = Browser()
    with pytest.raises(SignInFailed) as caught:
        sign_in(fake_platform, client_of(fake_platform), browser)
    assert caught.value.message == "Sign-in was cancelled in the browser."
    assert fake_platform.matching_requests("POST", "/v1/oauth/token") == []
    assert "Sign-in did not complete" in browser.pages[0].text


def test_a_tampered_state_is_refused_and_no_token_is_fetched(fake_platform: Any) -> None:
    fake_platform.add_account()
    browser = Browser(rewrite=forge_state)
    with pytest.raises(SignInFailed, match="did not come from this sign-in"):
        sign_in(fake_platform, client_of(fake_platform), browser)
    assert len(fake_platform.matching_requests("GET", "/v1/oauth/authorize")) == 1
    assert fake_platform.matching_requests("POST", "/v1/oauth/token") == []
    assert refused(browser.listener_port)


def test_refresh_rotates_and_the_old_refresh_token_stops_working(fake_platform: Any) -> None:
    fake_platform.add_account()
    client = client_of(fake_platform)
    first = sign_in(fake_platform, client)
    assert first.refresh_token is not None
    endpoints = endpoints_of(fake_platform)

    second = asyncio.run(refresh_tokens(endpoints, client, first.refresh_token, policy=FAST))
    assert second.kind == "oauth" and second.refresh_token is not None
    assert second.refresh_token != first.refresh_token and second.access_token != first.access_token
    assert profile_status(fake_platform, second) == 200

    with pytest.raises(SignInRequired) as caught:
        asyncio.run(refresh_tokens(endpoints, client, first.refresh_token, policy=FAST))
    assert caught.value.message == "Your Supabase sign-in has ended - sign in again."
    assert first.refresh_token.reveal() not in str(caught.value)
    # Reusing a retired refresh token revoked the whole family, the new pair included (reuse detection).
    with pytest.raises(SignInRequired):
        asyncio.run(refresh_tokens(endpoints, client, second.refresh_token, policy=FAST))


def test_revoke_ends_the_sign_in(fake_platform: Any) -> None:
    fake_platform.add_account()
    client = client_of(fake_platform)
    tokens = sign_in(fake_platform, client)
    assert tokens.refresh_token is not None
    endpoints = endpoints_of(fake_platform)

    asyncio.run(revoke_tokens(endpoints, client, tokens.refresh_token, policy=FAST))

    assert profile_status(fake_platform, tokens) == 401
    with pytest.raises(SignInRequired):
        asyncio.run(refresh_tokens(endpoints, client, tokens.refresh_token, policy=FAST))
    (revoke,) = fake_platform.matching_requests("POST", "/v1/oauth/revoke")
    assert revoke.status == 204


def test_a_wrong_client_secret_is_reported_as_such(fake_platform: Any) -> None:
    fake_platform.add_account()
    client = client_of(fake_platform)
    wrong = OAuthClient(client_id=client.client_id, client_secret=Secret("sb_secret_wrong"))
    with pytest.raises(SignInFailed, match="client id and secret") as caught:
        sign_in(fake_platform, wrong)
    assert "sb_secret_wrong" not in str(caught.value)


def test_rate_limited_token_exchange_waits_and_retries(fake_platform: Any) -> None:
    fake_platform.add_account()
    fake_platform.inject("POST", "/v1/oauth/token", status=429, headers={"Retry-After": "7"}, times=1)
    waits = Waits()
    notices: list[str] = []

    tokens = sign_in(
        fake_platform, client_of(fake_platform), sleep=waits.sleep, on_retry=lambda text, s: notices.append(text)
    )

    assert profile_status(fake_platform, tokens) == 200
    assert len(waits.seconds) == 1 and 7 <= waits.seconds[0] <= 7.5
    assert notices and "Supabase sign-in is rate limiting" in notices[0]
    assert [r.status for r in fake_platform.matching_requests("POST", "/v1/oauth/token")] == [429, 201]


@pytest.mark.parametrize("fault", ["drop", "drop_after_handling"])
def test_a_dropped_token_exchange_is_a_clear_error_and_the_listener_closes(fake_platform: Any, fault: str) -> None:
    fake_platform.add_account()
    fake_platform.inject("POST", "/v1/oauth/token", **{fault: True})
    browser = Browser()
    waits = Waits()
    with pytest.raises(NetworkDown) as caught:
        sign_in(fake_platform, client_of(fake_platform), browser, sleep=waits.sleep)
    # The code may have been spent: the exchange is never sent twice.
    assert isinstance(caught.value, ResponseLost)
    assert "dropped" in caught.value.message
    assert len(fake_platform.matching_requests("POST", "/v1/oauth/token")) == 1
    assert waits.seconds == []
    assert "Sign-in did not complete" in browser.pages[0].text
    assert refused(browser.listener_port)
