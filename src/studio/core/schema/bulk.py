"""Help for code that makes tens of thousands of small objects in one go (catalogs, plans).

Python's cyclic garbage collector runs every few hundred container allocations and, now and then, walks
every tracked object; while a large catalog or plan is being built that is a third of the time spent, for
objects that hold no reference cycles (they are freed by reference counting). `paused_gc` switches it off
for such a stretch of code.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (as it was before afterwards; nesting is fine).

    Only for synchronous code: an `await` inside would leave the collector off for whatever runs meanwhile.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
