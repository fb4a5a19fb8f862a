"""Many small files: their bytes sent inline with the API call that records them.

For files of a few KiB the round trips, not the bytes, are the cost: uploading them one by
one spends two API calls and a PUT per file. Here up to ``BATCH`` files (at most
``INLINE_BATCH_BYTES`` of content) go in one request that stores and records them: one round
trip for the lot. Against a backend without that route (an older deployment answers 404), up
to ``BATCH`` files share one initiate and one complete call and are PUT in parallel. Either
way each file is read once, checksummed (the server verifies the SHA-256 against the bytes it
got), checked for changes after it was read, and succeeds or fails on its own.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tenacity import Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from filevault_desktop.api.models import RemoteFile, UploadTicket
from filevault_desktop.errors import ApiError, FileVaultError, NetworkError, NotFoundError
from filevault_desktop.transfer.bandwidth import TokenBucket
from filevault_desktop.transfer.batching import consecutive_groups
from filevault_desktop.transfer.errors import PartUploadError, TransferCancelled, failure_reason
from filevault_desktop.transfer.events import (
    Direction,
    TransferEvent,
    TransferFailed,
    TransferFinished,
    TransferStarted,
)
from filevault_desktop.transfer.ports import UNSET, Clock, PartSender, Unset, UploadApi
from filevault_desktop.transfer.reader import Interrupted, SourceFile

log = logging.getLogger(__name__)

BATCH = 100  # the API's limit per batch call
BATCHES_IN_FLIGHT = 2
# Sent files are completed this many at a time (the API records 19 files per transaction).
COMPLETE_GROUP = 19
SMALL_FILE_MAX = 1024 * 1024
"""Files up to this size go in batches (read whole into memory: at most BATCH of them)."""
INLINE_BATCH_BYTES = 2 * 1024 * 1024
"""Content bytes per inline request: the API's limit (Lambda's payload limit, with base64)."""


@dataclass(frozen=True)
class SmallUpload:
    local_path: Path
    remote_path: str
    content_type: str = "application/octet-stream"
    # Absent (UNSET): replace whatever is there; None: the path must be free.
    expected_version: str | Unset | None = UNSET
    root: Path | None = None


@dataclass
class _Item:
    index: int
    spec: SmallUpload
    src: SourceFile
    data: bytes
    sha256_b64: str
    transfer_id: str
    ticket: UploadTicket | None = None


Outcome = RemoteFile | FileVaultError
"""What each file ended as: its new version, or why not."""


class SmallFileBatches:
    """Uploads small files in batches; the engine hands it its connections, clock and pool."""

    def __init__(
        self,
        api: UploadApi,
        sender: PartSender,
        pool: Executor,
        clock: Clock,
        *,
        attempts: int,
        wait: wait_base,
        bucket: Callable[[], TokenBucket | None],
        emit: Callable[[TransferEvent], None],
    ) -> None:
        self._api = api
        self._sender = sender
        self._pool = pool
        self._clock = clock
        self._attempts = attempts
        self._wait = wait
        self._bucket = bucket
        self._emit = emit
        self._inline = True  # until the backend answers that it has no inline route

    def upload(
        self,
        specs: list[SmallUpload],
        cancel: threading.Event,
        on_its_own: Callable[[SmallUpload], RemoteFile],
    ) -> list[Outcome]:
        """One outcome per spec, in order. Files the batch cannot take (too large for a single
        PUT, or whose URL failed) go through ``on_its_own``, the one-file upload."""
        out: list[Outcome | None] = [None] * len(specs)

        def batch(start: int) -> None:
            if cancel.is_set():
                for i in range(start, min(start + BATCH, len(specs))):
                    out[i] = TransferCancelled(str(specs[i].local_path), aborted=True)
                return
            chunk = list(enumerate(specs[start : start + BATCH], start))
            self._one_batch(chunk, out, cancel, on_its_own)

        starts = range(0, len(specs), BATCH)
        if len(starts) == 1:
            batch(0)
        else:
            # Two batches in flight: one's API round trips overlap the other's PUTs.
            with ThreadPoolExecutor(
                BATCHES_IN_FLIGHT, thread_name_prefix="filevault-batch"
            ) as pool:
                list(pool.map(batch, starts))
        return [o if o is not None else FileVaultError("not uploaded") for o in out]

    def _one_batch(
        self,
        chunk: list[tuple[int, SmallUpload]],
        out: list[Outcome | None],
        cancel: threading.Event,
        on_its_own: Callable[[SmallUpload], RemoteFile],
    ) -> None:
        items: list[_Item] = []
        alone: list[tuple[int, SmallUpload]] = []
        try:
            for index, spec in chunk:
                try:
                    item = self._read(index, spec)
                except FileVaultError as exc:
                    self._report(uuid.uuid4().hex, spec, exc)
                    out[index] = exc
                    continue
                if item is None:
                    alone.append((index, spec))
                else:
                    items.append(item)
            if items:
                self._send_inline(items, out, alone, cancel)
        finally:
            for item in items:
                item.src.close()
        for index, spec in alone:
            try:
                out[index] = on_its_own(spec)
            except FileVaultError as exc:
                out[index] = exc

    def _read(self, index: int, spec: SmallUpload) -> _Item | None:
        """The file's bytes and checksum; None when it is too big for a batch."""
        src = SourceFile.open(spec.local_path, root=spec.root)
        try:
            if src.identity.size > SMALL_FILE_MAX:
                src.close()
                return None
            data = src.pread(src.identity.size, 0)
            src.check_unchanged()  # a write during the read would have torn it
        except BaseException:
            src.close()
            raise
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
        return _Item(index, spec, src, data, digest, uuid.uuid4().hex)

    def _send_inline(
        self,
        items: list[_Item],
        out: list[Outcome | None],
        alone: list[tuple[int, SmallUpload]],
        cancel: threading.Event,
    ) -> None:
        """Each group of files (at most INLINE_BATCH_BYTES) in one request that stores and
        records them."""
        for group in consecutive_groups(items, lambda i: len(i.data), INLINE_BATCH_BYTES):
            if not self._inline:
                self._send(group, out, alone, cancel)
                continue
            bucket = self._bucket()
            if cancel.is_set() or (
                bucket is not None and not bucket.consume(sum(len(i.data) for i in group), cancel)
            ):
                for item in group:
                    self._fail(
                        item, TransferCancelled(str(item.spec.local_path), aborted=True), out
                    )
                continue
            began = self._clock.monotonic()
            try:
                answers = self._api.upload_inline_batch([_inline_body(i) for i in group])
            except NotFoundError:
                log.info("the server has no inline uploads; using pre-signed batches")
                self._inline = False
                self._send(group, out, alone, cancel)
                continue
            except FileVaultError as exc:
                for item in group:
                    self._fail(item, exc, out)
                continue
            elapsed = self._clock.monotonic() - began
            for item, answer in zip(group, answers, strict=True):
                if isinstance(answer, ApiError):
                    self._refused(item, answer, out, alone)
                    continue
                out[item.index] = answer
                self._started(item)
                self._finished(item, answer, elapsed)

    def _send(
        self,
        items: list[_Item],
        out: list[Outcome | None],
        alone: list[tuple[int, SmallUpload]],
        cancel: threading.Event,
    ) -> None:
        answers = self._api.initiate_upload_batch([_upload_body(item) for item in items])
        started: list[_Item] = []
        for item, answer in zip(items, answers, strict=True):
            if isinstance(answer, ApiError):
                self._refused(item, answer, out, alone)
                continue
            item.ticket = answer
            started.append(item)
            self._started(item)
        began = self._clock.monotonic()
        # Files are completed in groups as their PUTs finish, not all at once at the end: each
        # PUT starts the server's processing workflow, which waits (retrying) until the file is
        # recorded, so recording them early saves those retries and gets them processed sooner.
        futures = {self._pool.submit(self._put, item, cancel): item for item in started}
        ready: list[_Item] = []
        for future in as_completed(futures):
            item, problem = futures[future], future.result()
            if problem is None:
                ready.append(item)
                if len(ready) >= COMPLETE_GROUP:
                    self._complete(ready, out, began)
                    ready = []
                continue
            self._abort(item)
            if isinstance(problem, PartUploadError) and problem.url_refused:
                alone.append((item.index, item.spec))  # a fresh session, on its own
            else:
                self._fail(item, problem, out)
        if ready:
            self._complete(ready, out, began)

    def _refused(
        self,
        item: _Item,
        answer: ApiError,
        out: list[Outcome | None],
        alone: list[tuple[int, SmallUpload]],
    ) -> None:
        """A batch refused ``item``: one too large for a batch goes on its own, any other
        refusal fails it."""
        if answer.code == "too_large_for_batch":
            alone.append((item.index, item.spec))
        else:
            self._fail(item, answer, out)

    def _complete(self, completing: list[_Item], out: list[Outcome | None], began: float) -> None:
        results = self._api.complete_upload_batch(
            [
                {
                    "upload_id": item.ticket.upload_id,
                    "sha256": base64.b64decode(item.sha256_b64).hex(),
                }
                for item in completing
                if item.ticket is not None
            ]
        )
        elapsed = self._clock.monotonic() - began
        for item, result in zip(completing, results, strict=True):
            if isinstance(result, ApiError):
                self._fail(item, result, out)
                continue
            out[item.index] = result
            self._finished(item, result, elapsed)

    def _started(self, item: _Item) -> None:
        self._emit(
            TransferStarted(
                item.transfer_id,
                Direction.UPLOAD,
                str(item.spec.local_path),
                item.spec.remote_path,
                len(item.data),
                0,
            )
        )

    def _finished(self, item: _Item, result: RemoteFile, elapsed: float) -> None:
        self._emit(
            TransferFinished(
                item.transfer_id,
                Direction.UPLOAD,
                str(item.spec.local_path),
                item.spec.remote_path,
                len(item.data),
                result.file_id,
                result.version_id,
                elapsed,
            )
        )

    def _put(self, item: _Item, cancel: threading.Event) -> FileVaultError | None:
        """Sends the bytes (retrying what is worth retrying); the error, or None when sent and
        the file is still exactly what was read."""
        assert item.ticket is not None
        url = item.ticket.parts[0].url

        def attempt() -> None:
            if cancel.is_set():
                raise Interrupted()
            bucket = self._bucket()
            if bucket is not None and not bucket.consume(len(item.data), cancel):
                raise Interrupted()
            self._sender.put(url, io.BytesIO(item.data), len(item.data), sha256_b64=item.sha256_b64)

        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception(_transient),
            sleep=lambda seconds: self._pause(cancel, seconds),
            reraise=True,
        )
        try:
            retrying(attempt)
            item.src.check_unchanged()
        except Interrupted:
            return TransferCancelled(str(item.spec.local_path), aborted=True)
        except FileVaultError as exc:
            return exc
        return None

    def _pause(self, cancel: threading.Event, seconds: float) -> None:
        if self._clock.wait(cancel, seconds):
            raise Interrupted()

    def _abort(self, item: _Item) -> None:
        if item.ticket is None:
            return
        try:
            self._api.abort_upload(item.ticket.upload_id)
        except FileVaultError as exc:  # it expires on its own
            log.debug("abort of %s: %s", item.ticket.upload_id, exc)

    def _fail(self, item: _Item, exc: FileVaultError, out: list[Outcome | None]) -> None:
        out[item.index] = exc
        self._report(item.transfer_id, item.spec, exc)

    def _report(self, transfer_id: str, spec: SmallUpload, exc: FileVaultError) -> None:
        self._emit(
            TransferFailed(
                transfer_id,
                Direction.UPLOAD,
                str(spec.local_path),
                spec.remote_path,
                failure_reason(exc),
                exc.message,
                False,
            )
        )


def _upload_body(item: _Item) -> dict[str, object]:
    """The item as the body of a one-file upload's start (``POST /uploads``)."""
    body: dict[str, object] = {
        "path": item.spec.remote_path,
        "size": len(item.data),
        "content_type": item.spec.content_type,
    }
    if item.spec.expected_version is not UNSET:
        body["expected_version"] = item.spec.expected_version
    return body


def _inline_body(item: _Item) -> dict[str, object]:
    """The item's fields as the API takes them, and its bytes (``content``)."""
    return {
        **_upload_body(item),
        "sha256": base64.b64decode(item.sha256_b64).hex(),
        "content": item.data,
    }


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, NetworkError):
        return True
    return isinstance(exc, PartUploadError) and (exc.transient or exc.digest_mismatch)
