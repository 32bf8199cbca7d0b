"""Render a plan as SQL a person can read: one commented block per change, hazards spelled out."""

from __future__ import annotations

from collections.abc import Iterable

from studio.core.schema.bulk import paused_gc
from studio.core.schema.plan import Change, Plan
from studio.core.sqltext import quote_literal
from studio.core.words import plural

FINGERPRINT_MARK = "-- studio:live-fingerprint "
_HAZARD_WORDS = {
    "data_loss": "DATA LOSS",
    "lock": "LOCK",
    "security": "SECURITY",
    "non_transactional": "OUTSIDE TRANSACTION",
    "failure": "MAY FAIL",
}


def _comment_lines(text: str, prefix: str = "-- ") -> list[str]:
    return [prefix + line if line else prefix.rstrip() for line in text.splitlines()]


def render_change(change: Change) -> str:
    """One change as a commented SQL block."""
    lines = _comment_lines(f"[{change.id}] {change.title}")  # a name may hold a line break
    for hazard in change.hazards:
        # HazardKind is a StrEnum: the member looks up as its value
        lines.extend(_comment_lines(hazard.message, f"--   {_HAZARD_WORDS[hazard.kind]}: "))
    lines.extend([statement.rstrip().rstrip(";") + ";" for statement in change.statements])
    return "\n".join(lines)


def timeout_statements(plan: Plan) -> list[str]:
    """`SET` statements for the script: bounds on how long any one statement waits for a lock or runs, and
    no validation of function bodies until the objects they read exist."""
    out = []
    if plan.options.lock_timeout:
        out.append(f"SET lock_timeout = {quote_literal(plan.options.lock_timeout)}")
    if plan.options.statement_timeout:
        out.append(f"SET statement_timeout = {quote_literal(plan.options.statement_timeout)}")
    # As pg_dump does: a LANGUAGE sql function may read a table that is created further down.
    out.append("SET check_function_bodies = off")
    return out


def render_plan(plan: Plan, *, ids: Iterable[int] | None = None, header: str = "") -> str:
    """The whole plan (or the chosen changes) as a SQL script: `pending_migrations.sql`'s content."""
    changes = plan.selected(ids)
    parts: list[str] = []
    head = [f"-- {line}" if line else "--" for line in header.splitlines()]
    head.append(f"{FINGERPRINT_MARK}{plan.live_fingerprint}")
    destructive = sum(1 for c in changes if c.hazards and c.destructive)
    if not changes:
        head.append("-- Nothing to do: the database already matches the desired schema.")
    else:
        head.append(f"-- {plural(len(changes), 'change')}, {destructive} destructive."
                    " Read every hazard before deploying.")
    for item in plan.not_handled:
        head.extend(_comment_lines(item, "-- NOT HANDLED: "))
    parts.append("\n".join(head))
    if changes:
        parts.append("\n".join(s + ";" for s in timeout_statements(plan)))
    in_tx = [c for c in changes if c.transactional]
    outside = [c for c in changes if not c.transactional]
    with paused_gc():
        parts.extend([render_change(c) for c in in_tx])
    if outside:
        parts.append("-- The changes below cannot run inside a transaction. Studio runs them after the\n"
                     "-- migration above commits; if one fails, everything before it stays applied.")
        parts.extend(render_change(c) for c in outside)
    return "\n\n".join(parts) + "\n"
