"""What the table browser shows: the tables and views of a database, and the columns of one of them.

Two light queries instead of a full introspection: `LIST_SQL` names every table and view with a row
estimate (`reltuples`, or the statistics collector's live-row count for a table never analysed), and
`DESCRIBE_SQL` reads one relation's columns, their types, the primary key and which columns can be sorted.

Both run with `search_path` set to `pg_catalog`, so every type name `format_type` gives is schema-qualified
where it needs to be and can be used in casts (`'42'::public."My Domain"`) whatever the browsing role's own
`search_path` is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from studio.core.sqltext import qualified, quote_ident

__all__ = [
    "CATALOG_SETTINGS",
    "DESCRIBE_SQL",
    "LIST_SQL",
    "Column",
    "KeyKind",
    "KeyPart",
    "Relation",
    "RelationKind",
    "RelationSummary",
    "RowIdentity",
    "relation_from_rows",
    "summary_from_row",
]

#: Settings for the catalogue queries: fully qualified type names (see the module's notes).
CATALOG_SETTINGS = {"search_path": "pg_catalog"}


class RelationKind(StrEnum):
    """What sort of relation it is (`pg_class.relkind`)."""

    TABLE = "r"
    PARTITIONED_TABLE = "p"
    VIEW = "v"
    MATERIALIZED_VIEW = "m"
    FOREIGN_TABLE = "f"

    @property
    def label(self) -> str:
        """The kind in words, for people."""
        return {
            "r": "table",
            "p": "partitioned table",
            "v": "view",
            "m": "materialized view",
            "f": "foreign table",
        }[self.value]


@dataclass(frozen=True)
class RelationSummary:
    """One line of the relation list: where it is, what it is and about how many rows it has.

    `estimate` is None for views (they hold no rows of their own) and for tables whose size is unknown.
    """

    schema: str
    name: str
    kind: RelationKind
    estimate: int | None
    has_primary_key: bool
    rls_enabled: bool
    comment: str = ""

    @property
    def qualified_name(self) -> str:
        """`schema.name`, quoted where PostgreSQL needs it."""
        return qualified(self.schema, self.name)

    @property
    def display_name(self) -> str:
        """`schema.name` as people write it (no quoting)."""
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Column:
    """One column of a relation, as the browser needs it.

    `type_name` is `format_type` of the column's type, usable in a cast. `has_default` is true for a column
    with a default or an identity. `category` is the base type's `typcategory` ('S' string, 'N' numeric,
    'B' boolean, 'D' date/time, 'A' array, 'E' enum, 'U' user-defined incl. json...). `variable_length` is
    true for types whose text can be arbitrarily long (the browser trims those to a preview). `sortable`
    says whether the type has a default ordering (json, xml and geometric types have none).
    `primary_key_position` is the column's place in the primary key (0-based), or None.
    """

    name: str
    type_name: str
    position: int
    nullable: bool
    has_default: bool
    generated: bool
    identity_always: bool
    category: str
    variable_length: bool
    sortable: bool
    is_json: bool
    is_uuid: bool
    primary_key_position: int | None = None

    @property
    def quoted(self) -> str:
        """The column's name quoted for SQL."""
        return quote_ident(self.name)

    @property
    def editable(self) -> bool:
        """Whether a value can be written to it (generated and `identity always` columns cannot)."""
        return not self.generated and not self.identity_always

    @property
    def text_like(self) -> bool:
        """Whether quick search looks in it: strings (text, varchar, char, citext, enums) and uuids."""
        return self.category in ("S", "E") or self.is_uuid

    @property
    def numeric(self) -> bool:
        """Whether values are numbers (shown right-aligned)."""
        return self.category == "N"


class KeyKind(StrEnum):
    """How the browser tells the rows of a relation apart and pages through them."""

    PRIMARY_KEY = "primary key"
    ROW_LOCATION = "row location"  # ctid (plus tableoid for partitioned tables): tables without a key
    WHOLE_ROW = "whole row"  # views and foreign tables: every column, duplicates counted


@dataclass(frozen=True)
class KeyPart:
    """One expression of a row key: a column (or `ctid`/`tableoid`), read as text when it has no order
    of its own, and the type its values are cast back to."""

    name: str
    type_name: str
    nullable: bool
    as_text: bool = False

    def expression(self, alias: str) -> str:
        """The SQL of this part on the relation aliased `alias`.

        Always qualified: in ORDER BY a bare name would mean the select list's output column of that name
        (the column's text) instead of the column itself.
        """
        column = f"{alias}.{self.name}"
        return f"({column})::text" if self.as_text else column


@dataclass(frozen=True)
class RowIdentity:
    """The ordered, unique-or-counted key rows are paged on (see `studio.core.browse.paging`).

    `unique` is true when no two rows share a key (primary key, row location). A whole-row key is not
    unique: fully identical rows are told apart by counting them.
    """

    kind: KeyKind
    parts: tuple[KeyPart, ...]

    @property
    def unique(self) -> bool:
        """Whether every row has its own key."""
        return self.kind is not KeyKind.WHOLE_ROW


@dataclass(frozen=True)
class Relation:
    """A table or view opened in the browser: its summary, columns and how its rows are identified."""

    summary: RelationSummary
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({column.name: column for column in self.columns})

    @property
    def schema(self) -> str:
        """The relation's schema."""
        return self.summary.schema

    @property
    def name(self) -> str:
        """The relation's own name."""
        return self.summary.name

    @property
    def kind(self) -> RelationKind:
        """Table, view, ..."""
        return self.summary.kind

    @property
    def qualified_name(self) -> str:
        """`schema.name`, quoted where PostgreSQL needs it."""
        return self.summary.qualified_name

    @property
    def display_name(self) -> str:
        """`schema.name` as people write it."""
        return self.summary.display_name

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError if there is none)."""
        return self._by_name[name]

    def index_of(self, name: str) -> int:
        """Position of column `name` in `columns`."""
        return self.columns.index(self._by_name[name])

    @property
    def row_alias(self) -> str:
        """An alias for the relation in queries that no column is named (`row_to_json(alias)` means the
        whole row only if no column has that name)."""
        alias = "studio_row"
        while alias in self._by_name:
            alias += "_"
        return alias

    @cached_property
    def primary_key_columns(self) -> tuple[Column, ...]:
        """The primary key's columns, in key order."""
        return tuple(self._by_name[name] for name in self.primary_key)

    @property
    def read_only_reason(self) -> str | None:
        """Why rows cannot be edited here, in words for people; None when they can."""
        kind = self.kind
        if kind is RelationKind.VIEW:
            return ("This is a view: its rows are computed by a query, so they are shown read-only. Edit the"
                    " tables it reads from instead.")
        if kind is RelationKind.MATERIALIZED_VIEW:
            return ("This is a materialized view: it stores the result of a query, so its rows are read-only."
                    " Refresh it to bring it up to date.")
        if kind is RelationKind.FOREIGN_TABLE:
            return "This is a foreign table: its rows live in another server, so they are shown read-only."
        if not self.primary_key:
            return ("This table has no primary key, so Studio cannot tell its rows apart safely and shows them"
                    " read-only. Add a primary key to edit rows here.")
        return None

    @property
    def editable(self) -> bool:
        """Whether rows can be edited, inserted and deleted."""
        return self.read_only_reason is None

    @cached_property
    def identity(self) -> RowIdentity:
        """How rows are keyed: the primary key, else the row's location, else the whole row."""
        if self.primary_key:
            return RowIdentity(
                KeyKind.PRIMARY_KEY,
                tuple(KeyPart(c.quoted, c.type_name, False) for c in self.primary_key_columns),
            )
        if self.kind in (RelationKind.TABLE, RelationKind.MATERIALIZED_VIEW):
            return RowIdentity(KeyKind.ROW_LOCATION, (KeyPart("ctid", "tid", False),))
        if self.kind is RelationKind.PARTITIONED_TABLE:
            # ctid is only unique within one partition.
            return RowIdentity(
                KeyKind.ROW_LOCATION, (KeyPart("tableoid", "oid", False), KeyPart("ctid", "tid", False))
            )
        parts = []
        for column in self.columns:
            if column.sortable:
                parts.append(KeyPart(column.quoted, column.type_name, column.nullable))
            else:
                # No ordering of its own (json, xml, point...): ordered by its text.
                parts.append(KeyPart(column.quoted, "text", column.nullable, as_text=True))
        return RowIdentity(KeyKind.WHOLE_ROW, tuple(parts))


# -- the catalogue queries ---------------------------------------------------------------------------

LIST_SQL = """
select n.nspname, c.relname, c.relkind::text,
       case
           when c.relkind = 'p' then (
               select coalesce(sum(greatest(leaf.reltuples, 0)), 0)::bigint
               from pg_partition_tree(c.oid) tree join pg_class leaf on leaf.oid = tree.relid
               where tree.isleaf)
           when c.relkind in ('r', 'm', 'f') and c.reltuples >= 0 then c.reltuples::bigint
           when c.relkind in ('r', 'm') then stat.n_live_tup
       end as estimate,
       exists (select from pg_index i where i.indrelid = c.oid and i.indisprimary) as has_pk,
       c.relrowsecurity,
       coalesce(obj_description(c.oid, 'pg_class'), '')
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_stat_all_tables stat on stat.relid = c.oid
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and not c.relispartition
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname !~ '^pg_(toast|temp_)'
order by n.nspname <> 'public', n.nspname, c.relname
"""

# Sortable: the (base) type has a default btree operator class, directly, through a binary-coercible
# cast (varchar uses text's) or through the polymorphic classes of arrays (if their element is sortable),
# enums, ranges and composites.
DESCRIBE_SQL = """
with rel as (
    select c.oid, n.nspname, c.relname, c.relkind::text as relkind, c.relrowsecurity,
           case
               when c.relkind = 'p' then (
                   select coalesce(sum(greatest(leaf.reltuples, 0)), 0)::bigint
                   from pg_partition_tree(c.oid) tree join pg_class leaf on leaf.oid = tree.relid
                   where tree.isleaf)
               when c.relkind in ('r', 'm', 'f') and c.reltuples >= 0 then c.reltuples::bigint
               when c.relkind in ('r', 'm') then (select s.n_live_tup from pg_stat_all_tables s where s.relid = c.oid)
           end as estimate,
           coalesce(obj_description(c.oid, 'pg_class'), '') as comment,
           (select i.indkey::int2[] from pg_index i where i.indrelid = c.oid and i.indisprimary) as pk
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = %s and c.relname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f')
),
btree_types as (
    select oc.opcintype as typ
    from pg_opclass oc join pg_am am on am.oid = oc.opcmethod
    where am.amname = 'btree' and oc.opcdefault
),
sortable_types as (
    select typ from btree_types
    union
    select cast_.castsource from pg_cast cast_
    where cast_.castmethod = 'b' and cast_.casttarget in (select typ from btree_types)
)
select rel.nspname, rel.relname, rel.relkind, rel.estimate, rel.pk is not null, rel.relrowsecurity, rel.comment,
       a.attname, format_type(a.atttypid, a.atttypmod), a.attnum::int, not a.attnotnull,
       a.atthasdef or a.attidentity <> '',
       a.attgenerated <> '', a.attidentity = 'a', base.typcategory::text, base.typlen < 0,
       (base.oid in (select typ from sortable_types)
        or (base.typcategory = 'A' and base.typelem in (select typ from sortable_types))
        or base.typtype in ('e', 'r', 'm', 'c')),
       base.oid in ('json'::regtype, 'jsonb'::regtype),
       base.oid = 'uuid'::regtype,
       array_position(rel.pk, a.attnum) - 1
from rel
left join pg_attribute a on a.attrelid = rel.oid and a.attnum > 0 and not a.attisdropped
left join pg_type t on t.oid = a.atttypid
left join pg_type base on base.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
order by a.attnum
"""


def summary_from_row(row: tuple[Any, ...]) -> RelationSummary:
    """A `RelationSummary` from the first seven columns of a `LIST_SQL` or `DESCRIBE_SQL` row."""
    schema, name, kind, estimate, has_pk, rls, comment = row[:7]
    return RelationSummary(
        schema=str(schema),
        name=str(name),
        kind=RelationKind(str(kind)),
        estimate=None if estimate is None else int(estimate),
        has_primary_key=bool(has_pk),
        rls_enabled=bool(rls),
        comment=str(comment or ""),
    )


def relation_from_rows(rows: list[tuple[Any, ...]]) -> Relation | None:
    """The `Relation` described by the rows of `DESCRIBE_SQL` (None when it matched nothing)."""
    if not rows:
        return None
    summary = summary_from_row(rows[0])
    columns: list[Column] = []
    keyed: list[tuple[int, str]] = []
    for row in rows:
        if row[7] is None:  # a relation without columns (possible for a view or table)
            continue
        (name, type_name, position, nullable, has_default, generated, identity_always, category,
         variable_length, sortable, is_json, is_uuid, pk_position) = row[7:20]
        column = Column(
            name=str(name),
            type_name=str(type_name),
            position=int(position),
            nullable=bool(nullable),
            has_default=bool(has_default),
            generated=bool(generated),
            identity_always=bool(identity_always),
            category=str(category),
            variable_length=bool(variable_length),
            sortable=bool(sortable),
            is_json=bool(is_json),
            is_uuid=bool(is_uuid),
            primary_key_position=None if pk_position is None else int(pk_position),
        )
        columns.append(column)
        if column.primary_key_position is not None:
            keyed.append((column.primary_key_position, column.name))
    primary_key = tuple(name for _, name in sorted(keyed))
    return Relation(summary=summary, columns=tuple(columns), primary_key=primary_key)
