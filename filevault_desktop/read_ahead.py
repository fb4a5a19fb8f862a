"""Consuming an iterator one step behind the thread that produces it."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")


class _End:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 1) -> Generator[T, None, None]:
    """The items of ``items``, produced by another thread up to ``depth`` items ahead of the
    consumer: a page of a listing is fetched while the one before it is worked on. An error
    of the producer is raised here, where its item would have come. Stopping early (closing
    this generator) lets the producer stop after the item it is making."""
    handoff: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def put(item: T | _End) -> bool:
        """Hands ``item`` over; False once the consumer has stopped."""
        while not stopped.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(_End(exc))
            return
        put(_End())

    producer = threading.Thread(target=produce, name="filevault-read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            item = handoff.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stopped.set()
