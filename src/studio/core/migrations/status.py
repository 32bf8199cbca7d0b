"""Compare the workspace's migration files with the database's migration history.

Each difference becomes a `HistoryFinding` with a plain message and what to do about it:

* a file that was never applied to this database;
* a history row with no file in the workspace;
* the same version under a different name;
* a file whose statements are no longer the ones the database ran (someone edited an applied migration);
* two files with one version, and files that cannot be read.

Contents are compared statement by statement after normalising them with PostgreSQL's own scanner
(through pglast): whitespace, comments, the case of keywords and unquoted names, and trailing semicolons
do not count; the `SET lock_timeout` / `SET statement_timeout` lines Studio puts at the top of its files
(which the CLI records, but Studio's own deploys run as `SET LOCAL`) are left out on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pglast import parser as pg_parser

from studio.core.errors import WorkspaceError
from studio.core.migrations.files import MIGRATIONS_DIR, MigrationFile, list_migrations, version_key
from studio.core.migrations.history import HISTORY_SCHEMA, HISTORY_TABLE, HistoryRow, read_history
from studio.core.targets.base import Target

_HISTORY = f"{HISTORY_SCHEMA}.{HISTORY_TABLE}"
# settings the rendered migration sets for itself; they are not what the migration changes
_TIMEOUT_SETTINGS = frozenset({"lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout",
                               "check_function_bodies"})
_EXCERPT = 160


class FindingKind(StrEnum):
    """What kind of difference a finding is."""

    NOT_APPLIED = "not_applied"  # a local file the database has not run
    MISSING_LOCALLY = "missing_locally"  # a history row without a local file
    NAME_MISMATCH = "name_mismatch"  # same version, different name
    CONTENT_MISMATCH = "content_mismatch"  # the file's statements differ from those recorded
    DUPLICATE_VERSION = "duplicate_version"  # two local files share a version
    UNREADABLE = "unreadable"  # a local file that cannot be read


@dataclass(frozen=True)
class HistoryFinding:
    """One difference between the workspace and the database: what is wrong and what to do."""

    kind: FindingKind
    version: str
    message: str
    action: str
    local_name: str | None = None
    remote_name: str | None = None
    path: Path | None = None

    def __str__(self) -> str:
        return f"{self.message} {self.action}"


@dataclass
class HistoryReport:
    """The result of `compare_history`: findings in version order, and what was compared."""

    findings: list[HistoryFinding] = field(default_factory=list)
    local: list[MigrationFile] = field(default_factory=list)
    remote: list[HistoryRow] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    ignored_notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every local file was applied unchanged and every history row has its file.

        Ignored names in the migrations folder (see `ignored_notices`) do not count against it.
        """
        return not self.findings

    def of_kind(self, kind: FindingKind) -> list[HistoryFinding]:
        """The findings of one kind."""
        return [f for f in self.findings if f.kind is kind]

    @property
    def versions_in_sync(self) -> list[str]:
        """Versions present on both sides with no finding about them."""
        troubled = {f.version for f in self.findings}
        remote = {r.version for r in self.remote}
        return [f.version for f in self.local if f.version in remote and f.version not in troubled]


# -- normalising statements -----------------------------------------------------------------------------


def _tokens(sql: str) -> list[str] | None:
    """Normalised tokens of `sql` (";" kept as a separator), or None when it does not scan."""
    try:
        scanned = pg_parser.scan(sql)
    except pg_parser.ParseError:
        return None
    out: list[str] = []
    for token in scanned:
        if token.name in {"SQL_COMMENT", "C_COMMENT"}:
            continue
        text = sql[token.start : token.end + 1]
        if token.kind != "NO_KEYWORD" or (token.name == "IDENT" and not text.startswith('"')):
            text = text.lower()  # keywords and unquoted names are case-insensitive
        out.append(text)
    return out


def _is_timeout_setting(statement: list[str]) -> bool:
    words = statement[1:] if statement[:1] == ["set"] else None
    if words is None:
        return False
    if words[:1] in (["session"], ["local"]):
        words = words[1:]
    return bool(words) and words[0] in _TIMEOUT_SETTINGS


def normalised_statements(sql: str) -> list[str]:
    """The statements of `sql` in a form where formatting does not matter, for comparing migrations.

    Comments, whitespace, the case of keywords and unquoted names, and empty statements are ignored;
    timeout `SET`s are left out. Text that does not scan (an unterminated quote) is compared with its
    whitespace collapsed.
    """
    tokens = _tokens(sql)
    if tokens is None:
        collapsed = " ".join(sql.split()).rstrip(";").strip()
        return [collapsed] if collapsed else []
    statements: list[list[str]] = [[]]
    for token in tokens:
        if token == ";":
            statements.append([])
        else:
            statements[-1].append(token)
    return [" ".join(s) for s in statements if s and not _is_timeout_setting(s)]


def _normalised_all(statements: Iterable[str]) -> list[str]:
    out: list[str] = []
    for statement in statements:
        out.extend(normalised_statements(statement))
    return out


def _excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def _first_difference(local: list[str], remote: list[str]) -> str:
    for index, (a, b) in enumerate(zip(local, remote, strict=False)):
        if a != b:
            return (f"Statement {index + 1} differs: the file has `{_excerpt(a)}`, the database ran"
                    f" `{_excerpt(b)}`.")
    if len(local) > len(remote):
        return f"The file has {len(local) - len(remote)} statement(s) more, from `{_excerpt(local[len(remote)])}`."
    return (f"The file lacks {len(remote) - len(local)} statement(s) the database ran, from"
            f" `{_excerpt(remote[len(local)])}`.")


# -- comparing ------------------------------------------------------------------------------------------


def _relative(path: Path) -> str:
    return f"{MIGRATIONS_DIR.as_posix()}/{path.name}"


async def compare_history(target: Target, workspace: Path) -> HistoryReport:
    """Compare `workspace`'s migration files with `target`'s migration history.

    Raises `WorkspaceError` when the migrations folder cannot be read, and what `read_history` raises
    when the database cannot be read. A file that cannot be read becomes a finding instead.
    """
    listing = list_migrations(workspace)
    remote = await read_history(target)
    report = HistoryReport(local=listing.files, remote=remote, ignored=listing.ignored,
                           ignored_notices=listing.notices)
    findings = report.findings
    by_version: dict[str, list[MigrationFile]] = {}
    for local_file in listing.files:
        by_version.setdefault(local_file.version, []).append(local_file)
    remote_by_version = {row.version: row for row in remote}
    newest_remote = max((row.version for row in remote), key=version_key, default=None)

    for version, same_version in by_version.items():
        if len(same_version) > 1:
            names = ", ".join(_relative(f.path) for f in same_version)
            findings.append(HistoryFinding(
                FindingKind.DUPLICATE_VERSION, version,
                f"{len(same_version)} migration files share the version {version}: {names}.",
                "Give all but one of them a new, later timestamp (rename the file); the Supabase CLI refuses to"
                " push while two files share a version.",
                local_name=same_version[0].name, path=same_version[0].path,
            ))
        row = remote_by_version.get(version)
        if row is None:
            findings.extend(_not_applied(local_file, newest_remote) for local_file in same_version)
            continue
        # Of twins, the one under the recorded name is compared; the others are the duplicate's problem.
        compared = [f for f in same_version if f.name == row.name] or same_version
        for local_file in compared:
            findings.extend(_compare_one(local_file, row))

    for row in remote:
        if row.version not in by_version:
            shown = f"{row.version}_{row.name}" if row.name else row.version
            findings.append(HistoryFinding(
                FindingKind.MISSING_LOCALLY, row.version,
                f"The database has migration {shown} in its history ({_HISTORY}), but the workspace has no"
                " file for it.",
                "Fetch it with `supabase migration fetch`, or restore the file from version control (for"
                " example `git log --all -- supabase/migrations`).",
                remote_name=row.name,
            ))

    findings.sort(key=lambda f: (version_key(f.version), f.kind.value))
    return report


def _not_applied(local_file: MigrationFile, newest_remote: str | None) -> HistoryFinding:
    action = "Run `studio deploy` or `supabase db push` to apply it."
    if newest_remote is not None and version_key(local_file.version) < version_key(newest_remote):
        action += (f" It is older than the newest applied migration ({newest_remote}), so `supabase db push`"
                   " needs `--include-all` to apply it.")
    return HistoryFinding(
        FindingKind.NOT_APPLIED, local_file.version,
        f"{_relative(local_file.path)} has not been applied to this database.",
        action, local_name=local_file.name, path=local_file.path,
    )


def _compare_one(local_file: MigrationFile, row: HistoryRow) -> list[HistoryFinding]:
    out: list[HistoryFinding] = []
    where = _relative(local_file.path)
    if row.name is not None and row.name != local_file.name:
        out.append(HistoryFinding(
            FindingKind.NAME_MISMATCH, local_file.version,
            f"{where} is recorded in the database under another name: {local_file.version}_{row.name}.",
            f"Rename the file to {local_file.version}_{row.name}.sql (or fetch it with `supabase migration"
            " fetch`) so the file and the history agree.",
            local_name=local_file.name, remote_name=row.name, path=local_file.path,
        ))
    if row.statements is None:
        return out  # nothing recorded to compare with (old CLIs, `supabase migration repair`)
    try:
        text = local_file.read()
    except WorkspaceError as exc:
        out.append(HistoryFinding(
            FindingKind.UNREADABLE, local_file.version, exc.message, exc.hint or "Check the file.",
            local_name=local_file.name, remote_name=row.name, path=local_file.path,
        ))
        return out
    local = normalised_statements(text)
    recorded = _normalised_all(row.statements)
    if local != recorded:
        out.append(HistoryFinding(
            FindingKind.CONTENT_MISMATCH, local_file.version,
            f"{where} was changed after it was applied: its statements are not the ones the database ran."
            f" {_first_difference(local, recorded)}",
            "Editing an applied migration changes nothing in the database. Restore the file from version control"
            " (or `supabase migration fetch`), and put the change in a new migration instead.",
            local_name=local_file.name, remote_name=row.name, path=local_file.path,
        ))
    return out
