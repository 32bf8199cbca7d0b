"""Export what the browser shows (a relation with its sort, filters and search) to CSV or JSON.

Rows are streamed page by page with the same keyset paging as the grid, so memory stays flat whatever
the table's size and the database never holds a long transaction open. Each page is written out before
the next one is read; `progress(rows_written, expected)` is called after every page (`expected` is the
relation's row estimate when nothing narrows the view, else None).

CSV is written as PostgreSQL's COPY writes it: a header line, NULL as an empty field and the empty
string as `""`, so the two stay apart. JSON is an array of objects with the columns' JSON types (numbers,
booleans, nested JSON), as `row_to_json` gives them.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TextIO

from studio.core.browse.paging import PageRequest
from studio.core.browse.query import BrowseQuery, Selection
from studio.core.browse.source import BrowseSource
from studio.core.browse.view_as import ViewAs

__all__ = ["EXPORT_PAGE_ROWS", "ExportFormat", "csv_field", "export_rows"]

#: Rows read per query while exporting.
EXPORT_PAGE_ROWS = 5000

Progress = Callable[[int, int | None], None]


class ExportFormat(StrEnum):
    """The file formats export writes."""

    CSV = "csv"
    JSON = "json"


def csv_field(value: str | None) -> str:
    """One CSV field: NULL is empty, the empty string is `""`, and fields with separators are quoted."""
    if value is None:
        return ""
    if value == "" or any(ch in value for ch in ',"\n\r') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


async def export_rows(
    source: BrowseSource,
    query: BrowseQuery,
    view_as: ViewAs,
    out: TextIO,
    fmt: ExportFormat,
    progress: Progress | None = None,
    *,
    page_rows: int = EXPORT_PAGE_ROWS,
) -> int:
    """Write every row of `query` as seen by `view_as` to `out`; returns the number of rows written."""
    selection = Selection.JSON if fmt is ExportFormat.JSON else Selection.FULL_TEXT
    cells = query.cell_count(selection)
    expected = None if query.narrowed else query.relation.summary.estimate
    if fmt is ExportFormat.CSV:
        out.write(",".join(csv_field(column.name) for column in query.relation.columns) + "\r\n")
    else:
        out.write("[")
    written = 0
    start = None
    while True:
        page = await source.read_page(
            PageRequest(query, view_as, start, backward=False, limit=page_rows, selection=selection)
        )
        if fmt is ExportFormat.CSV:
            out.write("".join(",".join(csv_field(cell) for cell in row[:cells]) + "\r\n" for row in page.rows))
        elif page.rows:
            separator = "\n" if written == 0 else ",\n"
            out.write(separator + ",\n".join(str(row[0]) for row in page.rows))
        written += len(page.rows)
        if progress is not None:
            progress(written, expected)
        if not page.more_after:
            break
        start = page.end
    if fmt is ExportFormat.JSON:
        out.write("\n]\n" if written else "]\n")
    return written
