"""Value types returned by the object store (all immutable)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from .blobs import Segment


@dataclass(frozen=True)
class BucketInfo:
    name: str
    created: datetime


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    etag: str  # quoted, as S3 sends it
    content_type: str
    last_modified: datetime
    metadata: Mapping[str, str] = field(default_factory=dict)  # x-amz-meta-* (lower-case names)
    # Stored representation headers (Content-Disposition, Cache-Control, ...).
    headers: Mapping[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum_value: str | None = None
    checksum_type: str | None = None  # "FULL_OBJECT" or "COMPOSITE"
    parts_count: int | None = None  # set for objects made by CompleteMultipartUpload
    segments: tuple[Segment, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class ObjectListing:
    contents: tuple[ObjectInfo, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool
    # Last key or common prefix returned; continue after it.
    next_marker: str | None


@dataclass(frozen=True)
class UploadInfo:
    upload_id: str
    bucket: str
    key: str
    initiated: datetime
    content_type: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


@dataclass(frozen=True)
class PartInfo:
    part_number: int
    size: int
    etag: str  # quoted
    last_modified: datetime
    checksums: Mapping[str, str] = field(default_factory=dict)  # algorithm -> base64


@dataclass(frozen=True)
class PartListing:
    upload: UploadInfo
    parts: tuple[PartInfo, ...]
    is_truncated: bool
    next_part_number_marker: int


@dataclass(frozen=True)
class UploadListing:
    uploads: tuple[UploadInfo, ...]
    is_truncated: bool
    next_key_marker: str
    next_upload_id_marker: str


@dataclass(frozen=True)
class CompletedPart:
    """One <Part> of a CompleteMultipartUpload request."""

    part_number: int
    etag: str
    checksums: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObjectCreatedEvent:
    """Emitted after an object is committed (the S3 event that starts the upload workflow)."""

    bucket: str
    key: str
    size: int
    etag: str  # unquoted, as in S3 event notifications
    # Hex string that increases with each event, as S3's ``sequencer``.
    sequencer: str
    event_time: datetime
    event_name: str  # "ObjectCreated:Put" | ":Copy" | ":CompleteMultipartUpload"


@dataclass(frozen=True)
class DeleteResult:
    key: str
    error_code: str | None = None
    error_message: str | None = None
