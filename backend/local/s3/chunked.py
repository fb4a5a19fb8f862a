"""Decoder for ``Content-Encoding: aws-chunked`` request bodies.

Framing (after any HTTP ``Transfer-Encoding: chunked`` layer has been removed)::

    <hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n   ... repeated ...
    0[;chunk-signature=<sig>]\\r\\n
    [<trailer-name>:<value>\\r\\n ...]            e.g. x-amz-checksum-crc32:<b64>
    \\r\\n

Recent SDKs send PutObject/UploadPart this way (unsigned payload with a checksum
trailer); the Java/Go SDKs over plain HTTP sign every chunk instead. Data is
yielded in bounded pieces: a chunk is never held whole in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Final, Protocol

from .errors import S3Error

_LINE_LIMIT: Final = 4096
_READ_BLOCK: Final = 64 * 1024
EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class ChunkValidator(Protocol):
    """Checks chained chunk signatures (``backend.local.sigv4.ChunkSignatureChain``)."""

    def verify_chunk(self, chunk_sha256_hex: str, signature: str) -> bool: ...
    def verify_trailer(self, canonical_trailers: str, signature: str) -> bool: ...


def _malformed(detail: str) -> S3Error:
    return S3Error("InvalidRequest", f"Malformed aws-chunked body: {detail}")


class _Source:
    """A small read buffer over the raw stream, for CRLF-terminated framing lines."""

    def __init__(self, raw: Readable) -> None:
        self._raw = raw
        self._buffer = bytearray()

    def readline(self) -> bytes | None:
        """One line without its CRLF; None at a clean end of stream."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line.removesuffix(b"\r")
            if len(self._buffer) > _LINE_LIMIT:
                raise _malformed("framing line too long")
            data = self._raw.read(_READ_BLOCK)
            if not data:
                if self._buffer:
                    line = bytes(self._buffer)
                    self._buffer.clear()
                    return line.removesuffix(b"\r")
                return None
            self._buffer += data

    def read_some(self, limit: int) -> bytes:
        """Up to ``limit`` bytes (fewer only at end of stream or buffer boundary)."""
        if self._buffer:
            piece = bytes(self._buffer[:limit])
            del self._buffer[:limit]
            return piece
        return self._raw.read(limit)


class AwsChunkedDecoder:
    """Iterate over the decoded data of an aws-chunked body; then read ``trailers``.

    With a ``validator`` every chunk must carry a valid chained signature
    (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``) and trailers, if any, a valid
    ``x-amz-trailer-signature``. Without one, signatures are ignored: the caller
    has decided the body needs no per-chunk authentication.
    """

    def __init__(
        self,
        raw: Readable,
        *,
        validator: ChunkValidator | None = None,
        piece_size: int = 1024 * 1024,
    ) -> None:
        self._source = _Source(raw)
        self._validator = validator
        self._piece_size = piece_size
        self.trailers: dict[str, str] = {}
        self.decoded_size = 0

    def _chunk_header(self) -> tuple[int, str | None]:
        line = self._source.readline()
        if line is None:
            raise S3Error("IncompleteBody", "The aws-chunked body ended before its last chunk")
        size_text, _, extensions = line.decode("latin-1").partition(";")
        size_text = size_text.strip()
        if not size_text or len(size_text) > 16:
            raise _malformed(f"bad chunk size line {line[:80]!r}")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _malformed(f"bad chunk size {size_text!r}") from None
        signature = None
        for extension in extensions.split(";"):
            name, _, value = extension.strip().partition("=")
            if name == "chunk-signature":
                signature = value.strip()
        if self._validator is not None and signature is None:
            raise S3Error("SignatureDoesNotMatch", "A chunk of a signed stream has no signature")
        return size, signature

    def _check_chunk(self, digest: str, signature: str | None) -> None:
        if (
            self._validator is not None
            and signature is not None
            and not self._validator.verify_chunk(digest, signature)
        ):
            raise S3Error(
                "SignatureDoesNotMatch",
                "The chunk signature we calculated does not match the one provided",
            )

    def __iter__(self) -> Iterator[bytes]:
        while True:
            size, signature = self._chunk_header()
            if size == 0:
                self._check_chunk(EMPTY_SHA256, signature)
                self._read_trailers()
                return
            chunk_hash = hashlib.sha256() if self._validator is not None else None
            remaining = size
            while remaining:
                piece = self._source.read_some(min(remaining, self._piece_size))
                if not piece:
                    raise S3Error("IncompleteBody", "The aws-chunked body ended inside a chunk")
                remaining -= len(piece)
                self.decoded_size += len(piece)
                if chunk_hash is not None:
                    chunk_hash.update(piece)
                yield piece
            if self._source.readline() != b"":
                raise _malformed("chunk data is not followed by CRLF")
            if chunk_hash is not None:
                self._check_chunk(chunk_hash.hexdigest(), signature)

    def _read_trailers(self) -> None:
        canonical: list[str] = []
        trailer_signature = None
        while True:
            line = self._source.readline()
            if not line:  # blank line or end of stream closes the trailer section
                break
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise _malformed(f"bad trailer line {line[:80]!r}")
            name = name.strip().lower()
            value = value.strip()
            if name == "x-amz-trailer-signature":
                trailer_signature = value
                continue
            self.trailers[name] = value
            canonical.append(f"{name}:{value}\n")
        if (
            self._validator is not None
            and self.trailers
            and (
                trailer_signature is None
                or not self._validator.verify_trailer("".join(canonical), trailer_signature)
            )
        ):
            raise S3Error(
                "SignatureDoesNotMatch", "The trailer signature does not match the trailers"
            )
