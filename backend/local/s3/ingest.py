"""Streaming a request body into a temporary blob file while checking its integrity.

Nothing is accepted until every check passed: MD5 (the ETag, and Content-MD5),
the x-amz-checksum-* values (headers or aws-chunked trailers), a hex
x-amz-content-sha256, and the declared length. On any failure the temporary
file is removed, so a bad upload never reaches the store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from . import checksums
from .chunked import AwsChunkedDecoder, ChunkValidator, Readable
from .errors import S3Error

CHUNK_SIZE: Final = 1024 * 1024
_HEX_SHA256: Final = re.compile(r"^[0-9a-fA-F]{64}$")
# x-amz-checksum-<word> headers that are not checksum values.
_NOT_CHECKSUM_VALUES: Final = frozenset({"mode", "algorithm", "type"})


@dataclass(frozen=True)
class IncomingBody:
    """A request body plus everything the request says about its integrity."""

    stream: Readable
    # Bytes on the wire (None when the HTTP layer de-chunked an unknown length).
    content_length: int | None
    aws_chunked: bool = False
    # x-amz-decoded-content-length: the object's real size for aws-chunked bodies.
    decoded_length: int | None = None
    content_md5: str | None = None
    # x-amz-content-sha256 as sent; only a hex value is checked against the body.
    content_sha256: str | None = None
    # algorithm -> expected base64 value, from x-amz-checksum-* request headers.
    checksums: Mapping[str, str] = field(default_factory=dict)
    # Trailer names announced in x-amz-trailer (aws-chunked only).
    trailer_names: tuple[str, ...] = ()
    # Algorithm to compute even without an expected value (x-amz-sdk-checksum-algorithm).
    checksum_algorithm: str | None = None
    # Per-chunk signature checker for STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies.
    chunk_validator: ChunkValidator | None = None

    @classmethod
    def from_bytes(cls, data: bytes, **kwargs: object) -> IncomingBody:
        """A body held in memory (tests, small internal writes)."""
        return cls(stream=io.BytesIO(data), content_length=len(data), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_headers(
        cls,
        stream: Readable,
        headers: Mapping[str, str],
        *,
        content_length: int | None,
        chunk_validator: ChunkValidator | None = None,
    ) -> IncomingBody:
        """Build from request headers (any case). Raises S3Error for malformed values."""
        lowered = {k.lower(): v for k, v in headers.items()}
        content_sha256 = lowered.get("x-amz-content-sha256")
        encodings = [e.strip().lower() for e in lowered.get("content-encoding", "").split(",")]
        aws_chunked = "aws-chunked" in encodings or (
            content_sha256 is not None and content_sha256.upper().startswith("STREAMING-")
        )
        expected: dict[str, str] = {}
        for name, value in lowered.items():
            if name.startswith("x-amz-checksum-"):
                suffix = name.removeprefix("x-amz-checksum-")
                if suffix not in _NOT_CHECKSUM_VALUES:
                    algorithm = checksums.normalize_algorithm(suffix)
                    checksums.decode(algorithm, value)
                    expected[algorithm] = value.strip()
        trailers = tuple(
            t.strip().lower() for t in lowered.get("x-amz-trailer", "").split(",") if t.strip()
        )
        for trailer in trailers:
            if trailer.startswith("x-amz-checksum-"):
                checksums.normalize_algorithm(trailer.removeprefix("x-amz-checksum-"))
        sdk_algorithm = lowered.get("x-amz-sdk-checksum-algorithm")
        decoded = lowered.get("x-amz-decoded-content-length")
        content_md5 = lowered.get("content-md5")
        if content_md5 is not None:
            _decode_md5(content_md5)
        return cls(
            stream=stream,
            content_length=content_length,
            aws_chunked=aws_chunked,
            decoded_length=_parse_length(decoded, "x-amz-decoded-content-length"),
            content_md5=content_md5,
            content_sha256=content_sha256,
            checksums=expected,
            trailer_names=trailers,
            checksum_algorithm=(
                checksums.normalize_algorithm(sdk_algorithm) if sdk_algorithm else None
            ),
            chunk_validator=chunk_validator,
        )

    def algorithms(self) -> set[str]:
        """Every checksum algorithm this body asks us to compute."""
        wanted = set(self.checksums)
        if self.checksum_algorithm:
            wanted.add(self.checksum_algorithm)
        for trailer in self.trailer_names:
            if trailer.startswith("x-amz-checksum-"):
                wanted.add(checksums.normalize_algorithm(trailer.removeprefix("x-amz-checksum-")))
        return wanted


@dataclass(frozen=True)
class WrittenBlob:
    """A verified body sitting in a temporary file, ready to be adopted by the store."""

    path: Path
    size: int
    md5_hex: str
    # algorithm -> base64 value, for every algorithm computed (all verified).
    checksums: Mapping[str, str]

    @property
    def etag(self) -> str:
        return f'"{self.md5_hex}"'


def _parse_length(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        raise S3Error("InvalidArgument", f"{name} must be an integer") from None
    if length < 0:
        raise S3Error("InvalidArgument", f"{name} must not be negative")
    return length


def _decode_md5(value: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.") from None
    if len(raw) != 16:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
    return raw


def _plain_pieces(stream: Readable, length: int | None) -> Iterator[bytes]:
    remaining = length
    while remaining is None or remaining > 0:
        piece = stream.read(CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining))
        if not piece:
            if remaining:
                raise S3Error(
                    "IncompleteBody",
                    "You did not provide the number of bytes specified by the Content-Length",
                )
            return
        if remaining is not None:
            remaining -= len(piece)
        yield piece


def write_blob(
    body: IncomingBody,
    tmp_dir: Path,
    *,
    max_size: int,
    extra_algorithms: Iterable[str] = (),
    fsync: bool = True,
) -> WrittenBlob:
    """Stream ``body`` to a new file in ``tmp_dir``, verifying it; the caller adopts the file."""
    algorithms = body.algorithms() | set(extra_algorithms)
    hashers = {algorithm: checksums.new_hasher(algorithm) for algorithm in sorted(algorithms)}
    md5 = hashlib.md5(usedforsecurity=False)
    check_sha256 = body.content_sha256 is not None and bool(_HEX_SHA256.match(body.content_sha256))
    sha256 = hashlib.sha256() if check_sha256 else None
    declared = body.decoded_length if body.aws_chunked else body.content_length
    if declared is not None and declared > max_size:
        raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")

    decoder = None
    if body.aws_chunked:
        decoder = AwsChunkedDecoder(body.stream, validator=body.chunk_validator)
        pieces: Iterable[bytes] = decoder
    else:
        pieces = _plain_pieces(body.stream, body.content_length)

    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
    path = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            for piece in pieces:
                size += len(piece)
                if size > max_size:
                    raise S3Error(
                        "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                    )
                out.write(piece)
                md5.update(piece)
                if sha256 is not None:
                    sha256.update(piece)
                for hasher in hashers.values():
                    hasher.update(piece)
            if fsync:
                out.flush()
                os.fsync(out.fileno())
        if body.aws_chunked and body.decoded_length is not None and size != body.decoded_length:
            raise S3Error(
                "IncompleteBody",
                "The decoded body length does not match x-amz-decoded-content-length",
            )
        computed = {a: checksums.encode(h.digest()) for a, h in hashers.items()}
        _verify(body, decoder, md5.digest(), sha256, computed)
        return WrittenBlob(path=path, size=size, md5_hex=md5.hexdigest(), checksums=computed)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _verify(
    body: IncomingBody,
    decoder: AwsChunkedDecoder | None,
    md5_digest: bytes,
    sha256: hashlib._Hash | None,
    computed: Mapping[str, str],
) -> None:
    if body.content_md5 is not None and _decode_md5(body.content_md5) != md5_digest:
        raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
    if (
        sha256 is not None
        and body.content_sha256 is not None
        and sha256.hexdigest() != body.content_sha256.lower()
    ):
        raise S3Error(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    expected = dict(body.checksums)
    if decoder is not None:
        for trailer in body.trailer_names:
            if trailer.startswith("x-amz-checksum-") and trailer not in decoder.trailers:
                raise S3Error("InvalidRequest", f"The announced trailer {trailer} was not sent")
        for name, value in decoder.trailers.items():
            if name.startswith("x-amz-checksum-"):
                algorithm = checksums.normalize_algorithm(name.removeprefix("x-amz-checksum-"))
                if algorithm not in computed:
                    raise S3Error("InvalidRequest", f"Trailer {name} was not announced")
                checksums.decode(algorithm, value)
                expected[algorithm] = value
    for algorithm, value in expected.items():
        if computed.get(algorithm) != value.strip():
            raise S3Error(
                "BadDigest",
                f"The {algorithm.upper()} you specified did not match the calculated checksum.",
            )
