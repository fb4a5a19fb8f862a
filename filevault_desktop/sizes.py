"""Byte sizes as people type them (``10GiB``, ``500 MB``, ``1.5T``) and as quotas read.

Units follow GNU coreutils: ``KiB``/``MiB``/``GiB``/``TiB``/``PiB`` and the bare letters
``K``/``M``/``G``/``T``/``P`` are powers of 1024; ``KB``/``MB``/``GB``/``TB``/``PB`` are powers
of 1000; ``B`` or no unit means bytes. Case does not matter; a fraction is rounded down to
whole bytes.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([a-z]*)\s*$", re.IGNORECASE)
_PREFIXES = "kmgtp"
_BINARY_NAMES = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def _multiplier(unit: str) -> int | None:
    unit = unit.lower()
    if unit in ("", "b"):
        return 1
    prefix, rest = unit[0], unit[1:]
    power = _PREFIXES.find(prefix) + 1
    if power == 0:
        return None
    if rest in ("", "ib"):
        return int(1024**power)
    if rest == "b":
        return int(1000**power)
    return None


def parse_size(text: str) -> int:
    """Bytes for ``text``; ValueError with a message for people when it is not a size."""
    match = _SIZE.match(text)
    multiplier = _multiplier(match.group(2)) if match else None
    if match is None or multiplier is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 10GiB, 500MB or 2T)")
    try:
        value = Decimal(match.group(1)) * multiplier
    except InvalidOperation:
        raise ValueError(f"not a size: {text!r}") from None
    return int(value)


def format_size(n: int) -> str:
    """``10 GiB``, ``1.5 TiB``, ``312 B``: binary units, one decimal at most."""
    value = float(n)
    for name in _BINARY_NAMES:
        if abs(value) < 1024 or name == _BINARY_NAMES[-1]:
            if name == "B":
                return f"{n} B"
            text = f"{value:.1f}".removesuffix(".0")
            return f"{text} {name}"
        value /= 1024
    raise AssertionError("unreachable")
