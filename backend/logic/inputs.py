"""Request bodies, validated with pydantic. Unknown fields are refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.errors import ValidationFailed
from backend.logic.paths import normalize_path

MAX_FILE_SIZE = 5 * 1024**4  # S3's object size limit
MAX_PARTS = 10_000
_CONTENT_TYPE = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _path(value: Any) -> str:
    # pydantic collects ValueErrors with their field name; ours would escape it.
    try:
        return normalize_path(value)
    except ValidationFailed as exc:
        raise ValueError(exc.message) from None


class InitiateUpload(Body):
    path: str
    size: Annotated[int, Field(ge=0, le=MAX_FILE_SIZE)]
    content_type: Annotated[str, Field(pattern=_CONTENT_TYPE)] = "application/octet-stream"
    # Absent: replace whatever is there. null: the path must be free. A string:
    # the file's current version must be this one (optimistic concurrency).
    expected_version: Annotated[str | None, Field(max_length=64)] = None

    _normalize = field_validator("path", mode="before")(_path)


class PartNumbers(Body):
    part_numbers: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_PARTS)]], Field(min_length=1, max_length=1000)
    ]


class CompletedPart(Body):
    part_number: Annotated[int, Field(ge=1, le=MAX_PARTS)]
    etag: Annotated[str, Field(min_length=1, max_length=128)]
    # Base64 SHA-256 the client sent with the part (x-amz-checksum-sha256).
    sha256: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9+/]{43}=$")] = None


class CompleteUpload(Body):
    parts: Annotated[list[CompletedPart], Field(max_length=MAX_PARTS)] = []
    # Hex SHA-256 of the whole file, which sync clients compare instead of names and sizes.
    sha256: Annotated[str | None, Field(pattern=r"^[0-9a-f]{64}$")] = None


class InitiateBatch(Body):
    # Items are validated one by one (a bad name fails that item, not the batch).
    files: Annotated[list[Any], Field(min_length=1, max_length=100)]


INLINE_BATCH_BYTES = 2 * 1024**2
"""Content bytes one inline batch may carry. base64 in JSON makes the body at most ~3.2 MiB,
and ~4.3 MiB even if API Gateway base64-encodes the body again for Lambda: inside Lambda's
6 MB request payload."""
INLINE_FILE_MAX = 1024**2


class InlineBatch(Body):
    # Items are validated one by one (a bad name fails that item, not the batch).
    files: Annotated[list[Any], Field(min_length=1, max_length=100)]


class InlineFile(InitiateUpload):
    """A file of an inline batch, its bytes aside: after the JSON line of a framed body (in
    the order of the items, ``size`` bytes each), or in ``content`` (``InlineJsonFile``)."""

    # Hex SHA-256 of the bytes: checked against the bytes received before anything is stored.
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class InlineJsonFile(InlineFile):
    content: Annotated[str, Field(max_length=(INLINE_FILE_MAX + 2) // 3 * 4)]


class DownloadBatch(Body):
    file_ids: Annotated[
        list[Annotated[str, Field(pattern=r"^f_[0-9a-f]{24}$")]],
        Field(min_length=1, max_length=100),
    ]


class CompleteBatch(Body):
    uploads: Annotated[list[Any], Field(min_length=1, max_length=100)]


class CompleteBatchItem(Body):
    upload_id: Annotated[str, Field(pattern=r"^u_[0-9a-f]{24}$")]
    parts: Annotated[list[CompletedPart], Field(max_length=MAX_PARTS)] = []
    sha256: Annotated[str | None, Field(pattern=r"^[0-9a-f]{64}$")] = None


class MoveFile(Body):
    path: str
    expected_version: Annotated[str | None, Field(max_length=64)] = None

    _normalize = field_validator("path", mode="before")(_path)


class RestoreFromTrash(Body):
    path: str | None = None

    @field_validator("path", mode="before")
    @classmethod
    def _normalize(cls, value: Any) -> Any:
        return None if value is None else _path(value)


# A timestamp as the API writes them (views.iso): UTC, ISO 8601, "Z" or an offset.
TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EmptyTrash(Body):
    # Only files trashed at or before this time (default: when the request arrives). A
    # client emptying a large trash passes back the first answer's ``before`` and ``cursor``.
    before: Annotated[str | None, Field(pattern=TIMESTAMP)] = None
    cursor: Annotated[str | None, Field(min_length=1, max_length=2048)] = None

    @field_validator("before")
    @classmethod
    def _timestamp(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(
                    "before must be a date and time like 2026-01-31T12:00:00Z"
                ) from None
        return value

    def before_ms(self) -> int | None:
        if self.before is None:
            return None
        moment = datetime.fromisoformat(self.before.replace("Z", "+00:00"))
        return (moment - _EPOCH) // timedelta(milliseconds=1)


class CreateShare(Body):
    file_id: Annotated[str, Field(min_length=1, max_length=64)]
    expires_in_seconds: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 24 * 3600
    password: Annotated[str | None, Field(min_length=4, max_length=256)] = None
    max_downloads: Annotated[int | None, Field(ge=1, le=1_000_000)] = None
    # Images only: the link serves a stamped copy; the stored original is unchanged.
    watermark: bool = False


NOTIFICATION_ID = r"^n[0-9a-f]{21}$"


class AckNotifications(Body):
    notification_ids: Annotated[
        list[Annotated[str, Field(pattern=NOTIFICATION_ID)]], Field(min_length=1, max_length=100)
    ]


class CreateSubscription(Body):
    protocol: Annotated[str, Field(pattern=r"^(email|sms)$")]
    endpoint: Annotated[str, Field(min_length=3, max_length=254)]

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if not (
            re.fullmatch(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", value)
            or re.fullmatch(r"\+[1-9][0-9]{6,14}", value)
        ):
            raise ValueError("endpoint must be an email address or an E.164 phone number")
        return value
