"""Small downloads in batches: bytes inline, verified, written atomically, each file on its own."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from pathlib import Path

import pytest

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import ApiError, AuthError, NetworkError, NotFoundError
from filevault_desktop.transfer import landing, small_downloads
from filevault_desktop.transfer.download import PARTIAL_SUFFIX, DownloadEngine, NoSpaceError
from filevault_desktop.transfer.errors import TransferCancelled, TransferError
from filevault_desktop.transfer.events import (
    FailureReason,
    TransferEvent,
    TransferFailed,
    TransferFinished,
    TransferStarted,
)
from filevault_desktop.transfer.small_downloads import (
    INLINE_BATCH_BYTES,
    INLINE_FILE_MAX,
    SmallDownload,
)
from filevault_desktop.transfer.testing import ManualClock

KiB = 1024
WAIT_S = 5.0


def _record(n: int, data: bytes, *, sha256: bool = True, version: str = "v1") -> RemoteFile:
    return RemoteFile(
        f"f_{n}",
        f"docs/{n}.bin",
        f"{n}.bin",
        len(data),
        "application/octet-stream",
        version,
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "t",
        "t",
        "active",
        None,
        hashlib.sha256(data).hexdigest() if sha256 else None,
    )


class InlineApi:
    """Answers inline batches from ``files``; ``answer`` may replace an item's answer."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.calls: list[list[str]] = []
        self.answer: dict[str, tuple[RemoteFile, bytes] | ApiError] = {}
        self._lock = threading.Lock()
        self.fail: dict[str, Exception] = {}  # by the first file id of a batch

    def download_inline_batch(
        self, file_ids: list[str]
    ) -> list[tuple[RemoteFile, bytes] | ApiError]:
        with self._lock:
            self.calls.append(list(file_ids))
        if file_ids[0] in self.fail:
            raise self.fail.pop(file_ids[0])
        out: list[tuple[RemoteFile, bytes] | ApiError] = []
        for file_id in file_ids:
            n = int(file_id.removeprefix("f_"))
            data = self.files[file_id]
            out.append(self.answer.get(file_id, (_record(n, data), data)))
        return out


class NoUrls:
    def download_url(self, file_id: str) -> str:
        raise AssertionError("the inline path asks for no URL")


class NoFetcher:
    def fetch(self, url: str, start: int = 0, end: int | None = None):  # type: ignore[no-untyped-def]
        raise AssertionError("the inline path fetches nothing")


def _engine(api: InlineApi, events: list[TransferEvent] | None = None) -> DownloadEngine:
    return DownloadEngine(
        NoUrls(),
        NoFetcher(),
        clock=ManualClock(),
        on_event=events.append if events is not None else None,
        inline=api,
    )


def _items(folder: Path, files: dict[str, bytes]) -> list[SmallDownload]:
    return [
        SmallDownload(file_id, f"docs/{file_id}", len(data), folder / f"{file_id}.bin")
        for file_id, data in files.items()
    ]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if PARTIAL_SUFFIX in p.name)


def test_files_come_in_batches_of_a_hundred_and_two_mib_and_large_ones_are_left(
    tmp_path: Path,
) -> None:
    files = {f"f_{n}": os.urandom(3 * KiB) for n in range(250)}
    files["f_250"] = os.urandom(INLINE_FILE_MAX + 1)  # too large to ask for inline
    files.update({f"f_{n}": os.urandom(700 * KiB) for n in range(251, 255)})  # 2 per 2 MiB
    files["f_255"] = b""
    api, events = InlineApi(files), list[TransferEvent]()
    with _engine(api, events) as engine:
        out = engine.download_small_files(_items(tmp_path, files))
    assert out[250] is None  # left to the ranged download
    assert not (tmp_path / "f_250.bin").exists()
    for n, (file_id, data) in enumerate(files.items()):
        if n != 250:
            assert isinstance(out[n], RemoteFile) and out[n].version_id == "v1"  # type: ignore[union-attr]
            assert (tmp_path / f"{file_id}.bin").read_bytes() == data
    sizes = [sum(len(files[f]) for f in call) for call in api.calls]
    assert sorted(len(c) for c in api.calls) == [3, 52, 100, 100] and all(
        "f_250" not in c for c in api.calls
    )
    assert max(len(c) for c in api.calls) <= 100 and max(sizes) <= INLINE_BATCH_BYTES
    assert _leftovers(tmp_path) == []
    started = [e for e in events if isinstance(e, TransferStarted)]
    finished = [e for e in events if isinstance(e, TransferFinished)]
    assert len(started) == len(finished) == 255
    assert {e.remote_path for e in finished} == {f"docs/{n}.bin" for n in range(256)} - {
        "docs/250.bin"
    }


def test_bytes_that_differ_from_the_record_never_replace_the_original(tmp_path: Path) -> None:
    files = {"f_1": b"good one", "f_2": b"the real bytes", "f_3": b"no sha256 here"}
    api, events = InlineApi(files), list[TransferEvent]()
    api.answer["f_2"] = (_record(2, files["f_2"]), b"tampered bytes")  # same size
    api.answer["f_3"] = (_record(3, files["f_3"], sha256=False), b"no sha256 HERE")  # MD5 differs
    (tmp_path / "f_2.bin").write_bytes(b"precious original")
    with _engine(api, events) as engine:
        out = engine.download_small_files(_items(tmp_path, files))
    assert isinstance(out[0], RemoteFile)
    for bad, kind in ((out[1], "SHA-256"), (out[2], "MD5")):
        assert isinstance(bad, TransferError) and f"{kind} differs" in bad.message
    assert (tmp_path / "f_2.bin").read_bytes() == b"precious original"
    assert not (tmp_path / "f_3.bin").exists()
    assert _leftovers(tmp_path) == []
    failed = [e for e in events if isinstance(e, TransferFailed)]
    # The files are written side by side: their events come in whatever order they finish.
    assert sorted(e.remote_path for e in failed) == ["docs/2.bin", "docs/3.bin"]


def test_a_newer_version_than_listed_is_written_with_its_own_record(tmp_path: Path) -> None:
    files = {"f_1": b"as listed"}
    api = InlineApi(files)
    api.answer["f_1"] = (_record(1, b"edited since, longer", version="v2"), b"edited since, longer")
    with _engine(api) as engine:
        (out,) = engine.download_small_files(_items(tmp_path, files))
    assert isinstance(out, RemoteFile) and out.version_id == "v2"
    assert (tmp_path / "f_1.bin").read_bytes() == b"edited since, longer"


def test_items_fail_alone_and_those_left_out_go_on_their_own(tmp_path: Path) -> None:
    files = {"f_1": b"one", "f_2": b"two", "f_3": b"three"}
    api, events = InlineApi(files), list[TransferEvent]()
    api.answer["f_1"] = ApiError(400, "too_large_for_batch", "grew since it was listed")
    api.answer["f_2"] = NotFoundError(404, "in_trash", "the file is in the trash")
    with _engine(api, events) as engine:
        out = engine.download_small_files(_items(tmp_path, files))
    assert out[0] is None
    assert isinstance(out[1], NotFoundError) and out[1].code == "in_trash"
    assert isinstance(out[2], RemoteFile)
    (failed,) = [e for e in events if isinstance(e, TransferFailed)]
    assert failed.remote_path == "docs/f_2" and failed.reason is FailureReason.REFUSED


def test_a_server_without_the_route_is_asked_once(tmp_path: Path) -> None:
    files = {f"f_{n}": b"x" for n in range(150)}
    api = InlineApi(files)
    api.fail = {"f_0": NotFoundError(404, "not_found", "no such route")}
    with _engine(api) as engine:
        out = engine.download_small_files(_items(tmp_path, files))
        assert out == [None] * 150
        assert engine.download_small_files(_items(tmp_path, files)) == [None] * 150
    assert len(api.calls) == 1


def test_a_cut_batch_is_left_to_the_ranged_path_and_refusals_fail_the_batch(
    tmp_path: Path,
) -> None:
    files = {f"f_{n}": b"x" for n in range(300)}
    api, events = InlineApi(files), list[TransferEvent]()
    api.fail = {"f_0": NetworkError("connection reset"), "f_100": AuthError("sign in again")}
    with _engine(api, events) as engine:
        out = engine.download_small_files(_items(tmp_path, files))
    assert out[:100] == [None] * 100  # the ranged path retries range by range
    assert all(isinstance(o, AuthError) for o in out[100:200])
    assert all(isinstance(o, RemoteFile) for o in out[200:])
    failed = [e for e in events if isinstance(e, TransferFailed)]
    assert len(failed) == 100 and {e.reason for e in failed} == {FailureReason.AUTH}


def test_cancelled_before_a_batch_asks_for_nothing(tmp_path: Path) -> None:
    files = {"f_1": b"one"}
    api = InlineApi(files)
    cancel = threading.Event()
    cancel.set()
    with _engine(api) as engine:
        (out,) = engine.download_small_files(_items(tmp_path, files), cancel)
    assert isinstance(out, TransferCancelled) and api.calls == []
    assert not (tmp_path / "f_1.bin").exists()


def test_a_full_disk_leaves_the_original_and_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"f_1": b"new bytes that do not fit"}
    (tmp_path / "f_1.bin").write_bytes(b"precious original")

    def full(fd: int, data: object, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("filevault_desktop.transfer.landing.os.pwrite", full)
    events: list[TransferEvent] = []
    with _engine(InlineApi(files), events) as engine:
        (out,) = engine.download_small_files(_items(tmp_path, files))
    assert isinstance(out, NoSpaceError) and "untouched" in out.message
    assert (tmp_path / "f_1.bin").read_bytes() == b"precious original"
    assert _leftovers(tmp_path) == []
    (failed,) = [e for e in events if isinstance(e, TransferFailed)]
    assert failed.reason is FailureReason.NO_SPACE


def test_without_the_inline_api_everything_is_left_to_the_ranged_path(tmp_path: Path) -> None:
    engine = DownloadEngine(NoUrls(), NoFetcher(), clock=ManualClock())
    with engine:
        assert engine.download_small_files(_items(tmp_path, {"f_1": b"x"})) == [None]


def test_later_batches_are_asked_for_while_earlier_ones_are_written_but_not_without_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"f_{n}": os.urandom(2 * KiB) for n in range(1000)}  # 10 batches of 100
    release = threading.Event()
    real_write = landing.write_new_file

    def slow_disk(target: Path, remote: RemoteFile, data: bytes) -> None:
        release.wait(WAIT_S)
        real_write(target, remote, data)

    monkeypatch.setattr(small_downloads, "write_new_file", slow_disk)  # as imported there
    api = InlineApi(files)
    asked = threading.Semaphore(0)
    answer = api.download_inline_batch

    def counted(file_ids: list[str]) -> list[tuple[RemoteFile, bytes] | ApiError]:
        try:
            return answer(file_ids)
        finally:
            asked.release()

    api.download_inline_batch = counted  # type: ignore[method-assign]
    result: list[list[object]] = []
    with _engine(api) as engine:
        worker = threading.Thread(
            target=lambda: result.append(list(engine.download_small_files(_items(tmp_path, files))))
        )
        worker.start()
        # Nothing is written yet, and still batches after the first are asked for...
        for _ in range(small_downloads.UNWRITTEN_BATCHES):
            assert asked.acquire(timeout=WAIT_S)
        # ...but only as many as may wait for the disk at once.
        assert not asked.acquire(timeout=0.3)
        release.set()
        worker.join(WAIT_S)
    assert len(api.calls) == 10
    assert all(isinstance(o, RemoteFile) for o in result[0])
    assert all((tmp_path / f"{f}.bin").read_bytes() == d for f, d in files.items())


def test_the_route_is_probed_alone_only_once(tmp_path: Path) -> None:
    files = {f"f_{n}": b"x" for n in range(400)}
    api = InlineApi(files)
    together = threading.Barrier(2, timeout=WAIT_S)
    answer = api.download_inline_batch

    def needs_company(file_ids: list[str]) -> list[tuple[RemoteFile, bytes] | ApiError]:
        if file_ids[0] in ("f_200", "f_300"):
            together.wait()  # breaks (and fails the batch) unless both are asked at once
        return answer(file_ids)

    api.download_inline_batch = needs_company  # type: ignore[method-assign]
    with _engine(api) as engine:
        first = engine.download_small_files(_items(tmp_path, dict(list(files.items())[:200])))
        # The route is known now: the next call's first two batches go out together.
        items = _items(tmp_path, dict(list(files.items())[200:]))
        second = engine.download_small_files(
            [SmallDownload(i.file_id, i.remote_path, i.size, i.target) for i in items]
        )
    assert all(isinstance(o, RemoteFile) for o in first + second)
