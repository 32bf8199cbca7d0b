"""The Management API (`/v1/...`): accounts, organizations, projects, API keys, SQL, OAuth.

Answers have the shapes of the spec's schemas (`V1ProfileResponse`, `OrganizationResponseV1`, ...);
the server checks every answer against the spec as well. Errors are `{"message": ...}` (OAuth's token
endpoint: `{"error": ..., "error_description": ...}`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from tests.support.fake_platform.messages import BadBody, Call, Reply
from tests.support.fake_platform.oauth import OAuthError
from tests.support.fake_platform.sql_runner import QueryFailed, run_query
from tests.support.fake_platform.state import (
    ACTIVE_HEALTHY,
    COMING_UP,
    INIT_FAILED,
    FakeAccount,
    FakeProject,
)

if TYPE_CHECKING:
    from tests.support.fake_platform.server import FakePlatform

__all__ = ["REGIONS", "SMART_GROUPS", "UNAUTHORIZED", "ManagementAPI"]

UNAUTHORIZED = {"message": "Unauthorized"}

#: Region codes and names, as the platform lists them.
REGIONS = {
    "us-east-1": "East US (North Virginia)",
    "us-east-2": "East US (Ohio)",
    "us-west-1": "West US (North California)",
    "us-west-2": "West US (Oregon)",
    "ap-east-1": "East Asia (Hong Kong)",
    "ap-southeast-1": "Southeast Asia (Singapore)",
    "ap-northeast-1": "Northeast Asia (Tokyo)",
    "ap-northeast-2": "Northeast Asia (Seoul)",
    "ap-southeast-2": "Oceania (Sydney)",
    "eu-west-1": "West EU (Ireland)",
    "eu-west-2": "West EU (London)",
    "eu-west-3": "West EU (Paris)",
    "eu-north-1": "North EU (Stockholm)",
    "eu-central-1": "Central EU (Frankfurt)",
    "eu-central-2": "Central EU (Zurich)",
    "ca-central-1": "Canada (Central)",
    "ap-south-1": "South Asia (Mumbai)",
    "sa-east-1": "South America (São Paulo)",
}
#: Smart region groups: name, and the region a project created with the group lands in first.
SMART_GROUPS = {
    "americas": ("Americas", ["us-east-1", "us-west-1", "ca-central-1", "sa-east-1"]),
    "emea": ("Europe", ["eu-central-1", "eu-west-1", "eu-west-2", "eu-north-1"]),
    "apac": ("Asia-Pacific", ["ap-southeast-1", "ap-northeast-1", "ap-southeast-2", "ap-south-1"]),
}
_CONTINENT_GROUP = {"NA": "americas", "SA": "americas", "EU": "emea", "AF": "emea", "AS": "apac", "OC": "apac"}
_GOTRUE_INFO = {
    "name": "GoTrue",
    "version": "v2.170.0",
    "description": "GoTrue is a user registration and authentication API",
}

# Statuses a project's database can have (a subset of the project statuses, plus replica ones).
_DATABASE_STATUSES = frozenset(
    {"ACTIVE_HEALTHY", "ACTIVE_UNHEALTHY", "COMING_UP", "GOING_DOWN", "INIT_FAILED", "REMOVED", "RESTORING"}
    | {"UNKNOWN", "RESTARTING", "RESIZING"}
)

Handler = Callable[[Call, dict[str, str]], Reply]


class ManagementAPI:
    """Routes and handlers of the Management API, on the state of `platform`."""

    def __init__(self, platform: FakePlatform) -> None:
        self.platform = platform
        # (method, path regex, handler, needs a bearer token)
        self.routes: list[tuple[str, re.Pattern[str], Handler, bool]] = [
            ("GET", re.compile(r"/v1/profile"), self.get_profile, True),
            ("GET", re.compile(r"/v1/organizations"), self.list_organizations, True),
            ("GET", re.compile(r"/v1/organizations/(?P<slug>[^/]+)/projects"), self.organization_projects, True),
            ("GET", re.compile(r"/v1/projects"), self.list_projects, True),
            ("POST", re.compile(r"/v1/projects"), self.create_project, True),
            ("GET", re.compile(r"/v1/projects/available-regions"), self.available_regions, True),
            ("GET", re.compile(r"/v1/projects/(?P<ref>[^/]+)"), self.get_project, True),
            ("GET", re.compile(r"/v1/projects/(?P<ref>[^/]+)/health"), self.health, True),
            ("GET", re.compile(r"/v1/projects/(?P<ref>[^/]+)/api-keys"), self.api_keys, True),
            ("POST", re.compile(r"/v1/projects/(?P<ref>[^/]+)/database/query"), self.run_query, True),
            ("GET", re.compile(r"/v1/oauth/authorize"), self.authorize, False),
            ("POST", re.compile(r"/v1/oauth/token"), self.token, False),
            ("POST", re.compile(r"/v1/oauth/revoke"), self.revoke, False),
        ]

    def route(self, method: str, path: str) -> tuple[Handler, dict[str, str], bool] | None:
        for route_method, pattern, handler, needs_token in self.routes:
            match = pattern.fullmatch(path)
            if match is not None and route_method == method:
                params = {name: unquote(value) for name, value in match.groupdict().items()}
                return handler, params, needs_token
        return None

    # -- helpers -----------------------------------------------------------------------------------------

    def _account(self, call: Call) -> FakeAccount | None:
        header = call.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.platform._account_for_token(token.strip())

    def _visible_project(self, account: FakeAccount, ref: str) -> FakeProject | None:
        with self.platform._lock:
            project = self.platform._projects.get(ref)
            if project is None:
                return None
            org = self.platform._organizations.get(project.organization_slug)
            return project if org is not None and account in org.members else None

    def _project_json(self, project: FakeProject, *, with_database: bool, status: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": project.ref,
            "ref": project.ref,
            "organization_id": project.organization_slug,
            "organization_slug": project.organization_slug,
            "name": project.name,
            "region": project.region,
            "created_at": project.created_at,
            "status": status or project.status,
        }
        if with_database:
            body["database"] = {
                "host": f"db.{project.ref}.supabase.co",
                "version": self.platform._postgres_version,
                "postgres_engine": self.platform._postgres_version.split(".")[0],
                "release_channel": "ga",
            }
        return body

    def _advance(self, project: FakeProject) -> str:
        """One status poll: the status to answer. A project coming up answers COMING_UP to its first
        `polls_left` polls and takes its final status right after the last of them."""
        with self.platform._lock:
            if project.status != COMING_UP:
                return project.status
            if project.polls_left <= 0:
                project.status = project.final_status
                return project.status
            project.polls_left -= 1
            if project.polls_left == 0:
                project.status = project.final_status
            return COMING_UP

    # -- profile, organizations, projects -------------------------------------------------------------------

    def get_profile(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        return Reply.json(
            200, {"gotrue_id": account.gotrue_id, "primary_email": account.email, "username": account.username}
        )

    def list_organizations(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        with self.platform._lock:
            orgs = [org for org in self.platform._organizations.values() if account in org.members]
        return Reply.json(200, [{"id": org.slug, "slug": org.slug, "name": org.name} for org in orgs])

    def organization_projects(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        slug = params["slug"]
        with self.platform._lock:
            org = self.platform._organizations.get(slug)
            if org is None or account not in org.members:
                return Reply.message(404, "Organization not found")
            projects = [p for p in self.platform._projects.values() if p.organization_slug == slug]
        search = call.arg("search")
        if search:
            projects = [p for p in projects if search.lower() in p.name.lower()]
        statuses = call.arg("statuses")
        if statuses:
            wanted = {status.strip() for status in statuses.split(",") if status.strip()}
            projects = [p for p in projects if p.status in wanted]
        sort = call.arg("sort") or "name_asc"
        key_name = sort.rsplit("_", 1)[0]
        projects.sort(
            key=(lambda p: (p.name.lower(), p.created_at)) if key_name == "name" else (lambda p: p.created_at),
            reverse=sort.endswith("_desc"),
        )
        offset = int(call.arg("offset") or 0)
        limit = int(call.arg("limit") or 100)
        page = projects[offset : offset + limit]
        items = []
        for project in page:
            items.append(
                {
                    "ref": project.ref,
                    "name": project.name,
                    "cloud_provider": "AWS",
                    "region": project.region,
                    "is_branch": False,
                    "status": project.status,
                    "inserted_at": project.created_at,
                    "databases": [
                        {
                            "infra_compute_size": "nano",
                            "region": project.region,
                            "status": project.status if project.status in _DATABASE_STATUSES else "UNKNOWN",
                            "cloud_provider": "AWS",
                            "identifier": project.ref,
                            "type": "PRIMARY",
                        }
                    ],
                }
            )
        return Reply.json(
            200, {"projects": items, "pagination": {"count": len(projects), "limit": limit, "offset": offset}}
        )

    def list_projects(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        with self.platform._lock:
            slugs = {org.slug for org in self.platform._organizations.values() if account in org.members}
            projects = [p for p in self.platform._projects.values() if p.organization_slug in slugs]
        return Reply.json(200, [self._project_json(p, with_database=True) for p in projects])

    def get_project(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        project = self._visible_project(account, params["ref"])
        if project is None:
            return Reply.message(404, "Project not found")
        status = self._advance(project)
        return Reply.json(200, self._project_json(project, with_database=True, status=status))

    def create_project(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        body = call.json()
        slug = body.get("organization_slug")
        with self.platform._lock:
            org = self.platform._organizations.get(slug or "")
            visible = org is not None and account in org.members
        if not visible:
            return Reply.message(404, "Organization not found")
        region_code = body.get("region")
        selection = body.get("region_selection")
        if region_code is not None and selection is not None:
            return Reply.message(400, "Only one of region or region_selection can be specified.")
        if isinstance(selection, dict):
            code = str(selection.get("code"))
            region_code = SMART_GROUPS[code][1][0] if selection.get("type") == "smartGroup" else code
        if region_code is None:
            region_code = SMART_GROUPS["americas"][1][0]
        with self.platform._lock:
            fail = self.platform.fail_next_create
            self.platform.fail_next_create = False
            polls = self.platform.polls_to_healthy
        project = self.platform._create_project(
            str(slug),
            str(body["name"]),
            region=str(region_code),
            status=COMING_UP,
            db_pass=str(body["db_pass"]),
            polls_left=polls,
            final_status=INIT_FAILED if fail else ACTIVE_HEALTHY,
        )
        return Reply.json(201, self._project_json(project, with_database=False))

    def available_regions(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        slug = call.arg("organization_slug") or ""
        with self.platform._lock:
            org = self.platform._organizations.get(slug)
            visible = org is not None and account in org.members
        if not visible:
            return Reply.message(404, "Organization not found")
        group = _CONTINENT_GROUP.get(call.arg("continent") or "", "americas")

        def specific(code: str) -> dict[str, Any]:
            return {"name": REGIONS[code], "code": code, "type": "specific", "provider": "AWS", "status": "capacity"}

        def smart(code: str) -> dict[str, Any]:
            return {"name": SMART_GROUPS[code][0], "code": code, "type": "smartGroup"}

        return Reply.json(
            200,
            {
                "recommendations": {
                    "smartGroup": smart(group),
                    "specific": [specific(code) for code in SMART_GROUPS[group][1][:3]],
                },
                "all": {
                    "smartGroup": [smart(code) for code in SMART_GROUPS],
                    "specific": [specific(code) for code in REGIONS],
                },
            },
        )

    def health(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        project = self._visible_project(account, params["ref"])
        if project is None:
            return Reply.message(404, "Project not found")
        status = self._advance(project)
        services = [name for value in call.args("services") for name in value.split(",") if name]
        answers = []
        for service in services:
            entry: dict[str, Any] = {"name": service}
            if status == ACTIVE_HEALTHY:
                entry.update(healthy=True, status="ACTIVE_HEALTHY")
                if service == "auth":
                    entry["info"] = dict(_GOTRUE_INFO)
                elif service == "rest":
                    entry["info"] = {"db_schema": "public,graphql_public"}
                elif service == "realtime":
                    entry["info"] = {
                        "healthy": True,
                        "db_connected": True,
                        "replication_connected": True,
                        "connected_cluster": 1,
                    }
            elif status == COMING_UP:
                entry.update(healthy=False, status="COMING_UP")
            else:
                entry.update(healthy=False, status="UNHEALTHY", error=f"The project is {status}.")
            answers.append(entry)
        return Reply.json(200, answers)

    def api_keys(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        project = self._visible_project(account, params["ref"])
        if project is None:
            return Reply.message(404, "Project not found")
        reveal = (call.arg("reveal") or "false").lower() == "true"

        def legacy(name: str, key: str) -> dict[str, Any]:
            return {
                "name": name,
                "api_key": key,
                "id": name,
                "type": "legacy",
                "prefix": None,
                "description": f"Legacy {name} API key",
                "hash": None,
                "secret_jwt_template": None,
                "inserted_at": None,
                "updated_at": None,
            }

        def new_key(kind: str, key_id: str, key: str, shown: str, template: dict[str, Any] | None) -> dict[str, Any]:
            return {
                "name": "default",
                "api_key": shown,
                "id": key_id,
                "type": kind,
                "prefix": key[: len(f"sb_{kind}_") + 4],
                "description": f"Default {kind} key",
                "hash": base64.b64encode(hashlib.sha256(key.encode()).digest()).decode(),
                "secret_jwt_template": template,
                "inserted_at": project.created_at,
                "updated_at": project.created_at,
            }

        secret = project.secret_key
        masked = secret[: len("sb_secret_") + 4] + "•" * 16
        return Reply.json(
            200,
            [
                legacy("anon", project.anon_key),
                legacy("service_role", project.service_role_key),
                new_key(
                    "publishable", project.publishable_key_id, project.publishable_key, project.publishable_key, None
                ),
                new_key(
                    "secret",
                    project.secret_key_id,
                    secret,
                    secret if reveal else masked,
                    {"role": "service_role"},
                ),
            ],
        )

    def run_query(self, call: Call, params: dict[str, str]) -> Reply:
        account = self._require(call)
        project = self._visible_project(account, params["ref"])
        if project is None:
            return Reply.message(404, "Project not found")
        if project.status != ACTIVE_HEALTHY:
            return Reply.message(503, f"The project is not ready (status {project.status}).")
        body = call.json()
        database = self.platform._database(project)
        try:
            rows = run_query(database, str(body["query"]), body.get("parameters"), bool(body.get("read_only")))
        except QueryFailed as failure:
            return Reply.message(400, f"Failed to run sql query: {failure.message}")
        return Reply.json(201, rows)

    # -- OAuth ---------------------------------------------------------------------------------------------

    def authorize(self, call: Call, params: dict[str, str]) -> Reply:
        platform = self.platform
        client_id = call.arg("client_id") or ""
        redirect_uri = call.arg("redirect_uri") or ""
        state = call.arg("state")
        with platform._lock:
            app = platform._oauth.apps.get(client_id)
            if app is None:
                return Reply.message(400, "Unknown OAuth client_id.")
            if not redirect_uri or not platform._oauth.redirect_allowed(app, redirect_uri):
                return Reply.message(400, "redirect_uri is not registered for this OAuth app.")

            def back(**values: str) -> Reply:
                if state is not None:
                    values["state"] = state
                parts = urlsplit(redirect_uri)
                query = (parts.query + "&" if parts.query else "") + urlencode(values)
                location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
                return Reply.empty(302, {"Location": location})

            if call.arg("response_type") != "code":
                return back(
                    error="unsupported_response_type", error_description="Only response_type=code is supported."
                )
            if not call.arg("code_challenge") or call.arg("code_challenge_method") != "S256":
                return back(
                    error="invalid_request", error_description="PKCE with code_challenge_method=S256 is required."
                )
            account = platform.browser_account
            if account is None:
                return Reply.message(400, "Nobody is signed in to the platform in the browser.")
            if platform.deny_next_authorization:
                platform.deny_next_authorization = False
                return back(error="access_denied", error_description="The user denied the authorization request.")
            code = platform._oauth.issue_code(
                account, app, redirect_uri, call.arg("code_challenge") or "", call.arg("scope")
            )
        return back(code=code)

    def token(self, call: Call, params: dict[str, str]) -> Reply:
        form = call.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = call.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return _oauth_error(OAuthError(401, "invalid_client", "Malformed Basic authorization."))
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, client_secret = unquote(basic_id), unquote(basic_secret)
        platform = self.platform
        with platform._lock:
            try:
                app = platform._oauth.authenticate_client(client_id, client_secret)
                grant = form.get("grant_type")
                ttl = int(platform.oauth_access_token_ttl)
                if grant == "authorization_code":
                    pair = platform._oauth.exchange_code(
                        app, form.get("code"), form.get("redirect_uri"), form.get("code_verifier"), ttl
                    )
                elif grant == "refresh_token":
                    pair = platform._oauth.refresh(app, form.get("refresh_token"), ttl)
                else:
                    raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type {grant!r}.")
            except OAuthError as error:
                return _oauth_error(error)
        return Reply.json(
            201,
            {
                "access_token": pair.access_token,
                "refresh_token": pair.refresh_token,
                "expires_in": pair.expires_in,
                "token_type": "Bearer",
            },
        )

    def revoke(self, call: Call, params: dict[str, str]) -> Reply:
        body = call.json()
        platform = self.platform
        with platform._lock:
            try:
                app = platform._oauth.authenticate_client(body.get("client_id"), body.get("client_secret"))
            except OAuthError as error:
                return _oauth_error(error)
            platform._oauth.revoke(app, str(body.get("refresh_token")))
        return Reply.empty(204)

    # -- authentication ------------------------------------------------------------------------------------

    def _require(self, call: Call) -> FakeAccount:
        account = self._account(call)
        if account is None:
            raise _Unauthorized
        return account

    def handle(self, call: Call, handler: Handler, params: dict[str, str], needs_token: bool) -> Reply:
        """Run `handler`, turning a missing account into 401 and a body that cannot be read into 400."""
        if needs_token and self._account(call) is None:
            return Reply.json(401, dict(UNAUTHORIZED))
        try:
            return handler(call, params)
        except _Unauthorized:
            return Reply.json(401, dict(UNAUTHORIZED))
        except BadBody as exc:
            return Reply.message(400, str(exc))


class _Unauthorized(Exception):
    pass


def _oauth_error(error: OAuthError) -> Reply:
    return Reply.json(error.status, {"error": error.error, "error_description": error.description})
