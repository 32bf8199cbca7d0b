"""Security and performance checks on a Catalog: Supabase's database advisor rules and a few of our own.

`lint_catalog(catalog)` returns `Finding`s, most serious first; each names the catalog object it concerns,
explains in plain words what can go wrong and how to fix it. `RULES` describes every rule by its id.
"""

from studio.core.lint.finding import Finding, Level
from studio.core.lint.rules import RULES, Rule, lint_catalog

__all__ = ["RULES", "Finding", "Level", "Rule", "lint_catalog"]
