"""The upload engine against in-memory fakes of the API and the S3 endpoint."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from filevault_desktop.api.models import PartUrl, RemoteFile, UploadTicket
from filevault_desktop.errors import ConflictError, FileVaultError, NetworkError, QuotaError
from filevault_desktop.transfer import (
    DonePart,
    FailureReason,
    FileChangedError,
    PartUploadError,
    RetryPolicy,
    SymlinkRefusedError,
    TransferCancelled,
    TransferEvent,
    TransferFailed,
    TransferFinished,
    TransferProgress,
    TransferStarted,
    UnreadableFileError,
    UploadEngine,
    UploadJournal,
)
from filevault_desktop.transfer.journal import JournalEntry
from filevault_desktop.transfer.ports import Readable
from filevault_desktop.transfer.reader import FileIdentity
from filevault_desktop.transfer.testing import FakeUploadServer, ManualClock, PutRecord

PART = 1024


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> FakeUploadServer:
    return FakeUploadServer(part_size=PART, single_put_max=2 * PART, clock=clock)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[UploadJournal]:
    j = UploadJournal(tmp_path / "state" / "transfers.sqlite3")
    yield j
    j.close()


@pytest.fixture
def events() -> list[TransferEvent]:
    return []


@pytest.fixture
def engine(
    server: FakeUploadServer,
    journal: UploadJournal,
    clock: ManualClock,
    events: list[TransferEvent],
) -> Iterator[UploadEngine]:
    with UploadEngine(server, server, journal, workers=4, clock=clock, on_event=events.append) as e:
        yield e


def write(tmp_path: Path, name: str, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


def part_of(data: bytes, n: int) -> bytes:
    return data[(n - 1) * PART : n * PART]


# ----- the happy paths -----


def test_parts_go_in_parallel_with_checksums_passed_to_complete(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    path, data = write(tmp_path, "big.bin", 10 * PART + 123)  # 11 parts, the last short
    # Four workers must be inside put() at once, or the barrier breaks and the test fails.
    barrier = threading.Barrier(4, timeout=10)

    def hold(record: PutRecord) -> None:
        if record.part_number <= 4:
            barrier.wait()

    server.before_put = hold
    done = engine.upload_file(path, "docs/big.bin")
    assert server.files["docs/big.bin"] == data and done.size == len(data)
    assert server.max_active == 4
    assert sorted(server.sent_parts()) == list(range(1, 12))
    for put in server.puts:  # every part carried its checksum header
        assert put.sha256_b64 == b64sha(part_of(data, put.part_number))
    [(_, parts)] = server.calls_named("complete_upload")
    assert [p["part_number"] for p in parts] == list(range(1, 12))
    assert all(p["sha256"] == b64sha(part_of(data, p["part_number"])) for p in parts)
    assert len({p.thread for p in server.puts}) > 1


def test_single_put_and_zero_bytes(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, journal: UploadJournal
) -> None:
    small, data = write(tmp_path, "small.txt", 1500)
    empty, _ = write(tmp_path, "empty", 0)
    engine.upload_file(small, "small.txt")
    engine.upload_file(empty, "empty")
    assert server.files == {"small.txt": data, "empty": b""}
    assert [c[1] for c in server.calls_named("complete_upload")][-1] is None  # single: no parts
    assert server.puts[-1].sha256_b64 == b64sha(b"")
    assert journal.entries() == []


def test_whole_file_sha256_is_recorded(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    small, data = write(tmp_path, "small.txt", 1500)
    big, big_data = write(tmp_path, "big.bin", 3 * PART + 7)
    # Single PUT: derived from the checksum already sent with the bytes.
    assert engine.upload_file(small, "small.txt").sha256 == hashlib.sha256(data).hexdigest()
    # Multipart: only the caller (sync) knows it without reading the file again.
    assert engine.upload_file(big, "big.bin").sha256 is None
    known = hashlib.sha256(big_data).hexdigest()
    assert engine.upload_file(big, "big2.bin", sha256=known).sha256 == known
    # A wrong claim about a single PUT is refused by the server, never recorded.
    with pytest.raises(FileVaultError, match="SHA-256"):
        engine.upload_file(small, "small3.txt", sha256="0" * 64)
    assert "small3.txt" not in server.files


def test_events_started_progress_finished(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, events: list[TransferEvent]
) -> None:
    path, data = write(tmp_path, "e.bin", 5 * PART)
    engine.upload_file(path, "e.bin")
    assert isinstance(events[0], TransferStarted) and events[0].total == len(data)
    assert isinstance(events[-1], TransferFinished) and events[-1].total == len(data)
    progress = [e for e in events if isinstance(e, TransferProgress)]
    assert progress and progress[-1].bytes_done == len(data) and progress[-1].eta_s == 0.0
    assert len({e.transfer_id for e in events}) == 1
    assert all(a.bytes_done <= b.bytes_done for a, b in itertools.pairwise(progress))


def test_expected_version_is_passed_and_conflict_surfaces(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, events: list[TransferEvent]
) -> None:
    path, _ = write(tmp_path, "n.txt", 10)
    first = engine.upload_file(path, "n.txt", expected_version=None)
    engine.upload_file(path, "n.txt", expected_version=first.version_id)
    with pytest.raises(ConflictError):
        engine.upload_file(path, "n.txt", expected_version=first.version_id)
    assert isinstance(events[-1], TransferFailed) and events[-1].reason is FailureReason.CONFLICT


# ----- resume -----


def _crashed_run(
    server: FakeUploadServer, journal: UploadJournal, path: Path, data: bytes, k: int
) -> str:
    """What a process killed after k parts leaves behind: a session, k parts, their records."""
    ticket = server.initiate_upload("r.bin", len(data))
    st = path.stat()
    done = {}
    for url in ticket.parts[:k]:
        body = part_of(data, url.part_number)
        reader = _BytesReader(body)
        etag = server.put(url.url, reader, len(body), sha256_b64=b64sha(body))
        done[url.part_number] = DonePart(url.part_number, etag, b64sha(body))
    journal.begin(
        JournalEntry(
            local_path=str(path),
            remote_path="r.bin",
            identity=FileIdentity(st.st_size, st.st_mtime_ns, st.st_ino),
            upload_id=ticket.upload_id,
            file_id=ticket.file_id,
            version_id=ticket.version_id,
            mode=ticket.mode,
            part_size=ticket.part_size,
            part_count=ticket.part_count,
            request='{"content_type": "application/octet-stream"}',
            created_at=server.clock.time(),
            parts=done,
        )
    )
    server.puts.clear()
    server.calls.clear()
    return ticket.upload_id


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def read(self, size: int = -1, /) -> bytes:
        end = len(self._data) if size < 0 else self._pos + size
        out, self._pos = self._data[self._pos : end], min(end, len(self._data))
        return out


def test_resume_sends_only_the_missing_parts(
    tmp_path: Path,
    server: FakeUploadServer,
    engine: UploadEngine,
    journal: UploadJournal,
    events: list[TransferEvent],
) -> None:
    path, data = write(tmp_path, "r.bin", 8 * PART)
    upload_id = _crashed_run(server, journal, path, data, k=5)
    engine.upload_file(path, "r.bin")
    assert server.calls_named("initiate_upload") == []  # same session
    assert sorted(server.sent_parts()) == [6, 7, 8]  # parts 1..5 were not sent again
    assert server.calls_named("part_urls") == [(upload_id, [6, 7, 8])]  # fresh URLs, missing only
    assert server.files["r.bin"] == data
    assert journal.entries() == []
    started = events[0]
    assert isinstance(started, TransferStarted) and started.resumed_bytes == 5 * PART


def test_resume_with_every_part_done_just_completes(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, journal: UploadJournal
) -> None:
    path, data = write(tmp_path, "r.bin", 3 * PART)
    _crashed_run(server, journal, path, data, k=3)
    engine.upload_file(path, "r.bin")
    assert server.puts == [] and server.calls_named("part_urls") == []
    assert server.files["r.bin"] == data


def test_changed_file_is_not_resumed(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, journal: UploadJournal
) -> None:
    path, data = write(tmp_path, "r.bin", 6 * PART)
    old = _crashed_run(server, journal, path, data, k=3)
    new = os.urandom(6 * PART)
    path.write_bytes(new)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new mtime even on coarse FS
    engine.upload_file(path, "r.bin")
    assert server.calls_named("abort_upload") == [old]  # the stale session was let go
    assert len(server.calls_named("initiate_upload")) == 1
    assert sorted(server.sent_parts()) == list(range(1, 7))
    assert server.files["r.bin"] == new


def test_session_unknown_to_the_server_starts_over(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, journal: UploadJournal
) -> None:
    path, data = write(tmp_path, "r.bin", 6 * PART)
    old = _crashed_run(server, journal, path, data, k=2)
    server.forget(old)  # 404 on part_urls
    engine.upload_file(path, "r.bin")
    assert len(server.calls_named("initiate_upload")) == 1
    assert sorted(server.sent_parts()) == list(range(1, 7))
    assert server.files["r.bin"] == data and journal.entries() == []


def test_journal_parts_the_server_disowns_start_over(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, journal: UploadJournal
) -> None:
    path, data = write(tmp_path, "r.bin", 3 * PART)
    old = _crashed_run(server, journal, path, data, k=3)
    server.uploads[old].parts.clear()  # e.g. the storage lost them: complete says parts_missing
    engine.upload_file(path, "r.bin")
    assert server.files["r.bin"] == data
    assert sorted(server.sent_parts()) == [1, 2, 3]


# ----- retries -----


def test_transient_errors_are_retried_with_backoff(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, clock: ManualClock
) -> None:
    path, data = write(tmp_path, "t.bin", 4 * PART)
    failures = {
        2: [NetworkError("connection reset"), PartUploadError(500, "InternalError", "oops")],
        3: [PartUploadError(503, "SlowDown", "slow down", retry_after=7)],
    }
    lock = threading.Lock()

    def flaky(record: PutRecord) -> None:
        with lock:
            queue = failures.get(record.part_number)
            exc = queue.pop(0) if queue else None
        if exc is not None:
            raise exc

    server.before_put = flaky
    engine.upload_file(path, "t.bin")
    assert server.files["t.bin"] == data
    assert sorted(server.sent_parts()) == [1, 2, 2, 2, 3, 3, 4]
    assert len(clock.waits) == 3
    assert 7 in clock.waits  # Retry-After was honoured
    assert all(0 <= w <= 30 for w in clock.waits)


def test_retries_give_up_and_keep_the_journal(
    tmp_path: Path,
    server: FakeUploadServer,
    journal: UploadJournal,
    clock: ManualClock,
    events: list[TransferEvent],
) -> None:
    path, _ = write(tmp_path, "t.bin", 4 * PART)

    def down(record: PutRecord) -> None:
        if record.part_number == 3:
            raise NetworkError("network unreachable")

    server.before_put = down
    policy = RetryPolicy(attempts=4, initial_s=1, max_wait_s=8)
    with (
        UploadEngine(
            server, server, journal, workers=1, clock=clock, retry=policy, on_event=events.append
        ) as engine,
        pytest.raises(NetworkError),
    ):
        engine.upload_file(path, "t.bin")
    assert server.sent_parts().count(3) == 4
    assert [w <= 2**i for i, w in enumerate(clock.waits)] == [True] * 3  # exponential caps
    failed = events[-1]
    assert isinstance(failed, TransferFailed) and failed.reason is FailureReason.NETWORK
    assert failed.resumable
    [entry] = journal.entries()
    # What landed is kept for the next run (part 4 may have slipped in before the failure).
    assert {1, 2} <= set(entry.parts) and 3 not in entry.parts


def test_fatal_part_error_is_not_retried(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    path, _ = write(tmp_path, "f.bin", 4 * PART)

    def refuse(record: PutRecord) -> None:
        if record.part_number == 2:
            raise PartUploadError(400, "InvalidArgument", "nope")

    server.before_put = refuse
    with pytest.raises(PartUploadError):
        engine.upload_file(path, "f.bin")
    assert server.sent_parts().count(2) == 1
    assert server.calls_named("complete_upload") == []


def test_expired_urls_are_refreshed(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    path, data = write(tmp_path, "x.bin", 6 * PART)
    expired = threading.Event()

    def expire_once(record: PutRecord) -> None:
        if record.part_number == 4 and not expired.is_set():
            expired.set()
            server.expire_urls(record.upload_id)  # this and every URL handed out so far: 403

    server.before_put = expire_once
    engine.upload_file(path, "x.bin")
    assert server.files["x.bin"] == data
    refreshed = server.calls_named("part_urls")
    assert refreshed and all(len(numbers) <= 100 for _, numbers in refreshed)
    assert 4 in {n for _, numbers in refreshed for n in numbers}


def test_urls_that_are_about_to_expire_are_replaced_before_use(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, clock: ManualClock
) -> None:
    path, data = write(tmp_path, "x.bin", 3 * PART)
    server.url_ttl_s = 60  # shorter than the engine's refresh margin
    engine.upload_file(path, "x.bin")
    assert server.files["x.bin"] == data
    assert [u for u in server.puts if "gen=1&" in u.url] == []  # no initiate URL was used


def test_part_urls_come_in_batches(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    path, data = write(tmp_path, "many.bin", 250 * PART)
    engine.upload_file(path, "many.bin")
    assert server.files["many.bin"] == data
    batches = [numbers for _, numbers in server.calls_named("part_urls")]
    assert all(len(b) <= 100 for b in batches) and len(batches) == 2
    assert sorted(n for b in batches for n in b) == list(range(101, 251))


# ----- the local file -----


def test_bytes_changed_between_hash_and_send_are_refused_and_the_part_sent_again(
    tmp_path: Path, server: FakeUploadServer, journal: UploadJournal, clock: ManualClock
) -> None:
    """The part is hashed, then read again to send: bytes rewritten in between (same size,
    the modification time put back, so no stat shows it) never end up stored under the old
    checksum; the storage refuses the part and the retry sends a consistent one. One worker,
    so no other part looks at the file while it is being rewritten."""
    engine = UploadEngine(server, server, journal, workers=1, clock=clock)
    path, data = write(tmp_path, "r.bin", 6 * PART)
    before = path.stat()
    edited: list[int] = []

    def rewrite(record: PutRecord) -> None:
        if record.part_number == 2 and not edited:
            edited.append(1)
            with path.open("r+b") as f:
                f.seek(PART)
                f.write(b"x" * PART)
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    server.before_put = rewrite
    with engine:
        engine.upload_file(path, "r.bin")
    stored = server.files["r.bin"]
    assert stored == data[:PART] + b"x" * PART + data[2 * PART :]
    assert [p.part_number for p in server.puts].count(2) == 2


def test_file_changed_mid_upload_is_never_completed(
    tmp_path: Path,
    server: FakeUploadServer,
    engine: UploadEngine,
    journal: UploadJournal,
    events: list[TransferEvent],
) -> None:
    path, _ = write(tmp_path, "c.bin", 6 * PART)

    def edit(record: PutRecord) -> None:
        if record.part_number == 3:
            with path.open("ab") as f:
                f.write(b"more")

    server.before_put = edit
    with pytest.raises(FileChangedError, match="changed while it was uploading"):
        engine.upload_file(path, "c.bin")
    assert server.calls_named("complete_upload") == []
    assert len(server.calls_named("abort_upload")) == 1
    assert journal.entries() == [] and server.files == {}
    assert isinstance(events[-1], TransferFailed)
    assert events[-1].reason is FailureReason.FILE_CHANGED and not events[-1].resumable


def test_file_replaced_after_last_part_is_refused(
    tmp_path: Path, server: FakeUploadServer, journal: UploadJournal, clock: ManualClock
) -> None:
    path, data = write(tmp_path, "c.bin", 3 * PART)
    seen: list[int] = []

    def replace_on_last(record: PutRecord) -> None:
        seen.append(record.part_number)
        if len(seen) == 3:  # same size, new inode: an editor's save-by-rename
            tmp = tmp_path / "c.bin.tmp"
            tmp.write_bytes(data)
            tmp.replace(path)

    server.before_put = replace_on_last
    with (
        UploadEngine(server, server, journal, workers=1, clock=clock) as engine,
        pytest.raises(FileChangedError),
    ):
        engine.upload_file(path, "c.bin")
    assert server.calls_named("complete_upload") == []


def test_quota_refusal_sends_nothing(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, events: list[TransferEvent]
) -> None:
    path, _ = write(tmp_path, "q.bin", 5 * PART)
    server.quota = 4 * PART
    with pytest.raises(QuotaError):
        engine.upload_file(path, "q.bin")
    assert server.puts == []
    assert isinstance(events[-1], TransferFailed) and events[-1].reason is FailureReason.QUOTA


def test_unreadable_files_are_refused_clearly(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        engine.upload_file(tmp_path / "missing", "m")
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        engine.upload_file(tmp_path, "dir")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        engine.upload_file(fifo, "fifo")
    if os.geteuid() != 0:  # root reads anything
        locked, _ = write(tmp_path, "locked", 10)
        locked.chmod(0)
        with pytest.raises(UnreadableFileError, match="ermission"):
            engine.upload_file(locked, "locked")
    assert server.calls == []


def test_symlinks_are_never_followed_silently(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside, secret = write(tmp_path, "secret", 100)
    inside, data = write(root, "real.txt", 50)
    (root / "out-link").symlink_to(outside)
    (root / "in-link").symlink_to(inside)
    with pytest.raises(SymlinkRefusedError, match="symbolic link"):
        engine.upload_file(root / "in-link", "a")
    with pytest.raises(SymlinkRefusedError, match="outside"):
        engine.upload_file(root / "out-link", "b", root=root)
    with pytest.raises(SymlinkRefusedError, match="outside"):
        engine.upload_file(root / "out-link", "b", root=root, follow_symlinks=True)
    assert server.calls == []
    engine.upload_file(root / "in-link", "c", root=root)
    engine.upload_file(root / "out-link", "d", follow_symlinks=True)  # explicitly asked for
    assert server.files == {"c": data, "d": secret}


# ----- cancellation -----


def _cancel_at_part(server: FakeUploadServer, n: int, cancel: threading.Event) -> None:
    """Part ``n`` sets the cancel event and then stays in flight until the engine stops it."""

    def hold(record: PutRecord) -> None:
        if record.part_number == n:
            cancel.set()
            # Longer than the engine's wake-up interval: by the time this part's body is read
            # the engine has seen the cancel, so the part is cut off mid-flight.
            time.sleep(0.6)

    server.before_put = hold


def test_cancel_stops_promptly_and_a_later_run_resumes(
    tmp_path: Path,
    server: FakeUploadServer,
    journal: UploadJournal,
    clock: ManualClock,
    events: list[TransferEvent],
) -> None:
    path, data = write(tmp_path, "k.bin", 40 * PART)
    cancel = threading.Event()
    _cancel_at_part(server, 5, cancel)
    with UploadEngine(
        server, server, journal, workers=2, clock=clock, on_event=events.append
    ) as engine:
        t0 = time.monotonic()
        with pytest.raises(TransferCancelled) as info:
            engine.upload_file(path, "k.bin", cancel=cancel)
        assert time.monotonic() - t0 < 2
        assert not info.value.aborted
        assert len(server.puts) < 40 and server.calls_named("abort_upload") == []
        [entry] = journal.entries()
        done_before = set(entry.parts)
        assert done_before and 5 not in done_before
        failed = events[-1]
        assert isinstance(failed, TransferFailed) and failed.reason is FailureReason.CANCELLED
        assert failed.resumable

        server.before_put = None
        server.puts.clear()
        engine.upload_file(path, "k.bin")
    assert server.files["k.bin"] == data
    assert not done_before & set(server.sent_parts())
    assert sorted(server.sent_parts()) == sorted(set(range(1, 41)) - done_before)


def test_cancel_with_abort_discards_everything(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, journal: UploadJournal
) -> None:
    path, _ = write(tmp_path, "k.bin", 20 * PART)
    cancel = threading.Event()
    _cancel_at_part(server, 3, cancel)
    with pytest.raises(TransferCancelled) as info:
        engine.upload_file(path, "k.bin", cancel=cancel, abort_on_cancel=True)
    assert info.value.aborted
    assert len(server.calls_named("abort_upload")) == 1
    assert journal.entries() == [] and server.uploads == {}


def test_cancel_before_start_sends_nothing(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    path, _ = write(tmp_path, "k.bin", 5 * PART)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(TransferCancelled):
        engine.upload_file(path, "k.bin", cancel=cancel)
    assert server.calls == []


def test_cancel_interrupts_a_backoff_wait(
    tmp_path: Path, server: FakeUploadServer, journal: UploadJournal
) -> None:
    # A real clock: the retry wait of up to 30 s must end as soon as cancel is set.
    path, _ = write(tmp_path, "k.bin", 3 * PART)
    cancel = threading.Event()

    def fail(record: PutRecord) -> None:
        threading.Timer(0.3, cancel.set).start()
        raise PartUploadError(503, "SlowDown", "slow down", retry_after=30)

    server.before_put = fail
    with UploadEngine(server, server, journal, workers=1) as engine:
        t0 = time.monotonic()
        with pytest.raises(TransferCancelled):
            engine.upload_file(path, "k.bin", cancel=cancel)
        assert time.monotonic() - t0 < 3


# ----- bandwidth -----


def test_bandwidth_limit_paces_the_upload(
    tmp_path: Path, server: FakeUploadServer, journal: UploadJournal, clock: ManualClock
) -> None:
    path, data = write(tmp_path, "bw.bin", 64 * PART)
    rate = 16 * PART  # bytes per second: the 64 KiB file takes ~4 s of (fake) time
    t0 = clock.monotonic()
    with UploadEngine(
        server, server, journal, workers=1, clock=clock, bandwidth_limit_bps=rate
    ) as engine:
        engine.upload_file(path, "bw.bin")
    elapsed = clock.monotonic() - t0
    burst = rate / 4
    assert server.files["bw.bin"] == data
    assert elapsed == pytest.approx((len(data) - burst) / rate, rel=0.01)


def test_a_broken_subscriber_does_not_break_the_upload(
    tmp_path: Path, server: FakeUploadServer, journal: UploadJournal, clock: ManualClock
) -> None:
    path, data = write(tmp_path, "s.bin", 3 * PART)

    def boom(event: TransferEvent) -> None:
        raise RuntimeError("subscriber bug")

    with UploadEngine(server, server, journal, clock=clock, on_event=boom) as engine:
        engine.upload_file(path, "s.bin")
    assert server.files["s.bin"] == data


# ----- memory -----


class DiscardingServer:
    """Accepts any upload and throws the bytes away: only the engine's own memory is measured."""

    def __init__(self, part_size: int) -> None:
        self.part_size = part_size
        self.received = 0
        self._lock = threading.Lock()

    def initiate_upload(
        self, path: str, size: int, content_type: str = "", **expected: str | None
    ) -> UploadTicket:
        count = -(-size // self.part_size)
        return UploadTicket(
            "u1", "f1", "v1", path, "multipart", size, self.part_size, count,
            [PartUrl(n, f"fake://s3/u1?partNumber={n}") for n in range(1, min(count, 100) + 1)],
            "2999-01-01T00:00:00.000Z", "2999-01-01T00:00:00.000Z",
        )  # fmt: skip

    def part_urls(self, upload_id: str, part_numbers: list[int]) -> UploadTicket:
        raise AssertionError("all URLs came with the ticket")

    def complete_upload(
        self,
        upload_id: str,
        parts: list[dict[str, Any]] | None = None,
        *,
        sha256: str | None = None,
    ) -> RemoteFile:
        return RemoteFile("f1", "p", "p", self.received, "", "v1", "", "", "", "active")

    def abort_upload(self, upload_id: str) -> None:
        raise AssertionError("nothing to abort")

    def put(self, url: str, body: Readable, length: int, *, sha256_b64: str | None) -> str:
        got = 0
        while chunk := body.read(256 * 1024):
            got += len(chunk)
        with self._lock:
            self.received += got
        return "etag"


def test_peak_memory_does_not_grow_with_the_file(tmp_path: Path, journal: UploadJournal) -> None:
    path = tmp_path / "big.sparse"
    with path.open("wb") as f:
        f.truncate(256 * 1024 * 1024)  # 256 MiB in 32 parts of 8 MiB, read but never stored
    server = DiscardingServer(part_size=8 * 1024 * 1024)
    with UploadEngine(server, server, journal, workers=4) as engine:
        tracemalloc.start()
        try:
            engine.upload_file(path, "big")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert server.received == 256 * 1024 * 1024
    # Four workers each hold a chunk or two (256 KiB); a part or the file would be 8 or 256 MiB.
    assert peak < 8 * 1024 * 1024, peak
