"""Everything a connect job needs, opened once: endpoints, the list of accounts and the credential store.

The CLI opens one per command; the app keeps one for its lifetime. When the OS has no credential store,
`open()` refuses with the probe's explanation unless the caller chose session-only secrets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from studio.core.errors import SecretStoreError, SignInRequired
from studio.core.platform.accounts import Account, AccountRegistry
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.session import AccountSession
from studio.core.secrets import SERVICE, SecretStore

#: Names another keyring service (a separate set of entries): for tests and side-by-side profiles.
SERVICE_VARIABLE = "STUDIO_KEYRING_SERVICE"


@dataclass
class PlatformContext:
    """Endpoints, accounts and secrets of this Studio installation."""

    endpoints: PlatformEndpoints
    registry: AccountRegistry
    store: SecretStore

    @classmethod
    def open(cls, *, store: SecretStore | None = None, session_only: bool = False) -> PlatformContext:
        """The context from the environment; raises `SecretStoreError` when there is no OS store to use."""
        if store is None:
            service = os.environ.get(SERVICE_VARIABLE, SERVICE)
            if session_only:
                store = SecretStore.session_only(service=service)
            else:
                found, report = SecretStore.open_default(service=service)
                if found is None:
                    raise SecretStoreError(
                        f"Studio found no place to keep secrets safely: {report.problem}",
                        hint="Studio never writes tokens to a plain file. In the app you can choose to keep them for"
                        " this session only.",
                    )
                store = found
        return cls(endpoints=PlatformEndpoints.from_environment(), registry=AccountRegistry(), store=store)

    def account(self, text: str | None = None) -> Account:
        """The account named by `text` (id, e-mail or user name), else the active one."""
        if text:
            account = self.registry.find(text)
            if account is None:
                known = ", ".join(a.label for a in self.registry.accounts()) or "none"
                raise SignInRequired(
                    f"Studio is not signed in as {text} (signed in: {known}).",
                    hint="Sign in with `studio login`, or pick one of the accounts listed.",
                )
            return account
        account = self.registry.active()
        if account is None:
            raise SignInRequired(
                "Studio is not signed in to Supabase.",
                hint="Sign in with `studio login` (a personal access token) or `studio login --oauth`.",
            )
        return account

    def session(self, account: Account | str | None = None) -> AccountSession:
        """The session of an account (see `account()`), ready to make API clients."""
        chosen = account if isinstance(account, Account) else self.account(account)
        return AccountSession.open(chosen, self.store, self.endpoints, self.registry)
