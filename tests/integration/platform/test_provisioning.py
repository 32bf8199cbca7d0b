"""Creating a project: progress until it is healthy, failures explained, and never a second project."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from studio.core.errors import NetworkDown, ProvisioningFailed, RequestRejected
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.management import ManagementClient
from studio.core.platform.provisioning import PollPolicy, ProvisioningProgress, create_project, wait_until_ready
from studio.core.secrets import SecretStore


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def api(fake: Any, token: str) -> ManagementClient:
    async def bearer() -> str:
        return token

    return ManagementClient.connect(
        PlatformEndpoints(api_url=fake.url, project_url_template=fake.project_url_template), token=bearer
    )


def creates(fake: Any) -> int:
    return len([r for r in fake.requests if r.method == "POST" and r.path == "/v1/projects"])


def test_a_new_project_reports_progress_until_every_service_is_healthy(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.polls_to_healthy = 5
    store = SecretStore.session_only(service="studio-test")
    clock = FakeClock()
    updates: list[ProvisioningProgress] = []

    async def scenario() -> Any:
        async with api(fake_platform, fake_account.token) as client:
            project = await create_project(
                client, store, organization_slug=fake_account.organization.slug, name="bookings", region="eu-west-2"
            )
            ready = await wait_until_ready(
                client,
                project.ref,
                on_progress=updates.append,
                sleep=clock.sleep,
                clock=clock,
                policy=PollPolicy(first_wait=2, factor=2, max_wait=5),
            )
            return project, ready

    project, ready = run(scenario())
    assert project.status == "COMING_UP" and ready.status == "ACTIVE_HEALTHY"
    assert updates[0].status == "COMING_UP" and updates[-1].message == "Ready"
    assert [u.elapsed for u in updates] == sorted(u.elapsed for u in updates)
    assert clock.sleeps[:3] == [2, 4, 5], "waits grow and are capped"
    assert all(s.status == "ACTIVE_HEALTHY" for s in updates[-1].services)
    password = store.get_db_password(project.ref)
    assert password is not None and len(password.reveal()) == 32
    assert fake_platform.project(project.ref).db_pass == password.reveal()


def test_init_failed_is_reported_with_what_to_do(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.fail_next_create = True
    store = SecretStore.session_only(service="studio-test")
    clock = FakeClock()

    async def scenario() -> Any:
        async with api(fake_platform, fake_account.token) as client:
            project = await create_project(
                client, store, organization_slug=fake_account.organization.slug, name="doomed", region="eu-west-2"
            )
            await wait_until_ready(client, project.ref, sleep=clock.sleep, clock=clock)

    with pytest.raises(ProvisioningFailed) as caught:
        run(scenario())
    assert "INIT_FAILED" in caught.value.message and "create it again" in caught.value.hint


def test_a_project_that_never_comes_up_times_out_with_how_to_resume(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.polls_to_healthy = 10_000
    store = SecretStore.session_only(service="studio-test")
    clock = FakeClock()

    async def scenario() -> Any:
        async with api(fake_platform, fake_account.token) as client:
            project = await create_project(
                client, store, organization_slug=fake_account.organization.slug, name="slow", region="eu-west-2"
            )
            await wait_until_ready(client, project.ref, sleep=clock.sleep, clock=clock, policy=PollPolicy(timeout=120))
            return project

    with pytest.raises(ProvisioningFailed) as caught:
        run(scenario())
    assert "not ready after 2 minutes" in caught.value.message and "studio link" in caught.value.hint
    assert clock.now <= 120


def test_a_lost_answer_adopts_the_project_instead_of_creating_another(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("POST", "/v1/projects", drop_after_handling=True)
    store = SecretStore.session_only(service="studio-test")

    async def scenario() -> Any:
        async with api(fake_platform, fake_account.token) as client:
            return await create_project(
                client, store, organization_slug=fake_account.organization.slug, name="orders", region="eu-west-2"
            )

    project = run(scenario())
    assert creates(fake_platform) == 1
    named = [p for p in fake_platform.projects() if p.name == "orders"]
    assert [p.ref for p in named] == [project.ref]
    password = store.get_db_password(project.ref)
    assert password is not None and named[0].db_pass == password.reveal()


def test_a_request_that_never_arrived_is_reported_and_can_be_retried(fake_platform: Any, fake_account: Any) -> None:
    fake_platform.inject("POST", "/v1/projects", drop=True)
    store = SecretStore.session_only(service="studio-test")

    async def attempt() -> Any:
        async with api(fake_platform, fake_account.token) as client:
            return await create_project(
                client, store, organization_slug=fake_account.organization.slug, name="orders", region="eu-west-2"
            )

    with pytest.raises(NetworkDown, match="was not created"):
        run(attempt())
    project = run(attempt())
    assert [p.ref for p in fake_platform.projects() if p.name == "orders"] == [project.ref]


def test_a_second_project_of_the_same_name_is_refused(fake_platform: Any, fake_account: Any) -> None:
    store = SecretStore.session_only(service="studio-test")

    async def scenario() -> Any:
        async with api(fake_platform, fake_account.token) as client:
            return await create_project(
                client, store, organization_slug=fake_account.organization.slug, name="shop", region="eu-west-2"
            )

    with pytest.raises(RequestRejected) as caught:
        run(scenario())
    assert fake_account.project.ref in caught.value.message and "studio link" in caught.value.hint
    assert creates(fake_platform) == 0


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)
