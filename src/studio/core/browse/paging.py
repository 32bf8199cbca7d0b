"""Keyset paging in both directions, never OFFSET.

A page is read from a `Position` - a point between two rows in the query's order - forwards or
backwards, `limit` rows plus one: the extra row only says whether more exists (no `COUNT(*)`).

A position names the key of the row next to it and how many rows *with that key* lie on one side of it.
With a unique key (primary key, row location) that count is 0 ("just before the row") or 1 ("just after
it"), and the conditions are plain keyset comparisons the server can answer from an index:
`(id) > ($1::bigint) order by id limit 101`. A whole-row key (views) may repeat: identical rows are told
apart only by counting them, so reading continues from `key >= K` skipping the rows of K already seen, or
repeats K's row the counted number of times before `key > K`. Either way the work per page is bounded by
the page and the number of identical rows, never by how far into the relation the page is.

Reading forwards from `START` gives the first page; backwards from `END` the last one ("jump to end").
Pages always hold their rows in the query's (forward) order, with the positions before their first row
and after their last one, so a page dropped from memory can be read again from its `start`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from studio.core.browse.query import PARAM, BrowseQuery, Selection
from studio.core.browse.relations import KeyPart
from studio.core.browse.view_as import ViewAs

__all__ = ["Fetch", "Page", "PageRequest", "Position", "keyset_condition", "page_sql", "read_page"]

Key = tuple[str | None, ...]
RowData = tuple[Any, ...]
#: Runs one query: (sql with `PARAM` marks, the parameters, settings) -> rows.
Fetch = Callable[[str, Sequence[Any], Mapping[str, str]], Awaitable[list[RowData]]]


@dataclass(frozen=True)
class Position:
    """A point between two rows: next to the rows whose key is `key`.

    `count` rows with that key lie before the point (`from_start`) or after it (not `from_start`), in
    the query's forward order. `row` is a row with that key, repeated when identical rows are counted.
    """

    key: Key
    count: int
    from_start: bool
    row: RowData | None = None


@dataclass(frozen=True)
class PageRequest:
    """What to read: `limit` rows of `query` as `view_as`, from `start` (None: the relation's edge).

    Forwards from None is the first page; `backward` from None is the last one. `stop` bounds a forward read
    of a unique key (see the field).
    """

    query: BrowseQuery
    view_as: ViewAs
    start: Position | None
    backward: bool = False
    limit: int = 200
    selection: Selection = Selection.DISPLAY
    #: Read no further than this point (forwards, unique keys only): a page read again stays within its
    #: old bounds even when rows inside them were deleted meanwhile.
    stop: Position | None = None


@dataclass(frozen=True)
class Page:
    """Rows in the query's order, with the positions around them.

    `start` is the point before the first row (None: the start of the relation is known to be there),
    `end` the point after the last row (None: the end). `more` says whether rows exist beyond the page in
    the direction it was read.
    """

    rows: list[RowData]
    start: Position | None
    end: Position | None
    more: bool
    backward: bool

    @property
    def more_before(self) -> bool:
        """Whether rows exist before the first one (only known for a page read backwards)."""
        return self.more if self.backward else self.start is not None

    @property
    def more_after(self) -> bool:
        """Whether rows exist after the last one (only known for a page read forwards)."""
        return self.end is not None if self.backward else self.more


# -- the SQL ------------------------------------------------------------------------------------------


def _cast(part: KeyPart) -> str:
    return f"({PARAM})::{part.type_name}"


def keyset_condition(
    parts: Sequence[KeyPart], values: Key, *, toward_high: bool, inclusive: bool, alias: str
) -> tuple[str, list[Any]]:
    """Rows whose key comes after `values` when reading toward higher (or lower) keys.

    NULL counts as higher than every value (PostgreSQL's order). `inclusive` also takes rows equal to
    `values`. Non-null parts become one row comparison, which an index on them can answer.
    """
    if not parts:
        return ("true" if inclusive else "false"), []
    first, value = parts[0], values[0]
    if not any(part.nullable for part in parts) and all(v is not None for v in values):
        op = (">" if toward_high else "<") + ("=" if inclusive else "")
        if len(parts) == 1:
            return f"{first.expression(alias)} {op} {_cast(first)}", [value]
        left = ", ".join(part.expression(alias) for part in parts)
        right = ", ".join(_cast(part) for part in parts)
        return f"({left}) {op} ({right})", list(values)
    rest, rest_params = keyset_condition(parts[1:], values[1:], toward_high=toward_high, inclusive=inclusive,
                                         alias=alias)
    column = first.expression(alias)
    if value is None:
        if toward_high:
            # Nothing is higher than NULL: only the other NULLs, ordered by the rest of the key.
            return f"({column} is null and {rest})", rest_params
        return f"({column} is not null or {rest})", rest_params
    step = ">" if toward_high else "<"
    nulls_beyond = f" or {column} is null" if toward_high and first.nullable else ""
    return (
        f"({column} {step} {_cast(first)}{nulls_beyond} or ({column} = {_cast(first)} and {rest}))",
        [value, value, *rest_params],
    )


def page_sql(
    query: BrowseQuery,
    *,
    after: Key | None,
    toward_high: bool,
    inclusive: bool,
    limit: int,
    selection: Selection,
    until: Key | None = None,
    until_inclusive: bool = True,
) -> tuple[str, list[Any]]:
    """The query for one page: the filters, the keyset condition (when `after` is given), the bound (when
    `until` is given: no row beyond that key, nor with it unless `until_inclusive`), order, limit.

    Parameters are marked with `PARAM` (see `studio.core.browse.query.bind` and `inline`).
    """
    conditions, params = query.where()
    if after is not None:
        condition, values = keyset_condition(query.key_parts, after, toward_high=toward_high, inclusive=inclusive,
                                             alias=query.row_alias)
        conditions.append(condition)
        params.extend(values)
    if until is not None:
        condition, values = keyset_condition(query.key_parts, until, toward_high=not toward_high,
                                             inclusive=until_inclusive, alias=query.row_alias)
        conditions.append(condition)
        params.extend(values)
    source = f"{query.relation.qualified_name} as {query.row_alias}"
    sql = f"select {query.select_list(selection)}\nfrom {source}"
    if conditions:
        sql += "\nwhere " + "\n  and ".join(conditions)
    sql += f"\norder by {query.order_by(toward_high)}\nlimit {PARAM}"
    params.append(limit)
    return sql, params


# -- reading ------------------------------------------------------------------------------------------


async def read_page(fetch: Fetch, request: PageRequest) -> Page:
    """Read one page (see the module's notes); `fetch` runs a query and returns its rows."""
    query, start, backward = request.query, request.start, request.backward
    toward_high = query.descending == backward
    selection = request.selection
    key_of = query.key_of
    want = request.limit + 1
    rows: list[RowData] = []
    after: Key | None = None
    inclusive = False
    skip = 0
    if start is not None:
        after = start.key
        behind = start.from_start != backward  # the counted rows lie behind us
        if query.unique_key:
            inclusive = start.count == 0 if behind else start.count >= 1
        elif behind:
            inclusive, skip = True, start.count
        else:
            # The counted identical rows lie ahead: they are the position's own row, repeated.
            if start.row is not None:
                rows = [start.row] * min(start.count, want)
            inclusive = False
    until: Key | None = None
    until_inclusive = True
    stop = request.stop
    if stop is not None and query.unique_key and not backward:
        # The stop's own row lies before the point when it is counted from the start, or when none is
        # counted after it.
        until, until_inclusive = stop.key, (stop.count >= 1) if stop.from_start else (stop.count == 0)
    need = want - len(rows)
    if need > 0:
        sql, params = page_sql(query, after=after, toward_high=toward_high, inclusive=inclusive,
                               limit=need + skip, selection=selection, until=until, until_inclusive=until_inclusive)
        fetched = await fetch(sql, params, request.view_as.settings())
        if skip and start is not None:
            dropped = 0
            while dropped < skip and dropped < len(fetched) and key_of(fetched[dropped], selection) == start.key:
                dropped += 1
            fetched = fetched[dropped:]
        rows.extend(fetched[:need])
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    reached = _position_after(query, selection, start, rows, backward)
    if backward:
        rows.reverse()
        return Page(rows=rows, start=reached if more else None, end=start, more=more, backward=True)
    return Page(rows=rows, start=start, end=reached if more else None, more=more, backward=False)


def _position_after(
    query: BrowseQuery, selection: Selection, start: Position | None, rows: list[RowData], backward: bool
) -> Position | None:
    """The point just past the last of `rows` (in reading order)."""
    if not rows:
        return start
    key_of = query.key_of
    if start is not None and all(key_of(row, selection) == start.key for row in rows):
        behind = start.from_start != backward
        count = start.count + len(rows) if behind else start.count - len(rows)
        return Position(start.key, count, start.from_start, start.row or rows[-1])
    last_key = key_of(rows[-1], selection)
    trailing = 0
    for row in reversed(rows):
        if key_of(row, selection) != last_key:
            break
        trailing += 1
    return Position(last_key, trailing, not backward, rows[-1])
