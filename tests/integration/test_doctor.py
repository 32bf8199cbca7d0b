"""`studio doctor` and `studio --version`, with real parts: the keyring package and the OS store it finds, the
embedded PostgreSQL server, the fake platform for the network, real folders (one made read-only).

The all-fine run needs a working OS password store (CI runs the suite inside a D-Bus session with GNOME
Keyring, see .ci/run); without one it is skipped, unless STUDIO_REQUIRE_SECRET_SERVICE=1, which fails it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from studio import __version__
from studio.core import doctor
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.targets.local import LocalServer
from tests.support.fake_platform import FakePlatform

REQUIRED = os.environ.get("STUDIO_REQUIRE_SECRET_SERVICE") == "1"


def studio(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `studio ARGS` as a user would, in a child process."""
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, timeout=180,
                          env=env, check=False)


@pytest.fixture
def folders() -> Iterator[Path]:
    """A fresh folder for settings, cache and a new local server, readable by the server's own user under root."""
    folder = Path(tempfile.mkdtemp(prefix="studio-doctor-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def read_only_folder(folders: Path) -> Iterator[Path]:
    """A folder nobody may write into: mode 0555, and immutable (`chattr +i`) when running as root."""
    folder = folders / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if os.geteuid() == 0:  # root ignores permission bits; an immutable folder stops it too
        immutable = shutil.which("chattr") is not None and subprocess.run(
            ["chattr", "+i", str(folder)], capture_output=True, check=False).returncode == 0
    try:
        (folder / "probe").write_text("x")
    except OSError:
        pass
    else:
        (folder / "probe").unlink()
        pytest.skip("cannot make a read-only folder on this machine (root without chattr)")
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)


def _closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- --version ------------------------------------------------------------------------------------


def test_version_prints_the_package_version() -> None:
    result = studio("--version", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Studio {__version__}\n"


# -- the whole command ----------------------------------------------------------------------------


def test_doctor_passes_on_a_working_computer(
    local_server: LocalServer, fake_platform: FakePlatform, folders: Path
) -> None:
    service = f"studio-test-{uuid.uuid4().hex}"  # the probe entry goes there (and is deleted again)
    env = dict(os.environ, STUDIO_PLATFORM_URL=fake_platform.url, STUDIO_KEYRING_SERVICE=service,
               STUDIO_CONFIG_DIR=str(folders / "config"), STUDIO_CACHE_DIR=str(folders / "cache"))
    # STUDIO_DATA_DIR is the test session's: doctor checks the local server already running there.
    assert env["STUDIO_DATA_DIR"] == str(local_server.directory.parent)
    result = studio("doctor", env=env)
    lines = result.stdout.splitlines()
    keyring_line = next((line for line in lines if "Password store:" in line), "")
    if "PROBLEM" in keyring_line and not REQUIRED:
        pytest.skip(f"no OS keyring here: {keyring_line.strip()}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[0].startswith(f"Studio {__version__} (Python ")
    for name in ("Password store", "Local database", "Network", "Settings folder", "Data folder", "Cache folder"):
        assert any(line.startswith(f"  OK       {name}: ") for line in lines), result.stdout
    assert "127.0.0.1 answers over HTTP" in result.stdout
    assert "PROBLEM" not in result.stdout
    assert lines[-1] == "All checks passed."
    # The shared server was left running for the process that started it.
    assert local_server.is_running()
    assert (folders / "config").is_dir() and (folders / "cache").is_dir()


def test_doctor_names_each_broken_part_with_a_fix(read_only_folder: Path, folders: Path) -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               STUDIO_PLATFORM_URL=_closed_port_url(), STUDIO_DATA_DIR=str(read_only_folder),
               STUDIO_CONFIG_DIR=str(folders / "config"), STUDIO_CACHE_DIR=str(folders / "cache"))
    result = studio("doctor", "--timeout", "3", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "PROBLEM  Password store: Studio found no password store on this computer." in out
    assert "PROBLEM  Local database: Studio could not create the folder for the local database" in out
    assert "PROBLEM  Network: Studio could not connect to 127.0.0.1" in out
    assert f"PROBLEM  Data folder: Studio cannot write to {read_only_folder}" in out
    assert "OK       Settings folder:" in out and "OK       Cache folder:" in out
    # Every problem comes with a fix, in plain words
    lines = out.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("  PROBLEM"):
            assert lines[index + 1].startswith("           Fix: ") and len(lines[index + 1]) > 30, out
    assert "STUDIO_DATA_DIR" in out  # the way to move the broken folder
    assert lines[-1] == "4 problems found: see the Fix lines above."
    assert result.stderr == ""


# -- single checks --------------------------------------------------------------------------------


def test_local_database_check_starts_a_new_server_and_stops_it(folders: Path) -> None:
    directory = folders / "data" / "local-postgres"
    check = doctor.check_local_database(directory)
    assert check.ok, check
    assert check.detail.startswith(f"PostgreSQL {doctor.postgres_version()} starts and answers")
    assert (directory / "data" / "PG_VERSION").is_file()
    assert not (directory / "data" / "postmaster.pid").exists()  # stopped again


def test_postgres_version_is_the_running_servers(local_server: LocalServer) -> None:
    with psycopg.connect(local_server.uri()) as conn:
        row = conn.execute("show server_version").fetchone()
    assert row is not None
    assert doctor.postgres_version() == str(row[0]).split()[0]
    assert doctor.versions()["PostgreSQL"] == doctor.postgres_version()


def test_network_check_reports_a_platform_that_does_not_answer() -> None:
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        check = doctor.check_network(PlatformEndpoints(api_url=url), timeout=0.5)
    assert not check.ok
    assert check.problem == "127.0.0.1 did not answer within 0.5 s."
    assert "internet connection" in check.fix


def test_network_check_reports_server_errors() -> None:
    answered = threading.Event()

    def serve(sock: socket.socket) -> None:
        connection, _ = sock.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        answered.set()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        thread = threading.Thread(target=serve, args=(sock,), daemon=True)
        thread.start()
        check = doctor.check_network(PlatformEndpoints(api_url=f"http://127.0.0.1:{sock.getsockname()[1]}"))
        thread.join(timeout=10)
    assert answered.is_set()
    assert not check.ok
    assert check.problem == "127.0.0.1 answers, but with an error (503)."
    assert "status.supabase.com" in check.fix


def test_folder_check_when_a_file_is_in_the_way(folders: Path) -> None:
    blocker = folders / "not-a-folder"
    blocker.write_text("x")
    check = doctor.check_folder("cache", blocker / "cache", "STUDIO_CACHE_DIR")
    assert not check.ok
    assert check.problem.startswith(f"Studio cannot write to {blocker / 'cache'}")
    assert "STUDIO_CACHE_DIR" in check.fix
