"""Walks a sync folder into a ``LocalTree``.

Hashing is the expensive part, so a file is hashed only when its fingerprint (size, mtime,
ctime, inode) differs from a known one (the base index, or the previous scan). ctime is part of
the fingerprint because tools that restore mtime (``cp -p``, ``touch -r``, unpackers) cannot
restore it. Symlinks are reported and never followed; unreadable entries are reported and
skipped; names are kept as spelled on disk.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from filevault_desktop.sync.errors import SyncRootMissing
from filevault_desktop.sync.gcpause import GcPause
from filevault_desktop.sync.ignore import IgnoreRules
from filevault_desktop.sync.models import Fingerprint, Issue, IssueKind, LocalFile, LocalTree

CHUNK = 1 << 20


@dataclass(frozen=True)
class ScanResult:
    tree: LocalTree
    issues: tuple[Issue, ...]
    hashed: int  # files whose content was read (the cost of this scan)


def fingerprint(st: os.stat_result) -> Fingerprint:
    return Fingerprint(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Scanner:
    def __init__(
        self,
        root: Path,
        rules: IgnoreRules,
        *,
        hasher: Callable[[Path], str] = sha256_file,
    ) -> None:
        self.root = root
        self.rules = rules
        self._hasher = hasher
        self._cache: dict[str, LocalFile] = {}  # the previous scan: hashes of unsynced files

    def scan(self, known: Mapping[str, tuple[Fingerprint, str | None]] | None = None) -> ScanResult:
        """Full walk. ``known`` maps local paths to a fingerprint and hash believed current."""
        known = known or {}
        if not self.root.is_dir():
            raise SyncRootMissing(str(self.root))
        # This loop runs once per entry, so it is written for speed: locals only, str paths,
        # nothing made for an unchanged file but its LocalFile (the fingerprint is the one
        # already known), and the full ignore check only for entries a hint points at.
        rules = self.rules
        hints = rules.hints
        name_hint, path_hint, excluded = hints.name, hints.path, hints.excluded
        check_dirs = hints.empty_name
        known_get, previous_get = known.get, self._cache.get
        s_isreg, s_isdir, s_islnk = stat.S_ISREG, stat.S_ISDIR, stat.S_ISLNK
        files: dict[str, LocalFile] = {}
        dirs: set[str] = set()
        issues: list[Issue] = []
        hashed = 0
        # (relative path, absolute path, whether every entry below takes the full ignore
        # check: a component pattern matched the folder or one above, and a negation kept it)
        stack: list[tuple[str, str, bool]] = [("", os.fspath(self.root), hints.check_all)]
        gc_pause = GcPause()  # released before anything is hashed (which may take long)
        try:
            while stack:
                rel_dir, abs_dir, check_all = stack.pop()
                try:
                    entries, dir_fd = _list_dir(abs_dir, top=not rel_dir)
                except OSError as exc:
                    issues.append(Issue(IssueKind.UNREADABLE, rel_dir, exc.strerror or str(exc)))
                    continue
                prefix = rel_dir + "/" if rel_dir else ""
                abs_prefix = abs_dir if abs_dir.endswith("/") else abs_dir + "/"  # (listed by fd)
                try:
                    for entry in entries:
                        name = entry.name
                        rel = prefix + name
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except OSError as exc:
                            issues.append(
                                Issue(IssueKind.UNREADABLE, rel, exc.strerror or str(exc))
                            )
                            continue
                        mode = st.st_mode
                        named = name_hint is not None and name_hint(name) is not None
                        if s_isreg(mode):
                            if (
                                (check_all or named or (excluded and rel in excluded))
                                or (path_hint is not None and path_hint(rel) is not None)
                            ) and rules.is_ignored(rel):
                                continue
                            size, mtime_ns, inode, ctime_ns = (
                                st.st_size,
                                st.st_mtime_ns,
                                st.st_ino,
                                st.st_ctime_ns,
                            )
                            # the base's hash if the fingerprint is unchanged, else the last scan's
                            hit = known_get(rel)
                            if hit is not None:
                                fp, sha = hit
                                if (
                                    sha is not None
                                    and fp.size == size
                                    and fp.mtime_ns == mtime_ns
                                    and fp.inode == inode
                                    and fp.ctime_ns == ctime_ns
                                ):
                                    files[rel] = LocalFile(rel, fp, sha)
                                    continue
                            last = previous_get(rel)
                            if last is not None:
                                fp = last.fp
                                if (
                                    fp.size == size
                                    and fp.mtime_ns == mtime_ns
                                    and fp.inode == inode
                                    and fp.ctime_ns == ctime_ns
                                ):
                                    files[rel] = last
                                    continue
                            gc_pause.release()
                            try:
                                sha = self._hasher(
                                    Path(entry.path if dir_fd is None else abs_prefix + name)
                                )
                            except OSError as exc:
                                issues.append(
                                    Issue(IssueKind.UNREADABLE, rel, exc.strerror or str(exc))
                                )
                                continue
                            hashed += 1
                            fp = Fingerprint(size, mtime_ns, inode, ctime_ns)
                            files[rel] = LocalFile(rel, fp, sha)
                        elif s_isdir(mode):
                            if (
                                (check_all or named or check_dirs or (excluded and rel in excluded))
                                or (path_hint is not None and path_hint(rel + "/") is not None)
                            ) and rules.is_ignored(rel, is_dir=True):
                                continue
                            dirs.add(rel)
                            child = entry.path if dir_fd is None else abs_prefix + name
                            stack.append((rel, child, check_all or named))
                        elif s_islnk(mode):
                            if (
                                (check_all or named or (excluded and rel in excluded))
                                or (path_hint is not None and path_hint(rel) is not None)
                            ) and rules.is_ignored(rel):
                                continue
                            issues.append(Issue(IssueKind.SYMLINK, rel, "symbolic link not synced"))
                finally:
                    if dir_fd is not None:
                        os.close(dir_fd)
        finally:
            gc_pause.release()
        self._cache = files
        unknown = frozenset(i.path for i in issues)
        return ScanResult(LocalTree(files, frozenset(dirs), unknown), tuple(issues), hashed)


# Where os.scandir takes a folder's fd (POSIX), entries are listed from an fd: each entry's
# stat is then an fstatat relative to it (no walk of the whole path per file), and a folder
# below the root is opened with O_NOFOLLOW (never a symlink put there after it was listed).
_BY_FD = os.scandir in os.supports_fd and hasattr(os, "O_DIRECTORY") and hasattr(os, "O_NOFOLLOW")
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _list_dir(abs_dir: str, *, top: bool) -> tuple[list[os.DirEntry[str]], int | None]:
    """A folder's entries, and the fd their ``stat`` needs open (None: they stat by path)."""
    if not _BY_FD:
        with os.scandir(abs_dir) as it:
            return list(it), None
    fd = os.open(abs_dir, _DIR_FLAGS if top else _DIR_FLAGS | _NOFOLLOW)
    try:
        with os.scandir(fd) as it:
            return list(it), fd
    except BaseException:
        os.close(fd)
        raise
