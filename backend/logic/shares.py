"""Share links: create, list, revoke, and the public resolver."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace

from backend.data import keys
from backend.data.records import FileRecord, FileState, ShareRecord
from backend.errors import Forbidden, Gone, NotFound, TooManyRequests, Unauthorized
from backend.logic import notifications
from backend.logic.context import Caller, Services, new_id
from backend.logic.files import active_file, refuse_quarantined
from backend.logic.inputs import CreateShare
from backend.logic.paths import name_of

MAX_FAILED_PASSWORDS = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    _, salt_hex, digest_hex = stored.split("$")
    candidate = hash_password(password, salt=bytes.fromhex(salt_hex)).split("$")[2]
    return hmac.compare_digest(candidate, digest_hex)


@dataclass(frozen=True)
class ShareView:
    share: ShareRecord
    url: str
    path: str | None


def share_url(svc: Services, token: str) -> str:
    return f"{svc.config.public_base_url}/s/{token}"


def create(svc: Services, caller: Caller, body: CreateShare) -> ShareView:
    record = active_file(svc, caller, body.file_id)
    now = svc.now_ms()
    token = secrets.token_urlsafe(32)
    share = ShareRecord(
        share_id=new_id("s"),
        file_id=record.file_id,
        token=token,
        created_at=now,
        expires_at=now + body.expires_in_seconds * 1000,
        password_hash=hash_password(body.password) if body.password else None,
        max_downloads=body.max_downloads,
        owner_id=caller.user_id,
        watermark=body.watermark,
    )
    svc.store.put_plain(
        keys.share(caller.user_id, share.share_id),
        share,
        gsi1pk=keys.share_token_key(token),
        gsi1sk="SHARE",
        # DynamoDB TTL drops the record a month after it expires.
        ttl=share.expires_at // 1000 + 30 * 24 * 3600,
    )
    notifications.schedule_share_reminder(svc, share)
    return ShareView(share, share_url(svc, token), record.path)


def list_shares(svc: Services, caller: Caller) -> list[ShareView]:
    shares = svc.store.iter_all(ShareRecord, keys.user_pk(caller.user_id), "S#")
    out = []
    for share in shares:
        record = svc.store.file(caller.user_id, share.file_id)
        out.append(ShareView(share, share_url(svc, share.token), record.path if record else None))
    out.sort(key=lambda v: v.share.created_at, reverse=True)
    return out


def revoke(svc: Services, caller: Caller, share_id: str) -> ShareView:
    share = svc.store.share(caller.user_id, share_id)
    if share is None:
        raise NotFound("no such share")
    if share.revoked_at is None:
        now = svc.now_ms()
        svc.store.update_counter(
            keys.share(caller.user_id, share_id), add={}, set_values={"revoked_at": now}
        )
        share = replace(share, revoked_at=now)
    record = svc.store.file(caller.user_id, share.file_id)
    return ShareView(share, share_url(svc, share.token), record.path if record else None)


@dataclass(frozen=True)
class ResolvedShare:
    url: str
    share: ShareRecord


def resolve(svc: Services, token: str, password: str | None) -> ResolvedShare:
    """Public: check the link and count the download, then hand out a short-lived URL."""
    if not 16 <= len(token) <= 128:
        raise NotFound("no such link")
    share = svc.store.share_by_token(token)
    if share is None or not hmac.compare_digest(share.token, token):
        raise NotFound("no such link")
    now = svc.now_ms()
    owner, key = share.owner_id, keys.share(share.owner_id, share.share_id)
    if share.revoked_at is not None:
        raise Gone("this link was revoked", code="share_revoked")
    if now >= share.expires_at:
        raise Gone("this link has expired", code="share_expired")
    if share.password_hash is not None:
        if share.failed_attempts >= MAX_FAILED_PASSWORDS:
            raise TooManyRequests(
                "too many wrong passwords; this link is locked", code="share_locked"
            )
        if not password:
            raise Unauthorized("this link needs a password", code="password_required")
        if not check_password(password, share.password_hash):
            svc.store.update_counter(key, add={"failed_attempts": 1})
            raise Forbidden("wrong password", code="wrong_password")
    file = svc.store.file(owner, share.file_id)
    if file is None or file.state is not FileState.ACTIVE:
        raise Gone("the shared file is no longer available", code="file_unavailable")
    refuse_quarantined(file)
    if share.max_downloads is not None:
        counted = svc.store.update_counter(
            key,
            add={"downloads": 1},
            set_values={"last_accessed_at": now},
            condition="#downloads < :max",
            values={":max": share.max_downloads},
        )
        if not counted:
            raise Gone("this link has reached its download limit", code="download_limit_reached")
    else:
        svc.store.update_counter(key, add={"downloads": 1}, set_values={"last_accessed_at": now})
    if share.last_accessed_at is None and svc.store.update_counter(
        key,
        add={},
        set_values={"first_opened_at": now},
        condition="attribute_not_exists(#first_opened_at)",
    ):
        notifications.share_opened(svc, share, file.path)
    bucket = svc.uploads
    if share.watermark and svc.config.watermark_access_point and _is_image(file):
        # Served through the watermarking Object Lambda: the stored original is never changed.
        bucket = svc.uploads.with_bucket(svc.config.watermark_access_point)
    url = bucket.presign_get(
        file.blob_key, 60, filename=name_of(file.path), content_type=file.content_type
    )
    return ResolvedShare(url, share)


def _is_image(file: FileRecord) -> bool:
    info = file.processing or {}
    detected = str(info.get("detected_type") or file.content_type)
    return detected.startswith("image/")
