"""Fixtures for tests against the fake Supabase platform (tests/support/fake_platform).

* `fake_platform_server` (session): the fake, started once on the session's `local_server`, stopped
  (and its project databases dropped) at the end.
* `fake_platform` (function): the same fake, reset before the test. After the test, any entry of
  `spec_violations` (a request or an answer that breaks the Management API spec, something the fake
  does not serve, an error of the fake) fails it, unless it is marked `allow_spec_violations`.
* `fake_account` (function): an account ("ada", a `FakeAccount`) with one organization "Acme" holding
  one ACTIVE_HEALTHY project "shop".

This folder has no `__init__.py`, like the rest of tests/integration: a package named `platform`
would hide the standard library's module of that name.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.core.targets.local import LocalServer
from tests.support.fake_platform import FakeAccount, FakePlatform


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_spec_violations: the test expects requests or answers that break the Management API spec",
    )


@pytest.fixture(scope="session")
def fake_platform_server(local_server: LocalServer) -> Iterator[FakePlatform]:
    """The session's fake platform, running."""
    platform = FakePlatform(local_server)
    platform.start()
    yield platform
    platform.stop()


@pytest.fixture
def fake_platform(request: pytest.FixtureRequest, fake_platform_server: FakePlatform) -> Iterator[FakePlatform]:
    """The fake platform, reset; the test fails if it broke the spec (see the module docstring)."""
    fake_platform_server.reset()
    yield fake_platform_server
    violations = list(fake_platform_server.spec_violations)
    if violations and request.node.get_closest_marker("allow_spec_violations") is None:
        listed = "\n".join(f"- {violation}" for violation in violations)
        pytest.fail(f"The fake platform recorded {len(violations)} spec violation(s):\n{listed}", pytrace=False)


@pytest.fixture
def fake_account(fake_platform: FakePlatform) -> FakeAccount:
    """Account "ada" with organization "Acme" and its ACTIVE_HEALTHY project "shop".

    `fake_account.organization` is Acme, `fake_account.project` is shop, `fake_account.token` a
    personal access token.
    """
    account = fake_platform.add_account()
    organization = fake_platform.add_organization(account, "Acme")
    fake_platform.add_project(organization, "shop")
    return account
