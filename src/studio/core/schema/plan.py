"""A plan: the ordered changes that turn a live database into the desired one, each with its hazards."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from studio.core.schema.catalog import Catalog


class HazardKind(StrEnum):
    """What can go wrong when a change runs."""

    DATA_LOSS = "data_loss"  # rows or values are deleted or may be altered
    LOCK = "lock"  # holds a lock that blocks reads or writes for a while
    SECURITY = "security"  # RLS removed, a policy or grant widened
    NON_TRANSACTIONAL = "non_transactional"  # runs outside the migration's transaction
    FAILURE = "failure"  # may fail on existing data (e.g. a cast that some values cannot take)


@dataclass(frozen=True, slots=True)
class Hazard:
    """One risk of a change, in plain words. `rows` is the number of rows at risk when it is known.

    While a plan is being made, `count_sql` is a query returning the number of rows at risk and `message`
    may hold a `{rows}` placeholder; the planner runs the query against the live database, fills both in
    and clears `count_sql`.
    """

    kind: HazardKind
    message: str
    rows: int | None = None
    count_sql: str | None = None

    @property
    def destructive(self) -> bool:
        """Destructive hazards need an explicit confirmation before deploy."""
        return self.kind is HazardKind.DATA_LOSS


@dataclass(slots=True)
class Change:
    """One step of a plan: create, alter or drop one object.

    `requires` lists ids of changes that must run before this one (they are what this change depends
    on); unticking one of them in a review must untick this change too.
    """

    id: int
    action: str  # "create" | "alter" | "drop"
    kind: str
    key: str
    title: str
    statements: list[str]
    hazards: list[Hazard] = field(default_factory=list)
    transactional: bool = True
    requires: list[int] = field(default_factory=list)

    @property
    def destructive(self) -> bool:
        """True when any hazard is destructive."""
        return any(h.destructive for h in self.hazards)


@dataclass(frozen=True)
class PlanOptions:
    """How a plan is made. Timeouts are PostgreSQL interval strings; None leaves the server's setting."""

    lock_timeout: str | None = "5s"
    statement_timeout: str | None = "5min"
    concurrent_indexes: bool = False
    include_schemas: tuple[str, ...] | None = None


@dataclass
class Plan:
    """Ordered changes plus what the plan was computed from."""

    changes: list[Change]
    live_fingerprint: str
    options: PlanOptions = field(default_factory=PlanOptions)
    not_handled: list[str] = field(default_factory=list)
    # The live catalog the plan was computed from (kept in memory to explain drift; never serialised).
    live: Catalog | None = field(default=None, repr=False, compare=False)

    @property
    def empty(self) -> bool:
        """Nothing to do."""
        return not self.changes

    def selected(self, ids: Iterable[int] | None = None) -> list[Change]:
        """The changes with these ids (all when None), in plan order."""
        if ids is None:
            return list(self.changes)
        wanted = set(ids)
        return [c for c in self.changes if c.id in wanted]

    def closure_without(self, removed: Iterable[int]) -> set[int]:
        """Ids that must be left out when `removed` are left out: they and everything requiring them."""
        out = set(removed)
        grew = True
        while grew:
            grew = False
            for change in self.changes:
                if change.id not in out and any(r in out for r in change.requires):
                    out.add(change.id)
                    grew = True
        return out

    def transactional_statements(self, ids: Iterable[int] | None = None) -> list[str]:
        """Statements that run inside the migration's transaction, in order."""
        return [s for c in self.selected(ids) if c.transactional for s in c.statements]

    def non_transactional_statements(self, ids: Iterable[int] | None = None) -> list[str]:
        """Statements that must run after the transaction commits (e.g. CREATE INDEX CONCURRENTLY)."""
        return [s for c in self.selected(ids) if not c.transactional for s in c.statements]
