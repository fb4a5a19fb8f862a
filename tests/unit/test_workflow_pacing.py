"""The local stack's workflows yield to the user's requests (backend/local/foreground.py and
StartPacer in backend/local/workflows.py), measured on a fake clock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from backend.local.foreground import ForegroundLoad
from backend.local.workflows import Pacing, StartPacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_load_counts_finished_and_running_requests_within_the_window(clock: FakeClock) -> None:
    load = ForegroundLoad(clock, window_s=1.0)
    assert load.busy_fraction() == 0.0
    done = load.begin()
    clock.advance(0.3)
    load.end(done)
    running = load.begin()
    clock.advance(0.2)
    # 0.3 s finished + 0.2 s still running, in the last second
    assert load.busy_fraction() == pytest.approx(0.5)
    clock.advance(0.6)  # the finished request now lies half outside the window
    assert load.busy_fraction() == pytest.approx(0.2 + 0.8)
    load.end(running)
    clock.advance(1.0)
    assert load.busy_fraction() == 0.0


def test_parallel_requests_add_up(clock: FakeClock) -> None:
    load = ForegroundLoad(clock, window_s=1.0)
    tokens = [load.begin() for _ in range(3)]
    clock.advance(0.5)
    assert load.busy_fraction() == pytest.approx(1.5)
    for token in tokens:
        load.end(token)
    assert load.busy_fraction() == pytest.approx(1.5)


def test_a_request_counts_until_its_body_is_closed(clock: FakeClock) -> None:
    load = ForegroundLoad(clock, window_s=1.0)
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Any:
            return iter([b"a", b"b"])

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        clock.advance(0.1)
        return Body()

    body = load.measured(app)({}, None)
    clock.advance(0.4)  # the server streams the body
    assert b"".join(body) == b"ab"
    assert load.busy_fraction() == pytest.approx(0.5)  # still running
    body.close()  # type: ignore[attr-defined]
    assert closed == [True]
    clock.advance(0.5)
    assert load.busy_fraction() == pytest.approx(0.5)  # finished, and half a second ago


def test_a_failing_app_ends_its_request(clock: FakeClock) -> None:
    load = ForegroundLoad(clock, window_s=1.0)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        load.measured(app)({}, None)
    clock.advance(2.0)
    assert load.busy_fraction() == 0.0


def _event(n: int) -> dict[str, Any]:
    return {"n": n}


def test_an_event_waits_out_the_grace_period(clock: FakeClock) -> None:
    pacer = StartPacer(Pacing(grace_s=0.5), ForegroundLoad(clock), clock)
    pacer.add(_event(1))
    assert pacer.due() == []
    clock.advance(0.49)
    assert pacer.due() == []
    clock.advance(0.02)
    assert pacer.due() == [_event(1)]
    assert len(pacer) == 0


def test_events_wait_while_the_users_requests_keep_the_stack_busy(clock: FakeClock) -> None:
    load = ForegroundLoad(clock, window_s=1.0)
    pacer = StartPacer(Pacing(grace_s=0.5, max_defer_s=15.0, yield_above=0.25), load, clock)
    pacer.add(_event(1))
    busy = load.begin()  # e.g. an upload's PUTs, one after another
    clock.advance(5.0)
    assert pacer.due() == []
    load.end(busy)
    clock.advance(0.5)  # half the last second was still busy
    assert pacer.due() == []
    clock.advance(0.3)  # 0.2 s of the last second: below the threshold
    assert pacer.due() == [_event(1)]


def test_an_overdue_event_starts_however_busy_the_stack_is(clock: FakeClock) -> None:
    load = ForegroundLoad(clock, window_s=1.0)
    pacer = StartPacer(Pacing(grace_s=0.5, max_defer_s=15.0), load, clock)
    load.begin()
    pacer.add(_event(1))
    clock.advance(10.0)
    pacer.add(_event(2))
    clock.advance(4.9)
    assert pacer.due() == []
    clock.advance(0.2)
    assert pacer.due() == [_event(1)]  # the second is 5 s old: it keeps waiting
    clock.advance(10.0)
    assert pacer.due() == [_event(2)]


def test_overdue_events_only_trickle_while_the_stack_stays_busy(clock: FakeClock) -> None:
    load = ForegroundLoad(clock, window_s=1.0)
    pacing = Pacing(grace_s=0.5, max_defer_s=15.0, busy_starts_per_s=2.0, starts_per_s=20.0)
    pacer = StartPacer(pacing, load, clock)
    busy = load.begin()  # a long upload
    for n in range(100):
        pacer.add(_event(n))
    clock.advance(20.0)  # every event is overdue
    started = len(pacer.due())
    for _ in range(100):
        clock.advance(0.1)
        started += len(pacer.due())
    assert started <= 2 * 11 + 2  # ~2 a second over the 10 s, plus one second's burst
    load.end(busy)
    clock.advance(1.0)  # the upload is over: the backlog goes at the idle rate
    for _ in range(30):
        clock.advance(0.1)
        started += len(pacer.due())
    assert started == 100


def test_a_backlog_starts_at_the_paced_rate_in_arrival_order(clock: FakeClock) -> None:
    pacer = StartPacer(Pacing(grace_s=0.0, starts_per_s=10.0), None, clock)
    for n in range(25):
        pacer.add(_event(n))
    started: list[dict[str, Any]] = []
    first = pacer.due()
    assert 1 <= len(first) <= 11  # at most a second's worth at once
    started += first
    for _ in range(40):
        clock.advance(0.1)
        batch = pacer.due()
        assert len(batch) <= 1
        started += batch
    assert started == [_event(n) for n in range(25)]


def test_an_idle_stack_starts_events_without_a_load_meter(clock: FakeClock) -> None:
    pacer = StartPacer(Pacing(grace_s=0.5), None, clock)
    pacer.add(_event(1))
    pacer.add(_event(2))
    clock.advance(0.5)
    assert pacer.due() == [_event(1), _event(2)]
