"""Where downloaded bytes land: a temporary file beside the target, checked against the file's
record, flushed, then renamed over the target. Shared by the ranged and the inline downloads,
so both keep the same promise: the target changes only to complete, verified bytes."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import AuthError, FileVaultError, NetworkError
from filevault_desktop.transfer.errors import TransferCancelled, TransferError
from filevault_desktop.transfer.events import FailureReason

PARTIAL_SUFFIX = ".filevault-part"
"""Partial downloads end with this (sync ignores them; a later download resumes them)."""
TAG_LENGTH = 12
_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")


class NoSpaceError(TransferError):
    """The target's disk cannot hold the file; nothing was replaced."""


def partial_path(target: Path, remote: RemoteFile) -> Path:
    digest = hashlib.sha256(f"{remote.file_id}/{remote.version_id}".encode()).hexdigest()
    return target.parent / f".{target.name}.{digest[:TAG_LENGTH]}{PARTIAL_SUFFIX}"


def failure_of(exc: FileVaultError) -> FailureReason:
    """How a failed download is reported to subscribers."""
    if isinstance(exc, TransferCancelled):
        return FailureReason.CANCELLED
    if isinstance(exc, NoSpaceError):
        return FailureReason.NO_SPACE
    if isinstance(exc, NetworkError):
        return FailureReason.NETWORK
    if isinstance(exc, AuthError):
        return FailureReason.AUTH
    return FailureReason.REFUSED


def verify_chunks(remote: RemoteFile, chunks: Iterable[bytes]) -> None:
    """Raises TransferError unless ``chunks`` are the bytes ``remote`` records: its SHA-256, else
    its ETag when that is a plain MD5 (a multipart ETag is not a digest of the bytes: then the
    size, checked by the caller, is all there is)."""
    digest: Any
    if remote.sha256:
        digest, expected, kind = hashlib.sha256(), remote.sha256, "SHA-256"
    elif _PLAIN_MD5.match(remote.etag):  # S3's ETag of a single-PUT object is its MD5
        digest, expected, kind = hashlib.md5(usedforsecurity=False), remote.etag, "MD5"
    else:
        return
    for chunk in chunks:
        digest.update(chunk)
    if digest.hexdigest() != expected:
        raise TransferError(
            f"download of {remote.path} was corrupted ({kind} differs); "
            "the existing file is untouched; try again"
        )


def verify_bytes(remote: RemoteFile, data: bytes) -> None:
    if len(data) != remote.size:
        raise TransferError(
            f"download of {remote.path} has {len(data)} of {remote.size} bytes; try again"
        )
    verify_chunks(remote, (data,))


def write_new_file(target: Path, remote: RemoteFile, data: bytes) -> None:
    """Puts ``data`` (verified) at ``target`` in one rename, after it reached the disk."""
    partial = partial_path(target, remote)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise TransferError(f"cannot write in {target.parent}: {exc.strerror or exc}") from exc
    try:
        try:
            pwrite_all(fd, data, 0, remote.size)
            flush(fd)
        finally:
            os.close(fd)
        try:
            partial.replace(target)
        except OSError as exc:
            raise TransferError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def flush(fd: int) -> None:
    os.fdatasync(fd) if hasattr(os, "fdatasync") else os.fsync(fd)


def pwrite_all(fd: int, data: bytes, offset: int, needed: int) -> None:
    """Writes all of ``data`` at ``offset``; a full disk is a NoSpaceError (``needed``: the
    file's size, for the message)."""
    view = memoryview(data)
    try:
        while view:
            n = os.pwrite(fd, view, offset)
            view = view[n:]
            offset += n
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise NoSpaceError(
                f"the disk is full ({needed:,} bytes needed); the existing file is untouched"
            ) from exc
        raise TransferError(f"cannot write the download: {exc.strerror or exc}") from exc


def no_space(remote: RemoteFile, target: Path) -> str:
    return (
        f"not enough space in {target.parent} for {remote.path} ({remote.size:,} bytes); "
        "the existing file is untouched"
    )
