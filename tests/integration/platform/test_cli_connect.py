"""The connect commands as a user runs them: separate processes sharing the OS keyring and the fake platform.

Secrets must persist between commands, so these tests need a real OS credential store: they are skipped
without one, except in CI (`STUDIO_REQUIRE_SECRET_SERVICE=1`), where a missing store fails them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from studio.core.secrets import SecretStore
from studio.core.targets.local import LocalServer
from tests.support.keyring_cleanup import forget_keyring_service


@pytest.fixture
def keyring_service() -> Iterator[str]:
    service = f"studio-test-{uuid.uuid4().hex[:8]}"
    store, report = SecretStore.open_default(service=service)
    if store is None:
        if os.environ.get("STUDIO_REQUIRE_SECRET_SERVICE") == "1":
            pytest.fail(f"CI must provide an OS keyring: {report.problem}")
        pytest.skip(f"no OS keyring here: {report.problem}")
    yield service
    forget_keyring_service(store)


@pytest.fixture
def cli(fake_platform: Any, keyring_service: str, tmp_path: Path) -> Iterator[Any]:
    env = dict(os.environ)
    env.update(
        STUDIO_PLATFORM_URL=fake_platform.url,
        STUDIO_PROJECT_URL_TEMPLATE=fake_platform.project_url_template,
        STUDIO_KEYRING_SERVICE=keyring_service,
    )
    env.pop("SUPABASE_ACCESS_TOKEN", None)
    accounts = Path(env["STUDIO_DATA_DIR"]) / "accounts.json"
    accounts.unlink(missing_ok=True)

    def studio(*args: str, stdin: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "studio", *args],
            capture_output=True,
            text=True,
            input=stdin,
            timeout=180,
            env={**env, **extra},
            check=False,
            cwd=tmp_path,
        )

    yield studio
    accounts.unlink(missing_ok=True)


def test_login_projects_link_deploy_logout(
    cli: Any, fake_platform: Any, fake_account: Any, local_server: LocalServer, tmp_path: Path
) -> None:
    login = cli("login", "--token-stdin", stdin=fake_account.token + "\n")
    assert login.returncode == 0, login.stderr
    assert "Signed in as ada@example.com" in login.stdout
    assert fake_account.token not in login.stdout + login.stderr

    listing = cli("projects")
    assert listing.returncode == 0, listing.stderr
    assert (
        "Acme" in listing.stdout and fake_account.project.ref in listing.stdout and "ACTIVE_HEALTHY" in listing.stdout
    )

    workspace = tmp_path / "app"
    (workspace / "supabase" / "schemas").mkdir(parents=True)
    (workspace / "supabase" / "schemas" / "tables.sql").write_text(
        "create table public.notes (id int primary key);\nalter table public.notes enable row level security;\n")
    link = cli("link", fake_account.project.ref, "--workspace", str(workspace))
    assert link.returncode == 0, link.stdout + link.stderr
    assert "REST API: ok" in link.stdout and "Auth: ok" in link.stdout
    saved = json.loads((workspace / "studio.json").read_text())
    assert saved["project"]["ref"] == fake_account.project.ref
    assert fake_account.project.publishable_key not in (workspace / "studio.json").read_text()

    diff = cli("diff", "--linked", "--workspace", str(workspace))
    assert diff.returncode == 2, diff.stderr
    assert "CREATE TABLE public.notes" in diff.stdout
    deploy = cli("deploy", "--project", fake_account.project.ref, "--workspace", str(workspace), "--name", "notes")
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    with psycopg.connect(local_server.uri(fake_account.project.db_name)) as conn:
        assert conn.execute("select name from supabase_migrations.schema_migrations").fetchall() == [("notes",)]
        assert conn.execute("select to_regclass('public.notes')::text").fetchone() == ("notes",)

    logout = cli("logout")
    assert logout.returncode == 0 and "Signed out of ada@example.com" in logout.stdout
    after = cli("projects")
    assert after.returncode == 1 and "not signed in" in after.stderr.lower()


def test_login_with_a_malformed_token_explains_the_format(cli: Any, fake_platform: Any) -> None:
    result = cli("login", "--token-stdin", stdin="hunter2\n")
    assert result.returncode == 1
    assert "sbp_" in result.stderr and "hunter2" not in result.stderr
    assert not [r for r in fake_platform.requests if r.path == "/v1/profile"]


def test_projects_create_shows_progress_and_stores_the_password(
    cli: Any, fake_platform: Any, fake_account: Any
) -> None:
    fake_platform.polls_to_healthy = 2
    assert cli("login", "--token-stdin", stdin=fake_account.token).returncode == 0
    created = cli("projects", "create", "bookings", "--org", fake_account.organization.slug, "--region", "eu-west-2")
    assert created.returncode == 0, created.stderr
    assert "COMING_UP" in created.stdout and "bookings is ready" in created.stdout
    project = next(p for p in fake_platform.projects() if p.name == "bookings")
    assert project.db_pass not in created.stdout + created.stderr


def test_login_through_the_browser(cli: Any, fake_platform: Any, fake_account: Any) -> None:
    app = fake_platform.register_oauth_app()
    browser = f'{sys.executable} -c "import httpx,sys; httpx.get(sys.argv[1], follow_redirects=True)" %s'
    result = cli(
        "login",
        "--oauth",
        "--client-id",
        app.client_id,
        "--client-secret-stdin",
        "--timeout",
        "60",
        stdin=app.client_secret + "\n",
        BROWSER=browser,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signed in as ada@example.com" in result.stdout
    assert app.client_secret not in result.stdout + result.stderr
    listing = cli("accounts")
    assert "ada@example.com" in listing.stdout and "browser sign-in" in listing.stdout
