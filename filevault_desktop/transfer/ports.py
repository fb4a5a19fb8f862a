"""The small interfaces the transfer engine talks to.

The engine core imports no HTTP library, no AWS SDK and no Qt: it sees the API through
``UploadApi`` (which ``filevault_desktop.api.client.ApiClient`` satisfies structurally), the
storage endpoint through ``PartSender`` (``transfer.http.RequestsPartSender`` is the real one)
and time through ``Clock`` (so tests run retries, backoff and the bandwidth limit on a fake clock).
"""

from __future__ import annotations

import enum
import threading
import time
from typing import Any, Protocol

from filevault_desktop.api.models import RemoteFile, UploadTicket
from filevault_desktop.errors import ApiError


class Unset(enum.Enum):
    UNSET = "unset"


UNSET = Unset.UNSET
"""``expected_version`` default: no check (``None`` means "the path must not exist yet")."""


class UploadApi(Protocol):
    """The upload half of the FileVault HTTP API (errors: ``filevault_desktop.errors``)."""

    def initiate_upload(
        self,
        path: str,
        size: int,
        content_type: str = "application/octet-stream",
        **expected: str | None,
    ) -> UploadTicket: ...

    def part_urls(self, upload_id: str, part_numbers: list[int]) -> UploadTicket: ...

    def complete_upload(
        self,
        upload_id: str,
        parts: list[dict[str, Any]] | None = None,
        *,
        sha256: str | None = None,
    ) -> RemoteFile: ...

    def abort_upload(self, upload_id: str) -> None: ...

    def initiate_upload_batch(
        self, files: list[dict[str, Any]]
    ) -> list[UploadTicket | ApiError]: ...

    def complete_upload_batch(
        self, uploads: list[dict[str, Any]]
    ) -> list[RemoteFile | ApiError]: ...

    def upload_inline_batch(self, files: list[dict[str, Any]]) -> list[RemoteFile | ApiError]: ...


class Readable(Protocol):
    """A body to send: ``read(n)`` returns at most ``n`` bytes, ``b""`` at the end."""

    def read(self, size: int = -1, /) -> bytes: ...


class PartSender(Protocol):
    """PUTs one part (or a whole single-PUT body) to a pre-signed URL.

    ``body`` yields exactly ``length`` bytes and must be streamed, never read whole. When
    ``sha256_b64`` is given it is sent as ``x-amz-checksum-sha256`` so the storage endpoint
    verifies the bytes it received. Returns the part's ETag without quotes.

    Raises ``filevault_desktop.errors.NetworkError`` when the request may not have arrived
    (connection refused or reset, timeout) and ``transfer.errors.PartUploadError`` for a
    non-2xx answer; whatever ``body.read`` raises (cancellation, a changed file) propagates.
    """

    def put(self, url: str, body: Readable, length: int, *, sha256_b64: str | None) -> str: ...


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (intervals, rates, backoff)."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the epoch (journal ages, URL expiry)."""
        ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking early when ``event`` is set; returns it."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.wait(max(0.0, timeout))
