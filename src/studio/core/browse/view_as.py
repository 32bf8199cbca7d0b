""""View as": run the browser's queries as one of Supabase's API roles, the way PostgREST does.

PostgREST switches to the request's role and puts the verified JWT's claims into `request.jwt.claims`
for the transaction; row level security policies then read them through `auth.uid()`, `auth.role()` and
`auth.jwt()`. `ViewAs.settings()` gives exactly those two transaction-local settings, so what a browser
query returns is what an app signed in as that user would get.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum

from studio.core.errors import StudioError
from studio.core.sqltext import quote_literal

__all__ = ["BrowseRole", "ViewAs"]


class BrowseRole(StrEnum):
    """Whom the browser acts as."""

    OWNER = "owner"  # the connection's own role (postgres on Supabase): no switch, no claims
    SERVICE_ROLE = "service_role"
    ANON = "anon"
    AUTHENTICATED = "authenticated"

    @property
    def label(self) -> str:
        """The choice in words, for people."""
        return {
            "owner": "Database owner (no RLS)",
            "service_role": "Service role",
            "anon": "Anonymous (anon)",
            "authenticated": "Signed-in user",
        }[self.value]


@dataclass(frozen=True)
class ViewAs:
    """A role, and for `authenticated` the user's id (and e-mail, put into the claims when known)."""

    role: BrowseRole = BrowseRole.OWNER
    user_id: str | None = None
    email: str | None = None

    @classmethod
    def user(cls, user_id: str, email: str | None = None) -> ViewAs:
        """An authenticated user; raises `StudioError` when `user_id` is not a UUID (auth.uid() is one)."""
        text = user_id.strip()
        try:
            parsed = uuid.UUID(text)
        except ValueError:
            raise StudioError(
                f"{text!r} is not a user id.",
                hint="A user id is a UUID like 6f1c2a9e-4b7d-4c1e-9a63-2d5f0e8b7c41 (the id column of auth.users).",
            ) from None
        return cls(BrowseRole.AUTHENTICATED, str(parsed), email or None)

    @property
    def description(self) -> str:
        """Whom queries run as, in words."""
        if self.role is BrowseRole.AUTHENTICATED:
            return f"user {self.email or self.user_id}"
        if self.role is BrowseRole.OWNER:
            return "the database owner"
        return str(self.role.value)

    def claims(self) -> dict[str, str] | None:
        """The JWT claims PostgREST would set (None for the owner, who has no JWT)."""
        if self.role is BrowseRole.OWNER:
            return None
        claims = {"role": self.role.value}
        if self.role is BrowseRole.AUTHENTICATED:
            if self.user_id is None:
                raise StudioError("Pick a user to view the data as.", hint="Or type a user id (a UUID).")
            claims.update({"sub": self.user_id, "aud": "authenticated"})
            if self.email:
                claims["email"] = self.email
        return claims

    def settings(self) -> dict[str, str]:
        """Transaction-local settings for `Target.fetch(settings=...)`: the role first, then the claims."""
        claims = self.claims()
        if claims is None:
            return {}
        return {"role": self.role.value, "request.jwt.claims": json.dumps(claims, sort_keys=True)}

    def statements(self) -> list[str]:
        """The same settings as SQL statements, for the start of a transaction that changes rows."""
        return [
            f"select pg_catalog.set_config({quote_literal(name)}, {quote_literal(value)}, true)"
            for name, value in self.settings().items()
        ]
