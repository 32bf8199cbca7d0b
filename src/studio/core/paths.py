"""Where Studio keeps its data on this computer (per-user, via platformdirs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "Studio"
APP_AUTHOR = "Studio"

#: The environment variables that move each per-user folder (tests and portable installs use them).
DATA_VARIABLE = "STUDIO_DATA_DIR"
CACHE_VARIABLE = "STUDIO_CACHE_DIR"
CONFIG_VARIABLE = "STUDIO_CONFIG_DIR"


def _data_path() -> Path:
    override = os.environ.get(DATA_VARIABLE)
    return Path(override) if override else platformdirs.user_data_path(APP_NAME, APP_AUTHOR)


def _cache_path() -> Path:
    override = os.environ.get(CACHE_VARIABLE)
    return Path(override) if override else platformdirs.user_cache_path(APP_NAME, APP_AUTHOR)


def _config_path() -> Path:
    override = os.environ.get(CONFIG_VARIABLE)
    return Path(override) if override else platformdirs.user_config_path(APP_NAME, APP_AUTHOR)


def data_dir() -> Path:
    """Per-user data folder (the local project's database lives here).

    `STUDIO_DATA_DIR` overrides it, which tests and portable installs use.
    """
    path = _data_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Per-user cache folder (offline views); `STUDIO_CACHE_DIR` overrides it."""
    path = _cache_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_workspace() -> Path:
    """The workspace folder the app opens when the user has not chosen one (not created here).

    `STUDIO_WORKSPACE` overrides it; otherwise `<Documents>/Studio/my-app`.
    """
    override = os.environ.get("STUDIO_WORKSPACE")
    if override:
        return Path(override)
    return platformdirs.user_documents_path() / APP_NAME / "my-app"


def config_dir() -> Path:
    """Per-user settings folder (window state, chosen theme; never a secret); `STUDIO_CONFIG_DIR` overrides it."""
    path = _config_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


def locations() -> dict[str, tuple[Path, str]]:
    """The per-user folders by role ("settings", "data", "cache"): (path, the variable that moves it).

    Unlike `config_dir()` and the others, nothing is created here (`studio doctor` checks them).
    """
    return {
        "settings": (_config_path(), CONFIG_VARIABLE),
        "data": (_data_path(), DATA_VARIABLE),
        "cache": (_cache_path(), CACHE_VARIABLE),
    }


def resources_dir() -> Path:
    """The folder of Studio's icons and desktop entry (`resources/` of the source tree or of the app bundle).

    In the frozen app (PyInstaller) it is `resources` inside the bundle (`sys._MEIPASS`); from a source
    checkout, `resources` at the top of the repository. It may be missing in a plain `pip install`.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[3] / "resources"
