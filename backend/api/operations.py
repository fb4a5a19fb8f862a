"""One function per API operation: parse the request, call the logic, shape the response."""

from __future__ import annotations

import re
from collections.abc import Callable

from backend.api import views
from backend.api.http import ApiRequest, ApiResponse
from backend.errors import NotFound
from backend.logic import account, changes, files, shares, uploads
from backend.logic.context import Services
from backend.logic.inputs import (
    CompleteUpload,
    CreateShare,
    InitiateUpload,
    MoveFile,
    PartNumbers,
    RestoreFromTrash,
)

Operation = Callable[[Services, ApiRequest], ApiResponse]
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


OPERATIONS: dict[str, Operation] = {
    name: fn
    for name, fn in globals().items()
    if callable(fn) and getattr(fn, "__module__", None) == __name__ and not name.startswith("_")
}
