"""What the upload workflow recorded about a file, read without the imaging code (Pillow):
the API's handlers serve processing state and previews and need none of it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from backend.data.records import FileRecord
from backend.errors import BadRequest, NotFound
from backend.logic import files
from backend.logic.context import Caller, Services


class Status:
    READY = "ready"
    QUARANTINED = "quarantined"
    FAILED = "processing_failed"


def plain(value: Any) -> Any:
    """DynamoDB numbers (Decimal) inside nested maps, as ints."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def processing_of(record: FileRecord) -> dict[str, Any] | None:
    return None if record.processing is None else dict(plain(record.processing))


def is_quarantined(record: FileRecord) -> bool:
    info = processing_of(record)
    return info is not None and info.get("status") == Status.QUARANTINED


def notification(
    kind: str, user_id: str, title: str, body: str, at: int, **refs: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"user_id": user_id, "kind": kind, "title": title, "body": body, "at": at}
    out.update({k: v for k, v in refs.items() if v is not None})
    return out


PREVIEW_KINDS = ("preview", "thumbnail")


@dataclass(frozen=True)
class PreviewTicket:
    url: str
    expires_at: int
    kind: str
    width: int | None
    height: int | None


def preview(svc: Services, caller: Caller, file_id: str, kind: str | None) -> PreviewTicket:
    """A short-lived URL of the file's processed preview (or thumbnail), when it has one."""
    kind = kind or "preview"
    if kind not in PREVIEW_KINDS:
        raise BadRequest("size must be 'preview' or 'thumbnail'", code="validation_error")
    record = files.active_file(svc, caller, file_id)
    info = processing_of(record) or {}
    key = info.get(f"{kind}_key")
    if info.get("status") != Status.READY or not key or svc.processed is None:
        raise NotFound("this file has no preview", code="no_preview")
    ttl = svc.config.preview_url_ttl_s
    url = svc.processed.presign_inline(str(key), ttl, content_type="image/jpeg")
    return PreviewTicket(
        url, svc.now_ms() + ttl * 1000, kind, info.get("width"), info.get("height")
    )
