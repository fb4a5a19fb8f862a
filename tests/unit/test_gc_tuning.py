from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from backend.local.gc_tuning import YOUNG_THRESHOLD, tune_for_long_lived_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_what_exists_when_the_stack_is_up_is_left_out_of_later_collections() -> None:
    long_lived = [[n] for n in range(1000)]
    tune_for_long_lived_heap()
    assert gc.get_freeze_count() >= len(long_lived)
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    # Cycles made afterwards are still collected.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
