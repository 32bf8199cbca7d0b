"""The table browser offline, driven offscreen against real PostgreSQL behind a proxy the tests cut (no
mocks): cached rows with a staleness banner, edits kept on this computer with row badges and counts, sync on
reconnect, a conflict resolved in the conflict view, a write refused by row level security in the rejected
list, and rows of one role never shown to another."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.core.browse import BrowseRole, ViewAs
from studio.core.offline import EditDraft, EditKind, EditState, OutboxCounts
from studio.core.targets.local import LocalServer
from studio.services.browse import QUEUED_MESSAGE
from studio.services.jobs import JobRunner
from studio.services.messages import UserMessages
from studio.services.projects import database_project
from studio.ui.models import rows as rows_module
from studio.ui.models.rows import RowsRole, RowState
from studio.ui.pages.browser import BrowserPage, staleness_text
from tests.gui.conftest import run_until
from tests.gui.test_browser import edit_cell, execute, open_table, rows_of, settle, wait_signal
from tests.support.netcut import NetCut

ROOT = Path(__file__).resolve().parents[2]
ALICE = "11111111-1111-1111-1111-111111111111"
BOB = "22222222-2222-2222-2222-222222222222"
TITLE = 2  # grid column of todos.title

MakePage = Callable[[], BrowserPage]


@pytest.fixture
def net(db_url: str) -> Iterator[NetCut]:
    with NetCut(db_url) as proxy:
        yield proxy


@pytest.fixture
def todos(db_url: str) -> None:
    execute(db_url, f"""
        insert into auth.users (id, email) values ('{ALICE}', 'alice@example.com'), ('{BOB}', 'bob@example.com');
        create table public.todos (id int primary key, owner uuid, title text, public boolean default false);
        alter table public.todos enable row level security;
        create policy "own rows" on public.todos for all to authenticated
            using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
        create policy "public rows" on public.todos for select to anon using (public);
        insert into public.todos values
            (1, '{ALICE}', 'alice private', false), (2, '{ALICE}', 'alice public', true),
            (3, '{BOB}', 'bob private', false);
    """)


@pytest.fixture
def make_page(qloop: qasync.QEventLoop, qtbot: QtBot, local_server: LocalServer, net: NetCut, tmp_path: Path,
              messages: UserMessages) -> Iterator[MakePage]:
    """Opens a browser page on the test's database through the proxy, with its relation list loaded (from
    the cache when the proxy is cut)."""
    runner = JobRunner()
    pages: list[BrowserPage] = []
    handle = database_project(local_server, tmp_path, net.url, "Test database")

    def _make() -> BrowserPage:
        page = BrowserPage(runner)
        page.service.retry_base, page.service.retry_max = 0.2, 1.0
        qtbot.addWidget(page)
        page.resize(1280, 760)
        page.show()
        wait_signal(qloop, page, page.service.relations_loaded, lambda: page.set_project(handle))
        pages.append(page)
        return page

    yield _make
    net.restore()
    for page in pages:
        page.shutdown()
    run_until(qloop, lambda: not runner.busy and not runner.background)


def titles(db_url: str) -> dict[int, str]:
    return dict(rows_of(db_url, "select id, title from public.todos order by id"))  # type: ignore[arg-type]


def counts_of(page: BrowserPage) -> list[OutboxCounts]:
    seen: list[OutboxCounts] = []
    page.outbox_changed.connect(seen.append)
    return seen


def save_offline(qloop: qasync.QEventLoop, page: BrowserPage) -> int:
    """Save the staged edits while the network is cut; returns how many edits were queued."""
    (queued,) = wait_signal(qloop, page, page.changes_queued, page.save_changes)
    settle(qloop, page, lambda: not page.model.loading)
    return int(queued)


def reconnect(qloop: qasync.QEventLoop, page: BrowserPage, net: NetCut, done: Callable[[], bool]) -> None:
    """Let the network through, press "Try again" on the banner, and run until `done()`."""
    net.restore()
    page.offline_retry.click()
    settle(qloop, page, lambda: done() and not page.model.loading)


# -- reading offline ------------------------------------------------------------------------------------


def test_rows_seen_online_open_from_the_cache_with_a_banner_when_offline(
        qloop: qasync.QEventLoop, make_page: MakePage, net: NetCut, todos: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.todos")
    assert page.model.rowCount() == 3 and not page.offline_banner.isVisibleTo(page)
    page.shutdown()
    net.cut()

    again = make_page()  # Studio opened again without a network: the list and the rows come from the cache
    assert again.relation_item("public.todos") is not None
    open_table(qloop, again, "public.todos")
    model = again.model
    assert [model.index(row, TITLE).data() for row in range(3)] == ["alice private", "alice public", "bob private"]
    assert model.showing_cached and not again.service.online
    assert again.offline_banner.isVisibleTo(again)
    assert again.offline_label.text().startswith("Offline - showing data from ")
    assert "just now" in again.offline_label.text()

    net.restore()  # back online: "Try again" reads fresh rows, and the banner goes
    again.offline_retry.click()
    settle(qloop, again, lambda: not model.showing_cached and again.service.online)
    assert not again.offline_banner.isVisibleTo(again)


def test_cached_rows_show_at_once_and_fresh_ones_replace_them_also_when_the_server_is_slow(
        qloop: qasync.QEventLoop, make_page: MakePage, net: NetCut, db_url: str, todos: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.todos")
    model = page.model
    execute(db_url, "update public.todos set title = 'renamed' where id = 1")

    page.refresh()  # online: the cache's copy is on screen at once, before the server answers
    assert model.provisional and model.index(0, TITLE).data() == "alice private"
    assert "showing the rows saved at" in page.status.text()
    settle(qloop, page, lambda: not model.loading)
    assert not model.showing_cached and model.index(0, TITLE).data() == "renamed"

    assert page.service.offline is not None  # made with the default threshold: give up sooner
    page.service.offline.slow_after = 0.1
    execute(db_url, "update public.todos set title = 'slowly renamed' where id = 1")
    net.slow(0.4)
    refreshed: list[Any] = []
    page.service.page_refreshed.connect(lambda request, fresh: refreshed.append(fresh))
    model.refresh()
    settle(qloop, page, lambda: not model.loading)
    assert model.showing_cached and model.index(0, TITLE).data() == "renamed"
    assert page.offline_banner.isVisibleTo(page) and "The server is slow" in page.offline_label.text()
    run_until(qloop, lambda: bool(refreshed))  # the slow read finished in the background and replaced them
    net.slow(0)
    assert model.index(0, TITLE).data() == "slowly renamed" and not model.showing_cached
    assert not page.offline_banner.isVisibleTo(page)


def test_the_banner_says_when_the_rows_were_read_in_plain_words() -> None:
    now = datetime(2026, 5, 4, 17, 2, tzinfo=UTC)
    then = now - timedelta(hours=3)
    text = staleness_text(then, offline=True, now=now)
    assert text.startswith(f"Offline - showing data from {then.astimezone():%H:%M}, 3 hours ago")
    assert "slow" in staleness_text(now - timedelta(minutes=1), offline=False, now=now)
    assert "1 minute ago" in staleness_text(now - timedelta(seconds=90), offline=False, now=now)
    assert "2 days ago" in staleness_text(now - timedelta(days=2), offline=True, now=now)


# -- editing offline ------------------------------------------------------------------------------------


def test_an_edit_made_offline_is_kept_with_a_badge_and_sent_when_the_network_returns(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, net: NetCut, db_url: str,
        messages: UserMessages, todos: None) -> None:
    page = make_page()
    counts = counts_of(page)
    open_table(qloop, page, "public.todos")
    net.cut()
    edit_cell(qloop, qtbot, page, 0, TITLE, "written on a train")
    assert save_offline(qloop, page) == 1
    assert page.queued_note.isVisibleTo(page) and page.queued_note.text() == QUEUED_MESSAGE
    assert any(QUEUED_MESSAGE in message.text for message in messages.history)
    model = page.model
    cell = model.index(0, TITLE)
    assert cell.data() == "written on a train"  # the queued value, on the cached row
    assert RowState(cell.data(RowsRole.STATE)) is RowState.QUEUED
    assert cell.data(RowsRole.OUTBOX) == "pending" and model.index(1, TITLE).data(RowsRole.OUTBOX) is None
    assert model.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.DecorationRole) is not None
    assert "not sent yet" in model.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.ToolTipRole)
    assert counts[-1] == OutboxCounts(pending=1)
    assert page.outbox_button.isVisibleTo(page) and "1 waiting to be sent" in page.outbox_button.text()
    assert page.offline_banner.isVisibleTo(page)
    assert titles(db_url)[1] == "alice private"

    reconnect(qloop, page, net, lambda: counts[-1] == OutboxCounts() and model.index(0, TITLE).data(
        RowsRole.OUTBOX) is None)
    assert titles(db_url)[1] == "written on a train"
    settle(qloop, page, lambda: not model.showing_cached)
    assert model.index(0, TITLE).data() == "written on a train"
    assert RowState(model.index(0, TITLE).data(RowsRole.STATE)) is RowState.UNCHANGED  # from the server now
    assert not page.offline_banner.isVisibleTo(page) and not page.queued_note.isVisibleTo(page)
    assert model.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.DecorationRole) is None


def test_a_row_changed_on_the_server_meanwhile_is_a_conflict_and_keep_mine_writes_mine(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, net: NetCut, db_url: str,
        tmp_path: Path, todos: None) -> None:
    page = make_page()
    counts = counts_of(page)
    open_table(qloop, page, "public.todos")
    net.cut()
    edit_cell(qloop, qtbot, page, 0, TITLE, "mine")
    save_offline(qloop, page)
    execute(db_url, "update public.todos set title = 'theirs' where id = 1")  # someone else, meanwhile

    reconnect(qloop, page, net, lambda: bool(counts) and counts[-1].conflict == 1)
    panel = page.offline_edits
    assert panel.isVisibleTo(page)  # a new conflict opens the panel
    edit = panel.edit
    assert edit is not None and edit.state is EditState.CONFLICT
    assert edit.before == {"title": "alice private"} and edit.after == {"title": "mine"}
    assert edit.theirs == {"title": "theirs"}
    headers = [panel.values.horizontalHeaderItem(c).text() for c in range(panel.values.columnCount())]
    assert headers == ["Column", "Original (what you saw)", "Yours", "Theirs (on the server now)",
                       "Merged (editable)"]
    row = [panel.values.item(0, c).text() for c in range(5)]
    assert row == ["title", "alice private", "mine", "theirs", "mine"]
    assert page.model.index(0, TITLE).data(RowsRole.OUTBOX) == "conflict"
    assert page.model.index(0, TITLE).data() == "theirs"  # the grid shows the server's row
    assert titles(db_url)[1] == "theirs"  # never silently overwritten

    # What a user sees offline with a conflict to decide on.
    net.cut()
    page.refresh()
    settle(qloop, page, lambda: page.offline_banner.isVisibleTo(page))
    page.select_cell(0, TITLE)
    shot = page.grab()
    assert not shot.isNull()
    keep = os.environ.get("STUDIO_SCREENSHOTS")
    shot.save(str(ROOT / "docs" / "screenshots" / "table_browser_offline.png" if keep else
                  tmp_path / "table_browser_offline.png"))

    net.restore()
    panel.keep_mine_button.click()
    page.offline_retry.click()
    settle(qloop, page, lambda: counts[-1] == OutboxCounts() and titles(db_url)[1] == "mine"
           and not page.model.showing_cached)
    assert page.model.index(0, TITLE).data() == "mine"
    assert page.model.index(0, TITLE).data(RowsRole.OUTBOX) is None


def test_a_conflict_can_be_merged_or_settled_with_the_servers_version(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, net: NetCut, db_url: str,
        todos: None) -> None:
    page = make_page()
    counts = counts_of(page)
    open_table(qloop, page, "public.todos")
    net.cut()
    edit_cell(qloop, qtbot, page, 0, TITLE, "mine")
    edit_cell(qloop, qtbot, page, 2, TITLE, "mine too")
    assert save_offline(qloop, page) == 2
    execute(db_url, "update public.todos set title = title || ' (edited)' where id in (1, 3)")

    reconnect(qloop, page, net, lambda: bool(counts) and counts[-1].conflict == 2)
    panel = page.offline_edits
    first, second = panel.edits()
    assert panel.edit == first and first.identity == {"id": "1"}
    assert panel.set_value("title", "mine and theirs")
    panel.merge_button.click()
    assert panel.pick(second.seq) and panel.edit is not None and panel.edit.identity == {"id": "3"}
    panel.keep_theirs_button.click()
    settle(qloop, page, lambda: counts[-1] == OutboxCounts() and titles(db_url)[1] == "mine and theirs")
    assert titles(db_url)[3] == "bob private (edited)"
    assert panel.edits() == []


def test_a_write_refused_by_row_level_security_is_listed_with_the_servers_reason(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, net: NetCut, db_url: str,
        todos: None) -> None:
    page = make_page()
    counts = counts_of(page)
    open_table(qloop, page, "public.todos")
    wait_signal(qloop, page, page.model.first_page_loaded, lambda: page.set_view_as(ViewAs(BrowseRole.ANON)))
    assert page.model.rowCount() == 1  # anon sees the public row only
    net.cut()
    edit_cell(qloop, qtbot, page, 0, TITLE, "defaced")
    save_offline(qloop, page)

    reconnect(qloop, page, net, lambda: bool(counts) and counts[-1].rejected == 1)
    panel = page.offline_edits
    assert panel.isVisibleTo(page)
    edit = panel.edit
    assert edit is not None and edit.state is EditState.REJECTED and edit.sqlstate == "42501"
    assert "anon" in (edit.message or "")
    assert edit.message and edit.message in panel.explain.text()
    assert panel.retry_button.isVisibleTo(page) and panel.dismiss_button.isVisibleTo(page)
    assert page.model.index(0, TITLE).data(RowsRole.OUTBOX) == "rejected"
    assert titles(db_url)[2] == "alice public"

    panel.dismiss_button.click()
    settle(qloop, page, lambda: counts[-1] == OutboxCounts())
    assert panel.edits() == [] and page.model.index(0, TITLE).data(RowsRole.OUTBOX) is None


def test_a_rejected_edit_can_be_retried_with_corrected_values(
        qloop: qasync.QEventLoop, qtbot: QtBot, make_page: MakePage, net: NetCut, db_url: str,
        todos: None) -> None:
    execute(db_url, "alter table public.todos add constraint short_titles check (length(title) <= 16)")
    page = make_page()
    counts = counts_of(page)
    open_table(qloop, page, "public.todos")
    net.cut()
    edit_cell(qloop, qtbot, page, 2, TITLE, "a title far too long for the rule")
    save_offline(qloop, page)

    reconnect(qloop, page, net, lambda: bool(counts) and counts[-1].rejected == 1)
    panel = page.offline_edits
    assert panel.edit is not None and panel.edit.sqlstate == "23514"
    assert "short_titles" in panel.explain.text()
    assert panel.set_value("title", "short one")
    panel.retry_button.click()
    settle(qloop, page, lambda: counts[-1] == OutboxCounts() and titles(db_url)[3] == "short one")


# -- roles ----------------------------------------------------------------------------------------------


def test_rows_read_as_one_role_are_never_shown_to_another_offline(
        qloop: qasync.QEventLoop, make_page: MakePage, net: NetCut, messages: UserMessages, todos: None) -> None:
    page = make_page()
    open_table(qloop, page, "public.todos")
    service_role = ViewAs(BrowseRole.SERVICE_ROLE)
    wait_signal(qloop, page, page.model.first_page_loaded, lambda: page.set_view_as(service_role))
    assert page.model.rowCount() == 3
    net.cut()

    failed: list[Any] = []
    page.service.failed.connect(lambda kind, message: failed.append((kind, message)))
    page.set_view_as(ViewAs(BrowseRole.ANON))
    settle(qloop, page, lambda: bool(failed) and not page.model.loading)
    assert page.model.rowCount() == 0 and not page.model.showing_cached
    assert failed[0][0] == "browse.page" and "viewed as anon, are not on this computer" in failed[0][1]
    assert "not on this computer" in page.status.text()

    wait_signal(qloop, page, page.model.first_page_loaded, lambda: page.set_view_as(service_role))
    assert page.model.rowCount() == 3 and page.model.showing_cached  # its own rows, marked as cached
    assert page.offline_banner.isVisibleTo(page)


# -- pinned views and clearing --------------------------------------------------------------------------


def test_a_pinned_view_is_read_in_full_and_the_cache_can_be_cleared(
        qloop: qasync.QEventLoop, make_page: MakePage, net: NetCut, db_url: str, todos: None) -> None:
    execute(db_url, "insert into public.todos select g, null, 'bulk ' || g from generate_series(10, 1400) g")
    page = make_page()
    open_table(qloop, page, "public.todos")
    assert page.model.rowCount() == 500  # only the first page was read
    pinned = page.toggle_pin()
    assert pinned is not None and page.current_pin() is not None
    run_until(qloop, lambda: not page.service.jobs.running("browse.pinned"))
    (view,) = page.service.pinned_views()
    assert view.rows == 1394 and view.refreshed_at is not None

    page.clear_offline_cache()
    assert page.service.pinned_views() == [] and page.current_pin() is None
    net.cut()
    failed: list[Any] = []
    page.service.failed.connect(lambda kind, message: failed.append(kind))
    page.refresh()
    settle(qloop, page, lambda: "browse.page" in failed)
    assert page.model.rowCount() == 0  # nothing kept any more


def test_with_thousands_of_edits_waiting_a_burst_of_outbox_changes_reads_the_badges_once_more_not_each_time(
        qloop: qasync.QEventLoop, make_page: MakePage, todos: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Reads of the badges count as costly from any duration here, so a fast machine throttles as a slow one.
    monkeypatch.setattr(rows_module, "OUTBOX_CHEAP_MS", 0)
    page = make_page()
    open_table(qloop, page, "public.todos")
    model, service = page.model, page.service
    assert service.outbox is not None and page.relation is not None
    relation = page.relation
    service.outbox.queue([EditDraft.build(relation, EditKind.UPDATE, (str(1000 + i),), {"title": "x"},
                                          {"title": "y"}) for i in range(3000)], ViewAs())
    reads: list[float] = []
    read = model._read_outbox

    def counted() -> Any:
        reads.append(time.perf_counter())
        return read()

    model._read_outbox = counted  # type: ignore[method-assign]
    try:
        for _ in range(5):  # warm: the first change reads at once and finds the read costly
            service.outbox_changed.emit(service.outbox.counts())
        reads.clear()
        for _ in range(20):  # a sync reporting batch after batch
            service.outbox_changed.emit(service.outbox.counts())
        assert len(reads) <= 1
        run_until(qloop, lambda: not model._outbox_timer.isActive() and not model._outbox_dirty)
        assert 1 <= len(reads) <= 2  # once more after the burst, with what the outbox holds then
    finally:
        model._read_outbox = read  # type: ignore[method-assign]
    settle(qloop, page, lambda: True)
