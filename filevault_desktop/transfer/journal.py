"""The upload journal: what a killed process needs to resume without re-sending finished parts.

One SQLite file in the client's state dir, in WAL mode. A part is recorded only after the
storage endpoint acknowledged it, in its own transaction, so after ``kill -9`` the journal
lists a subset of the parts that really are on the server: resuming may re-send a part that
finished in the instant before the kill, never skip one that did not. ``synchronous=NORMAL``
keeps that promise across a process crash; after a power cut the last few records may be lost,
which costs re-sending those parts and nothing else.

The journal is a cache of server state, never the truth: an entry the server no longer knows,
or one whose local file changed, is discarded and the upload starts over.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filevault_desktop.transfer.reader import FileIdentity

# How long the server keeps an unfinished upload session (backend upload_session_ttl_s).
UPLOAD_SESSION_TTL_S = 7 * 24 * 3600
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    upload_id   TEXT PRIMARY KEY,
    local_path  TEXT NOT NULL,
    remote_path TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    inode       TEXT NOT NULL,  -- text: inode numbers may exceed SQLite's signed 64 bits
    file_id     TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    mode        TEXT NOT NULL,
    part_size   INTEGER NOT NULL,
    part_count  INTEGER NOT NULL,
    request     TEXT NOT NULL,  -- content type and expected version the session was made with
    created_at  REAL NOT NULL,
    UNIQUE (local_path, remote_path)
);
CREATE INDEX IF NOT EXISTS uploads_by_age ON uploads (created_at);
CREATE TABLE IF NOT EXISTS parts (
    upload_id   TEXT NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    etag        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class DonePart:
    part_number: int
    etag: str
    sha256: str


@dataclass(frozen=True)
class JournalEntry:
    local_path: str
    remote_path: str
    identity: FileIdentity
    upload_id: str
    file_id: str
    version_id: str
    mode: str
    part_size: int
    part_count: int
    request: str
    created_at: float
    parts: Mapping[int, DonePart] = field(default_factory=dict, hash=False)


class UploadJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError:
            # A damaged journal only costs re-sending bytes: set it aside and start afresh.
            aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
            with contextlib.suppress(OSError):
                path.replace(aside)
            self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        # Shared by worker and caller threads behind self._lock, hence check_same_thread=False.
        db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version not in (0, SCHEMA_VERSION):
                # Written by another version of the app: not worth migrating a cache.
                db.executescript("DROP TABLE IF EXISTS parts; DROP TABLE IF EXISTS uploads;")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.commit()
        except BaseException:
            db.close()
            raise
        return db

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:  # the connection's context manager commits or rolls back
            yield self._db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----- reads -----
    def find(self, local_path: str, remote_path: str) -> JournalEntry | None:
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM uploads WHERE local_path = ? AND remote_path = ?",
                (local_path, remote_path),
            ).fetchone()
            return None if row is None else self._entry(db, row)

    def entries(self) -> list[JournalEntry]:
        """Every unfinished upload, oldest first (e.g. to offer resuming them at start-up)."""
        with self._tx() as db:
            rows = db.execute("SELECT * FROM uploads ORDER BY created_at").fetchall()
            return [self._entry(db, row) for row in rows]

    @staticmethod
    def _entry(db: sqlite3.Connection, row: tuple[Any, ...]) -> JournalEntry:
        (upload_id, local, remote, size, mtime_ns, inode, file_id, version_id, mode, part_size,
         part_count, request, created_at) = row  # fmt: skip
        parts = {
            n: DonePart(n, etag, sha)
            for n, etag, sha in db.execute(
                "SELECT part_number, etag, sha256 FROM parts WHERE upload_id = ?", (upload_id,)
            )
        }
        return JournalEntry(
            local_path=str(local),
            remote_path=str(remote),
            identity=FileIdentity(int(size), int(mtime_ns), int(inode)),
            upload_id=str(upload_id),
            file_id=str(file_id),
            version_id=str(version_id),
            mode=str(mode),
            part_size=int(part_size),
            part_count=int(part_count),
            request=str(request),
            created_at=float(created_at),
            parts=parts,
        )

    # ----- writes -----
    def begin(self, entry: JournalEntry) -> None:
        """Records a new upload session, replacing any older one for the same file and path."""
        with self._tx() as db:
            db.execute(
                "DELETE FROM uploads WHERE local_path = ? AND remote_path = ?",
                (entry.local_path, entry.remote_path),
            )
            db.execute(
                "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.upload_id,
                    entry.local_path,
                    entry.remote_path,
                    entry.identity.size,
                    entry.identity.mtime_ns,
                    str(entry.identity.inode),
                    entry.file_id,
                    entry.version_id,
                    entry.mode,
                    entry.part_size,
                    entry.part_count,
                    entry.request,
                    entry.created_at,
                ),
            )
            db.executemany(
                "INSERT INTO parts VALUES (?, ?, ?, ?)",
                [(entry.upload_id, p.part_number, p.etag, p.sha256) for p in entry.parts.values()],
            )

    def record_part(self, upload_id: str, part: DonePart) -> None:
        """Records an acknowledged part (ignored if the upload was removed meanwhile)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO parts SELECT ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM uploads WHERE upload_id = ?)",
                (upload_id, part.part_number, part.etag, part.sha256, upload_id),
            )

    def remove(self, upload_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))

    def remove_stale(self, now: float, ttl_s: float = UPLOAD_SESSION_TTL_S) -> list[str]:
        """Drops entries older than the server's session lifetime; returns their upload ids."""
        with self._tx() as db:
            stale = [
                str(upload_id)
                for (upload_id,) in db.execute(
                    "SELECT upload_id FROM uploads WHERE created_at < ?", (now - ttl_s,)
                )
            ]
            db.execute("DELETE FROM uploads WHERE created_at < ?", (now - ttl_s,))
            return stale
