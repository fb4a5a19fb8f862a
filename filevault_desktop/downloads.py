"""Downloading a remote file or folder: what lands where, one outcome per file."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import ApiError, FileVaultError
from filevault_desktop.read_ahead import read_ahead
from filevault_desktop.transfer.download import DownloadEngine
from filevault_desktop.transfer.errors import TransferError
from filevault_desktop.transfer.small_downloads import SmallDownload

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

    Small files come a batch at a time with their bytes (when the engine has the API's inline
    download); the others each through a pre-signed URL, fetched a hundred at a time with
    ``batch_urls`` (the API's batch call) instead of one request per file."""
    out: dict[int, DownloadOutcome] = {}
    ready: list[int] = []
    folders: set[Path] = set()
    for n, item in enumerate(planned):
        try:
            if item.local.parent not in folders:
                item.local.parent.mkdir(parents=True, exist_ok=True)
                folders.add(item.local.parent)
        except OSError as exc:
            out[n] = _outcome(item, str(exc))
            continue
        ready.append(n)
    batched = engine.download_small_files([_small(planned[n]) for n in ready], cancel)
    rest: list[int] = []
    for n, result in zip(ready, batched, strict=True):
        if result is None:
            rest.append(n)
        else:
            out[n] = _outcome(
                planned[n], result.message if isinstance(result, FileVaultError) else None
            )
    one_by_one = _one_by_one(engine, [planned[n] for n in rest], files_at_once, cancel, batch_urls)
    out.update(zip(rest, one_by_one, strict=True))
    return [out[n] for n in range(len(planned))]


def download_pages(
    engine: DownloadEngine,
    pages: Iterable[list[PlannedDownload]],
    *,
    files_at_once: int = 8,
    cancel: threading.Event | None = None,
    batch_urls: Callable[[list[str]], list[str | ApiError]] | None = None,
) -> list[DownloadOutcome]:
    """``download_all`` of each page of a listing as it comes; the next page is fetched (in
    another thread) while this one downloads, so a long folder's files start at once."""
    out: list[DownloadOutcome] = []
    for page in read_ahead(pages):
        out.extend(
            download_all(
                engine, page, files_at_once=files_at_once, cancel=cancel, batch_urls=batch_urls
            )
        )
    return out


def _small(item: PlannedDownload) -> SmallDownload:
    return SmallDownload(item.remote.file_id, item.remote.path, item.remote.size, item.local)


def _outcome(item: PlannedDownload, error: str | None) -> DownloadOutcome:
    return DownloadOutcome(item.remote.path, str(item.local), error)


def _one_by_one(
    engine: DownloadEngine,
    planned: list[PlannedDownload],
    files_at_once: int,
    cancel: threading.Event | None,
    batch_urls: Callable[[list[str]], list[str | ApiError]] | None,
) -> list[DownloadOutcome]:
    def one(item: PlannedDownload, url: str | None = None) -> DownloadOutcome:
        try:
            engine.download(item.remote, item.local, cancel=cancel, url=url)
        except FileVaultError as exc:
            return _outcome(item, exc.message)
        except OSError as exc:
            return _outcome(item, str(exc))
        return _outcome(item, None)

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
