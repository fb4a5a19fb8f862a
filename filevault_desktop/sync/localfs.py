"""Every change the sync makes to the local folder, done safely.

Writes land in a temp file beside the target and are renamed into place only after checking
that the target is still what the plan saw (so a file the user just edited is never
overwritten). Deletions go to a ``Trash``. Each touched path is noted in ``SelfWrites`` so the
watcher can ignore the events our own writes cause.
"""

from __future__ import annotations

import contextlib
import secrets
import stat
import threading
from pathlib import Path

from filevault_desktop.sync.errors import LocalChanged
from filevault_desktop.sync.models import Fingerprint
from filevault_desktop.sync.ports import Trash
from filevault_desktop.sync.scanner import fingerprint, sha256_file
from filevault_desktop.transfer.download import PARTIAL_SUFFIX
from filevault_desktop.transfer.ports import Clock, SystemClock


class SelfWrites:
    """Paths we wrote recently; events for them within ``window`` seconds are our own echo."""

    def __init__(self, clock: Clock | None = None, window: float = 2.0) -> None:
        self._clock = clock or SystemClock()
        self._window = window
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def note(self, path: Path) -> None:
        with self._lock:
            self._until[str(path)] = self._clock.monotonic() + self._window

    def own_until(self, path: Path | str) -> float | None:
        """When the echo window of our write to ``path`` ends (None: not our write)."""
        now = self._clock.monotonic()
        with self._lock:
            until = self._until.get(str(path))
            if until is not None and until < now:
                del self._until[str(path)]
                return None
            return until

    def is_own(self, path: Path | str) -> bool:
        now = self._clock.monotonic()
        with self._lock:
            until = self._until.get(str(path))
            if until is not None and until < now:
                del self._until[str(path)]
                return False
            return until is not None


class LocalFs:
    def __init__(self, root: Path, trash: Trash, self_writes: SelfWrites | None = None) -> None:
        self.root = root
        self._trash = trash
        self.self_writes = self_writes or SelfWrites()

    def abs(self, rel: str) -> Path:
        return self.root / rel

    def stat(self, rel: str) -> Fingerprint | None:
        """The file's fingerprint, or None when there is no regular file (links don't count)."""
        try:
            st = self.abs(rel).lstat()
        except OSError:
            return None
        return fingerprint(st) if stat.S_ISREG(st.st_mode) else None

    def exists(self, rel: str) -> bool:
        try:
            self.abs(rel).lstat()
        except OSError:
            return False
        return True

    def sha256(self, rel: str) -> str:
        return sha256_file(self.abs(rel))

    def temp_for(self, rel: str) -> Path:
        """A fresh temp path beside ``rel`` (ignored by the scanner, removed by ``clean_temps``)."""
        target = self.abs(rel)
        self._make_parents(target)
        return target.parent / f".{target.name}.filevault-{secrets.token_hex(4)}.part"

    def place(self, temp: Path, rel: str, replace: Fingerprint | None) -> Fingerprint:
        """Renames ``temp`` over ``rel`` if ``rel`` is still ``replace`` (None: still absent)."""
        target = self.abs(rel)
        try:
            self.check_target(rel, replace)
            written = fingerprint(temp.lstat())
            self.self_writes.note(target)
            temp.replace(target)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        placed = fingerprint(target.lstat())
        # A save landing between the rename and that stat is not what we downloaded: recorded
        # with its fingerprint it would pass for synced and never go up. What we wrote (the
        # rename changed only its ctime) makes the next scan hash the file again.
        return placed if written.same_file(placed) else written

    def move(self, src: str, dst: str, expected: Fingerprint) -> None:
        if not expected.same_file(self.stat(src)):
            raise LocalChanged(f"'{src}' changed since it was scanned")
        a, b = self.abs(src), self.abs(dst)
        if self.exists(dst):
            if not _same_inode(a, b):
                raise LocalChanged(f"'{dst}' already exists")
            # a case-only (or normalization-only) rename on a case-insensitive file system:
            # rename through a temp name so the new spelling sticks
            temp = a.parent / f".filevault-tmp-{secrets.token_hex(4)}"
            self.self_writes.note(a)
            a.rename(temp)
            a = temp
        self._make_parents(b)
        self.self_writes.note(a)
        self.self_writes.note(b)
        a.rename(b)
        self.prune(src)

    def trash(self, rel: str, expected: Fingerprint) -> None:
        if not expected.same_file(self.stat(rel)):
            raise LocalChanged(f"'{rel}' changed since it was scanned")
        self.self_writes.note(self.abs(rel))
        self._trash.send(self.abs(rel))
        self.prune(rel)

    def prune(self, rel: str) -> None:
        """Removes folders left empty by moving ``rel`` away (never the root, never content)."""
        parent = self.abs(rel).parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                return
            self.self_writes.note(parent)
            parent = parent.parent

    def clean_temps(self) -> int:
        """Deletes temp files a killed process left behind; returns how many."""
        removed = 0
        # The sync's temps, and the download engine's partials of them (a sync temp's name is
        # new at every attempt, so such a partial can never be resumed).
        temp = ".*.filevault-*.part"
        for pattern in (temp, f"{temp}.*{PARTIAL_SUFFIX}", f"{temp}.*{PARTIAL_SUFFIX}.json"):
            for p in self.root.rglob(pattern):
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed += 1
        return removed

    def check_target(self, rel: str, replace: Fingerprint | None) -> None:
        target = self.abs(rel)
        if replace is not None:
            if not replace.same_file(self.stat(rel)):
                raise LocalChanged(f"'{rel}' changed since it was scanned")
            return
        if not self.exists(rel):
            return
        if target.is_dir() and not target.is_symlink():
            try:
                target.rmdir()  # a folder emptied earlier in this plan (file ↔ folder swaps)
            except OSError as exc:
                raise LocalChanged(f"a folder named '{rel}' is in the way") from exc
            return
        raise LocalChanged(f"'{rel}' appeared since the scan")

    def _make_parents(self, target: Path) -> None:
        parent = target.parent
        missing = []
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for p in reversed(missing):
            self.self_writes.note(p)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise LocalChanged(f"a file is in the way of folder '{target.parent}'") from exc


def _same_inode(a: Path, b: Path) -> bool:
    try:
        return a.lstat().st_ino == b.lstat().st_ino and a.lstat().st_dev == b.lstat().st_dev
    except OSError:
        return False


class FolderTrash:
    """A ``Trash`` that moves files into a folder (tests; or where no OS trash exists)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, path: Path) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path.rename(self.folder / f"{secrets.token_hex(4)}-{path.name}")
