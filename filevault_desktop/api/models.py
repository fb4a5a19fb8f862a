"""What the API returns, as frozen dataclasses (field names follow openapi.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

T = TypeVar("T")


def _build(cls: type[T], raw: dict[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in raw.items() if k in names})


@dataclass(frozen=True)
class Account:
    user_id: str
    username: str
    groups: list[str]
    quota_bytes: int
    used_bytes: int

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Account:
        return _build(cls, raw)


@dataclass(frozen=True)
class AdminUser:
    """A user of the pool as the admin API lists them (``GET /admin/users``)."""

    user_id: str
    username: str
    email: str | None
    groups: tuple[str, ...]
    enabled: bool
    status: str  # Cognito's: CONFIRMED, FORCE_CHANGE_PASSWORD, ...
    created_at: str
    quota_bytes: int
    used_bytes: int

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AdminUser:
        return _build(cls, {**raw, "groups": tuple(str(g) for g in raw.get("groups", []))})


@dataclass(frozen=True)
class RemoteFile:
    file_id: str
    path: str
    name: str
    size: int
    content_type: str
    version_id: str
    etag: str
    created_at: str
    modified_at: str
    state: str
    trashed_at: str | None = None
    sha256: str | None = None
    change_seq: int | None = None  # the feed seq of the change that made it so

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RemoteFile:
        return _build(cls, raw)


@dataclass(frozen=True)
class PurgedFile:
    """A trashed file deleted for good, and what it counted against the quota."""

    file_id: str
    path: str
    released_bytes: int

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PurgedFile:
        return _build(cls, raw)


@dataclass(frozen=True)
class EmptyTrashPage:
    """One ``POST /trash/empty``: what it deleted, and how to go on (``cursor`` None: done)."""

    purged: list[PurgedFile]
    released_bytes: int
    cursor: str | None
    before: str

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> EmptyTrashPage:
        return cls(
            [PurgedFile.from_json(p) for p in raw["purged"]],
            int(raw["released_bytes"]),
            raw.get("cursor") or None,
            str(raw["before"]),
        )


@dataclass(frozen=True)
class Version:
    version_id: str
    size: int
    content_type: str
    etag: str
    created_at: str
    current: bool
    sha256: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Version:
        return _build(cls, raw)


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    url: str


@dataclass(frozen=True)
class UploadTicket:
    upload_id: str
    file_id: str
    version_id: str
    path: str
    mode: str
    size: int
    part_size: int
    part_count: int
    parts: list[PartUrl]
    urls_expire_at: str
    expires_at: str

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> UploadTicket:
        parts = [PartUrl(int(p["part_number"]), str(p["url"])) for p in raw.get("parts", [])]
        return _build(cls, {**raw, "parts": parts})


@dataclass(frozen=True)
class Change:
    seq: int
    op: str
    file_id: str
    path: str
    old_path: str | None
    version_id: str | None
    size: int | None
    at: str
    sha256: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Change:
        return _build(cls, raw)


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Change]
    cursor: str
    has_more: bool
    epoch: str

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ChangesPage:
        return cls(
            [Change.from_json(c) for c in raw["changes"]],
            str(raw["cursor"]),
            bool(raw["has_more"]),
            str(raw["epoch"]),
        )


@dataclass(frozen=True)
class Share:
    share_id: str
    file_id: str
    path: str | None
    url: str
    created_at: str
    expires_at: str
    has_password: bool
    max_downloads: int | None
    downloads: int
    revoked_at: str | None
    last_accessed_at: str | None
    state: str

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Share:
        return _build(cls, raw)


@dataclass(frozen=True)
class Notification:
    """An inbox item: a file processed, quarantined or failed; a share link opened or expiring."""

    notification_id: str
    kind: str
    title: str
    body: str
    file_id: str | None
    share_id: str | None
    created_at: str
    read: bool

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Notification:
        return _build(cls, raw)


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    cursor: str | None  # poll with it for what arrives next
    has_more: bool

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> NotificationPage:
        return cls(
            [Notification.from_json(n) for n in raw["items"]],
            raw.get("cursor"),
            bool(raw["has_more"]),
        )
