"""Where Studio keeps its data on this computer (per-user, via platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "Studio"
APP_AUTHOR = "Studio"


def data_dir() -> Path:
    """Per-user data folder (the local project's database lives here).

    `STUDIO_DATA_DIR` overrides it, which tests and portable installs use.
    """
    override = os.environ.get("STUDIO_DATA_DIR")
    path = Path(override) if override else platformdirs.user_data_path(APP_NAME, APP_AUTHOR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Per-user cache folder (offline views); `STUDIO_CACHE_DIR` overrides it."""
    override = os.environ.get("STUDIO_CACHE_DIR")
    path = Path(override) if override else platformdirs.user_cache_path(APP_NAME, APP_AUTHOR)
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
    override = os.environ.get("STUDIO_CONFIG_DIR")
    path = Path(override) if override else platformdirs.user_config_path(APP_NAME, APP_AUTHOR)
    path.mkdir(parents=True, exist_ok=True)
    return path
