"""Progress accounting: bytes done from many workers, a windowed rate, ETA, and throttling."""

from __future__ import annotations

import threading
from collections import deque

from filevault_desktop.transfer.events import TransferProgress
from filevault_desktop.transfer.ports import Clock

# Four events a second is smooth for a progress bar and cheap for a GUI event loop.
DEFAULT_INTERVAL_S = 0.25
# The rate is measured over the last few seconds, so it follows changes (a bandwidth limit
# switched on, a slow patch) without jittering with every TCP window.
RATE_WINDOW_S = 5.0


class ProgressMeter:
    def __init__(
        self,
        transfer_id: str,
        local_path: str,
        remote_path: str,
        total: int,
        clock: Clock,
        *,
        done: int = 0,
        interval_s: float = DEFAULT_INTERVAL_S,
        window_s: float = RATE_WINDOW_S,
    ) -> None:
        self._ids = (transfer_id, local_path, remote_path)
        self.total = total
        self._clock = clock
        self._interval = interval_s
        self._window = window_s
        self._lock = threading.Lock()
        self._done = done
        start = clock.monotonic()
        # Samples of (time, bytes done) taken when events are considered, oldest first.
        self._samples: deque[tuple[float, int]] = deque([(start, done)])
        self._last_emit: float | None = None
        self._last_done = -1

    def add(self, delta: int) -> None:
        """Called by workers as bytes go out (negative when a failed attempt is rolled back)."""
        with self._lock:
            self._done += delta

    @property
    def done(self) -> int:
        with self._lock:
            return self._done

    def rate(self, now: float, done: int) -> float:
        samples = self._samples
        samples.append((now, done))
        # Keep one sample at or before the window's start so the window stays full.
        while len(samples) > 2 and samples[1][0] <= now - self._window:
            samples.popleft()
        t0, d0 = samples[0]
        elapsed = now - t0
        # Below a tenth of a second a rate is noise; report none rather than a wild number.
        return max(0.0, (done - d0) / elapsed) if elapsed >= 0.1 else 0.0

    def poll(self, *, force: bool = False) -> TransferProgress | None:
        """An event if one is due (at most one per interval, and only when bytes moved)."""
        now = self._clock.monotonic()
        done = min(max(self.done, 0), self.total)
        if not force and (
            done == self._last_done
            or (self._last_emit is not None and now - self._last_emit < self._interval)
        ):
            return None
        rate = self.rate(now, done)
        remaining = self.total - done
        eta = 0.0 if remaining == 0 else (remaining / rate if rate > 0 else None)
        self._last_emit, self._last_done = now, done
        transfer_id, local_path, remote_path = self._ids
        return TransferProgress(transfer_id, local_path, remote_path, done, self.total, rate, eta)
