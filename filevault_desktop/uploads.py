"""Uploading local files and folders: what to send where, one outcome per file."""

from __future__ import annotations

import mimetypes
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import FileVaultError
from filevault_desktop.remote import clean
from filevault_desktop.transfer import UploadEngine


@dataclass(frozen=True)
class PlannedUpload:
    local: Path
    remote: str
    # Symlinks are followed only while they stay inside this folder.
    root: Path | None


@dataclass(frozen=True)
class UploadOutcome:
    local: str
    remote: str
    file: RemoteFile | None = None
    error: str | None = None


def plan(sources: list[Path], to: str) -> Iterator[PlannedUpload]:
    """Files go to ``to/<name>``; folders to ``to/<folder>/<relative path>``, recursively."""
    base = clean(to)
    prefix = f"{base}/" if base else ""
    for source in sources:
        if source.is_dir() and not source.is_symlink():
            root = source.resolve()
            # Symlinked folders are not walked (followlinks=False): never out of the root.
            for folder, dirs, files in os.walk(source, followlinks=False):
                dirs.sort()
                for name in sorted(files):
                    local = Path(folder) / name
                    relative = local.relative_to(source).as_posix()
                    yield PlannedUpload(local, f"{prefix}{source.name}/{relative}", root)
        else:
            yield PlannedUpload(source, f"{prefix}{source.name}", None)


def content_type_of(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def upload_all(
    engine: UploadEngine,
    planned: list[PlannedUpload],
    cancel: threading.Event | None = None,
    *,
    files_at_once: int = 8,
) -> list[UploadOutcome]:
    """Uploads each file, several at once (small files are bound by round trips, not bytes);
    a file that fails is reported and the others go on. Outcomes keep the planned order."""

    def one(item: PlannedUpload) -> UploadOutcome:
        try:
            remote = engine.upload_file(
                item.local,
                item.remote,
                content_type=content_type_of(item.local),
                cancel=cancel,
                root=item.root,
            )
        except FileVaultError as exc:
            return UploadOutcome(str(item.local), item.remote, error=exc.message)
        return UploadOutcome(str(item.local), item.remote, file=remote)

    if len(planned) <= 1:
        return [one(item) for item in planned]
    with ThreadPoolExecutor(files_at_once, thread_name_prefix="filevault-files") as pool:
        return list(pool.map(one, planned))
