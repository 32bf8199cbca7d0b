"""OAuth sign-in without Supabase: PKCE, the authorize URL, the loopback listener and the browser flow.

The "browser" is a coroutine that reads the authorize URL and requests the loopback redirect URI with
httpx, with whatever parameters the test chooses; the token endpoint is an `httpx.MockTransport`. Nothing
leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from studio.core.errors import SignInFailed, SignInRequired
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.http import ResponseLost, RetryPolicy
from studio.core.platform.oauth import (
    LoopbackListener,
    OAuthClient,
    authorize_url,
    make_pkce,
    needs_refresh,
    pkce_challenge,
    refresh_tokens,
    revoke_tokens,
    sign_in_with_browser,
)
from studio.core.secrets import AccountTokens, Secret

CLIENT_ID = "66666666-6666-4666-8666-666666666666"
CLIENT_SECRET = "sb_secret_unit_test_client_secret_value"
CLIENT = OAuthClient(CLIENT_ID, Secret(CLIENT_SECRET))
ENDPOINTS = PlatformEndpoints(api_url="https://api.example.invalid")
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, timeout=5.0)


async def _no_sleep(seconds: float) -> None:
    return None


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


class Browser:
    """Stands in for the system browser: "visits" the redirect URI with the parameters `answer` returns."""

    def __init__(self, answer: Callable[[dict[str, str]], dict[str, str]] | None = None) -> None:
        self.answer = answer or (lambda q: {"code": "the-code", "state": q["state"]})
        self.urls: list[str] = []
        self.pages: list[httpx.Response] = []

    async def __call__(self, url: str) -> bool:
        self.urls.append(url)
        asked = _query(url)
        async with httpx.AsyncClient(trust_env=False) as http:
            self.pages.append(await http.get(asked["redirect_uri"], params=self.answer(asked)))
        return True

    @property
    def challenge(self) -> str:
        return _query(self.urls[-1])["code_challenge"]


class TokenEndpoint:
    """A token endpoint in memory: checks the client's Basic auth and the PKCE verifier, issues tokens."""

    def __init__(self, browser: Browser | None = None) -> None:
        self.browser = browser
        self.forms: list[dict[str, str]] = []
        self.revoked: list[dict[str, Any]] = []
        self.reply: Callable[[httpx.Request], httpx.Response] | None = None
        self.issued = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/oauth/revoke":
            self.revoked.append(json.loads(request.content))
            return httpx.Response(204)
        assert request.url.path == "/v1/oauth/token"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        assert request.headers["authorization"] == f"Basic {expected}"
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.forms.append(form)
        if self.reply is not None:
            return self.reply(request)
        if form["grant_type"] == "authorization_code":
            assert self.browser is not None
            assert pkce_challenge(form["code_verifier"]) == self.browser.challenge
            assert form["redirect_uri"] == _query(self.browser.urls[-1])["redirect_uri"]
        self.issued += 1
        body = {
            "access_token": f"sbp_oauth_access_{self.issued}",
            "refresh_token": f"refresh_{self.issued}",
            "expires_in": 3600,
            "token_type": "Bearer",
        }
        return httpx.Response(201, json=body)


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _run_alone(make: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine and check it left no task behind."""

    async def main() -> Any:
        result = await make()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return result

    return asyncio.run(main())


def _sign_in_failure(browser: Callable[[str], object], tokens: TokenEndpoint, **kwargs: Any) -> SignInFailed:
    async def attempt() -> SignInFailed:
        with pytest.raises(SignInFailed) as caught:
            await sign_in_with_browser(
                ENDPOINTS, CLIENT, open_browser=browser, transport=tokens.transport(), policy=FAST, **kwargs
            )
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return caught.value

    return asyncio.run(attempt())


# -- PKCE and the authorize URL -----------------------------------------------------------------------------


def test_pkce_pair_is_a_64_char_verifier_and_its_s256_challenge() -> None:
    verifier, challenge = make_pkce()
    assert len(verifier) == 64
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert challenge == expected
    assert "=" not in challenge and len(challenge) == 43
    assert make_pkce()[0] != verifier


def test_pkce_challenge_matches_rfc_7636_example() -> None:
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_authorize_url_carries_client_redirect_state_and_challenge() -> None:
    url = authorize_url(
        PlatformEndpoints(api_url="https://api.example.invalid/"),
        CLIENT,
        redirect_uri="http://127.0.0.1:5555/callback",
        state="st&ate=1",
        code_challenge="chal",
        scope="projects:read",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "api.example.invalid", "/v1/oauth/authorize")
    assert parse_qs(parts.query) == {
        "client_id": [CLIENT_ID],
        "response_type": ["code"],
        "redirect_uri": ["http://127.0.0.1:5555/callback"],
        "state": ["st&ate=1"],
        "code_challenge": ["chal"],
        "code_challenge_method": ["S256"],
        "scope": ["projects:read"],
    }
    assert CLIENT_SECRET not in url


def test_sign_in_opens_the_authorize_url_with_a_fresh_state_and_loopback_redirect() -> None:
    browser = Browser()
    tokens = TokenEndpoint(browser)
    for _ in range(2):
        asyncio.run(sign_in_with_browser(ENDPOINTS, CLIENT, open_browser=browser, transport=tokens.transport()))
    first, second = (_query(url) for url in browser.urls)
    assert first["client_id"] == CLIENT_ID and first["response_type"] == "code"
    assert first["code_challenge_method"] == "S256"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", first["redirect_uri"])
    assert len(first["state"]) >= 43
    assert first["state"] != second["state"] and first["code_challenge"] != second["code_challenge"]
    assert "scope" not in first


def test_client_id_must_be_a_uuid_and_the_secret_never_shows() -> None:
    with pytest.raises(SignInFailed, match="UUID"):
        OAuthClient("not-a-uuid", Secret("x")).validate()
    with pytest.raises(SignInFailed, match="secret is missing"):
        OAuthClient(CLIENT_ID, Secret(" ")).validate()
    CLIENT.validate()
    assert CLIENT_SECRET not in repr(CLIENT)
    with pytest.raises(SignInFailed):
        asyncio.run(sign_in_with_browser(ENDPOINTS, OAuthClient("nope", Secret("x")), open_browser=Browser()))


# -- The loopback listener -----------------------------------------------------------------------------------


def test_listener_delivers_the_callback_and_shows_the_outcome() -> None:
    async def scenario() -> tuple[dict[str, str], httpx.Response, int]:
        async with LoopbackListener() as listener, httpx.AsyncClient(trust_env=False) as http:
            port = urlsplit(listener.redirect_uri).port
            assert port is not None
            assert listener.redirect_uri == f"http://127.0.0.1:{port}/callback"
            visit = asyncio.ensure_future(http.get(listener.redirect_uri, params={"code": "c1", "state": "s"}))
            params = await listener.wait()
            assert not visit.done()  # the page waits for the outcome
            listener.finish(success=True)
            page = await visit
        return params, page, port

    params, page, port = _run_alone(scenario)
    assert params == {"code": "c1", "state": "s"}
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Studio is signed in - you can close this tab" in page.text
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[1]
    assert _refused(port)


def test_listener_ignores_other_paths_and_refuses_a_second_callback() -> None:
    async def scenario() -> list[httpx.Response]:
        async with LoopbackListener() as listener, httpx.AsyncClient(trust_env=False) as http:
            favicon = await http.get(listener.redirect_uri.replace("/callback", "/favicon.ico"))
            post = await http.post(listener.redirect_uri, data={"code": "x"})
            first = asyncio.ensure_future(http.get(listener.redirect_uri, params={"code": "c1", "state": "s"}))
            params = await listener.wait()
            second = await http.get(listener.redirect_uri, params={"code": "c2", "state": "s"})
            assert await listener.wait() == params == {"code": "c1", "state": "s"}
            listener.finish(success=False, detail="Something <b>odd</b> happened.")
            return [favicon, post, second, await first]

    favicon, post, second, first = _run_alone(scenario)
    assert favicon.status_code == 404
    assert post.status_code == 405
    assert second.status_code == 409 and "already finished" in second.text
    assert "Sign-in did not complete" in first.text
    assert "Something &lt;b&gt;odd&lt;/b&gt; happened." in first.text


def test_listener_answers_garbage_and_foreign_hosts_with_400() -> None:
    async def raw(port: int, data: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
        return answer

    async def scenario() -> list[bytes]:
        async with LoopbackListener() as listener:
            port = urlsplit(listener.redirect_uri).port
            assert port is not None
            answers = [
                await raw(port, b"NONSENSE\r\n\r\n"),
                await raw(port, b"GET /callback?" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n"),
                await raw(port, b"GET /callback HTTP/1.1\r\n" + b"X-Pad: y\r\n" * 200 + b"\r\n"),
                await raw(port, b"GET /callback?code=c&state=s HTTP/1.1\r\nHost: evil.example:80\r\n\r\n"),
            ]
            # None of them counted as the callback.
            visit = asyncio.ensure_future(raw(port, b"GET /callback?code=ok&state=s HTTP/1.0\r\n\r\n"))
            assert await listener.wait() == {"code": "ok", "state": "s"}
            listener.finish(success=True)
            answers.append(await visit)
            return answers

    *bad, good = _run_alone(scenario)
    for answer in bad:
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:40]
    assert good.startswith(b"HTTP/1.1 200 OK\r\n")


def test_closing_drops_idle_connections_and_answers_a_waiting_callback() -> None:
    async def scenario() -> tuple[httpx.Response, float]:
        async with httpx.AsyncClient(trust_env=False) as http:
            listener = LoopbackListener()
            await listener.start()
            port = urlsplit(listener.redirect_uri).port
            # A browser's speculative connection that never sends a request.
            idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
            visit = asyncio.ensure_future(http.get(listener.redirect_uri, params={"code": "c", "state": "s"}))
            await listener.wait()
            started = time.monotonic()
            await listener.aclose()
            elapsed = time.monotonic() - started
            assert await idle_reader.read() == b""
            idle_writer.close()
            await idle_writer.wait_closed()
            return await visit, elapsed

    page, elapsed = _run_alone(scenario)
    assert "Return to Studio" in page.text
    assert elapsed < 1.0


# -- The browser flow ---------------------------------------------------------------------------------------


def test_sign_in_exchanges_the_code_with_the_verifier() -> None:
    browser = Browser()
    endpoint = TokenEndpoint(browser)
    before = time.time()
    tokens = _run_alone(
        lambda: sign_in_with_browser(ENDPOINTS, CLIENT, open_browser=browser, transport=endpoint.transport())
    )
    assert isinstance(tokens, AccountTokens)
    assert tokens.kind == "oauth"
    assert tokens.access_token == Secret("sbp_oauth_access_1")
    assert tokens.refresh_token == Secret("refresh_1")
    assert tokens.expires_at is not None and before + 3600 <= tokens.expires_at <= time.time() + 3600
    (form,) = endpoint.forms
    assert form["grant_type"] == "authorization_code" and form["code"] == "the-code"
    assert set(form) == {"grant_type", "code", "redirect_uri", "code_verifier"}
    assert "Studio is signed in" in browser.pages[0].text
    assert "sbp_oauth_access_1" not in repr(tokens)


def test_a_browser_opener_that_finds_no_browser_still_waits() -> None:
    browser = Browser()
    endpoint = TokenEndpoint(browser)
    visits: list[asyncio.Task[bool]] = []

    def no_browser(url: str) -> bool:
        # webbrowser.open returned False; the builder opens the printed address by hand.
        visits.append(asyncio.get_running_loop().create_task(browser(url)))
        return False

    async def scenario() -> AccountTokens:
        tokens = await sign_in_with_browser(ENDPOINTS, CLIENT, open_browser=no_browser, transport=endpoint.transport())
        await visits[0]
        return tokens

    assert _run_alone(scenario).kind == "oauth"


def test_a_foreign_state_is_refused_and_nothing_is_exchanged() -> None:
    browser = Browser(lambda q: {"code": "attacker-code", "state": "forged"})
    endpoint = TokenEndpoint(browser)
    error = _sign_in_failure(browser, endpoint)
    assert "did not come from this sign-in" in error.message and "stored nothing" in error.message
    assert endpoint.forms == []
    assert "Sign-in did not complete" in browser.pages[0].text


def test_a_missing_state_is_refused() -> None:
    browser = Browser(lambda q: {"code": "c"})
    endpoint = TokenEndpoint(browser)
    assert "did not come from this sign-in" in _sign_in_failure(browser, endpoint).message
    assert endpoint.forms == []


def test_access_denied_is_a_cancelled_sign_in() -> None:
    browser = Browser(lambda q: {"error": "access_denied", "state": q["state"]})
    endpoint = TokenEndpoint(browser)
    error = _sign_in_failure(browser, endpoint)
    assert error.message == "Sign-in was cancelled in the browser."
    assert endpoint.forms == []


def test_another_error_shows_its_description() -> None:
    browser = Browser(
        lambda q: {"error": "server_error", "error_description": "Database\nunavailable", "state": q["state"]}
    )
    error = _sign_in_failure(browser, TokenEndpoint(browser))
    assert "Database unavailable" in error.message


def test_no_answer_times_out() -> None:
    opened: list[str] = []
    started = time.monotonic()
    error = _sign_in_failure(opened.append, TokenEndpoint(), timeout=0.2)
    assert time.monotonic() - started < 2
    assert error.message == "No answer from the browser within 0.2 seconds."
    assert len(opened) == 1


def test_the_cancel_event_stops_the_wait() -> None:
    async def scenario() -> SignInFailed:
        cancel = asyncio.Event()
        calls: list[str] = []

        async def open_then_cancel(url: str) -> None:
            calls.append(url)
            await asyncio.sleep(0.05)
            cancel.set()

        with pytest.raises(SignInFailed) as caught:
            await sign_in_with_browser(ENDPOINTS, CLIENT, open_browser=open_then_cancel, cancel=cancel, timeout=30)
        assert calls
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return caught.value

    started = time.monotonic()
    assert asyncio.run(scenario()).message == "Sign-in cancelled."
    assert time.monotonic() - started < 5


def test_a_rejected_code_fails_the_sign_in_without_revealing_secrets() -> None:
    browser = Browser()
    endpoint = TokenEndpoint(browser)
    endpoint.reply = lambda request: httpx.Response(
        400, json={"error": "invalid_grant", "error_description": f"bad code the-code from {CLIENT_SECRET}"}
    )
    error = _sign_in_failure(browser, endpoint)
    assert "authorization code" in error.message
    assert CLIENT_SECRET not in str(error) and "the-code" not in str(error)
    assert "Sign-in did not complete" in browser.pages[0].text


def test_a_dropped_token_request_is_reported_and_not_repeated() -> None:
    browser = Browser()
    endpoint = TokenEndpoint(browser)

    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    endpoint.reply = drop

    async def scenario() -> None:
        with pytest.raises(ResponseLost):
            await sign_in_with_browser(
                ENDPOINTS, CLIENT, open_browser=browser, transport=endpoint.transport(), sleep=_no_sleep
            )

    _run_alone(scenario)
    assert len(endpoint.forms) == 1


# -- Refresh and revoke ---------------------------------------------------------------------------------------


def test_refresh_returns_the_rotated_refresh_token() -> None:
    endpoint = TokenEndpoint()
    tokens = _run_alone(lambda: refresh_tokens(ENDPOINTS, CLIENT, Secret("refresh_0"), transport=endpoint.transport()))
    assert endpoint.forms == [{"grant_type": "refresh_token", "refresh_token": "refresh_0"}]
    assert tokens.refresh_token == Secret("refresh_1") and tokens.kind == "oauth"


def test_refresh_with_a_revoked_token_requires_signing_in_again() -> None:
    endpoint = TokenEndpoint()
    endpoint.reply = lambda request: httpx.Response(
        400, json={"error": "invalid_grant", "error_description": "refresh token refresh_0 already used"}
    )
    with pytest.raises(SignInRequired) as caught:
        asyncio.run(refresh_tokens(ENDPOINTS, CLIENT, Secret("refresh_0"), transport=endpoint.transport()))
    assert caught.value.message == "Your Supabase sign-in has ended - sign in again."
    assert "refresh_0" not in str(caught.value)


def test_refresh_with_a_wrong_client_secret_says_so() -> None:
    endpoint = TokenEndpoint()
    endpoint.reply = lambda request: httpx.Response(401, json={"error": "invalid_client"})
    with pytest.raises(SignInFailed, match="client id and secret"):
        asyncio.run(refresh_tokens(ENDPOINTS, CLIENT, Secret("refresh_0"), transport=endpoint.transport()))


def test_an_unexpected_token_answer_is_an_error() -> None:
    endpoint = TokenEndpoint()
    endpoint.reply = lambda request: httpx.Response(201, json={"access_token": "a", "token_type": "Bearer"})
    with pytest.raises(Exception, match="something other than tokens") as caught:
        asyncio.run(refresh_tokens(ENDPOINTS, CLIENT, Secret("refresh_0"), transport=endpoint.transport()))
    assert "refresh_0" not in str(caught.value)


def test_revoke_sends_the_client_and_refresh_token_as_json() -> None:
    endpoint = TokenEndpoint()
    _run_alone(lambda: revoke_tokens(ENDPOINTS, CLIENT, Secret("refresh_9"), transport=endpoint.transport()))
    assert endpoint.revoked == [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": "refresh_9"}]


# -- needs_refresh ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (AccountTokens(Secret("a"), Secret("r"), expires_at=1000.0, kind="oauth"), False),  # 200 s left
        (AccountTokens(Secret("a"), Secret("r"), expires_at=920.0, kind="oauth"), True),  # 120 s left
        (AccountTokens(Secret("a"), Secret("r"), expires_at=700.0, kind="oauth"), True),  # expired
        (AccountTokens(Secret("a"), None, expires_at=700.0, kind="oauth"), False),  # nothing to refresh with
        (AccountTokens(Secret("a"), Secret("r"), expires_at=None, kind="oauth"), False),
        (AccountTokens(Secret("sbp_a"), kind="token"), False),
    ],
)
def test_needs_refresh(tokens: AccountTokens, expected: bool) -> None:
    assert needs_refresh(tokens, now=800.0) is expected


def test_needs_refresh_margin() -> None:
    tokens = AccountTokens(Secret("a"), Secret("r"), expires_at=1000.0, kind="oauth")
    assert needs_refresh(tokens, now=800.0, margin=300.0)
    assert not needs_refresh(tokens, now=800.0, margin=0.0)
