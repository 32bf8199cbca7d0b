"""What the fake platform knows: accounts, organizations, projects, OAuth apps, faults, recorded requests.

Plain data objects. The `FakePlatform` guards them with one lock; handlers read and change them only
while holding it (long work - creating databases, running SQL - happens outside the lock).
"""

from __future__ import annotations

import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt

if TYPE_CHECKING:
    from tests.support.fake_platform.server import FakePlatform

__all__ = [
    "ACTIVE_HEALTHY",
    "COMING_UP",
    "INIT_FAILED",
    "FakeAccount",
    "FakeOAuthApp",
    "FakeOrganization",
    "FakeProject",
    "Fault",
    "RecordedRequest",
    "iso_now",
    "random_letters",
]

ACTIVE_HEALTHY = "ACTIVE_HEALTHY"
COMING_UP = "COMING_UP"
INIT_FAILED = "INIT_FAILED"

_KEY_ALPHABET = string.ascii_letters + string.digits
# Ten years: the lifetime Supabase gives its legacy API keys.
_LEGACY_KEY_LIFETIME = 10 * 365 * 24 * 3600


def random_letters(count: int) -> str:
    """`count` random lowercase ASCII letters (project refs, organization slugs)."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(count))


def random_key_chars(count: int) -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(count))


def new_personal_access_token() -> str:
    """A personal access token shaped like Supabase's: `sbp_` and 40 lowercase hex digits."""
    return "sbp_" + secrets.token_hex(20)


def iso_now() -> str:
    """Now, as the platform writes timestamps: ISO 8601 in UTC with microseconds and a `Z`."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(eq=False)
class FakeAccount:
    """A Supabase user of the fake platform. `token` is its first personal access token."""

    gotrue_id: str
    email: str
    username: str
    token: str
    tokens: list[str] = field(default_factory=list)
    _platform: FakePlatform | None = field(default=None, repr=False)

    @property
    def organizations(self) -> list[FakeOrganization]:
        """The organizations this account is a member of, oldest first."""
        return [] if self._platform is None else self._platform._organizations_of(self)

    @property
    def projects(self) -> list[FakeProject]:
        """The projects of this account's organizations, oldest first."""
        return [] if self._platform is None else self._platform._projects_of(self)

    @property
    def organization(self) -> FakeOrganization:
        """The account's first organization (the `fake_account` fixture's "Acme")."""
        organizations = self.organizations
        if not organizations:
            raise LookupError(f"{self.email} belongs to no organization.")
        return organizations[0]

    @property
    def project(self) -> FakeProject:
        """The first project of the account's organizations (the `fake_account` fixture's "shop")."""
        projects = self.projects
        if not projects:
            raise LookupError(f"{self.email} has no project.")
        return projects[0]

    def new_token(self) -> str:
        """Mint another personal access token for this account and return it."""
        token = new_personal_access_token()
        if self._platform is None:
            raise RuntimeError("This account does not belong to a platform.")
        self._platform._add_token(self, token)
        return token


@dataclass(eq=False)
class FakeOrganization:
    """An organization; `members` are the accounts that see it and its projects."""

    slug: str
    name: str
    members: list[FakeAccount] = field(default_factory=list)


@dataclass(eq=False)
class FakeProject:
    """A project with a real database (`db_name` on the local server) and its API keys."""

    ref: str
    name: str
    organization_slug: str
    region: str
    status: str
    created_at: str
    #: The project's database on the local server, and its URL ("" for `create_database=False`).
    db_name: str
    db_uri: str
    db_pass: str
    jwt_secret: str
    anon_key: str
    service_role_key: str
    publishable_key: str
    secret_key: str
    #: The project's own API (auth, rest) on the fake: `FakePlatform.project_url_template` filled in.
    api_url: str
    publishable_key_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret_key_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: Provisioning: status polls still answered with COMING_UP, and the status reached after them.
    polls_left: int = 0
    final_status: str = ACTIVE_HEALTHY

    def key_role(self, key: str) -> str | None:
        """The database role a request made with API key `key` runs as, or None if it is not a key of ours."""
        if key in (self.anon_key, self.publishable_key):
            return "anon"
        if key in (self.service_role_key, self.secret_key):
            return "service_role"
        return None

    def jwt_for(self, sub: str | None = None, *, role: str = "authenticated", lifetime: int = 3600) -> str:
        """A user access token signed with the project's JWT secret, as GoTrue would issue after a sign-in."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": f"{self.api_url}/auth/v1", "role": role, "aud": role, "iat": now}
        claims["exp"] = now + lifetime
        if sub is not None:
            claims["sub"] = sub
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")


def make_legacy_key(ref: str, role: str, secret: str) -> str:
    """A legacy API key: an HS256 JWT with the claims Supabase puts in its anon and service_role keys."""
    now = int(time.time())
    claims = {"iss": "supabase", "ref": ref, "role": role, "iat": now, "exp": now + _LEGACY_KEY_LIFETIME}
    return jwt.encode(claims, secret, algorithm="HS256")


@dataclass(eq=False)
class FakeOAuthApp:
    """An OAuth app registered with the platform (Studio is one). Empty `redirect_uris`: any is accepted."""

    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Fault:
    """A fault injected into the answers to matching requests (see `FakePlatform.inject`)."""

    method: str
    path_pattern: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    drop: bool = False
    drop_after_handling: bool = False
    #: How many more requests it applies to (None: every one).
    remaining: int | None = 1
    #: How many requests it has been applied to.
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return re.fullmatch(self.path_pattern, path) is not None


@dataclass
class RecordedRequest:
    """One request the fake received.

    `query` maps each query parameter to all its values; `body` is the parsed JSON, the form as a dict,
    the raw text, or None; `headers` has lowercase names, with Authorization and apikey values redacted.
    `status` is what was answered, None while handling or when the connection was dropped.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]
    status: int | None = None
    fault: Fault | None = None
    dropped: bool = False
