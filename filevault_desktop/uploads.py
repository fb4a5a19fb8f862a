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
from filevault_desktop.transfer.small_files import SMALL_FILE_MAX, SmallUpload


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
    """Uploads each file; a file that fails is reported and the others go on. Outcomes keep
    the planned order. Small files go in batches (their cost is round trips, not bytes);
    large ones several at a time, each in parallel parts."""
    small: list[int] = []
    large: list[int] = []
    for index, item in enumerate(planned):
        try:
            is_small = item.local.stat().st_size <= SMALL_FILE_MAX
        except OSError:
            is_small = False  # the one-file path reports why it cannot be read
        (small if is_small else large).append(index)
    outcomes: dict[int, UploadOutcome] = {}

    def one(index: int) -> UploadOutcome:
        item = planned[index]
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

    if small:
        specs = [
            SmallUpload(
                planned[i].local,
                planned[i].remote,
                content_type_of(planned[i].local),
                root=planned[i].root,
            )
            for i in small
        ]
        for index, result in zip(small, engine.upload_small_files(specs, cancel), strict=True):
            item = planned[index]
            outcomes[index] = (
                UploadOutcome(str(item.local), item.remote, error=result.message)
                if isinstance(result, FileVaultError)
                else UploadOutcome(str(item.local), item.remote, file=result)
            )
    if len(large) == 1:
        outcomes[large[0]] = one(large[0])
    elif large:
        with ThreadPoolExecutor(files_at_once, thread_name_prefix="filevault-files") as pool:
            outcomes.update(zip(large, pool.map(one, large), strict=True))
    return [outcomes[i] for i in range(len(planned))]
