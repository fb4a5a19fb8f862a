"""Token bucket math and progress throttling, on a manual clock."""

from __future__ import annotations

import threading

import pytest

from filevault_desktop.transfer import TokenBucket
from filevault_desktop.transfer.progress import ProgressMeter
from filevault_desktop.transfer.testing import ManualClock


def test_bucket_allows_the_burst_then_charges_the_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(1000, clock, burst=500)
    assert bucket.reserve(500) == 0  # a full bucket: the burst goes at once
    assert bucket.reserve(250) == pytest.approx(0.25)
    assert bucket.reserve(250) == pytest.approx(0.5)  # queued behind the first debt
    clock.advance(0.5)
    assert bucket.reserve(0) == pytest.approx(0.0)
    clock.advance(10)  # idle time refills only up to the burst
    assert bucket.reserve(500) == 0
    assert bucket.reserve(1) == pytest.approx(0.001)


def test_bucket_is_shared_fairly_and_bounds_the_total() -> None:
    clock = ManualClock()
    bucket = TokenBucket(100_000, clock, burst=10_000)
    delays: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            d = bucket.reserve(10_000)
            with lock:
                delays.append(d)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 400 KB reserved at one instant with 10 KB in hand: the last byte may go after 3.9 s, and
    # each reservation is spaced by exactly its own size at the rate, whoever made it.
    assert sorted(delays) == pytest.approx([i * 0.1 for i in range(40)])


def test_bucket_consume_waits_and_stops() -> None:
    clock = ManualClock()
    bucket = TokenBucket(1000, clock, burst=100)
    stop = threading.Event()
    assert bucket.consume(100, stop)
    assert bucket.consume(300, stop)
    assert clock.waits == [pytest.approx(0.3)]
    stop.set()
    assert not bucket.consume(300, stop)  # a stop during the wait is reported


def test_rate_change_applies_to_later_bytes() -> None:
    clock = ManualClock()
    bucket = TokenBucket(1000, clock, burst=1)
    bucket.reserve(1)
    bucket.set_rate(4000)
    assert bucket.reserve(4000) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="positive"):
        bucket.set_rate(0)


def test_progress_is_throttled_and_reports_rate_and_eta() -> None:
    clock = ManualClock()
    meter = ProgressMeter("t", "/a", "a", 10_000, clock, interval_s=0.25, window_s=5)
    meter.add(1000)
    first = meter.poll()
    assert first is not None and first.bytes_done == 1000 and first.eta_s is None
    meter.add(1000)
    assert meter.poll() is None  # within the interval: nothing
    clock.advance(1)
    event = meter.poll()
    assert event is not None and event.bytes_done == 2000
    assert event.rate_bps == pytest.approx(2000)
    assert event.eta_s == pytest.approx(4)
    clock.advance(1)
    assert meter.poll() is None  # no bytes moved: nothing to say
    for _ in range(20):  # the window forgets the fast start
        clock.advance(1)
        meter.add(100)
        meter.poll()
    latest = meter.poll(force=True)
    assert latest is not None and latest.rate_bps == pytest.approx(100)
    assert latest.fraction == pytest.approx(0.4)
