"""The Management API client against the fake platform: paging, and every fault the issue names.

Waits are recorded instead of slept, so a test can assert that Studio waited what the server asked without
spending that time.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from studio.core.errors import (
    NetworkDown,
    NotFoundOnPlatform,
    PlatformUnavailable,
    RateLimited,
    SignInRequired,
)
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.http import ResponseLost, RetryPolicy
from studio.core.platform.management import ManagementClient
from studio.core.secrets import generate_db_password


class Waits:
    """Stands in for asyncio.sleep: records each wait and the notice shown before it."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.notices: list[str] = []

    async def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(0)

    def notice(self, message: str, seconds: float) -> None:
        self.notices.append(message)


def client(fake: Any, token: str, waits: Waits, **policy: Any) -> ManagementClient:
    async def bearer() -> str:
        return token

    endpoints = PlatformEndpoints(api_url=fake.url, project_url_template=fake.project_url_template)
    return ManagementClient.connect(
        endpoints, token=bearer, policy=RetryPolicy(**policy), on_retry=waits.notice, sleep=waits.sleep
    )


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_profile_organizations_and_every_page_of_projects(fake_platform: Any) -> None:
    account = fake_platform.add_account(email="ada@example.com", username="ada")
    org = fake_platform.add_organization(account, "Acme")
    fake_platform.add_organization(account, "Zeta labs")
    for number in range(130):
        fake_platform.add_project(org.slug, f"app-{number:03d}", create_database=False)
    waits = Waits()

    async def scenario() -> tuple[Any, Any, Any]:
        async with client(fake_platform, account.token, waits) as api:
            return await api.profile(), await api.organizations(), await api.projects(org.slug)

    profile, organizations, projects = run(scenario())
    assert (profile.email, profile.gotrue_id) == ("ada@example.com", account.gotrue_id)
    assert [o.name for o in organizations] == ["Acme", "Zeta labs"]
    assert sorted(p.name for p in projects) == [f"app-{n:03d}" for n in range(130)]
    pages = [r for r in fake_platform.requests if r.path == f"/v1/organizations/{org.slug}/projects"]
    assert len(pages) == 2, "130 projects take two pages of 100"


def test_rate_limit_is_waited_out_as_the_server_asks_and_announced(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("GET", "/v1/organizations", status=429, headers={"Retry-After": "20"}, times=2)
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            return await api.organizations()

    assert [o.name for o in run(scenario())] == ["Acme"]
    assert len(waits.seconds) == 2 and all(20 <= s <= 20.3 for s in waits.seconds)
    assert waits.notices[0] == "Supabase is rate limiting this account, retrying in 20 s"


def test_rate_limit_reset_header_is_honoured(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("GET", "/v1/profile", status=429, headers={"X-RateLimit-Reset": "7"})
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            return await api.profile()

    run(scenario())
    assert len(waits.seconds) == 1 and 7 <= waits.seconds[0] <= 7.3


def test_a_rate_limit_longer_than_studio_will_wait_is_reported_with_the_time(
    fake_platform: Any, fake_account: Any
) -> None:
    fake_platform.inject("GET", "/v1/organizations", status=429, headers={"Retry-After": "600"})
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            return await api.organizations()

    with pytest.raises(RateLimited) as caught:
        run(scenario())
    assert caught.value.retry_after == 600
    assert "rate limiting this account" in caught.value.message and "600 s" in caught.value.message
    assert waits.seconds == []


def test_server_errors_on_reads_are_retried_with_backoff(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("GET", r"/v1/projects/[a-z]+", status=503, times=2)
    fake_platform.inject("GET", r"/v1/projects/[a-z]+", status=502, times=1)
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits, base_delay=1.0, max_delay=30.0) as api:
            return await api.project(fake_account.project.ref)

    assert run(scenario()).name == "shop"
    assert len(waits.seconds) == 3
    assert 0.5 <= waits.seconds[0] <= 1 and 1 <= waits.seconds[1] <= 2 and 2 <= waits.seconds[2] <= 4


def test_server_errors_that_persist_end_in_a_plain_message(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("GET", "/v1/organizations", status=500, times=None)
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            return await api.organizations()

    with pytest.raises(PlatformUnavailable, match="problem on its side"):
        run(scenario())
    assert waits.seconds == [], "a 500 is not a transient answer: it is not retried"


def test_a_create_request_is_never_resent_after_a_server_error(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("POST", "/v1/projects", status=503)
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            return await api.create_project(fake_account.organization.slug, "new", "eu-west-1", generate_db_password())

    with pytest.raises(PlatformUnavailable):
        run(scenario())
    assert len([r for r in fake_platform.requests if r.method == "POST" and r.path == "/v1/projects"]) == 1


def test_dropped_connections_are_retried_for_reads_but_not_for_writes(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("GET", "/v1/organizations", drop=True, times=2)
    fake_platform.inject("POST", r"/v1/projects/[a-z]+/database/query", drop=True)
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            organizations = await api.organizations()
            with pytest.raises(ResponseLost, match="may or may not have been carried out"):
                await api.run_query(fake_account.project.ref, "create table public.once (id int)")
            return organizations

    assert [o.name for o in run(scenario())] == ["Acme"]
    assert len(waits.seconds) == 2
    queries = [r for r in fake_platform.requests if r.path.endswith("/database/query")]
    assert len(queries) == 1


def test_slow_answers_time_out_with_a_message(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("GET", "/v1/organizations", delay=5.0, times=None)
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits, timeout=0.3, attempts=2) as api:
            return await api.organizations()

    with pytest.raises(PlatformUnavailable, match="did not answer within"):
        run(scenario())
    assert len(waits.seconds) == 1


def test_no_network_says_so(fake_account: Any) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    waits = Waits()

    async def bearer() -> str:
        return fake_account.token

    async def scenario() -> Any:
        api = ManagementClient.connect(
            PlatformEndpoints(api_url=f"http://127.0.0.1:{port}"),
            token=bearer,
            policy=RetryPolicy(attempts=3),
            sleep=waits.sleep,
            on_retry=waits.notice,
        )
        async with api:
            return await api.organizations()

    with pytest.raises(NetworkDown) as caught:
        run(scenario())
    assert caught.value.message.startswith("No network")
    assert len(waits.seconds) == 2 and waits.notices[0].startswith("Cannot reach 127.0.0.1 yet")


def test_a_revoked_token_asks_the_user_to_sign_in_again(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.revoke_token(fake_account.token)
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            return await api.organizations()

    with pytest.raises(SignInRequired) as caught:
        run(scenario())
    assert "revoked" in caught.value.message and "sign in again" in caught.value.message
    assert fake_account.token not in str(caught.value)


def test_an_injected_401_is_the_same_as_a_revoked_token(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("GET", "/v1/profile", status=401, body={"message": "Unauthorized"})
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            return await api.profile()

    with pytest.raises(SignInRequired):
        run(scenario())


def test_regions_recommended_first_and_keys_split_by_audience(fake_platform: Any, fake_account: Any) -> None:
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            return await api.available_regions(fake_account.organization.slug), await api.api_keys(
                fake_account.project.ref
            )

    regions, keys = run(scenario())
    assert regions and regions[0].recommended
    assert {r.code for r in regions} >= {"eu-central-1", "us-east-1"}
    project = fake_account.project
    assert keys.client_key.reveal() == project.publishable_key and keys.client_key_kind == "publishable"
    assert keys.server_key is not None and keys.server_key.reveal() == project.secret_key
    assert project.secret_key not in repr(keys)


def test_an_unknown_project_is_named_in_the_message(fake_platform: Any, fake_account: Any) -> None:
    waits = Waits()

    async def scenario() -> Any:
        async with client(fake_platform, fake_account.token, waits) as api:
            return await api.project("zzzzzzzzzzzzzzzzzzzz")

    with pytest.raises(NotFoundOnPlatform, match="no Supabase project zzzzzzzzzzzzzzzzzzzz"):
        run(scenario())
