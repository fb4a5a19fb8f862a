"""Downloads: streamed to a temporary file beside the target, verified, then renamed into place.

A download that fails for any reason (network, full disk, corrupted bytes) leaves the
existing file untouched and no temporary file behind. This first version streams one
connection; parallel ranges and resuming an interrupted download come with the sync engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import AuthError, FileVaultError, NetworkError
from filevault_desktop.transfer.errors import TransferCancelled, TransferError
from filevault_desktop.transfer.events import (
    Direction,
    FailureReason,
    Subscriber,
    TransferFailed,
    TransferFinished,
    TransferStarted,
)
from filevault_desktop.transfer.ports import Clock, SystemClock
from filevault_desktop.transfer.progress import ProgressMeter

_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")


class DownloadApi(Protocol):
    def download_url(self, file_id: str) -> str: ...


class Fetcher(Protocol):
    def fetch(self, url: str) -> Iterator[bytes]:
        """Streams a GET's body; raises NetworkError, or ApiError for a non-2xx answer."""
        ...


def _reason(exc: FileVaultError) -> FailureReason:
    if isinstance(exc, TransferCancelled):
        return FailureReason.CANCELLED
    if isinstance(exc, NetworkError):
        return FailureReason.NETWORK
    if isinstance(exc, AuthError):
        return FailureReason.AUTH
    return FailureReason.REFUSED


def _cleanup(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def download_file(
    api: DownloadApi,
    fetcher: Fetcher,
    remote: RemoteFile,
    target: Path,
    *,
    on_event: Subscriber | None = None,
    clock: Clock | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Downloads ``remote`` to ``target`` atomically and returns ``target``."""
    clock = clock or SystemClock()
    emit = on_event or (lambda event: None)
    transfer_id = uuid.uuid4().hex
    shown = str(target)
    temp = target.parent / f".{target.name}.filevault-{secrets.token_hex(4)}.part"
    meter = ProgressMeter(transfer_id, shown, remote.path, remote.size, clock)
    emit(TransferStarted(transfer_id, Direction.DOWNLOAD, shown, remote.path, remote.size, 0))
    started = clock.monotonic()
    md5 = hashlib.md5(usedforsecurity=False)  # S3's ETag of a single-PUT object is its MD5
    received = 0
    try:
        url = api.download_url(remote.file_id)
        try:
            with temp.open("xb") as out:
                for chunk in fetcher.fetch(url):
                    if cancel is not None and cancel.is_set():
                        raise TransferCancelled(shown, aborted=True)
                    out.write(chunk)
                    md5.update(chunk)
                    received += len(chunk)
                    meter.add(len(chunk))
                    event = meter.poll()
                    if event is not None:
                        emit(event)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise TransferError(
                f"cannot write {target}: {exc.strerror or exc}; the existing file is untouched"
            ) from exc
        if received != remote.size:
            raise TransferError(
                f"download of {remote.path} stopped at {received} of {remote.size} bytes; "
                "the existing file is untouched"
            )
        if _PLAIN_MD5.match(remote.etag) and md5.hexdigest() != remote.etag:
            raise TransferError(f"download of {remote.path} was corrupted (MD5 differs); try again")
        temp.replace(target)
    except FileVaultError as exc:
        _cleanup(temp)
        emit(
            TransferFailed(
                transfer_id,
                Direction.DOWNLOAD,
                shown,
                remote.path,
                _reason(exc),
                exc.message,
                resumable=False,
            )
        )
        raise
    except BaseException:
        _cleanup(temp)
        raise
    final = meter.poll(force=True)
    if final is not None:
        emit(final)
    emit(
        TransferFinished(
            transfer_id,
            Direction.DOWNLOAD,
            shown,
            remote.path,
            remote.size,
            remote.file_id,
            remote.version_id,
            clock.monotonic() - started,
        )
    )
    return target
