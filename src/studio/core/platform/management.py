"""The Supabase Management API client: organizations, projects, regions, keys, health and SQL.

Every method maps one documented endpoint (the contract is the OpenAPI spec of the Management API) and
returns small typed records instead of raw JSON. Retries and error wording live in `studio.core.platform.http`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from studio.core.errors import NotFoundOnPlatform, PlatformError
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.http import PlatformHttp, RetryNotice, RetryPolicy, Sleep, TokenSource, UnauthorizedHandler
from studio.core.secrets import Secret

PAGE_SIZE = 100
HEALTH_SERVICES = ("auth", "rest", "db")


@dataclass(frozen=True)
class Profile:
    """The signed-in user (`gotrue_id` identifies the account)."""

    gotrue_id: str
    email: str
    username: str


@dataclass(frozen=True)
class Organization:
    """An organization the account belongs to."""

    slug: str
    name: str


@dataclass(frozen=True)
class Project:
    """A project as the platform reports it; `status` is one of the platform's states (`ACTIVE_HEALTHY`...)."""

    ref: str
    name: str
    organization_slug: str
    region: str
    status: str
    created_at: str = ""
    database_host: str = ""
    database_version: str = ""


@dataclass(frozen=True)
class Region:
    """A region a project can be created in (`code` like `eu-central-1`)."""

    code: str
    name: str
    provider: str = ""
    recommended: bool = False


@dataclass(frozen=True)
class ServiceHealth:
    """The state of one of a project's services (`auth`, `rest`, `db`...)."""

    name: str
    status: str
    error: str = ""


@dataclass(frozen=True)
class ProjectKeys:
    """A project's API keys.

    `client_key` (publishable, else legacy anon) is safe in an app; `server_key` (secret, else legacy
    service_role) bypasses Row Level Security and is for Studio's own use only, never for client code.
    """

    client_key: Secret
    server_key: Secret | None
    client_key_kind: str
    server_key_kind: str


def _project(data: dict[str, Any]) -> Project:
    database = data.get("database") or {}
    return Project(
        ref=data["ref"],
        name=data.get("name", ""),
        organization_slug=data.get("organization_slug", ""),
        region=data.get("region", ""),
        status=data.get("status", "UNKNOWN"),
        created_at=data.get("created_at") or data.get("inserted_at") or "",
        database_host=database.get("host", ""),
        database_version=database.get("version", ""),
    )


class ManagementClient:
    """Async client of one account on the Management API.

    Create it with `ManagementClient.connect(endpoints, token=...)` and close it with `aclose()` (or use it
    as an async context manager).
    """

    def __init__(self, http: PlatformHttp) -> None:
        self.http = http

    @classmethod
    def connect(
        cls,
        endpoints: PlatformEndpoints,
        *,
        token: TokenSource,
        on_unauthorized: UnauthorizedHandler | None = None,
        policy: RetryPolicy | None = None,
        on_retry: RetryNotice | None = None,
        sleep: Sleep | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ManagementClient:
        """A client for `endpoints.api_url` authenticating with `token()`."""
        extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        return cls(
            PlatformHttp(
                endpoints.api_url,
                token=token,
                on_unauthorized=on_unauthorized,
                policy=policy,
                on_retry=on_retry,
                transport=transport,
                **extra,
            )
        )

    async def __aenter__(self) -> ManagementClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying connections."""
        await self.http.aclose()

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise PlatformError(
                f"Supabase answered {path} with something that is not JSON.",
                hint="Try again; if it persists, Supabase's API may have changed - update Studio.",
                status=response.status_code,
            ) from exc

    async def profile(self) -> Profile:
        """The account the token belongs to (also the cheapest way to check a token)."""
        data = await self._json("GET", "/v1/profile")
        return Profile(
            gotrue_id=data["gotrue_id"], email=data.get("primary_email", ""), username=data.get("username", "")
        )

    async def organizations(self) -> list[Organization]:
        """The organizations the account belongs to, by name."""
        data = await self._json("GET", "/v1/organizations")
        return sorted((Organization(slug=o["slug"], name=o["name"]) for o in data), key=lambda o: o.name.lower())

    async def project_pages(self, organization_slug: str, *, search: str | None = None) -> AsyncIterator[list[Project]]:
        """The organization's projects, one page at a time (the API's offset/limit paging)."""
        offset = 0
        while True:
            params: dict[str, Any] = {"offset": offset, "limit": PAGE_SIZE}
            if search:
                params["search"] = search
            data = await self._json("GET", f"/v1/organizations/{organization_slug}/projects", params=params)
            page = [_project({**p, "organization_slug": organization_slug}) for p in data["projects"]]
            yield page
            offset += len(page)
            total = int(data["pagination"]["count"])
            if not page or offset >= total:
                return

    async def projects(self, organization_slug: str, *, search: str | None = None) -> list[Project]:
        """Every project of the organization (all pages)."""
        result: list[Project] = []
        async for page in self.project_pages(organization_slug, search=search):
            result.extend(page)
        return result

    async def project(self, ref: str) -> Project:
        """One project, with its current status."""
        try:
            return _project(await self._json("GET", f"/v1/projects/{ref}"))
        except NotFoundOnPlatform as exc:
            raise NotFoundOnPlatform(
                f"This account has no Supabase project {ref}.",
                hint="Run `studio projects` to see the refs, or switch accounts with `studio accounts use`.",
                status=exc.status,
            ) from exc

    async def available_regions(self, organization_slug: str) -> list[Region]:
        """Regions a project of this organization can be created in, recommended ones first."""
        data = await self._json(
            "GET", "/v1/projects/available-regions", params={"organization_slug": organization_slug}
        )
        recommended = {r["code"] for r in data["recommendations"]["specific"]}
        regions = [
            Region(code=r["code"], name=r["name"], provider=r.get("provider", ""), recommended=r["code"] in recommended)
            for r in data["all"]["specific"]
        ]
        return sorted(regions, key=lambda r: (not r.recommended, r.name))

    async def create_project(self, organization_slug: str, name: str, region: str, db_password: Secret) -> Project:
        """Ask for a new project (sent once; see `studio.core.platform.provisioning` for safe retries)."""
        body = {
            "name": name,
            "organization_slug": organization_slug,
            "db_pass": db_password.reveal(),
            "region_selection": {"type": "specific", "code": region},
        }
        data = await self._json("POST", "/v1/projects", json_body=body)
        return _project(data)

    async def health(self, ref: str, services: Sequence[str] = HEALTH_SERVICES) -> list[ServiceHealth]:
        """The health of the project's services."""
        data = await self._json("GET", f"/v1/projects/{ref}/health", params=[("services", s) for s in services])
        return [ServiceHealth(name=s["name"], status=s.get("status", ""), error=s.get("error") or "") for s in data]

    async def api_keys(self, ref: str) -> ProjectKeys:
        """The project's keys: publishable/secret when it has them, else the legacy anon/service_role."""
        data = await self._json("GET", f"/v1/projects/{ref}/api-keys", params={"reveal": "true"})
        by_kind: dict[str, str] = {}
        for key in data:
            value = key.get("api_key")
            if not value:
                continue
            kind = key.get("type") or "legacy"
            name = key.get("name", "")
            label = kind if kind != "legacy" else name  # legacy keys are told apart by name: anon, service_role
            by_kind.setdefault(label, value)
        client_kind = "publishable" if "publishable" in by_kind else "anon"
        server_kind = "secret" if "secret" in by_kind else "service_role"
        if client_kind not in by_kind:
            raise PlatformError(
                "This project has no publishable or anon key to give to an app.",
                hint="Create a publishable key in the project's API settings on supabase.com, then link again.",
            )
        server_value = by_kind.get(server_kind)
        return ProjectKeys(
            client_key=Secret(by_kind[client_kind]),
            server_key=Secret(server_value) if server_value else None,
            client_key_kind=client_kind,
            server_key_kind=server_kind,
        )

    async def run_query(
        self, ref: str, query: str, *, parameters: Sequence[Any] | None = None, read_only: bool = False
    ) -> httpx.Response:
        """POST /v1/projects/{ref}/database/query; returns the raw response (rows, or the SQL error).

        SQL errors come back as 400 (and, per the spec, may come as 500 "Failed to run sql query"); the
        caller (`CloudTarget`) tells them from platform failures by the message and raises accordingly.
        """
        body: dict[str, Any] = {"query": query}
        if parameters:
            body["parameters"] = list(parameters)
        if read_only:
            body["read_only"] = True
        return await self.http.request(
            "POST",
            f"/v1/projects/{ref}/database/query",
            json_body=body,
            idempotent=read_only,
            ok=frozenset({200, 201, 400, 500}),
        )
