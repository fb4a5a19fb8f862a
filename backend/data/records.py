"""Records the metadata store reads and writes. Times are integer milliseconds since the epoch."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FileState(StrEnum):
    ACTIVE = "active"
    TRASHED = "trashed"


class UploadMode(StrEnum):
    SINGLE = "single"
    MULTIPART = "multipart"


class UploadStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"


class ChangeOp(StrEnum):
    UPSERT = "upsert"
    MOVE = "move"
    DELETE = "delete"


@dataclass(frozen=True)
class Profile:
    user_id: str
    quota_bytes: int
    used_bytes: int
    seq: int


@dataclass(frozen=True)
class FileRecord:
    file_id: str
    path: str
    size: int
    content_type: str
    version_id: str
    blob_key: str
    etag: str
    created_at: int
    modified_at: int
    state: FileState = FileState.ACTIVE
    trashed_at: int | None = None
    # What the upload workflow found (backend/logic/processing.py): None until it has run.
    processing: dict[str, Any] | None = None
    # Hex SHA-256 of the whole content as the uploading client computed it (None when unknown).
    sha256: str | None = None
    # The feed seq of the last change to the file's path, version or state (None on records
    # written before it was kept): the file is as that change left it, so a client whose
    # cursor is just before it can take this record instead of reading the change.
    change_seq: int | None = None


@dataclass(frozen=True)
class VersionRecord:
    file_id: str
    version_id: str
    size: int
    content_type: str
    blob_key: str
    etag: str
    created_at: int
    sha256: str | None = None


@dataclass(frozen=True)
class UploadRecord:
    upload_id: str
    file_id: str
    version_id: str
    path: str
    size: int
    content_type: str
    mode: UploadMode
    blob_key: str
    part_size: int
    part_count: int
    s3_upload_id: str | None
    # The file's version when the upload started (None: the path was free).
    # Completion is conditional on it, so a concurrent writer is never overwritten.
    base_version: str | None
    status: UploadStatus
    created_at: int
    expires_at: int
    result_version: str | None = None


@dataclass(frozen=True)
class ShareRecord:
    share_id: str
    file_id: str
    token: str
    created_at: int
    expires_at: int
    password_hash: str | None
    max_downloads: int | None
    downloads: int = 0
    failed_attempts: int = 0
    revoked_at: int | None = None
    last_accessed_at: int | None = None
    owner_id: str = ""
    watermark: bool = False


@dataclass(frozen=True)
class ChangeRecord:
    seq: int
    op: ChangeOp
    file_id: str
    path: str
    old_path: str | None
    version_id: str | None
    size: int | None
    at: int
    sha256: str | None = None


@dataclass(frozen=True)
class NotificationRecord:
    """One entry of a user's notification inbox (expires through the table's TTL)."""

    notification_id: str
    kind: str
    title: str
    body: str
    created_at: int
    file_id: str | None = None
    share_id: str | None = None
    read_at: int | None = None


@dataclass(frozen=True)
class SubscriptionRecord:
    """An email or SMS subscription of a user to their notifications."""

    subscription_id: str
    protocol: str
    endpoint: str
    subscription_arn: str
    created_at: int


@dataclass(frozen=True)
class DroppedUpload:
    """An upload session deleted unfinished (aborted, or abandoned and swept) whose bytes may
    still be in S3: written in the transaction that deletes the session, deleted once the
    bytes are gone (the scheduled job retries what is left)."""

    upload_id: str
    blob_key: str
    s3_upload_id: str | None  # a multipart upload still to abort
    dropped_at: int


@dataclass(frozen=True)
class PurgeRecord:
    """A trashed file deleted for good whose bytes may still be in S3: written in the same
    transaction that deletes its records, deleted once every S3 version under its prefixes is
    gone (the scheduled purge retries what is left)."""

    file_id: str
    path: str
    purged_at: int


@dataclass(frozen=True)
class ActivityRecord:
    """An action that changes no other item (a download), kept briefly so the table's
    stream carries it to the analytics log."""

    activity_id: str
    action: str
    file_id: str
    size: int
    at: int
    # The other files of the same action done together (a batch download), one item for
    # all: ids and sizes, in the same order.
    more_file_ids: list[str] | None = None
    more_sizes: list[int] | None = None
