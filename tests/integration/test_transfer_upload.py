"""The upload engine against the real local stack (1 MiB parts, single PUT up to 2 MiB)."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from filevault_desktop.api.models import RemoteFile, UploadTicket
from filevault_desktop.errors import ApiError, ConflictError, NotFoundError, QuotaError
from filevault_desktop.service import FileVaultService
from filevault_desktop.transfer import (
    FileChangedError,
    TransferEvent,
    TransferFinished,
    TransferProgress,
    UploadEngine,
    UploadJournal,
)
from filevault_desktop.transfer.http import RequestsPartSender
from filevault_desktop.transfer.ports import PartSender, Readable
from tests.integration.helpers import download_bytes, upload_bytes
from tests.integration.stack import MiB, RunningStack


class CountingSender:
    """Wraps the real sender and notes which part numbers were PUT (from the pre-signed URL)."""

    def __init__(self, inner: PartSender) -> None:
        self.inner = inner
        self.parts: list[int] = []
        self.checksums: list[str | None] = []
        self._lock = threading.Lock()

    def put(self, url: str, body: Readable, length: int, *, sha256_b64: str | None) -> str:
        number = int(parse_qs(urlsplit(url).query).get("partNumber", ["1"])[0])
        with self._lock:
            self.parts.append(number)
            self.checksums.append(sha256_b64)
        return self.inner.put(url, body, length, sha256_b64=sha256_b64)


class SpyApi:
    """The real ApiClient, with a log of the upload calls made through it."""

    def __init__(self, svc: FileVaultService) -> None:
        self.api = svc.api
        self.calls: list[tuple[str, Any]] = []
        self.inline = True

    def initiate_upload(
        self,
        path: str,
        size: int,
        content_type: str = "application/octet-stream",
        **expected: str | None,
    ) -> UploadTicket:
        self.calls.append(("initiate_upload", path))
        return self.api.initiate_upload(path, size, content_type, **expected)

    def part_urls(self, upload_id: str, part_numbers: list[int]) -> UploadTicket:
        self.calls.append(("part_urls", (upload_id, list(part_numbers))))
        return self.api.part_urls(upload_id, part_numbers)

    def complete_upload(
        self,
        upload_id: str,
        parts: list[dict[str, Any]] | None = None,
        *,
        sha256: str | None = None,
    ) -> RemoteFile:
        self.calls.append(("complete_upload", upload_id))
        return self.api.complete_upload(upload_id, parts, sha256=sha256)

    def initiate_upload_batch(self, files: list[dict[str, Any]]) -> list[UploadTicket | ApiError]:
        self.calls.append(("initiate_upload_batch", len(files)))
        return self.api.initiate_upload_batch(files)

    def complete_upload_batch(self, uploads: list[dict[str, Any]]) -> list[RemoteFile | ApiError]:
        self.calls.append(("complete_upload_batch", len(uploads)))
        return self.api.complete_upload_batch(uploads)

    def upload_inline_batch(self, files: list[dict[str, Any]]) -> list[RemoteFile | ApiError]:
        self.calls.append(("upload_inline_batch", len(files)))
        if not self.inline:  # as a backend without the route answers
            raise NotFoundError(404, "not_found", "no such route")
        return self.api.upload_inline_batch(files)

    def abort_upload(self, upload_id: str) -> None:
        self.calls.append(("abort_upload", upload_id))
        self.api.abort_upload(upload_id)


def _file(tmp_path: Path, name: str, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


def test_multipart_upload_with_four_workers(make_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    path, data = _file(tmp_path, "big.bin", 5 * MiB + MiB // 2)  # six 1 MiB parts, the last half
    sender = CountingSender(RequestsPartSender(pool_size=4))
    events: list[TransferEvent] = []
    journal = UploadJournal(tmp_path / "state" / "transfers.sqlite3")
    with UploadEngine(svc.api, sender, journal, workers=4, on_event=events.append) as engine:
        done = engine.upload_file(path, "transfer/big.bin")
    assert done.size == len(data)
    assert sorted(sender.parts) == [1, 2, 3, 4, 5, 6]
    assert all(sender.checksums)  # each verified by the S3 endpoint and again at completion
    got = download_bytes(svc, done.file_id)
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert isinstance(events[-1], TransferFinished)
    assert [e for e in events if isinstance(e, TransferProgress)][-1].bytes_done == len(data)
    assert journal.entries() == []
    journal.close()


def test_small_empty_and_versioned_uploads(make_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    small, data = _file(tmp_path, "small.txt", 1000)
    empty, _ = _file(tmp_path, "empty", 0)
    journal = UploadJournal(tmp_path / "j.sqlite3")
    with UploadEngine(svc.api, RequestsPartSender(), journal, workers=2) as engine:
        first = engine.upload_file(small, "s/small.txt", expected_version=None)
        assert download_bytes(svc, first.file_id) == data
        zero = engine.upload_file(empty, "s/empty")
        assert zero.size == 0 and download_bytes(svc, zero.file_id) == b""
        small.write_bytes(b"second version")
        second = engine.upload_file(small, "s/small.txt", expected_version=first.version_id)
        assert second.file_id == first.file_id and second.version_id != first.version_id
        with pytest.raises(ConflictError):
            engine.upload_file(small, "s/small.txt", expected_version=first.version_id)
    journal.close()


def test_over_quota_sends_nothing(make_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    path = tmp_path / "huge.iso"
    with path.open("wb") as f:  # sparse: 3 GiB over a 2 GiB quota without writing 3 GiB
        f.truncate(3 * 1024 * MiB)
    sender = CountingSender(RequestsPartSender())
    journal = UploadJournal(tmp_path / "j.sqlite3")
    with UploadEngine(svc.api, sender, journal) as engine, pytest.raises(QuotaError):
        engine.upload_file(path, "huge.iso")
    assert sender.parts == [] and journal.entries() == []
    journal.close()


def test_file_changed_during_upload_is_aborted(make_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    path, _ = _file(tmp_path, "moving.bin", 4 * MiB)
    inner = RequestsPartSender()

    class Editing:
        def put(self, url: str, body: Readable, length: int, *, sha256_b64: str | None) -> str:
            etag = inner.put(url, body, length, sha256_b64=sha256_b64)
            with path.open("ab") as f:  # the user keeps writing to the file
                f.write(b"x")
            return etag

    spy = SpyApi(svc)
    journal = UploadJournal(tmp_path / "j.sqlite3")
    with (
        UploadEngine(spy, Editing(), journal, workers=1) as engine,
        pytest.raises(FileChangedError),
    ):
        engine.upload_file(path, "moving.bin")
    assert [c for c, _ in spy.calls if c == "complete_upload"] == []
    assert [c for c, _ in spy.calls if c == "abort_upload"] == ["abort_upload"]
    assert journal.entries() == []
    assert [f.path for f in svc.api.list_files()] == []
    journal.close()


def test_bytes_damaged_in_transit_are_refused_and_resent(make_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    path, data = _file(tmp_path, "damaged.bin", 3 * MiB)
    inner = RequestsPartSender()
    attempts: list[int] = []

    class Flipping:
        """Flips one bit of part 2's body the first time: the header's SHA-256 no longer fits."""

        def put(self, url: str, body: Readable, length: int, *, sha256_b64: str | None) -> str:
            number = int(parse_qs(urlsplit(url).query)["partNumber"][0])
            attempts.append(number)
            if number == 2 and attempts.count(2) == 1:
                first = [True]

                class Damaged:
                    def read(self, size: int = -1, /) -> bytes:
                        chunk = body.read(size)
                        if first[0] and chunk:
                            first[0] = False
                            return bytes([chunk[0] ^ 1]) + chunk[1:]
                        return chunk

                return inner.put(url, Damaged(), length, sha256_b64=sha256_b64)
            return inner.put(url, body, length, sha256_b64=sha256_b64)

    journal = UploadJournal(tmp_path / "j.sqlite3")
    with UploadEngine(svc.api, Flipping(), journal, workers=2) as engine:
        done = engine.upload_file(path, "damaged.bin")
    assert sorted(attempts) == [1, 2, 2, 3]  # the S3 endpoint said BadDigest; part 2 went again
    assert download_bytes(svc, done.file_id) == data
    journal.close()


# The crashing uploader: a real engine in a child process whose sender stalls forever after
# STALL_AFTER parts have been sent, so the parent can kill it at a known point.
CHILD = """
import sys, threading, time
from pathlib import Path
from filevault_desktop.paths import AppPaths
from filevault_desktop.service import FileVaultService
from filevault_desktop.transfer import UploadEngine, UploadJournal
from filevault_desktop.transfer.http import RequestsPartSender

config, state, stack_dir, journal_path, local, remote, stall_after = sys.argv[1:]
svc = FileVaultService(AppPaths(Path(config), Path(state), Path(stack_dir)), "local")
inner = RequestsPartSender(pool_size=2)
lock = threading.Lock()
count = [0]

class Stalling:
    def put(self, url, body, length, *, sha256_b64):
        with lock:
            count[0] += 1
            mine = count[0]
        if mine > int(stall_after):
            time.sleep(3600)
        return inner.put(url, body, length, sha256_b64=sha256_b64)

engine = UploadEngine(svc.api, Stalling(), UploadJournal(Path(journal_path)), workers=2)
engine.upload_file(local, remote)
print("finished, which it should not have", flush=True)
"""


def _journaled_parts(journal_path: Path) -> dict[str, set[int]]:
    if not journal_path.exists():
        return {}
    db = sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True, timeout=5)
    try:
        rows = db.execute(
            "SELECT u.upload_id, p.part_number FROM uploads u "
            "LEFT JOIN parts p ON p.upload_id = u.upload_id"
        ).fetchall()
    except sqlite3.OperationalError:  # the child has not created the tables yet
        return {}
    finally:
        db.close()
    out: dict[str, set[int]] = {}
    for upload_id, number in rows:
        out.setdefault(upload_id, set())
        if number is not None:
            out[upload_id].add(number)
    return out


def test_resume_after_kill_9(make_user, stack: RunningStack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    path, data = _file(tmp_path, "resume.bin", 5 * MiB + 4321)  # six parts
    journal_path = tmp_path / "state" / "transfers.sqlite3"
    stall_after = 3
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(svc.paths.config_dir),
            str(svc.paths.state_dir),
            str(stack.data_dir),
            str(journal_path),
            str(path),
            "resume/resume.bin",
            str(stall_after),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        journaled: dict[str, set[int]] = {}
        while time.monotonic() < deadline and child.poll() is None:
            journaled = _journaled_parts(journal_path)
            if any(len(parts) >= stall_after for parts in journaled.values()):
                break
            time.sleep(0.05)
        assert child.poll() is None, child.communicate()[0]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    [(upload_id, done_before)] = _journaled_parts(journal_path).items()
    assert len(done_before) == stall_after  # the stalled parts never finished

    sender = CountingSender(RequestsPartSender(pool_size=4))
    spy = SpyApi(svc)
    journal = UploadJournal(journal_path)
    with UploadEngine(spy, sender, journal, workers=4) as engine:
        done = engine.upload_file(path, "resume/resume.bin")
    assert [c for c, _ in spy.calls if c == "initiate_upload"] == []  # the same session
    [(_, (resumed_id, asked))] = [c for c in spy.calls if c[0] == "part_urls"]
    assert resumed_id == upload_id and set(asked) == set(range(1, 7)) - done_before
    assert sorted(sender.parts) == sorted(set(range(1, 7)) - done_before)  # none re-sent
    got = download_bytes(svc, done.file_id)
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert journal.entries() == []
    journal.close()


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "presigned"])
def test_small_files_go_in_batches(make_user, tmp_path: Path, inline: bool) -> None:  # type: ignore[no-untyped-def]
    from filevault_desktop.transfer.small_files import SmallUpload

    svc, _, _ = make_user()
    folder = tmp_path / "many"
    folder.mkdir()
    specs = []
    for n in range(130):
        path, _ = _file(folder, f"{n:03d}.txt", 2000 + n)
        specs.append(SmallUpload(path, f"batch/{n:03d}.txt", root=folder))
    big, big_data = _file(folder, "big.bin", 3 * MiB)  # above the single PUT: on its own
    specs.append(SmallUpload(big, "batch/big.bin", root=folder))
    upload_bytes(svc, "batch/taken.txt", b"first")
    taken, _ = _file(folder, "taken.txt", 10)
    specs.append(SmallUpload(taken, "batch/taken.txt", expected_version=None, root=folder))
    spy = SpyApi(svc)
    spy.inline = inline
    journal = UploadJournal(tmp_path / "j.sqlite3")
    with UploadEngine(spy, RequestsPartSender(pool_size=8), journal, workers=8) as engine:
        results = engine.upload_small_files(specs)
    journal.close()
    assert isinstance(results[-1], ConflictError)
    assert all(not isinstance(r, Exception) for r in results[:-1]), results
    if inline:
        # Two batches in flight: their calls may interleave. Bytes in the call: no PUT.
        assert sorted(n for c, n in spy.calls if c == "upload_inline_batch") == [31, 100]
        assert not any(c == "initiate_upload_batch" for c, _ in spy.calls)
    else:
        assert sorted(n for c, n in spy.calls if c == "initiate_upload_batch") == [31, 100]
        # Completed 19 at a time as the PUTs finish: 100 = 5 x 19 + 5, 30 = 19 + 11.
        completes = sorted(n for c, n in spy.calls if c == "complete_upload_batch")
        assert completes == sorted([19] * 5 + [5] + [19, 11])
    listed = {f.path: f for f in svc.api.list_files("batch/")}
    assert len(listed) == 132
    some = specs[7]
    assert (
        listed[some.remote_path].sha256 == hashlib.sha256(some.local_path.read_bytes()).hexdigest()
    )
    assert download_bytes(svc, listed["batch/big.bin"].file_id) == big_data
    feed = svc.api.changes(None)
    assert [c.seq for c in feed.changes] == list(range(1, len(feed.changes) + 1))
