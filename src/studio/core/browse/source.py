"""The small interface between the browser and where rows come from, and its implementation on a `Target`.

`BrowseSource` is all the table browser asks of a database: the relation list, one relation's shape,
the users to view as, pages of rows, one whole cell, and saving staged changes. `TargetSource` answers
from a live `Target`; the offline cache will wrap a source (serving pages from SQLite, queueing commits in
its outbox) without the browser noticing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from studio.core.browse.changes import StagedChanges, commit_failure
from studio.core.browse.paging import Page, PageRequest, RowData, read_page
from studio.core.browse.query import PARAM, bind, inline, like_pattern
from studio.core.browse.relations import (
    CATALOG_SETTINGS,
    DESCRIBE_SQL,
    LIST_SQL,
    Relation,
    RelationSummary,
    relation_from_rows,
    summary_from_row,
)
from studio.core.browse.view_as import ViewAs
from studio.core.errors import MigrationFailed, SqlError, StudioError, joined_lines
from studio.core.targets.base import Target
from studio.core.targets.cloud import CloudTarget

__all__ = ["AuthUser", "BrowseSource", "TargetSource", "explain_read_error"]


@dataclass(frozen=True)
class AuthUser:
    """A user of the project's auth (a row of `auth.users`), to view the data as."""

    id: str
    email: str  # "" when the user has none (it goes into the claims as is: never a phone number)
    last_sign_in: datetime | None
    phone: str = ""

    @property
    def label(self) -> str:
        """How the user is shown: e-mail (or phone) and the start of the id, or the whole id."""
        shown = self.email or self.phone
        return f"{shown} ({self.id[:8]}…)" if shown else self.id


class BrowseSource(ABC):
    """Where the browser reads rows and saves changes (see the module's notes)."""

    @abstractmethod
    async def relations(self) -> list[RelationSummary]:
        """Every table and view, with row estimates."""

    @abstractmethod
    async def describe(self, schema: str, name: str) -> Relation:
        """The columns and keys of one relation; `StudioError` if it no longer exists."""

    @abstractmethod
    async def users(self, search: str = "", limit: int = 100) -> list[AuthUser]:
        """Users from `auth.users` (most recently active first), [] when the database has no auth schema."""

    @abstractmethod
    async def read_page(self, request: PageRequest) -> Page:
        """One page of rows (see `studio.core.browse.paging`)."""

    @abstractmethod
    async def read_value(self, relation: Relation, identity: tuple[str | None, ...], column: str,
                         view_as: ViewAs) -> str | None:
        """The whole text of one cell, for a row named by its identity (primary key or location)."""

    @abstractmethod
    async def commit(self, changes: StagedChanges, view_as: ViewAs) -> int:
        """Save the staged changes in one transaction as `view_as`; returns how many statements ran.

        Raises `CommitFailed` (nothing saved) with the failing change and the reason in plain words.
        """


class TargetSource(BrowseSource):
    """A `BrowseSource` on a live database. Does not own the target: its opener closes it."""

    def __init__(self, target: Target) -> None:
        self.target = target

    async def _fetch(self, sql: str, params: Sequence[Any], settings: Mapping[str, str]) -> list[RowData]:
        """Run SQL built with `PARAM` marks: parameters bound by the server, except where the target cannot
        take them together with settings (a cloud query), where they are written in as constants."""
        try:
            if settings and isinstance(self.target, CloudTarget):
                return await self.target.fetch(inline(sql, list(params)), settings=dict(settings))
            text, values = bind(sql, list(params))
            return await self.target.fetch(text, values, settings=dict(settings))
        except SqlError as exc:
            raise explain_read_error(exc, settings) from exc

    async def relations(self) -> list[RelationSummary]:
        """Every table and view, with row estimates."""
        rows = await self.target.fetch(LIST_SQL, settings=CATALOG_SETTINGS)
        return [summary_from_row(row) for row in rows]

    async def describe(self, schema: str, name: str) -> Relation:
        """The columns and keys of `schema.name`."""
        rows = await self.target.fetch(DESCRIBE_SQL, [schema, name], settings=CATALOG_SETTINGS)
        relation = relation_from_rows(rows)
        if relation is None:
            raise StudioError(f"{schema}.{name} no longer exists.", hint="Reload the list of tables (F5).")
        return relation

    async def users(self, search: str = "", limit: int = 100) -> list[AuthUser]:
        """Users from `auth.users`, filtered by e-mail, phone or id when `search` is given."""
        exists = await self.target.fetch("select to_regclass('auth.users') is not null")
        if not exists or not exists[0][0]:
            return []
        pattern = like_pattern(search.strip())
        rows = await self.target.fetch(
            "select id::text, coalesce(email, ''), last_sign_in_at, coalesce(phone, '') from auth.users"
            " where email ilike %s or phone ilike %s or id::text ilike %s"
            " order by coalesce(last_sign_in_at, created_at) desc nulls last, id limit %s",
            [pattern, pattern, pattern, limit],
        )
        return [AuthUser(str(row[0]), str(row[1]), row[2], str(row[3])) for row in rows]

    async def read_page(self, request: PageRequest) -> Page:
        """One page of rows, read with keyset conditions (never OFFSET)."""
        return await read_page(self._fetch, request)

    async def read_value(self, relation: Relation, identity: tuple[str | None, ...], column: str,
                         view_as: ViewAs) -> str | None:
        """The whole text of one cell."""
        parts = relation.identity.parts
        alias = relation.row_alias
        where = " and ".join(f"{part.expression(alias)} = ({PARAM})::{part.type_name}" for part in parts)
        sql = (f"select ({alias}.{relation.column(column).quoted})::text"
               f" from {relation.qualified_name} as {alias} where {where}")
        rows = await self._fetch(sql, list(identity), view_as.settings())
        if not rows:
            raise StudioError("That row is no longer there.",
                              hint="It was deleted or changed meanwhile; reload the table (F5).")
        value = rows[0][0]
        return None if value is None else str(value)

    async def commit(self, changes: StagedChanges, view_as: ViewAs) -> int:
        """Save the staged changes in one transaction as `view_as`."""
        listed = changes.changes()
        statements = changes.statements(view_as)
        try:
            await self.target.run_transaction(statements)
        except MigrationFailed as exc:
            raise commit_failure(exc, listed, view_as) from exc
        return len(listed)


def explain_read_error(exc: SqlError, settings: Mapping[str, str]) -> StudioError:
    """A failed read in plain words (permission problems name the role that was refused)."""
    role = settings.get("role")
    said = exc.message
    if exc.sqlstate == "42501" and role:
        return StudioError(
            f"The role {role} may not read this: {said}.",
            hint="Supabase's API roles need a GRANT on the table (and its schema) before row level security"
                 " is even asked. Pick another role under “View as”, or grant access in a migration.",
        )
    if exc.sqlstate in ("22P02", "22007", "22008", "22003") or said.startswith("invalid input"):
        return StudioError(f"A filter value does not fit its column: {said}.",
                           hint=joined_lines("Write the value as PostgreSQL writes it (numbers like 42 or 4.2,"
                                             " dates like 2024-05-31, true/false).", exc.hint))
    if role and "does not exist" in said and f'"{role}"' in said:
        return StudioError(f"The role {role} does not exist in this database.",
                           hint="Supabase's API roles (anon, authenticated, service_role) exist only in Supabase"
                                " projects; view as the database owner instead.")
    return exc
