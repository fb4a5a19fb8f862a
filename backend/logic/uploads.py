"""Uploads: initiate, more part URLs, complete (records the new version), abort."""

from __future__ import annotations

import base64
import logging
import math
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from backend.data import keys
from backend.data.blobs import StoredPart
from backend.data.metadata import Mutation
from backend.data.records import (
    ChangeOp,
    ChangeRecord,
    DroppedUpload,
    FileRecord,
    FileState,
    Profile,
    UploadMode,
    UploadRecord,
    UploadStatus,
    VersionRecord,
)
from backend.errors import BadRequest, Conflict, NotFound, QuotaExceeded
from backend.logic.context import Caller, Services, new_id, new_version_id
from backend.logic.inputs import MAX_PARTS, CompleteUpload, InitiateUpload, PartNumbers

log = logging.getLogger(__name__)
MiB = 1024**2
# How long past its expiry a session record stays for the daily sweep to find (see
# session_ttl); a week covers a sweep that failed or was stopped for a few days.
SESSION_SWEEP_GRACE_S = 7 * 24 * 3600


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    url: str


@dataclass(frozen=True)
class UploadTicket:
    upload: UploadRecord
    urls: list[PartUrl]
    url_expires_at: int


def choose_part_size(size: int, min_part_size: int) -> int:
    """The smallest whole-MiB part size at or above the minimum that fits in 10,000 parts."""
    needed = math.ceil(size / MAX_PARTS) if size else 0
    part = max(min_part_size, needed)
    return math.ceil(part / MiB) * MiB if part >= MiB else part


def _check_expected(existing: FileRecord | None, body: InitiateUpload) -> None:
    if "expected_version" not in body.model_fields_set:
        return
    if body.expected_version is None and existing is not None:
        raise Conflict(f"'{body.path}' already exists", current_version=existing.version_id)
    if body.expected_version is not None and (
        existing is None or existing.version_id != body.expected_version
    ):
        raise Conflict(
            f"'{body.path}' is not at version {body.expected_version}",
            current_version=existing.version_id if existing else None,
        )


def session_ttl(upload: UploadRecord) -> int:
    """When DynamoDB may drop a session record (epoch seconds): well after it expires, so
    the daily sweep (``trash.purge_expired``) finds an abandoned session and deletes its
    bytes with it; the TTL only catches what the sweep did not."""
    return upload.expires_at // 1000 + SESSION_SWEEP_GRACE_S


def check_quota(profile: Profile, size: int) -> None:
    if profile.used_bytes + size > profile.quota_bytes:
        raise QuotaExceeded(
            f"uploading {size} bytes would exceed your quota",
            quota_bytes=profile.quota_bytes,
            used_bytes=profile.used_bytes,
        )


def new_upload(
    svc: Services, caller: Caller, body: InitiateUpload, existing: FileRecord | None, now: int
) -> UploadRecord:
    """The session record of a new upload (and its S3 multipart upload, when it needs one)."""
    cfg = svc.config
    _check_expected(existing, body)
    file_id = existing.file_id if existing else new_id("f")
    version_id = new_version_id(now)
    blob = keys.blob_key(caller.user_id, file_id, version_id)
    if body.size <= cfg.single_put_max:
        mode, part_size, part_count, s3_id = UploadMode.SINGLE, body.size, 1, None
    else:
        mode = UploadMode.MULTIPART
        part_size = choose_part_size(body.size, cfg.min_part_size)
        part_count = math.ceil(body.size / part_size)
        s3_id = svc.uploads.create_multipart(blob, body.content_type)
    return UploadRecord(
        upload_id=new_id("u"),
        file_id=file_id,
        version_id=version_id,
        path=body.path,
        size=body.size,
        content_type=body.content_type,
        mode=mode,
        blob_key=blob,
        part_size=part_size,
        part_count=part_count,
        s3_upload_id=s3_id,
        base_version=existing.version_id if existing else None,
        status=UploadStatus.PENDING,
        created_at=now,
        expires_at=now + cfg.upload_session_ttl_s * 1000,
    )


def ticket_for(svc: Services, upload: UploadRecord, now: int) -> UploadTicket:
    cfg = svc.config
    if upload.mode is UploadMode.SINGLE:
        urls = [PartUrl(1, svc.uploads.presign_put(upload.blob_key, cfg.upload_url_ttl_s))]
    else:
        urls = _part_urls(svc, upload, range(1, min(upload.part_count, cfg.parts_batch) + 1))
    return UploadTicket(upload, urls, now + cfg.upload_url_ttl_s * 1000)


def initiate(svc: Services, caller: Caller, body: InitiateUpload) -> UploadTicket:
    store = svc.store
    check_quota(store.profile(caller.user_id), body.size)
    now = svc.now_ms()
    upload = new_upload(svc, caller, body, store.file_at(caller.user_id, body.path), now)
    store.put_plain(
        keys.upload(caller.user_id, upload.upload_id),
        upload,
        ttl=session_ttl(upload),
    )
    return ticket_for(svc, upload, now)


def _part_urls(svc: Services, upload: UploadRecord, numbers: range | list[int]) -> list[PartUrl]:
    assert upload.s3_upload_id is not None
    ttl = svc.config.upload_url_ttl_s
    return [
        PartUrl(n, svc.uploads.presign_part(upload.blob_key, upload.s3_upload_id, n, ttl))
        for n in numbers
    ]


def _pending(svc: Services, caller: Caller, upload_id: str) -> UploadRecord:
    upload = svc.store.upload(caller.user_id, upload_id)
    if upload is None:
        raise NotFound("no such upload")
    return upload


def part_urls(svc: Services, caller: Caller, upload_id: str, body: PartNumbers) -> UploadTicket:
    upload = _pending(svc, caller, upload_id)
    if upload.status is not UploadStatus.PENDING:
        raise Conflict("the upload is already complete")
    bad = [n for n in body.part_numbers if n > upload.part_count]
    if bad:
        raise BadRequest(f"part numbers beyond the upload's {upload.part_count} parts: {bad[:5]}")
    if upload.mode is UploadMode.SINGLE:
        urls = [PartUrl(1, svc.uploads.presign_put(upload.blob_key, svc.config.upload_url_ttl_s))]
    else:
        urls = _part_urls(svc, upload, sorted(set(body.part_numbers)))
    return UploadTicket(upload, urls, svc.now_ms() + svc.config.upload_url_ttl_s * 1000)


def _verify_parts(svc: Services, upload: UploadRecord, body: CompleteUpload) -> list[StoredPart]:
    assert upload.s3_upload_id is not None
    stored = svc.uploads.list_parts(upload.blob_key, upload.s3_upload_id)
    if stored is None:
        raise Conflict("the upload's parts are gone (aborted or expired); start again")
    by_number = {p.part_number: p for p in stored}
    missing = [n for n in range(1, upload.part_count + 1) if n not in by_number]
    if missing:
        raise BadRequest(
            f"{len(missing)} part(s) not uploaded, first: {missing[:5]}", code="parts_missing"
        )
    extra = sorted(n for n in by_number if n > upload.part_count)
    if extra:
        raise BadRequest(f"unexpected parts: {extra[:5]}", code="parts_unexpected")
    for n in range(1, upload.part_count + 1):
        want = (
            upload.part_size if n < upload.part_count else upload.size - upload.part_size * (n - 1)
        )
        if by_number[n].size != want:
            raise BadRequest(
                f"part {n} has {by_number[n].size} bytes, expected {want}",
                code="part_size_mismatch",
            )
    for claimed in body.parts:
        stored_part = by_number.get(claimed.part_number)
        if stored_part is None or stored_part.etag != claimed.etag.strip('"'):
            raise BadRequest(
                f"part {claimed.part_number} does not match what was stored", code="part_mismatch"
            )
        if claimed.sha256 is not None and stored_part.checksum_sha256 != claimed.sha256:
            raise BadRequest(
                f"part {claimed.part_number}'s SHA-256 differs from what was stored; "
                "upload the part again",
                code="part_mismatch",
            )
    return [by_number[n] for n in range(1, upload.part_count + 1)]


def already_completed(svc: Services, caller: Caller, upload: UploadRecord) -> FileRecord:
    """What a repeated ``complete`` answers: the file, if this upload is still its version."""
    current = svc.store.file(caller.user_id, upload.file_id)
    if current is not None and current.version_id == upload.version_id:
        return current
    version = svc.store.version(caller.user_id, upload.file_id, upload.version_id)
    if version is None:
        raise NotFound("no such upload")
    raise Conflict(
        "the upload completed, but the file has changed since", version_id=version.version_id
    )


def stored_etag(svc: Services, upload: UploadRecord, body: CompleteUpload) -> str:
    """Checks the uploaded bytes against the session and the client's claims; their ETag."""
    if upload.mode is UploadMode.MULTIPART:
        assert upload.s3_upload_id is not None
        parts = _verify_parts(svc, upload, body)
        svc.uploads.complete_multipart(upload.blob_key, upload.s3_upload_id, parts)
    stored = svc.uploads.head(upload.blob_key)
    if stored is None:
        raise BadRequest("no bytes were uploaded for this upload", code="not_uploaded")
    if stored.size != upload.size:
        svc.uploads.delete(upload.blob_key)
        raise BadRequest(
            f"uploaded {stored.size} bytes but declared {upload.size}; upload again",
            code="size_mismatch",
        )
    if body.sha256 is not None and stored.checksum_sha256 is not None:
        stored_hex = base64.b64decode(stored.checksum_sha256).hex()
        if stored_hex != body.sha256:
            svc.uploads.delete(upload.blob_key)
            raise BadRequest(
                "the file's SHA-256 differs from the bytes that were stored; upload again",
                code="checksum_mismatch",
            )
    return stored.etag


def after_conflict(
    svc: Services, caller: Caller, upload: UploadRecord, conflict: Conflict
) -> FileRecord:
    """The outcome of a completion whose commit failed on a conflict. The upload lost to
    another writer: its session and bytes are dropped, and the conflict stands. Unless
    another request completed this very upload meanwhile (a client retrying a completion
    whose answer was slow): that outcome is this one's too, and the bytes stay, being the
    file's now."""
    if not _drop_pending(svc, caller.user_id, upload):
        session = svc.store.upload(caller.user_id, upload.upload_id)
        if session is not None and session.status is UploadStatus.COMPLETED:
            return already_completed(svc, caller, session)
    raise conflict


def complete(svc: Services, caller: Caller, upload_id: str, body: CompleteUpload) -> FileRecord:
    upload = _pending(svc, caller, upload_id)
    if upload.status is UploadStatus.COMPLETED:
        return already_completed(svc, caller, upload)
    etag = stored_etag(svc, upload, body)
    result: list[FileRecord] = []

    def build(profile: Profile) -> Mutation:
        record, mutation = version_mutation(
            svc, caller, upload, etag, body.sha256, svc.now_ms(), seq=profile.seq + 1
        )
        result[:] = [record]
        return mutation

    try:
        svc.store.commit(caller.user_id, build)
    except Conflict as exc:
        return after_conflict(svc, caller, upload, exc)
    return result[0]


def version_mutation(
    svc: Services,
    caller: Caller,
    upload: UploadRecord,
    etag: str,
    sha256: str | None,
    now: int,
    current: FileRecord | None = None,
    *,
    seq: int,
    read_current: bool = True,
    with_session: bool = True,
) -> tuple[FileRecord, Mutation]:
    """The writes that make ``upload`` the file's current version, conditional on the state
    the upload was started from (so a concurrent writer makes the transaction fail).
    ``seq``: the feed seq its change will get. ``with_session``: mark the session record
    completed (an inline upload has none)."""
    store, user = svc.store, caller.user_id
    if read_current:
        current = store.file(user, upload.file_id)
    record = FileRecord(
        file_id=upload.file_id,
        path=upload.path,
        size=upload.size,
        content_type=upload.content_type,
        version_id=upload.version_id,
        blob_key=upload.blob_key,
        etag=etag,
        created_at=current.created_at if current else now,
        modified_at=now,
        sha256=sha256,
        change_seq=seq,
    )
    version = VersionRecord(
        upload.file_id,
        upload.version_id,
        upload.size,
        upload.content_type,
        upload.blob_key,
        etag,
        now,
        sha256,
    )
    if upload.base_version is None:
        file_cond, file_vals = (
            "attribute_not_exists(pk) OR #state = :trashed",
            {":trashed": "trashed"},
        )
        path_cond, path_vals = "attribute_not_exists(pk)", None
    else:
        file_cond = "#version_id = :base AND #state = :active"
        file_vals = {":base": upload.base_version, ":active": FileState.ACTIVE.value}
        path_cond, path_vals = "#file_id = :fid", {":fid": upload.file_id}
    items = [
        store.put(keys.file(user, upload.file_id), record, condition=file_cond, values=file_vals),
        store.put(keys.path(user, upload.path), record, condition=path_cond, values=path_vals),
        store.put(keys.version(user, upload.file_id, upload.version_id), version),
    ]
    if with_session:
        # Only a pending session completes: never twice, never after it was swept.
        items.append(
            store.put(
                keys.upload(user, upload.upload_id),
                upload,
                condition="#status = :pending",
                values={":pending": UploadStatus.PENDING.value},
                status=UploadStatus.COMPLETED.value,
                result_version=upload.version_id,
                ttl=session_ttl(upload),
            )
        )
    message = f"'{upload.path}' was changed by someone else while this upload ran"
    change = ChangeRecord(
        0,
        ChangeOp.UPSERT,
        upload.file_id,
        upload.path,
        None,
        upload.version_id,
        upload.size,
        now,
        sha256,
    )
    return record, Mutation(
        items=items,
        change=change,
        used_delta=upload.size,
        conflict_messages={
            0: message,
            1: message,
            3: "the upload was completed by another request, or expired; upload again",
        },
    )


def abort(svc: Services, caller: Caller, upload_id: str) -> None:
    upload = _pending(svc, caller, upload_id)
    if upload.status is UploadStatus.COMPLETED or not _drop_pending(svc, caller.user_id, upload):
        raise Conflict("the upload is already complete, or was aborted meanwhile")


def sweep_abandoned(svc: Services, user_id: str, sessions: list[UploadRecord]) -> int:
    """Deletes upload sessions that expired while pending, with the bytes uploaded for them
    (nothing refers to those: a version takes its session from pending to completed in the
    same transaction). How many were swept."""
    return sum(_drop_pending(svc, user_id, upload) for upload in sessions)


def _drop_pending(svc: Services, user_id: str, upload: UploadRecord) -> bool:
    """Deletes a session that is still pending as read, then its bytes; False (nothing
    touched) when it was completed, swept or aborted meanwhile. The record goes first: a
    completion that commits before keeps its bytes, one that commits after fails on the
    session instead of recording bytes that are gone. A marker written with the deletion
    stays until the bytes are gone, so the daily job finishes what a failure left."""
    multipart = upload.mode is UploadMode.MULTIPART
    marker = DroppedUpload(
        upload.upload_id, upload.blob_key, upload.s3_upload_id if multipart else None, svc.now_ms()
    )
    store = svc.store
    dropped = store.write_together(
        [
            store.delete(
                keys.upload(user_id, upload.upload_id),
                condition="#status = :pending AND #expires_at = :expires",
                values={":pending": UploadStatus.PENDING.value, ":expires": upload.expires_at},
            ),
            store.put(keys.dropped_upload(user_id, upload.upload_id), marker),
        ]
    )
    if dropped:
        try:
            finish_drop(svc, user_id, marker)
        except (BotoCoreError, ClientError):
            log.warning(
                "could not delete the bytes of dropped upload %s yet; the daily job will",
                upload.upload_id,
                exc_info=True,
            )
    return dropped


def finish_drop(svc: Services, user_id: str, marker: DroppedUpload) -> None:
    """Deletes a dropped upload's bytes (aborting its multipart upload), then its marker."""
    if marker.s3_upload_id is not None:
        svc.uploads.abort_multipart(marker.blob_key, marker.s3_upload_id)
    svc.uploads.delete(marker.blob_key)
    svc.store.delete_plain(keys.dropped_upload(user_id, marker.upload_id))
