"""``filevault admin users | quota | disable | enable`` (members of the admins group only)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from filevault_desktop.api.models import AdminUser
from filevault_desktop.cli.main import handles_errors, json_option, profile_option, service
from filevault_desktop.cli.output import emit, fail
from filevault_desktop.errors import ApiError
from filevault_desktop.sizes import format_size, parse_size

F = TypeVar("F", bound=Callable[..., Any])
NOT_ADMIN = (
    "you are not a FileVault administrator: only members of the 'admins' group can manage "
    "users (ask an administrator to add you)"
)


def _admins_only(fn: F) -> F:
    """A 403 from the admin API says who may do this (exit 6, refused by the server)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            if exc.status == 403:
                fail(NOT_ADMIN, exc.exit_code)
            raise

    return wrapper  # type: ignore[return-value]


class SizeType(click.ParamType[int, Any]):
    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            size = parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if size <= 0:
            self.fail("a quota must be more than 0 bytes", param, ctx)
        return size


def usage_text(user: AdminUser) -> str:
    share = f" ({user.used_bytes / user.quota_bytes:.0%})" if user.quota_bytes else ""
    return f"{format_size(user.used_bytes)} of {format_size(user.quota_bytes)}{share}"


def _table(users: list[AdminUser]) -> str:
    rows = [("USERNAME", "STATE", "STATUS", "GROUPS", "EMAIL", "STORAGE")]
    for u in users:
        rows.append(
            (
                u.username,
                "enabled" if u.enabled else "DISABLED",
                u.status,
                ",".join(u.groups) or "-",
                u.email or "-",
                usage_text(u),
            )
        )
    # Every column padded to its widest cell but the last.
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


@click.group("admin")
def admin() -> None:
    """Administration (members of the 'admins' group): users, quotas, disabling accounts."""


@admin.command("users")
@profile_option
@json_option
@handles_errors
@_admins_only
def users(profile: str | None, as_json: bool) -> None:
    """List every user with their groups, status and storage (used of quota)."""
    found = service(profile).admin_users()
    emit(found, as_json=as_json, text=_table(found) if found else "(no users)")


@admin.command("quota")
@click.argument("user")
@click.argument("size", type=SizeType())
@profile_option
@json_option
@handles_errors
@_admins_only
def quota(user: str, size: int, profile: str | None, as_json: bool) -> None:
    """Set USER's storage quota to SIZE, like 10GiB, 500MB or 2T.

    USER is a username or a user id. A quota below what the user already stores keeps their
    files but refuses their uploads until they are under it again.
    """
    svc = service(profile)
    target = svc.admin_user(user)
    updated = svc.set_user_quota(target.user_id, size)
    text = f"{updated.username}: quota {format_size(updated.quota_bytes)}; {usage_text(updated)}"
    if updated.used_bytes > updated.quota_bytes:
        text += "\nwarning: over the new quota; their uploads are refused until they free space"
    emit(updated, as_json=as_json, text=text)


def _set_enabled(user: str, enabled: bool, profile: str | None, as_json: bool) -> None:
    svc = service(profile)
    target = svc.admin_user(user)
    updated = svc.set_user_enabled(target.user_id, enabled)
    if enabled:
        text = f"enabled {updated.username}: they can sign in again"
    else:
        text = f"disabled {updated.username}: signed out everywhere, sign-in refused"
    emit(updated, as_json=as_json, text=text)


@admin.command("disable")
@click.argument("user")
@profile_option
@json_option
@handles_errors
@_admins_only
def disable(user: str, profile: str | None, as_json: bool) -> None:
    """Disable USER's account and sign them out everywhere (their files are kept).

    Sessions end at their next token refresh (within an hour). You cannot disable yourself.
    """
    _set_enabled(user, False, profile, as_json)


@admin.command("enable")
@click.argument("user")
@profile_option
@json_option
@handles_errors
@_admins_only
def enable(user: str, profile: str | None, as_json: bool) -> None:
    """Enable USER's account again."""
    _set_enabled(user, True, profile, as_json)
