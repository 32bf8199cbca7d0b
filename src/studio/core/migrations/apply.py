"""Apply a plan as one migration: all or nothing, recorded the way the Supabase CLI records it.

The migration runs as one transaction script through `Target.run_transaction`:

1. `SET LOCAL lock_timeout` to `DEPLOY_LOCK_WAIT`, then `pg_advisory_xact_lock(DEPLOY_LOCK_KEY)`: one deploy
   at a time per database; a second one waits that long, then gives up with `DeployLocked`;
2. the drift check: fails (`DriftError`, listing what changed) if the schema is no longer the one the plan
   was made from;
3. `SET LOCAL lock_timeout` / `statement_timeout` from the plan's options, bounding each statement, and
   `check_function_bodies = off` (as pg_dump does, so a SQL function may read a table created later);
4. the chosen changes' statements;
5. the history table (created if absent) and its row for this migration.

Then, after the commit, the migration file is put in place (it was written to a hidden temporary file
before the transaction, so a failure leaves the workspace exactly as before), and last the statements that
cannot run in a transaction (`CREATE INDEX CONCURRENTLY`) run one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from studio.core.errors import (
    ConnectionFailed,
    DeployLocked,
    DriftError,
    InternalError,
    MigrationFailed,
    StudioError,
    WorkspaceError,
    joined_lines,
)
from studio.core.migrations.files import (
    MIGRATIONS_DIR,
    MigrationListing,
    StagedFile,
    list_migrations,
    migration_path,
    new_version,
    sanitise_name,
)
from studio.core.migrations.history import (
    HISTORY_SCHEMA,
    HISTORY_TABLE,
    ensure_history_statements,
    insert_history_statement,
    read_history,
)
from studio.core.schema.diff import diff
from studio.core.schema.introspect import fingerprint_check_sql, introspect
from studio.core.schema.plan import Change, Plan
from studio.core.schema.render import render_plan
from studio.core.sqltext import quote_literal
from studio.core.targets.base import Target

#: Key of the transaction-level advisory lock every Studio deploy takes (a fixed 64-bit number,
#: "STUDIODP" in ASCII; distinct from the key `studio.core.targets.local` uses for installing the base).
DEPLOY_LOCK_KEY = 0x5354_5544_494F_4450
#: How long a deploy waits for another deploy on the same database before giving up.
DEPLOY_LOCK_WAIT = "10s"

ProgressCallback = Callable[[int, int, str], None]

_LOCK_INDEX = 1
_DRIFT_INDEX = 2
_PREAMBLE_LENGTH = 6
_LOCK_GIVEN_UP = frozenset({"55P03", "57014"})  # lock_timeout, or a shorter server statement_timeout
_DRIFT_SQLSTATE = "SD001"
_SHOWN_STATEMENT = 600
_HISTORY = f"{HISTORY_SCHEMA}.{HISTORY_TABLE}"


@dataclass(frozen=True)
class AppliedMigration:
    """What `apply_plan` did.

    `path` is the migration file written (None when no workspace was given). `statements_count` counts
    the plan's statements that ran: `transactional_count` inside the migration's transaction and
    `non_transactional_count` after it. `name_notice` is non-empty when the name given was changed.
    """

    version: str
    name: str
    path: Path | None
    statements_count: int
    transactional_count: int
    non_transactional_count: int
    change_titles: tuple[str, ...]
    name_notice: str = ""

    @property
    def file_name(self) -> str:
        """`<version>_<name>.sql`, as in `supabase/migrations` and `supabase migration list`."""
        return f"{self.version}_{self.name}.sql"


def _chosen_changes(plan: Plan, ids: Iterable[int] | None) -> list[Change]:
    """The changes to apply, checked: known ids, at least one, and every requirement chosen too."""
    if ids is None:
        chosen = plan.selected(None)
    else:
        wanted = set(ids)
        unknown = wanted - {c.id for c in plan.changes}
        if unknown:
            raise InternalError(f"Changes {sorted(unknown)} are not part of this plan.")
        chosen = plan.selected(wanted)
    if not chosen:
        if plan.empty:
            raise StudioError("There is nothing to deploy: the database already matches the desired schema.")
        raise StudioError("No change is chosen, so there is nothing to deploy.",
                          hint="Tick the changes to deploy in the review, then deploy again.")
    chosen_ids = {c.id for c in chosen}
    by_id = {c.id: c for c in plan.changes}
    for change in chosen:
        missing = [by_id[r] for r in change.requires if r not in chosen_ids and r in by_id]
        if missing:
            raise StudioError(
                f"“{change.title}” needs “{missing[0].title}”, which is not chosen.",
                hint="Choose both, or leave both out, then deploy again. Nothing was changed.",
            )
    return chosen


def _set_local(setting: str, value: str | None) -> str:
    """`SET LOCAL setting = 'value'`, or back to the session's own value when `value` is None."""
    return f"SET LOCAL {setting} = {quote_literal(value) if value else 'DEFAULT'}"


def migration_script(plan: Plan, statements: Sequence[str], history: Sequence[str]) -> list[str]:
    """The transaction script of a migration: preamble (lock, drift check, timeouts), `statements`, `history`.

    The preamble always has the same length, so a failing index maps back onto `statements`.
    """
    if len(plan.live_fingerprint) != 64:
        raise InternalError("The plan does not say which database state it was made from; make it again.")
    preamble = [
        _set_local("lock_timeout", DEPLOY_LOCK_WAIT),
        f"SELECT pg_catalog.pg_advisory_xact_lock({DEPLOY_LOCK_KEY})",
        fingerprint_check_sql(plan.live_fingerprint, plan.options.include_schemas),
        _set_local("lock_timeout", plan.options.lock_timeout),
        _set_local("statement_timeout", plan.options.statement_timeout),
        # As pg_dump does: a LANGUAGE sql function may read a table the same migration creates later.
        "SET LOCAL check_function_bodies = off",
    ]
    assert len(preamble) == _PREAMBLE_LENGTH
    return [*preamble, *statements, *history]


def _shown(statement: str) -> str:
    text = statement.strip()
    return text if len(text) <= _SHOWN_STATEMENT else text[: _SHOWN_STATEMENT - 1] + "…"


def _server_lines(error: MigrationFailed) -> str:
    """The server's Detail/Hint lines carried in a target's error (from the first of them to the end)."""
    lines = error.hint.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(("Detail:", "Hint:"))), len(lines))
    return "\n".join(lines[start:])



def _advice(sqlstate: str | None, plan: Plan) -> str:
    """What to do about a failed statement, from its SQLSTATE."""
    state = sqlstate or ""
    if state == "55P03":
        return (f"A table it needs was in use by other sessions for longer than the lock timeout"
                f" ({plan.options.lock_timeout}). Try again when the database is less busy.")
    if state == "57014":
        return (f"It ran longer than the statement timeout ({plan.options.statement_timeout}). Try again when the"
                " database is less busy, or make the plan again with a longer statement timeout.")
    if state.startswith("23"):
        return ("Rows already in the table do not satisfy the new rule. Fix those rows first, or change the"
                " desired schema, then make the plan again.")
    if state in {"42P07", "42710", "42701"}:
        return "The object already exists: the database probably changed. Make the plan again."
    return "Fix the cause, make the plan again, and deploy."


async def _drift_error(target: Target, plan: Plan) -> DriftError:
    """DriftError saying what changed between the catalog the plan was made from and the database now."""
    hint = "Make the plan again (it will take these changes into account), review it, and deploy."
    if plan.live is None:
        return DriftError("The database changed since this plan was made, so nothing was deployed.", hint=hint)
    try:
        now = await introspect(target, include_schemas=plan.options.include_schemas)
    except StudioError:
        return DriftError(
            "The database changed since this plan was made, so nothing was deployed. (Studio could not read"
            " the database again to say what changed.)", hint=hint)
    changes = [c.title for c in diff(plan.live, now, plan.options).changes]
    if not changes:
        return DriftError(
            "The database changed since this plan was made, so nothing was deployed. The change is in"
            " something Studio does not model in detail.", hint=hint)
    return DriftError(
        "The database changed since this plan was made, so nothing was deployed. Done to it since then: "
        + "; ".join(changes) + ".", hint=hint, changes=changes)


async def apply_plan(
    target: Target,
    plan: Plan,
    *,
    workspace: Path | None,
    name: str,
    ids: Iterable[int] | None = None,
    on_progress: ProgressCallback | None = None,
) -> AppliedMigration:
    """Apply the chosen changes of `plan` to `target` as one migration, and record it.

    `name` is sanitised (see `files.sanitise_name`); `ids` chooses changes (all when None; every change a
    chosen one requires must be chosen too). With a `workspace`, the migration is written to
    `supabase/migrations/<version>_<name>.sql` once the transaction commits; with None only the history
    row is written. `on_progress(done, total, message)` reports the statement about to run (`done` of
    the plan's `total` statements have run) and the other steps.

    Raises:
        DeployLocked: another deploy held the database's deploy lock for `DEPLOY_LOCK_WAIT`.
        DriftError: the schema changed since the plan was made (`changes` says what).
        MigrationFailed: a statement failed. `index` is its position among the plan's chosen statements
            (transactional first, then the others). When it ran inside the transaction, nothing was changed;
            when it ran after it, the message says the migration itself was applied and recorded.
        WorkspaceError: the migrations folder could not be read or written (before the transaction:
            nothing was changed; after it: the message says so).
        ConnectionFailed: the connection was lost.
    In every failure before the commit, the database and the workspace are exactly as before.
    """
    migration_name = sanitise_name(name)
    chosen = _chosen_changes(plan, ids)
    chosen_ids = [c.id for c in chosen]
    inside = [(c, s) for c in chosen if c.transactional for s in c.statements]
    after = [(c, s) for c in chosen if not c.transactional for s in c.statements]
    steps = inside + after
    total = len(steps)

    def _progress(done: int, message: str) -> None:
        if on_progress is not None:
            on_progress(done, total, message)

    _progress(0, "Reading the migration history")
    listing = list_migrations(workspace) if workspace is not None else MigrationListing()
    history_rows = await read_history(target)
    version = new_version([*listing.versions, *(row.version for row in history_rows)])
    path = migration_path(workspace, version, migration_name.value) if workspace is not None else None
    if path is not None and path.exists():
        raise InternalError(f"The migration file {path} already exists.")
    all_statements = [s for _, s in steps]
    history = [*ensure_history_statements(),
               insert_history_statement(version, migration_name.value, all_statements)]
    script = migration_script(plan, [s for _, s in inside], history)
    first_history = _PREAMBLE_LENGTH + len(inside)

    staged: StagedFile | None = None
    if path is not None:
        header = (f"Migration {version}_{migration_name.value}, made by Studio on"
                  f" {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC.")
        staged = StagedFile(path, render_plan(plan, ids=chosen_ids, header=header))

    def _on_statement(index: int, _sql: str) -> None:
        if index == _LOCK_INDEX:
            _progress(0, "Waiting for other deploys on this database to finish")
        elif index == _DRIFT_INDEX:
            _progress(0, "Checking that the database has not changed since the plan was made")
        elif _PREAMBLE_LENGTH <= index < first_history:
            position = index - _PREAMBLE_LENGTH
            _progress(position, inside[position][0].title)
        elif index == first_history:
            _progress(len(inside), f"Recording the migration in {_HISTORY}")

    try:
        await target.run_transaction(script, on_statement=_on_statement)
    except MigrationFailed as exc:
        if staged is not None:
            staged.discard()
        raise await _transaction_failure(target, plan, exc, inside, script, version) from exc
    except ConnectionFailed as exc:
        if staged is not None:
            staged.discard()
        raise ConnectionFailed(exc.message, hint=joined_lines(
            exc.hint,
            f"If the migration was committed, {_HISTORY} has version {version} but no file was written:"
            " compare the history (`supabase migration list`) and fetch the file with"
            " `supabase migration fetch`.")) from exc
    except BaseException:
        if staged is not None:
            staged.discard()
        raise

    if staged is not None:
        _progress(len(inside), "Writing the migration file")
        try:
            staged.commit()
        except WorkspaceError as exc:
            staged.discard()
            raise WorkspaceError(
                f"The migration was applied and recorded as version {version}, but its file could not be"
                f" written: {exc.message}",
                hint="Free some space or fix the folder's permissions, then get the file back with"
                     " `supabase migration fetch` (it rebuilds files from the database's history).",
            ) from exc

    if after:
        def _on_after(index: int, _sql: str) -> None:
            _progress(len(inside) + index, after[index][0].title)

        try:
            await target.run_each([s for _, s in after], on_statement=_on_after)
        except MigrationFailed as exc:
            raise _after_failure(exc, inside, after, version, migration_name.value, path) from exc

    _progress(total, "Deployed")
    return AppliedMigration(
        version=version,
        name=migration_name.value,
        path=path,
        statements_count=total,
        transactional_count=len(inside),
        non_transactional_count=len(after),
        change_titles=tuple(c.title for c in chosen),
        name_notice=migration_name.notice,
    )


async def _transaction_failure(
    target: Target,
    plan: Plan,
    error: MigrationFailed,
    inside: list[tuple[Change, str]],
    script: list[str],
    version: str,
) -> StudioError:
    """Turn a failure of the migration's transaction into the error a person should see."""
    index = error.index
    nothing = "Nothing was changed: the whole migration was rolled back and no migration file was written."
    if index == _LOCK_INDEX and error.sqlstate in _LOCK_GIVEN_UP:
        return DeployLocked(
            "Another deploy is running on this database. Wait for it to finish, then try again.",
            hint=f"Studio waited {DEPLOY_LOCK_WAIT} for it. Nothing was changed.",
        )
    if index == _DRIFT_INDEX and error.sqlstate == _DRIFT_SQLSTATE:
        return await _drift_error(target, plan)
    if index < _PREAMBLE_LENGTH:
        doing = {
            _LOCK_INDEX: "take the deploy lock",
            _DRIFT_INDEX: "check that the database has not changed since the plan was made",
        }.get(index, "apply the plan's timeout settings")
        return MigrationFailed(
            f"Studio could not {doing}: {error.server_message}. {nothing}",
            hint=joined_lines(_server_lines(error), "Check that the role you connect as may read the schema, then"
                                               " try again."),
            statement=error.statement, index=-1, server_message=error.server_message, sqlstate=error.sqlstate,
        )
    position = index - _PREAMBLE_LENGTH
    if position < len(inside):
        change, statement = inside[position]
        return MigrationFailed(
            f"Deploy failed at “{change.title}” (statement {position + 1} of {len(inside)}):"
            f" {error.server_message}\n{nothing}\nThe statement was:\n{_shown(statement)}",
            hint=joined_lines(_server_lines(error), _advice(error.sqlstate, plan)),
            statement=statement, index=position, server_message=error.server_message, sqlstate=error.sqlstate,
        )
    if index >= len(script):  # the server refused the COMMIT (a deferred constraint)
        return MigrationFailed(
            f"Deploy failed when committing: {error.server_message}\n{nothing}",
            hint=joined_lines(_server_lines(error), _advice(error.sqlstate, plan)),
            statement=error.statement, index=len(inside), server_message=error.server_message,
            sqlstate=error.sqlstate,
        )
    if error.sqlstate == "23505":
        cause = (f"Version {version} is already in {_HISTORY}: another tool recorded a migration at the same"
                 " moment. Try again.")
    else:
        cause = f"Check that the role you connect as may create and write {_HISTORY}."
    return MigrationFailed(
        f"Recording the migration in {_HISTORY} failed: {error.server_message}\n{nothing}",
        hint=joined_lines(_server_lines(error), cause),
        statement=error.statement, index=len(inside), server_message=error.server_message,
        sqlstate=error.sqlstate,
    )


def _after_failure(
    error: MigrationFailed,
    inside: list[tuple[Change, str]],
    after: list[tuple[Change, str]],
    version: str,
    name: str,
    path: Path | None,
) -> MigrationFailed:
    """A statement that runs after the commit failed: say what is applied and what to do."""
    change, statement = after[error.index]
    not_run = sorted({c.title for c, _ in after[error.index + 1 :]} - {change.title})
    left = f" These did not run either: {'; '.join(not_run)}." if not_run else ""
    written = f", and its file written to {MIGRATIONS_DIR.as_posix()}/{path.name}" if path is not None else ""
    return MigrationFailed(
        f"The migration {version}_{name} was applied and recorded in {_HISTORY}{written}, but “{change.title}”,"
        f" which must run after it outside the transaction, failed: {error.server_message}\n"
        f"The statement was:\n{_shown(statement)}",
        hint=joined_lines(
            _server_lines(error),
            f"The {error.index} statement(s) before it in this step stayed applied.{left}",
            "Fix the cause, then make a new plan and deploy it: it will contain only what is still missing. A"
            " failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind: drop it first with"
            " DROP INDEX CONCURRENTLY.",
        ),
        statement=statement, index=len(inside) + error.index, server_message=error.server_message,
        sqlstate=error.sqlstate,
    )
