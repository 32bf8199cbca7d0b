"""Offline views and the outbox: the browser's memory of what it read, and edits kept safe until sent.

* `store` - the project's SQLite file: pages read (by view, role and claims), relation shapes, pinned
  offline views; format version, rebuild of unreadable files, LRU eviction under a size cap.
* `source` - `OfflineSource`, the caching `BrowseSource` (stale pages when offline or slow; commits that
  fall back to the outbox).
* `outbox` - queued edits with idempotency keys, their states and the user's conflict decisions.
* `sync` - sending the outbox in order, exactly once (a ledger of keys on the server), with conflicts,
  rejections and backoff.

No Qt here: the browser service drives these from its jobs.
"""

from studio.core.offline.outbox import EditDraft, EditKind, EditState, Outbox, OutboxCounts, OutboxEdit, RowMark
from studio.core.offline.source import DEFAULT_SLOW_AFTER, OfflineSource
from studio.core.offline.store import DEFAULT_SIZE_CAP, FORMAT_VERSION, CachedPage, OfflineStore, PinnedView
from studio.core.offline.sync import LEDGER, NETWORK_ERRORS, SyncReport, keep_syncing, sync_outbox

__all__ = [
    "DEFAULT_SIZE_CAP",
    "DEFAULT_SLOW_AFTER",
    "FORMAT_VERSION",
    "LEDGER",
    "NETWORK_ERRORS",
    "CachedPage",
    "EditDraft",
    "EditKind",
    "EditState",
    "OfflineSource",
    "OfflineStore",
    "Outbox",
    "OutboxCounts",
    "OutboxEdit",
    "PinnedView",
    "RowMark",
    "SyncReport",
    "keep_syncing",
    "sync_outbox",
]
