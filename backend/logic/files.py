"""Files: list, metadata, download URL, move/rename, trash and restore, versions."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from backend import naming
from backend.data import keys
from backend.data.metadata import Mutation
from backend.data.records import (
    ActivityRecord,
    ChangeOp,
    ChangeRecord,
    FileRecord,
    FileState,
    Profile,
    VersionRecord,
)
from backend.errors import ApiError, BadRequest, Conflict, Forbidden, Gone, NotFound
from backend.logic.context import Caller, Services, new_id, new_version_id
from backend.logic.inputs import MoveFile, RestoreFromTrash
from backend.logic.paths import name_of, normalize_prefix

MAX_PAGE = 1000
DEFAULT_PAGE = 200
T = TypeVar("T")
log = logging.getLogger("filevault.files")
_TRASHED_TAGS = {naming.TRASHED_TAG_KEY: naming.TRASHED_TAG_VALUE}


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursor: str | None


@dataclass(frozen=True)
class DownloadTicket:
    url: str
    expires_at: int
    file: FileRecord


_CURSOR_TAG = "c1:"


def encode_cursor(sort_key: str | None, *, tag: str = _CURSOR_TAG) -> str | None:
    """An opaque cursor; ``tag`` names the kind of listing it continues."""
    if sort_key is None:
        return None
    raw = (tag + sort_key).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(
    cursor: str | None, expected_prefix: str, *, tag: str = _CURSOR_TAG
) -> str | None:
    """The key to continue after; only cursors this API issued for this kind of listing."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("invalid cursor", code="invalid_cursor") from None
    key = raw.removeprefix(tag)
    if key == raw or not key or not key.startswith(expected_prefix):
        raise BadRequest("invalid cursor", code="invalid_cursor")
    return key


def page_size(limit: str | None) -> int:
    if limit is None:
        return DEFAULT_PAGE
    if not re.fullmatch(r"[0-9]{1,4}", limit) or not 1 <= int(limit) <= MAX_PAGE:
        raise BadRequest(
            f"limit must be a whole number from 1 to {MAX_PAGE}", code="validation_error"
        )
    return int(limit)


def list_files(
    svc: Services, caller: Caller, *, prefix: str | None, cursor: str | None, limit: int
) -> Page[FileRecord]:
    norm = normalize_prefix(prefix or "")
    after = decode_cursor(cursor, norm)
    records, next_after = svc.store.page(
        FileRecord, keys.paths_pk(caller.user_id), norm, after=after, limit=limit
    )
    return Page(records, encode_cursor(next_after))


def get_file(svc: Services, caller: Caller, file_id: str) -> FileRecord:
    record = svc.store.file(caller.user_id, file_id)
    if record is None:
        raise NotFound("no such file")
    return record


def active_file(svc: Services, caller: Caller, file_id: str) -> FileRecord:
    record = get_file(svc, caller, file_id)
    if record.state is not FileState.ACTIVE:
        raise NotFound("the file is in the trash", code="in_trash")
    return record


def download(svc: Services, caller: Caller, file_id: str) -> DownloadTicket:
    record = active_file(svc, caller, file_id)
    refuse_quarantined(record)
    record_activity(svc, caller.user_id, "download", record)
    return _ticket(svc, record)


def _ticket(svc: Services, record: FileRecord) -> DownloadTicket:
    ttl = svc.config.download_url_ttl_s
    url = svc.uploads.presign_get(
        record.blob_key, ttl, filename=name_of(record.path), content_type=record.content_type
    )
    return DownloadTicket(url, svc.now_ms() + ttl * 1000, record)


def download_batch(
    svc: Services, caller: Caller, file_ids: list[str]
) -> list[DownloadTicket | ApiError]:
    """``download`` for up to 100 files in one round trip; each item answers on its own."""
    found = servable_files(svc, caller, file_ids)
    record_downloads(svc, caller.user_id, [r for r in found if isinstance(r, FileRecord)])
    return [r if isinstance(r, ApiError) else _ticket(svc, r) for r in found]


def servable_files(
    svc: Services, caller: Caller, file_ids: list[str]
) -> list[FileRecord | ApiError]:
    """Each file's record when it may be downloaded (active, not quarantined), else why not."""
    user = caller.user_id
    found = svc.store.get_many(FileRecord, [keys.file(user, f) for f in file_ids])
    out: list[FileRecord | ApiError] = []
    for file_id in file_ids:
        record = found.get(keys.file(user, file_id))
        try:
            if record is None:
                raise NotFound("no such file")
            if record.state is not FileState.ACTIVE:
                raise NotFound("the file is in the trash", code="in_trash")
            refuse_quarantined(record)
        except ApiError as exc:
            out.append(exc)
            continue
        out.append(record)
    return out


def record_downloads(svc: Services, user_id: str, served: list[FileRecord]) -> None:
    """The downloads of one batch, as one activity item (the analytics stream makes an event
    of each file): one write instead of one per file."""
    if not served:
        return
    now = svc.now_ms()
    first, rest = served[0], served[1:]
    activity = ActivityRecord(
        new_id("a"),
        "download",
        first.file_id,
        first.size,
        now,
        more_file_ids=[r.file_id for r in rest] or None,
        more_sizes=[r.size for r in rest] or None,
    )
    svc.store.put_plain(
        keys.activity(user_id, activity.activity_id), activity, ttl=now // 1000 + ACTIVITY_TTL_S
    )


def refuse_quarantined(record: FileRecord) -> None:
    info = record.processing or {}
    if info.get("status") == "quarantined":
        raise Forbidden("this file was quarantined and is never served", code="quarantined")


ACTIVITY_TTL_S = 24 * 3600


def record_activity(svc: Services, user_id: str, action: str, record: FileRecord) -> None:
    """A short-lived item for an action that writes nothing else (the analytics stream
    turns it into an event)."""
    now = svc.now_ms()
    activity = ActivityRecord(new_id("a"), action, record.file_id, record.size, now)
    svc.store.put_plain(
        keys.activity(user_id, activity.activity_id), activity, ttl=now // 1000 + ACTIVITY_TTL_S
    )


def move(svc: Services, caller: Caller, file_id: str, body: MoveFile) -> FileRecord:
    """Rename or move: metadata only, the bytes stay where they are."""
    store, user = svc.store, caller.user_id
    now = svc.now_ms()
    result: list[FileRecord] = []

    def build(profile: Profile) -> Mutation:
        current = active_file(svc, caller, file_id)
        if body.expected_version is not None and body.expected_version != current.version_id:
            raise Conflict(
                "the file changed since you last saw it", current_version=current.version_id
            )
        if current.path == body.path:
            result[:] = [current]
            return Mutation()
        moved = replace(current, path=body.path, modified_at=now, change_seq=profile.seq + 1)
        result[:] = [moved]
        seen = {":v": current.version_id, ":p": current.path, ":active": FileState.ACTIVE.value}
        return Mutation(
            items=[
                store.put(
                    keys.file(user, file_id),
                    moved,
                    condition="#version_id = :v AND #path = :p AND #state = :active",
                    values=seen,
                ),
                store.delete(
                    keys.path(user, current.path),
                    condition="#file_id = :fid",
                    values={":fid": file_id},
                ),
                store.put(keys.path(user, body.path), moved, condition="attribute_not_exists(pk)"),
            ],
            change=ChangeRecord(
                0,
                ChangeOp.MOVE,
                file_id,
                body.path,
                current.path,
                current.version_id,
                current.size,
                now,
                current.sha256,
            ),
            conflict_messages={
                0: "the file changed while it was being moved",
                1: "the file changed while it was being moved",
                2: f"'{body.path}' already exists",
            },
        )

    store.commit(user, build)
    return result[0]


def trash(svc: Services, caller: Caller, file_id: str) -> FileRecord:
    store, user = svc.store, caller.user_id
    now = svc.now_ms()
    result: list[FileRecord] = []

    def build(profile: Profile) -> Mutation:
        current = active_file(svc, caller, file_id)
        trashed = replace(
            current, state=FileState.TRASHED, trashed_at=now, change_seq=profile.seq + 1
        )
        result[:] = [trashed]
        return Mutation(
            items=[
                store.put(
                    keys.file(user, file_id),
                    trashed,
                    condition="#version_id = :v AND #state = :active",
                    values={":v": current.version_id, ":active": FileState.ACTIVE.value},
                ),
                store.delete(
                    keys.path(user, current.path),
                    condition="#file_id = :fid",
                    values={":fid": file_id},
                ),
                store.put(keys.trash(user, file_id), trashed),
            ],
            change=ChangeRecord(
                0,
                ChangeOp.DELETE,
                file_id,
                current.path,
                None,
                current.version_id,
                current.size,
                now,
                current.sha256,
            ),
            conflict_messages={
                0: "the file changed while it was being deleted",
                1: "the file changed while it was being deleted",
            },
        )

    store.commit(user, build)
    trashed = result[0]
    blobs = _blob_keys(svc, user, trashed)
    try:
        _mark_blobs(svc, blobs, trashed=True)
        # A restore that finished meanwhile must not leave its bytes marked for expiry.
        if get_file(svc, caller, file_id).state is not FileState.TRASHED:
            _mark_blobs(svc, blobs, trashed=False)
    except (BotoCoreError, ClientError):
        # The file is in the trash either way; untagged, its bytes just never expire.
        log.exception("could not tag the blobs of trashed file %s for expiry", file_id)
    return trashed


def _blob_keys(svc: Services, user_id: str, record: FileRecord) -> list[str]:
    """Every S3 object a file's versions point at (restored versions share older ones)."""
    found = {record.blob_key}
    prefix = f"V#{record.file_id}#"
    found.update(
        v.blob_key for v in svc.store.iter_all(VersionRecord, keys.user_pk(user_id), prefix)
    )
    return sorted(found)


def _mark_blobs(svc: Services, blob_keys: list[str], *, trashed: bool) -> None:
    """Tag (trash) or untag (restore) the objects; the upload bucket's lifecycle rule expires
    tagged objects after the trash retention. Missing objects are skipped."""

    def mark(key: str) -> bool:
        if trashed:
            return svc.uploads.set_tags(key, _TRASHED_TAGS)
        return svc.uploads.clear_tags(key)

    if len(blob_keys) <= 1:
        for key in blob_keys:
            mark(key)
        return
    with ThreadPoolExecutor(max_workers=min(16, len(blob_keys))) as pool:
        list(pool.map(mark, blob_keys))


def list_trash(
    svc: Services, caller: Caller, *, cursor: str | None, limit: int
) -> Page[FileRecord]:
    prefix = "T#"
    records, after = svc.store.page(
        FileRecord,
        keys.user_pk(caller.user_id),
        prefix,
        after=decode_cursor(cursor, prefix),
        limit=limit,
    )
    return Page(records, encode_cursor(after))


def restore_from_trash(
    svc: Services, caller: Caller, file_id: str, body: RestoreFromTrash
) -> FileRecord:
    store, user = svc.store, caller.user_id
    now = svc.now_ms()
    result: list[FileRecord] = []
    # Untag first: should anything after this fail, the file stays in the trash, untagged
    # (kept for good), never restored with bytes that the lifecycle rule will delete.
    trashed = get_file(svc, caller, file_id)
    if trashed.state is FileState.TRASHED and svc.uploads.head(trashed.blob_key) is None:
        raise Gone(
            "this file stayed in the trash past the retention period and its bytes were "
            "deleted; it cannot be restored",
            code="trash_expired",
        )
    blobs = _blob_keys(svc, user, trashed)
    _mark_blobs(svc, blobs, trashed=False)

    def build(profile: Profile) -> Mutation:
        current = get_file(svc, caller, file_id)
        if current.state is not FileState.TRASHED:
            raise Conflict("the file is not in the trash")
        path = body.path or current.path
        restored = replace(
            current,
            path=path,
            state=FileState.ACTIVE,
            trashed_at=None,
            modified_at=now,
            change_seq=profile.seq + 1,
        )
        result[:] = [restored]
        return Mutation(
            items=[
                store.put(
                    keys.file(user, file_id),
                    restored,
                    condition="#state = :trashed",
                    values={":trashed": FileState.TRASHED.value},
                ),
                store.put(keys.path(user, path), restored, condition="attribute_not_exists(pk)"),
                store.delete(keys.trash(user, file_id)),
            ],
            change=ChangeRecord(
                0,
                ChangeOp.UPSERT,
                file_id,
                path,
                None,
                current.version_id,
                current.size,
                now,
                current.sha256,
            ),
            conflict_messages={
                0: "the file changed while it was being restored",
                1: f"'{path}' is taken; restore under another path",
            },
        )

    store.commit(user, build)
    try:
        # Again, for a trash request whose tagging raced with this restore.
        _mark_blobs(svc, blobs, trashed=False)
    except (BotoCoreError, ClientError):
        log.exception("could not re-check the expiry tags of restored file %s", file_id)
    return result[0]


def list_versions(svc: Services, caller: Caller, file_id: str) -> list[VersionRecord]:
    get_file(svc, caller, file_id)
    versions = list(
        svc.store.iter_all(VersionRecord, keys.user_pk(caller.user_id), f"V#{file_id}#")
    )
    versions.reverse()  # newest first
    return versions


def restore_version(svc: Services, caller: Caller, file_id: str, version_id: str) -> FileRecord:
    """Make an old version current again, as a new version that shares the old bytes."""
    store, user = svc.store, caller.user_id
    old = store.version(user, file_id, version_id)
    if old is None:
        raise NotFound("no such version")
    now = svc.now_ms()
    result: list[FileRecord] = []

    def build(profile: Profile) -> Mutation:
        current = active_file(svc, caller, file_id)
        new_version = new_version_id(now)
        restored = replace(
            current,
            version_id=new_version,
            size=old.size,
            content_type=old.content_type,
            blob_key=old.blob_key,
            etag=old.etag,
            modified_at=now,
            sha256=old.sha256,
            change_seq=profile.seq + 1,
        )
        result[:] = [restored]
        seen = {":v": current.version_id, ":active": FileState.ACTIVE.value}
        return Mutation(
            items=[
                store.put(
                    keys.file(user, file_id),
                    restored,
                    condition="#version_id = :v AND #state = :active",
                    values=seen,
                ),
                store.put(
                    keys.path(user, current.path),
                    restored,
                    condition="#file_id = :fid",
                    values={":fid": file_id},
                ),
                store.put(
                    keys.version(user, file_id, new_version),
                    VersionRecord(
                        file_id,
                        new_version,
                        old.size,
                        old.content_type,
                        old.blob_key,
                        old.etag,
                        now,
                        old.sha256,
                    ),
                ),
            ],
            change=ChangeRecord(
                0,
                ChangeOp.UPSERT,
                file_id,
                current.path,
                None,
                new_version,
                old.size,
                now,
                old.sha256,
            ),
            conflict_messages={
                0: "the file changed while restoring",
                1: "the file changed while restoring",
            },
        )

    store.commit(user, build)
    return result[0]
