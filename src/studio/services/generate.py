"""Generating an app's files from its data model, for the wizard's Generate step and the Data model page.

The file work is synchronous and small (generating a model's files takes milliseconds): `preview` says what
would be written and how each file compares with the folder, `write_workspace` saves the model and writes
the files. `SchemaChecker` is the one slow part: it applies the generated schema in a scratch ("shadow")
database on the local server and runs Supabase's advisor rules on the result, as a job.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from studio.core.errors import ModelInvalid, StudioError, WorkspaceError
from studio.core.generate.sql import POLICIES_FILE, TABLES_FILE, generate_sql_files
from studio.core.generate.workspace import CLIENT_TARGETS, generate_files, write_files
from studio.core.lint import Finding, lint_catalog
from studio.core.model import AppModel, load_model, save_model
from studio.core.schema.shadow import catalog_of_sources
from studio.core.targets.local import LocalServer
from studio.core.workspace_file import read_link
from studio.services.jobs import JobRunner

#: Client code a builder can ask for, in the words the app shows.
CLIENT_TITLES: dict[str, str] = {"typescript": "TypeScript", "dart": "Dart (Flutter)", "python": "Python"}


class FileStatus(StrEnum):
    """How a generated file compares with what the folder holds."""

    NEW = "new"
    CHANGED = "changed"
    SAME = "same"


@dataclass(frozen=True)
class Preview:
    """What generating would write: every file (workspace-relative path -> text) and how each compares with
    the folder; or, when the model cannot be generated, the problems that stop it (in plain words)."""

    files: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, FileStatus] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _project_url(workspace: Path | None) -> str | None:
    if workspace is None:
        return None
    try:
        link = read_link(workspace)
    except StudioError:
        return None  # a damaged link is reported where the link is used; the preview works without it
    return link.api_url if link else None


def file_statuses(workspace: Path | None, files: dict[str, str]) -> dict[str, FileStatus]:
    """How each of `files` compares with `workspace` (all new when there is no folder)."""
    statuses: dict[str, FileStatus] = {}
    for relative, text in files.items():
        status = FileStatus.NEW
        if workspace is not None:
            try:
                current = (workspace / relative).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                current = None
            if current is not None:
                status = FileStatus.SAME if current == text else FileStatus.CHANGED
        statuses[relative] = status
    return statuses


def preview(model: AppModel, clients: Sequence[str], workspace: Path | None = None) -> Preview:
    """The files `model` generates for `clients` into `workspace`, or the problems that stop it."""
    try:
        files = generate_files(model, clients=clients, project_url=_project_url(workspace), workspace=workspace)
    except ModelInvalid as exc:
        return Preview(problems=exc.problems or [exc.message])
    except WorkspaceError as exc:
        return Preview(problems=[str(exc)])
    return Preview(files, file_statuses(workspace, files))


def folder_problem(text: str) -> str | None:
    """Why the folder typed as `text` cannot take the app's files, in plain words (None when it can)."""
    text = text.strip()
    if not text:
        return "Choose a folder for your app's files."
    path = Path(text).expanduser()
    if not path.is_absolute():
        return f"Give the full path of the folder (for example {Path.home() / 'my-app'}), not “{text}”."
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return f"The folder {path} cannot be created: its drive does not exist."
        probe = probe.parent
    if not probe.is_dir():
        if probe == path:
            return f"{path} is a file, not a folder; choose a folder."
        return f"The folder {path} cannot be created: {probe} is a file."
    if not os.access(probe, os.W_OK | os.X_OK):
        if probe == path:
            return f"Studio may not write into {path}; choose a folder of yours."
        return f"The folder {path} cannot be created: Studio may not write into {probe}."
    return None


def load_workspace_model(workspace: Path) -> AppModel | None:
    """The model saved in `workspace`'s studio.json, or None when there is none (`WorkspaceError` if damaged)."""
    if not (workspace / "studio.json").exists():
        return None
    return load_model(workspace)


def save_workspace_model(workspace: Path, model: AppModel) -> None:
    """Save `model` into `workspace`'s studio.json, creating the folder when needed."""
    try:
        workspace.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(f"The folder {workspace} cannot be created: {exc.strerror}.",
                             hint="Choose another folder.") from exc
    save_model(workspace, model)


def write_workspace(workspace: Path, model: AppModel, clients: Sequence[str]) -> list[Path]:
    """Save `model` in studio.json and write every generated file into `workspace`; returns the files changed.

    Nothing is written when the model has problems (`ModelInvalid`).
    """
    files = generate_files(model, clients=clients, project_url=_project_url(workspace), workspace=workspace)
    save_workspace_model(workspace, model)
    return write_files(workspace, files)


def detected_clients(workspace: Path) -> list[str]:
    """The client targets whose folders `workspace` already has (all of them when it has none)."""
    found = [c for c in CLIENT_TARGETS if (workspace / "clients" / c).is_dir()]
    return found or list(CLIENT_TARGETS)


async def check_schema(server: LocalServer, model: AppModel) -> list[Finding]:
    """Apply the schema `model` generates in a scratch database and lint it (Supabase's advisor rules).

    Raises `SchemaFileError` naming the file and line if the schema does not apply.
    """
    files = generate_sql_files(model)
    sources = [(TABLES_FILE, files[TABLES_FILE]), (POLICIES_FILE, files[POLICIES_FILE])]
    catalog = await catalog_of_sources(server, sources)
    return lint_catalog(catalog, exposed_schemas=[model.schema])


class SchemaChecker(QObject):
    """Checks generated schemas in a shadow database, one model at a time (a newer check cancels the older).

    `server` gives the started local server (`ProjectHandle.ensure_server`); without it nothing is checked.

    Signals:
        started(): a check began.
        checked(object, object): the `AppModel` checked and its list of lint `Finding`s (empty: all passed).
        failed(object, str): the `AppModel` whose schema could not be checked, and why in plain words.
    """

    started = Signal()
    checked = Signal(object, object)
    failed = Signal(object, str)

    KIND = "generate-schema-check"

    def __init__(self, server: Callable[[], Awaitable[LocalServer]] | None = None,
                 jobs: JobRunner | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = server
        self.jobs = jobs or JobRunner(parent=self)

    @property
    def available(self) -> bool:
        """Whether there is a server to check on."""
        return self._server is not None

    def set_server(self, server: Callable[[], Awaitable[LocalServer]] | None) -> None:
        """Check on this server from now on (None turns checking off and cancels a running check)."""
        self._server = server
        if server is None:
            self.jobs.cancel(self.KIND)

    def cancel(self) -> None:
        """Stop the running check; its result is never delivered."""
        self.jobs.cancel(self.KIND)

    def check(self, model: AppModel) -> bool:
        """Start checking `model` (a valid model); False when there is no server to check on."""
        server = self._server
        if server is None:
            return False

        async def work() -> list[Finding]:
            """Start the server if needed, then check."""
            return await check_schema(await server(), model)

        self.started.emit()
        self.jobs.start(self.KIND, work(), on_result=lambda findings: self.checked.emit(model, findings),
                        on_error=lambda _exc, message: self.failed.emit(model, message))
        return True
