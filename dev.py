#!/usr/bin/env python3
"""Install Studio into a local virtual environment, then start it or test it.

    python3 dev.py run      install (first time or when dependencies changed) and start the app
    python3 dev.py test     install with test tools and run lint, type checks and the test suite

Needs only Python 3.11+; everything else comes from the package index into `.venv`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _install(extras: str) -> None:
    """Create .venv and install the project, skipping work when nothing changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under whatever python3 the user has
        sys.exit("Studio needs Python 3.11 or newer; this is " + sys.version.split()[0])
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras or 'app'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installing Studio and its dependencies into .venv ...", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "-e", target], check=True, cwd=ROOT)
    stamp.write_text(digest)


def _run(args: list[str]) -> int:
    _install("")
    app = subprocess.Popen([str(PYTHON), "-m", "studio", *args], cwd=ROOT)
    while True:
        try:
            return app.wait()
        except KeyboardInterrupt:
            continue  # Ctrl+C reaches the app too; it closes itself (and its local database) cleanly


def _test(args: list[str]) -> int:
    _install("test")
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    steps = [
        [str(PYTHON), "-m", "ruff", "check", "src", "tests", "benchmarks", "scripts", "packaging", "dev.py"],
        [str(PYTHON), "-m", "mypy"],
        [str(PYTHON), "-m", "pytest", *args],
    ]
    for step in steps:
        print("$", " ".join(Path(step[0]).name if i == 0 else part for i, part in enumerate(step)), flush=True)
        code = subprocess.call(step, cwd=ROOT, env=env)
        if code != 0:
            return code
    return 0


def main() -> int:
    """Dispatch `run` or `test`."""
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test"}:
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    return _run(rest) if command == "run" else _test(rest)


if __name__ == "__main__":
    sys.exit(main())
