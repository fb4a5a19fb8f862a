"""Remote paths as users type them, and folder views over the flat file listing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import FileVaultError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class UsageError(FileVaultError):
    exit_code = 2


def clean(path: str) -> str:
    """``/docs//a.txt`` → ``docs/a.txt`` (NFC); the server validates the rest."""
    parts = [p for p in unicodedata.normalize("NFC", path).replace("\\", "/").split("/") if p]
    return "/".join(parts)


def folder_prefix(path: str) -> str:
    cleaned = clean(path)
    return f"{cleaned}/" if cleaned else ""


def parse_duration(text: str) -> int:
    """``90m``, ``24h``, ``7d``, ``1w`` or plain seconds."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"not a duration: {text!r} (use e.g. 30m, 24h, 7d)")
    return int(match.group(1)) * _UNITS[match.group(2)]


class EntryKind(StrEnum):
    FILE = "file"
    FOLDER = "folder"


@dataclass(frozen=True)
class RemoteEntry:
    kind: EntryKind
    path: str
    name: str
    file: RemoteFile | None = None


def children(prefix: str, files: Iterable[RemoteFile]) -> list[RemoteEntry]:
    """The direct children of a folder: its files, and one entry per subfolder."""
    out: list[RemoteEntry] = []
    folders: set[str] = set()
    for f in files:
        rest = f.path[len(prefix) :]
        head, sep, _ = rest.partition("/")
        if sep:
            if head not in folders:
                folders.add(head)
                out.append(RemoteEntry(EntryKind.FOLDER, prefix + head, head))
        else:
            out.append(RemoteEntry(EntryKind.FILE, f.path, f.name, f))
    return out
