"""What the bridge tells the widgets: frozen dataclasses carried by its Qt signals."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from filevault_desktop.api.models import Account, AdminUser, RemoteFile, Share, Version
from filevault_desktop.remote import RemoteEntry
from filevault_desktop.transfer.events import Direction, TransferEvent


class Problem(enum.Enum):
    """Why a call failed, as far as the UI needs to know to say what to do."""

    WRONG_CREDENTIALS = "wrong_credentials"
    NOT_SIGNED_IN = "not_signed_in"
    UNREACHABLE = "unreachable"
    NO_KEYCHAIN = "no_keychain"
    NO_PROFILE = "no_profile"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    QUOTA = "quota"
    REFUSED = "refused"
    SYNC_NOT_CONFIGURED = "sync_not_configured"
    BUG = "bug"


@dataclass(frozen=True)
class Failure:
    """A facade call that failed: ``operation`` names it for the issues list."""

    operation: str
    problem: Problem
    message: str
    path: str = ""


@dataclass(frozen=True)
class SignedInInfo:
    profile: str
    account: Account

    @property
    def is_admin(self) -> bool:
        return "admins" in self.account.groups


@dataclass(frozen=True)
class FolderListing:
    folder: str  # "" is the root
    entries: tuple[RemoteEntry, ...]
    # file id -> number of active share links / of versions (None: not counted)
    shared: dict[str, int]
    versions: dict[str, int]
    # Requests are numbered: an answer older than the one on screen is dropped.
    seq: int = 0


@dataclass(frozen=True)
class JobQueued:
    """Transfers of one dropped item (a file, or a folder with everything in it)."""

    job_id: int
    direction: Direction
    source: str
    target: str


@dataclass(frozen=True)
class JobEvent:
    job_id: int
    event: TransferEvent


@dataclass(frozen=True)
class JobDone:
    job_id: int
    direction: Direction
    source: str
    target: str
    done: tuple[str, ...]  # remote paths (uploads) or local paths (downloads) that arrived
    failed: tuple[tuple[str, str], ...]  # (path, message) not covered by a TransferFailed
    cancelled: bool


@dataclass(frozen=True)
class FileShares:
    path: str
    file_id: str
    shares: tuple[Share, ...]


@dataclass(frozen=True)
class ShareCreated:
    path: str
    share: Share
    purpose: str  # "dialog" or "copy" (the tray's one-click copy)


@dataclass(frozen=True)
class FileVersions:
    path: str
    versions: tuple[Version, ...]


@dataclass(frozen=True)
class RecentFile:
    path: str
    name: str
    modified_at: str
    local: Path | None = None


@dataclass(frozen=True)
class AdminUsers:
    """Every user of the pool, for the admin window."""

    users: tuple[AdminUser, ...]


@dataclass(frozen=True)
class AdminUserChanged:
    """An admin action went through: the user as the server now has them."""

    user: AdminUser
    what: str  # for people: "quota set to 10 GiB", "disabled", ...


@dataclass(frozen=True)
class RemoteChanged:
    """A folder whose listing is stale after a rename, move, delete or restore."""

    folder: str
    what: str


@dataclass(frozen=True)
class TrashListing:
    """The files in the trash, newest first; numbered like folder listings."""

    files: tuple[RemoteFile, ...]
    seq: int = 0


@dataclass(frozen=True)
class TrashChanged:
    """A trash action went through, for some files at least: ``operation`` is "restore",
    "delete forever" or "empty the trash"; ``done`` the paths it restored or deleted."""

    operation: str
    done: tuple[str, ...]
    failed: tuple[Failure, ...] = ()
    freed_bytes: int = 0
