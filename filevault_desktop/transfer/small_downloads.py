"""Many small downloads: their bytes come in the answer of one API call (ADR 007).

For files of a few KiB the round trips, not the bytes, are the cost: the ranged path spends a
URL, a GET and a connection per file. Here up to ``BATCH`` files (at most
``INLINE_BATCH_BYTES`` as listed) come in one answer, with each file's current record. Each
file is checked against that record (size, then SHA-256 or a plain-MD5 ETag), written to a
temporary file beside its target, flushed and renamed into place: the same promises as the
ranged path, where the target changes only to complete, verified bytes.

What the batch cannot take is left to the caller's one-file download: files larger than
``INLINE_FILE_MAX``, files the server left out (``too_large_for_batch``: they grew since they
were listed), batches whose answer was cut (that path retries range by range), and everything
once a server without the route (404) has been seen.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import ApiError, FileVaultError, NetworkError, NotFoundError
from filevault_desktop.transfer.bandwidth import TokenBucket
from filevault_desktop.transfer.batching import consecutive_groups
from filevault_desktop.transfer.errors import TransferCancelled
from filevault_desktop.transfer.events import (
    Direction,
    TransferEvent,
    TransferFailed,
    TransferFinished,
    TransferStarted,
)
from filevault_desktop.transfer.landing import failure_of, verify_bytes, write_new_file
from filevault_desktop.transfer.ports import Clock

log = logging.getLogger(__name__)

BATCH = 100  # the API's limit per batch call
INLINE_FILE_MAX = 1024 * 1024
"""Files up to this size (as listed) are asked for inline."""
INLINE_BATCH_BYTES = 2 * 1024 * 1024
"""Content bytes per answer: the API's limit (Lambda's response limit, with base64)."""
BATCHES_IN_FLIGHT = 2
_WRITERS = 4  # flushing to disk waits on the device: a few files at once overlap those waits
UNWRITTEN_BATCHES = 4  # answers held while their files are written (each ≤ 2 MiB of content)


@dataclass(frozen=True)
class SmallDownload:
    file_id: str
    remote_path: str  # for messages and events
    size: int  # as listed: it decides whether the file is asked for inline
    target: Path


Outcome = RemoteFile | FileVaultError | None
"""The version written, why not, or None: not taken here (download it on its own)."""


class InlineDownloadApi(Protocol):
    def download_inline_batch(
        self, file_ids: list[str]
    ) -> list[tuple[RemoteFile, bytes] | ApiError]: ...


class SmallDownloads:
    """Downloads small files in batches; the engine hands it its clock, limit and events."""

    def __init__(
        self,
        api: InlineDownloadApi,
        clock: Clock,
        *,
        bucket: Callable[[], TokenBucket | None],
        emit: Callable[[TransferEvent], None],
    ) -> None:
        self._api = api
        self._clock = clock
        self._bucket = bucket
        self._emit = emit
        self._inline = True  # until the backend answers that it has no inline route
        self._route_seen = False  # whether a batch has been answered: no need to probe again

    def download(self, items: list[SmallDownload], cancel: threading.Event) -> list[Outcome]:
        """One outcome per item, in order (None: left for the one-file download)."""
        out: list[Outcome] = [None] * len(items)
        small = [i for i, item in enumerate(items) if item.size <= INLINE_FILE_MAX]
        # A batch's answer is held until its files are written; the next batch is asked for
        # meanwhile, so the server never waits on this disk, and memory stays bounded.
        room = threading.BoundedSemaphore(UNWRITTEN_BATCHES)
        placing: list[tuple[list[int], list[Future[Outcome]]]] = []

        def batch(group: list[int]) -> None:
            if not self._inline:
                return
            if cancel.is_set() or not self._consume(group, items, cancel):
                for i in group:
                    cancelled = TransferCancelled(
                        items[i].remote_path, aborted=True, direction="download"
                    )
                    out[i] = self._fail(items[i], cancelled)
                return
            room.acquire()
            try:
                written = self._one_batch(group, items, out, writers)
            except BaseException:
                room.release()  # the other batches go on with the room this one held
                raise
            if not written:
                room.release()
                return
            placing.append((group, written))
            _when_all_done(written, room.release)

        groups = consecutive_groups(
            small, lambda i: items[i].size, INLINE_BATCH_BYTES, max_count=BATCH
        )
        with ThreadPoolExecutor(_WRITERS, thread_name_prefix="filevault-write") as writers:
            if groups and not self._route_seen:
                batch(groups[0])  # alone: it finds out whether the server has the route
                groups = groups[1:]
            # Then two batches asked for at once: the server reads one while the other travels.
            with ThreadPoolExecutor(
                BATCHES_IN_FLIGHT, thread_name_prefix="filevault-batch"
            ) as batches:
                list(batches.map(batch, groups))
        for group, written in placing:
            for i, future in zip(group, written, strict=True):
                out[i] = future.result()
        return out

    def _consume(
        self, group: list[int], items: list[SmallDownload], cancel: threading.Event
    ) -> bool:
        bucket = self._bucket()
        return bucket is None or bucket.consume(sum(items[i].size for i in group), cancel)

    def _one_batch(
        self,
        group: list[int],
        items: list[SmallDownload],
        out: list[Outcome],
        writers: ThreadPoolExecutor,
    ) -> list[Future[Outcome]]:
        """Asks for the group's files and hands each answer to ``writers``: their futures
        (none when the batch as a whole failed or was left to the one-file path)."""
        began = self._clock.monotonic()
        try:
            answers = self._api.download_inline_batch([items[i].file_id for i in group])
        except NotFoundError:
            log.info("the server has no inline downloads; fetching files through their URLs")
            self._inline = False
            return []
        except NetworkError as exc:
            log.info("an inline download batch was cut (%s); fetching its files one by one", exc)
            return []
        except FileVaultError as exc:
            for i in group:
                out[i] = self._fail(items[i], exc)
            return []
        self._route_seen = True
        elapsed = self._clock.monotonic() - began
        return [
            writers.submit(self._place, items[i], answer, elapsed)
            for i, answer in zip(group, answers, strict=True)
        ]

    def _place(
        self, item: SmallDownload, answer: tuple[RemoteFile, bytes] | ApiError, elapsed: float
    ) -> Outcome:
        if isinstance(answer, ApiError):
            return None if answer.code == "too_large_for_batch" else self._fail(item, answer)
        remote, data = answer
        transfer_id = uuid.uuid4().hex
        shown = str(item.target)
        self._emit(
            TransferStarted(transfer_id, Direction.DOWNLOAD, shown, remote.path, remote.size, 0)
        )
        try:
            verify_bytes(remote, data)
            write_new_file(item.target, remote, data)
        except FileVaultError as exc:
            return self._fail(item, exc, transfer_id=transfer_id, remote_path=remote.path)
        self._emit(
            TransferFinished(
                transfer_id,
                Direction.DOWNLOAD,
                shown,
                remote.path,
                remote.size,
                remote.file_id,
                remote.version_id,
                elapsed,
            )
        )
        return remote

    def _fail(
        self,
        item: SmallDownload,
        exc: FileVaultError,
        *,
        transfer_id: str | None = None,
        remote_path: str | None = None,
    ) -> FileVaultError:
        """Reports ``item`` failed (as the transfer ``transfer_id`` when it had started)."""
        self._emit(
            TransferFailed(
                transfer_id or uuid.uuid4().hex,
                Direction.DOWNLOAD,
                str(item.target),
                remote_path or item.remote_path,
                failure_of(exc),
                exc.message,
                False,
            )
        )
        return exc


def _when_all_done(futures: list[Future[Outcome]], then: Callable[[], None]) -> None:
    remaining = [len(futures)]
    lock = threading.Lock()

    def one_done(_: Future[Outcome]) -> None:
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            then()

    for future in futures:
        future.add_done_callback(one_done)


__all__ = [
    "BATCH",
    "INLINE_BATCH_BYTES",
    "INLINE_FILE_MAX",
    "InlineDownloadApi",
    "Outcome",
    "SmallDownload",
    "SmallDownloads",
]
