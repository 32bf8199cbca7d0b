"""Make definitions from different PostgreSQL versions comparable.

The desired catalog is read from the local (newer) server and the live one may be older; the servers deparse
some things differently without any difference in meaning. These functions give comparison keys only: the
SQL Studio runs always uses the server's own text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pglast
from pglast import ast, visitors
from pglast.stream import RawStream

# Privileges that exist only from a given server version: never planned against an older server.
PRIVILEGES_SINCE = {"MAINTAIN": 170000}


class _DropQualifier(visitors.Visitor):
    """Removes `alias.` from column references to the query's only relation."""

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names

    def visit_ColumnRef(self, ancestors: Any, node: ast.ColumnRef) -> ast.ColumnRef | None:
        fields = node.fields or ()
        if len(fields) == 2 and isinstance(fields[0], ast.String) and (fields[0].sval or "") in self.names:
            return ast.ColumnRef(fields=(fields[1],), location=node.location)
        return None


@lru_cache(maxsize=4096)
def view_definition_key(definition: str) -> str:
    """A version-independent form of a view's query.

    PostgreSQL 16 stopped qualifying columns in single-relation views (`SELECT id FROM t` where 15 printed
    `SELECT t.id FROM t`); the key drops that qualifier and re-prints the query in one canonical layout.
    Text that does not parse is returned unchanged.
    """
    try:
        tree = pglast.parse_sql(definition)
    except pglast.parser.ParseError:
        return definition
    if len(tree) == 1 and isinstance(tree[0].stmt, ast.SelectStmt):
        from_clause = tree[0].stmt.fromClause or ()
        if len(from_clause) == 1 and isinstance(from_clause[0], ast.RangeVar):
            relation = from_clause[0]
            name = relation.alias.aliasname if relation.alias else relation.relname
            _DropQualifier({name or ""})(tree)
    return str(RawStream()(tree))


def supported_privileges(privileges: list[str], server_version: int) -> list[str]:
    """Privileges that a server of `server_version` knows (MAINTAIN needs PostgreSQL 17)."""
    return [p for p in privileges if PRIVILEGES_SINCE.get(p.rstrip("*"), 0) <= server_version]
