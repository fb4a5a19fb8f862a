"""Downloads: parallel ranges into a temporary file beside the target, verified, renamed in place.

The temporary file's name is derived from the file's id and version, and a small sidecar
records which ranges are on disk, so an interrupted download (network, cancel, ``kill -9``)
resumes where it stopped. Whatever goes wrong, the existing target is untouched until the
complete, verified bytes replace it in one rename. A disk too small is found before the
first byte from the free space the file system reports; one that fills up on the way is
found at the write that fails.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tenacity import RetryCallState

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import ApiError, FileVaultError, NetworkError
from filevault_desktop.persist import write_atomic
from filevault_desktop.transfer.engine_base import EngineBase, RetryPolicy
from filevault_desktop.transfer.errors import TransferCancelled, TransferError
from filevault_desktop.transfer.events import (
    Direction,
    Subscriber,
    TransferFailed,
    TransferFinished,
    TransferStarted,
)
from filevault_desktop.transfer.landing import (
    PARTIAL_SUFFIX,
    TAG_LENGTH,
    NoSpaceError,
    failure_of,
    flush,
    no_space,
    partial_path,
    pwrite_all,
    verify_chunks,
)
from filevault_desktop.transfer.ports import Clock
from filevault_desktop.transfer.progress import DEFAULT_INTERVAL_S, ProgressMeter
from filevault_desktop.transfer.small_downloads import (
    InlineDownloadApi,
    SmallDownload,
    SmallDownloads,
)
from filevault_desktop.transfer.small_downloads import Outcome as SmallOutcome

log = logging.getLogger(__name__)
__all__ = ["PARTIAL_SUFFIX", "DownloadEngine", "NoSpaceError", "partial_path"]

DEFAULT_RANGE_SIZE = 8 << 20
# The sidecar is rewritten at most this often: each rewrite first flushes the data it claims.
_SIDECAR_INTERVAL_S = 1.0


class DownloadApi(Protocol):
    def download_url(self, file_id: str) -> str: ...


class Fetcher(Protocol):
    def fetch(self, url: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Streams bytes ``[start, end)`` of a GET (the whole body when ``end`` is None).

        Raises NetworkError for transport failures and ApiError for a non-2xx answer.
        """
        ...


class _Interrupted(Exception):
    """A worker saw the stop flag (cancel, or another range failed)."""


def _sidecar(partial: Path) -> Path:
    return partial.with_name(partial.name + ".json")


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, NetworkError):
        return True
    # 403: the pre-signed URL expired (it is replaced before the retry); 429/5xx: transient.
    return isinstance(exc, ApiError) and (exc.status in (403, 408, 429) or exc.status >= 500)


@dataclass
class _State:
    """What the sidecar records: enough to trust the partial file's finished ranges."""

    file_id: str
    version_id: str
    size: int
    range_size: int
    done: set[int]

    def matches(self, other: _State) -> bool:
        return (self.file_id, self.version_id, self.size, self.range_size) == (
            other.file_id,
            other.version_id,
            other.size,
            other.range_size,
        )

    def to_json(self) -> bytes:
        return json.dumps({**self.__dict__, "done": sorted(self.done)}).encode()

    @classmethod
    def load(cls, path: Path) -> _State | None:
        try:
            raw = json.loads(path.read_bytes())
            return cls(
                str(raw["file_id"]),
                str(raw["version_id"]),
                int(raw["size"]),
                int(raw["range_size"]),
                {int(n) for n in raw["done"]},
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


class DownloadEngine(EngineBase):
    """Downloads remote files: ``workers`` ranges of ``range_size`` bytes at a time per file."""

    def __init__(
        self,
        api: DownloadApi,
        fetcher: Fetcher,
        *,
        workers: int = 4,
        range_size: int = DEFAULT_RANGE_SIZE,
        clock: Clock | None = None,
        on_event: Subscriber | None = None,
        retry: RetryPolicy | None = None,
        bandwidth_limit_bps: float | None = None,
        progress_interval_s: float = DEFAULT_INTERVAL_S,
        inline: InlineDownloadApi | None = None,
    ) -> None:
        """``inline``: the API's inline batch download, for ``download_small_files``."""
        self._api = api
        self._fetcher = fetcher
        super().__init__(
            workers=workers,
            pool_name="filevault-download",
            clock=clock,
            on_event=on_event,
            retry=retry,
            bandwidth_limit_bps=bandwidth_limit_bps,
            progress_interval_s=progress_interval_s,
        )
        self._range = max(1, range_size)
        self._partials = _PartialsByDirectory()
        self._small = (
            SmallDownloads(inline, self._clock, bucket=lambda: self._bucket, emit=self._emit)
            if inline is not None
            else None
        )

    def download_small_files(
        self, items: list[SmallDownload], cancel: threading.Event | None = None
    ) -> list[SmallOutcome]:
        """Downloads the small ones among ``items`` a batch at a time (see ``small_downloads``);
        one outcome per item, in order: None for each left to ``download``."""
        if self._small is None:
            return [None] * len(items)
        return self._small.download(items, cancel or threading.Event())

    def download(
        self,
        remote: RemoteFile,
        target: Path,
        *,
        cancel: threading.Event | None = None,
        url: str | None = None,
    ) -> Path:
        """Downloads ``remote`` to ``target`` atomically (resuming a partial one); returns it.

        ``url``: a pre-signed URL the caller already has (from a batch); a fresh one is asked
        for when it is refused or was not given."""
        cancel = cancel or threading.Event()
        transfer_id = uuid.uuid4().hex
        shown = str(target)
        partial = partial_path(target, remote)
        started = self._clock.monotonic()
        try:
            state = self._prepare(remote, target, partial)
            meter = ProgressMeter(
                transfer_id,
                shown,
                remote.path,
                remote.size,
                self._clock,
                done=self._bytes_of(state),
                interval_s=self._interval,
            )
            self._emit(
                TransferStarted(
                    transfer_id, Direction.DOWNLOAD, shown, remote.path, remote.size, meter.done
                )
            )
            self._fill(remote, partial, state, meter, cancel, url)
            self._verify(remote, partial)
            partial.replace(target)
            if self._resumable(state):
                _remove(_sidecar(partial))
        except FileVaultError as exc:
            # A cut download is kept to resume; a wrong one, or one that cannot fit, is not.
            keep = isinstance(exc, TransferCancelled) or _retryable(exc)
            if not keep:
                _remove(partial, _sidecar(partial))
            elif partial.exists():
                self._partials.left(partial)
            self._emit(
                TransferFailed(
                    transfer_id,
                    Direction.DOWNLOAD,
                    shown,
                    remote.path,
                    failure_of(exc),
                    exc.message,
                    resumable=keep and partial.exists(),
                )
            )
            raise
        final = meter.poll(force=True)
        if final is not None:
            self._emit(final)
        self._emit(
            TransferFinished(
                transfer_id,
                Direction.DOWNLOAD,
                shown,
                remote.path,
                remote.size,
                remote.file_id,
                remote.version_id,
                self._clock.monotonic() - started,
            )
        )
        return target

    # ----- preparing the partial file -----
    def _prepare(self, remote: RemoteFile, target: Path, partial: Path) -> _State:
        wanted = _State(remote.file_id, remote.version_id, remote.size, self._range, set())
        # Partials of other versions of this target are stale: the server has moved on.
        for other in self._partials.of(target):
            if other != partial:
                _remove(other, _sidecar(other))
        resumable = self._resumable(wanted)
        if resumable:
            found = _State.load(_sidecar(partial))
            if found is not None and found.matches(wanted) and partial.exists():
                log.info("resuming download of %s: %d ranges on disk", remote.path, len(found.done))
                return found
            _remove(partial, _sidecar(partial))
        try:
            fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise TransferError(f"cannot write in {target.parent}: {exc.strerror or exc}") from exc
        try:
            self._reserve(fd, remote, target)
        finally:
            os.close(fd)
        if resumable:
            write_atomic(_sidecar(partial), wanted.to_json())
        return wanted

    @staticmethod
    def _resumable(state: _State) -> bool:
        """Only a file of several ranges keeps a sidecar to resume from: a one-range file
        is fetched again whole, which costs less than writing the sidecar twice."""
        return state.size > state.range_size

    @staticmethod
    def _reserve(fd: int, remote: RemoteFile, target: Path) -> None:
        """Refuses a download the disk has no room for, then sizes the file (sparse).

        Not ``posix_fallocate``: ext4 turns every write into an allocated-but-unwritten
        extent into an extent conversion, which made a 1 GiB download spend 4.4 s in
        ``pwrite`` instead of 0.2 s. A disk filled by someone else meanwhile is still
        found at the write that fails, and the original stays untouched."""
        if remote.size == 0:
            return
        try:
            stats = os.statvfs(target.parent)
        except (OSError, AttributeError):  # pragma: no cover - Windows: found at a write
            stats = None
        if stats is not None and stats.f_bavail * stats.f_frsize < remote.size:
            raise NoSpaceError(no_space(remote, target))
        try:
            os.ftruncate(fd, remote.size)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise NoSpaceError(no_space(remote, target)) from exc
            raise TransferError(f"cannot write {target}: {exc.strerror or exc}") from exc

    def _bytes_of(self, state: _State) -> int:
        return sum(self._span(state, n)[1] for n in state.done)

    @staticmethod
    def _count(state: _State) -> int:
        return max(1, -(-state.size // state.range_size))

    def _span(self, state: _State, n: int) -> tuple[int, int]:
        offset = n * state.range_size
        return offset, min(state.range_size, state.size - offset)

    # ----- fetching the ranges -----
    def _fill(
        self,
        remote: RemoteFile,
        partial: Path,
        state: _State,
        meter: ProgressMeter,
        cancel: threading.Event,
        given_url: str | None,
    ) -> None:
        todo = [n for n in range(self._count(state)) if n not in state.done]
        if not todo or remote.size == 0:
            return
        url = _Url(self._api, remote.file_id, given_url)
        fd = os.open(partial, os.O_RDWR)
        stop = threading.Event()
        lock = threading.Lock()
        last_saved = [self._clock.monotonic()]

        def finished(n: int) -> None:
            with lock:
                state.done.add(n)
                now = self._clock.monotonic()
                if now - last_saved[0] >= _SIDECAR_INTERVAL_S:
                    last_saved[0] = now
                    self._save(fd, partial, state)

        try:
            # One range at a time in this thread when parallel ranges would not help.
            if len(todo) == 1 or self._workers == 1:
                for n in todo:
                    self._fetch_range(url, fd, state, n, meter, cancel)
                    finished(n)
                    self._emit_progress(meter)
                return
            self._run_parallel(url, fd, state, todo, meter, cancel, stop, finished)
        except _Interrupted:
            raise TransferCancelled(remote.path, aborted=False, direction="download") from None
        finally:
            with contextlib.suppress(OSError):
                if self._resumable(state):
                    self._save(fd, partial, state)
                else:  # what is renamed into place must be on disk first
                    flush(fd)
            os.close(fd)

    def _run_parallel(
        self,
        url: _Url,
        fd: int,
        state: _State,
        todo: list[int],
        meter: ProgressMeter,
        cancel: threading.Event,
        stop: threading.Event,
        finished: _Finished,
    ) -> None:
        pending = iter(todo)
        inflight: dict[Future[None], int] = {}
        failure: BaseException | None = None
        while True:
            if cancel.is_set():
                stop.set()  # workers watch ``stop`` only; the caller's event is theirs to set
            while failure is None and not stop.is_set() and len(inflight) < self._workers:
                n = next(pending, None)
                if n is None:
                    break
                future = self._pool.submit(self._fetch_range, url, fd, state, n, meter, stop)
                inflight[future] = n
            if not inflight:
                break
            done, _ = wait(inflight, timeout=0.1, return_when=FIRST_COMPLETED)
            for future in done:
                n = inflight.pop(future)
                exc = future.exception()
                if exc is None:
                    finished(n)
                elif failure is None:
                    failure = exc
                    stop.set()  # the others wind down; their finished ranges are kept
            self._emit_progress(meter)
        if failure is not None and not isinstance(failure, _Interrupted):
            raise failure
        if cancel.is_set() or failure is not None:
            raise _Interrupted()

    def _fetch_range(
        self,
        url: _Url,
        fd: int,
        state: _State,
        n: int,
        meter: ProgressMeter,
        stop: threading.Event,
    ) -> None:
        offset, length = self._span(state, n)

        def attempt() -> None:
            written = 0
            current: _Issued | None = None
            try:
                current = url.get()
                for chunk in self._fetcher.fetch(current.value, offset, offset + length):
                    if stop.is_set():
                        raise _Interrupted()
                    if written + len(chunk) > length:
                        raise TransferError(f"the server sent more than range {n} holds")
                    if self._bucket is not None and not self._bucket.consume(len(chunk), stop):
                        raise _Interrupted()
                    pwrite_all(fd, chunk, offset + written, state.size)
                    written += len(chunk)
                    meter.add(len(chunk))
                if written != length:
                    raise NetworkError(f"range {n} stopped at {written} of {length} bytes")
            except ApiError as exc:
                meter.add(-written)
                if exc.status == 403 and current is not None:
                    url.expire(current)
                raise
            except BaseException:
                meter.add(-written)
                raise

        retrying = self._retrying(f"range {n}", stop, _retryable)
        retrying(attempt)

    def _backoff(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ApiError) and exc.status == 403 and state.attempt_number == 1:
            return 0.0  # the URL was replaced; waiting would not make the new one better
        return float(self._jitter(state))

    def _pause(self, stop: threading.Event, seconds: float) -> None:
        if self._waited_out(stop, seconds):
            raise _Interrupted()

    @staticmethod
    def _save(fd: int, partial: Path, state: _State) -> None:
        flush(fd)  # the data the sidecar vouches for reaches the disk first
        write_atomic(_sidecar(partial), state.to_json())

    # ----- verification -----
    @staticmethod
    def _verify(remote: RemoteFile, partial: Path) -> None:
        size = partial.stat().st_size
        if size != remote.size:
            raise TransferError(
                f"download of {remote.path} has {size} of {remote.size} bytes; try again"
            )
        with partial.open("rb") as f:
            verify_chunks(remote, iter(lambda: f.read(1 << 20), b""))


class _Finished(Protocol):
    def __call__(self, n: int, /) -> None: ...


@dataclass(frozen=True)
class _Issued:
    value: str


class _Url:
    """The file's pre-signed GET URL, shared by its ranges and replaced once it is refused."""

    def __init__(self, api: DownloadApi, file_id: str, given: str | None = None) -> None:
        self._api = api
        self.file_id = file_id
        self._lock = threading.Lock()
        self._current: _Issued | None = _Issued(given) if given else None

    def get(self) -> _Issued:
        with self._lock:
            if self._current is None:
                self._current = _Issued(self._api.download_url(self.file_id))
            return self._current

    def expire(self, seen: _Issued) -> None:
        with self._lock:
            if self._current is seen:
                self._current = None


class _PartialsByDirectory:
    """The partial downloads in each target directory, listed once per directory.

    Matching every target's name against its whole directory made downloading n files into
    one folder cost O(n²) (a few seconds at 10,000 files). Partials this engine leaves behind
    are added as it leaves them; one left by another process after the listing is found by the
    next engine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dirs: dict[Path, dict[str, set[Path]]] = {}

    def of(self, target: Path) -> list[Path]:
        with self._lock:
            return list(self._listed(target.parent).pop(target.name, ()))

    def left(self, partial: Path) -> None:
        owner = _target_name(partial.name)
        if owner is not None:
            with self._lock:
                self._listed(partial.parent).setdefault(owner, set()).add(partial)

    def _listed(self, folder: Path) -> dict[str, set[Path]]:
        found = self._dirs.get(folder)
        if found is None:
            found = self._dirs[folder] = {}
            try:
                entries = list(folder.iterdir())
            except OSError:
                entries = []
            for entry in entries:
                owner = _target_name(entry.name)
                if owner is not None:
                    found.setdefault(owner, set()).add(entry)
        return found


def _target_name(partial_name: str) -> str | None:
    """``a.bin`` for ``.a.bin.<tag>.filevault-part``; None for any other name."""
    if not (partial_name.startswith(".") and partial_name.endswith(PARTIAL_SUFFIX)):
        return None
    stem = partial_name[1 : -len(PARTIAL_SUFFIX)]
    owner, dot, tag = stem.rpartition(".")
    return owner if dot and owner and len(tag) == TAG_LENGTH else None
