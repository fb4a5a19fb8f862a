"""Small files in batches: two API calls per hundred files, each file still on its own."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import ConflictError, FileVaultError, NetworkError
from filevault_desktop.transfer import (
    RetryPolicy,
    SymlinkRefusedError,
    TransferEvent,
    TransferFailed,
    TransferFinished,
    TransferStarted,
    UnreadableFileError,
    UploadEngine,
    UploadJournal,
)
from filevault_desktop.transfer.errors import FileChangedError
from filevault_desktop.transfer.small_files import SmallUpload
from filevault_desktop.transfer.testing import FakeUploadServer, ManualClock, PutRecord


@pytest.fixture
def server() -> FakeUploadServer:
    """A backend without the inline route (an older deployment): pre-signed batches."""
    fake = FakeUploadServer(part_size=1024, single_put_max=4096, clock=ManualClock())
    fake.inline_supported = False
    return fake


@pytest.fixture
def inline_server(server: FakeUploadServer) -> FakeUploadServer:
    server.inline_supported = True
    return server


@pytest.fixture
def events() -> list[TransferEvent]:
    return []


@pytest.fixture
def engine(
    tmp_path: Path, server: FakeUploadServer, events: list[TransferEvent]
) -> Iterator[UploadEngine]:
    journal = UploadJournal(tmp_path / "journal.sqlite3")
    retry = RetryPolicy(attempts=3, initial_s=0.001, max_wait_s=0.002)
    with UploadEngine(
        server, server, journal, workers=4, clock=server.clock, on_event=events.append, retry=retry
    ) as e:
        yield e
    journal.close()


def _files(folder: Path, count: int, size: int = 100) -> list[SmallUpload]:
    folder.mkdir(exist_ok=True)
    specs = []
    for n in range(count):
        path = folder / f"f{n:04d}.bin"
        path.write_bytes(os.urandom(size))
        specs.append(SmallUpload(path, f"small/{path.name}", root=folder))
    return specs


def test_many_files_take_one_initiate_per_hundred_and_complete_as_they_are_sent(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, events: list[TransferEvent]
) -> None:
    specs = _files(tmp_path / "src", 250)
    results = engine.upload_small_files(specs)
    assert all(isinstance(r, RemoteFile) for r in results)
    assert [r.path for r in results if isinstance(r, RemoteFile)] == [s.remote_path for s in specs]
    # The engine asked for the inline route, found none, and stopped asking (two batches
    # are in flight, so both may have asked once).
    assert 1 <= len(server.calls_named("upload_inline_batch")) <= 2
    assert sorted(server.calls_named("initiate_upload_batch")) == [50, 100, 100]
    # Completed in groups of 19 as the PUTs finish (100 = 5 x 19 + 5, 50 = 2 x 19 + 12).
    assert sorted(server.calls_named("complete_upload_batch")) == sorted(
        [19] * 5 + [5] + [19] * 5 + [5] + [19] * 2 + [12]
    )
    for spec in specs:
        assert server.files[spec.remote_path] == spec.local_path.read_bytes()
    first = results[0]
    assert isinstance(first, RemoteFile)
    assert first.sha256 == hashlib.sha256(specs[0].local_path.read_bytes()).hexdigest()
    started = [e for e in events if isinstance(e, TransferStarted)]
    finished = [e for e in events if isinstance(e, TransferFinished)]
    assert len(started) == len(finished) == 250
    assert all(p.sha256_b64 for p in server.puts)  # each PUT carries its checksum


@pytest.mark.parametrize("inline", [False, True], ids=["pre-signed", "inline"])
def test_each_file_fails_on_its_own(
    tmp_path: Path,
    server: FakeUploadServer,
    engine: UploadEngine,
    events: list[TransferEvent],
    inline: bool,
) -> None:
    server.inline_supported = inline
    src = tmp_path / "src"
    specs = _files(src, 3)
    outside = tmp_path / "secret.txt"
    outside.write_text("not for upload")
    (src / "link.txt").symlink_to(outside)
    unreadable = src / "locked.bin"
    unreadable.write_bytes(b"x")
    unreadable.chmod(0)
    bigger = src / "bigger.bin"  # above the server's single PUT: goes alone, as multipart
    bigger.write_bytes(os.urandom(10_000))
    engine.upload_small_files([SmallUpload(specs[0].local_path, "small/taken.bin")])
    specs += [
        SmallUpload(src / "link.txt", "small/link.txt", root=src),
        SmallUpload(unreadable, "small/locked.bin", root=src),
        SmallUpload(bigger, "small/bigger.bin", root=src),
        SmallUpload(specs[1].local_path, "small/taken.bin", expected_version=None, root=src),
    ]
    results = engine.upload_small_files(specs)
    assert [type(r) for r in results] == [
        RemoteFile,
        RemoteFile,
        RemoteFile,
        SymlinkRefusedError,
        UnreadableFileError if os.geteuid() != 0 else RemoteFile,  # root reads anything
        RemoteFile,
        ConflictError,
    ]
    assert server.files["small/bigger.bin"] == bigger.read_bytes()
    assert server.files["small/taken.bin"] == specs[0].local_path.read_bytes()
    assert server.calls_named("initiate_upload")  # bigger.bin went the one-file way
    assert bool(server.calls_named("initiate_upload_batch")) != inline  # the path under test
    failed = {e.remote_path for e in events if isinstance(e, TransferFailed)}
    assert {"small/link.txt", "small/taken.bin"} <= failed  # every failure is reported


def test_transient_put_errors_are_retried(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    specs = _files(tmp_path / "src", 5)
    failed_once: set[str] = set()

    def drop(record: PutRecord) -> None:
        if record.upload_id not in failed_once:  # every file's first PUT is cut
            failed_once.add(record.upload_id)
            raise NetworkError("connection reset")

    server.before_put = drop
    results = engine.upload_small_files(specs)
    assert all(isinstance(r, RemoteFile) for r in results), results
    assert len(server.puts) == 10


def test_a_file_changed_while_sent_is_not_completed(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine
) -> None:
    specs = _files(tmp_path / "src", 3)
    victim = specs[1]

    def edit(record: PutRecord) -> None:
        upload = server.uploads[record.upload_id]
        if upload.path == victim.remote_path:
            with victim.local_path.open("ab") as f:
                f.write(b"edited meanwhile")

    server.before_put = edit
    results = engine.upload_small_files(specs)
    assert isinstance(results[1], FileChangedError)
    assert victim.remote_path not in server.files
    assert isinstance(results[0], RemoteFile) and isinstance(results[2], RemoteFile)
    assert server.calls_named("abort_upload")  # its session was given back


@pytest.mark.parametrize("inline", [False, True], ids=["pre-signed", "inline"])
def test_cancel_before_start_sends_nothing(
    tmp_path: Path, server: FakeUploadServer, engine: UploadEngine, inline: bool
) -> None:
    import threading

    server.inline_supported = inline
    cancel = threading.Event()
    cancel.set()
    results = engine.upload_small_files(_files(tmp_path / "src", 3), cancel)
    assert all(isinstance(r, FileVaultError) for r in results)
    assert server.puts == []
    assert server.files == {}


# ----- inline: the bytes go with the call that records them -----


def test_inline_many_files_take_one_call_per_hundred_and_no_put(
    tmp_path: Path,
    inline_server: FakeUploadServer,
    engine: UploadEngine,
    events: list[TransferEvent],
) -> None:
    server = inline_server
    specs = _files(tmp_path / "src", 250)
    results = engine.upload_small_files(specs)
    assert [r.path for r in results if isinstance(r, RemoteFile)] == [s.remote_path for s in specs]
    assert sorted(server.calls_named("upload_inline_batch")) == [50, 100, 100]
    assert server.puts == [] and not server.calls_named("initiate_upload_batch")
    for spec, result in zip(specs, results, strict=True):
        data = spec.local_path.read_bytes()
        assert server.files[spec.remote_path] == data
        assert isinstance(result, RemoteFile)
        assert result.sha256 == hashlib.sha256(data).hexdigest()
    started = [e for e in events if isinstance(e, TransferStarted)]
    finished = [e for e in events if isinstance(e, TransferFinished)]
    assert len(started) == len(finished) == 250


def test_inline_requests_carry_at_most_two_mib_of_content(
    tmp_path: Path, inline_server: FakeUploadServer
) -> None:
    server = inline_server
    server.single_put_max = 1024 * 1024
    journal = UploadJournal(tmp_path / "journal.sqlite3")
    with UploadEngine(server, server, journal, workers=4, clock=server.clock) as engine:
        # 30 files of 100,000 bytes: 20 fit in 2 MiB (2,000,000 bytes), then the other 10.
        results = engine.upload_small_files(_files(tmp_path / "src", 30, size=100_000))
    journal.close()
    assert all(isinstance(r, RemoteFile) for r in results)
    assert server.calls_named("upload_inline_batch") == [20, 10]
