"""Durable local-stack state: control files, and when to snapshot what moto keeps in memory.

File bytes are durable by construction (the S3 store writes them to disk).
What moto keeps in memory — the metadata table (``table_journal``) and the
Cognito users — is written shortly after it changes and at shutdown. A stack that stopped
without its final snapshot starts with a new epoch, so clients know the server
may have lost recent changes and reconcile instead of trusting their cursor.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filevault_desktop.persist import write_atomic

log = logging.getLogger("filevault.local.persistence")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8")) if path.exists() else None


@dataclass(frozen=True)
class StackIdentity:
    """Stable per data dir: names, the service credential and the epoch."""

    stack_id: str
    region: str
    access_key: str
    secret_key: str
    epoch: str


class StackState:
    """The data dir's control files: identity, the running marker, the epoch."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir
        self.identity_file = data_dir / "stack.json"
        self.marker = data_dir / "running.pid"
        self.state_dir = data_dir / "state"
        self._owns_marker = False

    def open(self, region: str) -> StackIdentity:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        raw = read_json(self.identity_file)
        unclean = self.marker.exists()
        if unclean:
            pid = int(self.marker.read_text().strip() or "0")
            if pid and _alive(pid) and pid != os.getpid():
                raise RuntimeError(f"a local stack (pid {pid}) is already running on {self.root}")
        if raw is None:
            identity = StackIdentity(
                stack_id=secrets.token_hex(4),
                region=region,
                access_key="AKIA" + secrets.token_hex(8).upper(),
                secret_key=secrets.token_urlsafe(30),
                epoch=_new_epoch(),
            )
        else:
            identity = StackIdentity(**raw)
            if unclean or not (self.state_dir / "dynamodb.jsonl").exists():
                identity = StackIdentity(**{**raw, "epoch": _new_epoch()})
        write_atomic(self.identity_file, json.dumps(identity.__dict__, indent=2).encode())
        write_atomic(self.marker, str(os.getpid()).encode())
        self._owns_marker = True
        return identity

    def close_cleanly(self) -> None:
        if self._owns_marker:  # never another running stack's marker
            self.marker.unlink(missing_ok=True)
            self._owns_marker = False


def _new_epoch() -> str:
    return secrets.token_hex(6)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Snapshotter:
    """Writes a snapshot soon after a change, and at shutdown.

    The first change after a quiet spell is written ``settle_s`` later (coalescing its
    burst); while changes keep coming, snapshots start at most once per ``interval_s``, so a
    change is on disk within about ``interval_s`` (plus the time a snapshot takes). The
    callback gets ``full``: True every ``full_every_s`` (a snapshot that may write only what
    changed is then rebuilt from scratch, in case a change went unnoticed). The one at
    shutdown is a regular one: it has to finish within the time a stopping stack is given.

    A snapshot that fails (a full disk, say) is logged and tried again, waiting
    ``retry_s`` and then twice as long each time up to ``max_retry_s``: the changes stay
    in memory meanwhile, and the thread that writes them must outlive the failure.
    """

    def __init__(
        self,
        snapshot: Callable[[bool], None],
        *,
        settle_s: float = 0.5,
        interval_s: float = 1.0,
        full_every_s: float = 60.0,
        retry_s: float = 1.0,
        max_retry_s: float = 60.0,
    ) -> None:
        self._snapshot = snapshot
        self._settle = settle_s
        self._interval = interval_s
        self._full_every = full_every_s
        self._retry = retry_s
        self._max_retry = max_retry_s
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_start = -interval_s
        self._last_full = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="snapshotter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def mark_dirty(self) -> None:
        self._dirty.set()

    def flush(self, *, full: bool = False, rebuild_when_due: bool = True) -> None:
        with self._lock:
            self._dirty.clear()
            now = time.monotonic()
            self._last_start = now
            full = full or (rebuild_when_due and now - self._last_full >= self._full_every)
            self._snapshot(full)
            if full:
                self._last_full = now

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if self._dirty.wait(timeout=0.5) and not self._stop.is_set():
                # Coalesce: let a burst settle, and never start sooner than interval_s after
                # the previous snapshot started.
                since = time.monotonic() - self._last_start
                self._stop.wait(max(self._settle, self._interval - since))
                try:
                    self.flush()
                except Exception:
                    failures += 1
                    self._dirty.set()  # what it was to write is still unwritten
                    delay = min(self._retry * 2 ** (failures - 1), self._max_retry)
                    log.exception(
                        "could not save the local stack's state (attempt %d); "
                        "trying again in %.0f s",
                        failures,
                        delay,
                    )
                    self._stop.wait(delay)
                else:
                    if failures:
                        log.warning("saved the local stack's state after %d failures", failures)
                    failures = 0

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        self._thread.join(timeout=10)
        self.flush(rebuild_when_due=False)
