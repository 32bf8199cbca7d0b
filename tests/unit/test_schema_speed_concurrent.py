"""The catalog query in two parts, read at once: the same catalog and fingerprint as the query read whole.

The round trips and the drift check run the query on real servers; here the parts' plumbing is pinned down
with a target that plays back answers in a chosen order (no server needed).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from studio.core.errors import ConnectionFailed
from studio.core.schema.diff import _KIND_RANK, _SORT_PREFIXES, _priority, _sort_key
from studio.core.schema.introspect import (
    INTROSPECTION_SETTINGS,
    SPLIT_FROM_TABLES,
    catalog_query,
    catalog_query_parts,
    document_fingerprint,
    introspect,
    introspect_pair,
)
from studio.core.schema.plan import Change
from studio.core.targets.base import Row, Target
from studio.core.targets.postgres import PostgresTarget, _is_local

_CLASSES = {"1259": "pg_class", "1247": "pg_type", "1255": "pg_proc", "2606": "pg_constraint",
            "2618": "pg_rewrite", "2620": "pg_trigger", "3256": "pg_policy", "2615": "pg_namespace"}


def _parts() -> tuple[str, str, str]:
    """(part_a, part_b, estimates) of a one-table schema, as the server would send them."""
    part_a = {
        "server_version": 180000, "acl_roles": ["PUBLIC", "anon"], "comments": [None] * 4,
        "schemas": [{"oid": 2200, "name": "public", "acl": None}], "extensions": [], "types": [],
        "relations": [[100], ["public"], ["t"], ["r"], [101], [True], [False], ["p"], [False], [None], [None],
                      [None], [None], [None], [None], [None], [None]],
        "columns": [[100], [1], ["id"], ["integer"], [True], [None], [None], ["d"], [None], [None], [None]],
        "functions": [], "triggers": [], "publications": [], "default_grants": [], "publication_names": [],
        "other_objects": [], "identity_sequences": [None] * 4, "catalog_classes": _CLASSES,
        "depends": [[2606], [300], [0], [1259], [100], [1], ["a"]],
    }
    part_b = {
        "constraints": [[300], [100], ["t_pkey"], ["p"], ["PRIMARY KEY (id)"], [None], [False]],
        "indexes": [None] * 6,
        "policies": [[600], [100], ["read"], ["r"], [True], [[0]], ["(id > 0)"], [None]],
        "policy_roles": [[0, "public"]],
    }
    return json.dumps(part_a), json.dumps(part_b), json.dumps([[100], [-1.0]])


class _Whole(Target):
    """Answers the whole query in one round trip."""

    description = "whole"

    def __init__(self) -> None:
        self.queries: list[str] = []

    async def fetch(self, sql: str, params: Sequence[Any] | None = None, *,
                    settings: Mapping[str, str] | None = None) -> list[Row]:
        self.queries.append(sql)
        part_a, part_b, estimates = _parts()
        return [(part_a, part_b, estimates)]

    async def run_transaction(self, statements: Sequence[str], *, on_statement: Any = None) -> None:
        raise AssertionError("not used")

    async def run_each(self, statements: Sequence[str], *, on_statement: Any = None) -> None:
        raise AssertionError("not used")

    async def close(self) -> None:
        pass


class _Concurrent(_Whole):
    """Answers the two parts through `fetch_concurrently`, the parts arriving in `arrival` order; says the
    schema is `large` (or not) when asked how many tables it has."""

    concurrent_reads = True

    def __init__(self, arrival: tuple[int, int], large: bool = True) -> None:
        super().__init__()
        self.arrival = arrival
        self.large = large
        self.settings: Mapping[str, str] | None = None

    async def fetch(self, sql: str, params: Sequence[Any] | None = None, *,
                    settings: Mapping[str, str] | None = None) -> list[Row]:
        if "count(*)" in sql:
            self.queries.append("count")
            assert params == [SPLIT_FROM_TABLES]
            return [(self.large,)]
        return await super().fetch(sql, params, settings=settings)

    async def fetch_concurrently(self, queries: Sequence[str], *, settings: Mapping[str, str] | None = None,
                                 on_result: Callable[[int, list[Row]], None] | None = None) -> list[list[Row]]:
        self.queries.extend(queries)
        self.settings = settings
        part_a, part_b, estimates = _parts()
        answers: list[list[Row]] = [[(part_b,)], [(part_a, estimates)]]
        for number in self.arrival:
            await asyncio.sleep(0)
            if on_result is not None:
                on_result(number, answers[number])
        return answers


@pytest.mark.parametrize("arrival", [(0, 1), (1, 0)])
def test_the_parts_read_at_once_make_the_catalog_of_the_whole_query(arrival: tuple[int, int]) -> None:
    whole = asyncio.run(introspect(_Whole()))
    target = _Concurrent(arrival)
    parts = asyncio.run(introspect(target))
    assert target.queries == ["count", *catalog_query_parts()]
    assert target.settings == INTROSPECTION_SETTINGS
    assert list(parts.objects) == list(whole.objects)
    assert parts.content_hash() == whole.content_hash()
    assert {k: o.deps for k, o in parts.objects.items()} == {k: o.deps for k, o in whole.objects.items()}
    assert parts.row_estimates == whole.row_estimates == {"table:public.t": -1}
    part_a, part_b, _ = _parts()
    expected = hashlib.sha256(f"{part_a}\n{part_b}".encode()).hexdigest()
    assert parts.fingerprint == whole.fingerprint == expected
    assert document_fingerprint(part_a, part_b) == expected


def test_a_small_schema_is_read_whole_even_where_reads_can_run_at_once() -> None:
    target = _Concurrent((0, 1), large=False)
    catalog = asyncio.run(introspect(target))
    assert target.queries == ["count", catalog_query()]
    assert catalog.content_hash() == asyncio.run(introspect(_Whole())).content_hash()


def test_the_parts_and_the_whole_query_share_one_text() -> None:
    whole = catalog_query(["storage"])
    first, second = catalog_query_parts(["storage"])
    prelude = whole[:whole.rindex("\nselect ")]
    assert first.startswith(prelude) and second.startswith(prelude)
    assert "'auth'" in prelude and "'storage'" not in prelude  # asked for, so not left out
    assert whole.endswith("from doc_a, doc_b, stats")
    assert first.endswith("from doc_b") and second.endswith("from doc_a, stats")


def test_introspect_pair_reads_both_and_raises_the_first_failure() -> None:
    class Failing(_Whole):
        async def fetch(self, sql: str, params: Sequence[Any] | None = None, *,
                        settings: Mapping[str, str] | None = None) -> list[Row]:
            await asyncio.sleep(0)
            raise ConnectionFailed("gone")

    other = _Whole()
    with pytest.raises(ConnectionFailed):
        asyncio.run(introspect_pair(Failing(), other))
    assert other.queries  # the other read still ran to its end
    live, desired = asyncio.run(introspect_pair(_Whole(), _Concurrent((1, 0))))
    assert live.content_hash() == desired.content_hash()


def test_sort_prefixes_are_the_sort_keys_first_characters() -> None:
    for (drop, transactional, kind), prefix in _SORT_PREFIXES.items():
        change = Change(0, "drop" if drop else "create", kind, "k", "", [], [], transactional)
        assert _sort_key(change) == prefix + "k"
    assert {kind for _, _, kind in _SORT_PREFIXES} == set(_KIND_RANK)


@pytest.mark.parametrize(("conninfo", "local"), [
    ("postgresql://postgres@/postgres?host=/tmp/x", True),
    ("host=/var/run/postgresql dbname=postgres", True),
    ("postgresql://postgres@localhost:5432/postgres", True),
    ("postgresql://postgres@127.0.0.1/postgres", True),
    ("host=::1 dbname=postgres", True),
    ("postgresql://postgres@db.example.supabase.co:5432/postgres", False),
    ("host=localhost,db.example.com dbname=postgres", False),
    ("hostaddr=10.0.0.5 host=localhost dbname=postgres", False),
])
def test_only_a_server_on_this_computer_gets_concurrent_reads(conninfo: str, local: bool,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGHOST", raising=False)
    monkeypatch.delenv("PGHOSTADDR", raising=False)
    assert PostgresTarget(conninfo).concurrent_reads is local


def test_no_host_means_libpq_default_unless_the_environment_names_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGHOSTADDR", raising=False)
    monkeypatch.delenv("PGHOST", raising=False)
    assert _is_local({"dbname": "postgres"})
    monkeypatch.setenv("PGHOST", "db.example.com")
    assert not _is_local({"dbname": "postgres"})


def test_a_query_without_its_own_connection_runs_on_the_target_s(monkeypatch: pytest.MonkeyPatch) -> None:
    main = PostgresTarget("postgresql://postgres@/postgres?host=/nowhere")
    seen: list[tuple[str, bool]] = []

    async def fetch(self: PostgresTarget, sql: str, params: Sequence[Any] | None = None, *,
                    settings: Mapping[str, str] | None = None) -> list[Row]:
        await asyncio.sleep(0)
        seen.append((sql, self is main))
        if self is not main:
            raise ConnectionFailed("too many connections")
        return [(sql,)]

    async def close(self: PostgresTarget) -> None:
        pass

    monkeypatch.setattr(PostgresTarget, "fetch", fetch)
    monkeypatch.setattr(PostgresTarget, "close", close)
    arrived: list[int] = []
    rows = asyncio.run(main.fetch_concurrently(["q1", "q2", "q3"], on_result=lambda n, _: arrived.append(n)))
    assert rows == [[("q1",)], [("q2",)], [("q3",)]]
    assert sorted(arrived) == [0, 1, 2]
    assert sorted(sql for sql, on_main in seen if on_main) == ["q1", "q2", "q3"]
    assert {sql for sql, on_main in seen if not on_main} == {"q2", "q3"}


def test_prefix_table_covers_every_combination() -> None:
    combos = set(itertools.product((True, False), (True, False), _KIND_RANK))
    assert set(_SORT_PREFIXES) == combos


def _reference_order(changes: list[Change], before: dict[int, dict[int, Change]]) -> list[Change]:
    """The plan order as the module docstring defines it: ready changes by (priority, when they became ready)."""
    import heapq

    place = {id(c): number for number, c in enumerate(changes)}  # (changes may be equal: never .index())
    pending = {id(c): len(before.get(id(c), {})) for c in changes}
    followers: dict[int, list[Change]] = {}
    for change in changes:
        for first in before.get(id(change), {}).values():
            followers.setdefault(id(first), []).append(change)
    heap: list[tuple[Any, int, int]] = []
    pushed = 0
    for change in changes:
        if not pending[id(change)]:
            heapq.heappush(heap, (_priority(change), pushed, place[id(change)]))
            pushed += 1
    ordered = []
    while heap:
        change = changes[heapq.heappop(heap)[2]]
        ordered.append(change)
        for follower in followers.get(id(change), []):
            pending[id(follower)] -= 1
            if not pending[id(follower)]:
                heapq.heappush(heap, (_priority(follower), pushed, place[id(follower)]))
                pushed += 1
    return ordered


@pytest.mark.parametrize("seed", range(20))
def test_plan_order_is_priority_then_readiness(seed: int) -> None:
    import random

    from studio.core.schema.catalog import Catalog
    from studio.core.schema.diff import _Differ
    from studio.core.schema.plan import PlanOptions

    rng = random.Random(seed)
    kinds = ["table", "column", "index", "policy", "grant", "no_such_kind"]
    changes = [Change(0, rng.choice(["create", "drop", "alter"]), rng.choice(kinds),
                      f"k{rng.randrange(6)}", "", [], [], rng.random() < 0.8) for _ in range(40)]
    differ = _Differ(Catalog(), Catalog(), PlanOptions())
    differ.changes = changes
    for number, change in enumerate(changes):  # edges only from earlier to later changes: no cycles
        for first in rng.sample(changes[:number], min(number, rng.randrange(3))):
            differ._edge(first, change)
    expected = _reference_order(changes, dict(differ.before))
    assert [id(c) for c in differ._order()] == [id(c) for c in expected]
