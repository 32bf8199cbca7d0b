"""Round trips run side by side: each module's selected cases run together, once, on first use.

A test module defines `CASES` and parametrizes a test over `params(CASES)` with the argument name `case`;
the test asks for `round_trips` and calls `round_trips.check(case)`, which returns the case's plan or raises
its failure. Only the cases selected for this session (after `-k`, node ids, ...) are run.
"""

from __future__ import annotations

import pytest

from studio.core.targets.local import LocalServer
from tests.support.roundtrip import Case, Outcomes, run_cases


@pytest.fixture(scope="module")
def round_trips(request: pytest.FixtureRequest, local_server: LocalServer) -> Outcomes:
    """Outcomes of every selected round-trip case of the requesting module."""
    cases: list[Case] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if getattr(item, "module", None) is request.module and callspec is not None:
            case = callspec.params.get("case")
            if isinstance(case, Case):
                cases.append(case)
    return run_cases(local_server, cases)
