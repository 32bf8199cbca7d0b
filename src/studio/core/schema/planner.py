"""Make a plan against a live target: introspect it, diff, and count the rows at risk."""

from __future__ import annotations

import dataclasses

from studio.core.schema.catalog import Catalog
from studio.core.schema.diff import diff
from studio.core.schema.introspect import introspect
from studio.core.schema.plan import Hazard, Plan, PlanOptions
from studio.core.targets.base import Target


async def make_plan(target: Target, desired: Catalog, options: PlanOptions | None = None) -> Plan:
    """The plan that turns `target`'s schema into `desired`, with every hazard's row count filled in."""
    options = options or PlanOptions()
    live = await introspect(target, include_schemas=options.include_schemas)
    plan = diff(live, desired, options)
    await count_rows_at_risk(target, plan)
    return plan


async def count_rows_at_risk(target: Target, plan: Plan) -> None:
    """Run every hazard's count query (all in one round trip) and write the numbers into the plan."""
    pending: list[tuple[int, int, Hazard]] = []
    for ci, change in enumerate(plan.changes):
        for hi, hazard in enumerate(change.hazards):
            if hazard.count_sql:
                pending.append((ci, hi, hazard))
    if not pending:
        return
    # One SELECT with a scalar subquery per hazard: one round trip however many hazards there are.
    # Each column named apart: some targets (the Management API) return rows as JSON objects.
    columns = ", ".join(f"({hazard.count_sql}) AS c{number}" for number, (_, _, hazard) in enumerate(pending))
    rows = await target.fetch(f"SELECT {columns}")
    for (ci, hi, hazard), count in zip(pending, rows[0], strict=True):
        plan.changes[ci].hazards[hi] = dataclasses.replace(
            hazard, rows=int(count), message=hazard.message.replace("{rows}", f"{int(count):,}"), count_sql=None)
