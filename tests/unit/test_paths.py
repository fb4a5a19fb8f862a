from __future__ import annotations

import pytest

from backend.errors import ValidationFailed
from backend.logic.paths import name_of, normalize_path, normalize_prefix, parent_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a.txt", "a.txt"),
        ("dir/sub/file.tar.gz", "dir/sub/file.tar.gz"),
        ("Cafe\u0301/Re\u0301sume\u0301.pdf", "Caf\u00e9/R\u00e9sum\u00e9.pdf"),
        ("emoji 😀.txt", "emoji 😀.txt"),
        ("...hidden", "...hidden"),
        ("a" * 255, "a" * 255),
    ],
)
def test_valid_paths_normalize_to_nfc(raw: str, expected: str) -> None:
    assert normalize_path(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "/abs",
        "../up",
        "a/../b",
        "a/./b",
        "a//b",
        "trailing/",
        "back\\slash",
        "C:/win",
        "c:rel",
        "nul\x00",
        "bell\x07",
        "del\x7f",
        "c1\x85",
        "a" * 256,
        "/".join(["abcd"] * 300),
        ".",
        "..",
    ],
)
def test_invalid_paths_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        normalize_path(raw)


def test_path_limit_counts_utf8_bytes() -> None:
    nearly = "/".join(["é" * 100] * 5)  # 5*200 + 4 = 1004 bytes
    assert normalize_path(nearly) == nearly
    with pytest.raises(ValidationFailed):
        normalize_path(nearly + "/" + "é" * 10)


def test_non_strings_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        normalize_path(5)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("", True), ("dir/", True), ("dir/sub", True), ("//", False), ("../", False), ("/x", False)],
)
def test_prefixes(raw: str, ok: bool) -> None:
    if ok:
        assert normalize_prefix(raw) == raw
    else:
        with pytest.raises(ValidationFailed):
            normalize_prefix(raw)


def test_parent_and_name() -> None:
    assert parent_of("a/b/c.txt") == "a/b" and name_of("a/b/c.txt") == "c.txt"
    assert parent_of("top") == "" and name_of("top") == "top"
