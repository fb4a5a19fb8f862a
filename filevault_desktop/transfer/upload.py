"""The upload engine: parallel, streamed, checksummed, resumable uploads through pre-signed URLs.

One ``upload_file`` call runs on the caller's thread, which initiates (or resumes) the upload
session, hands parts to a pool of worker threads, records each acknowledged part in the journal
and publishes events. Workers only read the file and PUT bytes. See ``ports`` for what the
engine needs from the outside world; nothing here knows about HTTP libraries or Qt.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tenacity import RetryCallState

from filevault_desktop.api.models import RemoteFile, UploadTicket
from filevault_desktop.errors import (
    ApiError,
    ConflictError,
    FileVaultError,
    NetworkError,
    NotFoundError,
)
from filevault_desktop.transfer.engine_base import EngineBase, RetryPolicy
from filevault_desktop.transfer.errors import (
    FileChangedError,
    PartUploadError,
    TransferCancelled,
    TransferError,
    failure_reason,
)
from filevault_desktop.transfer.events import (
    Direction,
    Subscriber,
    TransferFailed,
    TransferFinished,
    TransferStarted,
)
from filevault_desktop.transfer.journal import (
    UPLOAD_SESSION_TTL_S,
    DonePart,
    JournalEntry,
    UploadJournal,
)
from filevault_desktop.transfer.ports import (
    UNSET,
    Clock,
    PartSender,
    Unset,
    UploadApi,
)
from filevault_desktop.transfer.progress import DEFAULT_INTERVAL_S, ProgressMeter
from filevault_desktop.transfer.reader import Interrupted, PartReader, SourceFile
from filevault_desktop.transfer.small_files import SmallFileBatches, SmallUpload

log = logging.getLogger(__name__)

OCTET_STREAM = "application/octet-stream"
# The API accepts up to 1000 part numbers per call; 100 keeps each answer small and each batch
# of URLs fresh (they expire), while still costing only one API call per 100 parts.
URL_BATCH = 100
# A URL this close to expiry is replaced before use rather than sent and refused.
URL_REFRESH_MARGIN_S = 120.0
# Answers to ``complete`` meaning the journal's parts do not match the server's: start over.
_RESTART_CODES = frozenset(
    {"part_mismatch", "parts_missing", "part_size_mismatch", "not_uploaded", "size_mismatch"}
)


class _SessionGone(TransferError):
    """The server no longer knows the upload session (or disowns the journal's parts)."""

    def __init__(self, cause: FileVaultError) -> None:
        super().__init__(f"the upload session is gone: {cause.message}")
        self.cause = cause


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, NetworkError):
        return True
    if isinstance(exc, PartUploadError):
        # A refused URL is replaced before the next attempt; a digest mismatch with an unchanged
        # file means the bytes were damaged on the way (a changed file was raised already).
        return exc.transient or exc.url_refused or exc.digest_mismatch
    return False


def _parse_expiry(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return None


class _PartUrls:
    """Pre-signed part URLs, fetched lazily in batches and refreshed before they expire.

    The lock is held across the API call on purpose: workers that need a URL at the same time
    would otherwise each ask for the same batch.
    """

    def __init__(self, api: UploadApi, upload_id: str, wanted: list[int], clock: Clock) -> None:
        self._api = api
        self._upload_id = upload_id
        self._clock = clock
        self._lock = threading.Lock()
        self._wanted = sorted(wanted)  # parts still to send, for choosing what to prefetch
        self._urls: dict[int, tuple[str, float]] = {}

    def seed(self, ticket: UploadTicket) -> None:
        with self._lock:
            self._store(ticket)

    def _store(self, ticket: UploadTicket) -> None:
        # Without a readable expiry, assume the URLs are good for a few minutes.
        expires = _parse_expiry(ticket.urls_expire_at) or self._clock.time() + 300
        for part in ticket.parts:
            self._urls[part.part_number] = (part.url, expires)

    def _fresh(self, n: int) -> bool:
        hit = self._urls.get(n)
        return hit is not None and self._clock.time() < hit[1] - URL_REFRESH_MARGIN_S

    def get(self, n: int) -> str:
        with self._lock:
            if not self._fresh(n):
                # This part plus the next ones still needed (lowest first: the order they are
                # sent in), so the workers starting next find their URLs ready.
                batch = [n] + [m for m in self._wanted if m != n and not self._fresh(m)]
                try:
                    ticket = self._api.part_urls(self._upload_id, sorted(batch[:URL_BATCH]))
                except (NotFoundError, ConflictError) as exc:
                    raise _SessionGone(exc) from exc
                self._store(ticket)
            hit = self._urls.get(n)
            if hit is None:
                raise TransferError(f"the server sent no URL for part {n}")
            return hit[0]

    def invalidate(self, n: int, url: str) -> None:
        with self._lock:
            if self._urls.get(n, ("", 0.0))[0] == url:
                del self._urls[n]

    def finished(self, n: int) -> None:
        with self._lock:
            self._urls.pop(n, None)
            if n in self._wanted:
                self._wanted.remove(n)


@dataclass
class _Session:
    """One upload session being driven by ``upload_file`` (fresh or resumed from the journal)."""

    upload_id: str
    mode: str
    size: int
    part_size: int
    part_count: int
    done: dict[int, DonePart]
    urls: _PartUrls

    @property
    def single(self) -> bool:
        return self.mode == "single"

    def span(self, n: int) -> tuple[int, int]:
        """Offset and length of part ``n`` (a single PUT is part 1 spanning the whole file)."""
        if self.single:
            return 0, self.size
        offset = (n - 1) * self.part_size
        return offset, min(self.part_size, self.size - offset)

    def missing(self) -> list[int]:
        return [n for n in range(1, self.part_count + 1) if n not in self.done]

    def bytes_done(self) -> int:
        return sum(self.span(n)[1] for n in self.done)


class UploadEngine(EngineBase):
    """Uploads files through the FileVault API; safe to call from several threads at once.

    ``workers`` threads are shared by all concurrent ``upload_file`` calls, as is the bandwidth
    limit. Events go to ``on_event`` on the calling thread.
    """

    def __init__(
        self,
        api: UploadApi,
        sender: PartSender,
        journal: UploadJournal,
        *,
        workers: int = 8,
        bandwidth_limit_bps: float | None = None,
        clock: Clock | None = None,
        on_event: Subscriber | None = None,
        retry: RetryPolicy | None = None,
        progress_interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._api = api
        self._sender = sender
        self._journal = journal
        super().__init__(
            workers=workers,
            pool_name="filevault-upload",
            clock=clock,
            on_event=on_event,
            retry=retry,
            bandwidth_limit_bps=bandwidth_limit_bps,
            progress_interval_s=progress_interval_s,
        )
        for upload_id in journal.remove_stale(self._clock.time(), UPLOAD_SESSION_TTL_S):
            log.info("dropped stale upload journal entry %s", upload_id)

    # ----- the one public operation -----
    def upload_file(
        self,
        local_path: str | os.PathLike[str],
        remote_path: str,
        *,
        content_type: str = OCTET_STREAM,
        expected_version: str | Unset | None = UNSET,
        cancel: threading.Event | None = None,
        abort_on_cancel: bool = False,
        root: Path | None = None,
        follow_symlinks: bool = False,
        sha256: str | None = None,
    ) -> RemoteFile:
        """Uploads ``local_path`` to ``remote_path`` and returns the new version's metadata.

        Resumes an interrupted upload of the same file to the same path from the journal.
        ``expected_version`` is passed to the API (optimistic concurrency). When ``cancel`` is
        set, stops promptly and raises ``TransferCancelled``, keeping the journal so a later
        call resumes, or discarding the upload when ``abort_on_cancel``. ``root`` and
        ``follow_symlinks`` decide which symbolic links may be followed (see
        ``SourceFile.open``). Raises ``FileChangedError`` when the file changes meanwhile.
        ``sha256`` (hex, of the whole file) is recorded with the version when the caller already
        knows it; a single-PUT upload derives it from the checksum it sends anyway.
        """
        cancel = cancel or threading.Event()
        transfer_id = uuid.uuid4().hex
        # The journal's key: normalized but not resolved, so it names what the caller named.
        local_key = os.path.abspath(os.fspath(local_path))  # noqa: PTH100
        shown = os.fspath(local_path)
        expected = {} if expected_version is UNSET else {"expected_version": expected_version}
        request = json.dumps({"content_type": content_type, **expected}, sort_keys=True)
        started = self._clock.monotonic()
        try:
            with SourceFile.open(local_path, root=root, follow_symlinks=follow_symlinks) as src:
                if cancel.is_set():
                    raise TransferCancelled(shown, aborted=False)
                # One restart at most: a session the server forgot is started afresh once; a
                # second loss in a row is a real problem to report, not to loop on.
                for attempt in (1, 2):
                    session = self._open_session(
                        src, local_key, remote_path, content_type, expected, request
                    )
                    try:
                        remote = self._drive(
                            transfer_id, src, session, remote_path, cancel, abort_on_cancel, sha256
                        )
                    except _SessionGone as gone:
                        log.warning("upload %s: %s; starting over", session.upload_id, gone)
                        self._discard(session.upload_id)
                        if attempt == 2:
                            raise gone.cause from gone
                        continue
                    self._emit(
                        TransferFinished(
                            transfer_id,
                            Direction.UPLOAD,
                            shown,
                            remote_path,
                            session.size,
                            remote.file_id,
                            remote.version_id,
                            self._clock.monotonic() - started,
                        )
                    )
                    return remote
                raise AssertionError("unreachable")
        except FileVaultError as exc:
            resumable = self._journal.find(local_key, remote_path) is not None
            self._emit(
                TransferFailed(
                    transfer_id,
                    Direction.UPLOAD,
                    shown,
                    remote_path,
                    failure_reason(exc),
                    exc.message,
                    resumable,
                )
            )
            raise

    def upload_small_files(
        self, specs: list[SmallUpload], cancel: threading.Event | None = None
    ) -> list[RemoteFile | FileVaultError]:
        """Uploads many small files with two API calls per hundred (see ``small_files``);
        one outcome per file, in order. Larger files among them go one by one."""
        cancel = cancel or threading.Event()
        batches = SmallFileBatches(
            self._api,
            self._sender,
            self._pool,
            self._clock,
            attempts=self._retry.attempts,
            wait=self._jitter,
            bucket=lambda: self._bucket,
            emit=self._emit,
        )

        def on_its_own(spec: SmallUpload) -> RemoteFile:
            return self.upload_file(
                spec.local_path,
                spec.remote_path,
                content_type=spec.content_type,
                expected_version=spec.expected_version,
                cancel=cancel,
                root=spec.root,
            )

        return batches.upload(specs, cancel, on_its_own)

    # ----- session set-up -----
    def _open_session(
        self,
        src: SourceFile,
        local_key: str,
        remote_path: str,
        content_type: str,
        expected: dict[str, str | None],
        request: str,
    ) -> _Session:
        entry = self._journal.find(local_key, remote_path)
        if entry is not None:
            why = self._unusable(entry, src, request)
            if why is None:
                missing = [n for n in range(1, entry.part_count + 1) if n not in entry.parts]
                session = _Session(
                    entry.upload_id,
                    entry.mode,
                    entry.identity.size,
                    entry.part_size,
                    entry.part_count,
                    dict(entry.parts),
                    _PartUrls(self._api, entry.upload_id, missing, self._clock),
                )
                log.info(
                    "resuming upload %s of %s: %d of %d parts already sent",
                    entry.upload_id,
                    local_key,
                    len(entry.parts),
                    entry.part_count,
                )
                return session
            log.info("not resuming upload %s of %s: %s", entry.upload_id, local_key, why)
            self._discard(entry.upload_id)
        size = src.identity.size
        # Over quota, a conflict, no session: the API refuses here and nothing is sent.
        ticket = self._api.initiate_upload(remote_path, size, content_type, **expected)
        if ticket.mode not in ("single", "multipart") or ticket.size != size:
            raise TransferError(f"the server answered an unexpected upload plan ({ticket.mode})")
        part_count = 1 if ticket.mode == "single" else ticket.part_count
        entry = JournalEntry(
            local_path=local_key,
            remote_path=remote_path,
            identity=src.identity,
            upload_id=ticket.upload_id,
            file_id=ticket.file_id,
            version_id=ticket.version_id,
            mode=ticket.mode,
            part_size=ticket.part_size,
            part_count=part_count,
            request=request,
            created_at=self._clock.time(),
        )
        # Journaled before any byte goes out, so even a crash during the first part resumes.
        self._journal.begin(entry)
        urls = _PartUrls(self._api, ticket.upload_id, list(range(1, part_count + 1)), self._clock)
        urls.seed(ticket)
        return _Session(ticket.upload_id, ticket.mode, size, ticket.part_size, part_count, {}, urls)

    def _unusable(self, entry: JournalEntry, src: SourceFile, request: str) -> str | None:
        diff = entry.identity.difference(src.identity)
        if diff:
            return f"the file changed since ({diff})"
        if entry.request != request:
            return "asked with a different content type or expected version"
        if self._clock.time() - entry.created_at > UPLOAD_SESSION_TTL_S:
            return "the server's upload session has expired"
        return None

    def _discard(self, upload_id: str) -> None:
        """Forgets an upload here and, best effort, on the server (it frees the parts)."""
        self._journal.remove(upload_id)
        try:
            self._api.abort_upload(upload_id)
        except FileVaultError as exc:  # already gone, or unreachable: it expires on its own
            log.debug("abort of upload %s: %s", upload_id, exc)

    # ----- running a session -----
    def _drive(
        self,
        transfer_id: str,
        src: SourceFile,
        session: _Session,
        remote_path: str,
        cancel: threading.Event,
        abort_on_cancel: bool,
        sha256: str | None,
    ) -> RemoteFile:
        meter = ProgressMeter(
            transfer_id,
            src.path,
            remote_path,
            session.size,
            self._clock,
            done=session.bytes_done(),
            interval_s=self._interval,
        )
        self._emit(
            TransferStarted(
                transfer_id, Direction.UPLOAD, src.path, remote_path, session.size, meter.done
            )
        )
        try:
            self._send_missing(src, session, meter, cancel)
            if cancel.is_set():
                raise Interrupted()
            # The last word on the file: whatever we sent must be what is on disk now.
            src.check_unchanged()
            remote = self._complete(session, sha256)
        except Interrupted:
            if abort_on_cancel:
                self._discard(session.upload_id)
            raise TransferCancelled(src.path, aborted=abort_on_cancel) from None
        except FileChangedError:
            self._discard(session.upload_id)
            raise
        self._journal.remove(session.upload_id)
        self._emit_progress(meter, force=True)
        return remote

    def _complete(self, session: _Session, sha256: str | None) -> RemoteFile:
        parts = None
        if session.single:
            part = session.done.get(1)
            if sha256 is None and part is not None and part.sha256:
                sha256 = base64.b64decode(part.sha256).hex()
        else:
            parts = [
                {"part_number": p.part_number, "etag": p.etag, "sha256": p.sha256}
                for _, p in sorted(session.done.items())
            ]
        try:
            return self._api.complete_upload(session.upload_id, parts, sha256=sha256)
        except (NotFoundError, ConflictError) as exc:
            raise _SessionGone(exc) from exc
        except ApiError as exc:
            if exc.status == 400 and exc.code in _RESTART_CODES:
                raise _SessionGone(exc) from exc
            raise

    def _send_missing(
        self, src: SourceFile, session: _Session, meter: ProgressMeter, cancel: threading.Event
    ) -> None:
        """Sends every part not yet done, ``workers`` at a time, journaling each as it lands."""
        stop = threading.Event()  # set on cancel or on the first failure: workers wind down
        todo: Iterator[int] = iter(session.missing())
        inflight: dict[Future[DonePart], int] = {}
        failure: BaseException | None = None
        # Two per worker: a worker that finishes a part finds the next already queued.
        window = 2 * self._workers
        try:
            while True:
                while not stop.is_set() and len(inflight) < window:
                    n = next(todo, None)
                    if n is None:
                        break
                    inflight[self._pool.submit(self._send_part, src, session, n, meter, stop)] = n
                if not inflight:
                    break
                finished, _ = wait(inflight, timeout=self._interval, return_when=FIRST_COMPLETED)
                if cancel.is_set():
                    stop.set()
                for future in finished:
                    n = inflight.pop(future)
                    exc = future.exception()
                    if exc is None:
                        part = future.result()
                        self._journal.record_part(session.upload_id, part)
                        session.done[n] = part
                        session.urls.finished(n)
                    elif failure is None and not isinstance(exc, Interrupted):
                        failure = exc
                        stop.set()
                self._emit_progress(meter)
        finally:
            # Never leave workers reading a file the caller is about to close.
            stop.set()
            for future in inflight:
                future.cancel()
            wait(inflight)
        # A cancel wins over errors it may have caused (a part cut off mid-flight).
        if failure is not None and not cancel.is_set():
            raise failure

    def _send_part(
        self,
        src: SourceFile,
        session: _Session,
        n: int,
        meter: ProgressMeter,
        stop: threading.Event,
    ) -> DonePart:
        """Runs on a worker: one part, with retries. Returns what the journal records."""
        offset, length = session.span(n)

        def attempt() -> DonePart:
            if stop.is_set():
                raise Interrupted()
            src.check_unchanged()  # fail fast instead of sending a doomed part
            # The checksum header precedes the body, so the part is read twice: once to hash
            # it, once to send it. Reading twice beats holding a part (up to hundreds of MiB)
            # in memory; the storage refuses the part (BadDigest) if the bytes changed between
            # the two reads, and the retry looks at the file again.
            sha256 = src.sha256_b64(offset, length, stop)
            url = session.urls.get(n)
            reader = PartReader(
                src, offset, length, stop=stop, bucket=self._bucket, on_bytes=meter.add
            )
            try:
                etag = self._sender.put(url, reader, length, sha256_b64=sha256)
            except PartUploadError as exc:
                meter.add(-reader.sent)
                if exc.upload_gone:
                    raise _SessionGone(exc) from exc
                if exc.url_refused:
                    session.urls.invalidate(n, url)
                if exc.digest_mismatch:
                    src.check_unchanged()
                raise
            except BaseException:
                meter.add(-reader.sent)
                raise
            if reader.sent != length:
                meter.add(-reader.sent)
                raise TransferError(f"part {n}: the sender sent {reader.sent} of {length} bytes")
            return DonePart(n, etag.strip('"'), sha256)

        retrying = self._retrying(f"part {n}", stop, _retryable)
        result: DonePart = retrying(attempt)
        return result

    def _backoff(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, PartUploadError) and exc.url_refused and state.attempt_number == 1:
            # The refused URL was replaced; waiting would not make the new one any better. A
            # second refusal in a row is something else (clock skew?) and backs off as usual.
            return 0.0
        delay = float(self._jitter(state))
        if isinstance(exc, PartUploadError) and exc.retry_after:
            delay = max(delay, min(exc.retry_after, self._retry.max_wait_s))
        return delay

    def _pause(self, stop: threading.Event, seconds: float) -> None:
        if self._waited_out(stop, seconds):
            raise Interrupted()
