"""Every route of the HTTP API: one list shared by the CDK app, the local gateway and handlers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    # Routes of one group are served by one Lambda function.
    group: str
    operation: str
    public: bool = False

    @property
    def key(self) -> str:
        """API Gateway's ``routeKey``."""
        return f"{self.method} {self.path}"

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        return re.compile(f"^{regex}$")


ROUTES: Final[tuple[Route, ...]] = (
    Route("POST", "/uploads", "uploads", "initiate_upload"),
    Route("POST", "/uploads/{upload_id}/parts", "uploads", "upload_part_urls"),
    Route("POST", "/uploads/{upload_id}/complete", "uploads", "complete_upload"),
    Route("DELETE", "/uploads/{upload_id}", "uploads", "abort_upload"),
    Route("POST", "/upload-batches", "uploads", "initiate_upload_batch"),
    Route("POST", "/upload-batches/complete", "uploads", "complete_upload_batch"),
    # Small files with their bytes in the request: one call records them.
    Route("POST", "/upload-batches/inline", "uploads", "upload_inline_batch"),
    Route("GET", "/files", "files", "list_files"),
    Route("GET", "/files/{file_id}", "files", "get_file"),
    Route("PATCH", "/files/{file_id}", "files", "move_file"),
    Route("DELETE", "/files/{file_id}", "files", "trash_file"),
    Route("GET", "/files/{file_id}/download", "files", "download_file"),
    Route("POST", "/download-batches", "files", "download_batch"),
    # Small files with their bytes in the answer: one call downloads them.
    Route("POST", "/download-batches/inline", "files", "download_inline_batch"),
    Route("GET", "/files/{file_id}/preview", "files", "get_preview"),
    Route("GET", "/files/{file_id}/versions", "files", "list_versions"),
    Route("POST", "/files/{file_id}/versions/{version_id}/restore", "files", "restore_version"),
    Route("GET", "/trash", "files", "list_trash"),
    Route("POST", "/trash/{file_id}/restore", "files", "restore_from_trash"),
    # Delete for good: one trashed file, or a page of the trash (the client repeats the call).
    Route("DELETE", "/trash/{file_id}", "files", "purge_from_trash"),
    Route("POST", "/trash/empty", "files", "empty_trash"),
    Route("GET", "/changes", "files", "list_changes"),
    Route("POST", "/shares", "shares", "create_share"),
    Route("GET", "/shares", "shares", "list_shares"),
    Route("DELETE", "/shares/{share_id}", "shares", "revoke_share"),
    Route("GET", "/s/{token}", "public", "resolve_share", public=True),
    Route("GET", "/me", "account", "get_me"),
    Route("GET", "/notifications", "notifications", "list_notifications"),
    Route("POST", "/notifications/ack", "notifications", "ack_notifications"),
    Route("GET", "/notifications/subscriptions", "notifications", "list_subscriptions"),
    Route("POST", "/notifications/subscriptions", "notifications", "create_subscription"),
    Route(
        "DELETE",
        "/notifications/subscriptions/{subscription_id}",
        "notifications",
        "delete_subscription",
    ),
    # Administration: the caller must be in the admins group (403 otherwise).
    Route("GET", "/admin/users", "admin", "list_admin_users"),
    Route("PUT", "/admin/users/{user_id}/quota", "admin", "set_user_quota"),
    Route("POST", "/admin/users/{user_id}/disable", "admin", "disable_user"),
    Route("POST", "/admin/users/{user_id}/enable", "admin", "enable_user"),
)

GROUPS: Final[tuple[str, ...]] = tuple(dict.fromkeys(r.group for r in ROUTES))


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.pattern().match(path)
        if found:
            return route, found.groupdict()
    return None


def path_exists(path: str) -> bool:
    return any(route.pattern().match(path) for route in ROUTES)
