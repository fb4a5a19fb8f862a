"""Administration on the real local stack: list users, set a quota that the user's uploads then
meet, disable an account (the real SRP sign-in and the session refresh are refused), enable it
again. Through the facade, as the app and the CLI use it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from filevault_desktop.errors import ApiError, AuthError, ConflictError, NotFoundError, QuotaError
from filevault_desktop.service import FileVaultService
from tests.integration.helpers import upload_bytes
from tests.integration.stack import RunningStack, client, start_stack

pytestmark = pytest.mark.integration
MakeUser = Callable[..., tuple[FileVaultService, str, str]]
GiB = 1024**3


def test_list_quota_disable_enable(
    stack: RunningStack, make_user: MakeUser, tmp_path: Path
) -> None:
    admin, admin_name, _ = make_user(admin=True)
    user, username, password = make_user()

    # --- list: everyone, with groups, status and (default) usage
    users = {u.username: u for u in admin.admin_users()}
    assert {admin_name, username} <= set(users)
    me, target = users[admin_name], users[username]
    assert me.groups == ("admins",) and me.enabled and me.status == "CONFIRMED"
    assert target.groups == () and target.enabled
    assert target.user_id == user.whoami().account.user_id
    assert (target.quota_bytes, target.used_bytes) == (user.whoami().account.quota_bytes, 0)
    assert admin.admin_user(username.upper()) == target  # usernames ignore case
    assert admin.admin_user(target.user_id) == target

    # --- a user who is not an admin is refused, with a clear code
    with pytest.raises(ApiError) as refused:
        user.admin_users()
    assert (refused.value.status, refused.value.code) == (403, "forbidden")
    with pytest.raises(ApiError) as refused:
        user.set_user_quota(target.user_id, 10 * GiB)
    assert refused.value.status == 403

    # --- quota: the user's uploads meet it
    upload_bytes(user, "first.bin", b"a" * 1000)
    updated = admin.set_user_quota(target.user_id, 1500)
    assert (updated.quota_bytes, updated.used_bytes) == (1500, 1000)
    assert user.whoami().account.quota_bytes == 1500
    with pytest.raises(QuotaError) as over:
        upload_bytes(user, "too-big.bin", b"b" * 501)
    assert over.value.code == "quota_exceeded"
    upload_bytes(user, "fits.bin", b"c" * 500)  # exactly up to the quota
    lowered = admin.set_user_quota(target.user_id, 100)  # below usage: allowed, nothing fits
    assert (lowered.quota_bytes, lowered.used_bytes) == (100, 1500)
    with pytest.raises(QuotaError):
        upload_bytes(user, "one-byte.bin", b"d")
    with pytest.raises(ApiError) as bad:
        admin.set_user_quota(target.user_id, 0)
    assert (bad.value.status, bad.value.code) == (400, "validation_error")
    with pytest.raises(NotFoundError):
        admin.set_user_quota("00000000-0000-4000-8000-000000000000", GiB)

    # --- disable: not oneself; the user's sign-in and session refresh are refused
    with pytest.raises(ConflictError) as self_disable:
        admin.set_user_enabled(me.user_id, False)
    assert self_disable.value.code == "cannot_disable_self"
    disabled = admin.set_user_enabled(target.user_id, False)
    assert disabled.enabled is False
    assert not admin.admin_user(username).enabled
    with pytest.raises(AuthError, match="disabled"):
        client(stack, tmp_path / "again").login(username, password)  # the real SRP flow
    # The global sign-out revoked the refresh token: a session that needs a new access
    # token (here: one whose clock says the old one expired) cannot get it.
    later = FileVaultService(user.paths, "local", clock=lambda: time.time() + 2 * 3600)
    with pytest.raises(AuthError):
        later.access_token()

    # --- enable: signing in works again, with the quota kept
    enabled = admin.set_user_enabled(target.user_id, True)
    assert enabled.enabled is True and enabled.quota_bytes == 100
    back = client(stack, tmp_path / "back")
    assert back.login(username, password).account.quota_bytes == 100


def test_admin_listing_pages_through_every_user(stack: RunningStack, make_user: MakeUser) -> None:
    admin, _, _ = make_user(admin=True)
    everyone = [u.user_id for u in admin.admin_users()]
    assert len(everyone) == len(set(everyone)) >= 2
    paged = [u.user_id for u in admin.api.admin_users(page_size=1)]
    assert paged == everyone


def test_disabled_accounts_and_quotas_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "stack"
    stack = start_stack(data_dir)
    try:
        stack.add_user("root-r", "Correct-horse1", admin_user=True)
        stack.add_user("user-r", "Correct-horse1")
        admin = client(stack, tmp_path / "root")
        admin.login("root-r", "Correct-horse1")
        target = admin.admin_user("user-r")
        admin.set_user_quota(target.user_id, 12345)
        admin.set_user_enabled(target.user_id, False)
    finally:
        assert stack.stop() == 0

    stack = start_stack(data_dir)
    try:
        admin = client(stack, tmp_path / "root")  # the stored session is reused
        again = admin.admin_user("user-r")
        assert (again.user_id, again.enabled, again.quota_bytes) == (target.user_id, False, 12345)
        with pytest.raises(AuthError, match="disabled"):
            client(stack, tmp_path / "user").login("user-r", "Correct-horse1")
        admin.set_user_enabled(target.user_id, True)
        client(stack, tmp_path / "user").login("user-r", "Correct-horse1")
    finally:
        stack.stop()
