"""The base tree (last agreed state) and the remote mirror of one sync folder, in SQLite.

WAL mode and one transaction per change: a row is written only after the action it records
succeeded, so a process killed at any moment leaves an index that is merely behind, and the
planner (which recognises identical content on both sides) catches up without duplicates.
That is also why synchronous=NORMAL is enough: a power cut may drop the last commits, which
again only leaves the index behind.
The remote mirror and the feed cursor are written in the same transaction per feed page.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filevault_desktop.sync.errors import SyncIndexError
from filevault_desktop.sync.models import BaseEntry, Fingerprint, RemoteEntry

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS base (
    file_id TEXT PRIMARY KEY,
    local_path TEXT NOT NULL,
    remote_path TEXT NOT NULL,
    version_id TEXT NOT NULL,
    sha256 TEXT,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS remote (
    file_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    version_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT,
    modified_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SyncIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise SyncIndexError(f"cannot open sync index {path}: {exc}") from exc
        version = self.get_meta("schema")
        if version is None:
            self.set_meta("schema", str(SCHEMA_VERSION))
        elif version != str(SCHEMA_VERSION):
            raise SyncIndexError(
                f"sync index {path} has schema {version}, expected {SCHEMA_VERSION}"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SyncIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction() as db:
            _set_meta(db, key, value)

    @property
    def paused(self) -> bool:
        return self.get_meta("paused") == "1"

    @paused.setter
    def paused(self, value: bool) -> None:
        self.set_meta("paused", "1" if value else "0")

    # ---- base ---------------------------------------------------------------------------------

    def base(self) -> list[BaseEntry]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM base ORDER BY local_path").fetchall()
        return [_base(row) for row in rows]

    def put_base(self, entry: BaseEntry) -> None:
        with self.transaction() as db:
            _put_base(db, entry)

    def forget_base(self, file_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM base WHERE file_id = ?", (file_id,))

    def clear_base(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM base")

    # ---- remote mirror ------------------------------------------------------------------------

    def remote(self) -> list[RemoteEntry]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM remote ORDER BY path").fetchall()
        return [RemoteEntry(*row) for row in rows]

    def put_remote(self, entry: RemoteEntry) -> None:
        with self.transaction() as db:
            _put_remote(db, entry)

    def drop_remote(self, file_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM remote WHERE file_id = ?", (file_id,))

    def apply_remote(
        self,
        upserts: Iterable[RemoteEntry],
        removals: Iterable[str],
        *,
        cursor: str,
        epoch: str,
        replace_all: bool = False,
    ) -> None:
        """One feed page (or a full listing with ``replace_all``) and its cursor, atomically."""
        with self.transaction() as db:
            if replace_all:
                db.execute("DELETE FROM remote")
            for file_id in removals:
                db.execute("DELETE FROM remote WHERE file_id = ?", (file_id,))
            for entry in upserts:
                _put_remote(db, entry)
            _set_meta(db, "cursor", cursor)
            _set_meta(db, "epoch", epoch)

    def record(
        self,
        *,
        put_base: BaseEntry | None = None,
        forget: Iterable[str] = (),
        put_remote: RemoteEntry | None = None,
        drop_remote: str | None = None,
    ) -> None:
        """What one successful action changed, in one transaction."""
        with self.transaction() as db:
            for file_id in forget:
                db.execute("DELETE FROM base WHERE file_id = ?", (file_id,))
            if put_base is not None:
                _put_base(db, put_base)
            if drop_remote is not None:
                db.execute("DELETE FROM remote WHERE file_id = ?", (drop_remote,))
            if put_remote is not None:
                _put_remote(db, put_remote)

    def reset_for_epoch(self) -> None:
        """The server lost state: forget everything we believed about it, keep local files."""
        with self.transaction() as db:
            db.execute("DELETE FROM base")
            db.execute("DELETE FROM remote")
            _set_meta(db, "cursor", None)


def _set_meta(db: sqlite3.Connection, key: str, value: str | None) -> None:
    if value is None:
        db.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _put_base(db: sqlite3.Connection, e: BaseEntry) -> None:
    # a path belongs to one file: a row left at the same local path by another file is stale
    db.execute("DELETE FROM base WHERE local_path = ? AND file_id != ?", (e.local_path, e.file_id))
    db.execute(
        "INSERT OR REPLACE INTO base VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            e.file_id,
            e.local_path,
            e.remote_path,
            e.version_id,
            e.sha256,
            e.fp.size,
            e.fp.mtime_ns,
            e.fp.inode,
            e.fp.ctime_ns,
        ),
    )


def _put_remote(db: sqlite3.Connection, e: RemoteEntry) -> None:
    db.execute(
        "INSERT OR REPLACE INTO remote VALUES (?, ?, ?, ?, ?, ?)",
        (e.file_id, e.path, e.version_id, e.size, e.sha256, e.modified_at),
    )


def _base(row: tuple[object, ...]) -> BaseEntry:
    file_id, local_path, remote_path, version_id, sha, size, mtime_ns, inode, ctime_ns = row
    return BaseEntry(
        str(file_id),
        str(local_path),
        str(remote_path),
        str(version_id),
        None if sha is None else str(sha),
        Fingerprint(int(size), int(mtime_ns), int(inode), int(ctime_ns)),  # type: ignore[call-overload]
    )
