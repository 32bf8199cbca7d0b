"""The offline cache against real PostgreSQL (through a network a test can cut) and a real SQLite file:
pages shown offline marked stale, slow servers, role isolation, damaged files, eviction, pinned views."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from studio.core.browse import (
    BrowseQuery,
    BrowseRole,
    Filter,
    FilterOp,
    Page,
    PageRequest,
    Position,
    Relation,
    TargetSource,
    ViewAs,
)
from studio.core.errors import ConnectionFailed
from studio.core.offline import FORMAT_VERSION, CachedPage, OfflineSource, OfflineStore
from studio.core.targets.postgres import PostgresTarget
from tests.support.netcut import NetCut

T = TypeVar("T")
ALICE = "11111111-1111-1111-1111-111111111111"
BOB = "22222222-2222-2222-2222-222222222222"
OWNER = ViewAs()


def run(work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(work)


def execute(db_url: str, sql: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def net(db_url: str) -> Iterator[NetCut]:
    with NetCut(db_url) as proxy:
        yield proxy


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def notes(db_url: str) -> None:
    execute(db_url, f"""
        insert into auth.users (id, email) values ('{ALICE}', 'alice@example.com'), ('{BOB}', 'bob@example.com');
        create table public.notes (id int primary key, owner uuid, body text);
        alter table public.notes enable row level security;
        create policy "own notes" on public.notes for select to authenticated using (owner = (select auth.uid()));
        insert into public.notes select i, case when i % 2 = 0 then '{ALICE}'::uuid else '{BOB}'::uuid end,
                                        'note ' || i from generate_series(1, 7) i;
    """)


def ids(page: Page) -> list[int]:
    return [int(row[0]) for row in page.rows]


async def read_all(source: OfflineSource, query: BrowseQuery, view_as: ViewAs, limit: int = 2) -> list[Page]:
    pages: list[Page] = []
    start: Position | None = None
    while True:
        page = await source.read_page(PageRequest(query, view_as, start, limit=limit))
        pages.append(page)
        if not page.more_after:
            return pages
        start = page.end


def test_pages_read_online_open_offline_marked_stale_with_their_time(
        db_url: str, net: NetCut, cache: Path, notes: None) -> None:
    async def online() -> list[Page]:
        async with PostgresTarget(net.url) as target:
            store = OfflineStore("p", directory=cache)
            source = OfflineSource(TargetSource(target), store)
            await source.relations()
            relation = await source.describe("public", "notes")
            pages = await read_all(source, BrowseQuery(relation), OWNER)
            store.close()
            return pages

    async def offline() -> tuple[list[Page], Relation, OfflineSource]:
        # A new session started offline: nothing but the cache to go on.
        async with PostgresTarget(net.url) as target:
            store = OfflineStore("p", directory=cache)
            source = OfflineSource(TargetSource(target), store)
            listed = await source.relations()
            assert "notes" in [summary.name for summary in listed]
            relation = await source.describe("public", "notes")
            pages = await read_all(source, BrowseQuery(relation), OWNER)
            assert not source.online
            with pytest.raises(ConnectionFailed):  # a view never opened online
                await source.read_page(PageRequest(BrowseQuery(relation, search="note"), OWNER, None))
            with pytest.raises(ConnectionFailed, match="not available offline"):
                await source.describe("public", "never_seen")
            store.close()
            return pages, relation, source

    fresh = run(online())
    assert [ids(page) for page in fresh] == [[1, 2], [3, 4], [5, 6], [7]]
    assert all(isinstance(page, CachedPage) and not page.stale for page in fresh)
    net.cut()
    stale, relation, _ = run(offline())
    assert [page.rows for page in stale] == [page.rows for page in fresh]
    assert all(isinstance(page, CachedPage) and page.stale for page in stale)
    first = stale[0]
    assert isinstance(first, CachedPage) and isinstance(fresh[0], CachedPage)
    assert first.fetched_at == fresh[0].fetched_at and first.age_seconds < 60

    net.restore()
    execute(db_url, "update public.notes set body = 'changed' where id = 1")

    async def back() -> CachedPage | None:
        async with PostgresTarget(net.url) as target:
            store = OfflineStore("p", directory=cache)
            source = OfflineSource(TargetSource(target), store)
            request = PageRequest(BrowseQuery(relation), OWNER, None, limit=2)
            shown_first = source.cached_page(request)  # the cache shows at once...
            assert shown_first is not None and shown_first.rows[0][2] == "note 1"
            page = await source.read_page(request)  # ...and the fresh page replaces it
            store.close()
            return page if isinstance(page, CachedPage) else None

    page = run(back())
    assert page is not None and not page.stale and page.rows[0][2] == "changed"


def test_a_slow_server_shows_the_cached_page_and_the_fresh_one_follows(
        db_url: str, net: NetCut, cache: Path, notes: None) -> None:
    async def scenario() -> tuple[Page, CachedPage]:
        async with PostgresTarget(net.url) as target:
            store = OfflineStore("p", directory=cache)
            late: asyncio.Queue[CachedPage] = asyncio.Queue()
            source = OfflineSource(TargetSource(target), store, slow_after=0.2,
                                   on_late_page=lambda request, page: late.put_nowait(page))
            relation = await source.describe("public", "notes")
            request = PageRequest(BrowseQuery(relation), OWNER, None, limit=3)
            await source.read_page(request)
            execute(db_url, "update public.notes set body = 'later' where id = 1")
            net.slow(0.4)
            shown = await source.read_page(request)
            fresh = await asyncio.wait_for(late.get(), 10)
            await source.aclose()
            store.close()
            return shown, fresh

    shown, fresh = run(scenario())
    assert isinstance(shown, CachedPage) and shown.stale and shown.rows[0][2] == "note 1"
    assert not fresh.stale and fresh.rows[0][2] == "later"


def test_rows_seen_as_one_role_are_never_shown_to_another(db_url: str, net: NetCut, cache: Path,
                                                          notes: None) -> None:
    alice = ViewAs.user(ALICE, "alice@example.com")

    async def scenario() -> None:
        async with PostgresTarget(net.url) as target:
            store = OfflineStore("p", directory=cache)
            source = OfflineSource(TargetSource(target), store)
            relation = await source.describe("public", "notes")
            query = BrowseQuery(relation)
            assert [ids(page) for page in await read_all(source, query, alice, limit=10)] == [[2, 4, 6]]
            net.cut()
            assert [ids(page) for page in await read_all(source, query, alice, limit=10)] == [[2, 4, 6]]
            others = [OWNER, ViewAs(BrowseRole.SERVICE_ROLE), ViewAs(BrowseRole.ANON), ViewAs.user(BOB),
                      ViewAs.user(ALICE), ViewAs.user(ALICE, "someone@else")]  # other claims, other key
            for other in others:
                with pytest.raises(ConnectionFailed):
                    await source.read_page(PageRequest(query, other, None, limit=10))
            store.close()

    run(scenario())


def test_a_damaged_or_outdated_cache_file_is_moved_aside_and_rebuilt(db_url: str, cache: Path, notes: None,
                                                                      target: PostgresTarget) -> None:
    store = OfflineStore("p", directory=cache)
    source = OfflineSource(TargetSource(target), store)
    relation = run(source.describe("public", "notes"))
    request = PageRequest(BrowseQuery(relation), OWNER, None, limit=3)
    run(source.read_page(request))
    path = store.path
    store.close()

    path.write_bytes(b"this is not a database" * 1000)  # garbage
    store = OfflineStore("p", directory=cache)
    assert "rebuilt" in store.recovered and store.page(request) is None
    assert len(list(cache.glob("*.unreadable-*"))) == 1
    store.close()

    with sqlite3.connect(path) as conn:  # an older format
        conn.execute("update meta set value = '0' where name = 'format_version'")
    conn.close()
    store = OfflineStore("p", directory=cache)
    assert f"this Studio writes format {FORMAT_VERSION}" in store.recovered
    source = OfflineSource(TargetSource(target), store)
    run(source.read_page(request))
    store.close()

    data = bytearray(path.read_bytes())  # pages damaged in the middle of a real file
    assert len(data) > 8192
    data[4096:8192] = b"\xff" * 4096
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = OfflineStore("p", directory=cache)
    assert store.recovered and store.page(request) is None
    run(OfflineSource(TargetSource(target), store).read_page(request))
    assert store.page(request) is not None
    store.close()


def test_least_recently_used_pages_go_first_past_the_size_cap_and_pinned_ones_last(
        db_url: str, cache: Path, target: PostgresTarget) -> None:
    execute(db_url, "create table public.big (id int primary key, body text);"
                    "insert into public.big select i, repeat('x', 100) from generate_series(1, 400) i;")
    store = OfflineStore("p", directory=cache, size_cap=10_000)
    source = OfflineSource(TargetSource(target), store)
    relation = run(source.describe("public", "big"))

    def request(low: int) -> PageRequest:
        return PageRequest(BrowseQuery(relation, filters=(Filter("id", FilterOp.GREATER, str(low)),)),
                           OWNER, None, limit=20)

    pinned = store.pin(request(0).query, OWNER, "kept")
    run(source.read_page(request(0)))  # pinned view's page
    for low in range(20, 200, 20):
        run(source.read_page(request(low)))
        store.page(request(20))  # shown again and again: recently used
    assert store.cached_bytes() <= 10_000
    assert store.page(request(0)) is not None and store.page(request(20)) is not None
    assert store.page(request(40)) is None  # the least recently used went
    assert store.page(request(180)) is not None
    assert [view.label for view in store.pinned()] == ["kept"]

    store.size_cap = 1
    run(source.read_page(request(300)))  # nothing fits: even pinned pages go
    assert store.page_count() <= 1 and store.page(request(0)) is None

    store.clear()
    assert store.page_count() == 0 and store.pinned() == [] and store.relation("public", "big") is None
    store.unpin(pinned.id)
    store.close()


def test_a_pinned_view_is_read_in_full_and_opens_offline(db_url: str, net: NetCut, cache: Path,
                                                         notes: None) -> None:
    alice = ViewAs.user(ALICE)

    async def scenario() -> tuple[int, list[Page]]:
        async with PostgresTarget(net.url) as target:
            store = OfflineStore("p", directory=cache)
            source = OfflineSource(TargetSource(target), store)
            relation = await source.describe("public", "notes")
            query = BrowseQuery(relation, filters=(Filter("body", FilterOp.CONTAINS, "note"),))
            pinned = store.pin(query, alice, "Alice's notes")
            count = await source.refresh_pinned(pinned, page_size=2)
            assert store.pinned()[0].rows == count and store.pinned()[0].refreshed_at is not None
            net.cut()
            pages = await read_all(source, query, alice, limit=2)
            store.close()
            return count, pages

    count, pages = run(scenario())
    assert count == 3 and [ids(page) for page in pages] == [[2, 4], [6]]
    assert all(isinstance(page, CachedPage) and page.stale for page in pages)
