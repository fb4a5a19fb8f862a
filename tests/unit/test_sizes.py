"""Sizes as admins type them (``filevault admin quota``, the quota dialog) and as they read."""

from __future__ import annotations

import pytest

from filevault_desktop.sizes import format_size, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10GiB", 10 * 1024**3),
        ("10 GiB", 10 * 1024**3),
        ("10gib", 10 * 1024**3),
        ("10G", 10 * 1024**3),  # bare letters are binary, as in GNU tools
        ("500MB", 500 * 1000**2),
        ("500 mb", 500 * 1000**2),
        ("1.5 TiB", 3 * 1024**4 // 2),
        (".5K", 512),
        ("2T", 2 * 1024**4),
        ("1PiB", 1024**5),
        ("1024", 1024),
        ("7 B", 7),
        ("1.9 B", 1),  # whole bytes, rounded down
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text", ["", "GiB", "ten GiB", "10 XB", "10 GiBs", "-1 GiB", "1e3", "1,5G"]
)
def test_parse_size_refuses_what_is_not_a_size(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (10 * 1024**3, "10 GiB"),
        (500 * 1000**2, "476.8 MiB"),
        (3 * 1024**5, "3 PiB"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text
    assert parse_size(text) <= size  # what is shown reads back (rounded) as a size


def test_round_trip_of_whole_units() -> None:
    for size in (1, 1024, 5 * 1024**2, 10 * 1024**3, 2 * 1024**4):
        assert parse_size(format_size(size)) == size
