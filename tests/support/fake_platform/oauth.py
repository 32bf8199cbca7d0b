"""The platform's OAuth 2 authorization server: codes with PKCE (S256), rotating refresh tokens.

* An authorization code is single-use and lives 60 s; using one twice revokes what it issued.
* Each code exchange starts a token *family*. A refresh hands out a new refresh token and a new access
  token and retires the old refresh token; presenting a retired one again revokes the whole family
  (the reuse detection of OAuth 2.1 / RFC 9700) and is answered `invalid_grant`.
* Access tokens expire after `ttl` seconds; an expired or revoked one is `Unauthorized` on the API.

All methods are called with the platform's lock held.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from tests.support.fake_platform.state import FakeAccount, FakeOAuthApp

__all__ = ["CODE_LIFETIME", "OAuthError", "OAuthServer", "TokenPair", "s256_challenge"]

CODE_LIFETIME = 60.0


class OAuthError(Exception):
    """An OAuth error answer: `status` and the `error` / `error_description` pair."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


def s256_challenge(verifier: str) -> str:
    """The PKCE S256 code challenge of `verifier`: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class _Code:
    account: FakeAccount
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str | None
    expires_at: float
    used: bool = False
    family: str | None = None


@dataclass
class _Family:
    account: FakeAccount
    client_id: str
    current_refresh: str
    retired_refresh: set[str] = field(default_factory=set)
    access_tokens: set[str] = field(default_factory=set)
    revoked: bool = False


@dataclass
class _Access:
    family: str
    expires_at: float


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


class OAuthServer:
    """Codes, token families and access tokens of the fake's OAuth apps."""

    def __init__(self) -> None:
        self.apps: dict[str, FakeOAuthApp] = {}
        self._codes: dict[str, _Code] = {}
        self._families: dict[str, _Family] = {}
        self._refresh_index: dict[str, str] = {}
        self._access: dict[str, _Access] = {}

    # -- clients -------------------------------------------------------------------------------------

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> FakeOAuthApp:
        app = self.apps.get(client_id or "")
        if app is None or client_secret is None or not hmac.compare_digest(app.client_secret, client_secret):
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        return app

    def redirect_allowed(self, app: FakeOAuthApp, redirect_uri: str) -> bool:
        return not app.redirect_uris or redirect_uri in app.redirect_uris

    # -- authorization codes ---------------------------------------------------------------------------

    def issue_code(
        self, account: FakeAccount, app: FakeOAuthApp, redirect_uri: str, code_challenge: str, scope: str | None
    ) -> str:
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            account, app.client_id, redirect_uri, code_challenge, scope, time.monotonic() + CODE_LIFETIME
        )
        return code

    def exchange_code(
        self, app: FakeOAuthApp, code: str | None, redirect_uri: str | None, verifier: str | None, ttl: int
    ) -> TokenPair:
        entry = self._codes.get(code or "")
        if entry is None:
            raise OAuthError(400, "invalid_grant", "The authorization code is invalid.")
        if entry.used:
            if entry.family is not None:
                self._revoke_family(entry.family)
            raise OAuthError(400, "invalid_grant", "The authorization code has already been used.")
        if time.monotonic() > entry.expires_at:
            raise OAuthError(400, "invalid_grant", "The authorization code has expired.")
        if entry.client_id != app.client_id:
            raise OAuthError(400, "invalid_grant", "The authorization code was issued to another client.")
        if redirect_uri != entry.redirect_uri:
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization request.")
        if not verifier or not hmac.compare_digest(s256_challenge(verifier), entry.code_challenge):
            raise OAuthError(400, "invalid_grant", "The code_verifier does not match the code_challenge.")
        entry.used = True
        family_id = secrets.token_hex(8)
        refresh = _new_refresh_token()
        self._families[family_id] = _Family(entry.account, app.client_id, refresh)
        self._refresh_index[refresh] = family_id
        entry.family = family_id
        return self._pair(family_id, refresh, ttl)

    # -- refresh tokens ----------------------------------------------------------------------------------

    def refresh(self, app: FakeOAuthApp, refresh_token: str | None, ttl: int) -> TokenPair:
        family_id = self._refresh_index.get(refresh_token or "")
        family = self._families.get(family_id or "")
        if family is None or family_id is None or refresh_token is None:
            raise OAuthError(400, "invalid_grant", "The refresh token is invalid.")
        if family.client_id != app.client_id:
            raise OAuthError(400, "invalid_grant", "The refresh token was issued to another client.")
        if family.revoked:
            raise OAuthError(400, "invalid_grant", "The refresh token has been revoked.")
        if refresh_token != family.current_refresh:
            # A retired refresh token came back: someone else may hold the family. Revoke all of it.
            self._revoke_family(family_id)
            raise OAuthError(400, "invalid_grant", "The refresh token has already been used.")
        family.retired_refresh.add(refresh_token)
        new_refresh = _new_refresh_token()
        family.current_refresh = new_refresh
        self._refresh_index[new_refresh] = family_id
        return self._pair(family_id, new_refresh, ttl)

    def revoke(self, app: FakeOAuthApp, refresh_token: str) -> None:
        """Revoke the family of `refresh_token` (silently nothing for an unknown token, as RFC 7009 says)."""
        family_id = self._refresh_index.get(refresh_token)
        family = self._families.get(family_id or "")
        if family is not None and family_id is not None and family.client_id == app.client_id:
            self._revoke_family(family_id)

    # -- access tokens ------------------------------------------------------------------------------------

    def account_for(self, access_token: str) -> FakeAccount | None:
        """The account of a live access token, None if it is unknown, expired or revoked."""
        access = self._access.get(access_token)
        if access is None or time.monotonic() >= access.expires_at:
            return None
        family = self._families.get(access.family)
        if family is None or family.revoked:
            return None
        return family.account

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired now (refresh tokens stay usable)."""
        now = time.monotonic()
        for access in self._access.values():
            access.expires_at = min(access.expires_at, now)

    def _pair(self, family_id: str, refresh: str, ttl: int) -> TokenPair:
        access_token = "sbp_oauth_" + secrets.token_hex(20)
        self._access[access_token] = _Access(family_id, time.monotonic() + ttl)
        self._families[family_id].access_tokens.add(access_token)
        return TokenPair(access_token, refresh, ttl)

    def _revoke_family(self, family_id: str) -> None:
        family = self._families.get(family_id)
        if family is not None:
            family.revoked = True


def _new_refresh_token() -> str:
    return secrets.token_urlsafe(32)
