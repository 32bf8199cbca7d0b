"""The Supabase accounts Studio is signed in to: who they are, never their secrets.

`accounts.json` in Studio's data folder lists each account (id, e-mail, how it signed in), which one is
active, and the OAuth app's client id. Tokens and the OAuth client secret live in the OS keyring
(`studio.core.secrets`); this file holds nothing that would let anyone act as the user.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from studio.core.errors import WorkspaceError
from studio.core.migrations.files import write_atomic
from studio.core.paths import data_dir

FORMAT_VERSION = 1
FILE_NAME = "accounts.json"


@dataclass(frozen=True)
class Account:
    """A signed-in Supabase account.

    `id` is the account's user id on Supabase (`gotrue_id`); `kind` is "token" (a personal access token)
    or "oauth" (signed in through the browser with the OAuth app `oauth_client_id`).
    """

    id: str
    email: str
    username: str
    kind: str
    oauth_client_id: str | None = None

    @property
    def label(self) -> str:
        """How the account is shown: its e-mail, else its user name."""
        return self.email or self.username or self.id


class AccountRegistry:
    """Reads and writes `accounts.json` (atomically; a damaged file is reported, never overwritten blindly)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / FILE_NAME
        self._accounts: dict[str, Account] = {}
        self._active: str | None = None
        self._oauth_client_id: str | None = None
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            version = int(data.get("version", 0))
            if version > FORMAT_VERSION:
                raise WorkspaceError(
                    f"{self.path} was written by a newer Studio.",
                    hint="Update Studio to use these accounts.",
                )
            accounts = [Account(**entry) for entry in data.get("accounts", [])]
        except WorkspaceError:
            raise
        except (OSError, ValueError, TypeError) as exc:
            raise WorkspaceError(
                f"Studio's list of accounts ({self.path}) is damaged: {exc}.",
                hint="Move the file away and sign in again; your tokens stay in the keyring until you sign out.",
            ) from exc
        self._accounts = {account.id: account for account in accounts}
        active = data.get("active")
        self._active = active if active in self._accounts else None
        client_id = data.get("oauth_client_id")
        self._oauth_client_id = client_id if isinstance(client_id, str) else None

    def _save(self) -> None:
        data: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "active": self._active,
            "oauth_client_id": self._oauth_client_id,
            "accounts": [asdict(account) for account in self._accounts.values()],
        }
        write_atomic(self.path, json.dumps(data, indent=2) + "\n")

    def accounts(self) -> list[Account]:
        """Every signed-in account, in the order they were added."""
        return list(self._accounts.values())

    def get(self, account_id: str) -> Account | None:
        """The account with this id, if signed in."""
        return self._accounts.get(account_id)

    def find(self, text: str) -> Account | None:
        """The account whose id, e-mail or user name is `text`."""
        for account in self._accounts.values():
            if text in (account.id, account.email, account.username):
                return account
        return None

    def active(self) -> Account | None:
        """The account Studio uses unless told otherwise."""
        return self._accounts.get(self._active) if self._active else None

    def add(self, account: Account, *, make_active: bool = True) -> None:
        """Remember `account` (replacing an older entry of the same id)."""
        self._accounts[account.id] = account
        if make_active or self._active is None:
            self._active = account.id
        self._save()

    def remove(self, account_id: str) -> None:
        """Forget the account; another one becomes active if this one was."""
        self._accounts.pop(account_id, None)
        if self._active == account_id:
            self._active = next(iter(self._accounts), None)
        self._save()

    def set_active(self, account_id: str) -> None:
        """Switch to another signed-in account."""
        if account_id not in self._accounts:
            raise KeyError(account_id)
        self._active = account_id
        self._save()

    @property
    def oauth_client_id(self) -> str | None:
        """The OAuth app's client id entered last (its secret is in the keyring)."""
        return self._oauth_client_id

    def set_oauth_client_id(self, client_id: str | None) -> None:
        """Remember the OAuth app's client id."""
        self._oauth_client_id = client_id
        self._save()
