"""Scheduled jobs on the local stack: each ``definitions.SCHEDULED_JOBS`` handler (the trash
purge), run in-process on a timer thread, as an EventBridge schedule runs the Lambda in AWS.

The handler gets the same services as the API (``runtime.install`` by the stack) and a
Lambda-like context whose remaining time drops to zero when the stack stops, so a long run
ends between two batches instead of holding up the shutdown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from backend.local.workflows import import_handler
from backend.workflows.definitions import SCHEDULED_JOBS, ScheduledJobSpec

log = logging.getLogger("filevault.local.schedules")
# A stack that was not running when a job was due runs it this soon after starting.
FIRST_RUN_AFTER_S = 60.0
_PLENTY_MS = 15 * 60 * 1000  # what a context reports while the stack runs (Lambda's maximum)


class Periodic:
    """Runs ``job`` every ``interval_s`` seconds, the first time ``first_after_s`` after it was
    made. :meth:`run_due` is the whole decision (tests drive it with their own ``clock``);
    :meth:`start` runs it on a daemon thread. A failing run is logged; the next one comes at
    its time. The interval counts from the end of a run, so runs never pile up."""

    def __init__(
        self,
        name: str,
        job: Callable[[], object],
        *,
        interval_s: float,
        first_after_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.name = name
        self._job = job
        self._interval = interval_s
        self._clock = clock
        self.next_at = clock() + (interval_s if first_after_s is None else first_after_s)
        self.runs = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_due(self) -> bool:
        """Run the job if it is due; whether it ran."""
        if self._clock() < self.next_at:
            return False
        try:
            self._job()
        except Exception:
            self.failures += 1
            log.exception("scheduled job %s failed; next run in %.0f s", self.name, self._interval)
        self.runs += 1
        self.next_at = self._clock() + self._interval
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"job-{self.name}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """No new run starts; a running one sees ``stopping`` (and its context's time end)."""
        self._stop.set()

    def stop(self, timeout: float = 30.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(max(0.0, self.next_at - self._clock()))


class _Context:
    """The part of a Lambda context our handlers use: the time left, zero once stopping."""

    def __init__(self, periodic: Callable[[], Periodic | None]) -> None:
        self._periodic = periodic

    def get_remaining_time_in_millis(self) -> int:
        periodic = self._periodic()
        return 0 if periodic is not None and periodic.stopping else _PLENTY_MS


class ScheduledJobs:
    """Every scheduled job of the backend, each on its own timer thread."""

    def __init__(self, jobs: list[Periodic]) -> None:
        self.jobs = jobs

    @classmethod
    def start(
        cls,
        *,
        interval_s: float | None = None,
        first_after_s: float | None = None,
        specs: Iterable[ScheduledJobSpec] = SCHEDULED_JOBS,
        clock: Callable[[], float] = time.monotonic,
    ) -> ScheduledJobs:
        """``interval_s`` replaces every job's own interval (tests, demos); the first runs
        come ``first_after_s`` after starting (default: a minute, or the interval if shorter)."""
        jobs: list[Periodic] = []
        for spec in specs:
            every = float(spec.interval_s if interval_s is None else interval_s)
            first = min(FIRST_RUN_AFTER_S, every) if first_after_s is None else first_after_s
            jobs.append(_periodic(spec, every, first, clock))
        for job in jobs:
            job.start()
        return cls(jobs)

    def stop(self) -> None:
        for job in self.jobs:
            job.request_stop()  # every job stops taking new batches at once
        for job in self.jobs:
            job.stop()


def _periodic(
    spec: ScheduledJobSpec, every: float, first: float, clock: Callable[[], float]
) -> Periodic:
    handler = import_handler(spec.handler)
    holder: list[Periodic] = []
    context = _Context(lambda: holder[0] if holder else None)
    event = {"source": "filevault.local-schedule", "detail-type": "Scheduled Event"}
    periodic = Periodic(
        spec.name,
        lambda: handler(event, context),
        interval_s=every,
        first_after_s=first,
        clock=clock,
    )
    holder.append(periodic)
    return periodic
