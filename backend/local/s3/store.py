"""A durable, file-backed S3 object store for the local stack.

Layout of ``root``::

    index.sqlite3   buckets, objects (and their tags), multipart uploads and parts (WAL mode)
    blobs/xx/<id>   immutable body files (see blobs.py)
    tmp/            bodies being received; wiped at start

Write path: the body is streamed to ``tmp/`` while hashed and verified
(ingest.py), renamed into ``blobs/``, and only then is the row committed; the
blobs of an overwritten or deleted object are discarded after the commit. A
crash therefore leaves either the old object or the new one, plus at worst an
unreferenced blob that the next start sweeps away.

CompleteMultipartUpload copies nothing: the object's body *is* the ordered list
of its part files. One SQLite connection guarded by a lock serves all threads;
the lock is never held while bytes move, only around the small SQL statements.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from . import checksums
from .blobs import BlobDir, ObjectBody, Segment
from .errors import S3Error
from .ingest import IncomingBody, WrittenBlob, write_blob
from .models import (
    BucketInfo,
    CompletedPart,
    DeleteResult,
    ObjectCreatedEvent,
    ObjectInfo,
    ObjectListing,
    PartInfo,
    PartListing,
    UploadInfo,
    UploadListing,
)
from .ranges import ByteRange

__all__ = ["ObjectStore"]

_log = logging.getLogger(__name__)

MIB: Final = 1024 * 1024
GIB: Final = 1024 * MIB
MAX_PUT_SIZE: Final = 5 * GIB
MAX_PART_SIZE: Final = 5 * GIB
MAX_PART_NUMBER: Final = 10_000
MAX_KEY_BYTES: Final = 1024
DEFAULT_CONTENT_TYPE: Final = "binary/octet-stream"
_BUCKET_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_LIST_BATCH: Final = 1000
MAX_TAGS: Final = 10
_SQL_PUT_TAGS: Final = "INSERT OR REPLACE INTO object_tags (bucket, key, tags) VALUES (?, ?, ?)"
_SQL_DELETE_TAGS: Final = "DELETE FROM object_tags WHERE bucket = ? AND key = ?"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS buckets (
    name     TEXT PRIMARY KEY,
    created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    bucket             TEXT NOT NULL REFERENCES buckets(name),
    key                TEXT NOT NULL,
    size               INTEGER NOT NULL,
    etag               TEXT NOT NULL,
    content_type       TEXT NOT NULL,
    last_modified      REAL NOT NULL,
    metadata           TEXT NOT NULL,   -- JSON: x-amz-meta-* (lower-case names)
    headers            TEXT NOT NULL,   -- JSON: stored Content-Disposition etc.
    checksum_algorithm TEXT,
    checksum_value     TEXT,
    checksum_type      TEXT,
    parts_count        INTEGER,
    blobs              TEXT NOT NULL,   -- JSON: [[blob name, size], ...] in body order
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id          TEXT PRIMARY KEY,
    bucket             TEXT NOT NULL REFERENCES buckets(name),
    key                TEXT NOT NULL,
    initiated          REAL NOT NULL,
    content_type       TEXT NOT NULL,
    metadata           TEXT NOT NULL,
    headers            TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type      TEXT
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS object_tags (
    bucket  TEXT NOT NULL,
    key     TEXT NOT NULL,
    tags    TEXT NOT NULL,              -- JSON: {key: value}; no row means no tags
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parts (
    upload_id     TEXT NOT NULL REFERENCES uploads(upload_id),
    part_number   INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    blob          TEXT NOT NULL,
    last_modified REAL NOT NULL,
    checksums     TEXT NOT NULL,        -- JSON: algorithm -> base64
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
"""

# Column lists spelled out (not interpolated) so every statement is a constant.
_SQL_GET_OBJECT: Final = (
    "SELECT bucket, key, size, etag, content_type, last_modified, metadata, headers, "
    "checksum_algorithm, checksum_value, checksum_type, parts_count, blobs "
    "FROM objects WHERE bucket = ? AND key = ?"
)
_SQL_LIST_OBJECTS: Final = {
    # inclusive lower bound -> statement
    True: "SELECT bucket, key, size, etag, content_type, last_modified, metadata, headers, "
    "checksum_algorithm, checksum_value, checksum_type, parts_count, blobs "
    "FROM objects WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?",
    False: "SELECT bucket, key, size, etag, content_type, last_modified, metadata, headers, "
    "checksum_algorithm, checksum_value, checksum_type, parts_count, blobs "
    "FROM objects WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?",
}
_SQL_PUT_OBJECT: Final = (
    "INSERT OR REPLACE INTO objects (bucket, key, size, etag, content_type, last_modified, "
    "metadata, headers, checksum_algorithm, checksum_value, checksum_type, parts_count, blobs) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQL_GET_UPLOAD: Final = (
    "SELECT upload_id, bucket, key, initiated, content_type, metadata, headers, "
    "checksum_algorithm, checksum_type FROM uploads WHERE upload_id = ?"
)
_SQL_PUT_UPLOAD: Final = (
    "INSERT INTO uploads (upload_id, bucket, key, initiated, content_type, metadata, headers, "
    "checksum_algorithm, checksum_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQL_LIST_UPLOADS: Final = {
    # whether an upload-id marker is given -> statement
    True: "SELECT upload_id, bucket, key, initiated, content_type, metadata, headers, "
    "checksum_algorithm, checksum_type FROM uploads "
    "WHERE bucket = ? AND (key > ? OR (key = ? AND upload_id > ?)) "
    "AND substr(key, 1, ?) = ? ORDER BY key, upload_id LIMIT ?",
    False: "SELECT upload_id, bucket, key, initiated, content_type, metadata, headers, "
    "checksum_algorithm, checksum_type FROM uploads "
    "WHERE bucket = ? AND key > ? "
    "AND substr(key, 1, ?) = ? ORDER BY key, upload_id LIMIT ?",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _quote(etag: str) -> str:
    return etag if etag.startswith('"') else f'"{etag}"'


def _unquote(etag: str) -> str:
    return etag.strip().strip('"')


def _object_from_row(row: sqlite3.Row) -> ObjectInfo:
    return ObjectInfo(
        bucket=row["bucket"],
        key=row["key"],
        size=row["size"],
        etag=row["etag"],
        content_type=row["content_type"],
        last_modified=_ts(row["last_modified"]),
        metadata=json.loads(row["metadata"]),
        headers=json.loads(row["headers"]),
        checksum_algorithm=row["checksum_algorithm"],
        checksum_value=row["checksum_value"],
        checksum_type=row["checksum_type"],
        parts_count=row["parts_count"],
        segments=tuple((name, size) for name, size in json.loads(row["blobs"])),
    )


def _upload_from_row(row: sqlite3.Row) -> UploadInfo:
    return UploadInfo(
        upload_id=row["upload_id"],
        bucket=row["bucket"],
        key=row["key"],
        initiated=_ts(row["initiated"]),
        content_type=row["content_type"],
        metadata=json.loads(row["metadata"]),
        headers=json.loads(row["headers"]),
        checksum_algorithm=row["checksum_algorithm"],
        checksum_type=row["checksum_type"],
    )


def _part_from_row(row: sqlite3.Row) -> PartInfo:
    return PartInfo(
        part_number=row["part_number"],
        size=row["size"],
        etag=row["etag"],
        last_modified=_ts(row["last_modified"]),
        checksums=json.loads(row["checksums"]),
    )


def _check_key(key: str) -> None:
    if not key:
        raise S3Error("InvalidArgument", "Object key must not be empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", "Your key is too long")


def _skip_past(common_prefix: str) -> str:
    """Smallest string greater than every key that starts with ``common_prefix``."""
    return common_prefix[:-1] + chr(ord(common_prefix[-1]) + 1)


class ObjectStore:
    """Buckets, objects and multipart uploads, persisted under ``root``.

    Thread-safe. ``on_object_created`` is called (outside any lock, errors
    logged and swallowed) after a PUT, copy or completed multipart upload is
    committed.
    """

    def __init__(
        self,
        root: Path,
        *,
        min_part_size: int = 5 * MIB,
        on_object_created: Callable[[ObjectCreatedEvent], None] | None = None,
        fsync: bool = True,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.min_part_size = min_part_size
        self.on_object_created = on_object_created
        self._fsync = fsync
        self._clock = clock
        self._tmp = self.root / "tmp"
        shutil.rmtree(self._tmp, ignore_errors=True)  # half-received bodies of a past run
        self._tmp.mkdir()
        self._blobs = BlobDir(self.root / "blobs")
        self._lock = threading.RLock()
        self._last_sequence = 0
        self._db = sqlite3.connect(
            self.root / "index.sqlite3", check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL makes each commit durable on power loss, matching fsync'd blobs.
        self._db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        removed = self._blobs.sweep_orphans(self._referenced_blobs())
        if removed:
            _log.info("removed %d unreferenced blob(s) left by an interrupted write", removed)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------- internals
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _now(self) -> float:
        return self._clock().timestamp()

    def _referenced_blobs(self) -> set[str]:
        with self._lock:
            names = {row[0] for row in self._db.execute("SELECT blob FROM parts")}
            for (blobs,) in self._db.execute("SELECT blobs FROM objects"):
                names.update(name for name, _ in json.loads(blobs))
        return names

    def _require_bucket(self, db: sqlite3.Connection, bucket: str) -> None:
        if db.execute("SELECT 1 FROM buckets WHERE name = ?", (bucket,)).fetchone() is None:
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", resource=bucket)

    def _get_object(self, db: sqlite3.Connection, bucket: str, key: str) -> ObjectInfo:
        row = db.execute(_SQL_GET_OBJECT, (bucket, key)).fetchone()
        if row is None:
            self._require_bucket(db, bucket)
            raise S3Error("NoSuchKey", "The specified key does not exist.", resource=key)
        return _object_from_row(row)

    def _get_upload(
        self, db: sqlite3.Connection, bucket: str, key: str, upload_id: str
    ) -> UploadInfo:
        row = db.execute(_SQL_GET_UPLOAD, (upload_id,)).fetchone()
        if row is None or row["bucket"] != bucket or row["key"] != key:
            self._require_bucket(db, bucket)
            raise S3Error(
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, "
                "or the upload may have been aborted or completed.",
                resource=upload_id,
            )
        return _upload_from_row(row)

    def _next_sequencer(self) -> str:
        with self._lock:
            self._last_sequence = max(self._last_sequence + 1, time.time_ns())
            return f"{self._last_sequence:016X}"

    def _emit(self, info: ObjectInfo, event_name: str) -> None:
        if self.on_object_created is None:
            return
        event = ObjectCreatedEvent(
            bucket=info.bucket,
            key=info.key,
            size=info.size,
            etag=_unquote(info.etag),
            sequencer=self._next_sequencer(),
            event_time=info.last_modified,
            event_name=event_name,
        )
        try:
            self.on_object_created(event)
        except Exception:  # noqa: BLE001 - the object is stored; a listener must not undo it
            _log.exception("on_object_created listener failed for %s/%s", info.bucket, info.key)

    def _receive(
        self, body: IncomingBody, *, max_size: int, extra_algorithms: Sequence[str] = ()
    ) -> tuple[WrittenBlob, str]:
        written = write_blob(
            body,
            self._tmp,
            max_size=max_size,
            extra_algorithms=extra_algorithms,
            fsync=self._fsync,
        )
        try:
            return written, self._blobs.adopt(written.path)
        except BaseException:
            written.path.unlink(missing_ok=True)
            raise

    @staticmethod
    def _insert_object(
        db: sqlite3.Connection,
        info: ObjectInfo,
        *,
        if_none_match: bool,
        tags: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Insert/replace the object row (inside a transaction); return replaced blobs.

        A new object starts with ``tags`` (none by default), as in S3: an overwrite does not
        inherit the tags of the object it replaces."""
        old = db.execute(
            "SELECT blobs FROM objects WHERE bucket = ? AND key = ?", (info.bucket, info.key)
        ).fetchone()
        if old is not None and if_none_match:
            raise S3Error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            )
        db.execute(
            _SQL_PUT_OBJECT,
            (
                info.bucket,
                info.key,
                info.size,
                info.etag,
                info.content_type,
                info.last_modified.timestamp(),
                json.dumps(dict(info.metadata)),
                json.dumps(dict(info.headers)),
                info.checksum_algorithm,
                info.checksum_value,
                info.checksum_type,
                info.parts_count,
                json.dumps([list(segment) for segment in info.segments]),
            ),
        )
        db.execute(_SQL_DELETE_TAGS, (info.bucket, info.key))
        if tags:
            db.execute(_SQL_PUT_TAGS, (info.bucket, info.key, json.dumps(dict(tags))))
        return [] if old is None else [name for name, _ in json.loads(old["blobs"])]

    def _commit_object(
        self,
        info: ObjectInfo,
        *,
        if_none_match: bool = False,
        tags: Mapping[str, str] | None = None,
    ) -> list[str]:
        with self._tx() as db:
            self._require_bucket(db, info.bucket)
            return self._insert_object(db, info, if_none_match=if_none_match, tags=tags)

    # --------------------------------------------------------------- buckets
    def create_bucket(self, name: str) -> BucketInfo:
        if not _BUCKET_NAME.match(name) or ".." in name:
            raise S3Error("InvalidBucketName", "The specified bucket is not valid.", resource=name)
        created = self._now()
        with self._tx() as db:
            if db.execute("SELECT 1 FROM buckets WHERE name = ?", (name,)).fetchone():
                raise S3Error(
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded "
                    "and you already own it.",
                    resource=name,
                )
            db.execute("INSERT INTO buckets (name, created) VALUES (?, ?)", (name, created))
        return BucketInfo(name=name, created=_ts(created))

    def head_bucket(self, name: str) -> BucketInfo:
        with self._lock:
            row = self._db.execute("SELECT name, created FROM buckets WHERE name = ?", (name,))
            found = row.fetchone()
        if found is None:
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", resource=name)
        return BucketInfo(name=found["name"], created=_ts(found["created"]))

    def list_buckets(self) -> list[BucketInfo]:
        with self._lock:
            rows = self._db.execute("SELECT name, created FROM buckets ORDER BY name").fetchall()
        return [BucketInfo(name=r["name"], created=_ts(r["created"])) for r in rows]

    def delete_bucket(self, name: str) -> None:
        """Delete an empty bucket (its unfinished multipart uploads go with it)."""
        with self._tx() as db:
            self._require_bucket(db, name)
            if db.execute("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                raise S3Error(
                    "BucketNotEmpty", "The bucket you tried to delete is not empty", resource=name
                )
            doomed = [
                row[0]
                for row in db.execute(
                    "SELECT blob FROM parts WHERE upload_id IN "
                    "(SELECT upload_id FROM uploads WHERE bucket = ?)",
                    (name,),
                )
            ]
            db.execute(
                "DELETE FROM parts WHERE upload_id IN "
                "(SELECT upload_id FROM uploads WHERE bucket = ?)",
                (name,),
            )
            db.execute("DELETE FROM uploads WHERE bucket = ?", (name,))
            db.execute("DELETE FROM buckets WHERE name = ?", (name,))
        self._blobs.discard(doomed)

    # --------------------------------------------------------------- objects
    def put_object(
        self,
        bucket: str,
        key: str,
        body: IncomingBody,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        """Store an object from a streamed body. ``if_none_match``: fail if the key exists."""
        _check_key(key)
        self.head_bucket(bucket)  # fail before reading a body nobody will keep
        written, blob = self._receive(body, max_size=MAX_PUT_SIZE)
        algorithm = _preferred_algorithm(body.algorithms())
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=written.size,
            etag=written.etag,
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            last_modified=_ts(self._now()),
            metadata=dict(metadata or {}),
            headers=dict(headers or {}),
            checksum_algorithm=algorithm,
            checksum_value=written.checksums.get(algorithm) if algorithm else None,
            checksum_type="FULL_OBJECT" if algorithm else None,
            segments=((blob, written.size),),
        )
        try:
            replaced = self._commit_object(info, if_none_match=if_none_match)
        except BaseException:
            self._blobs.discard([blob])
            raise
        self._blobs.discard(replaced)
        self._emit(info, "ObjectCreated:Put")
        return info

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        with self._lock:
            return self._get_object(self._db, bucket, key)

    def open_object(
        self,
        bucket: str,
        key: str,
        byte_range: ByteRange | None = None,
        *,
        part_number: int | None = None,
    ) -> tuple[ObjectInfo, ObjectBody]:
        """The object and a streaming body for a byte range or one of its parts.

        Close the body when done (a WSGI server does, through the response).
        """
        with self._lock:
            info = self._get_object(self._db, bucket, key)
            if part_number is not None:
                start, end = _part_span(info, part_number)
            elif byte_range is not None:
                start, end = byte_range.resolve(info.size)
            else:
                start, end = 0, info.size
            # Pinned while the lock is held, so a concurrent overwrite cannot
            # delete these blobs between our read of the row and of the files.
            body = ObjectBody(self._blobs, info.segments, start, end)
        return info, body

    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        *,
        replace_metadata: bool = False,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Server-side copy; bodies are hard-linked (or copied where links fail)."""
        _check_key(dst_key)
        if (src_bucket, src_key) == (dst_bucket, dst_key) and not replace_metadata:
            raise S3Error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
            )
        with self._lock:
            self._require_bucket(self._db, dst_bucket)
            source = self._get_object(self._db, src_bucket, src_key)
            # S3's default tagging directive (COPY): the copy carries the source's tags.
            source_tags = self._tags(self._db, src_bucket, src_key)
            self._blobs.pin(name for name, _ in source.segments)
        cloned: list[Segment] = []
        try:
            for name, size in source.segments:
                cloned.append((self._blobs.clone(name), size))
        except BaseException:
            self._blobs.discard(name for name, _ in cloned)
            raise
        finally:
            self._blobs.unpin(name for name, _ in source.segments)
        info = ObjectInfo(
            bucket=dst_bucket,
            key=dst_key,
            size=source.size,
            etag=source.etag,
            content_type=(content_type or DEFAULT_CONTENT_TYPE)
            if replace_metadata
            else source.content_type,
            last_modified=_ts(self._now()),
            metadata=dict(metadata or {}) if replace_metadata else source.metadata,
            headers=dict(headers or {}) if replace_metadata else source.headers,
            checksum_algorithm=source.checksum_algorithm,
            checksum_value=source.checksum_value,
            checksum_type=source.checksum_type,
            parts_count=source.parts_count,
            segments=tuple(cloned),
        )
        try:
            replaced = self._commit_object(info, tags=source_tags)
        except BaseException:
            self._blobs.discard(name for name, _ in cloned)
            raise
        self._blobs.discard(replaced)
        self._emit(info, "ObjectCreated:Copy")
        return info

    def delete_object(self, bucket: str, key: str) -> bool:
        """Delete a key; True if it existed (S3 answers 204 either way)."""
        with self._tx() as db:
            self._require_bucket(db, bucket)
            row = db.execute(
                "DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING blobs", (bucket, key)
            ).fetchone()
            db.execute(_SQL_DELETE_TAGS, (bucket, key))
        if row is None:
            return False
        self._blobs.discard(name for name, _ in json.loads(row["blobs"]))
        return True

    # ------------------------------------------------------------------ tags
    @staticmethod
    def _tags(db: sqlite3.Connection, bucket: str, key: str) -> dict[str, str]:
        row = db.execute(
            "SELECT tags FROM object_tags WHERE bucket = ? AND key = ?", (bucket, key)
        ).fetchone()
        return {} if row is None else dict(json.loads(row["tags"]))

    def get_object_tagging(self, bucket: str, key: str) -> dict[str, str]:
        with self._lock:
            self._get_object(self._db, bucket, key)
            return self._tags(self._db, bucket, key)

    def put_object_tagging(self, bucket: str, key: str, tags: Mapping[str, str]) -> None:
        """Replace the object's tag set (S3 limits: 10 tags, keys 128 and values 256 chars)."""
        if len(tags) > MAX_TAGS:
            raise S3Error("BadRequest", f"Object tags cannot be greater than {MAX_TAGS}")
        for name, value in tags.items():
            if not 1 <= len(name) <= 128 or len(value) > 256:
                raise S3Error("InvalidTag", "The TagKey or TagValue you have provided is invalid")
        with self._tx() as db:
            self._get_object(db, bucket, key)
            if tags:
                db.execute(_SQL_PUT_TAGS, (bucket, key, json.dumps(dict(tags))))
            else:
                db.execute(_SQL_DELETE_TAGS, (bucket, key))

    def delete_object_tagging(self, bucket: str, key: str) -> None:
        with self._tx() as db:
            self._get_object(db, bucket, key)
            db.execute(_SQL_DELETE_TAGS, (bucket, key))

    def delete_objects(self, bucket: str, keys: Sequence[str]) -> list[DeleteResult]:
        self.head_bucket(bucket)
        results = []
        for key in keys:
            try:
                _check_key(key)
                self.delete_object(bucket, key)
                results.append(DeleteResult(key=key))
            except S3Error as error:
                results.append(DeleteResult(key, error.code, error.message))
        return results

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        start_after: str = "",
        max_keys: int = 1000,
    ) -> ObjectListing:
        """Keys in UTF-8 binary order after ``start_after``, rolled up at ``delimiter``.

        Keys and common prefixes both count towards ``max_keys``, as in S3.
        """
        contents: list[ObjectInfo] = []
        prefixes: list[str] = []
        cursor, inclusive = max(start_after, prefix), not start_after or start_after < prefix
        if delimiter and start_after.startswith(prefix):
            # A marker inside a rolled-up prefix means that prefix was already
            # returned: resume after everything under it.
            cut = start_after.find(delimiter, len(prefix))
            if cut >= 0:
                cursor, inclusive = _skip_past(start_after[: cut + len(delimiter)]), True
        truncated = False
        last: str | None = None
        # Each common prefix restarts the scan past its keys, so start with small
        # batches and grow them while no prefix interrupts (plain listings).
        batch = 64
        with self._lock:
            self._require_bucket(self._db, bucket)
        while not truncated:
            with self._lock:
                rows = self._db.execute(
                    _SQL_LIST_OBJECTS[inclusive],
                    (bucket, cursor, batch),
                ).fetchall()
            if not rows:
                break
            restart = False
            for row in rows:
                key: str = row["key"]
                if not key.startswith(prefix):
                    rows = []
                    break
                cut = key.find(delimiter, len(prefix)) if delimiter else -1
                if len(contents) + len(prefixes) >= max_keys:
                    truncated = True
                    break
                if cut >= 0:
                    common = key[: cut + len(delimiter)]
                    prefixes.append(common)
                    last = common
                    cursor, inclusive, restart = _skip_past(common), True, True
                    break
                contents.append(_object_from_row(row))
                last = key
                cursor, inclusive = key, False
            if not rows or (not restart and not truncated and len(rows) < batch):
                break
            batch = 64 if restart else min(batch * 2, _LIST_BATCH)
        return ObjectListing(
            contents=tuple(contents),
            common_prefixes=tuple(prefixes),
            is_truncated=truncated,
            next_marker=last if truncated else None,
        )

    # ------------------------------------------------------------- multipart
    def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
    ) -> UploadInfo:
        _check_key(key)
        algorithm = (
            checksums.normalize_algorithm(checksum_algorithm) if checksum_algorithm else None
        )
        kind = (checksum_type or "").upper() or ("COMPOSITE" if algorithm else None)
        if kind not in (None, "COMPOSITE", "FULL_OBJECT"):
            raise S3Error("InvalidRequest", f"Unknown checksum type {checksum_type}")
        if kind is not None and algorithm is None:
            raise S3Error("InvalidRequest", "A checksum type needs a checksum algorithm")
        if kind == "FULL_OBJECT" and algorithm != "crc32":
            raise S3Error(
                "InvalidRequest", f"The FULL_OBJECT checksum type is not supported for {algorithm}"
            )
        upload = UploadInfo(
            upload_id=secrets.token_urlsafe(24),
            bucket=bucket,
            key=key,
            initiated=_ts(self._now()),
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            metadata=dict(metadata or {}),
            headers=dict(headers or {}),
            checksum_algorithm=algorithm,
            checksum_type=kind,
        )
        with self._tx() as db:
            self._require_bucket(db, bucket)
            db.execute(
                _SQL_PUT_UPLOAD,
                (
                    upload.upload_id,
                    bucket,
                    key,
                    upload.initiated.timestamp(),
                    upload.content_type,
                    json.dumps(upload.metadata),
                    json.dumps(upload.headers),
                    algorithm,
                    kind,
                ),
            )
        return upload

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, body: IncomingBody
    ) -> PartInfo:
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise S3Error(
                "InvalidArgument", f"Part number must be an integer between 1 and {MAX_PART_NUMBER}"
            )
        with self._lock:
            upload = self._get_upload(self._db, bucket, key, upload_id)
        extra = [upload.checksum_algorithm] if upload.checksum_algorithm else []
        written, blob = self._receive(body, max_size=MAX_PART_SIZE, extra_algorithms=extra)
        part = PartInfo(
            part_number=part_number,
            size=written.size,
            etag=written.etag,
            last_modified=_ts(self._now()),
            checksums=dict(written.checksums),
        )
        try:
            with self._tx() as db:
                # The upload may have been aborted or completed while we received.
                self._get_upload(db, bucket, key, upload_id)
                old = db.execute(
                    "SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?",
                    (upload_id, part_number),
                ).fetchone()
                db.execute(
                    "INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, blob, "
                    "last_modified, checksums) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        upload_id,
                        part_number,
                        part.size,
                        part.etag,
                        blob,
                        part.last_modified.timestamp(),
                        json.dumps(part.checksums),
                    ),
                )
        except BaseException:
            self._blobs.discard([blob])
            raise
        if old is not None:
            self._blobs.discard([old["blob"]])
        return part

    def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        part_number_marker: int = 0,
        max_parts: int = 1000,
    ) -> PartListing:
        with self._lock:
            upload = self._get_upload(self._db, bucket, key, upload_id)
            rows = self._db.execute(
                "SELECT part_number, size, etag, last_modified, checksums FROM parts "
                "WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
                (upload_id, part_number_marker, max_parts + 1),
            ).fetchall()
        parts = tuple(_part_from_row(row) for row in rows[:max_parts])
        return PartListing(
            upload=upload,
            parts=parts,
            is_truncated=len(rows) > max_parts,
            next_part_number_marker=parts[-1].part_number if parts else part_number_marker,
        )

    def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[CompletedPart],
        *,
        expected_checksums: Mapping[str, str] | None = None,
        expected_size: int | None = None,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        """Make the object from the listed parts; their files become its body, uncopied."""
        if not parts:
            raise S3Error("MalformedXML", "You must specify at least one part")
        for before, after in itertools.pairwise(parts):
            if after.part_number <= before.part_number:
                raise S3Error(
                    "InvalidPartOrder",
                    "The list of parts was not in ascending order. "
                    "Parts must be ordered by part number.",
                )
        now = self._now()
        with self._tx() as db:
            upload = self._get_upload(db, bucket, key, upload_id)
            stored = {
                row["part_number"]: row
                for row in db.execute(
                    "SELECT part_number, size, etag, blob, checksums FROM parts "
                    "WHERE upload_id = ?",
                    (upload_id,),
                )
            }
            chosen = [self._match_part(stored, part) for part in parts]
            for row in chosen[:-1]:
                if row["size"] < self.min_part_size:
                    raise S3Error(
                        "EntityTooSmall",
                        "Your proposed upload is smaller than the minimum allowed object size.",
                    )
            info = self._assemble(upload, chosen, now, expected_checksums or {})
            if expected_size is not None and expected_size != info.size:
                raise S3Error(
                    "InvalidRequest",
                    f"x-amz-mp-object-size {expected_size} does not match the parts' total "
                    f"size {info.size}",
                )
            replaced = self._insert_object(db, info, if_none_match=if_none_match)
            db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
            db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        used = {row["blob"] for row in chosen}
        unused = [row["blob"] for row in stored.values() if row["blob"] not in used]
        self._blobs.discard(unused + replaced)
        self._emit(info, "ObjectCreated:CompleteMultipartUpload")
        return info

    @staticmethod
    def _match_part(stored: Mapping[int, sqlite3.Row], part: CompletedPart) -> sqlite3.Row:
        row = stored.get(part.part_number)
        if row is None or _unquote(row["etag"]) != _unquote(part.etag):
            raise S3Error(
                "InvalidPart",
                "One or more of the specified parts could not be found. The part may not have "
                "been uploaded, or the specified entity tag may not match the part's entity tag.",
            )
        have = json.loads(row["checksums"])
        for algorithm, value in part.checksums.items():
            if have.get(algorithm) != value:
                raise S3Error(
                    "InvalidPart",
                    f"The {algorithm.upper()} checksum of part {part.part_number} does not match",
                )
        return row

    @staticmethod
    def _assemble(
        upload: UploadInfo,
        chosen: Sequence[sqlite3.Row],
        now: float,
        expected_checksums: Mapping[str, str],
    ) -> ObjectInfo:
        md5s = b"".join(bytes.fromhex(_unquote(row["etag"])) for row in chosen)
        etag = f'"{hashlib.md5(md5s, usedforsecurity=False).hexdigest()}-{len(chosen)}"'
        algorithm = upload.checksum_algorithm
        value = None
        if algorithm:
            part_values = [json.loads(row["checksums"])[algorithm] for row in chosen]
            if upload.checksum_type == "FULL_OBJECT":
                value = checksums.full_object_crc32(
                    zip(part_values, (row["size"] for row in chosen), strict=True)
                )
            else:
                value = checksums.composite(algorithm, part_values)
        for name, wanted in expected_checksums.items():
            if name != algorithm or (value or "").split("-")[0] != wanted.split("-")[0]:
                raise S3Error(
                    "BadDigest",
                    f"The {name.upper()} you specified did not match the calculated checksum.",
                )
        return ObjectInfo(
            bucket=upload.bucket,
            key=upload.key,
            size=sum(row["size"] for row in chosen),
            etag=etag,
            content_type=upload.content_type,
            last_modified=_ts(now),
            metadata=upload.metadata,
            headers=upload.headers,
            checksum_algorithm=algorithm,
            checksum_value=value,
            checksum_type=upload.checksum_type,
            parts_count=len(chosen),
            segments=tuple((row["blob"], row["size"]) for row in chosen),
        )

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        with self._tx() as db:
            self._get_upload(db, bucket, key, upload_id)
            doomed = [
                row[0]
                for row in db.execute("SELECT blob FROM parts WHERE upload_id = ?", (upload_id,))
            ]
            db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
            db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        self._blobs.discard(doomed)

    def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        max_uploads: int = 1000,
    ) -> UploadListing:
        with self._lock:
            self._require_bucket(self._db, bucket)
            markers = (
                [key_marker, key_marker, upload_id_marker] if upload_id_marker else [key_marker]
            )
            rows = self._db.execute(
                _SQL_LIST_UPLOADS[bool(upload_id_marker)],
                [bucket, *markers, len(prefix), prefix, max_uploads + 1],
            ).fetchall()
        uploads = tuple(_upload_from_row(row) for row in rows[:max_uploads])
        last = uploads[-1] if uploads else None
        return UploadListing(
            uploads=uploads,
            is_truncated=len(rows) > max_uploads,
            next_key_marker=last.key if last else "",
            next_upload_id_marker=last.upload_id if last else "",
        )


def _part_span(info: ObjectInfo, part_number: int) -> tuple[int, int]:
    """[start, end) of part ``part_number`` (a single-PUT object is one part)."""
    sizes = [size for _, size in info.segments] if info.parts_count else [info.size]
    if not 1 <= part_number <= len(sizes):
        raise S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable")
    start = sum(sizes[: part_number - 1])
    return start, start + sizes[part_number - 1]


def _preferred_algorithm(algorithms: set[str]) -> str | None:
    for algorithm in ("sha256", "sha1", "crc32"):
        if algorithm in algorithms:
            return algorithm
    return None
