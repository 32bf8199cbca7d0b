"""`studio.json`: the workspace's own settings - which project it is linked to (and, later, the data model).

The file never holds a secret: the link names the project and the account, and the keys and the database
password stay in the OS keyring. Sections this module does not know are kept as they are, so a newer
part of Studio (the data model) and this one can share the file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from studio.core.errors import WorkspaceError
from studio.core.migrations.files import write_atomic

FILE_NAME = "studio.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ProjectLink:
    """The Supabase project a workspace deploys to: its ref, name, API URL and the account that reaches it."""

    ref: str
    name: str
    api_url: str
    account_id: str
    organization_slug: str = ""


def workspace_file(workspace: Path) -> Path:
    """Where the workspace's `studio.json` is."""
    return workspace / FILE_NAME


def read_workspace_file(workspace: Path) -> dict[str, Any]:
    """The whole `studio.json` (empty when there is none); a damaged or newer file is a `WorkspaceError`."""
    path = workspace_file(workspace)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise WorkspaceError(f"{path} cannot be read: {exc.strerror}.", hint="Check the file's permissions.") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkspaceError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
            hint="Fix the file by hand, or restore it from version control.",
        ) from exc
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path} does not hold a JSON object.", hint="Restore it from version control.")
    version = data.get("version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise WorkspaceError(
            f"{path} was written by a newer Studio (format {version}).", hint="Update Studio to open this workspace."
        )
    return data


def read_link(workspace: Path) -> ProjectLink | None:
    """The project the workspace is linked to, if any."""
    section = read_workspace_file(workspace).get("project")
    if not isinstance(section, dict):
        return None
    try:
        return ProjectLink(**section)
    except TypeError as exc:
        raise WorkspaceError(
            f"The project link in {workspace_file(workspace)} is damaged.",
            hint="Link the project again (`studio link <ref>`).",
        ) from exc


def write_link(workspace: Path, link: ProjectLink | None) -> None:
    """Record (or, with None, remove) the workspace's project link, keeping every other section."""
    data = read_workspace_file(workspace)
    data["version"] = max(int(data.get("version", FORMAT_VERSION)), FORMAT_VERSION)
    if link is None:
        data.pop("project", None)
    else:
        data["project"] = asdict(link)
    write_atomic(workspace_file(workspace), json.dumps(data, indent=2, ensure_ascii=False) + "\n")
