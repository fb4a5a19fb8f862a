from __future__ import annotations

import math

import pytest

from backend.logic.uploads import choose_part_size

MiB = 1024**2


@pytest.mark.parametrize("size", [1, 5 * MiB, 100 * MiB, 50 * 1024 * MiB, 5 * 1024**4])
def test_part_size_respects_s3_limits(size: int) -> None:
    part = choose_part_size(size, 8 * MiB)
    assert part >= 8 * MiB
    assert math.ceil(size / part) <= 10_000
    assert part % MiB == 0


def test_small_minimum_for_tests() -> None:
    assert choose_part_size(10_000, 1024) == 1024
