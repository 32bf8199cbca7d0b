"""Time migra on two databases; run by benchmarks/diff_scale.py inside benchmarks/.venv-migra.

Not importable from the app's environment (migra lives only in its own venv). Each run opens fresh
connections (no pooling between runs), so its `total` covers connecting, inspecting both databases
(`migra.Migration(...)` inspects eagerly), computing the changes and rendering the SQL. Connections are
closed after the clock stops.

Two ways to drive it:

- Batch (by hand): `--repeat N [--warmup W]` prints one JSON object,
  `{"versions": {...}, "runs": [{"connect": s, "inspect": s, "changes": s, "sql": s, "total": s}, ...],
  "sql_chars": n, "verify": {...} | null}`.
- `--serve` (how diff_scale.py uses it, so that migra's and Studio's runs can alternate): read commands
  from stdin, one a line, and answer each with one JSON line on stdout. `run` does one timed run and
  prints its timings; `finish` prints the batch object without "runs" and exits.

The SQL of the last run is written to `--sql-out`, so the caller can check it the same way it checks
Studio's. With `--verify SCRATCH_URL`, the SQL is also applied to that (empty) database and migra is run
again from it to the desired database: an empty second diff means migra's script rebuilt the schema.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import metadata
from typing import Any


def _versions() -> dict[str, str]:
    """Installed versions of migra and the libraries it runs on."""
    out = {}
    for name in ("migra", "schemainspect", "sqlbag", "SQLAlchemy", "psycopg2-binary"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "?"
    return out


def _diff(from_url: str, to_url: str) -> tuple[dict[str, float], str]:
    """One full migra run from fresh connections; returns phase timings (seconds) and the SQL."""
    import migra
    from sqlalchemy.pool import NullPool
    from sqlbag import S

    t0 = time.perf_counter()
    # sqlbag caches one engine per URL; NullPool makes every checkout a new server connection, so no
    # run reuses a warm backend from an earlier one.
    with S(from_url, poolclass=NullPool) as s_from, S(to_url, poolclass=NullPool) as s_to:
        # sqlbag connects lazily; force both connections open so connecting is its own phase.
        s_from.connection()
        s_to.connection()
        t1 = time.perf_counter()
        migration = migra.Migration(s_from, s_to)
        t2 = time.perf_counter()
        migration.set_safety(False)
        migration.add_all_changes()
        t3 = time.perf_counter()
        sql = migration.sql
        t4 = time.perf_counter()
    return (
        {"connect": t1 - t0, "inspect": t2 - t1, "changes": t3 - t2, "sql": t4 - t3, "total": t4 - t0},
        sql,
    )


def _verify(scratch_url: str, to_url: str) -> dict[str, object]:
    """Apply migra's script to an empty scratch database, then diff again: the rest should be empty."""
    import psycopg2

    _, sql = _diff(scratch_url, to_url)
    conn = psycopg2.connect(scratch_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql)
    except Exception as exc:
        return {"applied": False, "error": f"{type(exc).__name__}: {exc}".strip()}
    finally:
        conn.close()
    _, rest = _diff(scratch_url, to_url)
    return {"applied": True, "second_diff": rest.strip()[:2000], "second_diff_empty": not rest.strip()}


def _summary(args: argparse.Namespace, sql: str) -> dict[str, Any]:
    """Write the SQL out, verify if asked, and return what a caller needs besides the timings."""
    if args.sql_out:
        with open(args.sql_out, "w", encoding="utf-8") as fh:
            fh.write(sql)
    verify = _verify(args.verify, args.to_url) if args.verify else None
    return {"versions": _versions(), "sql_chars": len(sql), "verify": verify}


def _answer(obj: object) -> None:
    """One JSON line on stdout, flushed (the caller waits for it)."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, then time migra in batch or `--serve` mode."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--from-url", required=True, help="live database (the one to change)")
    parser.add_argument("--to-url", required=True, help="desired database")
    parser.add_argument("--repeat", type=int, default=5, help="batch mode: timed runs")
    parser.add_argument("--warmup", type=int, default=1, help="batch mode: untimed runs first")
    parser.add_argument("--serve", action="store_true", help="take `run` / `finish` commands on stdin")
    parser.add_argument("--sql-out", help="write the last run's SQL here")
    parser.add_argument("--verify", metavar="SCRATCH_URL", help="apply the SQL here and diff again")
    args = parser.parse_args(argv)

    sql = ""
    if args.serve:
        for line in sys.stdin:
            command = line.strip()
            if command == "run":
                timings, sql = _diff(args.from_url, args.to_url)
                _answer(timings)
            elif command == "finish":
                _answer(_summary(args, sql))
                return 0
            elif command:
                _answer({"error": f"unknown command {command!r}"})
        return 0

    for _ in range(args.warmup):
        _diff(args.from_url, args.to_url)
    runs = []
    for _ in range(args.repeat):
        timings, sql = _diff(args.from_url, args.to_url)
        runs.append(timings)
    _answer({"runs": runs, **_summary(args, sql)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
