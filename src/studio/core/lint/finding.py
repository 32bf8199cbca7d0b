"""What a lint reports: one finding about one catalog object."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How serious a finding is."""

    ERROR = "error"  # data is exposed or the schema breaks: fix before deploying
    WARNING = "warning"  # likely a mistake or a real cost
    INFO = "info"  # worth knowing; sometimes intended

    @property
    def rank(self) -> int:
        """0 for the most serious level: the sort order of findings."""
        return _RANK[self]


_RANK = {Level.ERROR: 0, Level.WARNING: 1, Level.INFO: 2}


@dataclass(frozen=True)
class Finding:
    """One problem a lint rule found.

    `rule` is a stable id (`rls_disabled_in_public`); `object_key` the catalog key of the object concerned,
    so a review screen can show the finding beside that object's change. `explanation` says in plain words
    what can go wrong; `fix` what to do, with SQL when there is a clear statement to run (`fix_sql` holds
    that SQL alone when it can run as it is).
    """

    rule: str
    level: Level
    object_key: str
    title: str
    explanation: str
    fix: str
    # The statements of the fix alone, when they are complete (nothing to fill in): what a review screen can
    # offer to add to the plan. None when the fix needs a decision or a condition only the author knows.
    fix_sql: str | None = None

    def sort_key(self) -> tuple[int, str, str, str, str]:
        """Most serious first, then by object and rule (then text, so the order never depends on input)."""
        return (self.level.rank, self.object_key, self.rule, self.title, self.explanation)
