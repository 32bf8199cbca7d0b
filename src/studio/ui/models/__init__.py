"""Qt item models of the app's pages (the table browser's lazy, windowed rows model, ...)."""

from studio.ui.models.rows import MAX_PAGE_ROWS, PAGE_ROWS, RESIDENT_ROWS, RowsModel, RowsRole, RowState

__all__ = ["MAX_PAGE_ROWS", "PAGE_ROWS", "RESIDENT_ROWS", "RowState", "RowsModel", "RowsRole"]
