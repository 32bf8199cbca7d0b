"""The workspace's migration files, named and versioned the way the Supabase CLI names them.

A migration is `supabase/migrations/<version>_<name>.sql`, where the version is a UTC timestamp with 14
digits (`20240521143005`) and the name holds lower-case letters, digits and underscores. Like the CLI,
listing accepts any all-digit version and skips other names (it reports them, so a person can see a file
that `supabase db push` would silently leave out too).

Files are written atomically: the content goes to a hidden temporary file in the same folder, is flushed
to disk, and takes the final name with `os.replace`, so a crash leaves either the old state or the new
file, never half a file. `StagedFile` splits that in two steps for deploys: stage before the migration
runs, put in place after it commits, throw away if it fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from studio.core.errors import WorkspaceError

#: Where migrations live, relative to the workspace folder (as the Supabase CLI keeps them).
MIGRATIONS_DIR = Path("supabase") / "migrations"
#: The plan waiting for review, at the workspace root.
PENDING_FILE_NAME = "pending_migrations.sql"
#: `strftime` format of a version: a UTC timestamp to the second.
VERSION_FORMAT = "%Y%m%d%H%M%S"
#: Longest name kept (file names must stay well under 255 bytes with the version and `.sql`).
MAX_NAME_LENGTH = 100
#: Name used when nothing usable is left of the one given.
DEFAULT_NAME = "migration"

# The CLI's rule: digits, an underscore, any name, `.sql`.
_FILE_PATTERN = re.compile(r"([0-9]+)_(.*)\.sql\Z", re.DOTALL)
_VALID_NAME = re.compile(r"[a-z0-9_]+\Z")
_TEMP_SUFFIX = ".tmp"


# -- names and versions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MigrationName:
    """A migration name made safe for a file name; `given` is what the person typed."""

    value: str
    given: str

    @property
    def changed(self) -> bool:
        """True when the name is not exactly what was given."""
        return self.value != self.given

    @property
    def notice(self) -> str:
        """What to tell the person when the name was changed ("" when it was not)."""
        if not self.changed:
            return ""
        return (
            f"The migration name {self.given!r} was changed to {self.value!r}: names may hold only lower-case"
            f" letters (a-z), digits and underscores, at most {MAX_NAME_LENGTH} characters."
        )


def sanitise_name(given: str) -> MigrationName:
    """Make `given` a valid migration name: lower case a-z, digits and underscores.

    Accents are dropped (`Café` -> `cafe`), every run of other characters becomes one underscore, and
    underscores at the ends are removed. A name with nothing usable left becomes `migration`. Check
    `.changed` / `.notice` to tell the person when their name was altered.
    """
    if _VALID_NAME.match(given) and len(given) <= MAX_NAME_LENGTH:
        return MigrationName(given, given)
    text = unicodedata.normalize("NFKD", given)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9_]+", "_", text)
    text = re.sub(r"__+", "_", text).strip("_")
    text = text[:MAX_NAME_LENGTH].rstrip("_")
    return MigrationName(text or DEFAULT_NAME, given)


def version_key(version: str) -> tuple[int, int, str]:
    """Sort key for versions: all-digit versions by number, anything else after them by text."""
    if version.isascii() and version.isdigit():
        return (0, int(version), version)
    return (1, 0, version)


def new_version(known: Iterable[str] = (), *, now: datetime | None = None) -> str:
    """A new version: the UTC time now (`%Y%m%d%H%M%S`), later than every version in `known`.

    While the timestamp is not greater than the newest known version (local files and remote history),
    it is moved on by one second past that version, so two migrations made in the same second (or on a
    computer whose clock is behind) still get distinct, increasing versions.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    candidate = moment.strftime(VERSION_FORMAT)
    numbers = [int(v) for v in known if v.isascii() and v.isdigit()]
    if not numbers:
        return candidate
    newest = max(numbers)
    if int(candidate) > newest:
        return candidate
    newest_text = f"{newest:014d}"
    try:
        after = datetime.strptime(newest_text, VERSION_FORMAT).replace(tzinfo=UTC) + timedelta(seconds=1)
    except ValueError:
        # The newest version is not a timestamp (a hand-made `0001_init.sql`): take the next number.
        return str(newest + 1)
    return after.strftime(VERSION_FORMAT)


# -- paths ----------------------------------------------------------------------------------------------


def migrations_dir(workspace: Path) -> Path:
    """`<workspace>/supabase/migrations`."""
    return workspace / MIGRATIONS_DIR


def migration_path(workspace: Path, version: str, name: str) -> Path:
    """`<workspace>/supabase/migrations/<version>_<name>.sql`; `name` must already be sanitised."""
    if not (version.isascii() and version.isdigit()) or not _VALID_NAME.match(name):
        raise ValueError(f"not a valid migration version and name: {version!r}, {name!r}")
    return migrations_dir(workspace) / f"{version}_{name}.sql"


def pending_migrations_path(workspace: Path) -> Path:
    """`<workspace>/pending_migrations.sql`: the plan waiting for review."""
    return workspace / PENDING_FILE_NAME


# -- listing and reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MigrationFile:
    """One local migration file."""

    version: str
    name: str
    path: Path

    @property
    def file_name(self) -> str:
        """`<version>_<name>.sql`."""
        return self.path.name

    def read(self) -> str:
        """The file's text (raises `WorkspaceError` when it cannot be read)."""
        return read_migration(self.path)


@dataclass
class MigrationListing:
    """The migration files of a workspace in version order, and the other names found next to them."""

    files: list[MigrationFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def versions(self) -> list[str]:
        """Versions of the files, in order."""
        return [f.version for f in self.files]

    @property
    def notices(self) -> list[str]:
        """One message per ignored name, saying why it is ignored and what to do."""
        return [
            f"{MIGRATIONS_DIR.as_posix()}/{name} is not a migration and is ignored (by the Supabase CLI too):"
            " migration files are named <14-digit UTC timestamp>_<name>.sql. Rename it if it should run."
            for name in self.ignored
        ]


def list_migrations(workspace: Path) -> MigrationListing:
    """The workspace's migration files, in version order (an absent folder means none).

    Names that do not look like `<digits>_<name>.sql` are skipped and listed in `ignored`; hidden files
    (`.gitkeep`, Studio's temporary files) are skipped silently. Raises `WorkspaceError` when the folder
    exists but cannot be read.
    """
    folder = migrations_dir(workspace)
    listing = MigrationListing()
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return listing
    except OSError as exc:
        raise WorkspaceError(
            f"The migrations folder {folder} could not be read: {exc.strerror or exc}.",
            hint="Check that the folder exists and that you may read it.",
        ) from exc
    for entry in entries:
        if entry.name.startswith("."):
            continue
        match = _FILE_PATTERN.match(entry.name)
        is_file = entry.is_file()
        if match is None or not is_file:
            listing.ignored.append(entry.name + ("" if is_file else "/"))
            continue
        listing.files.append(MigrationFile(match.group(1), match.group(2), Path(entry.path)))
    listing.files.sort(key=lambda f: (version_key(f.version), f.name))
    return listing


def read_migration(path: Path) -> str:
    """The text of a migration file (UTF-8; a byte order mark is dropped). Raises `WorkspaceError`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WorkspaceError(
            f"The migration file {path} could not be read: {exc.strerror or exc}.",
            hint="Check that the file exists and that you may read it.",
        ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorkspaceError(
            f"The migration file {path} is not UTF-8 text (byte {exc.start} cannot be read).",
            hint="Save it again as UTF-8 in your editor.",
        ) from exc


# -- writing --------------------------------------------------------------------------------------------


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:
        return
    try:
        fd = os.open(folder, os.O_RDONLY | flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_error(path: Path, exc: OSError, doing: str) -> WorkspaceError:
    return WorkspaceError(
        f"Could not {doing} {path}: {exc.strerror or exc}.",
        hint="Check that the workspace folder is writable and that the disk is not full.",
    )


class StagedFile:
    """New content for `path`, written to a hidden temporary file beside it and not yet in place.

    `commit()` moves it into place atomically; `discard()` deletes it and any folders created for it, so
    the workspace is exactly as before. Raises `WorkspaceError` when the file cannot be written.
    """

    def __init__(self, path: Path, text: str) -> None:
        """Write `text` (UTF-8, newlines kept as given) to a temporary file in `path`'s folder."""
        self.path = path
        self._created: list[Path] = []
        self._done = False
        folder = path.parent
        missing: list[Path] = []
        probe = folder
        while not probe.exists() and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        try:
            for directory in reversed(missing):
                directory.mkdir()
                self._created.append(directory)
        except OSError as exc:
            self._remove_folders()
            raise _write_error(folder, exc, "create the folder") from exc
        self.temp_path = folder / f".{path.name}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"
        try:
            with open(self.temp_path, "xb") as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            with contextlib.suppress(OSError):
                self.temp_path.unlink()
            self._remove_folders()
            raise _write_error(path, exc, "write") from exc

    def commit(self) -> None:
        """Put the content in place under its final name (atomic replace) and make that durable."""
        if self._done:
            raise ValueError("this staged file was already committed or discarded")
        try:
            os.replace(self.temp_path, self.path)
        except OSError as exc:
            raise _write_error(self.path, exc, "write") from exc
        self._done = True
        _fsync_dir(self.path.parent)

    def discard(self) -> None:
        """Delete the temporary file and the folders made for it. Safe to call more than once."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self.temp_path.unlink()
        self._remove_folders()

    def _remove_folders(self) -> None:
        for directory in reversed(self._created):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only succeeds while empty: never removes someone else's file
        self._created.clear()


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (temporary file, fsync, `os.replace`); folders are created.

    Raises `WorkspaceError` if it cannot be written; then `path` is left as it was.
    """
    staged = StagedFile(path, text)
    try:
        staged.commit()
    except BaseException:
        staged.discard()
        raise
