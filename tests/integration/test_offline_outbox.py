"""The outbox against real PostgreSQL and real SQLite: edits made offline, sent in order exactly once,
conflicts and rejections set aside, and a process killed at random points losing and doubling nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from studio.core.browse import BrowseRole, Relation, StagedChanges, TargetSource, ViewAs
from studio.core.offline import (
    LEDGER,
    EditDraft,
    EditKind,
    EditState,
    OfflineSource,
    OfflineStore,
    Outbox,
    OutboxEdit,
    keep_syncing,
    sync_outbox,
)
from studio.core.offline.sync import SyncReport, edit_statement
from studio.core.targets.postgres import PostgresTarget
from tests.support.netcut import NetCut

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
ALICE = "11111111-1111-1111-1111-111111111111"
BOB = "22222222-2222-2222-2222-222222222222"
SERVICE = ViewAs(BrowseRole.SERVICE_ROLE)


def run(work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(work)


def execute(db_url: str, sql: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql)


def rows_of(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def net(db_url: str) -> Iterator[NetCut]:
    with NetCut(db_url) as proxy:
        yield proxy


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OfflineStore]:
    opened = OfflineStore("test project", directory=tmp_path / "cache")
    yield opened
    opened.close()


@pytest.fixture
def todos(db_url: str, target: PostgresTarget) -> Relation:
    execute(db_url, f"""
        insert into auth.users (id, email) values ('{ALICE}', 'alice@example.com'), ('{BOB}', 'bob@example.com');
        create table public.todos (id int primary key, owner uuid, title text, public boolean default false,
                                   rank int check (rank >= 0));
        alter table public.todos enable row level security;
        create policy "own rows" on public.todos for all to authenticated
            using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
        create policy "public rows" on public.todos for select to anon using (public);
        insert into public.todos values
            (1, '{ALICE}', 'alice private', false, 1), (2, '{ALICE}', 'alice public', true, 2),
            (3, '{BOB}', 'bob private', false, 3);
    """)
    return run(TargetSource(target).describe("public", "todos"))


def titles(db_url: str) -> dict[int, str]:
    return dict(rows_of(db_url, "select id, title from public.todos order by id"))  # type: ignore[arg-type]


def update(relation: Relation, row: str, column: str, old: str | None, new: str | None) -> EditDraft:
    return EditDraft.build(relation, EditKind.UPDATE, (row,), {column: old}, {column: new})


def ledger_size(db_url: str) -> int:
    found = rows_of(db_url, f"select to_regclass('{LEDGER}') is not null")[0][0]
    return int(rows_of(db_url, f"select count(*) from {LEDGER}")[0][0]) if found else 0


# -- offline, then back ---------------------------------------------------------------------------------


def test_edits_made_offline_are_queued_and_sent_in_order_when_the_network_returns(
        db_url: str, net: NetCut, store: OfflineStore, todos: Relation) -> None:
    outbox = Outbox(store, retry_base=0.05)
    told: list[tuple[int, str]] = []

    async def scenario() -> tuple[SyncReport, SyncReport]:
        async with PostgresTarget(net.url) as target:
            source = OfflineSource(TargetSource(target), store, outbox=outbox,
                                   on_queued=lambda edits, why: told.append((len(edits), why)))
            relation = await source.describe("public", "todos")
            net.cut()
            changes = StagedChanges(relation)
            changes.set_value(("1",), "title", "first", "alice private")
            changes.delete_row(("3",))
            new = changes.add_row()
            changes.set_new_value(new, "id", "4")
            changes.set_new_value(new, "title", "added offline")
            assert await source.commit(changes, SERVICE) == 3
            later = StagedChanges(relation)  # the same cell again: must land after the first change
            later.set_value(("1",), "title", "second", "first")
            assert await source.commit(later, SERVICE) == 1
            offline = await sync_outbox(outbox, target)
            net.restore()
            return offline, await sync_outbox(outbox, target)

    offline, online = run(scenario())
    assert [count for count, _ in told] == [3, 1]
    assert "could not be reached" in told[0][1] and "waiting" in told[1][1]
    assert offline.retry_in is not None and offline.remaining == 4 and offline.error
    assert online.applied == 4 and online.remaining == 0 and online.conflicts == online.rejected == 0
    assert titles(db_url) == {1: "second", 2: "alice public", 4: "added offline"}
    assert [edit.state for edit in outbox.edits()] == [EditState.APPLIED] * 4
    assert outbox.counts().pending == 0 and outbox.retry_in() == 0
    assert ledger_size(db_url) == 0  # keys of settled edits are forgotten
    assert outbox.prune(older_than=0) == 4 and outbox.edits() == []


def test_an_online_commit_writes_its_keys_and_a_lost_answer_never_doubles_it(
        db_url: str, store: OfflineStore, target: PostgresTarget, todos: Relation) -> None:
    outbox = Outbox(store)
    source = OfflineSource(TargetSource(target), store, outbox=outbox)
    changes = StagedChanges(todos)
    new = changes.add_row()
    changes.set_new_value(new, "id", "10")
    changes.set_new_value(new, "title", "online")
    assert run(source.commit(changes, SERVICE)) == 1
    assert [edit.state for edit in outbox.edits()] == [EditState.APPLIED]
    assert ledger_size(db_url) == 1
    # The same edit, as if its answer had been lost and it had been queued: the server skips it.
    applied = outbox.edits()[0]
    run(target.run_transaction([edit_statement(applied)]))
    assert rows_of(db_url, "select count(*) from public.todos where id = 10") == [(1,)]
    run(sync_outbox(outbox, target))
    assert ledger_size(db_url) == 0


class Crash(Exception):
    """Stands for the process dying right after the server committed."""


def test_a_crash_between_the_servers_commit_and_the_outbox_applies_each_edit_once(
        db_url: str, store: OfflineStore, target: PostgresTarget) -> None:
    execute(db_url, "create table public.log (id bigint generated always as identity primary key, note text)")
    log = run(TargetSource(target).describe("public", "log"))
    outbox = Outbox(store)
    outbox.queue([EditDraft.build(log, EditKind.INSERT, None, {}, {"note": f"n{i}"}) for i in range(30)], SERVICE)

    def crash(edits: Sequence[OutboxEdit]) -> None:
        raise Crash

    with pytest.raises(Crash):
        run(sync_outbox(outbox, target, batch_size=10, after_commit=crash))
    assert rows_of(db_url, "select count(*) from public.log") == [(10,)]
    assert outbox.counts().pending == 30  # nothing was marked: the outbox does not know they arrived
    report = run(sync_outbox(outbox, target, batch_size=7))
    assert report.applied == 30 and report.remaining == 0
    assert rows_of(db_url, "select count(*), count(distinct note) from public.log") == [(30, 30)]


# -- conflicts ----------------------------------------------------------------------------------------------


def test_a_row_changed_on_the_server_is_a_conflict_kept_with_yours_theirs_and_original(
        db_url: str, store: OfflineStore, target: PostgresTarget, todos: Relation) -> None:
    outbox = Outbox(store)
    outbox.queue([
        update(todos, "1", "title", "alice private", "mine 1"),
        update(todos, "2", "title", "alice public", "mine 2"),
        update(todos, "3", "title", "bob private", "mine 3"),
        update(todos, "3", "rank", "3", "30"),  # another column of a changed row: no conflict
        EditDraft.build(todos, EditKind.DELETE, ("2",), {"title": "alice public"}, {}),
        update(todos, "1", "public", "false", "true"),
    ], SERVICE)
    execute(db_url, "update public.todos set title = 'theirs 1' where id = 1;"
                    "update public.todos set title = 'mine 2' where id = 2;"  # same value as ours: no conflict
                    "update public.todos set title = 'theirs 3' where id = 3;")
    report = run(sync_outbox(outbox, target, batch_size=3))
    assert (report.applied, report.conflicts, report.rejected) == (3, 3, 0)
    conflicts = outbox.edits(EditState.CONFLICT)
    first, third, deleted = conflicts
    assert (first.before, first.after, first.theirs) == (
        {"title": "alice private"}, {"title": "mine 1"}, {"title": "theirs 1"})
    assert third.theirs == {"title": "theirs 3"} and third.sqlstate == "ST409"
    assert deleted.kind is EditKind.DELETE and deleted.theirs == {"title": "mine 2"}
    assert "changed on the server" in (first.message or "")
    assert rows_of(db_url, "select id, title, rank, public from public.todos order by id") == [
        (1, "theirs 1", 1, True), (2, "mine 2", 2, True), (3, "theirs 3", 30, False)]
    assert outbox.counts().conflict == 3
    assert [edit.kind for edit in outbox.for_row("public", "todos", {"id": "1"})] == [EditKind.UPDATE]

    outbox.keep_mine(first.seq)
    outbox.keep_theirs(third.seq)
    outbox.keep_mine(deleted.seq)
    report = run(sync_outbox(outbox, target))
    assert report.applied == 2 and report.conflicts == 0
    assert titles(db_url) == {1: "mine 1", 3: "theirs 3"}
    assert outbox.get(third.seq).state is EditState.DISCARDED


def test_a_merge_and_a_row_deleted_on_the_server(db_url: str, store: OfflineStore, target: PostgresTarget,
                                                 todos: Relation) -> None:
    outbox = Outbox(store)
    outbox.queue([update(todos, "1", "title", "alice private", "mine"),
                  update(todos, "3", "title", "bob private", "gone")], SERVICE)
    execute(db_url, "update public.todos set title = 'theirs' where id = 1; delete from public.todos where id = 3")
    run(sync_outbox(outbox, target))
    changed, gone = outbox.edits(EditState.CONFLICT)
    assert gone.theirs is None and gone.sqlstate == "ST410" and "deleted on the server" in (gone.message or "")
    with pytest.raises(Exception, match="deleted on the server"):
        outbox.keep_mine(gone.seq)
    outbox.merge(changed.seq, {"title": "mine + theirs"})
    outbox.keep_theirs(gone.seq)
    assert run(sync_outbox(outbox, target)).applied == 1
    assert titles(db_url) == {1: "mine + theirs", 2: "alice public"}
    assert outbox.counts().attention == 0


# -- rejections ---------------------------------------------------------------------------------------------


def test_writes_the_server_refuses_are_rejected_with_its_reason_and_do_not_block_the_queue(
        db_url: str, store: OfflineStore, target: PostgresTarget, todos: Relation) -> None:
    outbox = Outbox(store)
    alice = ViewAs.user(ALICE, "alice@example.com")
    anon = ViewAs(BrowseRole.ANON)
    outbox.queue([update(todos, "3", "title", "bob private", "hers now")], alice)  # hidden from Alice by RLS
    outbox.queue([EditDraft.build(todos, EditKind.INSERT, None, {}, {"id": "9", "owner": BOB})], alice)  # CHECK
    outbox.queue([update(todos, "2", "title", "alice public", "defaced")], anon)  # anon may only read
    outbox.queue([EditDraft.build(todos, EditKind.INSERT, None, {}, {"id": "1"})], SERVICE)  # 23505
    outbox.queue([update(todos, "2", "rank", "2", "-1")], SERVICE)  # 23514
    outbox.queue([update(todos, "2", "rank", "2", "two")], SERVICE)  # 22P02
    outbox.queue([update(todos, "1", "title", "alice private", "fine")], alice)
    report = run(sync_outbox(outbox, target, batch_size=4))
    assert (report.applied, report.conflicts, report.rejected) == (1, 0, 6)
    rejected = outbox.edits(EditState.REJECTED)
    assert [edit.sqlstate for edit in rejected] == ["42501", "42501", "42501", "23505", "23514", "22P02"]
    assert "hides this row from user alice@example.com" in (rejected[0].message or "")
    assert "row-level security" in (rejected[1].message or "")
    assert "does not let anon change this row" in (rejected[2].message or "")
    assert "duplicate key" in (rejected[3].message or "")
    assert titles(db_url) == {1: "fine", 2: "alice public", 3: "bob private"}
    assert outbox.counts().rejected == 6

    outbox.retry(rejected[4].seq, {"rank": "5"})
    outbox.dismiss(rejected[5].seq)
    assert run(sync_outbox(outbox, target)).applied == 1
    assert rows_of(db_url, "select rank from public.todos where id = 2") == [(5,)]
    assert outbox.counts().rejected == 4


# -- retry with backoff -----------------------------------------------------------------------------------


def test_transient_failures_retry_on_a_timer_with_backoff(db_url: str, net: NetCut, store: OfflineStore,
                                                         todos: Relation) -> None:
    outbox = Outbox(store, retry_base=0.05, retry_max=0.2)
    outbox.queue([update(todos, "1", "title", "alice private", "eventually")], SERVICE)
    reports: list[SyncReport] = []

    async def scenario() -> None:
        async with PostgresTarget(net.url) as target:
            done = asyncio.Event()

            def seen(report: SyncReport) -> None:
                reports.append(report)
                if len([r for r in reports if r.error]) == 3:
                    net.restore()
                if report.remaining == 0 and not report.error:
                    done.set()

            net.cut()
            loop = asyncio.ensure_future(keep_syncing(outbox, target, wake=asyncio.Event(), on_report=seen))
            try:
                await asyncio.wait_for(done.wait(), 20)
            finally:
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop

    run(scenario())
    failures = [report for report in reports if report.error]
    assert len(failures) == 3 and reports[-1].applied == 1
    delays = [report.retry_in or 0 for report in failures]
    assert delays[0] < delays[2]  # backing off
    assert titles(db_url)[1] == "eventually"


# -- crash safety ------------------------------------------------------------------------------------------


class Child:
    """A child process whose output lines are collected as they come (its errors go to `log`)."""

    def __init__(self, log: Path, *args: str) -> None:
        self.lines: list[str] = []
        self.log = log
        with log.open("a") as errors:
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.support.outbox_child", *args], cwd=ROOT,
                                         stdout=subprocess.PIPE, stderr=errors, text=True)
        self.commits = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout as out:
            for line in out:
                self.lines.append(line.strip())
                if line.startswith("C "):
                    self.commits.set()

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)

    def wait(self) -> int:
        code = self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        return code

    def errors(self) -> str:
        return self.log.read_text()


@pytest.mark.slow
def test_sigkill_while_queueing_and_syncing_loses_and_doubles_nothing(db_url: str, tmp_path: Path) -> None:
    execute(db_url, """
        create table public.events (id bigint generated always as identity primary key,
                                    payload text not null check (payload not like 'bad%'));
        create table public.counter (id int primary key, n int not null);
        insert into public.counter values (1, 0);
    """)
    total, cache = 1000, str(tmp_path / "cache")
    seed = int(os.environ.get("OUTBOX_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    in_the_window = 0  # kills after the server committed a batch and before the outbox marked it
    acknowledged: set[int] = set()
    kills = {"Q ": 0, "C ": 0}

    def kill_after(child: Child, prefix: str, count: int, extra: float) -> None:
        """Kill `child` once it printed `count` lines starting with `prefix` (and `extra` seconds more)."""
        deadline = time.monotonic() + 30
        while child.proc.poll() is None and time.monotonic() < deadline:
            if sum(1 for line in list(child.lines) if line.startswith(prefix)) >= count:
                time.sleep(extra)
                break
            time.sleep(0.001)
        if child.proc.poll() is None:
            child.kill()
            kills[prefix] = kills.get(prefix, 0) + 1

    while True:  # queue, killed at random moments (the first life also pays for the imports)
        child = Child(tmp_path / "queue.log", "queue", db_url, cache, str(total))
        kill_after(child, "Q ", rng.randint(100, 450), rng.uniform(0, 0.004))
        code = child.wait()
        acknowledged.update(int(line[2:]) for line in child.lines if line.startswith("Q "))
        if "DONE" in child.lines:
            break
        assert code == -signal.SIGKILL, child.errors()
        assert kills["Q "] < 40

    while True:  # sync, killed at random moments - often right after a server commit
        child = Child(tmp_path / "sync.log", "sync", db_url, cache)
        kill_after(child, "C ", rng.randint(1, 6), rng.choice([0.0, 0.0, rng.uniform(0, 0.03)]))
        code = child.wait()
        if "DONE" in child.lines:
            break
        assert code == -signal.SIGKILL, child.errors()
        assert kills["C "] < 40
        on_server = rows_of(db_url, "select n from public.counter")[0][0]
        store = OfflineStore("crash-test", directory=Path(cache))
        marked = sum(1 for edit in Outbox(store).edits(EditState.APPLIED) if edit.kind is EditKind.UPDATE)
        store.close()
        in_the_window += on_server > marked

    assert kills["Q "] >= 2 and kills["C "] >= 2 and in_the_window >= 1, (seed, kills, in_the_window)
    store = OfflineStore("crash-test", directory=Path(cache))
    edits = Outbox(store).edits()
    store.close()
    assert len(edits) == total and acknowledged <= set(range(total)), seed  # every acknowledged edit is there
    by_payload = dict(rows_of(db_url, "select payload, count(*) from public.events group by payload"))
    inserts = [edit for edit in edits if edit.kind is EditKind.INSERT]
    for edit in inserts:
        payload = edit.after["payload"]
        if payload is not None and payload.startswith("bad"):
            assert edit.state is EditState.REJECTED and edit.sqlstate == "23514"
            assert payload not in by_payload
        else:
            assert edit.state is EditState.APPLIED
            assert by_payload.get(payload) == 1, f"{payload} applied {by_payload.get(payload, 0)} times"
    assert sum(by_payload.values()) == len([e for e in inserts if e.state is EditState.APPLIED])
    updates = [edit for edit in edits if edit.kind is EditKind.UPDATE]
    assert all(edit.state is EditState.APPLIED for edit in updates)  # a doubled one would have conflicted
    assert rows_of(db_url, "select n from public.counter") == [(len(updates),)]


def test_hostile_names_and_values_survive_the_round_trip(db_url: str, store: OfflineStore,
                                                         target: PostgresTarget) -> None:
    execute(db_url, '''create schema "Sch é""ma"; create table "Sch é""ma"."select ta$ble" (
        "found" int primary key, "va l""ue" text, "jsön" jsonb)''')
    relation = run(TargetSource(target).describe('Sch é"ma', "select ta$ble"))
    nasty = "it's $studio_edit$ -- \\ ; 'x' $$"
    outbox = Outbox(store)
    outbox.queue([EditDraft.build(relation, EditKind.INSERT, None, {}, {"found": "1", 'va l"ue': nasty,
                                                                        "jsön": '{"b": 1, "a": 2}'}),
                  EditDraft.build(relation, EditKind.UPDATE, ("1",), {'va l"ue': nasty}, {'va l"ue': nasty + "!"}),
                  EditDraft.build(relation, EditKind.UPDATE, ("1",), {"jsön": '{"a": 2, "b": 1}'},
                                  {"jsön": '{"c": 3}'})], ViewAs())  # service_role may not use the schema
    report = run(sync_outbox(outbox, target))
    assert (report.applied, report.conflicts, report.rejected) == (3, 0, 0), [e.message for e in outbox.edits()]
    assert rows_of(db_url, '''select "va l""ue", "jsön"::text from "Sch é""ma"."select ta$ble"''') == [
        (nasty + "!", '{"c": 3}')]
