"""Which local folders sync with which remote folders, per profile (a small JSON file).

Each folder has its own base index next to this file. Removing a folder forgets the index
and never touches the files in it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from filevault_desktop.persist import write_atomic
from filevault_desktop.remote import UsageError, clean
from filevault_desktop.sync.models import PathRules


@dataclass(frozen=True)
class SyncFolder:
    folder_id: str
    local: Path
    remote: str  # the remote folder ("" = everything)
    excluded: tuple[str, ...] = field(default=())  # selective sync, relative to ``remote``

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "local": str(self.local), "excluded": list(self.excluded)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SyncFolder:
        return cls(
            str(raw["folder_id"]),
            Path(raw["local"]),
            str(raw["remote"]),
            tuple(str(e) for e in raw.get("excluded", ())),
        )


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def _remote_overlaps(a: str, b: str) -> bool:
    if not a or not b:
        return True
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/")


class SyncFolders:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._file = directory / "folders.json"

    def all(self) -> list[SyncFolder]:
        try:
            raw = json.loads(self._file.read_text("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the sync folder list {self._file}: {exc}") from exc
        return [SyncFolder.from_json(item) for item in raw.get("folders", [])]

    def _save(self, folders: list[SyncFolder]) -> None:
        data = {"folders": [f.to_json() for f in folders]}
        write_atomic(self._file, json.dumps(data, indent=2).encode())

    def add(self, local: Path, remote: str) -> SyncFolder:
        """Adds a folder (created if missing); refuses one inside or around another."""
        local = Path(os.path.abspath(local.expanduser()))  # noqa: PTH100 (no symlink resolving)
        if local.exists() and not local.is_dir():
            raise UsageError(f"'{local}' is not a folder")
        if local.is_symlink():
            raise UsageError(f"'{local}' is a symbolic link; add the folder it points to")
        remote = clean(remote)
        folders = self.all()
        for other in folders:
            if _overlaps(local, other.local):
                raise UsageError(f"'{local}' overlaps the sync folder '{other.local}'")
            if _remote_overlaps(remote, other.remote):
                shown = other.remote or "(everything)"
                raise UsageError(
                    f"remote folder '{remote or '(everything)'}' overlaps '{shown}', "
                    f"synced with '{other.local}'"
                )
        local.mkdir(parents=True, exist_ok=True)
        folder = SyncFolder(secrets.token_hex(4), local, remote)
        self._save([*folders, folder])
        return folder

    def find(self, key: str) -> SyncFolder:
        """By id, or by local path."""
        folders = self.all()
        for f in folders:
            if key == f.folder_id:
                return f
        wanted = Path(os.path.abspath(Path(key).expanduser()))  # noqa: PTH100
        for f in folders:
            if f.local == wanted:
                return f
        raise UsageError(f"no sync folder '{key}' (see `filevault sync ls`)")

    def remove(self, key: str) -> SyncFolder:
        gone = self.find(key)
        self._save([f for f in self.all() if f.folder_id != gone.folder_id])
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.index_path(gone)}{suffix}").unlink()
        return gone

    def update(self, folder: SyncFolder) -> None:
        self._save([folder if f.folder_id == folder.folder_id else f for f in self.all()])

    def exclude(self, key: str, excluded: tuple[str, ...]) -> SyncFolder:
        folder = replace(self.find(key), excluded=tuple(clean(e) for e in excluded if clean(e)))
        self.update(folder)
        return folder

    def index_path(self, folder: SyncFolder) -> Path:
        return self.directory / f"{folder.folder_id}.sqlite3"


def probe_rules(root: Path) -> PathRules:
    """How ``root``'s file system compares names, found by asking it (not by platform)."""
    stem = f".filevault-tmp-probe-{secrets.token_hex(4)}"
    mixed = root / f"{stem}-Ab\u00e9"
    try:
        mixed.touch()
    except OSError:
        return PathRules()
    try:
        case_sensitive = not (root / f"{stem}-aB\u00e9").exists()
        nfd = unicodedata.normalize("NFD", f"{stem}-Ab\u00e9")
        normalizes = (root / nfd).exists()
    finally:
        with contextlib.suppress(OSError):
            mixed.unlink()
    return PathRules(case_sensitive=case_sensitive, normalizes_unicode=normalizes)
