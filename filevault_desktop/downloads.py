"""Downloading a remote file or folder: what lands where, one outcome per file."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import ApiError, FileVaultError
from filevault_desktop.transfer.download import DownloadEngine
from filevault_desktop.transfer.errors import TransferError

URL_BATCH = 100  # the API's limit per batch call


@dataclass(frozen=True)
class PlannedDownload:
    remote: RemoteFile
    local: Path


@dataclass(frozen=True)
class DownloadOutcome:
    remote: str
    local: str
    error: str | None = None


def _inside(root: Path, relative: str) -> Path:
    """``root/relative``, refusing names that would land outside ``root``."""
    parts = PurePosixPath(relative).parts
    if not parts or any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        raise TransferError(f"refusing to write the remote name {relative!r} outside {root}")
    return root.joinpath(*parts)


def plan_file(remote: RemoteFile, local: Path) -> PlannedDownload:
    """Into ``local`` when it is a folder, else as ``local``."""
    target = local / remote.name if local.is_dir() else local
    return PlannedDownload(remote, target)


def plan_folder(prefix: str, files: Iterable[RemoteFile], local: Path) -> list[PlannedDownload]:
    """``prefix`` (``docs/``) into ``local/docs/…``, keeping the folder's own name."""
    name = prefix.rstrip("/").rsplit("/", 1)[-1]
    root = local / name if name else local
    return [PlannedDownload(f, _inside(root, f.path[len(prefix) :])) for f in files]


def download_all(
    engine: DownloadEngine,
    planned: list[PlannedDownload],
    *,
    files_at_once: int = 8,
    cancel: threading.Event | None = None,
    batch_urls: Callable[[list[str]], list[str | ApiError]] | None = None,
) -> list[DownloadOutcome]:
    """Downloads every planned file, several at once; a failure is reported, others go on.

    With ``batch_urls`` (the API's batch call), URLs are fetched a hundred at a time instead
    of one request per file."""

    def one(item: PlannedDownload, url: str | None = None) -> DownloadOutcome:
        try:
            item.local.parent.mkdir(parents=True, exist_ok=True)
            engine.download(item.remote, item.local, cancel=cancel, url=url)
        except FileVaultError as exc:
            return DownloadOutcome(item.remote.path, str(item.local), exc.message)
        except OSError as exc:
            return DownloadOutcome(item.remote.path, str(item.local), str(exc))
        return DownloadOutcome(item.remote.path, str(item.local))

    if len(planned) <= 1:
        return [one(item) for item in planned]
    out: list[DownloadOutcome] = []
    with ThreadPoolExecutor(files_at_once, thread_name_prefix="filevault-files") as pool:
        for start in range(0, len(planned), URL_BATCH):
            chunk = planned[start : start + URL_BATCH]
            urls: list[str | None] = [None] * len(chunk)
            if batch_urls is not None:
                try:
                    answers = batch_urls([p.remote.file_id for p in chunk])
                except FileVaultError:
                    answers = []  # each file asks for its own URL instead
                # An item's error is left for its own request to report precisely.
                urls = [a if isinstance(a, str) else None for a in answers] or urls
            out.extend(pool.map(one, chunk, urls))
    return out
