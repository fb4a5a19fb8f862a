"""Helpers for the sync tests: a "client" is a real temp folder + its own index + an engine."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from filevault_desktop.errors import FileVaultError
from filevault_desktop.sync import (
    FolderTrash,
    IgnoreRules,
    SyncConfig,
    SyncEngine,
    SyncIndex,
    SyncReport,
)
from filevault_desktop.sync.models import RemoteEntry
from filevault_desktop.sync.ports import RemotePort
from filevault_desktop.sync.testing import FakeRemote

NOW = datetime(2024, 5, 6, 7, 8, 9)


class Client:
    def __init__(self, home: Path, name: str, remote: RemotePort, **config: Any) -> None:
        self.name = name
        self.home = home / name
        self.root = self.home / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.trash_dir = self.home / "trash"
        self.remote = remote
        self.config = config
        self.engine = self._engine()

    def _engine(self, remote: RemotePort | None = None) -> SyncEngine:
        return SyncEngine(
            SyncConfig(root=self.root, device=self.name, **self.config),
            remote or self.remote,
            SyncIndex(self.home / "index.sqlite3"),
            trash=FolderTrash(self.trash_dir),
            now=lambda: NOW,
        )

    def restart(self, remote: RemotePort | None = None) -> None:
        """A new process: new engine, same folder and index file."""
        self.engine.index.close()
        self.engine = self._engine(remote)

    def sync(self) -> SyncReport:
        return self.engine.run_until_quiet()

    # ---- the user at work ---------------------------------------------------------------------

    def write(self, rel: str, data: bytes | str) -> None:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()

    def delete(self, rel: str) -> None:
        p = self.root / rel
        if p.is_dir():
            for child in sorted(p.rglob("*"), reverse=True):
                child.rmdir() if child.is_dir() else child.unlink()
            p.rmdir()
        else:
            p.unlink()

    def move(self, src: str, dst: str) -> None:
        (self.root / dst).parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.root / src, self.root / dst)

    def tree(self, *, with_ignored: bool = False) -> dict[str, bytes]:
        rules = IgnoreRules.for_root(self.root)
        files = {p.relative_to(self.root).as_posix(): p for p in self.root.rglob("*")}
        return {
            rel: p.read_bytes()
            for rel, p in files.items()
            if p.is_file() and (with_ignored or not rules.is_ignored(rel))
        }

    def trashed(self) -> list[bytes]:
        if not self.trash_dir.exists():
            return []
        return [p.read_bytes() for p in self.trash_dir.iterdir()]

    def base_paths(self) -> set[str]:
        return {b.local_path for b in self.engine.index.base()}


def sync_all(*clients: Client, rounds: int = 4) -> None:
    """Everyone syncs until a full pass changes nothing."""
    for _ in range(rounds):
        reports = [c.sync() for c in clients]
        if all(r.quiet and r.rounds == 1 for r in reports):
            return
    raise AssertionError(f"no convergence: {[c.sync() for c in clients]}")


class SimulatedCrash(BaseException):
    """Not an Exception: nothing in the engine catches it, like a kill -9."""


class CrashAfter:
    """A RemotePort proxy that dies right after ``op`` reached the server (before any commit)."""

    def __init__(self, inner: FakeRemote, op: str) -> None:
        self._inner = inner
        self._op = op

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        # a batch of uploads reaches the server like single ones: crash after it too
        if name not in (self._op, f"{self._op}_many"):
            return target

        def crash(*args: Any, **kwargs: Any) -> Any:
            target(*args, **kwargs)
            raise SimulatedCrash(name)

        return crash


def remote_upload_entry(remote: FakeRemote, path: str) -> RemoteEntry:
    return next(e for e in remote.list_files("") if e.path == path)


__all__ = ["NOW", "Client", "CrashAfter", "FakeRemote", "FileVaultError", "SimulatedCrash"]
