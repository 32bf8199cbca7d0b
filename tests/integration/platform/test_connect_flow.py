"""The whole connect flow against the fake platform, then a scan of everything Studio wrote for secrets.

Sign in (a personal access token, then a second account through the browser), list, create and link a
project, check its API with the supabase client, deploy through the Management API, switch accounts and
sign out. Afterwards no secret may appear in any file Studio wrote or in any log line.

The credential store is the real OS keyring when one works here (always in CI, which runs the tests inside
a Secret Service session), else the in-memory store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio.core.errors import SignInRequired
from studio.core.migrations import apply_plan
from studio.core.platform.accounts import AccountRegistry
from studio.core.platform.api_check import check_project_api
from studio.core.platform.context import PlatformContext
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.linking import link_project, stored_client_key
from studio.core.platform.oauth import OAuthClient
from studio.core.platform.provisioning import PollPolicy, create_project, wait_until_ready
from studio.core.platform.session import sign_in_with_browser, sign_in_with_token, sign_out
from studio.core.schema.planner import make_plan
from studio.core.schema.shadow import catalog_of_sources
from studio.core.secrets import Secret, SecretStore
from studio.core.targets.cloud import CloudTarget
from studio.core.targets.local import LocalServer
from studio.core.workspace_file import read_link
from tests.support.keyring_cleanup import forget_keyring_service


@pytest.fixture
def store() -> Iterator[SecretStore]:
    """The OS keyring under a service name of this test's own, else session-only memory; emptied after."""
    service = f"studio-test-{uuid.uuid4().hex[:8]}"
    found, _ = SecretStore.open_default(service=service)
    store = found or SecretStore.session_only(service=service)
    yield store
    forget_service(store)


def forget_service(store: SecretStore) -> None:
    """Delete every entry of the store's service from the OS keyring (memory stores just go away)."""
    forget_keyring_service(store)


@pytest.fixture
def context(fake_platform: Any, store: SecretStore, tmp_path: Path) -> PlatformContext:
    endpoints = PlatformEndpoints(api_url=fake_platform.url, project_url_template=fake_platform.project_url_template)
    return PlatformContext(
        endpoints=endpoints, registry=AccountRegistry(tmp_path / "data" / "accounts.json"), store=store
    )


async def approve_in_browser(url: str) -> None:
    """The user's browser: opens the authorize page, approves, and is sent back to Studio's listener."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        await browser.get(url)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_connect_flow_end_to_end_leaves_no_secret_behind(
    fake_platform: Any,
    context: PlatformContext,
    local_server: LocalServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_platform.polls_to_healthy = 2
    ada = fake_platform.add_account(email="ada@example.com", username="ada")
    org = fake_platform.add_organization(ada, "Acme")
    grace = fake_platform.add_account(email="grace@example.com", username="grace")
    fake_platform.add_organization(grace, "Grace's lab")
    fake_platform.browser_account = grace
    app = fake_platform.register_oauth_app()
    workspace = tmp_path / "app"
    workspace.mkdir()
    store = context.store

    async def flow() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        first = await sign_in_with_token(
            f"  {ada.token}\n", store=store, registry=context.registry, endpoints=context.endpoints
        )
        second = await sign_in_with_browser(
            OAuthClient(client_id=app.client_id, client_secret=Secret(app.client_secret)),
            store=store,
            registry=context.registry,
            endpoints=context.endpoints,
            open_browser=approve_in_browser,
            timeout=30,
        )
        seen["active_after_oauth"] = context.registry.active()
        async with context.session(second).client() as client:
            seen["grace_orgs"] = [o.name for o in await client.organizations()]
        context.registry.set_active(first.id)
        session = context.session()
        async with session.client() as client:
            seen["ada_orgs"] = [o.name for o in await client.organizations()]
            project = await create_project(client, store, organization_slug=org.slug, name="shop", region="eu-west-2")
            await wait_until_ready(
                client, project.ref, sleep=lambda s: asyncio.sleep(0), policy=PollPolicy(first_wait=0.01)
            )
            result = await link_project(session, client, project.ref, workspace=workspace)
            seen["link"] = result
            desired = await catalog_of_sources(local_server, [("s.sql", "create table public.notes (id int);")])
            target = CloudTarget(client, project.ref)
            plan = await make_plan(target, desired)
            seen["applied"] = await apply_plan(target, plan, workspace=workspace, name="notes")
        seen["project"] = project
        tokens = store.get_account_tokens(second.id)
        assert tokens is not None and tokens.refresh_token is not None
        seen["oauth_tokens"] = (tokens.access_token.reveal(), tokens.refresh_token.reveal())
        seen["db_password"] = store.get_db_password(project.ref)
        await sign_out(second, store=store, registry=context.registry, endpoints=context.endpoints)
        seen["after_sign_out"] = store.get_account_tokens(second.id)
        return seen

    seen = run(flow())
    assert seen["active_after_oauth"].email == "grace@example.com"
    assert seen["grace_orgs"] == ["Grace's lab"] and seen["ada_orgs"] == ["Acme"]
    link = read_link(workspace)
    project = seen["project"]
    assert link is not None and link.ref == project.ref and link.account_id == ada.gotrue_id
    assert seen["link"].api_works, seen["link"].checks
    assert stored_client_key(store, project.ref) is not None
    assert seen["after_sign_out"] is None
    assert [a.email for a in context.registry.accounts()] == ["ada@example.com"]
    # Signing out revoked Grace's refresh token on the platform.
    with pytest.raises(httpx.HTTPStatusError):
        httpx.post(
            f"{fake_platform.url}/v1/oauth/token",
            auth=(app.client_id, app.client_secret),
            data={"grant_type": "refresh_token", "refresh_token": seen["oauth_tokens"][1]},
        ).raise_for_status()

    fake_project = fake_platform.project(project.ref)
    secrets = {
        "personal access token": ada.token,
        "OAuth access token": seen["oauth_tokens"][0],
        "OAuth refresh token": seen["oauth_tokens"][1],
        "OAuth client secret": app.client_secret,
        "database password": seen["db_password"].reveal(),
        "secret key": fake_project.secret_key,
        "service_role key": fake_project.service_role_key,
        "publishable key": fake_project.publishable_key,
        "anon key": fake_project.anon_key,
    }
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    data_dir = os.environ.get("STUDIO_DATA_DIR")
    if data_dir:
        written += [p for p in Path(data_dir).rglob("*") if p.is_file() and "local-postgres" not in p.parts]
    assert any(p.name == "studio.json" for p in written) and any(p.name == "accounts.json" for p in written)
    leaks = []
    for path in written:
        content = path.read_bytes()
        leaks += [f"{what} in {path}" for what, value in secrets.items() if value.encode() in content]
    log_text = "\n".join(record.getMessage() for record in caplog.records)
    leaks += [f"{what} in the log" for what, value in secrets.items() if value in log_text]
    assert not leaks


def test_a_revoked_token_while_working_asks_to_sign_in_again(fake_platform: Any, context: PlatformContext) -> None:
    ada = fake_platform.add_account(email="ada@example.com", username="ada")

    async def flow() -> None:
        await sign_in_with_token(ada.token, store=context.store, registry=context.registry, endpoints=context.endpoints)
        fake_platform.revoke_token(ada.token)
        async with context.session().client() as client:
            await client.organizations()

    with pytest.raises(SignInRequired, match="sign in again"):
        run(flow())


def test_a_wrong_token_is_refused_and_nothing_is_stored(fake_platform: Any, context: PlatformContext) -> None:
    ada = fake_platform.add_account(email="ada@example.com", username="ada")
    fake_platform.revoke_token(ada.token)

    with pytest.raises(SignInRequired, match="did not accept this token"):
        run(sign_in_with_token(ada.token, store=context.store, registry=context.registry, endpoints=context.endpoints))
    assert context.registry.accounts() == []
    assert not context.registry.path.exists()


def test_oauth_tokens_are_refreshed_before_they_expire_and_rotated(
    fake_platform: Any, context: PlatformContext
) -> None:
    grace = fake_platform.add_account(email="grace@example.com", username="grace")
    fake_platform.add_organization(grace, "Lab")
    fake_platform.browser_account = grace
    fake_platform.oauth_access_token_ttl = 60  # inside the refresh margin: every use refreshes first
    app = fake_platform.register_oauth_app()
    client = OAuthClient(client_id=app.client_id, client_secret=Secret(app.client_secret))

    async def flow() -> tuple[Any, Any, list[str]]:
        account = await sign_in_with_browser(
            client,
            store=context.store,
            registry=context.registry,
            endpoints=context.endpoints,
            open_browser=approve_in_browser,
            timeout=30,
        )
        before = context.store.get_account_tokens(account.id)
        async with context.session().client() as api:
            names = [o.name for o in await api.organizations()]
        return before, context.store.get_account_tokens(account.id), names

    before, after, names = run(flow())
    assert names == ["Lab"]
    assert before is not None and after is not None
    assert after.refresh_token != before.refresh_token, "the refresh token rotated and the new one was stored"
    assert after.access_token != before.access_token


def test_the_api_check_tells_a_wrong_key_from_a_project_still_starting(fake_platform: Any, fake_account: Any) -> None:
    url = fake_platform.project_url_template.replace("{ref}", fake_account.project.ref)
    good = run(check_project_api(url, Secret(fake_account.project.anon_key)))
    assert [c.ok for c in good] == [True, True]
    wrong = run(check_project_api(url, Secret("sb_publishable_" + "x" * 22)))
    assert [c.ok for c in wrong] == [False, False]
    assert all("refused the key" in c.message for c in wrong)
    fake_platform.project(fake_account.project.ref).status = "COMING_UP"
    starting = run(check_project_api(url, Secret(fake_account.project.anon_key), timeout=5))
    assert [c.ok for c in starting] == [False, False]
    assert all("not reachable yet" in c.message for c in starting)


def test_two_sessions_sharing_an_account_never_reuse_a_rotated_refresh_token(fake_platform: Any,
                                                                             context: PlatformContext) -> None:
    grace = fake_platform.add_account(email="grace@example.com", username="grace")
    fake_platform.add_organization(grace, "Lab")
    fake_platform.browser_account = grace
    fake_platform.oauth_access_token_ttl = 60  # inside the refresh margin: every use wants a refresh
    app = fake_platform.register_oauth_app()
    client = OAuthClient(client_id=app.client_id, client_secret=Secret(app.client_secret))

    async def flow() -> list[str]:
        await sign_in_with_browser(client, store=context.store, registry=context.registry,
                                   endpoints=context.endpoints, open_browser=approve_in_browser, timeout=30)
        app_window, command_line = context.session(), context.session()  # as two Studio processes would
        await command_line.token()  # reads (and keeps) the pair that is about to be rotated
        names = []
        async with app_window.client() as api:
            names += [o.name for o in await api.organizations()]  # refreshes: the old refresh token is spent
        async with command_line.client() as api:
            names += [o.name for o in await api.organizations()]  # must pick up the new pair, not reuse the old
        return names

    assert run(flow()) == ["Lab", "Lab"]
    assert context.store.get_account_tokens(context.registry.accounts()[0].id) is not None
