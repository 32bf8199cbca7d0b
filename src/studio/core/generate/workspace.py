"""Generating a whole workspace from its AppModel: schema files, seed and client code, written all at once.

Everything is generated in memory first; then every file is staged beside its destination and the files
are put in place together, so a failure (a full disk, a read-only folder) leaves the workspace as it was
as far as the file system allows (files already moved in stay, and the error says which).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from studio.core.errors import ModelInvalid, WorkspaceError
from studio.core.generate.dart import dart_files
from studio.core.generate.python import python_files
from studio.core.generate.sql import POLICIES_FILE, TABLES_FILE, generate_sql_files, name_clashes
from studio.core.generate.typescript import typescript_files
from studio.core.migrations.files import StagedFile
from studio.core.model import AppModel, validate
from studio.core.schema.shadow import schema_paths

CLIENT_TARGETS = ("typescript", "dart", "python")


def generate_files(
    model: AppModel,
    *,
    clients: Sequence[str] = CLIENT_TARGETS,
    project_url: str | None = None,
    workspace: Path | None = None,
) -> dict[str, str]:
    """Every generated file (workspace-relative path -> content); `ModelInvalid` when the model has problems.

    With `workspace`, `supabase/config.toml` is included when it needs the schema files' order set.
    """
    # Name clashes between generated objects are found on the table shapes, so after the model's own checks.
    problems = [str(p) for p in validate(model)] or name_clashes(model)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ModelInvalid(
            f"The data model has {len(problems)} problem(s) to fix before generating:\n{listed}",
            hint="Edit the model (studio.json, or the app's data model editor), then generate again.",
            problems=problems,
        )
    unknown = sorted(set(clients) - set(CLIENT_TARGETS))
    if unknown:
        raise ModelInvalid(f"Unknown client target(s): {', '.join(unknown)}.",
                           hint=f"Choose from {', '.join(CLIENT_TARGETS)}.")
    files = dict(generate_sql_files(model))
    if workspace is not None:
        config = schema_order_config(workspace)
        if config is not None:
            files[_CONFIG] = config
    emitters = {"typescript": typescript_files, "dart": dart_files, "python": python_files}
    for client in CLIENT_TARGETS:
        if client in clients:
            files.update(emitters[client](model, project_url=project_url))
    return dict(sorted(files.items()))


#: The order the schema files must be applied in: tables (and the functions policies call) before policies;
#: any other file of the folder after them.
SCHEMA_ORDER = (f"./{TABLES_FILE.removeprefix('supabase/')}", f"./{POLICIES_FILE.removeprefix('supabase/')}",
                "./schemas/*.sql")
_CONFIG = "supabase/config.toml"


def schema_order_config(workspace: Path) -> str | None:
    """`supabase/config.toml` with `[db.migrations] schema_paths` set to `SCHEMA_ORDER`, or None if it is set.

    The Supabase CLI (and Studio) apply `supabase/schemas` by file name unless told otherwise, which would
    put the policies before the tables they are on. An existing `schema_paths` is the user's and is kept;
    an existing file is otherwise kept line for line, with the setting added.
    """
    path = workspace / _CONFIG
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path} cannot be read: {exc}.", hint="Check the file.") from exc
    if schema_paths(workspace / "supabase") is not None:
        return None
    setting = "schema_paths = [" + ", ".join(f'"{p}"' for p in SCHEMA_ORDER) + "]"
    note = "# Set by Studio: apply the tables before the policies on them."
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == "[db.migrations]":
            lines[index + 1:index + 1] = [note, setting]
            return "\n".join(lines) + "\n"
    prefix = text if not text or text.endswith("\n") else text + "\n"
    return f"{prefix}{chr(10) if prefix else ''}[db.migrations]\n{note}\n{setting}\n"


def write_files(workspace: Path, files: dict[str, str]) -> list[Path]:
    """Write `files` under `workspace`, unchanged files left untouched; returns the paths written."""
    staged: list[StagedFile] = []
    try:
        for relative, text in files.items():
            path = workspace / relative
            try:
                if path.read_text(encoding="utf-8") == text:
                    continue
            except (FileNotFoundError, UnicodeDecodeError):
                pass
            except OSError as exc:
                raise WorkspaceError(f"{path} cannot be read: {exc.strerror}.",
                                     hint="Check the folder's permissions.") from exc
            staged.append(StagedFile(path, text))
    except BaseException:
        for item in staged:
            item.discard()
        raise
    written: list[Path] = []
    for index, item in enumerate(staged):
        try:
            item.commit()
        except BaseException:
            for rest in staged[index:]:
                rest.discard()
            raise
        written.append(item.path)
    return written
