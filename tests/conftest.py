"""Fixtures shared by every test.

Database fixtures (real PostgreSQL, no mocks):

* `local_server` (session): one embedded PostgreSQL server in a temporary folder, with the Supabase
  base installed (the `studio_template` database and the `postgres` database); stopped at the end.
* `db_url` (function): the URL of a brand-new database cloned from the template - roles, `auth`,
  `storage` and grants as on Supabase, nothing else - dropped after the test.
* `target` (function): a `PostgresTarget` on `db_url`, closed after the test.

The fake Supabase platform (tests/support/fake_platform), for every test that needs it:

* `fake_platform_server` (session): the fake, started once on the session's `local_server`, stopped
  (and its project databases dropped) at the end.
* `fake_platform` (function): the same fake, reset before the test. After the test, any entry of
  `spec_violations` (a request or an answer that breaks the Management API spec, something the fake
  does not serve, an error of the fake) fails it, unless it is marked `allow_spec_violations`.
* `fake_account` (function): an account ("ada", a `FakeAccount`) with one organization "Acme" holding
  one ACTIVE_HEALTHY project "shop".

Tests are synchronous and drive async code with `asyncio.run(...)`; a target may be used by several
`asyncio.run` calls in turn (never concurrently from two loops).
"""

from __future__ import annotations

import os

# Before anything can import Qt: widgets render without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import studio  # noqa: F401
except ImportError:  # not installed into the environment: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget
from tests.support.fake_platform import FakeAccount, FakePlatform


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """The embedded server of this test session, started, with the Supabase base installed."""
    # Studio's per-user data folder for this session: commands run in child processes (`studio diff`...)
    # find the same local server there instead of starting their own in the real user folder.
    # Not under pytest's own temporary folder: another pytest session on the machine makes that 0700, and
    # the server (run as its own system user under root) would lose access to its files.
    with running_server("studio-test-data-") as server:
        os.environ["STUDIO_DATA_DIR"] = str(server.directory.parent)
        yield server


@contextlib.contextmanager
def running_server(prefix: str) -> Iterator[LocalServer]:
    """An embedded server in a new folder (`prefix` + random), started with the Supabase base; removed after."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    server = LocalServer(folder / "local-postgres")
    try:
        server.start()
        server.ensure_supabase_base()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def db_url(local_server: LocalServer) -> Iterator[str]:
    """URL of a fresh database with the Supabase base (a copy of the template), dropped afterwards."""
    name = local_server.create_database()
    yield local_server.uri(name)
    local_server.drop_database(name)


@pytest.fixture
def target(db_url: str) -> Iterator[PostgresTarget]:
    """A `PostgresTarget` on the test's fresh database; its connection is closed afterwards."""
    target = PostgresTarget(db_url, description="Test database")
    yield target
    asyncio.run(target.close())


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
