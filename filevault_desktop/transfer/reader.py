"""Reading the local file: one descriptor, positional reads from many threads, bounded slices.

Memory stays bounded whatever the file size: a worker holds one chunk at a time, both when it
hashes a part and when it streams the part to the network.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from filevault_desktop.transfer.bandwidth import TokenBucket
from filevault_desktop.transfer.errors import (
    FileChangedError,
    SymlinkRefusedError,
    TransferError,
    UnreadableFileError,
)

# Big enough that syscalls and hashing are cheap per byte, small enough to be irrelevant in RAM.
CHUNK = 256 * 1024
# Extra flags: no following a link swapped in after our checks; no blocking on a FIFO; binary
# mode on Windows. Each is 0 where the platform lacks it.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class Interrupted(TransferError):
    """A worker stopped because the transfer is being cancelled or failed elsewhere."""

    def __init__(self) -> None:
        super().__init__("transfer interrupted")


@dataclass(frozen=True)
class FileIdentity:
    """What tells us a file is still the one we started with (as rsync and sync clients use)."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)

    def difference(self, other: FileIdentity) -> str | None:
        """A human description of what changed, or None when it is the same file."""
        if self.size != other.size:
            return f"size {self.size} -> {other.size}"
        if self.mtime_ns != other.mtime_ns:
            return "modification time changed"
        # Some file systems (and fstat on older Windows Pythons) report 0: no information.
        if self.inode and other.inode and self.inode != other.inode:
            return "replaced by another file"
        return None


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _is_within(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


class SourceFile:
    """A regular file opened once; parts are read by position so workers never share a cursor."""

    def __init__(self, fd: int, path: str, opened: Path, identity: FileIdentity) -> None:
        self._fd = fd
        self.path = path  # as the caller named it (messages, journal key)
        self._opened = opened  # what was actually opened (a followed link's target)
        self.identity = identity
        self._seek_lock = threading.Lock()  # only for platforms without os.pread

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        root: Path | None = None,
        follow_symlinks: bool = False,
    ) -> SourceFile:
        """Opens ``path`` for upload after the safety checks.

        A symbolic link is followed only when allowed: with a ``root``, when its target lies
        inside the root; without one, when ``follow_symlinks`` is set. Anything but a regular
        file (directory, FIFO, device) is refused, as reading it could block or never end.
        """
        shown = os.fspath(path)
        # abspath, not resolve(): the links on the way are exactly what we must look at.
        given = Path(os.path.abspath(shown))  # noqa: PTH100
        try:
            link = stat.S_ISLNK(os.lstat(given).st_mode)
            real = Path(os.path.realpath(given))
        except FileNotFoundError:
            raise UnreadableFileError(shown, "no such file") from None
        except OSError as exc:
            raise UnreadableFileError(shown, _reason(exc)) from exc
        via_link = real != given  # the file itself or a directory on the way is a link
        if root is not None:
            root_real = Path(os.path.realpath(root))
            if not _is_within(real, root_real):
                if via_link:
                    raise SymlinkRefusedError(
                        shown, f"it is a link to '{real}', outside the folder '{root}'"
                    )
                raise UnreadableFileError(shown, f"it is outside the folder '{root}'")
        elif link and not follow_symlinks:
            raise SymlinkRefusedError(
                shown, "it is a symbolic link (allow following links to upload its target)"
            )
        target = real if via_link else given
        try:
            st = target.stat()
            if not stat.S_ISREG(st.st_mode):
                raise UnreadableFileError(shown, "not a regular file")
            fd = os.open(target, _OPEN_FLAGS)
        except FileNotFoundError:
            raise UnreadableFileError(shown, "no such file") from None
        except OSError as exc:
            raise UnreadableFileError(shown, _reason(exc)) from exc
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                raise UnreadableFileError(shown, "not a regular file")
            return cls(fd, shown, target, FileIdentity.of(opened))
        except BaseException:
            os.close(fd)
            raise

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> SourceFile:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def pread(self, n: int, offset: int) -> bytes:
        """Exactly ``n`` bytes at ``offset``; a file that got shorter is a changed file."""
        out = bytearray()
        try:
            while len(out) < n:
                chunk = self._read_at(n - len(out), offset + len(out))
                if not chunk:
                    raise FileChangedError(self.path, "it got shorter")
                out += chunk
        except OSError as exc:
            raise UnreadableFileError(self.path, _reason(exc)) from exc
        return bytes(out)

    def _read_at(self, n: int, offset: int) -> bytes:
        if hasattr(os, "pread"):
            return os.pread(self._fd, n, offset)
        with self._seek_lock:  # Windows: no pread; a shared cursor needs the lock
            os.lseek(self._fd, offset, os.SEEK_SET)
            return os.read(self._fd, n)

    def check_unchanged(self) -> None:
        """Raises FileChangedError unless both the open file and the path are as they were."""
        try:
            now_open = FileIdentity.of(os.fstat(self._fd))
            now_path = FileIdentity.of(self._opened.stat(follow_symlinks=False))
        except FileNotFoundError:
            raise FileChangedError(self.path, "it was deleted or moved") from None
        except OSError as exc:
            raise UnreadableFileError(self.path, _reason(exc)) from exc
        for now in (now_open, now_path):
            diff = self.identity.difference(now)
            if diff:
                raise FileChangedError(self.path, diff)

    def sha256_b64(self, offset: int, length: int, stop: threading.Event) -> str:
        """SHA-256 of a slice, read in chunks (the header must precede the body it describes)."""
        digest = hashlib.sha256()
        done = 0
        while done < length:
            if stop.is_set():
                raise Interrupted()
            n = min(CHUNK, length - done)
            digest.update(self.pread(n, offset + done))
            done += n
        return base64.b64encode(digest.digest()).decode("ascii")


class PartReader:
    """The body of one PUT: ``length`` bytes from ``offset``, streamed a chunk at a time.

    Each read takes its bytes from the shared bandwidth bucket, stops at once when ``stop`` is
    set (so a cancelled PUT ends mid-body) and counts progress. It does not hash what it hands
    out: the storage checks the body against the SHA-256 sent in the header and refuses a part
    whose bytes changed between the two reads (a second client-side hash cost a core's worth
    of SHA-256 per byte uploaded and caught nothing the storage does not).
    """

    def __init__(
        self,
        source: SourceFile,
        offset: int,
        length: int,
        *,
        stop: threading.Event,
        bucket: TokenBucket | None = None,
        on_bytes: Callable[[int], None] | None = None,
        chunk_size: int = CHUNK,
    ) -> None:
        self._source = source
        self._offset = offset
        self.length = length
        self._stop = stop
        self._bucket = bucket
        self._on_bytes = on_bytes
        self._chunk = chunk_size
        self.sent = 0

    def __len__(self) -> int:
        # HTTP clients size the request from this; a fileno() would make them stat the whole
        # file instead, which is why this class deliberately has none.
        return self.length - self.sent

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:  # a whole-rest read (fakes and simple callers)
            return b"".join(iter(lambda: self.read(self._chunk), b""))
        n = min(size, self._chunk, self.length - self.sent)
        if n <= 0:
            return b""
        if self._stop.is_set():
            raise Interrupted()
        if self._bucket is not None and not self._bucket.consume(n, self._stop):
            raise Interrupted()
        data = self._source.pread(n, self._offset + self.sent)
        self.sent += n
        if self._on_bytes is not None:
            self._on_bytes(n)
        return data
