"""A child process for the outbox's crash test: queues edits, or syncs them, and may be SIGKILLed anywhere.

    python -m tests.support.outbox_child queue <db_url> <cache_dir> <total>
    python -m tests.support.outbox_child sync <db_url> <cache_dir>

`queue` continues where the last (killed) run stopped: edit i is an insert into `public.events` (payload
`e<i>`; every 50th is `bad<i>`, which the table's check refuses) for even i, and for odd i a change of the
single `public.counter` row from i // 2 to i // 2 + 1. Each edit is queued in its own transaction and
acknowledged with a line `Q <i>` once `queue` has returned - the moment the app would say "saved locally".

`sync` sends the outbox in batches; after each server commit it prints `C <n>` and pauses a little before
marking the edits applied, so a kill often lands in exactly that window. It prints `DONE` when nothing is
pending.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from studio.core.browse import BrowseRole, TargetSource, ViewAs
from studio.core.offline import EditDraft, EditKind, OfflineStore, Outbox, sync_outbox
from studio.core.targets.postgres import PostgresTarget

PROJECT = "crash-test"


async def queue(db_url: str, cache: Path, total: int) -> None:
    store = OfflineStore(PROJECT, directory=cache)
    outbox = Outbox(store)
    async with PostgresTarget(db_url) as target:
        source = TargetSource(target)
        events = await source.describe("public", "events")
        counter = await source.describe("public", "counter")
    done = len(outbox.edits())
    who = ViewAs(BrowseRole.SERVICE_ROLE)
    for i in range(done, total):
        if i % 2 == 0:
            payload = f"bad{i}" if i % 100 == 0 else f"e{i}"
            draft = EditDraft.build(events, EditKind.INSERT, None, {}, {"payload": payload})
        else:
            step = i // 2
            draft = EditDraft.build(counter, EditKind.UPDATE, ("1",), {"n": str(step)}, {"n": str(step + 1)})
        outbox.queue([draft], who)
        print(f"Q {i}", flush=True)
    store.close()
    print("DONE", flush=True)


async def sync(db_url: str, cache: Path) -> None:
    store = OfflineStore(PROJECT, directory=cache)
    outbox = Outbox(store, retry_base=0.05, retry_max=0.2)

    def committed(edits: object) -> None:
        print(f"C {len(edits)}", flush=True)  # type: ignore[arg-type]
        time.sleep(0.02)

    async with PostgresTarget(db_url) as target:
        while True:
            report = await sync_outbox(outbox, target, batch_size=40, after_commit=committed)
            if report.remaining == 0 and not report.error:
                break
            await asyncio.sleep(report.retry_in or 0.05)
    store.close()
    print("DONE", flush=True)


def main() -> None:
    mode, db_url, cache = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    if mode == "queue":
        asyncio.run(queue(db_url, cache, int(sys.argv[4])))
    else:
        asyncio.run(sync(db_url, cache))


if __name__ == "__main__":
    main()
