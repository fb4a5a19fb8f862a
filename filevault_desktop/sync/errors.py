"""Sync errors, in the project's one hierarchy (``filevault_desktop.errors``)."""

from __future__ import annotations

from filevault_desktop.errors import ApiError, FileVaultError


class SyncError(FileVaultError):
    """The sync of a folder cannot go on (a per-file problem is an ``Issue``, not an error)."""


class SyncRootMissing(SyncError):
    """The local folder is gone or unmounted: never read that as "the user deleted it all"."""

    def __init__(self, root: str) -> None:
        super().__init__(f"sync folder '{root}' is missing or not a directory; nothing was synced")
        self.root = root


class SyncIndexError(SyncError):
    """The base index cannot be opened or is from an incompatible version."""


class CursorReset(ApiError):
    """The server's feed is behind our cursor (HTTP 410 ``cursor_reset``): resync from scratch.

    Adapters raise it from ``RemotePort.changes``; the engine treats it like an epoch change.
    """

    def __init__(self, message: str = "change feed cursor reset") -> None:
        super().__init__(410, "cursor_reset", message)


class LocalChanged(SyncError):
    """A local file is not as planned (edited, moved, created meanwhile): plan again."""
