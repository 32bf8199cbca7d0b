"""What the user asked to see of a relation (sort, filters, quick search) and the SQL that reads one page.

Every value reaches the server as a parameter, cast to the column's own type on the server
(`$1::integer`), so the user types values as text exactly as PostgreSQL writes them. Names are quoted by
`studio.core.sqltext`. While SQL is built, each parameter is marked with `PARAM`; `bind` turns that into
psycopg's form (doubling every other `%`: a quoted name may contain one), and `inline` writes the values
in as quoted constants for the one case parameters cannot travel (a cloud query that also needs settings).

Cells are read as text (`col::text`), which is what the grid shows and what an edit writes back: one
representation, no client-side conversions to get wrong.

Ordering is always total: the sort column (if any) followed by the relation's row key (primary key,
row location, or the whole row - see `Relation.identity`), every part in the same direction. Ascending
order puts NULLs last and descending order puts them first, which is PostgreSQL's default and so can use
an ordinary index read backwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from studio.core.browse.relations import Column, KeyPart, Relation
from studio.core.errors import StudioError
from studio.core.sqltext import quote_literal, quote_text_array

__all__ = [
    "PARAM",
    "PREVIEW_CHARS",
    "BrowseQuery",
    "Filter",
    "FilterOp",
    "Selection",
    "Sort",
    "bind",
    "inline",
    "like_pattern",
]

#: Marks a parameter in SQL being built. NUL cannot occur in a name (`quote_ident` refuses it) nor in any
#: other text we put into SQL, so the mark is never mistaken for part of the statement.
PARAM = "\x00"

#: Cells of variable-length types are read up to this many characters (plus one, to know one was cut);
#: the side editor reads the whole value when it is opened.
PREVIEW_CHARS = 2000


class FilterOp(StrEnum):
    """The comparisons the filter builder offers."""

    EQUALS = "="
    NOT_EQUALS = "≠"
    LESS = "<"
    LESS_OR_EQUAL = "≤"
    GREATER = ">"
    GREATER_OR_EQUAL = "≥"
    CONTAINS = "contains"
    NOT_CONTAINS = "does not contain"
    STARTS_WITH = "starts with"
    ENDS_WITH = "ends with"
    ONE_OF = "is one of"
    IS_NULL = "is null"
    IS_NOT_NULL = "is not null"

    @property
    def takes_value(self) -> bool:
        """Whether the operator needs a value (is null / is not null do not)."""
        return self not in (FilterOp.IS_NULL, FilterOp.IS_NOT_NULL)


_COMPARISONS = {
    FilterOp.EQUALS: "=",
    FilterOp.NOT_EQUALS: "<>",
    FilterOp.LESS: "<",
    FilterOp.LESS_OR_EQUAL: "<=",
    FilterOp.GREATER: ">",
    FilterOp.GREATER_OR_EQUAL: ">=",
}


@dataclass(frozen=True)
class Sort:
    """Sort by `column`, ascending unless `descending`."""

    column: str
    descending: bool = False


@dataclass(frozen=True)
class Filter:
    """One condition of the filter builder: column, operator and (for most operators) a value as text.

    For `ONE_OF` the value is a comma-separated list.
    """

    column: str
    op: FilterOp
    value: str = ""

    @property
    def description(self) -> str:
        """The condition as people read it: `age ≥ 18`, `email contains "@"`, `deleted_at is null`."""
        if not self.op.takes_value:
            return f"{self.column} {self.op.value}"
        return f"{self.column} {self.op.value} {self.value!r}"


def bind(sql: str, params: list[Any]) -> tuple[str, list[Any]]:
    """SQL built with `PARAM` marks, in the form psycopg takes with parameters: `%` doubled, marks as `%s`."""
    return sql.replace("%", "%%").replace(PARAM, "%s"), list(params)


def inline(sql: str, params: list[Any]) -> str:
    """SQL built with `PARAM` marks, with the values written in as constants (text quoted, lists as text[])."""
    pieces = sql.split(PARAM)
    if len(pieces) != len(params) + 1:
        raise ValueError(f"{len(pieces) - 1} parameter marks for {len(params)} values")
    out = [pieces[0]]
    for value, rest in zip(params, pieces[1:], strict=True):
        out.append(_constant(value))
        out.append(rest)
    return "".join(out)


def _constant(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return quote_text_array([str(item) for item in value])
    return quote_literal(str(value))


def like_pattern(text: str, *, prefix: bool = True, suffix: bool = True) -> str:
    """An ILIKE pattern matching `text` literally (its %, _ and backslashes escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("%" if prefix else "") + escaped + ("%" if suffix else "")


class Selection(StrEnum):
    """What a page query reads of each row."""

    DISPLAY = "display"  # every column as text, long ones cut to a preview
    FULL_TEXT = "full text"  # every column as text, whole (CSV export)
    JSON = "json"  # one JSON object per row, with JSON types (JSON export)


@dataclass(frozen=True)
class BrowseQuery:
    """A relation with the user's sort, filters and quick search.

    Rows are read as tuples: one cell per selected value (every column for `DISPLAY` and `FULL_TEXT`, one
    JSON text for `JSON`), then one text per key part (`key_parts`): the values paging continues from.
    """

    relation: Relation
    sort: Sort | None = None
    filters: tuple[Filter, ...] = ()
    search: str = ""
    _key: tuple[KeyPart, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        for item in self.filters:
            self._check_filter(item)
        parts = list(self.relation.identity.parts)
        if self.sort is not None:
            column = self._known(self.sort.column)
            if not column.sortable:
                raise StudioError(
                    f"The column {column.name} cannot be sorted: values of type {column.type_name} have no order.",
                    hint="Sort by another column, or filter on this one instead.",
                )
            sort_part = KeyPart(column.quoted, column.type_name, column.nullable)
            # Sorting on a single-column key needs no tiebreak: the key is the sort column.
            if parts != [KeyPart(column.quoted, column.type_name, False)]:
                parts = [sort_part, *parts]
        object.__setattr__(self, "_key", tuple(parts))

    # -- shape --------------------------------------------------------------------------------------

    @property
    def key_parts(self) -> tuple[KeyPart, ...]:
        """The ordering key: the sort column (if any) then the relation's row key."""
        return self._key

    @property
    def unique_key(self) -> bool:
        """Whether no two rows share a key (primary key or row location)."""
        return self.relation.identity.unique

    @property
    def descending(self) -> bool:
        """Whether the user's order is descending."""
        return self.sort is not None and self.sort.descending

    @property
    def narrowed(self) -> bool:
        """Whether filters or a search hide some rows (so the relation's estimate does not apply)."""
        return bool(self.filters) or bool(self.search.strip())

    def cell_count(self, selection: Selection) -> int:
        """How many cells come before the key texts in a row read with `selection`."""
        return 1 if selection is Selection.JSON else len(self.relation.columns)

    def identity_of(self, row: tuple[Any, ...]) -> tuple[str | None, ...]:
        """The row's own key (primary key or location values as text, in key order), without the sort column."""
        return tuple(row[len(row) - len(self.relation.identity.parts):])

    def key_of(self, row: tuple[Any, ...], selection: Selection = Selection.DISPLAY) -> tuple[str | None, ...]:
        """The row's ordering key (texts), as read by a page query with `selection`."""
        return tuple(row[self.cell_count(selection):])

    # -- SQL ----------------------------------------------------------------------------------------

    def select_list(self, selection: Selection) -> str:
        """The select list: the cells for `selection`, then the key parts as text."""
        if selection is Selection.JSON:
            cells = [f"row_to_json({self.row_alias})::text"]
        else:
            cells = []
            for column in self.relation.columns:
                if selection is Selection.DISPLAY and column.variable_length:
                    cells.append(f"left(({column.quoted})::text, {PREVIEW_CHARS + 1})")
                else:
                    cells.append(f"({column.quoted})::text")
        keys = [f"({part.expression(self.row_alias)})::text" for part in self.key_parts]
        return ", ".join(cells + keys)

    @property
    def row_alias(self) -> str:
        """The alias page queries give the relation (see `Relation.row_alias`)."""
        return self.relation.row_alias

    def where(self) -> tuple[list[str], list[Any]]:
        """The conditions of the filters and the quick search (ANDed by the caller), with their parameters."""
        conditions: list[str] = []
        params: list[Any] = []
        for item in self.filters:
            sql, values = self._filter_sql(item)
            conditions.append(sql)
            params.extend(values)
        term = self.search.strip()
        if term:
            columns = [c for c in self.relation.columns if c.text_like] or list(self.relation.columns)
            pattern = like_pattern(term)
            matches = []
            for column in columns:
                target = column.quoted if column.category == "S" else f"({column.quoted})::text"
                matches.append(f"{target} ilike {PARAM}")
                params.append(pattern)
            conditions.append("(" + " or ".join(matches) + ")")
        return conditions, params

    def order_by(self, toward_high: bool) -> str:
        """ORDER BY over the key, ascending when reading toward higher keys (NULLs count as highest)."""
        direction = "asc" if toward_high else "desc"
        return ", ".join(f"{part.expression(self.row_alias)} {direction}" for part in self.key_parts)

    def _known(self, name: str) -> Column:
        try:
            return self.relation.column(name)
        except KeyError:
            raise StudioError(
                f"{self.relation.display_name} has no column {name!r}.",
                hint="The table may have changed since it was opened: reload it (F5).",
            ) from None

    def _check_filter(self, item: Filter) -> None:
        column = self._known(item.column)
        if item.op in (FilterOp.LESS, FilterOp.LESS_OR_EQUAL, FilterOp.GREATER, FilterOp.GREATER_OR_EQUAL) and (
            not column.sortable
        ):
            raise StudioError(
                f"Values of {column.name} ({column.type_name}) cannot be compared with {item.op.value}.",
                hint="Use = or contains for this column.",
            )
        if item.op is FilterOp.ONE_OF and column.category == "A":
            raise StudioError(f"'is one of' does not work on the array column {column.name}.",
                              hint="Use = with a whole array value such as {1,2,3}.")

    def _filter_sql(self, item: Filter) -> tuple[str, list[Any]]:
        column = self.relation.column(item.column)
        name, cast = column.quoted, column.type_name
        op = item.op
        if op is FilterOp.IS_NULL:
            return f"{name} is null", []
        if op is FilterOp.IS_NOT_NULL:
            return f"{name} is not null", []
        if op in _COMPARISONS:
            if column.is_json and op in (FilterOp.EQUALS, FilterOp.NOT_EQUALS):
                # json has no equality: compare as jsonb, which ignores spacing and key order.
                return f"({name})::jsonb {_COMPARISONS[op]} ({PARAM})::jsonb", [item.value]
            return f"{name} {_COMPARISONS[op]} ({PARAM})::{cast}", [item.value]
        if op is FilterOp.ONE_OF:
            values = [part.strip() for part in item.value.split(",")]
            return f"{name} = any(({PARAM})::{cast}[])", [values]
        text = column.quoted if column.category == "S" else f"({column.quoted})::text"
        if op is FilterOp.CONTAINS:
            return f"{text} ilike {PARAM}", [like_pattern(item.value)]
        if op is FilterOp.NOT_CONTAINS:
            return f"({text} not ilike {PARAM} or {name} is null)", [like_pattern(item.value)]
        if op is FilterOp.STARTS_WITH:
            return f"{text} ilike {PARAM}", [like_pattern(item.value, prefix=False)]
        if op is FilterOp.ENDS_WITH:
            return f"{text} ilike {PARAM}", [like_pattern(item.value, suffix=False)]
        raise StudioError(f"Unknown filter operator {op!r}.")  # pragma: no cover - the enum is exhaustive
