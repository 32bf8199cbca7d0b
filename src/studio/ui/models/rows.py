"""The table browser's grid model: lazy, windowed, keyset-paged, with staged edits shown in colour.

Rows arrive in pages read by `BrowseService` jobs (never on the GUI thread's time). The model keeps every
page's boundaries (`Position`s) and row count, but the rows themselves only for the pages near what the
view shows: a page far away is dropped and read again from its start position when it comes back into
view, so memory stays flat while scrolling through millions of rows. A page read again stays within its old
bounds (its end position), and rows deleted meanwhile leave the grid (never shown as empty stand-ins).

* Scrolling down: `canFetchMore`/`fetchMore` read the page after the last one; a second `fetchMore`
  while one is running is ignored (Qt calls it again on every scroll step).
* "Jump to end": the model is reset to the relation's last page, read backwards; scrolling up then
  reads the pages before it (`fetch_before`), inserted at the top.
* A save keeps the user's place (`after_commit`): below the first page, the model is reset to a window
  that starts at the first row in view - read fresh forwards from it (from the next row when it was
  deleted), then the page before it, as after a jump to the end - and the view is scrolled to it
  (`place_kept`). On the first page the first page is read again, as by `refresh`.
* A reset (new query, role, sort) bumps a generation number; pages of an older generation that arrive
  late are dropped.
* Whether more rows exist is known from one extra row per page, never from COUNT(*).

Staged edits live in a `StagedChanges` (core); the model overlays them: new rows at the top (green),
changed cells (amber) and deleted rows (red, struck through), in the colours of the theme in use when the
cells are painted.

Offline (the service's `OfflineSource`): after a reset the page the cache holds for the same view and role
is shown at once (`showing_cached`), and the page read from the server replaces it. A page the cache served
because the server could not be reached or was slow stays marked (`cached_page` is that `CachedPage`, with
the time its rows were read) until a fresh one replaces it (`page_refreshed` of the service, for a slow
read). Edits waiting in the outbox are shown on their rows: a badge in the row header (pending / conflict /
rejected, `RowsRole.OUTBOX`) and, for pending changes, the queued values in the cells (`RowState.QUEUED`).
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPen, QPixmap

from studio.core.browse import (
    PREVIEW_CHARS,
    BrowseQuery,
    Column,
    Page,
    PageRequest,
    Position,
    Sort,
    StagedChanges,
    ViewAs,
)
from studio.core.errors import StudioError
from studio.core.offline import CachedPage, EditKind, EditState
from studio.services.browse import BrowseService
from studio.services.messages import user_messages
from studio.ui.theme import Colors, colors

__all__ = ["MAX_PAGE_ROWS", "PAGE_ROWS", "RESIDENT_ROWS", "RowState", "RowsModel", "RowsRole", "badge_icon"]

#: Rows read per page at first.
PAGE_ROWS = 500
#: While the view keeps asking for more (scrolling fast), each page doubles up to this many rows.
MAX_PAGE_ROWS = 4000
#: Seconds between the end of one read and the next request that count as "keeps asking".
_STREAK_SECONDS = 0.5
#: Rows kept in memory around the view (the pages beyond keep only their boundaries).
RESIDENT_ROWS = 10_000

AnyIndex = QModelIndex | QPersistentModelIndex
RowData = tuple[Any, ...]


class RowsRole(IntEnum):
    """The model's own data roles."""

    VALUE = Qt.ItemDataRole.UserRole + 1  # the cell's text (str) or None for NULL, as loaded or staged
    IS_NULL = Qt.ItemDataRole.UserRole + 2  # bool
    TRUNCATED = Qt.ItemDataRole.UserRole + 3  # bool: only a preview was loaded
    IDENTITY = Qt.ItemDataRole.UserRole + 4  # the row's key texts, or ("new", n) for a staged new row
    STATE = Qt.ItemDataRole.UserRole + 5  # RowState of the cell
    COLUMN = Qt.ItemDataRole.UserRole + 6  # the `Column` (also from headerData)
    LOADED = Qt.ItemDataRole.UserRole + 7  # bool: False while the row's page is being read again
    OUTBOX = Qt.ItemDataRole.UserRole + 8  # the row's outbox badge: "pending", "conflict", "rejected" or None


class RowState(IntEnum):
    """What is staged on a cell."""

    UNCHANGED = 0
    CHANGED = 1
    ADDED = 2
    REMOVED = 3
    QUEUED = 4  # the value of an edit saved on this computer, not sent yet


#: Badges by priority: a row with a conflict and a pending edit shows the conflict.
_BADGE_ORDER = (EditState.CONFLICT, EditState.REJECTED, EditState.PENDING)
_BADGE_TIPS = {
    EditState.PENDING: "Saved on this computer, not sent yet: it is sent when the connection is back.",
    EditState.CONFLICT: "Conflict: this row changed on the server since you edited it. Open “Offline edits” to"
                        " keep your version, the server's, or a merge.",
    EditState.REJECTED: "Rejected by the server. Open “Offline edits” to read why, then retry or dismiss.",
}


OUTBOX_RELOAD_MS = 200
OUTBOX_CHEAP_MS = 15  # a read of the badges below this is done at every change


@dataclass
class _RowOutbox:
    """The outbox's edits of one shown row."""

    state: EditState
    values: dict[str, str | None] = field(default_factory=dict)  # pending changes' new values
    deleted: bool = False  # a pending deletion
    messages: list[str] = field(default_factory=list)


def badge_icon(state: EditState, palette: Colors, size: int = 12) -> QIcon:
    """The row badge of an outbox state, drawn in the theme's colours: a ring (pending), a filled circle
    with a bar (conflict), a filled circle with a cross (rejected)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    box = QRectF(1.5, 1.5, size - 3.0, size - 3.0)
    if state is EditState.PENDING:
        painter.setPen(QPen(palette.warning, 2.0))
        painter.setBrush(QColor(0, 0, 0, 0))
        painter.drawEllipse(box)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.danger if state is EditState.REJECTED else palette.warning)
        painter.drawEllipse(box)
        painter.setPen(QPen(QColor("#ffffff"), 1.6))
        middle, reach = size / 2.0, size / 4.0
        if state is EditState.REJECTED:
            painter.drawLine(QPointF(middle - reach, middle - reach), QPointF(middle + reach, middle + reach))
            painter.drawLine(QPointF(middle - reach, middle + reach), QPointF(middle + reach, middle - reach))
        else:
            painter.drawLine(QPointF(middle, middle - reach), QPointF(middle, middle + reach * 0.35))
            painter.drawPoint(QPointF(middle, middle + reach))
    painter.end()
    return QIcon(pixmap)


@dataclass(eq=False)
class _Slot:
    """One page in the model: its boundaries and row count always, its rows while resident."""

    start: Position | None
    end: Position | None
    count: int
    rows: list[RowData] | None
    reloading: bool = False


_PLACEHOLDER = "…"
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_EDIT = int(Qt.ItemDataRole.EditRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_HANDLED_ROLES = frozenset({_DISPLAY, _EDIT, _FOREGROUND, _BACKGROUND, _FONT, _ALIGNMENT, _TOOLTIP,
                            *(int(role) for role in RowsRole)})


class RowsModel(QAbstractTableModel):
    """Rows of one `BrowseQuery`, read lazily through a `BrowseService` (see the module's notes).

    Signals:
        loading_changed(bool): True while a page read for this model runs.
        first_page_loaded(int): the first page after a reset arrived, with this many rows.
        rows_prepended(int): this many rows were inserted above the loaded ones (scroll to keep the view still).
        jumped_to_end(): the last page is loaded after `jump_to_end` (scroll the view to the bottom).
        place_kept(): the rows from the place `after_commit` kept are shown, that row first (scroll the view
            to the top; the rows read above it later come with `rows_prepended`).
        staged_changed(): staged edits changed (count, colours, SQL preview).
        cache_state_changed(): rows from the offline cache started or stopped being shown (see
            `showing_cached` and `cached_page`).
        outbox_rows_changed(): the outbox badges of the shown rows were read again.
    """

    loading_changed = Signal(bool)
    first_page_loaded = Signal(int)
    rows_prepended = Signal(int)
    jumped_to_end = Signal()
    place_kept = Signal()
    staged_changed = Signal()
    cache_state_changed = Signal()
    outbox_rows_changed = Signal()

    def __init__(self, service: BrowseService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.query: BrowseQuery | None = None
        self.view_as = ViewAs()
        self.staged: StagedChanges | None = None
        self.page_rows = PAGE_ROWS
        self.max_page_rows = MAX_PAGE_ROWS
        self.resident_rows_limit = RESIDENT_ROWS
        self._streak_rows = PAGE_ROWS
        self._last_read_end = 0.0
        self._slots: list[_Slot] = []
        self._offsets: list[int] = []  # first loaded-row number of each slot
        self._loaded_rows = 0
        self._more_after = False
        self._more_before = False
        self._fetching_after = False
        self._fetching_before = False
        self._first_pending = False
        self._generation = 0
        self._viewport = (0, 0)
        # Brushes of the theme in use, made again when the theme changes (see `_theme_brushes`).
        self._brushes_of: Colors | None = None
        self._null_brush = QBrush()
        self._state_brushes: dict[RowState, QBrush] = {}
        self._null_font = QFont()
        self._null_font.setItalic(True)
        self._removed_font = QFont()
        self._removed_font.setStrikeOut(True)
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(0)
        self._reload_timer.timeout.connect(self._reload_visible)
        # Offline: the first page's request, whether the rows shown are the cache's stand-in until the read
        # ends, the stale page the cache served, and the outbox's edits by row identity.
        self._first_request: PageRequest | None = None
        self._provisional = False
        self.cached_page: CachedPage | None = None
        self._outbox: dict[tuple[str | None, ...], _RowOutbox] = {}
        self._icons_of: Colors | None = None
        self._icons: dict[EditState, QIcon] = {}
        self._queued_brush = QBrush()
        # The badges are read again at most every OUTBOX_RELOAD_MS while the outbox keeps changing (a sync
        # reports every batch; with thousands of edits waiting each read takes tens of milliseconds).
        self._outbox_timer = QTimer(self)
        self._outbox_timer.setSingleShot(True)
        self._outbox_timer.setInterval(OUTBOX_RELOAD_MS)
        self._outbox_timer.timeout.connect(self._outbox_quiet)
        self._outbox_dirty = False
        self._outbox_read_ms = 0.0
        service.outbox_changed.connect(self._outbox_changed)
        service.page_refreshed.connect(self._page_refreshed)

    # -- what is shown -----------------------------------------------------------------------------

    def set_query(self, query: BrowseQuery | None, view_as: ViewAs | None = None, *, keep_staged: bool = True) -> None:
        """Show `query` (None: nothing), as `view_as` (default: unchanged); reads its first page.

        Staged edits of the same relation are kept unless `keep_staged` is False.
        """
        same_relation = (self.query is not None and query is not None
                         and self.query.relation.qualified_name == query.relation.qualified_name)
        self.query = query
        if view_as is not None:
            self.view_as = view_as
        if not (same_relation and keep_staged and self.staged is not None
                and self.staged.relation.columns == (query.relation.columns if query else ())):
            self.staged = StagedChanges(query.relation) if query is not None and query.relation.editable else None
            self.staged_changed.emit()
        self._outbox = self._read_outbox()
        self._reset(backward=False)

    def refresh(self) -> None:
        """Read the first page again (staged edits stay)."""
        self._reset(backward=False)

    def jump_to_end(self) -> None:
        """Show the last rows: reset to the last page, read backwards (no-op when every row is loaded)."""
        if self.query is None or (not self._more_after and not self._first_pending):
            self.jumped_to_end.emit()
            return
        self._reset(backward=True)

    def _reset(self, *, backward: bool, start: Position | None = None) -> None:
        """Drop every row and read the first page again: forwards from the relation's start, backwards from
        its end (`backward`), or forwards from `start` (a place kept after a save, see `after_commit`)."""
        self.service.cancel_pages()
        self._generation += 1
        self.beginResetModel()
        self._slots.clear()
        self._offsets.clear()
        self._loaded_rows = 0
        self._more_after = self._more_before = False
        self._fetching_after = self._fetching_before = False
        # What the view showed belongs to the rows just dropped: until it reports again, it shows the top.
        self._viewport = (0, 0)
        was_cached = self.cached_page is not None or self._provisional
        self.cached_page = None
        self._provisional = False
        self._first_request = None
        self.endResetModel()
        if self.query is None:
            self._first_pending = False
            if was_cached:
                self.cache_state_changed.emit()
            return
        self._first_pending = True
        self._streak_rows = self.page_rows
        generation = self._generation
        request = PageRequest(self.query, self.view_as, start, backward=backward, limit=self.page_rows)
        self._first_request = request
        # The cache's copy of the same view, as the same role, is shown at once; the read replaces it.
        cached = self.service.cached_page(request)
        if cached is not None and cached.rows:
            self._provisional = True
            self.cached_page = cached
            self._put_first(cached)
            if start is not None:
                self.place_kept.emit()
        if was_cached or self._provisional:
            self.cache_state_changed.emit()
        self._set_loading()
        self.service.read_page("browse.page", request,
                               lambda page: self._first_page(generation, page, backward, start),
                               lambda: self._first_failed(generation, start))

    def _first_page(self, generation: int, page: Page, backward: bool, start: Position | None = None) -> None:
        if generation != self._generation:
            return  # arrived after a reset
        if start is not None and not page.rows:
            # Nothing is left from the kept place on (deleted meanwhile): show the last rows instead.
            self._reset(backward=True)
            return
        self._first_pending = False
        was_provisional, self._provisional = self._provisional, False
        self.cached_page = page if isinstance(page, CachedPage) and page.stale else None
        if was_provisional:
            self._replace_first(page)
        else:
            self._put_first(page)
        if was_provisional or self.cached_page is not None:
            self.cache_state_changed.emit()
        if start is not None:
            # A window kept mid-table: the rows above the kept place are read at once (the view stays on
            # the kept row, as when scrolling up after a jump to the end).
            self.fetch_before()
        self._set_loading()
        self.first_page_loaded.emit(len(page.rows))
        if start is not None:
            self.place_kept.emit()
        if backward:
            self.jumped_to_end.emit()

    def _put_first(self, page: Page) -> None:
        """Show `page` as the only one (the model holds no loaded rows)."""
        if page.rows:
            first = self._new_count()
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self._slots = [_Slot(page.start, page.end, len(page.rows), list(page.rows))]
            self._reindex()
            self._more_after, self._more_before = page.more_after, page.more_before
            self.endInsertRows()

    def _replace_first(self, page: Page) -> None:
        """Show `page` instead of the rows shown (the cache's): in place when the row count is the same."""
        slots = [_Slot(page.start, page.end, len(page.rows), list(page.rows))] if page.rows else []
        if len(page.rows) == self._loaded_rows and page.rows:
            self._slots = slots
            self._reindex()
            self._more_after, self._more_before = page.more_after, page.more_before
            top = self._new_count()
            self.dataChanged.emit(self.index(top, 0), self.index(top + len(page.rows) - 1,
                                                                 max(0, self.columnCount() - 1)))
            self.headerDataChanged.emit(Qt.Orientation.Vertical, top, top + len(page.rows) - 1)
            return
        self.beginResetModel()
        self._slots = slots
        self._reindex()
        self._more_after, self._more_before = page.more_after, page.more_before
        self._viewport = (0, 0)
        self.endResetModel()

    def _page_refreshed(self, request: PageRequest, page: Page) -> None:
        """A page served from the cache because the server was slow was read fresh after all."""
        if request is not self._first_request or self._first_pending or self.cached_page is None:
            return
        if len(self._slots) > 1:  # more was read meanwhile (from the cache): read it all again
            if request.start is not None and not request.backward:
                self._reset(backward=False, start=request.start)  # from the same kept place
            else:
                self.refresh()
            return
        self.cached_page = None
        self._replace_first(page)
        self.cache_state_changed.emit()

    @property
    def generation(self) -> int:
        """Bumped by every reset (new query, role, sort, refresh)."""
        return self._generation

    @property
    def showing_cached(self) -> bool:
        """Whether the rows shown came from the offline cache (a stand-in while the read runs, or because the
        server could not be reached or was slow)."""
        return self.cached_page is not None

    @property
    def provisional(self) -> bool:
        """Whether the rows shown are the cache's, shown while the fresh ones are read."""
        return self._provisional

    def _first_failed(self, generation: int, start: Position | None) -> None:
        if generation == self._generation and start is not None and not self._provisional \
                and not self.service.online:
            # The kept place is not in the offline cache: show the first page (the cache may hold it).
            self.refresh()
            return
        self._failed(generation)

    def _failed(self, generation: int) -> None:
        if generation != self._generation:
            return
        if self._provisional:
            # The server answered with an error (a network failure would have served the cached page): the
            # old rows would hide it, so they go.
            self._provisional = False
            self.cached_page = None
            self.beginResetModel()
            self._slots = []
            self._reindex()
            self._more_after = self._more_before = False
            self.endResetModel()
            self.cache_state_changed.emit()
        self._first_pending = self._fetching_after = self._fetching_before = False
        for slot in self._slots:
            slot.reloading = False
        self._set_loading()

    def _set_loading(self) -> None:
        self.loading_changed.emit(self.loading)

    @property
    def loading(self) -> bool:
        """Whether a page read for this model runs."""
        return (self._first_pending or self._fetching_after or self._fetching_before
                or any(slot.reloading for slot in self._slots))

    @property
    def has_more_after(self) -> bool:
        """Whether rows exist after the loaded ones."""
        return self._more_after

    @property
    def has_more_before(self) -> bool:
        """Whether rows exist before the loaded ones (after a jump to the end)."""
        return self._more_before

    @property
    def loaded_rows(self) -> int:
        """Rows known to the model (resident or not), without staged new rows."""
        return self._loaded_rows

    @property
    def resident_rows(self) -> int:
        """Rows held in memory."""
        return sum(len(slot.rows) for slot in self._slots if slot.rows is not None)

    # -- scrolling ---------------------------------------------------------------------------------

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        """Whether more rows can be read below the loaded ones."""
        return not parent.isValid() and self.query is not None and self._more_after

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008 - Qt's signature
        """Read the page after the last one (ignored while one is being read)."""
        if parent.isValid() or self.query is None or not self._more_after or self._fetching_after:
            return
        if self._first_pending or not self._slots:
            return
        self._fetching_after = True
        generation = self._generation
        request = PageRequest(self.query, self.view_as, self._slots[-1].end, limit=self._next_limit())
        self._set_loading()
        self.service.read_page("browse.after", request, lambda page: self._appended(generation, page),
                               lambda: self._failed(generation))

    def _next_limit(self) -> int:
        """Rows for the next page: doubling while the view keeps asking for more right after each read."""
        if time.monotonic() - self._last_read_end < _STREAK_SECONDS:
            self._streak_rows = min(self._streak_rows * 2, max(self.max_page_rows, self.page_rows))
        else:
            self._streak_rows = self.page_rows
        return self._streak_rows

    def _appended(self, generation: int, page: Page) -> None:
        if generation != self._generation:
            return
        self._last_read_end = time.monotonic()
        self._fetching_after = False
        self._more_after = page.more_after
        if page.rows:
            first = self._new_count() + self._loaded_rows
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self._slots.append(_Slot(page.start, page.end, len(page.rows), page.rows))
            self._reindex()
            self.endInsertRows()
            if self._viewport == (0, 0):
                self._viewport = (first, first + len(page.rows))
            self._evict()
        self._set_loading()

    def fetch_before(self) -> None:
        """Read the page before the first loaded one (after a jump to the end); ignored while one runs."""
        if self.query is None or not self._more_before or self._fetching_before or not self._slots:
            return
        self._fetching_before = True
        generation = self._generation
        request = PageRequest(self.query, self.view_as, self._slots[0].start, backward=True,
                              limit=self._next_limit())
        self._set_loading()
        self.service.read_page("browse.before", request, lambda page: self._prepended(generation, page),
                               lambda: self._failed(generation))

    def _prepended(self, generation: int, page: Page) -> None:
        if generation != self._generation:
            return
        self._last_read_end = time.monotonic()
        self._fetching_before = False
        self._more_before = page.more_before
        if page.rows:
            first = self._new_count()
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self._slots.insert(0, _Slot(page.start, page.end, len(page.rows), page.rows))
            self._reindex()
            self.endInsertRows()
            self._viewport = (self._viewport[0] + len(page.rows), self._viewport[1] + len(page.rows))
            self._evict()
            self.rows_prepended.emit(len(page.rows))
        self._set_loading()
        self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, max(0, self.rowCount() - 1))

    def set_viewport(self, first_row: int, last_row: int) -> None:
        """Tell the model which rows the view shows: far pages are dropped, near dropped ones read again."""
        self._viewport = (max(0, first_row), max(first_row, last_row))
        self._evict()
        if any(slot.rows is None and not slot.reloading for slot in self._wanted_slots()):
            self._reload_timer.start()

    def _wanted_slots(self) -> list[_Slot]:
        """Slots overlapping the viewport, with one page of margin on each side."""
        if not self._slots:
            return []
        new = self._new_count()
        first = max(0, self._viewport[0] - new - self.page_rows)
        last = max(0, self._viewport[1] - new + self.page_rows)
        low = max(0, bisect.bisect_right(self._offsets, first) - 1)
        high = bisect.bisect_right(self._offsets, last)
        return self._slots[low:high]

    def _evict(self) -> None:
        resident = [slot for slot in self._slots if slot.rows is not None]
        held = sum(slot.count for slot in resident)
        if held <= self.resident_rows_limit:
            return
        wanted = {id(slot) for slot in self._wanted_slots()}
        centre = (self._viewport[0] + self._viewport[1]) // 2 - self._new_count()
        offsets = {id(slot): offset for slot, offset in zip(self._slots, self._offsets, strict=True)}

        def distance(slot: _Slot) -> int:
            start = offsets[id(slot)]
            return 0 if start <= centre < start + slot.count else min(abs(start - centre),
                                                                       abs(start + slot.count - centre))

        for slot in sorted((s for s in resident if id(s) not in wanted), key=distance, reverse=True):
            if held <= self.resident_rows_limit:
                break
            slot.rows = None
            held -= slot.count

    def _reload_visible(self) -> None:
        if self.query is None:
            return
        wanted = [slot for slot in self._wanted_slots() if slot.rows is None]
        if all(slot.reloading for slot in wanted):
            return  # nothing new to read (or already on its way)
        # The new read replaces (cancels) any running one: it covers everything wanted now.
        for slot in self._slots:
            slot.reloading = False
        missing = wanted
        generation = self._generation
        for slot in missing:
            slot.reloading = True
        # Each page is read again within its old bounds (from its start, up to its end).
        requests = [PageRequest(self.query, self.view_as, slot.start, limit=slot.count, stop=slot.end)
                    for slot in missing]

        def _arrived(number: int, page: Page) -> None:
            if generation != self._generation:
                return
            slot = missing[number]
            slot.reloading = False
            rows = list(page.rows[: slot.count])
            if slot not in self._slots:
                slot.rows = rows
                return
            top = self._new_count() + self._offsets[self._slots.index(slot)]
            if len(rows) < slot.count:
                # Rows deleted since the page was first read (saved here or by anyone): they leave the grid
                # rather than stay as empty stand-ins.
                gone = slot.count - len(rows)
                self.beginRemoveRows(QModelIndex(), top + len(rows), top + slot.count - 1)
                slot.rows, slot.count = rows, len(rows)
                self._reindex()
                self.endRemoveRows()
                if self._viewport[0] >= top + len(rows):  # the rows in view moved up
                    self._viewport = (max(0, self._viewport[0] - gone), max(0, self._viewport[1] - gone))
                self.headerDataChanged.emit(Qt.Orientation.Vertical, top, max(top, self.rowCount() - 1))
            else:
                slot.rows = rows
            if rows:
                self.dataChanged.emit(self.index(top, 0), self.index(top + len(rows) - 1, self.columnCount() - 1))

        def _done() -> None:
            for slot in missing:
                slot.reloading = False
            if generation == self._generation:
                self._evict()  # the pages read again may push others out of memory
            self._set_loading()

        self.service.read_pages(requests, _arrived, _done)
        self._set_loading()

    def _reindex(self) -> None:
        self._offsets = []
        total = 0
        for slot in self._slots:
            self._offsets.append(total)
            total += slot.count
        self._loaded_rows = total

    # -- rows --------------------------------------------------------------------------------------

    def _new_count(self) -> int:
        return len(self.staged.inserts) if self.staged is not None else 0

    def _row(self, row: int) -> tuple[_Slot, int] | None:
        """The slot holding loaded row `row` (after the new rows) and the row's index in it."""
        loaded = row - self._new_count()
        if loaded < 0 or loaded >= self._loaded_rows:
            return None
        number = bisect.bisect_right(self._offsets, loaded) - 1
        return self._slots[number], loaded - self._offsets[number]

    def row_data(self, row: int, *, reload: bool = True) -> RowData | None:
        """The loaded tuple of `row` (cells then key texts), None for a new row or one not in memory (whose
        page is then read again, unless `reload` is False)."""
        found = self._row(row)
        if found is None:
            return None
        slot, offset = found
        if slot.rows is None:
            if reload and not slot.reloading:
                self._reload_timer.start()
            return None
        return slot.rows[offset]

    def identity(self, row: int) -> tuple[str | None, ...] | None:
        """The key texts of an existing row (None for new rows and rows not in memory)."""
        data = self.row_data(row)
        if data is None or self.query is None:
            return None
        return self.query.identity_of(data)

    def new_row_number(self, row: int) -> int | None:
        """Which staged new row `row` is (None for existing rows)."""
        return row if row < self._new_count() else None

    def column_at(self, column: int) -> Column | None:
        """The relation's column shown in grid column `column`."""
        if self.query is None or not 0 <= column < len(self.query.relation.columns):
            return None
        return self.query.relation.columns[column]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Staged new rows plus every loaded row."""
        return 0 if parent.isValid() else self._new_count() + self._loaded_rows

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """The relation's columns."""
        if parent.isValid() or self.query is None:
            return 0
        return len(self.query.relation.columns)

    def cell(self, row: int, column: int) -> tuple[str | None, bool, RowState, bool]:
        """(value, truncated, state, loaded) of one cell: the staged value when there is one."""
        col = self.column_at(column)
        if col is None:
            return None, False, RowState.UNCHANGED, False
        staged = self.staged
        new = self.new_row_number(row)
        if new is not None and staged is not None:
            return staged.inserts[new].get(col.name), False, RowState.ADDED, True
        data = self.row_data(row)
        if data is None:
            return None, False, RowState.UNCHANGED, False
        value = data[column]
        truncated = col.variable_length and value is not None and len(value) > PREVIEW_CHARS
        if staged is not None and self.query is not None and (staged.updates or staged.deletes):
            identity = self.query.identity_of(data)
            if staged.is_deleted(identity):
                return value, truncated, RowState.REMOVED, True
            has_value, staged_value = staged.staged_value(identity, col.name)
            if has_value:
                return staged_value, False, RowState.CHANGED, True
        if self._outbox and self.query is not None:
            queued = self._outbox.get(self.query.identity_of(data))
            if queued is not None and col.name in queued.values:
                return queued.values[col.name], False, RowState.QUEUED, True
        return value, truncated, RowState.UNCHANGED, True

    # -- the outbox on the rows --------------------------------------------------------------------

    def _read_outbox(self) -> dict[tuple[str | None, ...], _RowOutbox]:
        query = self.query
        if query is None or not query.relation.primary_key:
            return {}
        relation = query.relation
        found: dict[tuple[str | None, ...], _RowOutbox] = {}
        for edit in self.service.outbox_row_marks(relation.schema, relation.name):
            if not edit.identity:
                continue
            key = tuple(edit.identity.get(name) for name in relation.primary_key)
            row = found.get(key)
            if row is None:
                row = found[key] = _RowOutbox(edit.state)
            elif _BADGE_ORDER.index(edit.state) < _BADGE_ORDER.index(row.state):
                row.state = edit.state
            if edit.state is EditState.PENDING:
                if edit.kind is EditKind.DELETE:
                    row.deleted = True
                else:
                    row.values.update(edit.after)
            if edit.message:
                row.messages.append(edit.message)
        return found

    def _outbox_changed(self, _counts: object) -> None:
        if self._outbox_timer.isActive():
            self._outbox_dirty = True  # read once more when the burst is over
            return
        self.reload_outbox()
        if self._outbox_read_ms >= OUTBOX_CHEAP_MS:
            self._outbox_timer.start()  # a costly read: the next ones wait until the burst is over

    def _outbox_quiet(self) -> None:
        if self._outbox_dirty:
            self._outbox_dirty = False
            self.reload_outbox()
            self._outbox_timer.start()

    def reload_outbox(self) -> None:
        """Read the outbox's edits of the shown relation again (badges, queued values)."""
        started = time.perf_counter()
        found = self._read_outbox()
        self._outbox_read_ms = (time.perf_counter() - started) * 1000
        if found == self._outbox:
            return
        self._outbox = found
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, max(0, self.columnCount() - 1)))
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, self.rowCount() - 1)
        self.outbox_rows_changed.emit()

    def outbox_state(self, row: int) -> EditState | None:
        """The outbox badge of `row` (None: nothing queued for it, or not in memory)."""
        if not self._outbox or self.query is None:
            return None
        data = self.row_data(row, reload=False)
        if data is None:
            return None
        queued = self._outbox.get(self.query.identity_of(data))
        return None if queued is None else queued.state

    def _outbox_tip(self, row: int) -> str:
        data = self.row_data(row, reload=False)
        if data is None or self.query is None:
            return ""
        queued = self._outbox.get(self.query.identity_of(data))
        if queued is None:
            return ""
        tip = _BADGE_TIPS[queued.state]
        if queued.deleted:
            tip = "Deleted on this computer, not sent yet: the deletion is sent when the connection is back."
        if queued.state is EditState.REJECTED and queued.messages:
            tip += f"\nThe server said: {queued.messages[-1]}"
        return tip

    def _badge_icons(self) -> dict[EditState, QIcon]:
        palette = colors()
        if palette is not self._icons_of:
            self._icons_of = palette
            self._icons = {state: badge_icon(state, palette) for state in _BADGE_ORDER}
        return self._icons

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        """Cells as text; NULL shown as a muted "NULL"; staged edits coloured."""
        # Called for every role of every painted cell: cheap roles first, then one cell lookup.
        if role not in _HANDLED_ROLES or not index.isValid():
            return None
        column = index.column()
        if role == _ALIGNMENT:
            col = self.column_at(column)
            return _RIGHT if col is not None and col.numeric else None
        if role == RowsRole.COLUMN:
            return self.column_at(column)
        row = index.row()
        if role == RowsRole.IDENTITY:
            new = self.new_row_number(row)
            return ("new", new) if new is not None else self.identity(row)
        if role == RowsRole.OUTBOX:
            badge = self.outbox_state(row)
            return None if badge is None else badge.value
        value, truncated, state, loaded = self.cell(row, column)
        if role == _DISPLAY:
            if not loaded:
                return _PLACEHOLDER
            if value is None:
                if state is RowState.ADDED:
                    col = self.column_at(column)
                    if col is not None and col.name not in self._new_values(row):
                        return "DEFAULT" if col.has_default or col.generated or col.identity_always else "NULL"
                return "NULL"
            shown = value[:PREVIEW_CHARS] + "…" if truncated else value
            # One line per cell: the side editor shows the rest.
            return shown if "\n" not in shown[:300] else shown.split("\n", 1)[0] + " ⏎…"
        if role == _FOREGROUND:
            return self._theme_brushes()[0] if loaded and value is None else None
        if role == _BACKGROUND:
            return self._theme_brushes()[1].get(state)
        if role == _FONT:
            if state is RowState.REMOVED or (self._outbox and self._queued_deletion(row)):
                return self._removed_font
            return self._null_font if loaded and value is None else None
        if role == _EDIT or role == RowsRole.VALUE:
            return value
        if role == RowsRole.IS_NULL:
            return loaded and value is None
        if role == RowsRole.TRUNCATED:
            return truncated
        if role == RowsRole.STATE:
            return int(state)
        if role == RowsRole.LOADED:
            return loaded
        if role == _TOOLTIP:
            if truncated:
                return "Only the start of this value is shown: open it in the editor (Enter) to see all of it."
            if state is RowState.CHANGED:
                return "Changed: not saved yet"
            if state is RowState.QUEUED:
                return "Saved on this computer, not sent yet"
        return None

    def _queued_deletion(self, row: int) -> bool:
        data = self.row_data(row, reload=False)
        if data is None or self.query is None:
            return False
        queued = self._outbox.get(self.query.identity_of(data))
        return queued is not None and queued.deleted

    def _theme_brushes(self) -> tuple[QBrush, dict[RowState, QBrush]]:
        """The NULL text brush and the staged-state backgrounds of the theme in use (asked at paint time, so a
        live switch between light and dark recolours the grid)."""
        palette = colors()
        if palette is not self._brushes_of:
            self._brushes_of = palette
            self._null_brush = QBrush(palette.null_text)
            self._state_brushes = {
                RowState.CHANGED: QBrush(palette.changed),
                RowState.ADDED: QBrush(palette.added),
                RowState.REMOVED: QBrush(palette.removed),
                RowState.QUEUED: QBrush(palette.banner_background),
            }
        return self._null_brush, self._state_brushes

    def _new_values(self, row: int) -> dict[str, str | None]:
        new = self.new_row_number(row)
        if new is None or self.staged is None:
            return {}
        return self.staged.inserts[new]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Column names (bold for the primary key, type in the tooltip); row markers for staged rows."""
        if orientation == Qt.Orientation.Horizontal:
            col = self.column_at(section)
            if col is None:
                return None
            if role == Qt.ItemDataRole.DisplayRole:
                return col.name
            if role == RowsRole.COLUMN:
                return col
            if role == Qt.ItemDataRole.ToolTipRole:
                notes = [col.type_name]
                if col.primary_key_position is not None:
                    notes.append("primary key")
                if not col.nullable:
                    notes.append("not null")
                if not col.editable:
                    notes.append("computed by the database")
                if not col.sortable:
                    notes.append("cannot be sorted")
                return f"{col.name}: " + ", ".join(notes)
            if role == Qt.ItemDataRole.FontRole and col.primary_key_position is not None:
                font = QFont()
                font.setBold(True)
                return font
            return None
        if role == Qt.ItemDataRole.DecorationRole or role == Qt.ItemDataRole.ToolTipRole:
            badge = self.outbox_state(section)
            if badge is None:
                return None
            return self._badge_icons()[badge] if role == Qt.ItemDataRole.DecorationRole else self._outbox_tip(section)
        if role == Qt.ItemDataRole.DisplayRole:
            new = self.new_row_number(section)
            if new is not None:
                return "+"
            staged = self.staged
            if staged is not None and (staged.updates or staged.deletes) and self.query is not None:
                # Only rows in memory: the header also asks about rows far from the view (for its width).
                data = self.row_data(section, reload=False)
                identity = self.query.identity_of(data) if data is not None else None
                if identity is not None and staged.is_deleted(identity):
                    return "−"
                if identity is not None and identity in staged.updates:
                    return "✎"
            if self._more_before:
                return ""
            return str(section - self._new_count() + 1)
        return None

    # -- editing -----------------------------------------------------------------------------------

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        """Selectable everywhere; editable on editable relations' settable columns (not cut previews)."""
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not index.isValid() or self.staged is None:
            return base
        col = self.column_at(index.column())
        _value, truncated, state, loaded = self.cell(index.row(), index.column())
        if col is None or not col.editable or not loaded or truncated or state is RowState.REMOVED:
            return base
        return base | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Stage a new value for a cell (`None` for NULL). Empty text means NULL for non-text columns."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        return self.stage_value(index.row(), index.column(), value)

    def stage_value(self, row: int, column: int, value: str | None, original: str | None = None,
                    *, whole_original: bool = False) -> bool:
        """Stage `value` for a cell; `original` is the whole current value when only a preview was loaded."""
        col = self.column_at(column)
        if self.staged is None or col is None:
            return False
        if value is not None and not isinstance(value, str):
            value = str(value)
        if value == "" and col.category != "S":
            value = None
        try:
            new = self.new_row_number(row)
            if new is not None:
                self.staged.set_new_value(new, col.name, value)
            else:
                data = self.row_data(row)
                if data is None or self.query is None:
                    return False
                current = original if whole_original else data[column]
                queued = self._outbox.get(self.query.identity_of(data)) if self._outbox else None
                if not whole_original and queued is not None and col.name in queued.values:
                    current = queued.values[col.name]  # checked against the value the queued edit leaves
                self.staged.set_value(self.query.identity_of(data), col.name, value, current)
        except StudioError as exc:
            user_messages().warning(exc.message, exc.hint)
            return False
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
        self.headerDataChanged.emit(Qt.Orientation.Vertical, row, row)
        self.staged_changed.emit()
        return True

    def add_row(self) -> int | None:
        """Stage a new row (shown at the top); returns its row number, None when not editable."""
        if self.staged is None:
            return None
        position = self._new_count()
        self.beginInsertRows(QModelIndex(), position, position)
        self.staged.add_row()
        self.endInsertRows()
        self.staged_changed.emit()
        return position

    def toggle_delete(self, rows: list[int]) -> None:
        """Stage the deletion of existing rows (or take it back); staged new rows are simply dropped."""
        if self.staged is None:
            return
        for row in sorted(set(rows), reverse=True):
            new = self.new_row_number(row)
            if new is not None:
                self.beginRemoveRows(QModelIndex(), row, row)
                self.staged.remove_new_row(new)
                self.endRemoveRows()
                continue
            identity = self.identity(row)
            if identity is None:
                continue
            if self.staged.is_deleted(identity):
                self.staged.undelete_row(identity)
            else:
                self.staged.delete_row(identity)
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
            self.headerDataChanged.emit(Qt.Orientation.Vertical, row, row)
        self.staged_changed.emit()

    def discard_changes(self) -> None:
        """Forget every staged edit."""
        if self.staged is None:
            return
        new = self._new_count()
        if new:
            self.beginRemoveRows(QModelIndex(), 0, new - 1)
            self.staged.inserts.clear()
            self.endRemoveRows()
        self.staged.discard()
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, self.rowCount() - 1)
        self.staged_changed.emit()

    def after_commit(self, first_row: int | None = None, *, queued: bool = False) -> None:
        """The staged edits were saved (or `queued` in the outbox): forget them and show the rows again.

        `first_row` is the first row the view shows (default: the last one it reported). On the first page,
        the first page is read again. Further down the user's place is kept: the rows from the first visible
        one on are read fresh (or from the next one, when it was deleted), then the page before them, so the
        view stays on that row and scrolling works both ways (a window mid-table, as after a jump to the
        end). Edits queued on this computer changed nothing on the server: there the rows in memory stay,
        with the outbox's badges and queued values on them.
        """
        place = self._kept_place(first_row)
        if place is not None and queued:
            self.discard_changes()  # in place: staged new rows leave, the view stays where it is
            self.reload_outbox()
            return
        if self.staged is not None:
            self.beginResetModel()
            self.staged.discard()
            self.endResetModel()
            self.staged_changed.emit()
        self._read_again_at(place)

    def refresh_in_place(self, first_row: int | None = None) -> None:
        """Read the rows again from the server, keeping the user's place as `after_commit` does (the first
        page is simply read again)."""
        self._read_again_at(self._kept_place(first_row))

    def _read_again_at(self, place: Position | None) -> None:
        if place is None:
            self.refresh()
        else:
            self._reset(backward=False, start=place)

    def _kept_place(self, first_row: int | None) -> Position | None:
        """The position just before the first visible loaded row; None on the first page (no rows before
        the loaded ones, and the row among the first `page_rows`), when nothing is loaded, or when rows
        cannot be told apart by their key."""
        query = self.query
        if query is None or not query.unique_key or not self._slots or self._first_pending:
            return None
        row = self._viewport[0] if first_row is None or first_row < 0 else first_row
        loaded = min(max(0, row - self._new_count()), self._loaded_rows - 1)
        if not self._more_before and loaded < self.page_rows:
            return None
        number = bisect.bisect_right(self._offsets, loaded) - 1
        slot = self._slots[number]
        if slot.rows is None:
            return slot.start  # its rows are being read again: keep the start of its page
        data = slot.rows[loaded - self._offsets[number]]
        return Position(query.key_of(data), 0, True, data)

    # -- sorting -----------------------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column on the server (column -1: the relation's own key order)."""
        if self.query is None:
            return
        col = self.column_at(column)
        sort = None if col is None else Sort(col.name, order == Qt.SortOrder.DescendingOrder)
        if sort == self.query.sort:
            return
        try:
            query = BrowseQuery(self.query.relation, sort, self.query.filters, self.query.search)
        except StudioError as exc:
            user_messages().info(exc.message, exc.hint)
            return
        self.query = query
        self._reset(backward=False)
