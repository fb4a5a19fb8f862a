"""The admin route group's operations and response shapes (``openapi.yaml``: tag ``admin``).

Merged into ``backend.api.operations.OPERATIONS``; the logic is ``backend.logic.admin``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.api.http import ApiRequest, ApiResponse
from backend.api.views import iso
from backend.logic import admin
from backend.logic.context import Services
from backend.logic.files import Page, page_size

Operation = Callable[[Services, ApiRequest], ApiResponse]


def admin_user_view(a: admin.AdminUser) -> dict[str, Any]:
    u = a.user
    return {
        "user_id": u.user_id,
        "username": u.username,
        "email": u.email,
        "groups": list(u.groups),
        "enabled": u.enabled,
        "status": u.status,
        "created_at": iso(u.created_at),
        "quota_bytes": a.quota_bytes,
        "used_bytes": a.used_bytes,
    }


def admin_users_page_view(page: Page[admin.AdminUser]) -> dict[str, Any]:
    return {"items": [admin_user_view(u) for u in page.items], "cursor": page.cursor}


def _user_id(req: ApiRequest) -> str:
    # Malformed ids get the same 404 as unknown ones (backend.logic.admin checks the form).
    return req.path_params.get("user_id", "")


def list_admin_users(svc: Services, req: ApiRequest) -> ApiResponse:
    caller = req.caller()
    admin.require_admin(caller)  # before looking at the query: nothing to learn from a 400
    page = admin.list_users(
        svc, caller, cursor=req.query.get("cursor"), limit=page_size(req.query.get("limit"))
    )
    return ApiResponse(200, admin_users_page_view(page))


def set_user_quota(svc: Services, req: ApiRequest) -> ApiResponse:
    caller = req.caller()
    admin.require_admin(caller)
    user = admin.set_quota(svc, caller, _user_id(req), req.json_body(admin.SetQuota))
    return ApiResponse(200, admin_user_view(user))


def disable_user(svc: Services, req: ApiRequest) -> ApiResponse:
    user = admin.set_enabled(svc, req.caller(), _user_id(req), enabled=False)
    return ApiResponse(200, admin_user_view(user))


def enable_user(svc: Services, req: ApiRequest) -> ApiResponse:
    user = admin.set_enabled(svc, req.caller(), _user_id(req), enabled=True)
    return ApiResponse(200, admin_user_view(user))


OPERATIONS: dict[str, Operation] = {
    "list_admin_users": list_admin_users,
    "set_user_quota": set_user_quota,
    "disable_user": disable_user,
    "enable_user": enable_user,
}
