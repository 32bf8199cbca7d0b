"""Signing in and out, and a signed-in account's access to the Management API.

`AccountSession` hands the Management API client a fresh token on every request: a personal access token
as stored, or an OAuth access token refreshed shortly before it expires (refresh tokens rotate, so the new
pair replaces the old one in the keyring before it is used).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from typing import Any

from studio.core.errors import RequestRejected, SignInFailed, SignInRequired
from studio.core.platform import oauth
from studio.core.platform.accounts import Account, AccountRegistry
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.http import RetryNotice, RetryPolicy, Sleep
from studio.core.platform.management import ManagementClient, Profile
from studio.core.secrets import AccountTokens, Secret, SecretStore

#: The Supabase CLI's format of personal access tokens (and of OAuth-minted ones).
TOKEN_PATTERN = re.compile(r"^sbp_(oauth_)?[a-f0-9]{40}$")


def check_token_format(text: str) -> Secret:
    """The token as a `Secret`, if it looks like a Supabase access token; else `RequestRejected`.

    Whitespace around a pasted token is ignored. The message never repeats the token.
    """
    token = text.strip()
    if not TOKEN_PATTERN.match(token):
        raise RequestRejected(
            "That is not a Supabase access token: they start with `sbp_` followed by 40 letters and digits.",
            hint="Create one at supabase.com under Account > Access Tokens, then paste all of it.",
        )
    return Secret(token)


class AccountSession:
    """One signed-in account's credentials, with refresh for OAuth accounts.

    `client()` gives a `ManagementClient` that asks this session for its token on every request.
    """

    def __init__(
        self,
        account: Account,
        store: SecretStore,
        endpoints: PlatformEndpoints,
        *,
        oauth_client: oauth.OAuthClient | None = None,
    ) -> None:
        self.account = account
        self.endpoints = endpoints
        self._store = store
        self._oauth_client = oauth_client
        self._refreshing = asyncio.Lock()
        self._cached: AccountTokens | None = None

    @classmethod
    def open(
        cls, account: Account, store: SecretStore, endpoints: PlatformEndpoints, registry: AccountRegistry
    ) -> AccountSession:
        """The session of `account`, with its OAuth app's credentials when it signed in through OAuth."""
        oauth_client = None
        if account.kind == "oauth" and account.oauth_client_id:
            secret = store.get_oauth_client_secret(account.oauth_client_id)
            if secret is not None:
                oauth_client = oauth.OAuthClient(client_id=account.oauth_client_id, client_secret=secret)
        return cls(account, store, endpoints, oauth_client=oauth_client)

    @property
    def store(self) -> SecretStore:
        """The credential store holding this account's tokens."""
        return self._store

    def _tokens(self, *, from_store: bool = False) -> AccountTokens:
        """The account's tokens: read from the keyring once, then kept (re-read before refreshing, since
        another Studio process may have rotated them meanwhile)."""
        if self._cached is None or from_store:
            tokens = self._store.get_account_tokens(self.account.id)
            if tokens is None:
                self._cached = None
                raise SignInRequired(
                    f"Studio has no token for {self.account.label} any more.",
                    hint="Sign in again (Studio: Connect, or `studio login`).",
                )
            self._cached = tokens
        return self._cached

    async def token(self) -> str:
        """The access token to send now, refreshed first when it is about to expire."""
        tokens = self._tokens()
        if tokens.kind == "oauth" and oauth.needs_refresh(tokens):
            tokens = await self.refresh(stale=tokens)
        return tokens.access_token.reveal()

    async def refresh(self, *, stale: AccountTokens | None = None) -> AccountTokens:
        """Exchange the refresh token for a new pair and store it; concurrent callers share one refresh."""
        async with self._refreshing:
            tokens = self._tokens(from_store=True)
            if stale is not None and tokens.access_token != stale.access_token:
                return tokens  # another request refreshed while this one waited
            if tokens.kind != "oauth" or tokens.refresh_token is None or self._oauth_client is None:
                raise SignInRequired(
                    f"The sign-in of {self.account.label} has ended.",
                    hint="Sign in again (Studio: Connect, or `studio login`).",
                )
            fresh = await oauth.refresh_tokens(self.endpoints, self._oauth_client, tokens.refresh_token)
            self._store.set_account_tokens(self.account.id, fresh)
            self._cached = fresh
            return fresh

    async def _after_unauthorized(self) -> bool:
        tokens = self._tokens()
        if tokens.kind != "oauth":
            return False
        await self.refresh(stale=tokens)
        return True

    def client(
        self,
        *,
        policy: RetryPolicy | None = None,
        on_retry: RetryNotice | None = None,
        sleep: Sleep | None = None,
    ) -> ManagementClient:
        """A Management API client acting as this account (close it when done)."""
        return ManagementClient.connect(
            self.endpoints,
            token=self.token,
            on_unauthorized=self._after_unauthorized,
            policy=policy,
            on_retry=on_retry,
            sleep=sleep,
        )


async def _profile_of(endpoints: PlatformEndpoints, token: Secret, policy: RetryPolicy | None) -> Profile:
    async def bearer() -> str:
        return token.reveal()

    async with ManagementClient.connect(endpoints, token=bearer, policy=policy) as client:
        return await client.profile()


async def sign_in_with_token(
    text: str,
    *,
    store: SecretStore,
    registry: AccountRegistry,
    endpoints: PlatformEndpoints,
    policy: RetryPolicy | None = None,
) -> Account:
    """Check a pasted personal access token with Supabase, store it, and make its account active."""
    token = check_token_format(text)
    try:
        profile = await _profile_of(endpoints, token, policy)
    except SignInRequired as exc:
        raise SignInRequired(
            "Supabase did not accept this token: it was revoked, has expired or was mistyped.",
            hint="Create a new token at supabase.com under Account > Access Tokens and paste it.",
            status=exc.status,
        ) from exc
    account = Account(id=profile.gotrue_id, email=profile.email, username=profile.username, kind="token")
    store.set_account_tokens(account.id, AccountTokens(access_token=token, kind="token"))
    registry.add(account)
    return account


async def sign_in_with_browser(
    client: oauth.OAuthClient,
    *,
    store: SecretStore,
    registry: AccountRegistry,
    endpoints: PlatformEndpoints,
    open_browser: Callable[[str], object],
    timeout: float = 300.0,
    cancel: asyncio.Event | None = None,
    policy: RetryPolicy | None = None,
    **oauth_options: Any,
) -> Account:
    """Sign in through the browser with the OAuth app `client`, store the tokens and the app's secret."""
    tokens = await oauth.sign_in_with_browser(
        endpoints, client, open_browser=open_browser, timeout=timeout, cancel=cancel, **oauth_options
    )
    try:
        profile = await _profile_of(endpoints, tokens.access_token, policy)
    except BaseException:
        if tokens.refresh_token is not None:
            await _revoke_quietly(endpoints, client, tokens.refresh_token)
        raise
    account = Account(
        id=profile.gotrue_id,
        email=profile.email,
        username=profile.username,
        kind="oauth",
        oauth_client_id=client.client_id,
    )
    store.set_oauth_client_secret(client.client_id, client.client_secret)
    store.set_account_tokens(account.id, tokens)
    registry.set_oauth_client_id(client.client_id)
    registry.add(account)
    return account


async def _revoke_quietly(endpoints: PlatformEndpoints, client: oauth.OAuthClient, refresh_token: Secret) -> None:
    # Best effort: the sign-in failing is what the user needs to hear.
    with contextlib.suppress(Exception):
        await oauth.revoke_tokens(endpoints, client, refresh_token)


async def sign_out(
    account: Account,
    *,
    store: SecretStore,
    registry: AccountRegistry,
    endpoints: PlatformEndpoints,
) -> bool:
    """Forget the account: revoke its OAuth tokens (best effort), delete its secrets, drop it from the list.

    Returns False when the revocation could not be confirmed (the local sign-out still happened).
    """
    revoked = True
    tokens = store.get_account_tokens(account.id)
    if tokens is not None and tokens.kind == "oauth" and tokens.refresh_token is not None and account.oauth_client_id:
        secret = store.get_oauth_client_secret(account.oauth_client_id)
        if secret is not None:
            try:
                await oauth.revoke_tokens(
                    endpoints, oauth.OAuthClient(client_id=account.oauth_client_id, client_secret=secret),
                    tokens.refresh_token,
                )
            except (SignInRequired, SignInFailed):
                pass  # already invalid: nothing left to revoke
            except Exception:  # offline sign-out still forgets the tokens locally
                revoked = False
    store.delete_account_tokens(account.id)
    registry.remove(account.id)
    return revoked
