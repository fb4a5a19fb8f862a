"""A token bucket shared by all workers, so a bandwidth limit holds for the sum of them."""

from __future__ import annotations

import threading

from filevault_desktop.transfer.ports import Clock


class TokenBucket:
    """Allows ``rate_bps`` bytes per second on average and bursts of up to ``burst`` bytes.

    A caller *reserves* its bytes at once and then sleeps off any debt outside the lock. The
    balance may go negative, which queues callers fairly (each waits for the debt ahead of it)
    and lets a request larger than the burst through at exactly the configured rate.
    """

    def __init__(self, rate_bps: float, clock: Clock, *, burst: float | None = None) -> None:
        if rate_bps <= 0:
            raise ValueError("rate_bps must be positive")
        self._clock = clock
        self._lock = threading.Lock()
        self._rate = float(rate_bps)
        # A quarter second of traffic: small enough that the limit is felt within a second,
        # big enough that a worker is not woken for every socket write.
        self._burst = float(burst) if burst is not None else max(1.0, self._rate / 4)
        self._tokens = self._burst
        self._last = clock.monotonic()

    @property
    def rate_bps(self) -> float:
        return self._rate

    def set_rate(self, rate_bps: float) -> None:
        """Change the limit while transfers run (e.g. from the settings window)."""
        if rate_bps <= 0:
            raise ValueError("rate_bps must be positive")
        with self._lock:
            self._refill()
            self._rate = float(rate_bps)

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now

    def reserve(self, n: int) -> float:
        """Takes ``n`` tokens now; returns how many seconds the caller must wait before sending."""
        with self._lock:
            self._refill()
            self._tokens -= n
            return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    def consume(self, n: int, stop: threading.Event) -> bool:
        """Waits until ``n`` bytes may go; False when ``stop`` was set while waiting."""
        delay = self.reserve(n)
        if delay > 0:
            return not self._clock.wait(stop, delay)
        return not stop.is_set()
