"""The requests-based ``PartSender``: streams part bodies to pre-signed URLs.

The engine does its own retrying (it must re-hash, refresh URLs and honour cancellation), so
this adapter never retries: it makes one attempt and says what happened, mapping transport
failures to ``NetworkError`` (retryable) and HTTP answers to ``PartUploadError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from filevault_desktop.errors import NetworkError
from filevault_desktop.transfer.errors import PartUploadError, TransferError
from filevault_desktop.transfer.ports import Readable
from filevault_desktop.transfer.reader import CHUNK

# (connect, read): connecting is quick or broken; S3 may take a while to answer a large part
# after its last byte arrived. urllib3 also applies the connect value to each socket write.
DEFAULT_TIMEOUT = (10.0, 120.0)
_CODE = re.compile(r"<Code>([^<]{1,100})</Code>")
_MESSAGE = re.compile(r"<Message>([^<]{0,500})</Message>")


class _Body:
    """What requests sees: a length and ``read``; no ``fileno`` (it would stat the whole file)
    and no ``__iter__`` (requests would then send it chunked instead of with a length)."""

    def __init__(self, reader: Readable, length: int) -> None:
        self._reader = reader
        self._length = length

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1, /) -> bytes:
        return self._reader.read(size)


class _StreamingAdapter(HTTPAdapter):
    """Reads the body in ``CHUNK`` pieces rather than urllib3's 16 KiB (fewer syscalls)."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs.setdefault("blocksize", CHUNK)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def make_session(pool_size: int) -> requests.Session:
    """A session whose connection pool keeps one connection per worker alive."""
    session = requests.Session()
    adapter = _StreamingAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: rare for S3; the engine's own backoff applies


def _error(response: requests.Response) -> PartUploadError:
    text = response.text[:8192] if response.content else ""
    code = _CODE.search(text)
    message = _MESSAGE.search(text)
    return PartUploadError(
        response.status_code,
        code.group(1) if code else f"http_{response.status_code}",
        message.group(1) if message else (response.reason or "part upload refused"),
        retry_after=_retry_after(response),
    )


class RequestsPartSender:
    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        pool_size: int = 16,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        """``pool_size`` should be at least the engine's ``workers`` (each holds a connection)."""
        self._session = session or make_session(pool_size)
        self._timeout = timeout

    def close(self) -> None:
        self._session.close()

    def put(self, url: str, body: Readable, length: int, *, sha256_b64: str | None) -> str:
        # application/octet-stream: urllib's default form type breaks S3 query parsing (moto).
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
        if sha256_b64 is not None:
            headers["x-amz-checksum-sha256"] = sha256_b64
        # An empty body as bytes: a zero-length file-like object would make requests drop the
        # Content-Length header.
        data: _Body | bytes = _Body(body, length) if length else b""
        try:
            with self._session.put(url, data=data, headers=headers, timeout=self._timeout) as r:
                if not 200 <= r.status_code < 300:
                    raise _error(r)
                etag = r.headers.get("ETag")
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
            requests.exceptions.URLRequired,
        ) as exc:
            raise TransferError(f"the server sent an unusable part URL: {exc}") from exc
        except requests.RequestException as exc:  # connection, timeout, broken transfer
            raise NetworkError(f"sending a part failed: {exc}") from exc
        if not etag:
            raise PartUploadError(r.status_code, "no_etag", "the storage answered without an ETag")
        return etag.strip('"')


class RequestsFetcher:
    """Streams GETs of pre-signed URLs (the download half's edge adapter)."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        chunk_size: int = 1 << 20,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        pool_size: int = 8,
    ) -> None:
        """``pool_size`` should be at least the download engine's ``workers``."""
        self._session = session or make_session(pool_size)
        self._chunk = chunk_size
        self._timeout = timeout

    def fetch(self, url: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        headers = {} if start == 0 and end is None else {"Range": _range(start, end)}
        try:
            with self._session.get(
                url, stream=True, timeout=self._timeout, headers=headers
            ) as response:
                if response.status_code == 200 and start > 0:
                    # The server ignored the range: sending the whole body from 0 would land
                    # bytes at the wrong offset.
                    raise TransferError("the storage ignored a Range request")
                if response.status_code not in (200, 206):
                    raise _error(response)
                yield from response.iter_content(self._chunk)
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            raise NetworkError(f"download interrupted: {exc}") from exc


def _range(start: int, end: int | None) -> str:
    return f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}"
