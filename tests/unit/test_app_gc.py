"""The app collects garbage on the GUI thread itself, generation by generation as Python would."""

import gc

from studio.app import generation_due


def test_older_generations_are_collected_when_they_are_due() -> None:
    thresholds = (700, 10, 10)
    assert generation_due((5, 3, 2), thresholds) == 0
    assert generation_due((5, 11, 2), thresholds) == 1
    assert generation_due((5, 11, 11), thresholds) == 2


def test_a_cycle_that_survived_the_youngest_generation_is_freed_by_the_timers_collections() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        node = Node()
        gc.collect(0)  # the cycle is alive: it moves to an older generation
        del node
        freed = 0
        for _ in range(100):  # the timer's ticks, with allocations in between filling the counts
            [[] for _ in range(50)]
            freed += gc.collect(generation_due(gc.get_count(), gc.get_threshold()))
            if not any(isinstance(o, Node) for o in gc.get_objects()):
                break
        assert not any(isinstance(o, Node) for o in gc.get_objects())
    finally:
        if was_enabled:
            gc.enable()
