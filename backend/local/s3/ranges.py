"""HTTP Range header (single range, as S3 supports)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from .errors import S3Error

_RANGE: Final = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass(frozen=True)
class ByteRange:
    """``bytes=first-last``, ``bytes=first-`` or ``bytes=-suffix``."""

    first: int | None
    last: int | None

    def resolve(self, size: int) -> tuple[int, int]:
        """[start, end) within an object of ``size`` bytes; 416 if unsatisfiable."""
        if self.first is None:
            assert self.last is not None
            if self.last == 0:
                raise _unsatisfiable(size)
            return max(size - self.last, 0), size
        if self.first >= size:
            raise _unsatisfiable(size)
        end = size if self.last is None else min(self.last + 1, size)
        return self.first, end


def _unsatisfiable(size: int) -> S3Error:
    return S3Error("InvalidRange", f"The requested range is not satisfiable (object size {size})")


def parse_range(header: str | None) -> ByteRange | None:
    """Parse a Range header; None means "whole object" (absent or not understood).

    S3 ignores Range values it cannot parse (including multiple ranges) and
    serves the whole object, so we do the same rather than fail.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if first and last and int(first) > int(last):
        return None  # syntactically invalid: RFC 9110 says ignore the header
    return ByteRange(int(first) if first else None, int(last) if last else None)
