"""The table browser's core: relations with estimates, keyset pages, filters, "view as", staged edits
and export - no Qt here.

`BrowseSource` (in `source`) is the one interface the app reads and writes through; `TargetSource`
implements it on a live database, and the offline cache will wrap it.
"""

from studio.core.browse.changes import Change, CommitFailed, StagedChanges
from studio.core.browse.export import ExportFormat, export_rows
from studio.core.browse.paging import Page, PageRequest, Position, read_page
from studio.core.browse.query import PREVIEW_CHARS, BrowseQuery, Filter, FilterOp, Selection, Sort
from studio.core.browse.relations import Column, KeyKind, Relation, RelationKind, RelationSummary
from studio.core.browse.source import AuthUser, BrowseSource, TargetSource
from studio.core.browse.view_as import BrowseRole, ViewAs

__all__ = [
    "PREVIEW_CHARS",
    "AuthUser",
    "BrowseQuery",
    "BrowseRole",
    "BrowseSource",
    "Change",
    "Column",
    "CommitFailed",
    "ExportFormat",
    "Filter",
    "FilterOp",
    "KeyKind",
    "Page",
    "PageRequest",
    "Position",
    "Relation",
    "RelationKind",
    "RelationSummary",
    "Selection",
    "Sort",
    "StagedChanges",
    "TargetSource",
    "ViewAs",
    "export_rows",
    "read_page",
]
