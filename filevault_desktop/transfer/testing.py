"""Test doubles for the transfer ports: a manual clock and an in-memory upload server.

They live in the package (not under tests/) because code built on the engine, such as the sync
executor, needs the same doubles for its own tests. ``FakeUploadServer`` plays both the
FileVault upload API (``UploadApi``) and the S3 endpoint (``PartSender``) with the same rules
as the real ones: pre-signed URLs that expire, parts verified against their SHA-256, completion
that checks every part's ETag and checksum.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from filevault_desktop.api.models import PartUrl, RemoteFile, UploadTicket
from filevault_desktop.errors import ApiError, ConflictError, NotFoundError, QuotaError
from filevault_desktop.transfer.errors import PartUploadError
from filevault_desktop.transfer.ports import Readable


class ManualClock:
    """Time moves only when told to, or when someone waits (the wait "passes" instantly)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.waits: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        return self.monotonic()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if event.is_set():
            return True
        with self._lock:
            self._now += max(0.0, timeout)
            self.waits.append(timeout)
        return event.is_set()


@dataclass(frozen=True)
class PutRecord:
    upload_id: str
    part_number: int
    length: int
    sha256_b64: str | None
    url: str
    thread: str


@dataclass
class _Part:
    data: bytes
    etag: str
    sha256: str | None


@dataclass
class _Upload:
    upload_id: str
    file_id: str
    version_id: str
    path: str
    size: int
    mode: str
    part_size: int
    part_count: int
    content_type: str
    parts: dict[int, _Part] = field(default_factory=dict)
    url_generation: int = 0
    valid_from_generation: int = 0
    completed: RemoteFile | None = None


def _b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


class FakeUploadServer:
    """The FileVault upload API and an S3 endpoint, in memory, with hooks for failures.

    ``before_put(record)`` runs in the sender's thread before the body is read: raise from it to
    inject a failure, or block in it to hold a part in flight.
    """

    def __init__(
        self,
        *,
        part_size: int = 1024,
        single_put_max: int = 2048,
        quota: int = 1 << 40,
        clock: ManualClock | None = None,
        url_ttl_s: float = 3600.0,
        batch: int = 100,
    ) -> None:
        self.part_size = part_size
        self.single_put_max = single_put_max
        self.quota = quota
        self.clock = clock or ManualClock()
        self.url_ttl_s = url_ttl_s
        self.batch = batch
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.uploads: dict[str, _Upload] = {}
        self.files: dict[str, bytes] = {}
        self.versions: dict[str, str] = {}  # path -> current version id
        self.calls: list[tuple[str, Any]] = []
        self.puts: list[PutRecord] = []
        self.before_put: Callable[[PutRecord], None] | None = None
        # False: answers the inline route as a backend without it does (404).
        self.inline_supported = True
        self.active = 0
        self.max_active = 0

    # ----- helpers for tests -----
    def sent_parts(self) -> list[int]:
        return [p.part_number for p in self.puts]

    def calls_named(self, name: str) -> list[Any]:
        return [args for n, args in self.calls if n == name]

    def expire_urls(self, upload_id: str) -> None:
        """Every URL handed out so far for this upload is now refused (403), as when expired."""
        with self._lock:
            up = self.uploads[upload_id]
            up.valid_from_generation = up.url_generation + 1

    def forget(self, upload_id: str) -> None:
        """The server loses the upload session (expired, or the state was reset)."""
        with self._lock:
            del self.uploads[upload_id]

    # ----- UploadApi -----
    def _ticket(self, up: _Upload, numbers: list[int]) -> UploadTicket:
        up.url_generation += 1
        expires = self.clock.time() + self.url_ttl_s
        exp_iso = datetime.fromtimestamp(expires, UTC).isoformat(timespec="milliseconds")
        urls = [
            PartUrl(
                n, f"fake://s3/{up.upload_id}?partNumber={n}&gen={up.url_generation}&exp={expires}"
            )
            for n in numbers
        ]
        return UploadTicket(
            upload_id=up.upload_id,
            file_id=up.file_id,
            version_id=up.version_id,
            path=up.path,
            mode=up.mode,
            size=up.size,
            part_size=up.part_size,
            part_count=up.part_count,
            parts=urls,
            urls_expire_at=exp_iso.replace("+00:00", "Z"),
            expires_at=exp_iso.replace("+00:00", "Z"),
        )

    def initiate_upload(
        self,
        path: str,
        size: int,
        content_type: str = "application/octet-stream",
        **expected: str | None,
    ) -> UploadTicket:
        with self._lock:
            self.calls.append(("initiate_upload", (path, size, dict(expected))))
            if size > self.quota:
                raise QuotaError(413, "quota_exceeded", f"uploading {size} bytes is over quota")
            if "expected_version" in expected and expected["expected_version"] != (
                self.versions.get(path)
            ):
                raise ConflictError(409, "conflict", f"'{path}' is not at the expected version")
            n = next(self._ids)
            if size <= self.single_put_max:
                mode, part_size, part_count = "single", size, 1
            else:
                mode, part_size = "multipart", self.part_size
                part_count = -(-size // part_size)
            up = _Upload(f"u{n}", f"f-{path}", f"v{n}", path, size, mode, part_size, part_count,
                         content_type)  # fmt: skip
            self.uploads[up.upload_id] = up
            return self._ticket(up, list(range(1, min(part_count, self.batch) + 1)))

    def _pending(self, upload_id: str) -> _Upload:
        up = self.uploads.get(upload_id)
        if up is None:
            raise NotFoundError(404, "not_found", "no such upload")
        return up

    def part_urls(self, upload_id: str, part_numbers: list[int]) -> UploadTicket:
        with self._lock:
            self.calls.append(("part_urls", (upload_id, list(part_numbers))))
            up = self._pending(upload_id)
            if up.completed is not None:
                raise ConflictError(409, "conflict", "the upload is already complete")
            if len(part_numbers) > 1000 or any(not 1 <= n <= up.part_count for n in part_numbers):
                raise ApiError(400, "bad_request", "bad part numbers")
            return self._ticket(up, sorted(set(part_numbers)))

    def complete_upload(
        self,
        upload_id: str,
        parts: list[dict[str, Any]] | None = None,
        *,
        sha256: str | None = None,
    ) -> RemoteFile:
        with self._lock:
            self.calls.append(("complete_upload", (upload_id, parts)))
            up = self._pending(upload_id)
            if up.completed is not None:
                return up.completed
            if up.mode == "multipart":
                claimed = {int(p["part_number"]): p for p in parts or []}
                for n in range(1, up.part_count + 1):
                    stored = up.parts.get(n)
                    if stored is None:
                        raise ApiError(400, "parts_missing", f"part {n} not uploaded")
                    want = up.part_size if n < up.part_count else up.size - up.part_size * (n - 1)
                    if len(stored.data) != want:
                        raise ApiError(400, "part_size_mismatch", f"part {n} has a wrong size")
                    claim = claimed.get(n)
                    if claim is None or claim["etag"] != stored.etag:
                        raise ApiError(400, "part_mismatch", f"part {n} does not match")
                    if claim.get("sha256") is not None and claim["sha256"] != stored.sha256:
                        raise ApiError(400, "part_mismatch", f"part {n}'s SHA-256 differs")
                data = b"".join(up.parts[n].data for n in range(1, up.part_count + 1))
            else:
                if 1 not in up.parts:
                    raise ApiError(400, "not_uploaded", "no bytes were uploaded")
                data = up.parts[1].data
            if len(data) != up.size:
                raise ApiError(400, "size_mismatch", "size differs from the declared one")
            # As S3 + our backend: only a single PUT's stored checksum covers the whole file.
            if up.mode == "single" and sha256 not in (None, hashlib.sha256(data).hexdigest()):
                raise ApiError(400, "checksum_mismatch", "the file's SHA-256 differs")
            self.files[up.path] = data
            self.versions[up.path] = up.version_id
            up.completed = RemoteFile(
                file_id=up.file_id,
                path=up.path,
                name=up.path.rsplit("/", 1)[-1],
                size=up.size,
                content_type=up.content_type,
                version_id=up.version_id,
                etag=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                created_at="2026-01-01T00:00:00.000Z",
                modified_at="2026-01-01T00:00:00.000Z",
                state="active",
                sha256=sha256,
            )
            return up.completed

    def initiate_upload_batch(self, files: list[dict[str, Any]]) -> list[UploadTicket | ApiError]:
        """As the API: each item on its own; items above the single-PUT limit are refused."""
        with self._lock:
            self.calls.append(("initiate_upload_batch", len(files)))
        out: list[UploadTicket | ApiError] = []
        for f in files:
            if f["size"] > self.single_put_max:
                out.append(ApiError(400, "too_large_for_batch", "upload it on its own"))
                continue
            expected = {k: f[k] for k in ("expected_version",) if k in f}
            try:
                out.append(
                    self.initiate_upload(
                        f["path"],
                        f["size"],
                        f.get("content_type", "application/octet-stream"),
                        **expected,
                    )
                )
            except ApiError as exc:
                out.append(exc)
        return out

    def upload_inline_batch(self, files: list[dict[str, Any]]) -> list[RemoteFile | ApiError]:
        """As the API: each item's size and SHA-256 checked against its bytes, then stored."""
        with self._lock:
            self.calls.append(("upload_inline_batch", len(files)))
        if not self.inline_supported:
            raise NotFoundError(404, "not_found", "no such route")
        out: list[RemoteFile | ApiError] = []
        for f in files:
            data = f["content"]
            if f["size"] > self.single_put_max:
                out.append(ApiError(400, "too_large_for_batch", "upload it on its own"))
            elif len(data) != f["size"]:
                out.append(ApiError(400, "size_mismatch", "size differs from the declared one"))
            elif hashlib.sha256(data).hexdigest() != f["sha256"]:
                out.append(ApiError(400, "checksum_mismatch", "the file's SHA-256 differs"))
            else:
                expected = {k: f[k] for k in ("expected_version",) if k in f}
                try:
                    ticket = self.initiate_upload(
                        f["path"],
                        f["size"],
                        f.get("content_type", "application/octet-stream"),
                        **expected,
                    )
                    with self._lock:
                        up = self.uploads[ticket.upload_id]
                        up.parts[1] = _Part(
                            data, hashlib.md5(data, usedforsecurity=False).hexdigest(), None
                        )
                    out.append(self.complete_upload(ticket.upload_id, sha256=f["sha256"]))
                except ApiError as exc:
                    out.append(exc)
        return out

    def complete_upload_batch(self, uploads: list[dict[str, Any]]) -> list[RemoteFile | ApiError]:
        with self._lock:
            self.calls.append(("complete_upload_batch", len(uploads)))
        out: list[RemoteFile | ApiError] = []
        for u in uploads:
            try:
                out.append(
                    self.complete_upload(u["upload_id"], u.get("parts"), sha256=u.get("sha256"))
                )
            except ApiError as exc:
                out.append(exc)
        return out

    def abort_upload(self, upload_id: str) -> None:
        with self._lock:
            self.calls.append(("abort_upload", upload_id))
            up = self._pending(upload_id)
            if up.completed is not None:
                raise ConflictError(409, "conflict", "the upload is already complete")
            del self.uploads[upload_id]

    # ----- PartSender (the S3 endpoint) -----
    def put(self, url: str, body: Readable, length: int, *, sha256_b64: str | None) -> str:
        split = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        upload_id, n = split.path.strip("/"), int(query["partNumber"])
        record = PutRecord(upload_id, n, length, sha256_b64, url, threading.current_thread().name)
        with self._lock:
            self.puts.append(record)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.before_put is not None:
                self.before_put(record)
            with self._lock:
                up = self.uploads.get(upload_id)
                if up is None:
                    raise PartUploadError(404, "NoSuchUpload", "The upload does not exist")
                if (
                    int(query["gen"]) < up.valid_from_generation
                    or float(query["exp"]) < self.clock.time()
                ):
                    raise PartUploadError(403, "AccessDenied", "Request has expired")
            chunks = []
            while chunk := body.read(64 * 1024):
                chunks.append(chunk)
            data = b"".join(chunks)
            if len(data) != length:
                raise PartUploadError(400, "IncompleteBody", "body shorter than Content-Length")
            if sha256_b64 is not None and _b64sha(data) != sha256_b64:
                raise PartUploadError(400, "BadDigest", "The SHA256 you specified did not match")
            etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
            with self._lock:
                up = self.uploads.get(upload_id)
                if up is None:
                    raise PartUploadError(404, "NoSuchUpload", "The upload does not exist")
                up.parts[n] = _Part(data, etag, sha256_b64)
            return etag
        finally:
            with self._lock:
                self.active -= 1
