"""Downloads: parallel ranges, resumable, and atomic (the target changes only to verified bytes)."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import ApiError, NetworkError
from filevault_desktop.transfer import RetryPolicy
from filevault_desktop.transfer.download import (
    PARTIAL_SUFFIX,
    DownloadEngine,
    NoSpaceError,
    partial_path,
)
from filevault_desktop.transfer.errors import TransferCancelled, TransferError
from filevault_desktop.transfer.events import (
    FailureReason,
    TransferFailed,
    TransferFinished,
    TransferStarted,
)
from filevault_desktop.transfer.testing import ManualClock

DATA = os.urandom(1_000_003)
RANGE = 100_000  # 11 ranges, the last 3 bytes long
FAST = RetryPolicy(attempts=3, initial_s=0.001, max_wait_s=0.002)


def _remote(data: bytes = DATA, etag: str | None = None, sha256: str | None = None) -> RemoteFile:
    md5 = etag or hashlib.md5(data).hexdigest()
    return RemoteFile(
        "f_1", "docs/a.bin", "a.bin", len(data), "x/y", "v1", md5, "t", "t", "active", None, sha256
    )


class Api:
    def __init__(self) -> None:
        self.issued = 0

    def download_url(self, file_id: str) -> str:
        self.issued += 1
        return f"https://example.invalid/{file_id}?n={self.issued}"


class Fetcher:
    """Serves ``data`` by range; ``fail(start, url)`` may return an exception to raise."""

    def __init__(self, data: bytes = DATA, fail=None) -> None:  # type: ignore[no-untyped-def]
        self.data, self.fail = data, fail
        self.served = 0
        self.ranges: list[tuple[int, int | None]] = []
        self._lock = threading.Lock()

    def fetch(self, url: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with self._lock:
            self.ranges.append((start, end))
        body = self.data[start:end]
        for i in range(0, len(body), 32_768):
            if self.fail is not None and (problem := self.fail(start + i, url)) is not None:
                raise problem
            chunk = body[i : i + 32_768]
            with self._lock:
                self.served += len(chunk)
            yield chunk


def _engine(fetcher: Fetcher, api: Api | None = None, **kwargs) -> DownloadEngine:  # type: ignore[no-untyped-def]
    kwargs.setdefault("workers", 4)
    kwargs.setdefault("range_size", RANGE)
    kwargs.setdefault("retry", FAST)
    return DownloadEngine(api or Api(), fetcher, **kwargs)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if PARTIAL_SUFFIX in p.name)


def test_parallel_ranges_replace_the_target_when_verified(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    events: list[object] = []
    fetcher = Fetcher()
    with _engine(fetcher, on_event=events.append) as engine:
        engine.download(_remote(), target)
    assert target.read_bytes() == DATA
    assert len(fetcher.ranges) == 11 and fetcher.served == len(DATA)
    assert _leftovers(tmp_path) == []
    assert isinstance(events[0], TransferStarted) and events[0].resumed_bytes == 0
    assert isinstance(events[-1], TransferFinished) and events[-1].total == len(DATA)


@pytest.mark.parametrize(
    ("remote", "message"),
    [
        (_remote(etag="0" * 32), "MD5 differs"),
        (_remote(sha256="0" * 64), "SHA-256 differs"),
    ],
)
def test_corrupted_bytes_never_replace_the_original(
    tmp_path: Path, remote: RemoteFile, message: str
) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"precious original")
    events: list[object] = []
    with _engine(Fetcher(), on_event=events.append) as engine, pytest.raises(TransferError) as e:
        engine.download(remote, target)
    assert message in e.value.message and "untouched" in e.value.message
    assert target.read_bytes() == b"precious original"
    assert _leftovers(tmp_path) == []  # a wrong partial is worth nothing: not kept
    assert isinstance(events[-1], TransferFailed) and not events[-1].resumable


def test_a_multipart_etag_is_not_mistaken_for_md5(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    with _engine(Fetcher()) as engine:
        engine.download(_remote(etag="0" * 32 + "-3"), target)
    assert target.read_bytes() == DATA


def test_transient_errors_are_retried(tmp_path: Path) -> None:
    failures = iter([NetworkError("connection reset"), ApiError(503, "SlowDown", "slow down")])

    def flaky(offset: int, url: str) -> Exception | None:
        return next(failures, None) if offset == 3 * RANGE + 32_768 else None

    target = tmp_path / "a.bin"
    with _engine(Fetcher(fail=flaky)) as engine:
        engine.download(_remote(), target)
    assert target.read_bytes() == DATA


def test_an_expired_url_is_replaced(tmp_path: Path) -> None:
    def expired(offset: int, url: str) -> Exception | None:
        return ApiError(403, "AccessDenied", "Request has expired") if url.endswith("n=1") else None

    api = Api()
    target = tmp_path / "a.bin"
    with _engine(Fetcher(fail=expired), api) as engine:
        engine.download(_remote(), target)
    assert target.read_bytes() == DATA and api.issued == 2  # one refresh, shared by all ranges


def test_an_interrupted_download_resumes_without_fetching_finished_ranges(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"precious original")
    cut = 6 * RANGE

    def network_gone(offset: int, url: str) -> Exception | None:
        return NetworkError("network unreachable") if offset >= cut else None

    events: list[object] = []
    first = Fetcher(fail=network_gone)
    engine = _engine(first, workers=1, on_event=events.append)
    with engine, pytest.raises(NetworkError):
        engine.download(_remote(), target)
    assert target.read_bytes() == b"precious original"
    assert partial_path(target, _remote()).exists()
    failed = events[-1]
    assert isinstance(failed, TransferFailed) and failed.resumable
    assert failed.reason is FailureReason.NETWORK

    events.clear()
    second = Fetcher()
    with _engine(second, on_event=events.append) as engine:
        engine.download(_remote(), target)
    assert target.read_bytes() == DATA
    assert second.served == len(DATA) - cut  # the six finished ranges were not fetched again
    assert isinstance(events[0], TransferStarted) and events[0].resumed_bytes == cut
    assert _leftovers(tmp_path) == []


def test_cancel_keeps_the_partial_for_later(tmp_path: Path) -> None:
    cancel = threading.Event()

    def cancel_midway(offset: int, url: str) -> Exception | None:
        if offset >= 4 * RANGE:
            cancel.set()
        return None

    target = tmp_path / "a.bin"
    engine = _engine(Fetcher(fail=cancel_midway))
    with engine, pytest.raises(TransferCancelled, match="download"):
        engine.download(_remote(), target, cancel=cancel)
    assert not target.exists() and partial_path(target, _remote()).exists()
    with _engine(Fetcher()) as engine:
        engine.download(_remote(), target)
    assert target.read_bytes() == DATA


def test_a_partial_of_another_version_is_discarded(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    old_version = RemoteFile(
        "f_1", "docs/a.bin", "a.bin", 10, "x/y", "v0", "0" * 32, "t", "t", "active"
    )
    stale = partial_path(target, old_version)
    stale.write_bytes(b"x" * 10)
    with _engine(Fetcher()) as engine:
        engine.download(_remote(), target)
    assert target.read_bytes() == DATA and not stale.exists()


def test_a_full_disk_is_found_before_the_first_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"precious original")

    real = os.statvfs(tmp_path)
    # One block short of the file's size (f_bavail is the fifth field).
    almost_full = os.statvfs_result((*real[:4], len(DATA) // real.f_frsize - 1, *real[5:]))
    monkeypatch.setattr(os, "statvfs", lambda path: almost_full)
    fetcher = Fetcher()
    events: list[object] = []
    with _engine(fetcher, on_event=events.append) as engine, pytest.raises(NoSpaceError) as e:
        engine.download(_remote(), target)
    assert "not enough space" in e.value.message and "untouched" in e.value.message
    assert fetcher.served == 0
    assert target.read_bytes() == b"precious original"
    assert _leftovers(tmp_path) == []
    assert isinstance(events[-1], TransferFailed)
    assert events[-1].reason is FailureReason.NO_SPACE


def test_a_disk_filling_up_midway_keeps_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"precious original")
    real_pwrite = os.pwrite
    room = [3 * RANGE]

    def filling(fd: int, data: bytes, offset: int) -> int:
        room[0] -= len(data)
        if room[0] < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    # The disk had room when the download started; the write that finds it full stops it.
    monkeypatch.setattr(os, "pwrite", filling)
    with _engine(Fetcher()) as engine, pytest.raises(NoSpaceError, match="disk is full"):
        engine.download(_remote(), target)
    monkeypatch.undo()
    assert target.read_bytes() == b"precious original"
    assert _leftovers(tmp_path) == []


def test_zero_bytes(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    with _engine(Fetcher(b"")) as engine:
        engine.download(_remote(b""), target)
    assert target.read_bytes() == b""


def test_bandwidth_limit_paces_the_download(tmp_path: Path) -> None:
    clock = ManualClock()
    target = tmp_path / "a.bin"
    start = clock.monotonic()
    with _engine(Fetcher(), clock=clock, workers=1, bandwidth_limit_bps=200_000) as engine:
        engine.download(_remote(), target)
    # 1 MB at 200 kB/s: about five seconds of (manual) waiting, less the initial burst.
    assert 4.0 <= clock.monotonic() - start <= 5.5
    assert target.read_bytes() == DATA


def test_a_one_range_file_needs_no_sidecar_and_is_flushed_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = os.urandom(RANGE - 1)
    target = tmp_path / "small.bin"
    seen: list[list[str]] = []
    flushed: list[int] = []
    real_fdatasync = os.fdatasync

    def watching(start: int, url: str) -> None:
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        return

    def fdatasync(fd: int) -> None:
        flushed.append(fd)
        real_fdatasync(fd)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    with _engine(Fetcher(small, fail=watching)) as engine:
        engine.download(_remote(small), target)
    assert target.read_bytes() == small
    assert seen and all(not name.endswith(".json") for names in seen for name in names)
    assert len(flushed) == 1
    assert _leftovers(tmp_path) == []


def test_an_interrupted_one_range_file_starts_again_whole(tmp_path: Path) -> None:
    small = os.urandom(RANGE - 1)
    target = tmp_path / "small.bin"
    cut = [True]

    def once(start: int, url: str) -> Exception | None:
        if start >= 32_768 and cut[0]:
            cut[0] = False
            return NetworkError("connection reset")
        return None

    with _engine(Fetcher(small, fail=once), retry=RetryPolicy(attempts=1)) as engine:
        with pytest.raises(NetworkError):
            engine.download(_remote(small), target)
        assert _leftovers(tmp_path) == [partial_path(target, _remote(small)).name]
        fetcher = Fetcher(small)
    with _engine(fetcher) as engine:
        engine.download(_remote(small), target)
    assert target.read_bytes() == small and fetcher.served == len(small)
    assert _leftovers(tmp_path) == []


def test_stale_partials_are_found_among_many_files_and_after_this_engines_own_failure(
    tmp_path: Path,
) -> None:
    for n in range(50):
        (tmp_path / f"other {n}.txt").write_bytes(b"x")
    old = RemoteFile("f_1", "docs/a.b.c", "a.b.c", 10, "x/y", "v0", "0" * 32, "t", "t", "active")
    target = tmp_path / "a.b.c"
    stale = partial_path(target, old)
    stale.write_bytes(b"x" * 10)
    (tmp_path / ".a.b.c.not-a-tag.filevault-part").write_bytes(b"someone else's")
    v1, v2 = _remote(), _remote()
    v2 = RemoteFile(**{**v1.__dict__, "version_id": "v2"})
    fails = [True]

    def first_fails(start: int, url: str) -> Exception | None:
        return NetworkError("down") if fails[0] else None

    with _engine(Fetcher(fail=first_fails), retry=RetryPolicy(attempts=1)) as engine:
        with pytest.raises(NetworkError):
            engine.download(v1, target)  # v1's partial is left, to resume
        assert not stale.exists()
        assert partial_path(target, v1).exists()
        fails[0] = False
        engine.download(v2, target)  # the server moved on: v1's partial goes
    assert target.read_bytes() == DATA
    assert _leftovers(tmp_path) == [".a.b.c.not-a-tag.filevault-part"]
