"""Blob files: the bytes of objects and parts, one immutable file per write.

A blob is never modified after it is adopted. An object's body is an ordered
list of blobs (one for a PUT, the part files for a completed multipart upload),
so completing an upload moves no bytes. Deleting or overwriting an object only
*discards* its blobs: a blob still being streamed to a reader is pinned and is
unlinked when the last reader lets go, so no reader ever sees a vanished file
(this also keeps Windows, which cannot unlink open files, happy).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final

_log = logging.getLogger(__name__)
READ_CHUNK: Final = 1024 * 1024

# (blob name, size in bytes), in body order.
Segment = tuple[str, int]


class BlobDir:
    """The ``blobs/`` directory with pin counts and deferred deletion."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._pins: Counter[str] = Counter()
        self._doomed: set[str] = set()

    def path(self, name: str) -> Path:
        # Two-character fan-out keeps directories small with many blobs.
        return self.root / name[:2] / name

    @staticmethod
    def new_name() -> str:
        return uuid.uuid4().hex

    def adopt(self, temp_file: Path) -> str:
        """Move a finished temporary file into the blob directory; return its name."""
        name = self.new_name()
        target = self.path(name)
        target.parent.mkdir(exist_ok=True)
        temp_file.replace(target)
        return name

    def clone(self, name: str) -> str:
        """A new blob with the same bytes: a hard link where possible, else a copy."""
        new = self.new_name()
        target = self.path(new)
        target.parent.mkdir(exist_ok=True)
        try:
            os.link(self.path(name), target)
        except OSError:
            shutil.copyfile(self.path(name), target)
        return new

    def pin(self, names: Iterable[str]) -> None:
        with self._lock:
            self._pins.update(names)

    def unpin(self, names: Iterable[str]) -> None:
        released: list[str] = []
        with self._lock:
            for name in names:
                self._pins[name] -= 1
                if self._pins[name] <= 0:
                    del self._pins[name]
                    if name in self._doomed:
                        self._doomed.discard(name)
                        released.append(name)
        self._unlink(released)

    def discard(self, names: Iterable[str]) -> None:
        """Delete blobs no row references any more (now, or when unpinned)."""
        now: list[str] = []
        with self._lock:
            for name in names:
                if self._pins.get(name):
                    self._doomed.add(name)
                else:
                    now.append(name)
        self._unlink(now)

    def _unlink(self, names: Iterable[str]) -> None:
        for name in names:
            try:
                self.path(name).unlink(missing_ok=True)
            except OSError:
                # Left for the orphan sweep at the next start.
                _log.warning("could not delete blob %s", name, exc_info=True)

    def sweep_orphans(self, referenced: set[str]) -> int:
        """Delete blob files no row references (left by a crash); return how many."""
        removed = 0
        for sub in self.root.iterdir():
            if not sub.is_dir():
                continue
            for file in sub.iterdir():
                if file.name not in referenced:
                    file.unlink(missing_ok=True)
                    removed += 1
        return removed


class ObjectBody:
    """An iterable over a byte range of an object's blobs, read in 1 MiB chunks.

    Suitable as a WSGI response body: it never holds more than one chunk and
    releases its pins when closed (the WSGI server calls ``close``).
    """

    def __init__(self, blobs: BlobDir, segments: Sequence[Segment], start: int, end: int) -> None:
        self._blobs = blobs
        self._segments = tuple(segments)
        self.start = start
        self.end = end  # exclusive
        self._closed = False
        blobs.pin(name for name, _ in self._segments)

    def __len__(self) -> int:
        return self.end - self.start

    def __iter__(self) -> Iterator[bytes]:
        offset = 0
        try:
            for name, size in self._segments:
                seg_start, seg_end = offset, offset + size
                offset = seg_end
                if seg_end <= self.start or size == 0:
                    continue
                if seg_start >= self.end:
                    break
                yield from self._read_segment(
                    name, max(self.start - seg_start, 0), min(self.end, seg_end) - seg_start
                )
        finally:
            self.close()

    def _read_segment(self, name: str, first: int, stop: int) -> Iterator[bytes]:
        with self._blobs.path(name).open("rb") as handle:
            handle.seek(first)
            remaining = stop - first
            while remaining > 0:
                data = handle.read(min(READ_CHUNK, remaining))
                if not data:
                    raise OSError(f"blob {name} is shorter than recorded")
                remaining -= len(data)
                yield data

    def read(self) -> bytes:
        """The whole range as bytes (tests and small objects only)."""
        return b"".join(self)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._blobs.unpin(name for name, _ in self._segments)

    def __enter__(self) -> ObjectBody:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
