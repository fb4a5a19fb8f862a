"""A sync port for GUI tests: folders in memory, notices sent the way an engine would."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable
from pathlib import Path

from filevault_desktop.gui.sync_port import (
    FolderState,
    SyncFolder,
    SyncListener,
    SyncNotice,
)


class FakeSync:
    def __init__(self, folders: list[SyncFolder] | None = None) -> None:
        self._lock = threading.Lock()
        self._folders = {f.folder_id: f for f in folders or []}
        self._listeners: list[SyncListener] = []
        self._ids = itertools.count(1)
        self.calls: list[tuple[str, object]] = []
        self.answers: list[tuple[str, bool]] = []

    @property
    def configured(self) -> bool:
        return True

    def folders(self) -> list[SyncFolder]:
        with self._lock:
            return list(self._folders.values())

    def _set(self, folder: SyncFolder) -> None:
        with self._lock:
            self._folders[folder.folder_id] = folder
        self.send(folder)

    def send(self, notice: SyncNotice) -> None:
        """Delivers a notice from a thread of its own, as an engine's worker would."""
        listeners = list(self._listeners)
        thread = threading.Thread(target=lambda: [f(notice) for f in listeners])
        thread.start()
        thread.join()

    def add_folder(self, local_path: Path, remote_root: str) -> SyncFolder:
        folder = SyncFolder(f"f{next(self._ids)}", local_path, remote_root, FolderState.UP_TO_DATE)
        self.calls.append(("add", local_path))
        self._set(folder)
        return folder

    def remove_folder(self, folder_id: str) -> None:
        self.calls.append(("remove", folder_id))
        with self._lock:
            self._folders.pop(folder_id, None)

    def _each(self, folder_id: str | None, change: Callable[[SyncFolder], SyncFolder]) -> None:
        for folder in self.folders():
            if folder_id is None or folder.folder_id == folder_id:
                self._set(change(folder))

    def pause(self, folder_id: str | None = None) -> None:
        self.calls.append(("pause", folder_id))
        self._each(folder_id, lambda f: dataclasses.replace(f, state=FolderState.PAUSED))

    def resume(self, folder_id: str | None = None) -> None:
        self.calls.append(("resume", folder_id))
        self._each(folder_id, lambda f: dataclasses.replace(f, state=FolderState.UP_TO_DATE))

    def sync_now(self, folder_id: str | None = None) -> None:
        self.calls.append(("sync_now", folder_id))

    def configure(
        self, folder_id: str, *, excluded: tuple[str, ...], ignore_patterns: tuple[str, ...]
    ) -> SyncFolder:
        self.calls.append(("configure", (folder_id, excluded, ignore_patterns)))
        folder = dataclasses.replace(
            self._folders[folder_id], excluded=excluded, ignore_patterns=ignore_patterns
        )
        self._set(folder)
        return folder

    def answer_mass_delete(self, folder_id: str, allow: bool) -> None:
        self.answers.append((folder_id, allow))
        self._each(
            folder_id,
            lambda f: dataclasses.replace(f, state=FolderState.UP_TO_DATE, held_deletes=0),
        )

    def subscribe(self, listener: SyncListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)
