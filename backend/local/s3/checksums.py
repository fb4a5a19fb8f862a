"""S3's additional checksums (x-amz-checksum-*): CRC32, SHA-1 and SHA-256.

CRC32C and CRC64NVME need native code we do not ship (botocore itself only
offers them with awscrt installed); requests naming them get a clear 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Iterable
from typing import Final, Protocol

from .errors import S3Error

SUPPORTED: Final = ("crc32", "sha1", "sha256")
_KNOWN_UNSUPPORTED: Final = ("crc32c", "crc64nvme")
_DIGEST_SIZE: Final = {"crc32": 4, "sha1": 20, "sha256": 32}


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


class Crc32:
    """CRC32 (as zlib computes it), with the hashlib-style interface."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes, /) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def normalize_algorithm(name: str) -> str:
    """'CRC32' / 'crc32' -> 'crc32'; 400 for an algorithm we cannot compute."""
    algorithm = name.strip().lower()
    if algorithm in SUPPORTED:
        return algorithm
    if algorithm in _KNOWN_UNSUPPORTED:
        raise S3Error(
            "InvalidRequest",
            f"Checksum algorithm {name.upper()} is not supported by the local stack; "
            "use CRC32, SHA1 or SHA256",
        )
    raise S3Error("InvalidRequest", f"Unknown checksum algorithm: {name}")


def new_hasher(algorithm: str) -> Hasher:
    if algorithm == "crc32":
        return Crc32()
    if algorithm == "sha1":
        return hashlib.sha1(usedforsecurity=False)
    return hashlib.sha256()


def encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def decode(algorithm: str, value: str) -> bytes:
    """Decode a base64 checksum value, checking its length for the algorithm."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise S3Error(
            "InvalidRequest", f"Value for x-amz-checksum-{algorithm} is not base64"
        ) from None
    if len(raw) != _DIGEST_SIZE[algorithm]:
        raise S3Error(
            "InvalidRequest", f"Value for x-amz-checksum-{algorithm} has the wrong length"
        )
    return raw


def header_name(algorithm: str) -> str:
    return f"x-amz-checksum-{algorithm}"


def xml_name(algorithm: str) -> str:
    return {"crc32": "ChecksumCRC32", "sha1": "ChecksumSHA1", "sha256": "ChecksumSHA256"}[algorithm]


def composite(algorithm: str, part_checksums: Iterable[str]) -> str:
    """S3's COMPOSITE multipart checksum: hash of the concatenated part digests, '-N'."""
    hasher = new_hasher(algorithm)
    count = 0
    for value in part_checksums:
        hasher.update(decode(algorithm, value))
        count += 1
    return f"{encode(hasher.digest())}-{count}"


# --- CRC32 of a concatenation from the parts' CRCs (zlib's crc32_combine) -----
# Lets CompleteMultipartUpload produce a FULL_OBJECT CRC32 without reading the
# parts again.


def _gf2_times(matrix: list[int], vector: int) -> int:
    total = 0
    index = 0
    while vector:
        if vector & 1:
            total ^= matrix[index]
        vector >>= 1
        index += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC32 of A+B given crc32(A), crc32(B) and len(B)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << (n - 1) for n in range(1, 32)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def full_object_crc32(parts: Iterable[tuple[str, int]]) -> str:
    """Whole-object CRC32 (base64) from (part CRC32 base64, part size) pairs."""
    crc = 0
    for value, size in parts:
        part_crc = int.from_bytes(decode("crc32", value), "big")
        crc = crc32_combine(crc, part_crc, size)
    return encode(crc.to_bytes(4, "big"))
