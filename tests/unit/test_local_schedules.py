"""The local stack's timer for scheduled jobs (backend/local/schedules.py)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from backend.local.schedules import FIRST_RUN_AFTER_S, Periodic, ScheduledJobs
from backend.workflows.definitions import SCHEDULED_JOBS, ScheduledJobSpec


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_runs_when_due_then_every_interval_counted_from_the_end_of_a_run() -> None:
    clock = FakeClock()
    runs: list[float] = []

    def job() -> None:
        runs.append(clock.now)
        clock.now += 5  # the run itself takes five seconds

    periodic = Periodic("j", job, interval_s=100, first_after_s=10, clock=clock)
    assert not periodic.run_due()
    clock.now += 9.999
    assert not periodic.run_due() and runs == []
    clock.now += 0.001
    assert periodic.run_due() and runs == [1010.0]
    clock.now += 99.9  # 100 s after the run ended is 1115
    assert not periodic.run_due()
    clock.now = 1115.0
    assert periodic.run_due() and len(runs) == 2
    assert periodic.runs == 2 and periodic.failures == 0


def test_a_failing_run_is_counted_and_the_next_one_comes_on_time() -> None:
    clock = FakeClock()
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    periodic = Periodic("j", job, interval_s=50, first_after_s=0, clock=clock)
    assert periodic.run_due()
    assert periodic.failures == 1 and periodic.next_at == 1050.0
    clock.now = 1050.0
    assert periodic.run_due() and periodic.failures == 1 and len(calls) == 2


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Periodic("j", lambda: None, interval_s=0)


def test_the_thread_runs_the_job_repeatedly_and_stops_promptly() -> None:
    ran = threading.Event()
    count: list[int] = []

    def job() -> None:
        count.append(1)
        if len(count) >= 3:
            ran.set()

    periodic = Periodic("j", job, interval_s=0.02, first_after_s=0)
    periodic.start()
    assert ran.wait(5)
    started = time.monotonic()
    periodic.stop()
    assert time.monotonic() - started < 1
    after = len(count)
    time.sleep(0.1)
    assert len(count) == after  # nothing runs once stopped


# Handlers the jobs below run (imported by path, as the stack imports the real ones).
CALLS: list[tuple[Any, int]] = []
STARTED = threading.Event()
RELEASE = threading.Event()


def recording_handler(event: Any, context: Any) -> None:
    CALLS.append((event, context.get_remaining_time_in_millis()))


def blocking_handler(event: Any, context: Any) -> None:
    STARTED.set()
    RELEASE.wait(5)
    CALLS.append((event, context.get_remaining_time_in_millis()))


def test_jobs_call_the_handler_with_a_context_whose_time_ends_at_stop() -> None:
    CALLS.clear()
    STARTED.clear()
    RELEASE.clear()
    spec = ScheduledJobSpec("Blocking", f"{__name__}.blocking_handler", interval_s=3600)
    jobs = ScheduledJobs.start(specs=[spec], first_after_s=0)
    assert STARTED.wait(5)
    stopper = threading.Thread(target=jobs.stop)
    stopper.start()
    time.sleep(0.05)  # stop() has asked the job to stop and waits for the run to end
    RELEASE.set()
    stopper.join(5)
    assert not stopper.is_alive()
    ((event, remaining),) = CALLS
    assert event["detail-type"] == "Scheduled Event"
    assert remaining == 0  # the running job was told its time is up


def test_the_interval_override_and_the_first_run_default() -> None:
    CALLS.clear()
    spec = ScheduledJobSpec("Recording", f"{__name__}.recording_handler", interval_s=3600)
    jobs = ScheduledJobs.start(specs=[spec], interval_s=0.05)
    try:
        (job,) = jobs.jobs
        deadline = time.monotonic() + 5
        while len(CALLS) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(CALLS) >= 2  # every 0.05 s instead of hourly, first run after 0.05 s
        assert all(remaining > 0 for _, remaining in CALLS)
    finally:
        jobs.stop()
    idle = ScheduledJobs.start(specs=[spec])
    try:
        (job,) = idle.jobs
        assert job.next_at - time.monotonic() == pytest.approx(FIRST_RUN_AFTER_S, abs=1)
    finally:
        idle.stop()


def test_the_backend_schedules_the_trash_purge_daily() -> None:
    (purge,) = SCHEDULED_JOBS
    assert purge.name == "TrashPurge" and purge.interval_s == 24 * 3600
    assert purge.handler == "backend.workflows.steps.purge_trash.handler"
