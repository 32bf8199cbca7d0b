"""Round trips share a pool of template databases, and each module's selected cases run together.

A test module defines `CASES` and parametrizes a test over `params(CASES)` with the argument name `case`;
the test asks for `round_trips` and calls `round_trips.check(case)`, which returns the case's plan or raises
its failure. Only the cases selected for this session (after `-k`, node ids, ...) are run, once, when the
module's first test asks for them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.core.targets.local import LocalServer
from tests.support.dbpool import DatabasePool
from tests.support.roundtrip import Case, Outcomes, run_cases


@pytest.fixture(scope="session")
def database_pool(local_server: LocalServer) -> Iterator[DatabasePool]:
    """Template databases reused between round trips (reset and checked by pg_dump); dropped at the end."""
    pool = DatabasePool(local_server)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def round_trips(request: pytest.FixtureRequest, database_pool: DatabasePool) -> Outcomes:
    """Outcomes of every selected round-trip case of the requesting module."""
    cases: list[Case] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if getattr(item, "module", None) is request.module and callspec is not None:
            case = callspec.params.get("case")
            if isinstance(case, Case):
                cases.append(case)
    return run_cases(database_pool, cases)
