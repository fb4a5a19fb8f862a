"""Cutting a run of small files into the batches one API call may carry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def consecutive_groups(
    items: Iterable[T], size_of: Callable[[T], int], max_bytes: int, max_count: int | None = None
) -> list[list[T]]:
    """Consecutive groups of at most ``max_count`` items whose sizes add up to at most
    ``max_bytes`` (an item larger than that alone)."""
    groups: list[list[T]] = []
    size = 0
    for item in items:
        n = size_of(item)
        if (
            not groups
            or size + n > max_bytes
            or (max_count is not None and len(groups[-1]) >= max_count)
        ):
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += n
    return groups
