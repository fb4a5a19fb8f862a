"""Validation and normalization of the remote paths users send us.

A remote path is relative (``docs/report.pdf``), NFC-normalized, '/'-separated,
and at most 1024 UTF-8 bytes. Everything else is refused with a clear message,
because a path that one client accepts and another cannot create on disk would
make sync lose files.
"""

from __future__ import annotations

import re
import unicodedata

from backend.errors import ValidationFailed

MAX_PATH_BYTES = 1024
MAX_SEGMENT_BYTES = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _check_segments(path: str, *, field: str) -> None:
    for segment in path.split("/"):
        if segment == "":
            raise ValidationFailed(f"{field} has an empty segment ('//' or a trailing '/')")
        if segment in (".", ".."):
            raise ValidationFailed(f"{field} may not contain '.' or '..' segments")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise ValidationFailed(f"{field} has a name longer than {MAX_SEGMENT_BYTES} bytes")


def _check_common(value: object, *, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string")
    path = unicodedata.normalize("NFC", value)
    if _CONTROL.search(path):
        raise ValidationFailed(f"{field} may not contain control characters")
    if "\\" in path:
        raise ValidationFailed(f"{field} must use '/' as separator, not '\\'")
    if path.startswith("/") or _DRIVE.match(path):
        raise ValidationFailed(f"{field} must be relative, not absolute")
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise ValidationFailed(f"{field} is longer than {MAX_PATH_BYTES} UTF-8 bytes")
    return path


def normalize_path(value: object, *, field: str = "path") -> str:
    """Return the NFC form of a file path, or raise ValidationFailed."""
    path = _check_common(value, field=field)
    if path == "":
        raise ValidationFailed(f"{field} must not be empty")
    _check_segments(path, field=field)
    return path


def normalize_prefix(value: object, *, field: str = "prefix") -> str:
    """A listing prefix: empty, or a path that may end with '/' (a folder)."""
    prefix = _check_common(value, field=field)
    body = prefix[:-1] if prefix.endswith("/") else prefix
    if body:
        _check_segments(body, field=field)
    return prefix


def parent_of(path: str) -> str:
    head, _, _ = path.rpartition("/")
    return head


def name_of(path: str) -> str:
    return path.rpartition("/")[2]
