"""The interfaces the sync core talks to; adapters implement them, tests use ``sync.testing``.

``RemotePort`` is the server as the sync engine sees it. Paths are full server paths (POSIX,
no leading slash); the engine maps them under the folder's remote root. Errors follow
``filevault_desktop.errors``: ``ConflictError`` for a stale expected version or a taken path,
``NotFoundError`` for a file that is gone or trashed, ``NetworkError`` for "try again later",
``sync.errors.CursorReset`` when the feed is behind the cursor.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from filevault_desktop.sync.models import ChangePage, RemoteEntry

LATEST_CURSOR = "latest"  # ``changes(LATEST_CURSOR)``: no changes, just the current cursor


class RemotePort(Protocol):
    def list_files(self, prefix: str) -> Iterable[RemoteEntry]:
        """Every live (not trashed) file under ``prefix`` ("" for all), recursively."""
        ...

    def changes(self, cursor: str | None) -> ChangePage:
        """One page of the change feed after ``cursor`` (None: from the start)."""
        ...

    def upload(self, local: Path, remote_path: str, expected_version: str | None) -> RemoteEntry:
        """Uploads ``local`` as a new version of ``remote_path``.

        ``expected_version`` None means the path must be free; otherwise the file at the path
        must currently have that version. ``ConflictError`` when not.
        """
        ...

    def download(self, file_id: str, dest: Path) -> RemoteEntry:
        """Writes the current content to ``dest`` (a new temp file); returns what was fetched."""
        ...

    def move(self, file_id: str, new_path: str, expected_version: str | None) -> RemoteEntry:
        """Renames or moves a file without transferring it; ``ConflictError`` if the path is
        taken (or the version is stale, where the server can check it)."""
        ...

    def trash(self, file_id: str, expected_version: str | None) -> None:
        """Moves a file to the server's (recoverable) trash. Adapters that cannot check the
        version may ignore it: the file stays recoverable from the trash either way."""
        ...


class Trash(Protocol):
    """Where local deletions go: the OS trash in the app, a folder in tests."""

    def send(self, path: Path) -> None: ...


class Send2Trash:
    def send(self, path: Path) -> None:
        # imported late (only the app needs it) and through importlib: it ships no type hints
        importlib.import_module("send2trash").send2trash(str(path))
