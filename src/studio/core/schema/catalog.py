"""A database's user schema as plain data: every object with its identity, attributes and dependencies.

Each object has a `key` that names it the same way in any database (`table:public.todos`,
`column:public.todos.title`), so two catalogs can be compared key by key. `attrs` hold everything that is
compared; `deps` hold the keys of the objects it needs (from `pg_depend`), which orders the plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

# Schemas Supabase manages; user catalogs leave them out unless asked for.
MANAGED_SCHEMAS: tuple[str, ...] = (
    "auth",
    "storage",
    "realtime",
    "extensions",
    "graphql",
    "graphql_public",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "supabase_functions",
    "supabase_migrations",
    "net",
    "cron",
    "pgbouncer",
    "information_schema",
    "pgtle",
    "_realtime",
    "_analytics",
    "_supavisor",
)

# Object kinds in the order they are usually created (ties in the plan are broken by this order).
KIND_ORDER: tuple[str, ...] = (
    "schema",
    "extension",
    "enum",
    "domain",
    "composite",
    "sequence",
    "function",
    "table",
    "column",
    "sequence_owner",
    "constraint",
    "index",
    "view",
    "matview",
    "trigger",
    "rls",
    "policy",
    "grant",
    "comment",
    "publication_table",
)


def default_not_null_name(table: str, column: str) -> str:
    """The name PostgreSQL 18 gives a NOT NULL constraint nobody named: `<table>_<column>_not_null`, with
    the longer of table and column shortened first until the name fits in 63 bytes, as the server does."""
    label = "not_null"
    first, second = table.encode(), column.encode()
    room = 63 - len(label) - 2
    keep_first, keep_second = len(first), len(second)
    while keep_first + keep_second > room:
        if keep_first > keep_second:
            keep_first -= 1
        else:
            keep_second -= 1
    # cut at a character boundary, as the server's multibyte-aware clipping does
    return (f"{first[:keep_first].decode('utf-8', 'ignore')}_{second[:keep_second].decode('utf-8', 'ignore')}"
            f"_{label}")


@dataclass(slots=True)
class DbObject:
    """One object of a catalog.

    `kind` is one of KIND_ORDER; `parent` is the key of the owning object (a column's table) or None.
    Objects are not frozen (creating tens of thousands of frozen dataclasses costs measurable time on large
    schemas) but are treated as immutable once their catalog is built: derive a changed copy with
    `dataclasses.replace`.
    """

    kind: str
    key: str
    schema: str
    name: str
    attrs: Mapping[str, Any]
    parent: str | None = None
    deps: AbstractSet[str] = frozenset()

    @property
    def qualified(self) -> str:
        """`schema.name` as a person reads it (not quoted)."""
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass
class Catalog:
    """Every modelled object of a database, plus what was seen but not modelled."""

    objects: dict[str, DbObject] = field(default_factory=dict)
    not_handled: list[str] = field(default_factory=list)
    server_version: int = 0
    # Estimated rows per table key (pg_class.reltuples): volatile, so not part of the hash.
    row_estimates: dict[str, int] = field(default_factory=dict)
    # sha256 of the server's introspection document (oids included): equal for an unchanged database.
    fingerprint: str = ""
    # Privileges a new object gets without any GRANT: (schema or "" for a new schema, "TABLE" | "SEQUENCE" |
    # "FUNCTION") -> grantee -> privileges (`SELECT`, `SELECT*` when grantable), as the introspecting role.
    default_grants: dict[tuple[str, str], dict[str, list[str]]] = field(default_factory=dict)
    # Sequences behind identity columns (not objects of their own): sequence key -> column key.
    identity_sequences: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[DbObject]:
        return iter(self.objects.values())

    def __contains__(self, key: object) -> bool:
        return key in self.objects

    def get(self, key: str) -> DbObject | None:
        """The object with this key, or None."""
        return self.objects.get(key)

    def of_kind(self, kind: str) -> list[DbObject]:
        """Objects of one kind, in key order."""
        return sorted((o for o in self.objects.values() if o.kind == kind), key=lambda o: o.key)

    def children(self, parent_key: str) -> list[DbObject]:
        """Objects owned by `parent_key` (columns, constraints, indexes... of a table)."""
        return sorted((o for o in self.objects.values() if o.parent == parent_key), key=lambda o: o.key)

    def add(self, obj: DbObject) -> None:
        """Add an object; a duplicate key is a bug in introspection."""
        if obj.key in self.objects:
            raise ValueError(f"duplicate catalog key {obj.key!r}")
        self.objects[obj.key] = obj

    def content_hash(self) -> str:
        """A hash of the modelled content (kinds, keys, attrs), independent of object order."""
        doc = sorted([o.key, o.kind, dict(o.attrs), o.parent] for o in self.objects.values())
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
