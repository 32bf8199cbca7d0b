"""The interface every place that runs SQL implements.

A target runs queries and scripts; it knows nothing of plans or migrations. Building the script for a
migration (locks, drift checks, history rows) is `studio.core.migrations`' job, so that every target
applies migrations the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Row = tuple[Any, ...]
StatementCallback = Callable[[int, str], None]


class Target(ABC):
    """A database Studio can read and change.

    `description` names it for people ("Local project", "db.example.com:5432/postgres") and never
    contains a password.
    """

    description: str

    @abstractmethod
    async def fetch(
        self, sql: str, params: Sequence[Any] | None = None, *, settings: Mapping[str, str] | None = None
    ) -> list[Row]:
        """Run one read query (in its own transaction) and return every row.

        `settings` are applied for this query only (`set_config(name, value, true)` in its transaction);
        introspection uses it to read definitions with `search_path` set to `pg_catalog`, so every name in
        them comes out schema-qualified.
        """

    @abstractmethod
    async def run_transaction(
        self, statements: Sequence[str], *, on_statement: StatementCallback | None = None
    ) -> None:
        """Run `statements` in order inside one transaction, committing only if all succeed.

        `on_statement(index, sql)` is called before each one. On failure everything is rolled back and
        `studio.core.errors.MigrationFailed` is raised with the failing statement's index and the server's
        message.
        """

    @abstractmethod
    async def run_each(
        self, statements: Sequence[str], *, on_statement: StatementCallback | None = None
    ) -> None:
        """Run statements one by one outside any transaction (for `CREATE INDEX CONCURRENTLY` and kin).

        Stops at the first failure, raising `MigrationFailed`; statements before it stay applied.
        """

    @abstractmethod
    async def close(self) -> None:
        """Release connections. The target may not be used afterwards."""

    async def server_version_num(self) -> int:
        """The server's `server_version_num` (for example 150004)."""
        rows = await self.fetch("select current_setting('server_version_num')::int")
        return int(rows[0][0])
