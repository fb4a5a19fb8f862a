"""What the GUI needs from the sync engine: a small port, so the UI is built and tested
before the facade grows its sync methods.

Threading contract: the bridge calls every method on a worker thread, never on the UI thread,
so implementations may block on I/O. Subscribers may be called on any thread; the bridge
forwards notices to the UI thread through a queued Qt signal.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from filevault_desktop.errors import FileVaultError


class FolderState(enum.Enum):
    UP_TO_DATE = "up_to_date"
    SCANNING = "scanning"
    SYNCING = "syncing"
    PAUSED = "paused"
    NEEDS_CONFIRMATION = "needs_confirmation"  # the mass-delete guard holds deletes back
    ERROR = "error"
    OFFLINE = "offline"


@dataclass(frozen=True)
class SyncFolder:
    folder_id: str
    local_path: Path
    remote_root: str  # "" is the account's root
    state: FolderState
    pending: int = 0  # changes waiting to be synced
    synced: int = 0  # files in sync (rows of the folder's base index)
    issues: int = 0
    held_deletes: int = 0
    last_error: str = ""
    # Selective sync: remote folders (relative to remote_root) that stay off this machine.
    excluded: tuple[str, ...] = ()
    # gitignore-syntax patterns on top of .filevaultignore and the built-in temp-file rules.
    ignore_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncIssue:
    """A file that could not sync, with the reason and what the user can do about it."""

    folder_id: str
    path: str
    reason: str
    advice: str


@dataclass(frozen=True)
class MassDeletePrompt:
    """Deletes held back by the guard until ``answer_mass_delete`` is called."""

    folder_id: str
    count: int
    sample: tuple[str, ...]  # a few of the paths, for the prompt


@dataclass(frozen=True)
class ConflictCopied:
    """Both edits were kept: the local one was renamed to ``copy_path``."""

    folder_id: str
    path: str
    copy_path: str


SyncNotice = SyncFolder | SyncIssue | MassDeletePrompt | ConflictCopied
SyncListener = Callable[[SyncNotice], None]


class SyncNotConfigured(FileVaultError):
    """This build or account has no sync engine wired in yet."""


@runtime_checkable
class SyncPort(Protocol):
    @property
    def configured(self) -> bool:
        """False when sync is not available: the UI says so instead of showing folders."""
        ...

    def folders(self) -> list[SyncFolder]: ...

    def add_folder(self, local_path: Path, remote_root: str) -> SyncFolder: ...

    def remove_folder(self, folder_id: str) -> None:
        """Stops syncing the folder; files stay where they are on both sides."""
        ...

    def pause(self, folder_id: str | None = None) -> None:
        """``None`` pauses every folder."""
        ...

    def resume(self, folder_id: str | None = None) -> None: ...

    def sync_now(self, folder_id: str | None = None) -> None: ...

    def configure(
        self, folder_id: str, *, excluded: tuple[str, ...], ignore_patterns: tuple[str, ...]
    ) -> SyncFolder:
        """Selective sync and ignore patterns; persisted by the implementation."""
        ...

    def answer_mass_delete(self, folder_id: str, allow: bool) -> None:
        """``allow=False`` keeps the files (the engine restores or re-downloads them)."""
        ...

    def subscribe(self, listener: SyncListener) -> Callable[[], None]:
        """Calls ``listener`` with every notice until the returned function is called."""
        ...


class NoSync:
    """The port until the facade has sync: it says so, and shows no folders."""

    REASON = "Sync is not set up in this version yet; uploads, downloads and sharing work."

    @property
    def configured(self) -> bool:
        return False

    def folders(self) -> list[SyncFolder]:
        return []

    def _refuse(self) -> SyncNotConfigured:
        return SyncNotConfigured(self.REASON)

    def add_folder(self, local_path: Path, remote_root: str) -> SyncFolder:
        raise self._refuse()

    def remove_folder(self, folder_id: str) -> None:
        raise self._refuse()

    def pause(self, folder_id: str | None = None) -> None:
        raise self._refuse()

    def resume(self, folder_id: str | None = None) -> None:
        raise self._refuse()

    def sync_now(self, folder_id: str | None = None) -> None:
        raise self._refuse()

    def configure(
        self, folder_id: str, *, excluded: tuple[str, ...], ignore_patterns: tuple[str, ...]
    ) -> SyncFolder:
        raise self._refuse()

    def answer_mass_delete(self, folder_id: str, allow: bool) -> None:
        raise self._refuse()

    def subscribe(self, listener: SyncListener) -> Callable[[], None]:
        return lambda: None
