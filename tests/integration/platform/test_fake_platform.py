"""The fake Supabase platform itself, driven with plain httpx (and the real `supabase` client).

Every test here runs with the `fake_platform` fixture, which fails a test whose requests or answers
break the Management API spec: the happy paths below therefore also prove that the fake's answers
have the spec's shapes.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
import supabase

from studio.core.targets.local import LocalServer
from tests.support.fake_platform import FakeAccount, FakePlatform, FakeProject, s256_challenge


@pytest.fixture
def api(fake_platform: FakePlatform, fake_account: FakeAccount) -> Iterator[httpx.Client]:
    """An httpx client of the Management API, authenticated with the account's personal access token."""
    with httpx.Client(
        base_url=fake_platform.url, headers={"Authorization": f"Bearer {fake_account.token}"}, timeout=30
    ) as client:
        yield client


def _shop(account: FakeAccount) -> FakeProject:
    return account.projects[0]


def _create_body(account: FakeAccount, name: str = "new-app", **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": name,
        "organization_slug": account.organizations[0].slug,
        "db_pass": "correct-horse-battery-staple",
        "region_selection": {"type": "specific", "code": "eu-west-1"},
    }
    body.update(extra)
    return body


# -- accounts, organizations, projects ---------------------------------------------------------------------


def test_read_endpoints_answer_with_the_spec_shapes(
    fake_platform: FakePlatform, fake_account: FakeAccount, api: httpx.Client
) -> None:
    shop = _shop(fake_account)
    acme = fake_account.organizations[0]

    profile = api.get("/v1/profile")
    assert profile.status_code == 200
    assert profile.json() == {
        "gotrue_id": fake_account.gotrue_id,
        "primary_email": "ada@example.com",
        "username": "ada",
    }
    assert api.get("/v1/organizations").json() == [{"id": acme.slug, "slug": acme.slug, "name": "Acme"}]

    listed = api.get("/v1/projects").json()
    assert [(p["ref"], p["name"], p["status"], p["organization_slug"]) for p in listed] == [
        (shop.ref, "shop", "ACTIVE_HEALTHY", acme.slug)
    ]
    project = api.get(f"/v1/projects/{shop.ref}").json()
    assert project["region"] == "eu-central-1"
    assert set(project["database"]) == {"host", "version", "postgres_engine", "release_channel"}

    regions = api.get("/v1/projects/available-regions", params={"organization_slug": acme.slug, "continent": "EU"})
    assert regions.status_code == 200
    assert regions.json()["recommendations"]["smartGroup"]["code"] == "emea"

    health = api.get(f"/v1/projects/{shop.ref}/health", params=[("services", "auth"), ("services", "rest")])
    assert [(s["name"], s["status"], s["healthy"]) for s in health.json()] == [
        ("auth", "ACTIVE_HEALTHY", True),
        ("rest", "ACTIVE_HEALTHY", True),
    ]
    assert health.json()[0]["info"]["name"] == "GoTrue"

    hidden = {k["type"]: k["api_key"] for k in api.get(f"/v1/projects/{shop.ref}/api-keys").json()}
    revealed = api.get(f"/v1/projects/{shop.ref}/api-keys", params={"reveal": "true"}).json()
    assert {(k["name"], k["type"]) for k in revealed} == {
        ("anon", "legacy"),
        ("service_role", "legacy"),
        ("default", "publishable"),
        ("default", "secret"),
    }
    by_name = {k["name"] if k["type"] == "legacy" else k["type"]: k["api_key"] for k in revealed}
    assert by_name == {
        "anon": shop.anon_key,
        "service_role": shop.service_role_key,
        "publishable": shop.publishable_key,
        "secret": shop.secret_key,
    }
    assert hidden["publishable"] == shop.publishable_key
    assert hidden["secret"] != shop.secret_key
    assert hidden["secret"].startswith("sb_secret_")
    assert shop.anon_key.count(".") == 2

    assert fake_platform.spec_violations == []
    assert [r.status for r in fake_platform.requests] == [200] * 8
    assert fake_platform.requests[0].headers["authorization"] == "<redacted>"


def test_tokens_missing_unknown_or_revoked_are_unauthorized(
    fake_platform: FakePlatform, fake_account: FakeAccount
) -> None:
    second = fake_account.new_token()
    with httpx.Client(base_url=fake_platform.url) as client:
        assert client.get("/v1/profile").status_code == 401
        unknown = client.get("/v1/profile", headers={"Authorization": "Bearer sbp_" + "0" * 40})
        assert (unknown.status_code, unknown.json()) == (401, {"message": "Unauthorized"})
        assert client.get("/v1/profile", headers={"Authorization": f"Bearer {second}"}).status_code == 200
        fake_platform.revoke_token(fake_account.token)
        assert client.get("/v1/profile", headers={"Authorization": f"Bearer {fake_account.token}"}).status_code == 401
        assert client.get("/v1/profile", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_an_account_sees_only_its_organizations(fake_platform: FakePlatform, fake_account: FakeAccount) -> None:
    grace = fake_platform.add_account("grace@example.com", "grace")
    hopper = fake_platform.add_organization(grace, "Hopper")
    theirs = fake_platform.add_project(hopper, "theirs")
    with httpx.Client(base_url=fake_platform.url, headers={"Authorization": f"Bearer {grace.token}"}) as client:
        assert [o["name"] for o in client.get("/v1/organizations").json()] == ["Hopper"]
        assert [p["name"] for p in client.get("/v1/projects").json()] == ["theirs"]
        acme = fake_account.organizations[0].slug
        assert client.get(f"/v1/organizations/{acme}/projects").status_code == 404
        assert client.get(f"/v1/projects/{_shop(fake_account).ref}").status_code == 404
        assert client.get(f"/v1/projects/{theirs.ref}").status_code == 200


@pytest.mark.allow_spec_violations
def test_requests_that_break_the_spec_are_refused_and_recorded(
    fake_platform: FakePlatform, fake_account: FakeAccount, api: httpx.Client
) -> None:
    body = _create_body(fake_account)
    del body["db_pass"]
    body["colour"] = "blue"
    refused = api.post("/v1/projects", json=body)
    assert refused.status_code == 400
    assert refused.json() == {
        "message": "'db_pass' is a required property; Additional properties are not allowed ('colour' was unexpected)"
    }
    assert len(fake_platform.projects()) == 1
    assert api.get("/v1/no-such-thing").status_code == 404
    assert api.get("/v1/projects/SHORT").status_code == 400
    # The spec declares `services` as an exploded array (`services=auth&services=rest`): a comma list is
    # one value that is not among the enum's.
    ref = fake_account.project.ref
    assert api.get(f"/v1/projects/{ref}/health", params={"services": "auth,rest"}).status_code == 400

    violations = fake_platform.spec_violations
    assert len(violations) == 4
    assert violations[0].startswith("request POST /v1/projects:")
    assert "'db_pass' is a required property" in violations[0]
    assert "colour" in violations[0]
    assert "/v1/no-such-thing" in violations[1]
    assert "ref" in violations[2]
    assert "services" in violations[3]


def test_answers_are_checked_against_the_spec(fake_platform: FakePlatform) -> None:
    spec = fake_platform.spec
    incomplete = spec.check_response(
        "GET", "/v1/profile", [], 200, b'{"gotrue_id": "x", "username": "u"}', "application/json", "/v1/profile"
    )
    assert len(incomplete) == 1
    assert "'primary_email' is a required property" in incomplete[0]
    assert spec.check_response("GET", "/v1/profile", [], 202, b"{}", "application/json", "/v1/profile") == [
        "status 202 is not among the spec's responses (200)"
    ]
    # Errors the spec does not list are what the real API answers too: not violations.
    assert spec.check_response("GET", "/v1/profile", [], 401, b"{}", "application/json", "/v1/profile") == []


def test_organization_projects_are_paginated_searched_and_sorted(
    fake_platform: FakePlatform, fake_account: FakeAccount, api: httpx.Client
) -> None:
    acme = fake_account.organizations[0]
    for name in ("delta", "alpha", "echo", "charlie"):
        fake_platform.add_project(acme, name)
    path = f"/v1/organizations/{acme.slug}/projects"

    first = api.get(path, params={"limit": 2}).json()
    assert [p["name"] for p in first["projects"]] == ["alpha", "charlie"]
    assert first["pagination"] == {"count": 5, "limit": 2, "offset": 0}
    second = api.get(path, params={"limit": 2, "offset": 2}).json()
    assert [p["name"] for p in second["projects"]] == ["delta", "echo"]
    last = api.get(path, params={"limit": 2, "offset": 4}).json()
    assert [p["name"] for p in last["projects"]] == ["shop"]

    newest_first = api.get(path, params={"sort": "created_desc"}).json()
    assert [p["name"] for p in newest_first["projects"]] == ["charlie", "echo", "alpha", "delta", "shop"]
    found = api.get(path, params={"search": "HA"}).json()
    assert [p["name"] for p in found["projects"]] == ["alpha", "charlie"]
    assert found["pagination"]["count"] == 2


# -- creating projects -------------------------------------------------------------------------------------


def test_a_created_project_comes_up_after_the_configured_polls(
    fake_platform: FakePlatform, fake_account: FakeAccount, api: httpx.Client
) -> None:
    fake_platform.polls_to_healthy = 3
    created = api.post("/v1/projects", json=_create_body(fake_account))
    assert created.status_code == 201
    project = created.json()
    assert (project["status"], project["region"], project["name"]) == ("COMING_UP", "eu-west-1", "new-app")
    ref = project["ref"]
    assert len(ref) == 20
    assert len(fake_platform.matching_requests("POST", "/v1/projects")) == 1

    statuses = [
        api.get(f"/v1/projects/{ref}/health", params={"services": "db"}).json()[0]["status"],
        api.get(f"/v1/projects/{ref}").json()["status"],
        api.get(f"/v1/projects/{ref}").json()["status"],
        api.get(f"/v1/projects/{ref}").json()["status"],
    ]
    assert statuses == ["COMING_UP", "COMING_UP", "COMING_UP", "ACTIVE_HEALTHY"]

    # The database is real, and it has Supabase's base.
    rows = api.post(f"/v1/projects/{ref}/database/query", json={"query": "select count(*) as n from auth.users"}).json()
    assert rows == [{"n": 0}]
    assert fake_platform.project(ref).db_pass == "correct-horse-battery-staple"


def test_a_project_can_fail_to_come_up(
    fake_platform: FakePlatform, fake_account: FakeAccount, api: httpx.Client
) -> None:
    fake_platform.polls_to_healthy = 0
    fake_platform.fail_next_create = True
    ref = api.post("/v1/projects", json=_create_body(fake_account)).json()["ref"]
    assert api.get(f"/v1/projects/{ref}").json()["status"] == "INIT_FAILED"
    health = api.get(f"/v1/projects/{ref}/health", params={"services": "auth"}).json()
    assert health[0]["status"] == "UNHEALTHY"
    # Only the next one fails; the deprecated `region` field still works.
    body = _create_body(fake_account, "second", region="us-west-2")
    del body["region_selection"]
    second = api.post("/v1/projects", json=body).json()
    assert second["region"] == "us-west-2"
    assert api.get(f"/v1/projects/{second['ref']}").json()["status"] == "ACTIVE_HEALTHY"


# -- faults ------------------------------------------------------------------------------------------------


def test_fault_status_answers_without_handling(
    fake_platform: FakePlatform, fake_account: FakeAccount, api: httpx.Client
) -> None:
    fault = fake_platform.inject("POST", "/v1/projects", status=429, headers={"Retry-After": "2"}, times=2)
    for _ in range(2):
        limited = api.post("/v1/projects", json=_create_body(fake_account))
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "2"
        assert limited.json() == {"message": "Too Many Requests"}
    assert len(fake_platform.projects()) == 1
    assert fault.hits == 2
    assert api.post("/v1/projects", json=_create_body(fake_account)).status_code == 201

    fake_platform.inject("GET", r"/v1/projects/[a-z]+", status=503, body={"message": "try later"}, times=None)
    ref = _shop(fake_account).ref
    assert [api.get(f"/v1/projects/{ref}").status_code for _ in range(3)] == [503, 503, 503]
    fake_platform.clear_faults()
    assert api.get(f"/v1/projects/{ref}").status_code == 200
    assert [r.status for r in fake_platform.matching_requests("GET", "/v1/projects/.*")] == [503, 503, 503, 200]


def test_fault_delay_makes_a_slow_answer(fake_platform: FakePlatform, api: httpx.Client) -> None:
    fake_platform.inject("GET", "/v1/profile", delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/v1/profile", timeout=0.2)
    fake_platform.inject("GET", "/v1/profile", delay=0.3)
    started = time.monotonic()
    assert api.get("/v1/profile").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_drop_resets_the_connection(
    fake_platform: FakePlatform, fake_account: FakeAccount, api: httpx.Client
) -> None:
    fake_platform.inject("POST", "/v1/projects", drop=True)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.post("/v1/projects", json=_create_body(fake_account))
    assert len(fake_platform.projects()) == 1
    assert fake_platform.requests[-1].dropped
    assert fake_platform.requests[-1].status is None
    assert api.get("/v1/profile").status_code == 200


def test_fault_drop_after_handling_loses_the_answer(
    fake_platform: FakePlatform, fake_account: FakeAccount, api: httpx.Client
) -> None:
    fake_platform.inject("POST", "/v1/projects", drop_after_handling=True)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.post("/v1/projects", json=_create_body(fake_account))
    # It was created: a blind retry makes a second one.
    assert [p.name for p in fake_platform.projects()] == ["shop", "new-app"]
    assert api.post("/v1/projects", json=_create_body(fake_account)).status_code == 201
    assert [p.name for p in fake_platform.projects()] == ["shop", "new-app", "new-app"]
    assert len(fake_platform.matching_requests("POST", "/v1/projects")) == 2


def test_stop_cuts_a_delay_short(local_server: LocalServer) -> None:
    platform = FakePlatform(local_server)
    with platform:
        platform.inject("GET", "/v1/profile", delay=60)
        failures: list[BaseException] = []

        def call() -> None:
            try:
                httpx.get(platform.url + "/v1/profile", timeout=30)
            except httpx.HTTPError as exc:
                failures.append(exc)

        thread = threading.Thread(target=call)
        thread.start()
        while not platform.requests:
            time.sleep(0.01)
        started = time.monotonic()
    assert time.monotonic() - started < 5
    thread.join(10)
    assert len(failures) == 1


# -- the SQL endpoint --------------------------------------------------------------------------------------


def _query(api: httpx.Client, ref: str, query: str, **extra: object) -> httpx.Response:
    return api.post(f"/v1/projects/{ref}/database/query", json={"query": query, **extra})


def test_query_runs_several_statements_and_answers_the_last_rows(fake_account: FakeAccount, api: httpx.Client) -> None:
    ref = _shop(fake_account).ref
    created = _query(
        api,
        ref,
        "create table public.items (id int primary key, name text);\n"
        "insert into public.items values (1, 'one'), (2, 'two');\n"
        "select id, name from public.items order by id;\n"
        "select 1 as nothing where false;",
    )
    assert created.status_code == 201
    assert created.json() == [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]
    assert _query(api, ref, "select 1 as a where false").json() == []
    assert _query(api, ref, "create table public.other (id int)").json() == []


def test_query_values_convert_like_pg_meta(fake_account: FakeAccount, api: httpx.Client) -> None:
    ref = _shop(fake_account).ref
    row = _query(
        api,
        ref,
        "select 1.50::numeric as price, 9007199254740993::int8 as big, 42::int8 as small, 2.0::float8 as f,"
        " true as yes, '{\"k\": [1]}'::jsonb as doc, '{x,y}'::name[] as names, '{1,2}'::int[] as ints,"
        " '2024-01-02 03:04:05+00'::timestamptz as at, '2024-01-02'::date as day,"
        " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as id, '\\x0102'::bytea as raw, null::text as nothing,"
        " '1 day 02:00:00.5'::interval as span, '{\"a b\",NULL}'::text[] as texts",
    ).json()
    assert row == [
        {
            "price": "1.50",
            "big": "9007199254740993",
            "small": 42,
            "f": 2,
            "yes": True,
            "doc": {"k": [1]},
            "names": "{x,y}",
            "ints": [1, 2],
            "at": "2024-01-02 03:04:05+00",
            "day": "2024-01-02",
            "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "raw": {"type": "Buffer", "data": [1, 2]},
            "nothing": None,
            "span": {"days": 1, "hours": 2, "milliseconds": 500},
            "texts": ["a b", None],
        }
    ]


def test_query_with_parameters(fake_account: FakeAccount, api: httpx.Client) -> None:
    ref = _shop(fake_account).ref
    answer = _query(
        api,
        ref,
        "select $1::int + 1 as n, $2 as s, $3::jsonb as j, $4::text[] as t",
        parameters=[41, "x", {"a": 1}, ["p", "q"]],
    )
    assert answer.status_code == 201
    assert answer.json() == [{"n": 42, "s": "x", "j": {"a": 1}, "t": ["p", "q"]}]
    several = _query(api, ref, "select $1; select 2", parameters=[1])
    assert several.status_code == 400
    assert "cannot insert multiple commands into a prepared statement" in several.json()["message"]


def test_query_errors_read_like_the_platform(fake_account: FakeAccount, api: httpx.Client) -> None:
    ref = _shop(fake_account).ref
    missing = _query(api, ref, "select 1;\nselect * from nothere")
    assert missing.status_code == 400
    assert missing.json() == {
        "message": 'Failed to run sql query: ERROR:  42P01: relation "nothere" does not exist\n'
        "LINE 2: select * from nothere\n"
        "                      ^\n"
    }
    _query(api, ref, "create table public.u (id int primary key)")
    duplicate = _query(api, ref, "insert into public.u values (1), (1)").json()["message"]
    assert duplicate.startswith("Failed to run sql query: ERROR:  23505: duplicate key value violates unique")
    assert "\nDETAIL:  Key (id)=(1) already exists.\n" in duplicate

    # The statements of one text are one transaction: the failure undid the first statement.
    failed = _query(api, ref, "insert into public.u values (2); select 1/0")
    assert failed.json()["message"].startswith("Failed to run sql query: ERROR:  22012: division by zero")
    assert _query(api, ref, "select count(*) as n from public.u").json() == [{"n": 0}]


def test_query_read_only(fake_account: FakeAccount, api: httpx.Client) -> None:
    ref = _shop(fake_account).ref
    refused = _query(api, ref, "create table public.ro (id int)", read_only=True)
    assert refused.status_code == 400
    assert "25006" in refused.json()["message"]
    assert _query(api, ref, "select 2 as two", read_only=True).json() == [{"two": 2}]
    # Nothing of the session leaks into the next request.
    _query(api, ref, "set role anon; create temp table scratch (x int)")
    assert _query(api, ref, "select current_user as who").json() == [{"who": "postgres"}]


# -- OAuth -------------------------------------------------------------------------------------------------


class _OAuthFlow:
    def __init__(self, platform: FakePlatform) -> None:
        self.platform = platform
        self.app = platform.register_oauth_app()
        self.redirect_uri = "http://127.0.0.1:53682/callback"
        self.client = httpx.Client(base_url=platform.url)

    def authorize(self, verifier: str, state: str = "st-1") -> dict[str, list[str]]:
        answer = self.client.get(
            "/v1/oauth/authorize",
            params={
                "client_id": self.app.client_id,
                "redirect_uri": self.redirect_uri,
                "response_type": "code",
                "code_challenge": s256_challenge(verifier),
                "code_challenge_method": "S256",
                "state": state,
            },
        )
        assert answer.status_code == 302
        location = answer.headers["Location"]
        assert location.startswith(self.redirect_uri + "?")
        return parse_qs(urlsplit(location).query)

    def token(self, form: dict[str, str], *, basic: bool = True) -> httpx.Response:
        headers = {}
        if basic:
            pair = f"{self.app.client_id}:{self.app.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form = {**form, "client_id": self.app.client_id, "client_secret": self.app.client_secret}
        return self.client.post("/v1/oauth/token", data=form, headers=headers)

    def exchange(self, verifier: str, *, basic: bool = True) -> httpx.Response:
        code = self.authorize(verifier)["code"][0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": self.redirect_uri,
        }
        return self.token(form, basic=basic)

    def profile_status(self, access_token: str) -> int:
        return self.client.get("/v1/profile", headers={"Authorization": f"Bearer {access_token}"}).status_code


@pytest.fixture
def oauth(fake_platform: FakePlatform, fake_account: FakeAccount) -> Iterator[_OAuthFlow]:
    flow = _OAuthFlow(fake_platform)
    yield flow
    flow.client.close()


def test_oauth_code_exchange_with_pkce(oauth: _OAuthFlow, fake_account: FakeAccount) -> None:
    verifier = secrets.token_urlsafe(48)
    redirected = oauth.authorize(verifier, state="xyz")
    assert redirected["state"] == ["xyz"]
    code = redirected["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": oauth.redirect_uri}

    wrong = oauth.token({**form, "code_verifier": "not-the-verifier-" + "x" * 30})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"

    exchanged = oauth.token({**form, "code_verifier": verifier})
    assert exchanged.status_code == 201
    tokens = exchanged.json()
    assert set(tokens) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert (tokens["token_type"], tokens["expires_in"]) == ("Bearer", 3600)
    assert oauth.profile_status(tokens["access_token"]) == 200

    again = oauth.token({**form, "code_verifier": verifier})
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    # Client credentials in the form work as well as Basic authorization.
    assert oauth.exchange(secrets.token_urlsafe(48), basic=False).status_code == 201


def test_oauth_refresh_tokens_rotate_and_reuse_revokes(oauth: _OAuthFlow, fake_platform: FakePlatform) -> None:
    first = oauth.exchange(secrets.token_urlsafe(48)).json()
    refreshed = oauth.token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert refreshed.status_code == 201
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert oauth.profile_status(second["access_token"]) == 200

    reused = oauth.token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    # Reuse revoked the whole family.
    assert oauth.profile_status(second["access_token"]) == 401
    assert oauth.token({"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}).status_code == 400


def test_oauth_access_tokens_expire(oauth: _OAuthFlow, fake_platform: FakePlatform) -> None:
    fake_platform.oauth_access_token_ttl = 1
    tokens = oauth.exchange(secrets.token_urlsafe(48)).json()
    assert tokens["expires_in"] == 1
    assert oauth.profile_status(tokens["access_token"]) == 200
    fake_platform.expire_oauth_access_tokens()
    assert oauth.profile_status(tokens["access_token"]) == 401
    renewed = oauth.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()
    assert oauth.profile_status(renewed["access_token"]) == 200


def test_oauth_revoke(oauth: _OAuthFlow) -> None:
    tokens = oauth.exchange(secrets.token_urlsafe(48)).json()
    revoked = oauth.client.post(
        "/v1/oauth/revoke",
        json={
            "client_id": oauth.app.client_id,
            "client_secret": oauth.app.client_secret,
            "refresh_token": tokens["refresh_token"],
        },
    )
    assert revoked.status_code == 204
    assert oauth.profile_status(tokens["access_token"]) == 401
    again = oauth.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert again.json()["error"] == "invalid_grant"


def test_oauth_denied_and_unknown_client(oauth: _OAuthFlow, fake_platform: FakePlatform) -> None:
    fake_platform.deny_next_authorization = True
    denied = oauth.authorize(secrets.token_urlsafe(48), state="s")
    assert denied["error"] == ["access_denied"]
    assert denied["state"] == ["s"]
    assert "code" not in denied
    assert "code" in oauth.authorize(secrets.token_urlsafe(48))

    unknown = oauth.client.get(
        "/v1/oauth/authorize",
        params={
            "client_id": "66666666-6666-4666-8666-666666666666",
            "redirect_uri": oauth.redirect_uri,
            "response_type": "code",
            "code_challenge": s256_challenge("v" * 43),
            "code_challenge_method": "S256",
        },
    )
    assert unknown.status_code == 400
    bad_secret = oauth.client.post(
        "/v1/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(oauth.app.client_id, "sb_secret_wrong"),
    )
    assert (bad_secret.status_code, bad_secret.json()["error"]) == (401, "invalid_client")


# -- each project's own API ------------------------------------------------------------------------------


@pytest.fixture
def shop_with_items(fake_account: FakeAccount) -> FakeProject:
    shop = _shop(fake_account)
    with psycopg.connect(shop.db_uri, autocommit=True) as conn:
        conn.execute(
            "create table public.items (id int primary key, name text);"
            " insert into public.items values (1, 'one'), (2, 'two'), (3, 'three');"
            " grant select on public.items to anon, authenticated, service_role;"
            " create table public.secrets (id int); insert into public.secrets values (7);"
            " revoke all on public.secrets from anon, authenticated;"
            " grant select on public.secrets to service_role;"
        )
    return shop


@pytest.fixture
def supabase_clients() -> Iterator[list[supabase.Client]]:
    """Where a test puts the `supabase` clients it makes: their HTTP connections are closed afterwards."""
    clients: list[supabase.Client] = []
    yield clients
    for client in clients:
        client.postgrest.aclose()


# supabase 2.34 passes timeout and verify, which its own postgrest client deprecates.
@pytest.mark.filterwarnings("ignore:The '(timeout|verify|proxy)' parameter is deprecated:DeprecationWarning")
def test_rest_with_the_real_supabase_client(
    fake_platform: FakePlatform, shop_with_items: FakeProject, supabase_clients: list[supabase.Client]
) -> None:
    url = fake_platform.project_url(shop_with_items.ref)
    assert shop_with_items.api_url == url
    client = supabase.create_client(url, shop_with_items.anon_key)
    supabase_clients.append(client)
    answer = client.table("items").select("*").limit(1).execute()
    assert answer.data == [{"id": 1, "name": "one"}]

    publishable = supabase.create_client(url, shop_with_items.publishable_key)
    supabase_clients.append(publishable)
    counted = publishable.table("items").select("name", count="exact").order("id", desc=True).execute()
    assert counted.data == [{"name": "three"}, {"name": "two"}, {"name": "one"}]
    assert counted.count == 3
    assert publishable.table("items").select("id").eq("name", "two").execute().data == [{"id": 2}]

    with pytest.raises(supabase.PostgrestAPIError) as denied:
        client.table("secrets").select("*").execute()
    assert denied.value.code == "42501"
    secret = supabase.create_client(url, shop_with_items.secret_key)
    supabase_clients.append(secret)
    assert secret.table("secrets").select("*").execute().data == [{"id": 7}]

    with pytest.raises(supabase.PostgrestAPIError) as missing:
        client.table("nothere").select("*").execute()
    assert missing.value.code == "PGRST205"
    assert missing.value.message == "Could not find the table 'public.nothere' in the schema cache"

    request = fake_platform.matching_requests("GET", r"/project/[a-z]+/rest/v1/items")[0]
    assert request.headers["apikey"] == "<redacted>"
    assert request.query == {"select": ["*"], "limit": ["1"]}


def test_rest_status_codes(fake_platform: FakePlatform, shop_with_items: FakeProject) -> None:
    base = fake_platform.project_url(shop_with_items.ref)
    with httpx.Client(base_url=base) as client:
        denied = client.get("/rest/v1/secrets", headers={"apikey": shop_with_items.anon_key})
        assert denied.status_code == 401
        assert denied.json()["code"] == "42501"
        head = client.head(
            "/rest/v1/items",
            params={"select": "id"},
            headers={"apikey": shop_with_items.anon_key, "Prefer": "count=exact"},
        )
        assert (head.status_code, head.headers["Content-Range"], head.content) == (200, "0-2/3", b"")
        user = shop_with_items.jwt_for("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        as_user = client.get(
            "/rest/v1/items",
            params={"select": "id", "id": "gte.2"},
            headers={"apikey": shop_with_items.anon_key, "Authorization": f"Bearer {user}"},
        )
        assert as_user.json() == [{"id": 2}, {"id": 3}]


def test_project_api_needs_one_of_the_project_keys(fake_platform: FakePlatform, fake_account: FakeAccount) -> None:
    shop = _shop(fake_account)
    other = fake_platform.add_project(fake_account.organizations[0], "other")
    with httpx.Client(base_url=fake_platform.project_url(shop.ref)) as client:
        health = client.get("/auth/v1/health", headers={"apikey": shop.anon_key})
        assert health.status_code == 200
        assert health.json() == {
            "version": "v2.170.0",
            "name": "GoTrue",
            "description": "GoTrue is a user registration and authentication API",
        }
        for key in (shop.service_role_key, shop.publishable_key, shop.secret_key):
            assert client.get("/auth/v1/health", headers={"apikey": key}).status_code == 200
        wrong = client.get("/auth/v1/health", headers={"apikey": other.anon_key})
        assert wrong.status_code == 401
        assert wrong.json() == {
            "message": "Invalid API key",
            "hint": "Double check your Supabase `anon` or `service_role` API key.",
        }
        assert client.get("/auth/v1/health").status_code == 401


def test_project_api_is_unavailable_while_coming_up(
    fake_platform: FakePlatform, fake_account: FakeAccount, api: httpx.Client
) -> None:
    fake_platform.polls_to_healthy = 1
    ref = api.post("/v1/projects", json=_create_body(fake_account)).json()["ref"]
    project = fake_platform.project(ref)
    health_url = fake_platform.project_url(ref) + "/auth/v1/health"
    assert httpx.get(health_url, headers={"apikey": project.anon_key}).status_code == 503
    # The one poll still sees it coming up; right after it, the project is up.
    assert api.get(f"/v1/projects/{ref}").json()["status"] == "COMING_UP"
    assert httpx.get(health_url, headers={"apikey": project.anon_key}).status_code == 200


def test_reset_forgets_everything_and_drops_databases(
    fake_platform: FakePlatform, fake_account: FakeAccount, local_server: LocalServer
) -> None:
    database = _shop(fake_account).db_name
    fake_platform.inject("GET", ".*", status=500, times=None)
    fake_platform.reset()
    assert fake_platform.accounts() == []
    assert fake_platform.projects() == []
    assert fake_platform.faults == []
    assert fake_platform.requests == []
    assert database not in local_server.list_databases()
