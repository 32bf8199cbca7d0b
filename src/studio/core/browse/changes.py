"""Staged edits of one table: changed cells, new rows and deleted rows, saved in one transaction.

Nothing reaches the database until `commit`: the grid colours what is staged, `preview` shows the exact
SQL that will run, and `statements` is that SQL. The transaction starts with the "view as" settings, so
row level security judges the writes as it judges the reads. Values are the text the user typed, written
as string constants cast to the column's type (`'42'::integer`), so the server parses them exactly as it
would parse them in SQL.

An UPDATE or DELETE that matches no row does not fail in SQL - it just changes nothing, which is what row
level security does to rows a role may not touch. Each one therefore runs in a small DO block that raises
when it found no row, so the whole commit fails and says so instead of half-saving silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.core.browse.relations import Relation
from studio.core.browse.view_as import ViewAs
from studio.core.errors import MigrationFailed, StudioError, joined_lines
from studio.core.sqltext import quote_literal

__all__ = ["Change", "CommitFailed", "StagedChanges", "commit_failure"]

Identity = tuple[str | None, ...]
Value = str | None


class CommitFailed(StudioError):
    """Saving staged changes failed; nothing was saved. `change` is the index of the failing change
    (in `StagedChanges.changes()`), or None when the failure came before any of them (the role switch)."""

    def __init__(self, message: str, *, hint: str = "", change: int | None = None, sqlstate: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.change = change
        self.sqlstate = sqlstate


@dataclass(frozen=True)
class Change:
    """One statement of a commit: what it does in words, and its SQL."""

    description: str
    sql: str


@dataclass
class StagedChanges:
    """The edits waiting to be saved for one table (which must be editable).

    Rows are named by their identity: the primary key values as text, in key order. New rows are
    numbered from 0 in the order they were added.
    """

    relation: Relation
    updates: dict[Identity, dict[str, Value]] = field(default_factory=dict)
    originals: dict[Identity, dict[str, Value]] = field(default_factory=dict)
    inserts: list[dict[str, Value]] = field(default_factory=list)
    deletes: dict[Identity, None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        reason = self.relation.read_only_reason
        if reason is not None:
            raise StudioError(f"{self.relation.display_name} cannot be edited.", hint=reason)

    # -- staging ------------------------------------------------------------------------------------

    def set_value(self, identity: Identity, column: str, value: Value, original: Value) -> None:
        """Stage `column` = `value` on an existing row; setting it back to `original` unstages it."""
        self._editable(column)
        row = self.updates.setdefault(identity, {})
        self.originals.setdefault(identity, {}).setdefault(column, original)
        if value == self.originals[identity][column]:
            row.pop(column, None)
            self.originals[identity].pop(column, None)
            if not row:
                del self.updates[identity]
                del self.originals[identity]
        else:
            row[column] = value

    def add_row(self) -> int:
        """Stage a new row (every column at its default); returns its number."""
        self.inserts.append({})
        return len(self.inserts) - 1

    def set_new_value(self, index: int, column: str, value: Value) -> None:
        """Set a column of new row `index` (a column never set gets its default)."""
        self._editable(column)
        self.inserts[index][column] = value

    def remove_new_row(self, index: int) -> None:
        """Drop new row `index` (the rows after it move up by one)."""
        del self.inserts[index]

    def delete_row(self, identity: Identity) -> None:
        """Stage the deletion of an existing row (its staged cell changes are dropped)."""
        self.updates.pop(identity, None)
        self.originals.pop(identity, None)
        self.deletes[identity] = None

    def undelete_row(self, identity: Identity) -> None:
        """Take a staged deletion back."""
        self.deletes.pop(identity, None)

    def discard(self) -> None:
        """Forget every staged edit."""
        self.updates.clear()
        self.originals.clear()
        self.inserts.clear()
        self.deletes.clear()

    # -- reading ------------------------------------------------------------------------------------

    @property
    def empty(self) -> bool:
        """Whether nothing is staged."""
        return not (self.updates or self.inserts or self.deletes)

    @property
    def counts(self) -> tuple[int, int, int]:
        """(new rows, changed rows, deleted rows)."""
        return len(self.inserts), len(self.updates), len(self.deletes)

    @property
    def summary(self) -> str:
        """What is staged, in words: "2 new rows, 1 changed row, 1 deleted row"."""
        added, changed, deleted = self.counts
        parts = [
            _count(added, "new row"),
            _count(changed, "changed row"),
            _count(deleted, "deleted row"),
        ]
        return ", ".join(part for part in parts if part) or "No changes"

    def staged_value(self, identity: Identity, column: str) -> tuple[bool, Value]:
        """(True, value) when `column` of the row has a staged value, else (False, None)."""
        row = self.updates.get(identity)
        if row is not None and column in row:
            return True, row[column]
        return False, None

    def is_deleted(self, identity: Identity) -> bool:
        """Whether the row's deletion is staged."""
        return identity in self.deletes

    # -- SQL ----------------------------------------------------------------------------------------

    def changes(self) -> list[Change]:
        """The statements that save the edits, in order: deletions, changes, then new rows."""
        relation = self.relation
        table = relation.qualified_name
        result: list[Change] = []
        for identity in self.deletes:
            where = self._where(identity)
            label = self._row_label(identity)
            result.append(Change(
                f"Deleting the row {label}",
                _checked(f"delete from {table} where {where}",
                         f"The row {label} could not be deleted: it no longer exists, or row level security"
                         " does not let this role delete it."),
            ))
        for identity, values in self.updates.items():
            label = self._row_label(identity)
            assignments = ", ".join(f"{relation.column(name).quoted} = {self._literal(name, value)}"
                                    for name, value in values.items())
            result.append(Change(
                f"Changing {', '.join(values)} of the row {label}",
                _checked(f"update {table} set {assignments} where {self._where(identity)}",
                         f"The row {label} could not be changed: it no longer exists, or row level security"
                         " does not let this role change it."),
            ))
        for number, values in enumerate(self.inserts, start=1):
            if values:
                names = ", ".join(relation.column(name).quoted for name in values)
                literals = ", ".join(self._literal(name, value) for name, value in values.items())
                sql = f"insert into {table} ({names}) values ({literals})"
            else:
                sql = f"insert into {table} default values"
            result.append(Change(f"Adding new row {number}", sql))
        return result

    def statements(self, view_as: ViewAs) -> list[str]:
        """Everything the commit's transaction runs: the view-as settings, then the changes."""
        return view_as.statements() + [change.sql for change in self.changes()]

    def preview(self, view_as: ViewAs) -> str:
        """The SQL of `statements`, with a comment line before each statement saying what it does."""
        blocks = [f"-- Run as {view_as.description}, in one transaction: all or nothing"]
        blocks += [f"{sql};" for sql in view_as.statements()]
        for change in self.changes():
            blocks.append(f"\n-- {change.description}\n{change.sql};")
        return "\n".join(blocks)

    # -- internals ----------------------------------------------------------------------------------

    def _editable(self, column: str) -> None:
        try:
            known = self.relation.column(column)
        except KeyError:
            raise StudioError(f"{self.relation.display_name} has no column {column!r}.",
                              hint="The table may have changed since it was opened: reload it (F5).") from None
        if not known.editable:
            raise StudioError(f"The column {column} is computed by the database and cannot be set.",
                              hint="It is a generated or identity (always) column.")

    def _literal(self, column: str, value: Value) -> str:
        if value is None:
            return "null"
        try:
            text = quote_literal(value)
        except ValueError:
            raise StudioError(f"The value for {column} contains a NUL character, which PostgreSQL cannot store.",
                              hint="Remove it and try again.") from None
        return f"{text}::{self.relation.column(column).type_name}"

    def _where(self, identity: Identity) -> str:
        return " and ".join(
            f"{column.quoted} = {self._literal(column.name, value)}"
            for column, value in zip(self.relation.primary_key_columns, identity, strict=True)
        )

    def _row_label(self, identity: Identity) -> str:
        return ", ".join(f"{name} = {value}" for name, value in zip(self.relation.primary_key, identity, strict=True))


def _count(number: int, noun: str) -> str:
    if not number:
        return ""
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _checked(statement: str, failure: str) -> str:
    """`statement` in a DO block that raises `failure` when it touched no row."""
    tag = "$studio$"
    serial = 0
    while tag in statement or tag in failure:
        serial += 1
        tag = f"$studio{serial}$"
    return (
        f"do {tag}\n#variable_conflict use_column\nbegin\n    {statement};\n"
        f"    if not found then\n        raise exception using errcode = 'P0002', message = {quote_literal(failure)};\n"
        f"    end if;\nend {tag}"
    )


_PLAIN_REASONS = {
    "23505": "Another row already has this value, and the column must be unique.",
    "23502": "A required column was left empty.",
    "23503": "The value points to a row that does not exist (foreign key).",
    "23514": "A value breaks a check rule of the table.",
    "22P02": "A value is not written the way its column's type needs.",
    "22007": "A date or time is not written the way PostgreSQL reads it (for example 2024-05-31 14:30).",
    "22001": "A value is too long for its column.",
    "22003": "A number is out of range for its column.",
}


def commit_failure(exc: MigrationFailed, changes: list[Change], view_as: ViewAs) -> CommitFailed:
    """Explain a failed commit in plain words: which change, why (in the server's words too), and that
    nothing was saved."""
    settings = len(view_as.statements())
    index = exc.index - settings
    said = exc.server_message
    sqlstate = exc.sqlstate or ""
    if exc.index < settings:
        return CommitFailed(
            f"Nothing was saved: Studio could not act as {view_as.description} ({said}).",
            hint="Check that the role exists in this database (Supabase's API roles are anon, authenticated and"
                 " service_role).",
            sqlstate=sqlstate,
        )
    what = changes[index].description if 0 <= index < len(changes) else "the commit"
    if sqlstate == "P0002":
        reason = said
    elif sqlstate == "42501" or "row-level security" in said:
        reason = (f"{view_as.description[0].upper()}{view_as.description[1:]} may not do this: {said}."
                  " Row level security or the table's privileges forbid it.")
    else:
        plain = _PLAIN_REASONS.get(sqlstate, "")
        reason = f"{plain} The database said: {said}." if plain else f"The database said: {said}."
    advice = exc.hint.replace("Nothing was changed: the whole migration was rolled back.", "").strip()
    return CommitFailed(
        f"Nothing was saved. {what} failed: {reason}",
        hint=joined_lines("Every staged change is still there: fix the value or discard the change, then save"
                          " again.", advice),
        change=index if 0 <= index < len(changes) else None,
        sqlstate=sqlstate,
    )
