"""An in-memory FileVault server for sync tests: ``FakeRemote`` implements ``RemotePort``.

It keeps every version of every file (and trashed files), so tests can check that no content
was ever lost; counts transferred bytes, so tests can check that renames cost none; refuses
stale writes with ``ConflictError`` like the real server; and can lose its state
(``reset_epoch``) or fail on demand (``fail_next``). Several engines may share one instance
("two clients, one server"); it is thread-safe.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from filevault_desktop.errors import ConflictError, FileVaultError, NetworkError, NotFoundError
from filevault_desktop.sync.errors import CursorReset
from filevault_desktop.sync.models import ChangeOp, ChangePage, RemoteChange, RemoteEntry
from filevault_desktop.sync.ports import LATEST_CURSOR


@dataclass
class _File:
    file_id: str
    path: str
    versions: list[tuple[str, bytes]] = field(default_factory=list)
    trashed: bool = False
    change_seq: int | None = None  # as the real server's records: its last change's seq

    @property
    def data(self) -> bytes:
        return self.versions[-1][1]

    def entry(self) -> RemoteEntry:
        version_id, data = self.versions[-1]
        sha = hashlib.sha256(data).hexdigest()
        return RemoteEntry(
            self.file_id, self.path, version_id, len(data), sha, version_id, self.change_seq
        )


class FakeRemote:
    def __init__(self, *, page_size: int = 50) -> None:
        self.page_size = page_size
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._files: dict[str, _File] = {}
        self._log: list[RemoteChange] = []
        self._epoch_n = 1
        self.bytes_uploaded = 0
        self.bytes_downloaded = 0
        self.calls: Counter[str] = Counter()
        self.inline_max = 1024 * 1024  # download_many leaves larger files to download
        self._faults: dict[str, list[BaseException]] = {}
        # called with the local path while an upload is in flight (to edit during upload)
        self.during_upload: Callable[[Path], None] | None = None

    @property
    def epoch(self) -> str:
        return f"epoch-{self._epoch_n}"

    # ---- RemotePort ---------------------------------------------------------------------------

    def list_files(self, prefix: str) -> Iterable[RemoteEntry]:
        self._enter("list_files")
        with self._lock:
            return [
                f.entry()
                for f in self._files.values()
                if not f.trashed and (not prefix or f.path.startswith(prefix.rstrip("/") + "/"))
            ]

    def changes(self, cursor: str | None) -> ChangePage:
        self._enter("changes")
        with self._lock:
            if cursor == LATEST_CURSOR:
                return ChangePage((), str(len(self._log)), False, self.epoch)
            start = int(cursor or 0)
            if start > len(self._log):
                raise CursorReset()
            page = self._log[start : start + self.page_size]
            end = start + len(page)
            return ChangePage(tuple(page), str(end), end < len(self._log), self.epoch)

    def upload(self, local: Path, remote_path: str, expected_version: str | None) -> RemoteEntry:
        self._enter("upload")
        data = local.read_bytes()
        if self.during_upload is not None:
            self.during_upload(local)
        with self._lock:
            existing = self._live_at(remote_path)
            self._check_folders(remote_path)
            if expected_version is None:
                if existing is not None:
                    raise ConflictError(409, "conflict", f"'{remote_path}' already exists")
                f = _File(f"f{next(self._ids)}", remote_path)
                self._files[f.file_id] = f
                op = ChangeOp.CREATED
            else:
                if existing is None or existing.versions[-1][0] != expected_version:
                    raise ConflictError(409, "version_conflict", f"'{remote_path}' changed")
                f, op = existing, ChangeOp.UPDATED
            f.versions.append((f"v{next(self._ids)}", data))
            self.bytes_uploaded += len(data)
            self._append(op, f)
            return f.entry()

    def upload_many(
        self, items: list[tuple[Path, str, str | None]]
    ) -> list[RemoteEntry | FileVaultError]:
        """As the real adapter: one call for many files, each answered on its own."""
        out: list[RemoteEntry | FileVaultError] = []
        for local, remote_path, expected in items:
            try:
                out.append(self.upload(local, remote_path, expected))
            except FileVaultError as exc:
                out.append(exc)
        return out

    def download_many(
        self, items: list[tuple[str, str, int, Path]]
    ) -> list[RemoteEntry | FileVaultError | None]:
        """As the real adapter: files up to ``inline_max`` (as listed) in one call, each
        answered on its own; None for the larger ones (left to ``download``)."""
        self._enter("download_many")
        out: list[RemoteEntry | FileVaultError | None] = []
        for file_id, _, size, dest in items:
            if size > self.inline_max:
                out.append(None)
                continue
            try:
                out.append(self.download(file_id, dest))
            except FileVaultError as exc:
                out.append(exc)
        return out

    def download(self, file_id: str, dest: Path) -> RemoteEntry:
        self._enter("download")
        with self._lock:
            f = self._live(file_id)
            data, entry = f.data, f.entry()
        with dest.open("xb") as out:
            out.write(data)
        self.bytes_downloaded += len(data)
        return entry

    def move(self, file_id: str, new_path: str, expected_version: str | None) -> RemoteEntry:
        self._enter("move")
        with self._lock:
            f = self._live(file_id)
            if expected_version is not None and f.versions[-1][0] != expected_version:
                raise ConflictError(409, "version_conflict", f"'{f.path}' changed")
            return self._move(f, new_path)

    def _move(self, f: _File, new_path: str) -> RemoteEntry:
        self._check_folders(new_path)
        other = self._live_at(new_path)
        if other is not None and other is not f:
            raise ConflictError(409, "conflict", f"'{new_path}' already exists")
        old, f.path = f.path, new_path
        self._append(ChangeOp.MOVED, f, old_path=old)
        return f.entry()

    def trash(self, file_id: str, expected_version: str | None) -> None:
        self._enter("trash")
        with self._lock:
            f = self._live(file_id)
            if expected_version is not None and f.versions[-1][0] != expected_version:
                raise ConflictError(409, "version_conflict", f"'{f.path}' changed")
            f.trashed = True
            self._append(ChangeOp.TRASHED, f)

    # ---- what tests do to "the server" (another client, the web app, an outage) ---------------

    def put(self, path: str, data: bytes) -> RemoteEntry:
        """Writes a file as some other client would (creates or adds a version)."""
        with self._lock:
            existing = self._live_at(path)
            if existing is None:
                existing = _File(f"f{next(self._ids)}", path)
                self._files[existing.file_id] = existing
                op = ChangeOp.CREATED
            else:
                op = ChangeOp.UPDATED
            existing.versions.append((f"v{next(self._ids)}", data))
            self._append(op, existing)
            return existing.entry()

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            f = self._live_at(old)
            assert f is not None, old
            self._move(f, new)

    def remove(self, path: str) -> None:
        with self._lock:
            f = self._live_at(path)
            assert f is not None, path
            f.trashed = True
            self._append(ChangeOp.TRASHED, f)

    def tree(self) -> dict[str, bytes]:
        with self._lock:
            return {f.path: f.data for f in self._files.values() if not f.trashed}

    def all_contents(self) -> set[bytes]:
        """Every version ever stored, trashed files included."""
        with self._lock:
            return {data for f in self._files.values() for _, data in f.versions}

    def fail_next(self, op: str, error: BaseException | None = None, times: int = 1) -> None:
        """The next ``times`` calls of ``op`` raise ``error`` (default: a network error)."""
        with self._lock:
            exc = error or NetworkError(f"injected failure of {op}")
            self._faults.setdefault(op, []).extend([exc] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset_epoch(self, *, keep_files: bool) -> None:
        """The backend was replaced: new epoch, a fresh feed, new ids (and maybe no files)."""
        with self._lock:
            self._epoch_n += 1
            self._log.clear()
            old = [f for f in self._files.values() if not f.trashed] if keep_files else []
            self._files.clear()
            for f in old:
                g = _File(f"f{next(self._ids)}", f.path, [(f"v{next(self._ids)}", f.data)])
                self._files[g.file_id] = g
                self._append(ChangeOp.CREATED, g)

    # ---- internals ----------------------------------------------------------------------------

    def _enter(self, op: str) -> None:
        with self._lock:
            self.calls[op] += 1
            pending = self._faults.get(op)
            if pending:
                raise pending.pop(0)

    def _live(self, file_id: str) -> _File:
        f = self._files.get(file_id)
        if f is None or f.trashed:
            raise NotFoundError(404, "not_found", f"no file {file_id}")
        return f

    def _check_folders(self, path: str) -> None:
        """A name is a file or a folder, not both (folders are implied by the files in them)."""
        for f in self._files.values():
            if f.trashed:
                continue
            if path.startswith(f.path + "/") or f.path.startswith(path + "/"):
                raise ConflictError(409, "conflict", f"'{path}' clashes with '{f.path}'")

    def _live_at(self, path: str) -> _File | None:
        return next((f for f in self._files.values() if f.path == path and not f.trashed), None)

    def _append(self, op: ChangeOp, f: _File, old_path: str | None = None) -> None:
        e = f.entry()
        f.change_seq = len(self._log) + 1
        self._log.append(
            RemoteChange(
                f.change_seq, op, f.file_id, f.path, old_path, e.version_id, e.size, e.sha256
            )
        )
