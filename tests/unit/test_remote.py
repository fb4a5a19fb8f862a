from __future__ import annotations

import pytest

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.remote import (
    EntryKind,
    UsageError,
    children,
    clean,
    folder_prefix,
    parse_duration,
)


@pytest.mark.parametrize(
    ("raw", "want"),
    [("/docs//a.txt", "docs/a.txt"), ("docs/", "docs"), ("", ""), ("Cafe\u0301", "Caf\u00e9")],
)
def test_clean(raw: str, want: str) -> None:
    assert clean(raw) == want


def test_folder_prefix() -> None:
    assert folder_prefix("/") == "" and folder_prefix("docs") == "docs/"


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("1w", 604800)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1y", "-5m", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def _file(path: str) -> RemoteFile:
    name = path.rsplit("/", 1)[-1]
    return RemoteFile("f", path, name, 1, "text/plain", "v", "e", "t", "t", "active")


def test_children_fold_subfolders() -> None:
    files = [_file(p) for p in ["docs/a.txt", "docs/sub/b.txt", "docs/sub/c.txt", "docs/z/d.txt"]]
    entries = children("docs/", files)
    assert [(e.kind, e.path) for e in entries] == [
        (EntryKind.FILE, "docs/a.txt"),
        (EntryKind.FOLDER, "docs/sub"),
        (EntryKind.FOLDER, "docs/z"),
    ]
