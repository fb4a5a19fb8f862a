"""The upload journal: what survives a crash, what is replaced, what is cleaned up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from filevault_desktop.transfer import UPLOAD_SESSION_TTL_S, DonePart, UploadEngine, UploadJournal
from filevault_desktop.transfer.journal import JournalEntry
from filevault_desktop.transfer.reader import FileIdentity
from filevault_desktop.transfer.testing import FakeUploadServer, ManualClock


def entry(
    upload_id: str, *, local: str = "/data/a.bin", created_at: float = 1000.0
) -> JournalEntry:
    return JournalEntry(
        local_path=local,
        remote_path="a.bin",
        identity=FileIdentity(10 * 1024, 1_700_000_000_123_456_789, 2**64 - 5),
        upload_id=upload_id,
        file_id="f1",
        version_id="v1",
        mode="multipart",
        part_size=1024,
        part_count=10,
        request='{"content_type": "application/octet-stream"}',
        created_at=created_at,
    )


def test_round_trip_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state" / "transfers.sqlite3"
    journal = UploadJournal(path)
    journal.begin(entry("u1"))
    journal.record_part("u1", DonePart(1, "etag1", "sha1"))
    journal.record_part("u1", DonePart(2, "etag2", "sha2"))
    journal.record_part("u1", DonePart(2, "etag2b", "sha2b"))  # a re-sent part replaces
    journal.close()

    reopened = UploadJournal(path)  # as after a crash: a new process opens the same file
    found = reopened.find("/data/a.bin", "a.bin")
    assert found is not None
    assert found.identity.inode == 2**64 - 5  # wider than SQLite's integers: stored as text
    assert found.identity.mtime_ns == 1_700_000_000_123_456_789
    assert dict(found.parts) == {1: DonePart(1, "etag1", "sha1"), 2: DonePart(2, "etag2b", "sha2b")}
    assert reopened.find("/data/a.bin", "other") is None
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    reopened.close()


def test_a_new_session_replaces_the_old_and_remove_drops_parts(tmp_path: Path) -> None:
    journal = UploadJournal(tmp_path / "j.sqlite3")
    journal.begin(entry("u1"))
    journal.record_part("u1", DonePart(1, "e", "s"))
    journal.begin(entry("u2"))
    assert [e.upload_id for e in journal.entries()] == ["u2"]
    assert journal.find("/data/a.bin", "a.bin").parts == {}  # type: ignore[union-attr]
    journal.record_part("u1", DonePart(3, "e", "s"))  # late record of a dropped upload: ignored
    journal.remove("u2")
    assert journal.entries() == []
    leftover = sqlite3.connect(tmp_path / "j.sqlite3").execute("SELECT COUNT(*) FROM parts")
    assert leftover.fetchone()[0] == 0
    journal.close()


def test_stale_entries_are_cleaned(tmp_path: Path) -> None:
    clock = ManualClock(start=10 * UPLOAD_SESSION_TTL_S)
    journal = UploadJournal(tmp_path / "j.sqlite3")
    now = clock.time()
    journal.begin(entry("old", local="/a", created_at=now - UPLOAD_SESSION_TTL_S - 1))
    journal.begin(entry("new", local="/b", created_at=now - UPLOAD_SESSION_TTL_S + 60))
    journal.record_part("old", DonePart(1, "e", "s"))
    server = FakeUploadServer(clock=clock)
    with UploadEngine(server, server, journal, clock=clock):  # cleans up when it starts
        pass
    assert [e.upload_id for e in journal.entries()] == ["new"]
    assert journal.remove_stale(now + 120) == ["new"]
    journal.close()


def test_a_damaged_journal_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    journal = UploadJournal(path)
    journal.begin(entry("u1"))
    assert [e.upload_id for e in journal.entries()] == ["u1"]
    assert len(list(tmp_path.glob("j.sqlite3.damaged-*"))) == 1
    journal.close()
