"""Plans, deploys, migration history and schema comparison as jobs the review, history and compare pages start.

The service does what `studio diff`, `studio deploy`, `studio migrations` and `studio diff --from --to` do on
the command line, and reports through signals:

* a plan for a project's workspace: the desired schema from `supabase/schemas/*.sql` (built in a scratch
  database of the local server), the live one from the project's database, lints on the desired one;
  the plan is written to `pending_migrations.sql`, as `studio diff` does;
* applying the ticked changes of a review as one migration, with progress per statement; afterwards
  `pending_migrations.sql` is removed, as `studio deploy` does;
* the history of applied migrations with their SQL, and the local files compared with it;
* the differences between two schemas: `.sql` files, databases (connection strings) or the open project.

Each operation is one job of the `JobRunner`; a newer plan, history or compare cancels the older one, an
apply is never cancelled by another request.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import psycopg
from PySide6.QtCore import QObject, Signal

from studio import __version__
from studio.core.errors import ConnectionFailed, MigrationFailed, StudioError, WorkspaceError
from studio.core.lint import Finding, lint_catalog
from studio.core.migrations.apply import AppliedMigration, apply_plan
from studio.core.migrations.files import pending_migrations_path, write_atomic
from studio.core.migrations.history import HistoryRow, read_history
from studio.core.migrations.status import HistoryReport, compare_history
from studio.core.review import UNCOUNTED, Review
from studio.core.schema.catalog import Catalog
from studio.core.schema.diff import diff
from studio.core.schema.introspect import introspect
from studio.core.schema.plan import PlanOptions
from studio.core.schema.planner import count_rows_at_risk, make_plan
from studio.core.schema.render import render_plan
from studio.core.schema.shadow import catalog_of_sources, desired_catalog, schema_files
from studio.core.targets.base import Target
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget, describe_conninfo
from studio.core.words import plural
from studio.services.jobs import JobRunner
from studio.services.projects import ProjectHandle

PLAN_JOB = "deploy.plan"
APPLY_JOB = "deploy.apply"
HISTORY_JOB = "deploy.history"
COMPARE_JOB = "deploy.compare"

#: The migration name used when the person gives none (as `studio deploy`).
DEFAULT_MIGRATION_NAME = "studio_deploy"


def _header(description: str, title: str, findings: list[Finding] | None = None) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [title, f"Database: {description}", f"Made by Studio {__version__} at {now}"]
    if findings:
        lines += ["", f"Checks on the desired schema: {plural(len(findings), 'finding')}"]
        lines += [f"  [{f.level.value}] {f.title} ({f.object_key})" for f in findings]
    return "\n".join(lines)


# -- results -------------------------------------------------------------------------------------------


@dataclass
class PlanResult:
    """A plan made for a project's workspace, ready to review.

    `sql` is the whole plan as written to `pending_path` (`pending_migrations.sql`).
    """

    review: Review
    target_description: str
    workspace: Path
    sql: str
    pending_path: Path | None = None


class Outcome(StrEnum):
    """What a failed apply left behind."""

    NOTHING_CHANGED = "nothing_changed"  # failed before the commit: database, history and files as before
    PARTLY_APPLIED = "partly_applied"  # the migration committed; a statement after it failed
    UNKNOWN = "unknown"  # the connection was lost: whether it committed is not known


class ApplyError(StudioError):
    """An apply that failed, with what the person needs to see: the statement, the server's words, the outcome."""

    def __init__(self, cause: StudioError, outcome: Outcome) -> None:
        super().__init__(cause.message, hint=cause.hint)
        self.cause = cause
        self.outcome = outcome
        self.statement = cause.statement if isinstance(cause, MigrationFailed) else ""
        self.server_message = cause.server_message if isinstance(cause, MigrationFailed) else ""


@dataclass
class HistoryResult:
    """The database's applied migrations (oldest first) and the workspace's files compared with them."""

    rows: list[HistoryRow]
    report: HistoryReport
    target_description: str
    workspace: Path


class SourceKind(StrEnum):
    """What one side of a comparison is."""

    FILE = "file"  # a .sql file, built in a scratch database
    DATABASE = "database"  # a connection string
    PROJECT = "project"  # the open project's database


@dataclass(frozen=True)
class Source:
    """One side of a comparison. `value` is a file path or a connection string (unused for the project)."""

    kind: SourceKind
    value: str = ""

    @property
    def label(self) -> str:
        """How the side is named for people (a connection string without its password)."""
        if self.kind is SourceKind.FILE:
            return Path(self.value).name or self.value
        if self.kind is SourceKind.DATABASE:
            try:
                return describe_conninfo(self.value)
            except psycopg.Error:  # an invalid string: its error comes when it is used
                return "the database"
        return "the open project"


@dataclass
class CompareResult:
    """The differences that turn `source` into `wanted`, as a review (ticks only choose what the SQL shows)."""

    review: Review
    source: Source
    wanted: Source
    source_label: str
    wanted_label: str
    sql: str
    rows_counted: bool = field(default=True)


# -- the jobs themselves (plain coroutines, usable without Qt's signals) ---------------------------------


async def plan_workspace(handle: ProjectHandle, options: PlanOptions | None = None) -> PlanResult:
    """Plan the project's database against its workspace's `supabase/schemas`, lint, write the pending file."""
    workspace = handle.workspace
    schemas_dir = workspace / "supabase" / "schemas"
    files = await asyncio.to_thread(schema_files, schemas_dir)
    if not files:
        raise WorkspaceError(
            f"No schema files in {schemas_dir}.",
            hint="Studio compares the database with supabase/schemas/*.sql. Generate them from your data model,"
                 " or write them by hand, then make the plan again.")
    server = await handle.ensure_server()
    desired = await desired_catalog(server, files, base_dir=workspace)
    target = await handle.open_target()
    try:
        plan = await make_plan(target, desired, options or PlanOptions())
        description = target.description
    finally:
        await target.close()
    findings = lint_catalog(desired)
    text = render_plan(plan, header=_header(description, "Pending migration: review before deploying", findings))
    path = pending_migrations_path(workspace)
    await asyncio.to_thread(write_atomic, path, text)
    return PlanResult(Review(plan, desired=desired, findings=findings), description, workspace, text, path)


async def apply_review(
    handle: ProjectHandle,
    result: PlanResult,
    *,
    confirmation: str = "",
    name: str = DEFAULT_MIGRATION_NAME,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> AppliedMigration:
    """Apply the ticked changes of `result.review` to the project's database as one migration.

    Refuses (before touching anything) when nothing is ticked or the typed `confirmation` does not confirm
    the ticked destructive changes. A failure is raised as `ApplyError`, which says what it left behind.
    """
    review = result.review
    blocker = review.blocker(confirmation)
    if blocker:
        raise StudioError(blocker, hint="Nothing was changed.")
    target = await handle.open_target()
    try:
        before = {row.version for row in await read_history(target)}
        try:
            applied = await apply_plan(target, review.plan, workspace=handle.workspace, name=name or
                                       DEFAULT_MIGRATION_NAME, ids=review.ticked_ids(), on_progress=on_progress)
        except StudioError as exc:
            raise ApplyError(exc, await _outcome(target, before, exc)) from exc
    finally:
        await target.close()
    if result.pending_path is not None:
        await asyncio.to_thread(result.pending_path.unlink, missing_ok=True)
    return applied


async def _outcome(target: Target, before: set[str], error: StudioError) -> Outcome:
    """Whether a failed apply left the database as before: a new history row means the migration committed."""
    try:
        after = {row.version for row in await read_history(target)}
    except StudioError:
        return Outcome.UNKNOWN
    if after - before:
        return Outcome.PARTLY_APPLIED
    return Outcome.UNKNOWN if isinstance(error, ConnectionFailed) else Outcome.NOTHING_CHANGED


async def history_of(handle: ProjectHandle) -> HistoryResult:
    """The project's applied migrations and the workspace's files compared with them."""
    target = await handle.open_target()
    try:
        report = await compare_history(target, handle.workspace)
        description = target.description
    finally:
        await target.close()
    return HistoryResult(report.remote, report, description, handle.workspace)


async def _catalog_of(source: Source, server: LocalServer | None, handle: ProjectHandle | None,
                      options: PlanOptions) -> tuple[Catalog, Target | None, str]:
    """The catalog of one side; for a database, also its open target (to count rows at risk) and its name."""
    if source.kind is SourceKind.FILE:
        if server is None:
            raise StudioError("Comparing a .sql file needs the local project's database, which is not available.",
                              hint="Open the local project first, then compare again.")
        path = Path(source.value).expanduser()
        if not source.value.strip():
            raise WorkspaceError("Choose a .sql file to compare.")
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkspaceError(f"Could not read {path}: {exc}",
                                 hint="Check that the file exists and is UTF-8 text.") from None
        catalog = await catalog_of_sources(server, [(path.name, text)], include_schemas=options.include_schemas)
        return catalog, None, path.name
    if source.kind is SourceKind.DATABASE:
        if not source.value.strip():
            raise StudioError("Enter a connection string for the database to compare.",
                              hint="For example postgresql://user:password@host:5432/postgres")
        target: Target = PostgresTarget(source.value)
    else:
        if handle is None:
            raise StudioError("No project is open.", hint="Pick a project on the left, then compare again.")
        target = await handle.open_target()
    try:
        catalog = await introspect(target, include_schemas=options.include_schemas)
    except BaseException:
        await target.close()
        raise
    return catalog, target, target.description


async def compare_sources(
    source: Source,
    wanted: Source,
    *,
    server: LocalServer | None,
    handle: ProjectHandle | None = None,
    options: PlanOptions | None = None,
) -> CompareResult:
    """The changes that make `source` match `wanted` (as `studio diff --from --to`), with rows at risk counted
    when `source` is a database."""
    options = options or PlanOptions()
    if handle is not None and SourceKind.FILE in (source.kind, wanted.kind):
        server = await handle.ensure_server()
    opened: list[Target] = []
    try:
        live, source_target, source_label = await _catalog_of(source, server, handle, options)
        if source_target is not None:
            opened.append(source_target)
        desired, wanted_target, wanted_label = await _catalog_of(wanted, server, handle, options)
        if wanted_target is not None:
            opened.append(wanted_target)
        plan = diff(live, desired, options)
        if source_target is not None:
            await count_rows_at_risk(source_target, plan)
        else:  # a file has no rows to count: say so instead of leaving the placeholder
            for change in plan.changes:
                change.hazards = [dataclasses.replace(h, message=h.message.replace("{rows}", UNCOUNTED), count_sql=None)
                                  for h in change.hazards]
    finally:
        for target in opened:
            await target.close()
    findings = lint_catalog(desired)
    sql = render_plan(plan, header=_header(source_label, f"Changes that make it match {wanted_label}"))
    return CompareResult(Review(plan, desired=desired, findings=findings), source, wanted, source_label,
                         wanted_label, sql, rows_counted=source_target is not None)


# -- the Qt service --------------------------------------------------------------------------------------


class DeployService(QObject):
    """Starts plan, apply, history and compare jobs and reports them through signals.

    Signals:
        plan_started(): a plan is being made.
        plan_ready(object): a `PlanResult`.
        plan_failed(str): making the plan failed; the message for people (with what to do).
        progress(int, int, str): during an apply: statements done, statements in all, what runs now.
        applied(object): the `AppliedMigration` of a successful apply.
        apply_failed(object): an `ApplyError` (or another exception) with `message` for people.
        history_ready(object): a `HistoryResult`.
        history_failed(str): reading the history failed.
        compare_ready(object): a `CompareResult`.
        compare_failed(str): the comparison failed.
    """

    plan_started = Signal()
    plan_ready = Signal(object)
    plan_failed = Signal(str)
    progress = Signal(int, int, str)
    applied = Signal(object)
    apply_failed = Signal(object)
    history_ready = Signal(object)
    history_failed = Signal(str)
    compare_ready = Signal(object)
    compare_failed = Signal(str)

    def __init__(self, runner: JobRunner, *, server: LocalServer | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.server = server
        self.options = PlanOptions()

    @property
    def applying(self) -> bool:
        """True while an apply runs."""
        return self.runner.running(APPLY_JOB)

    def make_plan(self, handle: ProjectHandle) -> None:
        """Make a plan for the project's workspace (replacing a plan being made)."""
        self.plan_started.emit()
        self.runner.start(PLAN_JOB, plan_workspace(handle, self.options), on_result=self.plan_ready.emit,
                          on_error=lambda _exc, message: self.plan_failed.emit(message))

    def apply(self, handle: ProjectHandle, result: PlanResult, *, confirmation: str, name: str) -> bool:
        """Apply the ticked changes; False (and nothing started) while another apply runs."""
        if self.applying:
            return False
        work = apply_review(handle, result, confirmation=confirmation, name=name, on_progress=self.progress.emit)
        self.runner.start(APPLY_JOB, work, on_result=self.applied.emit, replace=False,
                          on_error=lambda exc, _message: self.apply_failed.emit(exc))
        return True

    def read_history(self, handle: ProjectHandle) -> None:
        """Read the project's migration history and compare the workspace's files with it."""
        self.runner.start(HISTORY_JOB, history_of(handle), on_result=self.history_ready.emit,
                          on_error=lambda _exc, message: self.history_failed.emit(message))

    def compare(self, source: Source, wanted: Source, handle: ProjectHandle | None = None) -> None:
        """Compare two schemas: what turns `source` into `wanted`."""
        work = compare_sources(source, wanted, server=self.server, handle=handle, options=self.options)
        self.runner.start(COMPARE_JOB, work, on_result=self.compare_ready.emit,
                          on_error=lambda _exc, message: self.compare_failed.emit(message))
