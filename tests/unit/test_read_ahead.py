"""read_ahead: the next item is made while the consumer works on this one; errors arrive
where their item would have; a consumer that stops early stops the producer."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from filevault_desktop.read_ahead import read_ahead

WAIT_S = 5.0


def test_items_arrive_in_order_and_the_next_is_made_meanwhile() -> None:
    made: list[int] = []
    second_made = threading.Event()

    def pages() -> Iterator[int]:
        for n in range(4):
            made.append(n)
            if n == 1:
                second_made.set()
            yield n

    seen = []
    for n in read_ahead(pages()):
        if n == 0:
            # While the first item is worked on, the producer makes the second.
            assert second_made.wait(WAIT_S)
        seen.append(n)
    assert seen == [0, 1, 2, 3] and made == [0, 1, 2, 3]


def test_an_error_of_the_producer_is_raised_where_its_item_would_come() -> None:
    def pages() -> Iterator[int]:
        yield 1
        raise ConnectionError("the listing failed")

    got = []
    with pytest.raises(ConnectionError, match="listing failed"):
        for n in read_ahead(pages()):
            got.append(n)
    assert got == [1]


def test_stopping_early_stops_the_producer() -> None:
    finished = threading.Event()

    def pages() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            finished.set()

    items = read_ahead(pages())
    assert next(items) == 0
    items.close()
    assert finished.wait(WAIT_S)  # the producer gave up instead of making a million items
