"""Administration: the users of the pool with their storage, quotas, disabling accounts.

Every function here needs the caller to be in the ``admins`` group (403 ``forbidden``
otherwise). Users come from the user directory (Cognito); quota and usage from each user's
profile in the metadata table. A user who never called the API has no profile yet: they are
listed with the default quota and nothing used, and listing creates nothing.

Quotas may be set below what a user already stores: nothing is deleted, but every upload
that would add bytes is refused (413 ``quota_exceeded``) until usage is under the quota again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from backend import naming
from backend.data import keys
from backend.data.directory import USER_ID, DirectoryUser, UserDirectory
from backend.data.records import Profile
from backend.errors import Conflict, Forbidden, NotFound
from backend.logic import files
from backend.logic.context import Caller, Services
from backend.logic.files import Page
from backend.logic.inputs import Body

# 1 PiB: far above any real quota, low enough that a typo of a few digits is refused.
MAX_QUOTA_BYTES = 1024**5
_CURSOR_TAG = "a1:"


class SetQuota(Body):
    quota_bytes: Annotated[int, Field(ge=1, le=MAX_QUOTA_BYTES)]


@dataclass(frozen=True)
class AdminUser:
    user: DirectoryUser
    quota_bytes: int
    used_bytes: int


def require_admin(caller: Caller) -> None:
    if naming.ADMINS_GROUP not in caller.groups:
        raise Forbidden(
            f"only administrators (members of the '{naming.ADMINS_GROUP}' group) may do this"
        )


def _directory(svc: Services) -> UserDirectory:
    if svc.directory is None:
        # A deployment fault (the function has no user pool), not the caller's: a logged 500.
        raise RuntimeError("the admin API has no user directory configured")
    return svc.directory


def encode_cursor(token: str | None) -> str | None:
    return files.encode_cursor(token, tag=_CURSOR_TAG)


def decode_cursor(cursor: str | None) -> str | None:
    """The directory's pagination token inside a cursor this API issued for this listing."""
    return files.decode_cursor(cursor, "", tag=_CURSOR_TAG)


def _with_usage(svc: Services, users: list[DirectoryUser]) -> list[AdminUser]:
    """Each user with their quota and usage; read only (no profile is created)."""
    wanted = [keys.profile(u.user_id) for u in users if u.user_id]
    profiles = svc.store.get_many(Profile, wanted)
    out = []
    for u in users:
        profile = profiles.get(keys.profile(u.user_id)) if u.user_id else None
        if profile is None:
            out.append(AdminUser(u, svc.config.default_quota_bytes, 0))
        else:
            out.append(AdminUser(u, profile.quota_bytes, profile.used_bytes))
    return out


def list_users(svc: Services, caller: Caller, *, cursor: str | None, limit: int) -> Page[AdminUser]:
    require_admin(caller)
    page = _directory(svc).list_users(limit=limit, token=decode_cursor(cursor))
    return Page(_with_usage(svc, page.users), encode_cursor(page.next_token))


def _find(svc: Services, user_id: str) -> DirectoryUser:
    found = _directory(svc).find_user(user_id) if USER_ID.match(user_id) else None
    if found is None:
        raise NotFound("no such user")
    return found


def set_quota(svc: Services, caller: Caller, user_id: str, body: SetQuota) -> AdminUser:
    require_admin(caller)
    user = _find(svc, user_id)
    key = keys.profile(user.user_id)
    svc.store.profile(user.user_id)  # created with the default quota if it did not exist
    changed = svc.store.update_counter(key, add={}, set_values={"quota_bytes": body.quota_bytes})
    if not changed:  # only if the profile vanished in between: nothing deletes profiles
        raise Conflict("the user's profile changed concurrently; try again")
    profile = svc.store.profile(user.user_id)
    return AdminUser(user, profile.quota_bytes, profile.used_bytes)


def set_enabled(svc: Services, caller: Caller, user_id: str, *, enabled: bool) -> AdminUser:
    """Enables or disables the account. Disabling also signs the user out everywhere: no
    new session and no refresh; an access token already issued lasts until it expires."""
    require_admin(caller)
    if not enabled and user_id == caller.user_id:
        raise Conflict(
            "you cannot disable your own account; ask another administrator",
            code="cannot_disable_self",
        )
    user = _find(svc, user_id)
    directory = _directory(svc)
    directory.set_enabled(user.username, enabled)
    if not enabled:
        directory.sign_out_everywhere(user.username)
    updated = dataclasses.replace(user, enabled=enabled)
    return _with_usage(svc, [updated])[0]
