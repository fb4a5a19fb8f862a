"""The base tree (last agreed state) and the remote mirror of one sync folder, in SQLite.

WAL mode and one transaction per change: a row is written only after the action it records
succeeded, so a process killed at any moment leaves an index that is merely behind, and the
planner (which recognises identical content on both sides) catches up without duplicates.
That is also why synchronous=NORMAL is enough: a power cut may drop the last commits, which
again only leaves the index behind.
The remote mirror and the feed cursor are written in the same transaction per feed page.
An entry recorded from the server's answer to a write (or a download) whose change is the
feed's next one (``RemoteEntry.change_seq`` is the cursor + 1) moves the cursor past it with
its mirror row: reading that change would write the same row, and reading back its own
uploads was a twentieth of an initial sync.

The base is read every round, and is large (a row per synced file) but rarely changes: it is
kept in memory as last read or written through this connection, and read again only when
another connection has written to the file since (``PRAGMA data_version``) or after
statements run through ``transaction()``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from operator import attrgetter, itemgetter
from pathlib import Path
from types import MappingProxyType

from filevault_desktop.sync.errors import SyncIndexError
from filevault_desktop.sync.gcpause import GcPause
from filevault_desktop.sync.models import BaseEntry, Fingerprint, RemoteEntry

SCHEMA_VERSION = 1
_SQL_VARIABLES = 500  # ids per IN (...) query, well under SQLite's limit

KnownHash = tuple[Fingerprint, str | None]  # a file's hash, and its fingerprint when hashed

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
        self._base_cache: _BaseCache | None = None
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
        """The caller's own statements, in one transaction (the base is read again after)."""
        with self._write(raw=True) as db:
            yield db

    @contextmanager
    def _write(
        self, base_change: Callable[[_BaseCache], None] | None = None, *, raw: bool = False
    ) -> Iterator[sqlite3.Connection]:
        """One transaction; ``base_change`` is what it does to the base, applied to the
        in-memory copy once committed (None: it leaves the base alone)."""
        with self._lock:
            if raw:
                self._base_cache = None
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except BaseException:
                self._base_cache = None
                raise
            if base_change is not None and self._base_cache is not None:
                try:
                    base_change(self._base_cache)
                except (TypeError, ValueError):  # a value _base cannot read back
                    self._base_cache = None

    # ---- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        with self._write() as db:
            _set_meta(db, key, value)

    @property
    def paused(self) -> bool:
        return self.get_meta("paused") == "1"

    @paused.setter
    def paused(self, value: bool) -> None:
        self.set_meta("paused", "1" if value else "0")

    # ---- base ---------------------------------------------------------------------------------

    def base(self) -> list[BaseEntry]:
        """Every row, ordered by local path."""
        with self._lock:
            cache, entries = self._read_base()
            return entries if cache is None else cache.entries()

    def base_and_hashes(self) -> tuple[list[BaseEntry], Mapping[str, KnownHash]]:
        """``base()`` and, from the same read, each local path's hash and the fingerprint the
        file had then (what ``Scanner.scan`` takes). Both are kept until the base changes."""
        with self._lock:
            cache, entries = self._read_base()
            if cache is None:
                return entries, {e.local_path: (e.fp, e.sha256) for e in entries}
            return cache.entries(), cache.hashes()

    def _read_base(self) -> tuple[_BaseCache | None, list[BaseEntry]]:
        """The in-memory base, read again if stale; or the rows (ordered) if it can't be kept."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        cache = self._base_cache
        if cache is not None and cache.version == version:
            return cache, []
        with GcPause():
            rows = self._db.execute("SELECT * FROM base").fetchall()
            rows.sort(key=_LOCAL_PATH)  # Python orders str as SQLite's BINARY collation (UTF-8)
            entries = [_base(row) for row in rows]
            self._base_cache = _BaseCache.of(entries, version)
        return self._base_cache, entries

    def put_base(self, entry: BaseEntry) -> None:
        with self._write(lambda cache: cache.put(entry)) as db:
            _put_base(db, entry)

    def forget_base(self, file_id: str) -> None:
        with self._write(lambda cache: cache.forget(file_id)) as db:
            db.execute("DELETE FROM base WHERE file_id = ?", (file_id,))

    def clear_base(self) -> None:
        with self._write(_BaseCache.clear) as db:
            db.execute("DELETE FROM base")

    # ---- remote mirror ------------------------------------------------------------------------

    def remote(self) -> list[RemoteEntry]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM remote ORDER BY path").fetchall()
        return [RemoteEntry(*row) for row in rows]

    def remote_entries(self, file_ids: Iterable[str]) -> dict[str, RemoteEntry]:
        """The mirrored entries of these files (those the mirror has)."""
        wanted = list(file_ids)
        out: dict[str, RemoteEntry] = {}
        with self._lock:
            for start in range(0, len(wanted), _SQL_VARIABLES):
                chunk = wanted[start : start + _SQL_VARIABLES]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT * FROM remote WHERE file_id IN ({marks})",  # noqa: S608 - marks only
                    chunk,
                ).fetchall()
                out.update((row[0], RemoteEntry(*row)) for row in rows)
        return out

    def put_remote(self, entry: RemoteEntry) -> None:
        with self._write() as db:
            _put_remote(db, entry)

    def drop_remote(self, file_id: str) -> None:
        with self._write() as db:
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
        with self._write() as db:
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
        forget = tuple(forget)

        def base_change(cache: _BaseCache) -> None:
            for file_id in forget:
                cache.forget(file_id)
            if put_base is not None:
                cache.put(put_base)

        with self._write(base_change if forget or put_base is not None else None) as db:
            for file_id in forget:
                db.execute("DELETE FROM base WHERE file_id = ?", (file_id,))
            if put_base is not None:
                _put_base(db, put_base)
            if drop_remote is not None:
                db.execute("DELETE FROM remote WHERE file_id = ?", (drop_remote,))
            if put_remote is not None:
                _put_remote(db, put_remote)
                if put_remote.change_seq is not None:
                    _move_cursor_past(db, put_remote.change_seq)

    def reset_for_epoch(self) -> None:
        """The server lost state: forget everything we believed about it, keep local files."""
        with self._write(_BaseCache.clear) as db:
            db.execute("DELETE FROM base")
            db.execute("DELETE FROM remote")
            _set_meta(db, "cursor", None)


def _set_meta(db: sqlite3.Connection, key: str, value: str | None) -> None:
    if value is None:
        db.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _move_cursor_past(db: sqlite3.Connection, seq: int) -> None:
    # Only from the change just before: any change in between is still to be read.
    db.execute(
        "UPDATE meta SET value = ? WHERE key = 'cursor' AND value = ?", (str(seq), str(seq - 1))
    )


def _put_base(db: sqlite3.Connection, e: BaseEntry) -> None:
    # a path belongs to one file: a row left at the same local path by another file is stale
    db.execute("DELETE FROM base WHERE local_path = ? AND file_id != ?", (e.local_path, e.file_id))
    db.execute("INSERT OR REPLACE INTO base VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _row(e))


def _row(e: BaseEntry) -> tuple[object, ...]:
    fp = e.fp
    return (
        e.file_id,
        e.local_path,
        e.remote_path,
        e.version_id,
        e.sha256,
        fp.size,
        fp.mtime_ns,
        fp.inode,
        fp.ctime_ns,
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


_LOCAL_PATH = itemgetter(1)


class _BaseCache:
    """The base table as of PRAGMA data_version ``version`` plus this connection's writes."""

    def __init__(self, entries: list[BaseEntry], version: int) -> None:
        self.version = version
        self._by_id = {e.file_id: e for e in entries}
        self._by_path = {e.local_path: e.file_id for e in entries}
        self._ordered: list[BaseEntry] | None = entries
        self._hashes: Mapping[str, KnownHash] | None = None

    @classmethod
    def of(cls, ordered: list[BaseEntry], version: int) -> _BaseCache | None:
        cache = cls(ordered, version)
        # rows sharing an id or a path (left by statements of a caller's own) are not kept
        same = len(cache._by_id) == len(cache._by_path) == len(ordered)
        return cache if same else None

    def entries(self) -> list[BaseEntry]:
        if self._ordered is None:
            self._ordered = sorted(self._by_id.values(), key=attrgetter("local_path"))
        return list(self._ordered)

    def hashes(self) -> Mapping[str, KnownHash]:
        if self._hashes is None:
            with GcPause():
                by_path = {e.local_path: (e.fp, e.sha256) for e in self._by_id.values()}
            self._hashes = MappingProxyType(by_path)  # shared: read-only
        return self._hashes

    def put(self, entry: BaseEntry) -> None:
        """What _put_base does to the table: the row as it will be read back."""
        e = _base(_row(entry))
        other = self._by_path.get(e.local_path)
        if other is not None and other != e.file_id:
            del self._by_id[other]
        self.forget(e.file_id)
        self._by_id[e.file_id] = e
        self._by_path[e.local_path] = e.file_id
        self._ordered = self._hashes = None

    def forget(self, file_id: str) -> None:
        old = self._by_id.pop(file_id, None)
        if old is not None:
            if self._by_path.get(old.local_path) == file_id:
                del self._by_path[old.local_path]
            self._ordered = self._hashes = None

    def clear(self) -> None:
        self._by_id.clear()
        self._by_path.clear()
        self._ordered, self._hashes = [], None
