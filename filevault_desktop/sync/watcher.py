"""Local change notifications: watchdog events → debounced batches of relative paths.

Only a hint: the engine rescans anyway (cheaply), so a lost or merged event costs latency, never
correctness. Debouncing merges an editor's save-by-rename dance (write temp, rename over the
original) into one batch that names only the real file, so it becomes one modification.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from filevault_desktop.sync.ignore import IgnoreRules
from filevault_desktop.sync.localfs import SelfWrites
from filevault_desktop.transfer.ports import Clock, SystemClock


class Debouncer:
    """Collects paths; a batch is due once no path arrived for ``delay`` seconds (or once the
    oldest waited ``max_delay``, so a constantly busy folder still syncs)."""

    def __init__(self, clock: Clock, delay: float = 0.5, max_delay: float = 5.0) -> None:
        self._clock = clock
        self.delay = delay
        self.max_delay = max_delay
        self._pending: set[str] = set()
        self._first = 0.0
        self._last = 0.0
        self._lock = threading.Lock()

    def add(self, path: str) -> None:
        now = self._clock.monotonic()
        with self._lock:
            if not self._pending:
                self._first = now
            self._pending.add(path)
            self._last = now

    def due_in(self) -> float | None:
        """Seconds until the pending batch is due (0: now), None when nothing is pending."""
        now = self._clock.monotonic()
        with self._lock:
            if not self._pending:
                return None
            deadline = min(self._last + self.delay, self._first + self.max_delay)
            return max(0.0, deadline - now)

    def take(self) -> frozenset[str] | None:
        """The batch if it is due, else None."""
        if self.due_in() != 0.0:
            return None
        with self._lock:
            batch, self._pending = frozenset(self._pending), set()
        return batch


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: LocalWatcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            return  # a folder's mtime moved because of a child: the child has its own event
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self._watcher.offer(raw if isinstance(raw, str) else raw.decode())


class LocalWatcher:
    """Runs a watchdog observer on ``root`` and calls ``on_batch`` from its own thread."""

    def __init__(
        self,
        root: Path,
        on_batch: Callable[[frozenset[str]], None],
        *,
        rules: IgnoreRules | None = None,
        self_writes: SelfWrites | None = None,
        clock: Clock | None = None,
        delay: float = 0.5,
        max_delay: float = 5.0,
    ) -> None:
        self.root = root
        self._on_batch = on_batch
        self._rules = rules or IgnoreRules()
        self._self_writes = self_writes
        self._clock = clock or SystemClock()
        self.debouncer = Debouncer(self._clock, delay, max_delay)
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._thread: threading.Thread | None = None
        # Paths whose events were our own echo: looked at again once the echo window is over,
        # so a user's save that landed inside the window is not lost with the echo.
        self._recheck: dict[str, float] = {}
        self._recheck_lock = threading.Lock()

    def offer(self, abs_path: str) -> None:
        """One raw event path; own writes, paths outside the root and ignored names are dropped."""
        try:
            rel = Path(abs_path).relative_to(self.root).as_posix()
        except ValueError:
            return
        if rel in ("", ".") or self._rules.is_ignored(rel):
            return
        until = self._self_writes.own_until(abs_path) if self._self_writes is not None else None
        if until is not None:
            with self._recheck_lock:
                self._recheck[rel] = max(until, self._recheck.get(rel, 0.0))
        else:
            self.debouncer.add(rel)
        self._kick.set()

    def _due_rechecks(self) -> float | None:
        """Moves rechecks whose echo window is over into the debouncer; seconds to the next."""
        now = self._clock.monotonic()
        with self._recheck_lock:
            for rel in [r for r, t in self._recheck.items() if t <= now]:
                del self._recheck[rel]
                self.debouncer.add(rel)
            return min(self._recheck.values()) - now if self._recheck else None

    def start(self) -> None:
        observer = Observer()
        observer.schedule(_Handler(self), str(self.root), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._thread = threading.Thread(target=self._loop, name="sync-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            waits = [w for w in (self._due_rechecks(), self.debouncer.due_in()) if w is not None]
            self._clock.wait(self._kick, min(waits) if waits else 3600.0)
            self._kick.clear()
            batch = self.debouncer.take()
            if batch and not self._stop.is_set():
                self._on_batch(batch)
