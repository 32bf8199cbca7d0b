#!/usr/bin/env python3
"""The offline cache and the outbox at scale: a cached 100,000-row view opened offline, and 10,000 queued edits
synced.

Hand-run benchmark, not part of the test suite:

    .venv/bin/python benchmarks/cache_scale.py --rows 100000 --edits 10000 --repeat 7

It starts an embedded server in a temporary folder (the app's own, with Supabase's base), creates
`public.bench_rows` with `--rows` rows, and reads the whole table once through `OfflineSource` in the
browser's pages (500 rows), so every page is in the project's SQLite file. Then, each timing the median of
`--repeat` runs after one warm-up:

* open offline, cache only: opening the project's SQLite file (`OfflineStore`, with its format and
  `quick_check` checks), the relation's description and the first page from it;
* open offline, whole path: the same through `OfflineSource` on a target whose server is gone (a closed
  port): the failed connection attempt, then the cache - what the user waits for;
* the same first page read from the live server, in the same run, for comparison.

Then it queues `--edits` updates (one row each, as separate durable transactions, as the app queues them
one commit at a time) and syncs them with `sync_outbox` (batches of 100): edits per second for both.
Target: first rows under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import psycopg  # noqa: E402

from studio.core.browse import BrowseQuery, PageRequest, TargetSource, ViewAs  # noqa: E402
from studio.core.browse.paging import Position  # noqa: E402
from studio.core.offline import EditDraft, EditKind, EditState, OfflineSource, OfflineStore, Outbox, sync_outbox  # noqa: E402
from studio.core.targets.local import LocalServer  # noqa: E402
from studio.core.targets.postgres import PostgresTarget  # noqa: E402

TABLE = "bench_rows"
PAGE = 500
OWNER = ViewAs()


def build_table(url: str, rows: int) -> None:
    """Create and fill the benchmark table."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"""
            create table public.{TABLE} (id bigint primary key, name text not null, email text,
                                         score int, created_at timestamptz not null default now(), payload jsonb);
            insert into public.{TABLE} (id, name, email, score, payload)
            select i, 'user ' || i, 'user' || i || '@example.com', i % 1000, jsonb_build_object('n', i)
            from generate_series(1, {rows}) i;
            analyze public.{TABLE};
        """)


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})"


async def timed(work: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    await work()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        samples.append(time.perf_counter() - started)
    return samples


async def bench(url: str, cache: Path, rows: int, edits: int, repeat: int) -> None:
    project = "bench"
    async with PostgresTarget(url) as target:
        store = OfflineStore(project, directory=cache)
        source = OfflineSource(TargetSource(target), store)
        relation = await source.describe("public", TABLE)
        query = BrowseQuery(relation)
        started = time.perf_counter()
        start: Position | None = None
        read = pages = 0
        while True:
            page = await source.read_page(PageRequest(query, OWNER, start, limit=PAGE))
            read += len(page.rows)
            pages += 1
            if not page.more_after:
                break
            start = page.end
        fill = time.perf_counter() - started
        store.close()
        print(f"cached {read} rows in {pages} pages in {fill:.1f} s;"
              f" file {(cache / store.path.name).stat().st_size / 1e6:.1f} MB")

        async def from_cache() -> None:
            opened = OfflineStore(project, directory=cache)
            described = opened.relation("public", TABLE)
            assert described is not None
            page = opened.page(PageRequest(BrowseQuery(described), OWNER, None, limit=PAGE))
            assert page is not None and len(page.rows) == PAGE
            opened.close()

        gone = f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres?connect_timeout=2"

        async def offline_path() -> None:
            opened = OfflineStore(project, directory=cache)
            async with PostgresTarget(gone) as dead:
                offline = OfflineSource(TargetSource(dead), opened)
                described = await offline.describe("public", TABLE)
                page = await offline.read_page(PageRequest(BrowseQuery(described), OWNER, None, limit=PAGE))
                assert len(page.rows) == PAGE and getattr(page, "stale", False)
            opened.close()

        fresh = TargetSource(target)

        async def live() -> None:
            page = await fresh.read_page(PageRequest(query, OWNER, None, limit=PAGE))
            assert len(page.rows) == PAGE

        print(f"open offline, cache only (first {PAGE} rows): {median_ms(await timed(from_cache, repeat))}")
        print(f"open offline, whole path with a dead server:   {median_ms(await timed(offline_path, repeat))}")
        print(f"same first page from the live server:          {median_ms(await timed(live, repeat))}")

        store = OfflineStore(project, directory=cache)
        outbox = Outbox(store)
        who = ViewAs()
        started = time.perf_counter()
        for i in range(1, edits + 1):
            outbox.queue([EditDraft.build(relation, EditKind.UPDATE, (str(i),), {"score": str(i % 1000)},
                                          {"score": str(-i)})], who)
        queued = time.perf_counter() - started
        print(f"queued {edits} edits (one durable transaction each) in {queued:.2f} s: {edits / queued:.0f} edits/s")
        # What the grid's badges read on the GUI thread each time the outbox changes: every unsettled edit.
        unsettled = [EditState.PENDING, EditState.CONFLICT, EditState.REJECTED]

        async def all_unsettled() -> None:
            assert len(outbox.edits(*unsettled)) == edits

        async def badges() -> None:
            assert len(outbox.row_marks("public", TABLE)) == edits

        print(f"read every unsettled edit in full ({edits} waiting):   {median_ms(await timed(all_unsettled, repeat))}")
        print(f"read the table's row badges ({edits} waiting):        {median_ms(await timed(badges, repeat))}")
        started = time.perf_counter()
        report = await sync_outbox(outbox, target, batch_size=100)
        synced = time.perf_counter() - started
        assert report.applied == edits and report.remaining == 0, report
        with psycopg.connect(url) as conn:
            changed = conn.execute(f"select count(*) from public.{TABLE} where score < 0").fetchone()
        assert changed is not None and changed[0] == edits
        print(f"synced {edits} edits in {synced:.2f} s: {edits / synced:.0f} edits/s"
              " (including forgetting their ledger keys)")
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print("command: .venv/bin/python benchmarks/cache_scale.py " + " ".join(sys.argv[1:]))
    folder = Path(tempfile.mkdtemp(prefix="studio-cache-bench-"))
    folder.chmod(0o755)
    server = LocalServer(folder / "local-postgres")
    try:
        server.start()
        server.ensure_supabase_base()
        database = server.create_database()
        url = server.uri(database)
        build_table(url, args.rows)
        asyncio.run(bench(url, folder / "cache", args.rows, args.edits, args.repeat))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
