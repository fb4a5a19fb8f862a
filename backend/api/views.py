"""JSON shapes of the API's responses (described in openapi.yaml)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from backend.api.http import EncodedJson
from backend.data.records import (
    ChangeRecord,
    FileRecord,
    NotificationRecord,
    ShareRecord,
    SubscriptionRecord,
    UploadRecord,
    VersionRecord,
)
from backend.errors import ApiError
from backend.logic.account import Account
from backend.logic.changes import ChangesPage
from backend.logic.download_batches import InlineDownload
from backend.logic.files import DownloadTicket, Page
from backend.logic.notifications import InboxPage
from backend.logic.paths import name_of
from backend.logic.processing_info import PreviewTicket, processing_of
from backend.logic.shares import ShareView
from backend.logic.trash import EmptyTrashPage, Purged
from backend.logic.uploads import UploadTicket

T = TypeVar("T")


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def file_view(f: FileRecord) -> dict[str, Any]:
    return {
        "file_id": f.file_id,
        "path": f.path,
        "name": name_of(f.path),
        "size": f.size,
        "content_type": f.content_type,
        "version_id": f.version_id,
        "etag": f.etag,
        "created_at": iso(f.created_at),
        "modified_at": iso(f.modified_at),
        "state": f.state.value,
        "trashed_at": iso(f.trashed_at),
        "sha256": f.sha256,
        "change_seq": f.change_seq,
        "processing": processing_view(f),
    }


def processing_view(f: FileRecord) -> dict[str, Any] | None:
    info = processing_of(f)
    if info is None:
        return None
    out: dict[str, Any] = {"status": info["status"]}
    for name in ("detected_type", "sha256", "width", "height", "page_count", "reason"):
        if info.get(name) is not None:
            out[name] = info[name]
    out["has_preview"] = bool(info.get("preview_key"))
    out["processed_at"] = iso(info.get("processed_at"))
    return out


def files_page_view(page: Page[FileRecord]) -> dict[str, Any]:
    return {"items": [file_view(f) for f in page.items], "cursor": page.cursor}


def purged_view(p: Purged) -> dict[str, Any]:
    return {"file_id": p.file_id, "path": p.path, "released_bytes": p.released_bytes}


def empty_trash_view(page: EmptyTrashPage) -> dict[str, Any]:
    return {
        "purged": [purged_view(p) for p in page.purged],
        "released_bytes": page.released_bytes,
        "cursor": page.cursor,
        "before": iso(page.before),
    }


def version_view(v: VersionRecord, current: str | None = None) -> dict[str, Any]:
    return {
        "version_id": v.version_id,
        "size": v.size,
        "content_type": v.content_type,
        "etag": v.etag,
        "sha256": v.sha256,
        "created_at": iso(v.created_at),
        "current": v.version_id == current,
    }


def batch_view(
    results: Sequence[T | ApiError], name: str, view: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """``{"items": [{name: view} | {"error": {...}}]}`` in the order of the request."""
    return {
        "items": [
            {"error": _error_view(r)} if isinstance(r, ApiError) else {name: view(r)}
            for r in results
        ]
    }


def _error_view(error: ApiError) -> dict[str, Any]:
    return {"status": error.status, **error.body()}


def upload_view(ticket: UploadTicket) -> dict[str, Any]:
    u: UploadRecord = ticket.upload
    return {
        "upload_id": u.upload_id,
        "file_id": u.file_id,
        "version_id": u.version_id,
        "path": u.path,
        "mode": u.mode.value,
        "size": u.size,
        "part_size": u.part_size,
        "part_count": u.part_count,
        "parts": [{"part_number": p.part_number, "url": p.url} for p in ticket.urls],
        "urls_expire_at": iso(ticket.url_expires_at),
        "expires_at": iso(u.expires_at),
    }


def download_view(ticket: DownloadTicket) -> dict[str, Any]:
    return {"url": ticket.url, "expires_at": iso(ticket.expires_at), "file": file_view(ticket.file)}


def inline_batch_json(results: Sequence[InlineDownload | ApiError]) -> EncodedJson:
    """``{"items": [{"download": {"file": ..., "content": BASE64}} | {"error": ...}]}``, in
    the order of the request, as JSON made without passing the contents through the encoder:
    JSON never escapes base64, and scanning up to 2 MiB of it per answer was a quarter of the
    CPU of serving a batch."""
    parts = []
    for r in results:
        if isinstance(r, ApiError):
            parts.append(_json({"error": _error_view(r)}))
        else:
            content = base64.b64encode(r.content).decode("ascii")
            parts.append(
                f'{{"download": {{"file": {_json(file_view(r.file))}, "content": "{content}"}}}}'
            )
    return EncodedJson('{"items": [' + ", ".join(parts) + "]}")


def inline_batch_framed(results: Sequence[InlineDownload | ApiError]) -> bytes:
    """The answer in ``FRAMED_BATCH_TYPE`` (the items as in ``inline_batch_json``, each
    download with ``length`` instead of ``content``): no base64 to make or undo."""
    items: list[dict[str, Any]] = []
    contents: list[bytes] = []
    for r in results:
        if isinstance(r, ApiError):
            items.append({"error": _error_view(r)})
        else:
            items.append({"download": {"file": file_view(r.file), "length": len(r.content)}})
            contents.append(r.content)
    # No newline can be in the line: json.dumps escapes the ones strings hold.
    return b"".join([_json({"items": items}).encode("utf-8"), b"\n", *contents])


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def change_view(c: ChangeRecord) -> dict[str, Any]:
    return {
        "seq": c.seq,
        "op": c.op.value,
        "file_id": c.file_id,
        "path": c.path,
        "old_path": c.old_path,
        "version_id": c.version_id,
        "size": c.size,
        "sha256": c.sha256,
        "at": iso(c.at),
    }


def changes_view(page: ChangesPage) -> dict[str, Any]:
    return {
        "changes": [change_view(c) for c in page.changes],
        "cursor": page.cursor,
        "has_more": page.has_more,
        "epoch": page.epoch,
    }


def share_view(view: ShareView, now_ms: int) -> dict[str, Any]:
    s: ShareRecord = view.share
    if s.revoked_at is not None:
        state = "revoked"
    elif now_ms >= s.expires_at:
        state = "expired"
    elif s.max_downloads is not None and s.downloads >= s.max_downloads:
        state = "exhausted"
    else:
        state = "active"
    return {
        "share_id": s.share_id,
        "file_id": s.file_id,
        "path": view.path,
        "url": view.url,
        "created_at": iso(s.created_at),
        "expires_at": iso(s.expires_at),
        "has_password": s.password_hash is not None,
        "max_downloads": s.max_downloads,
        "downloads": s.downloads,
        "revoked_at": iso(s.revoked_at),
        "last_accessed_at": iso(s.last_accessed_at),
        "watermark": s.watermark,
        "state": state,
    }


def account_view(a: Account) -> dict[str, Any]:
    return {
        "user_id": a.user_id,
        "username": a.username,
        "groups": a.groups,
        "quota_bytes": a.quota_bytes,
        "used_bytes": a.used_bytes,
    }


def preview_view(t: PreviewTicket) -> dict[str, Any]:
    return {
        "url": t.url,
        "expires_at": iso(t.expires_at),
        "size": t.kind,
        "width": t.width,
        "height": t.height,
    }


def notification_view(n: NotificationRecord) -> dict[str, Any]:
    return {
        "notification_id": n.notification_id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "file_id": n.file_id,
        "share_id": n.share_id,
        "created_at": iso(n.created_at),
        "read": n.read_at is not None,
    }


def inbox_view(page: InboxPage) -> dict[str, Any]:
    return {
        "items": [notification_view(n) for n in page.items],
        "cursor": page.cursor,
        "has_more": page.has_more,
    }


def subscription_view(s: SubscriptionRecord) -> dict[str, Any]:
    return {
        "subscription_id": s.subscription_id,
        "protocol": s.protocol,
        "endpoint": s.endpoint,
        "created_at": iso(s.created_at),
    }
