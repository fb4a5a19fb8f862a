"""The upload workflow's steps: validate, extract metadata, previews, record, quarantine, fail.

Each step takes the workflow's job (a JSON object) and returns it with its findings added.
Errors are raised as exceptions whose class names the workflow matches on (the Lambda runtime
reports the class name as ``errorType``): ``FileNotRecorded`` is retried, ``Superseded``,
``NotAVersion`` and ``CorruptFile`` are not.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from backend.data import keys
from backend.data.blobs import BlobStore
from backend.data.metadata import MAX_COMMIT_ATTEMPTS
from backend.data.records import FileRecord, FileState
from backend.errors import Conflict
from backend.logic.context import Services
from backend.logic.paths import name_of
from backend.logic.processing_info import Status, notification, plain, processing_of
from backend.workflows import imaging
from backend.workflows.imaging import CorruptFile

Job = dict[str, Any]
IMAGE_MAX_BYTES = 100 * 1024**2
PDF_SCAN_MAX_BYTES = 32 * 1024**2


class FileNotRecorded(Exception):
    """The object exists but its upload is not completed (yet): the workflow retries."""


class Superseded(Exception):
    """The version is no longer the file's current one: nothing to do."""


class NotAVersion(Exception):
    """The object's key is not a file version's (not ours to process)."""


__all__ = [
    "CorruptFile",
    "FileNotRecorded",
    "NotAVersion",
    "Status",
    "Superseded",
    "notification",
    "plain",
    "processing_of",
]


def _uploads(svc: Services, bucket: str) -> BlobStore:
    if bucket != svc.uploads.bucket:
        raise NotAVersion(f"bucket {bucket!r} is not the upload bucket")
    return svc.uploads


def _processed(svc: Services) -> BlobStore:
    if svc.processed is None:
        raise RuntimeError("no processed bucket configured")
    return svc.processed


# ----- steps -----
def validate(svc: Services, job: Job) -> Job:
    bucket, key = str(job["bucket"]), str(job["key"])
    uploads = _uploads(svc, bucket)
    parsed = keys.parse_blob_key(key)
    if parsed is None:
        raise NotAVersion(f"{key!r} is not a file version")
    user, file_id, version_id = parsed
    current, version = svc.store.file_and_version(user, file_id, version_id)
    if version is None:
        raise FileNotRecorded(f"{key!r} has no completed upload yet")
    if current is None or current.version_id != version_id:
        raise Superseded(f"{key!r} is no longer the file's current version")
    stored = uploads.head(key)
    if stored is None:
        raise Superseded(f"{key!r} is gone")
    if stored.size != version.size:
        raise CorruptFile(f"stored {stored.size} bytes, the upload recorded {version.size}")
    # S3 refuses any range of an empty object (InvalidRange): there is nothing to sniff.
    sniffed = uploads.read(key, first=imaging.SNIFF_BYTES) if stored.size else b""
    detected = imaging.detect_type(sniffed)
    declared = version.content_type
    blocked = [t for t in (detected, declared) if t in svc.config.blocked_types]
    return {
        "bucket": bucket,
        "key": key,
        "size": version.size,
        "user_id": user,
        "file_id": file_id,
        "version_id": version_id,
        "path": current.path,
        "declared_type": declared,
        "detected_type": detected,
        "verdict": "blocked" if blocked else "ok",
        "reason": f"blocked content type {blocked[0]}" if blocked else None,
    }


def extract_metadata(svc: Services, job: Job) -> Job:
    uploads = _uploads(svc, str(job["bucket"]))
    key, size = str(job["key"]), int(job["size"])
    detected = job.get("detected_type")
    image = detected in imaging.IMAGE_TYPES and size <= IMAGE_MAX_BYTES
    digest = hashlib.sha256()
    keep = image or (detected == "application/pdf" and size <= PDF_SCAN_MAX_BYTES)
    kept = bytearray()
    for chunk in uploads.iter_chunks(key):
        digest.update(chunk)
        if keep:
            kept += chunk
    metadata: dict[str, Any] = {"sha256": digest.hexdigest(), "image": image}
    if image:
        width, height = imaging.image_size(bytes(kept))
        metadata.update(width=width, height=height)
    elif detected == "application/pdf" and keep:
        metadata["page_count"] = imaging.pdf_page_count(bytes(kept))
    return {**job, "metadata": metadata}


def make_previews(svc: Services, job: Job) -> Job:
    uploads, processed = _uploads(svc, str(job["bucket"])), _processed(svc)
    previews = imaging.make_previews(uploads.read(str(job["key"])))
    user, file_id, version_id = str(job["user_id"]), str(job["file_id"]), str(job["version_id"])
    out: dict[str, str] = {}
    for kind, data in (("thumbnail", previews.thumbnail), ("preview", previews.preview)):
        key = keys.preview_key(user, file_id, version_id, kind)
        processed.write(key, data, "image/jpeg")
        out[f"{kind}_key"] = key
    metadata = {**job.get("metadata", {}), "width": previews.width, "height": previews.height}
    return {**job, "metadata": metadata, "previews": out}


def _set_processing(
    svc: Services, user: str, file_id: str, version_id: str, info: dict[str, Any]
) -> FileRecord:
    """Store the findings on the file (and its path or trash index copy), if still current.

    Outside the change feed (nothing a listing shows changes), so a user's uploads going on
    meanwhile do not make it retry; the items' conditions catch a file that changed."""
    store = svc.store
    for _ in range(MAX_COMMIT_ATTEMPTS):
        current = store.file(user, file_id)
        if current is None or current.version_id != version_id:
            raise Superseded("the file has a newer version")
        record = replace(current, processing=info)
        # Trashing changes the state but not modified_at: both are checked.
        same = {":v": version_id, ":m": current.modified_at, ":s": current.state.value}
        items = [
            store.put(
                keys.file(user, file_id),
                record,
                condition="#version_id = :v AND #modified_at = :m AND #state = :s",
                values=same,
            )
        ]
        if current.state is FileState.ACTIVE:
            items.append(
                store.put(
                    keys.path(user, current.path),
                    record,
                    condition="#file_id = :f AND #version_id = :v",
                    values={":f": file_id, ":v": version_id},
                )
            )
        else:
            items.append(store.put(keys.trash(user, file_id), record))
        if store.write_outside_feed(items):
            return record
    raise Conflict("the file kept changing while its processing result was stored")


def record_result(svc: Services, job: Job) -> Job:
    now = svc.now_ms()
    metadata = dict(job.get("metadata") or {})
    previews = dict(job.get("previews") or {})
    info: dict[str, Any] = {
        "status": Status.READY,
        "detected_type": job.get("detected_type"),
        "processed_at": now,
        **{k: v for k, v in metadata.items() if k != "image" and v is not None},
        **previews,
    }
    info = {k: v for k, v in info.items() if v is not None}
    user = str(job["user_id"])
    record = _set_processing(svc, user, str(job["file_id"]), str(job["version_id"]), info)
    name = name_of(record.path)
    detail = f" ({info['width']}x{info['height']})" if "width" in info else ""
    return {
        **job,
        "notification": notification(
            "file_processed",
            user,
            f"{name} is ready",
            f"{record.path} was processed{detail}.",
            now,
            file_id=record.file_id,
        ),
    }


def quarantine(svc: Services, job: Job) -> Job:
    now = svc.now_ms()
    user, reason = str(job["user_id"]), str(job.get("reason") or "blocked content")
    info = {
        "status": Status.QUARANTINED,
        "detected_type": job.get("detected_type"),
        "reason": reason,
        "processed_at": now,
    }
    info = {k: v for k, v in info.items() if v is not None}
    record = _set_processing(svc, user, str(job["file_id"]), str(job["version_id"]), info)
    return {
        **job,
        "notification": notification(
            "file_quarantined",
            user,
            f"{name_of(record.path)} was quarantined",
            f"{record.path} will not be served: {reason}.",
            now,
            file_id=record.file_id,
        ),
    }


def mark_failed(svc: Services, job: Job) -> Job:
    """The Catch of every step: mark the version ``processing_failed``; the original stays."""
    now = svc.now_ms()
    parsed = keys.parse_blob_key(str(job.get("key", "")))
    if parsed is None:
        raise NotAVersion("nothing to mark: not a file version")
    user, file_id, version_id = parsed
    error = dict(job.get("error") or {})
    reason = str(error.get("Error") or "error")
    cause = str(error.get("Cause") or "")[:500]
    info = {
        "status": Status.FAILED,
        "reason": reason,
        "cause": cause,
        "processed_at": now,
    }
    record = _set_processing(svc, user, file_id, version_id, info)
    return {
        "bucket": job.get("bucket"),
        "key": job.get("key"),
        "notification": notification(
            "processing_failed",
            user,
            f"{name_of(record.path)} could not be processed",
            f"{record.path} is stored unchanged, but no preview or metadata could be made "
            f"({reason}).",
            now,
            file_id=file_id,
        ),
    }
