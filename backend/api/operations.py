"""One function per API operation: parse the request, call the logic, shape the response."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from backend.api import admin_operations, views
from backend.api.http import FRAMED_BATCH_TYPE, ApiRequest, ApiResponse, parse_item
from backend.errors import ApiError, BadRequest, NotFound
from backend.logic import (
    account,
    changes,
    download_batches,
    files,
    notifications,
    processing_info,
    shares,
    trash,
    upload_batches,
    uploads,
)
from backend.logic.context import Services
from backend.logic.inputs import (
    INLINE_BATCH_BYTES,
    AckNotifications,
    CompleteBatch,
    CompleteBatchItem,
    CompleteUpload,
    CreateShare,
    CreateSubscription,
    DownloadBatch,
    EmptyTrash,
    InitiateBatch,
    InitiateUpload,
    InlineBatch,
    InlineFile,
    InlineJsonFile,
    MoveFile,
    PartNumbers,
    RestoreFromTrash,
)

Operation = Callable[[Services, ApiRequest], ApiResponse]
# base64 grows the bytes by a third; paths and checksums need the rest.
# Room for the items' JSON besides their bytes (100 items with long names).
INLINE_HEAD_BYTES = 512 * 1024
INLINE_BODY_BYTES = INLINE_BATCH_BYTES * 4 // 3 + INLINE_HEAD_BYTES
_ID = re.compile(r"^[a-z]_[0-9a-f]{24}$")
_VERSION = re.compile(r"^v[0-9a-f]{21}$")


def _id(req: ApiRequest, name: str, pattern: re.Pattern[str] = _ID) -> str:
    value = req.path_params.get(name, "")
    if not pattern.match(value):
        # Malformed ids cannot exist: the same answer as for someone else's id.
        raise NotFound(f"no such {name.removesuffix('_id')}")
    return value


def initiate_upload(svc: Services, req: ApiRequest) -> ApiResponse:
    ticket = uploads.initiate(svc, req.caller(), req.json_body(InitiateUpload))
    return ApiResponse(201, views.upload_view(ticket))


def upload_part_urls(svc: Services, req: ApiRequest) -> ApiResponse:
    body = req.json_body(PartNumbers)
    ticket = uploads.part_urls(svc, req.caller(), _id(req, "upload_id"), body)
    return ApiResponse(200, views.upload_view(ticket))


def complete_upload(svc: Services, req: ApiRequest) -> ApiResponse:
    body = req.json_body(CompleteUpload)
    record = uploads.complete(svc, req.caller(), _id(req, "upload_id"), body)
    return ApiResponse(200, views.file_view(record))


def abort_upload(svc: Services, req: ApiRequest) -> ApiResponse:
    uploads.abort(svc, req.caller(), _id(req, "upload_id"))
    return ApiResponse(204)


def initiate_upload_batch(svc: Services, req: ApiRequest) -> ApiResponse:
    body = req.json_body(InitiateBatch)
    items = [parse_item(InitiateUpload, raw) for raw in body.files]
    results = upload_batches.initiate_batch(svc, req.caller(), items)
    return ApiResponse(200, views.batch_view(results, "upload", views.upload_view))


def complete_upload_batch(svc: Services, req: ApiRequest) -> ApiResponse:
    body = req.json_body(CompleteBatch)
    items: list[upload_batches.CompleteItem | ApiError] = []
    for raw in body.uploads:
        parsed = parse_item(CompleteBatchItem, raw)
        if isinstance(parsed, ApiError):
            items.append(parsed)
        else:
            rest = CompleteUpload(parts=parsed.parts, sha256=parsed.sha256)
            items.append(upload_batches.CompleteItem(parsed.upload_id, rest))
    results = upload_batches.complete_batch(svc, req.caller(), items)
    return ApiResponse(200, views.batch_view(results, "file", views.file_view))


def upload_inline_batch(svc: Services, req: ApiRequest) -> ApiResponse:
    if req.headers.get("content-type", "").startswith(FRAMED_BATCH_TYPE):
        items, contents = _framed_inline_files(req)
    else:
        items, contents = _json_inline_files(req)
    results = upload_batches.upload_inline(svc, req.caller(), items, contents)
    return ApiResponse(200, views.batch_view(results, "file", views.file_view))


InlineFiles = tuple[list[InlineFile | ApiError], list[bytes | None]]


def _json_inline_files(req: ApiRequest) -> InlineFiles:
    body = req.json_body(InlineBatch, limit=INLINE_BODY_BYTES)
    items: list[InlineFile | ApiError] = []
    contents: list[bytes | None] = []
    for raw in body.files:
        item = parse_item(InlineJsonFile, raw)
        data = None
        if isinstance(item, InlineJsonFile):
            try:
                data = base64.b64decode(item.content, validate=True)
            except (binascii.Error, ValueError):
                item = BadRequest(
                    f"the content of '{item.path}' is not valid base64", code="invalid_content"
                )
        items.append(item)
        contents.append(data)
    return items, contents


def _framed_inline_files(req: ApiRequest) -> InlineFiles:
    """The items of the JSON line, each with the next ``size`` bytes after it. A size that
    is not a whole number, or bytes that do not add up, break the framing: the whole body is
    refused, since no item's bytes can be told apart."""
    body, rest = req.framed_body(InlineBatch, limit=INLINE_BATCH_BYTES + INLINE_HEAD_BYTES)
    items: list[InlineFile | ApiError] = []
    contents: list[bytes | None] = []
    offset = 0
    for raw in body.files:
        size = raw.get("size") if isinstance(raw, dict) else None
        if type(size) is not int or size < 0 or offset + size > len(rest):
            raise BadRequest(
                "each file needs its size in bytes, and the bytes after the JSON line must "
                "be the files' bytes one after another",
                code="bad_framing",
            )
        items.append(parse_item(InlineFile, raw))
        contents.append(rest[offset : offset + size])
        offset += size
    if offset != len(rest):
        raise BadRequest(
            f"{len(rest) - offset} bytes follow the last file's bytes", code="bad_framing"
        )
    return items, contents


def list_files(svc: Services, req: ApiRequest) -> ApiResponse:
    page = files.list_files(
        svc,
        req.caller(),
        prefix=req.query.get("prefix"),
        cursor=req.query.get("cursor"),
        limit=files.page_size(req.query.get("limit")),
    )
    return ApiResponse(200, views.files_page_view(page))


def get_file(svc: Services, req: ApiRequest) -> ApiResponse:
    return ApiResponse(200, views.file_view(files.get_file(svc, req.caller(), _id(req, "file_id"))))


def move_file(svc: Services, req: ApiRequest) -> ApiResponse:
    body = req.json_body(MoveFile)
    return ApiResponse(
        200, views.file_view(files.move(svc, req.caller(), _id(req, "file_id"), body))
    )


def trash_file(svc: Services, req: ApiRequest) -> ApiResponse:
    return ApiResponse(200, views.file_view(files.trash(svc, req.caller(), _id(req, "file_id"))))


def download_file(svc: Services, req: ApiRequest) -> ApiResponse:
    ticket = files.download(svc, req.caller(), _id(req, "file_id"))
    return ApiResponse(200, views.download_view(ticket))


def download_batch(svc: Services, req: ApiRequest) -> ApiResponse:
    body = req.json_body(DownloadBatch)
    results = files.download_batch(svc, req.caller(), list(body.file_ids))
    return ApiResponse(200, views.batch_view(results, "download", views.download_view))


def download_inline_batch(svc: Services, req: ApiRequest) -> ApiResponse:
    body = req.json_body(DownloadBatch)
    results = download_batches.download_inline(svc, req.caller(), list(body.file_ids))
    if FRAMED_BATCH_TYPE in req.headers.get("accept", ""):
        framed = views.inline_batch_framed(results)
        return ApiResponse(200, framed, {"content-type": FRAMED_BATCH_TYPE})
    return ApiResponse(200, views.inline_batch_json(results))


def list_versions(svc: Services, req: ApiRequest) -> ApiResponse:
    caller, file_id = req.caller(), _id(req, "file_id")
    current = files.get_file(svc, caller, file_id).version_id
    items = [views.version_view(v, current) for v in files.list_versions(svc, caller, file_id)]
    return ApiResponse(200, {"items": items})


def restore_version(svc: Services, req: ApiRequest) -> ApiResponse:
    record = files.restore_version(
        svc, req.caller(), _id(req, "file_id"), _id(req, "version_id", _VERSION)
    )
    return ApiResponse(200, views.file_view(record))


def list_trash(svc: Services, req: ApiRequest) -> ApiResponse:
    page = files.list_trash(
        svc,
        req.caller(),
        cursor=req.query.get("cursor"),
        limit=files.page_size(req.query.get("limit")),
    )
    return ApiResponse(200, views.files_page_view(page))


def restore_from_trash(svc: Services, req: ApiRequest) -> ApiResponse:
    body = req.json_body(RestoreFromTrash)
    record = files.restore_from_trash(svc, req.caller(), _id(req, "file_id"), body)
    return ApiResponse(200, views.file_view(record))


def purge_from_trash(svc: Services, req: ApiRequest) -> ApiResponse:
    purged = trash.purge_file(svc, req.caller(), _id(req, "file_id"))
    return ApiResponse(200, views.purged_view(purged))


def empty_trash(svc: Services, req: ApiRequest) -> ApiResponse:
    body = req.json_body(EmptyTrash)
    page = trash.empty_trash(svc, req.caller(), before=body.before_ms(), cursor=body.cursor)
    return ApiResponse(200, views.empty_trash_view(page))


def list_changes(svc: Services, req: ApiRequest) -> ApiResponse:
    page = changes.changes_since(
        svc, req.caller(), req.query.get("cursor"), files.page_size(req.query.get("limit"))
    )
    return ApiResponse(200, views.changes_view(page))


def create_share(svc: Services, req: ApiRequest) -> ApiResponse:
    view = shares.create(svc, req.caller(), req.json_body(CreateShare))
    return ApiResponse(201, views.share_view(view, svc.now_ms()))


def list_shares(svc: Services, req: ApiRequest) -> ApiResponse:
    items = [views.share_view(v, svc.now_ms()) for v in shares.list_shares(svc, req.caller())]
    return ApiResponse(200, {"items": items})


def revoke_share(svc: Services, req: ApiRequest) -> ApiResponse:
    view = shares.revoke(svc, req.caller(), _id(req, "share_id"))
    return ApiResponse(200, views.share_view(view, svc.now_ms()))


def resolve_share(svc: Services, req: ApiRequest) -> ApiResponse:
    password = req.headers.get("x-share-password") or req.query.get("password")
    resolved = shares.resolve(svc, req.path_params.get("token", ""), password)
    return ApiResponse(302, None, {"location": resolved.url})


def get_me(svc: Services, req: ApiRequest) -> ApiResponse:
    return ApiResponse(200, views.account_view(account.me(svc, req.caller())))


def get_preview(svc: Services, req: ApiRequest) -> ApiResponse:
    ticket = processing_info.preview(svc, req.caller(), _id(req, "file_id"), req.query.get("size"))
    return ApiResponse(200, views.preview_view(ticket))


def list_notifications(svc: Services, req: ApiRequest) -> ApiResponse:
    page = notifications.list_inbox(
        svc, req.caller(), req.query.get("cursor"), files.page_size(req.query.get("limit"))
    )
    return ApiResponse(200, views.inbox_view(page))


def ack_notifications(svc: Services, req: ApiRequest) -> ApiResponse:
    changed = notifications.ack(svc, req.caller(), req.json_body(AckNotifications))
    return ApiResponse(200, {"acknowledged": changed})


def list_subscriptions(svc: Services, req: ApiRequest) -> ApiResponse:
    subs = notifications.list_subscriptions(svc, req.caller())
    return ApiResponse(200, {"items": [views.subscription_view(s) for s in subs]})


def create_subscription(svc: Services, req: ApiRequest) -> ApiResponse:
    sub = notifications.subscribe(svc, req.caller(), req.json_body(CreateSubscription))
    return ApiResponse(201, views.subscription_view(sub))


def delete_subscription(svc: Services, req: ApiRequest) -> ApiResponse:
    notifications.unsubscribe(svc, req.caller(), _id(req, "subscription_id"))
    return ApiResponse(204)


OPERATIONS: dict[str, Operation] = {
    name: fn
    for name, fn in globals().items()
    if callable(fn) and getattr(fn, "__module__", None) == __name__ and not name.startswith("_")
}
OPERATIONS.update(admin_operations.OPERATIONS)  # the admin group's own module
