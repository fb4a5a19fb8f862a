"""What the upload and download engines share: a worker pool, the clock, retry timing, the
bandwidth limit and the event subscriber."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from filevault_desktop.transfer.bandwidth import TokenBucket
from filevault_desktop.transfer.events import Subscriber, TransferEvent
from filevault_desktop.transfer.ports import Clock, SystemClock
from filevault_desktop.transfer.progress import ProgressMeter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Per-part (or per-range) retries: exponential backoff with full jitter, capped."""

    attempts: int = 8
    initial_s: float = 0.5
    max_wait_s: float = 30.0


class EngineBase:
    def __init__(
        self,
        *,
        workers: int,
        pool_name: str,
        clock: Clock | None,
        on_event: Subscriber | None,
        retry: RetryPolicy | None,
        bandwidth_limit_bps: float | None,
        progress_interval_s: float,
    ) -> None:
        self._workers = max(1, workers)
        self._clock: Clock = clock or SystemClock()
        self._on_event = on_event
        self._retry = retry or RetryPolicy()
        # "Full jitter": a random wait below an exponentially growing cap, so workers (and
        # clients) that failed together do not retry together.
        self._jitter = wait_random_exponential(
            multiplier=self._retry.initial_s, max=self._retry.max_wait_s
        )
        self._interval = progress_interval_s
        self._bucket: TokenBucket | None = None
        self.set_bandwidth_limit(bandwidth_limit_bps)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix=pool_name)
        self._on_close: list[Callable[[], None]] = []

    def on_close(self, callback: Callable[[], None]) -> None:
        self._on_close.append(callback)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for callback in self._on_close:
            callback()
        self._on_close.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def set_bandwidth_limit(self, bps: float | None) -> None:
        """Bytes per second for all of this engine's transfers together; None or 0 lifts it.

        Transfers already streaming keep the bucket they started with until they finish.
        """
        if not bps:
            self._bucket = None
        elif self._bucket is None:
            self._bucket = TokenBucket(bps, self._clock)
        else:
            self._bucket.set_rate(bps)

    def _waited_out(self, stop: threading.Event, seconds: float) -> bool:
        """Sleeps ``seconds`` unless ``stop`` is set first; True when it was."""
        return self._clock.wait(stop, seconds)

    def _retrying(
        self, what: str, stop: threading.Event, retryable: Callable[[BaseException], bool]
    ) -> Retrying:
        """Retries of one part or range: the policy's attempts, this engine's ``_backoff``
        between them, and waits that ``_pause`` cuts short when ``stop`` is set."""
        return Retrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=self._backoff,
            retry=retry_if_exception(retryable),
            sleep=lambda seconds: self._pause(stop, seconds),
            before_sleep=lambda state: log.info(
                "%s: attempt %d failed (%s); retrying",
                what,
                state.attempt_number,
                state.outcome.exception() if state.outcome else None,
            ),
            reraise=True,
        )

    def _backoff(self, state: RetryCallState) -> float:
        return float(self._jitter(state))

    def _pause(self, stop: threading.Event, seconds: float) -> None:
        """Waits between attempts; raises (the engine's "interrupted") when ``stop`` is set."""
        raise NotImplementedError

    def _emit_progress(self, meter: ProgressMeter, *, force: bool = False) -> None:
        event = meter.poll(force=force)
        if event is not None:
            self._emit(event)

    def _emit(self, event: TransferEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken subscriber must not break the transfer
            log.exception("transfer event subscriber failed on %r", event)
