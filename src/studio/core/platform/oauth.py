"""Signing in to a Supabase account: OAuth 2 authorization code flow with PKCE on a loopback redirect.

The flow (RFC 6749 + RFC 7636 + RFC 8252 "OAuth 2.0 for native apps"):

1. `LoopbackListener` listens on 127.0.0.1 on a port the system picks; its `redirect_uri` is
   `http://127.0.0.1:<port>/callback`.
2. The system browser opens `/v1/oauth/authorize` with the client id, that redirect URI, a random `state`
   and the S256 challenge of a random verifier.
3. After the builder approves (or cancels), Supabase sends the browser to the redirect URI with `code` and
   `state` (or `error`); the listener takes the first such request and answers with a small page.
4. The code is exchanged at `/v1/oauth/token` together with the verifier, authenticating the OAuth app with
   HTTP Basic `client_id:client_secret`. The result is an `AccountTokens(kind="oauth")`.

Refresh tokens rotate: each refresh returns a new refresh token and the old one stops working, so the
caller must store the new pair before anything else. A refresh whose answer is lost on the way
(`ResponseLost`) may already have rotated the token; the next refresh then fails with `SignInRequired`.

No token, code, verifier or client secret ever appears in a log line, an exception or a repr.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import html
import inspect
import json
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from studio.core.errors import PlatformError, SignInFailed, SignInRequired, StudioError
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.http import PlatformHttp, RetryNotice, RetryPolicy, Sleep
from studio.core.secrets import AccountTokens, Secret

log = logging.getLogger(__name__)

SERVICE_NAME: Final = "Supabase sign-in"
AUTHORIZE_PATH: Final = "/v1/oauth/authorize"
TOKEN_PATH: Final = "/v1/oauth/token"
REVOKE_PATH: Final = "/v1/oauth/revoke"
CALLBACK_PATH: Final = "/callback"

VERIFIER_LENGTH: Final = 64
"""Characters in a PKCE code verifier (RFC 7636 allows 43 to 128)."""

# Limits on what the loopback listener reads from one connection: a browser's callback request is a few
# hundred bytes; anything far larger or slower is not a browser and must not tie the listener up.
_MAX_LINE: Final = 8192
_MAX_HEADERS: Final = 100
_MAX_HEADER_BYTES: Final = 32768
_MAX_QUERY_FIELDS: Final = 50
_READ_TIMEOUT: Final = 10.0
# How long the browser's callback request is held open while Studio exchanges the code, so that the page
# tells the real outcome; after that the page just says to return to Studio.
_OUTCOME_WAIT: Final = 120.0
# How long closing the listener lets pages that are being written finish.
_CLOSE_GRACE: Final = 2.0

_TOKEN_OK: Final = frozenset({200, 201, 400, 401})

BrowserOpener = Callable[[str], object]
"""Opens a URL in the system browser; may return an awaitable; a False result means no browser was found.

`webbrowser.open` can block until a browser starts, so the app passes `lambda url: asyncio.to_thread(
webbrowser.open, url)`; the CLI also prints the URL so it can be opened by hand.
"""


@dataclass(frozen=True)
class OAuthClient:
    """The OAuth app Studio signs in through, as registered in Supabase: its client id and secret."""

    client_id: str
    client_secret: Secret

    def validate(self) -> None:
        """Raise `SignInFailed` when the client id is not a UUID or the secret is empty."""
        try:
            canonical = str(uuid.UUID(self.client_id))
        except (ValueError, TypeError, AttributeError):
            canonical = ""
        if not isinstance(self.client_id, str) or canonical != self.client_id.lower():
            raise SignInFailed(
                "The OAuth client id is not valid: it should be a UUID such as 66666666-6666-4666-8666-666666666666.",
                hint="Copy the client id of the OAuth app from Supabase's dashboard (Organization settings, "
                "OAuth Apps).",
            )
        if not isinstance(self.client_secret, Secret) or not self.client_secret.reveal().strip():
            raise SignInFailed(
                "The OAuth client secret is missing.",
                hint="Copy the client secret of the OAuth app from Supabase's dashboard (Organization settings, "
                "OAuth Apps).",
            )

    def basic_authorization(self) -> str:
        """The `Authorization` header value that authenticates this app to the token endpoint."""
        pair = f"{self.client_id}:{self.client_secret.reveal()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def make_pkce() -> tuple[str, str]:
    """A fresh PKCE pair `(verifier, challenge)`: 64 random URL-safe characters and their S256 challenge."""
    verifier = secrets.token_urlsafe(48)  # 48 random bytes are exactly 64 base64url characters
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of `verifier`: base64url of its SHA-256, without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorize_url(
    endpoints: PlatformEndpoints,
    client: OAuthClient,
    *,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    scope: str | None = None,
) -> str:
    """The address of Supabase's consent page for this sign-in (it holds no secret)."""
    params = {
        "client_id": client.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if scope:
        params["scope"] = scope
    return f"{endpoints.api_url.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(params)}"


def needs_refresh(tokens: AccountTokens, *, now: float | None = None, margin: float = 120.0) -> bool:
    """Whether OAuth tokens should be refreshed now: the access token expires within `margin` seconds.

    False for tokens that cannot be refreshed (a personal access token, or no refresh token) and for
    tokens without an expiry.
    """
    if tokens.kind != "oauth" or tokens.refresh_token is None or tokens.expires_at is None:
        return False
    return (time.time() if now is None else now) + margin >= tokens.expires_at


# --- The loopback listener -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    status: int
    title: str
    text: str


_STATUS_TEXT: Final = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}

_PAGE_NOT_FOUND: Final = _Page(404, "Not found", "There is nothing here.")
_PAGE_BAD_REQUEST: Final = _Page(400, "Bad request", "Studio could not read this request.")
_PAGE_ALREADY_FINISHED: Final = _Page(
    409, "Sign-in already finished", "This sign-in has already finished. You can close this tab."
)
_PAGE_UNDECIDED: Final = _Page(200, "Return to Studio", "Return to Studio to see whether the sign-in completed.")


def _render(page: _Page) -> bytes:
    """A complete HTTP/1.1 response carrying a self-contained HTML page (no external resources)."""
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(page.title)} - Studio</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:0;display:flex;min-height:100vh;"
        "align-items:center;justify-content:center;background:#f6f7f9;color:#1c1c1c}"
        "main{max-width:32rem;padding:2rem;text-align:center}h1{font-size:1.4rem}</style></head>"
        f"<body><main><h1>{html.escape(page.title)}</h1><p>{html.escape(page.text)}</p></main></body></html>"
    ).encode()
    head = (
        f"HTTP/1.1 {page.status} {_STATUS_TEXT.get(page.status, 'OK')}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        # The callback URL carries the authorization code: keep it out of any Referer header.
        "Referrer-Policy: no-referrer\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")
    return head + body


class _BadRequest(Exception):
    """The connection did not carry a readable HTTP request."""


class LoopbackListener:
    """A one-shot HTTP server on 127.0.0.1 that receives the browser's OAuth callback.

    Use it as an async context manager: `redirect_uri` is valid inside the block; `await wait()` returns the
    query parameters of the first request to `/callback`. That request's page is held until `finish()` says
    how the sign-in ended (or the listener closes), so the browser tab shows the real outcome. Later
    callbacks get a page saying the sign-in already finished; other paths (`/favicon.ico`) get a 404.
    Leaving the block closes the server and every connection.
    """

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._port = 0
        self._callback: asyncio.Future[dict[str, str]] | None = None
        self._outcome: asyncio.Future[_Page] | None = None
        self._reading: set[asyncio.Task[Any]] = set()
        self._answering: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def redirect_uri(self) -> str:
        """The address the browser is sent back to: `http://127.0.0.1:<port>/callback`."""
        if self._server is None:
            raise RuntimeError("the listener is not started")
        return f"http://127.0.0.1:{self._port}{CALLBACK_PATH}"

    async def start(self) -> None:
        """Start listening on an unused port of the IPv4 loopback interface."""
        loop = asyncio.get_running_loop()
        self._callback = loop.create_future()
        self._outcome = loop.create_future()
        self._server = await asyncio.start_server(self._handle, host="127.0.0.1", port=0, limit=_MAX_LINE)
        self._port = self._server.sockets[0].getsockname()[1]

    async def __aenter__(self) -> LoopbackListener:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def wait(self) -> dict[str, str]:
        """The query parameters of the first `/callback` request (each name's first value)."""
        if self._callback is None:
            raise RuntimeError("the listener is not started")
        return await asyncio.shield(self._callback)

    def finish(self, *, success: bool, detail: str = "") -> None:
        """Tell the browser how the sign-in ended (`detail` is shown on a failure page; never a secret)."""
        if success:
            page = _Page(200, "Signed in", "Studio is signed in - you can close this tab.")
        else:
            page = _Page(200, "Sign-in did not complete", f"{detail} You can close this tab and return to Studio.")
        self._set_outcome(page)

    def cancelled(self) -> None:
        """Tell the browser the sign-in was cancelled."""
        self._set_outcome(_Page(200, "Sign-in was cancelled", "You can close this tab and return to Studio."))

    def _set_outcome(self, page: _Page) -> None:
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(page)

    async def aclose(self) -> None:
        """Stop listening, let pages being written finish briefly, and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        self._set_outcome(_PAGE_UNDECIDED)
        if self._callback is not None and not self._callback.done():
            self._callback.cancel()
        # Connections still reading a request are idle browser pre-connections or stragglers: drop them.
        for task in list(self._reading):
            task.cancel()
        pending = self._reading | self._answering
        if pending:
            _done, still = await asyncio.wait(pending, timeout=_CLOSE_GRACE)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still)
        for writer in list(self._writers):
            writer.close()
        await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self._server is None:  # accepted just before the listener closed
            writer.close()
            return
        self._writers.add(writer)
        self._reading.add(task)
        try:
            try:
                async with asyncio.timeout(_READ_TIMEOUT):
                    method, target, headers = await _read_request(reader)
            except (_BadRequest, TimeoutError, ConnectionError):
                page: _Page | None = _PAGE_BAD_REQUEST
            else:
                page = None
            self._reading.discard(task)
            self._answering.add(task)
            if page is None:
                page = await self._answer(method, target, headers)
            writer.write(_render(page))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
                if page is _PAGE_BAD_REQUEST:
                    await _discard_unread(reader, writer)
        except asyncio.CancelledError:
            pass  # the listener is closing; the connection is closed below
        except Exception:  # a misbehaving client must never take the listener down
            log.debug("Sign-in listener: a connection failed", exc_info=True)
        finally:
            self._reading.discard(task)
            self._answering.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _answer(self, method: str, target: str, headers: dict[str, str]) -> _Page:
        if method != "GET":
            return _Page(405, "Not allowed", "Only GET is served here.")
        host = headers.get("host")
        if host is not None and host.lower() not in (f"127.0.0.1:{self._port}", f"localhost:{self._port}"):
            # A page on another site reaching this port through DNS rebinding: not the browser's redirect.
            return _PAGE_BAD_REQUEST
        parts = urlsplit(target)
        if parts.path != CALLBACK_PATH:
            return _PAGE_NOT_FOUND
        try:
            pairs = parse_qsl(parts.query, keep_blank_values=True, max_num_fields=_MAX_QUERY_FIELDS)
        except ValueError:
            return _PAGE_BAD_REQUEST
        params: dict[str, str] = {}
        for name, value in pairs:
            params.setdefault(name, value)
        assert self._callback is not None and self._outcome is not None
        if self._callback.done():
            return _PAGE_ALREADY_FINISHED
        self._callback.set_result(params)
        try:
            return await asyncio.wait_for(asyncio.shield(self._outcome), timeout=_OUTCOME_WAIT)
        except TimeoutError:
            return _PAGE_UNDECIDED


async def _discard_unread(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read what the client is still sending before closing, so the answer is not lost to a TCP reset."""
    if writer.can_write_eof():
        writer.write_eof()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):
            for _ in range(16):
                if not await reader.read(_MAX_LINE):
                    break


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    """Method, target and headers (lower-cased names) of one HTTP/1.x request; its body is never read."""
    line = await _read_line(reader)
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1]:
        raise _BadRequest
    method, target, _version = parts
    if not (target.startswith("/") or target.startswith("http://")):
        raise _BadRequest
    headers: dict[str, str] = {}
    total = 0
    for _ in range(_MAX_HEADERS + 1):
        header = await _read_line(reader)
        if not header:
            return method, target, headers
        total += len(header)
        if total > _MAX_HEADER_BYTES or len(headers) >= _MAX_HEADERS:
            raise _BadRequest
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise _BadRequest
        headers.setdefault(name.strip().lower(), value.strip())
    raise _BadRequest


async def _read_line(reader: asyncio.StreamReader) -> str:
    try:
        raw = await reader.readuntil(b"\n")
    except (asyncio.LimitOverrunError, asyncio.IncompleteReadError, ValueError) as exc:
        raise _BadRequest from exc
    return raw.decode("latin-1").rstrip("\r\n")


# --- The flow ----------------------------------------------------------------------------------------------


def _http(
    endpoints: PlatformEndpoints,
    *,
    policy: RetryPolicy | None,
    on_retry: RetryNotice | None,
    sleep: Sleep | None,
    transport: httpx.AsyncBaseTransport | None,
) -> PlatformHttp:
    extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    return PlatformHttp(
        endpoints.api_url,
        token=None,
        policy=policy,
        on_retry=on_retry,
        transport=transport,
        service_name=SERVICE_NAME,
        **extra,
    )


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{seconds:g} second" + ("" if seconds == 1 else "s")


def _scrub(text: str, hidden: Iterable[str]) -> str:
    """`text` (from a server or a browser) made safe to show: one line, short, without any of `hidden`."""
    for value in hidden:
        if value:
            text = text.replace(value, "…")
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text[:300]


async def _run_opener(opened: Awaitable[object]) -> None:
    try:
        result = await opened
    except Exception:  # the user can still open the printed address by hand
        log.warning("The browser could not be opened; open the sign-in address by hand", exc_info=True)
        return
    if result is False:
        log.info("No browser was found; open the sign-in address by hand")


async def _settle(opener: asyncio.Future[None]) -> None:
    """Let the opener finish (its page is being answered), then stop it if it is still running."""
    await asyncio.wait({opener}, timeout=_CLOSE_GRACE)
    if not opener.done():
        opener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await opener


async def sign_in_with_browser(
    endpoints: PlatformEndpoints,
    client: OAuthClient,
    *,
    open_browser: BrowserOpener,
    timeout: float = 300.0,
    cancel: asyncio.Event | None = None,
    scope: str | None = None,
    policy: RetryPolicy | None = None,
    on_retry: RetryNotice | None = None,
    sleep: Sleep | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AccountTokens:
    """Sign in through the system browser and return the account's OAuth tokens.

    Waits for the browser's answer at most `timeout` seconds, or until `cancel` is set. Raises
    `SignInFailed` when the sign-in is cancelled, denied, times out or the answer is not this sign-in's;
    `NetworkDown`/`ResponseLost` or another `PlatformError` when the code exchange fails. `policy`,
    `on_retry`, `sleep` and `transport` configure the HTTP client of the code exchange.
    """
    client.validate()
    verifier, challenge = make_pkce()
    state = secrets.token_urlsafe(32)
    async with LoopbackListener() as listener:
        opener: asyncio.Future[None] | None = None
        try:
            url = authorize_url(
                endpoints,
                client,
                redirect_uri=listener.redirect_uri,
                state=state,
                code_challenge=challenge,
                scope=scope,
            )
            opened = open_browser(url)
            if inspect.isawaitable(opened):
                # Run beside the wait: an opener may not return before the browser has come back to us.
                opener = asyncio.ensure_future(_run_opener(opened))
            elif opened is False:
                log.info("No browser was found; open the sign-in address by hand")
            params = await _wait_for_callback(listener, timeout=timeout, cancel=cancel)
            code = _code_from(params, state)
            http = _http(endpoints, policy=policy, on_retry=on_retry, sleep=sleep, transport=transport)
            try:
                form = {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": listener.redirect_uri,
                    "code_verifier": verifier,
                }
                tokens = await _token_request(http, client, form, hidden=(code, verifier))
            finally:
                await http.aclose()
        except BaseException as exc:
            listener.finish(success=False, detail=exc.message if isinstance(exc, StudioError) else "Studio stopped.")
            raise
        else:
            listener.finish(success=True)
        finally:
            if opener is not None:
                await _settle(opener)
    return tokens


async def _wait_for_callback(
    listener: LoopbackListener, *, timeout: float, cancel: asyncio.Event | None
) -> dict[str, str]:
    callback = asyncio.ensure_future(listener.wait())
    waiters: set[asyncio.Future[Any]] = {callback}
    cancelled = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    if cancelled is not None:
        waiters.add(cancelled)
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            if not waiter.done():
                waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    if callback.done() and not callback.cancelled():
        return callback.result()
    if cancelled is not None and cancelled.done() and not cancelled.cancelled():
        listener.cancelled()
        raise SignInFailed("Sign-in cancelled.", hint="Nothing was stored.")
    raise SignInFailed(
        f"No answer from the browser within {_duration(timeout)}.",
        hint="Sign in again, and approve Studio's access on Supabase's page in the browser.",
    )


def _code_from(params: dict[str, str], state: str) -> str:
    """The authorization code of a callback, after checking it answers this sign-in."""
    if not hmac.compare_digest(params.get("state", "").encode(), state.encode()):
        raise SignInFailed(
            "The browser's answer did not come from this sign-in, so Studio ignored it and stored nothing.",
            hint="Close other sign-in tabs, then sign in again.",
        )
    error = params.get("error")
    if error == "access_denied":
        raise SignInFailed(
            "Sign-in was cancelled in the browser.", hint="Nothing was stored; sign in again to connect."
        )
    if error is not None:
        said = _scrub(params.get("error_description") or error, ())
        raise SignInFailed(f"Supabase did not complete the sign-in: {said}.", hint="Sign in again.")
    code = params.get("code", "")
    if not code:
        raise SignInFailed("The browser's answer carried no authorization code.", hint="Sign in again.")
    return code


async def _token_request(
    http: PlatformHttp, client: OAuthClient, form: dict[str, str], *, hidden: tuple[str, ...]
) -> AccountTokens:
    """POST to the token endpoint and turn its answer into tokens or an error a builder can act on."""
    refreshing = form["grant_type"] == "refresh_token"
    hidden = (*hidden, client.client_secret.reveal())
    started = time.time()
    response = await http.request(
        "POST", TOKEN_PATH, form=form, headers={"Authorization": client.basic_authorization()}, ok=_TOKEN_OK
    )
    if response.status_code in (400, 401):
        raise _token_error(response, refreshing=refreshing, hidden=hidden)
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        body = {}
    access = body.get("access_token")
    refresh = body.get("refresh_token")
    expires_in = body.get("expires_in")
    token_type = body.get("token_type")
    if (
        not isinstance(access, str)
        or not access
        or not isinstance(refresh, str)
        or not refresh
        or not isinstance(expires_in, int | float)
        or isinstance(expires_in, bool)
        or expires_in < 0
        or not isinstance(token_type, str)
        or token_type.lower() != "bearer"
    ):
        raise PlatformError(
            f"{SERVICE_NAME} answered with something other than tokens (HTTP {response.status_code}).",
            hint="Try again; if it keeps happening, the sign-in service may have changed.",
            status=response.status_code,
        )
    return AccountTokens(
        access_token=Secret(access), refresh_token=Secret(refresh), expires_at=started + float(expires_in), kind="oauth"
    )


def _token_error(response: httpx.Response, *, refreshing: bool, hidden: tuple[str, ...]) -> PlatformError:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    described = body.get("error_description") or body.get("message") if isinstance(body, dict) else None
    said = _scrub(described if isinstance(described, str) else "", hidden)
    quoted = f" ({said})" if said else ""
    status = response.status_code
    if error == "invalid_client" or status == 401:
        return SignInFailed(
            f"Supabase did not accept the OAuth app's client id and secret{quoted}.",
            hint="Check the client id and secret of the OAuth app in Supabase's dashboard, enter them again, "
            "then sign in again.",
            status=status,
        )
    if error == "invalid_grant":
        if refreshing:
            return SignInRequired(
                "Your Supabase sign-in has ended - sign in again.",
                hint="It was revoked, or used from another copy of Studio.",
                status=status,
            )
        return SignInFailed(
            f"Supabase did not accept the sign-in's authorization code{quoted}.",
            hint="It may have expired; sign in again.",
            status=status,
        )
    if refreshing:
        return SignInRequired(
            f"Supabase refused to renew the sign-in{quoted} - sign in again.", hint="Sign in again.", status=status
        )
    return SignInFailed(f"Supabase refused the sign-in{quoted}.", hint="Sign in again.", status=status)


async def refresh_tokens(
    endpoints: PlatformEndpoints,
    client: OAuthClient,
    refresh_token: Secret,
    *,
    policy: RetryPolicy | None = None,
    on_retry: RetryNotice | None = None,
    sleep: Sleep | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AccountTokens:
    """New tokens for a refresh token; the result carries the rotated refresh token, to be stored at once.

    Raises `SignInRequired` when the refresh token was revoked or already used.
    """
    client.validate()
    http = _http(endpoints, policy=policy, on_retry=on_retry, sleep=sleep, transport=transport)
    try:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token.reveal()}
        return await _token_request(http, client, form, hidden=(refresh_token.reveal(),))
    finally:
        await http.aclose()


async def revoke_tokens(
    endpoints: PlatformEndpoints,
    client: OAuthClient,
    refresh_token: Secret,
    *,
    policy: RetryPolicy | None = None,
    on_retry: RetryNotice | None = None,
    sleep: Sleep | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Revoke the OAuth app's authorization and its tokens (signing out on Supabase's side)."""
    client.validate()
    http = _http(endpoints, policy=policy, on_retry=on_retry, sleep=sleep, transport=transport)
    try:
        body = {
            "client_id": client.client_id,
            "client_secret": client.client_secret.reveal(),
            "refresh_token": refresh_token.reveal(),
        }
        # Revoking twice does no harm, so a request whose answer was lost may be sent again.
        await http.request("POST", REVOKE_PATH, json_body=body, idempotent=True, ok=frozenset({200, 204}))
    finally:
        await http.aclose()
