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
        files: dict[str, LocalFile] = {}
        dirs: set[str] = set()
        issues: list[Issue] = []
        hashed = 0
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            abs_dir = self.root / rel_dir if rel_dir else self.root
            try:
                with os.scandir(abs_dir) as it:
                    entries = list(it)
            except OSError as exc:
                issues.append(Issue(IssueKind.UNREADABLE, rel_dir, exc.strerror or str(exc)))
                continue
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError as exc:
                    issues.append(Issue(IssueKind.UNREADABLE, rel, exc.strerror or str(exc)))
                    continue
                if stat.S_ISLNK(st.st_mode):
                    if not self.rules.is_ignored(rel):
                        issues.append(Issue(IssueKind.SYMLINK, rel, "symbolic link not synced"))
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if not self.rules.is_ignored(rel, is_dir=True):
                        dirs.add(rel)
                        stack.append(rel)
                    continue
                if not stat.S_ISREG(st.st_mode) or self.rules.is_ignored(rel):
                    continue
                fp = fingerprint(st)
                sha = self._known_hash(rel, fp, known)
                if sha is None:
                    try:
                        sha = self._hasher(Path(entry.path))
                    except OSError as exc:
                        issues.append(Issue(IssueKind.UNREADABLE, rel, exc.strerror or str(exc)))
                        continue
                    hashed += 1
                files[rel] = LocalFile(rel, fp, sha)
        self._cache = files
        unknown = frozenset(i.path for i in issues)
        return ScanResult(LocalTree(files, frozenset(dirs), unknown), tuple(issues), hashed)

    def _known_hash(
        self, rel: str, fp: Fingerprint, known: Mapping[str, tuple[Fingerprint, str | None]]
    ) -> str | None:
        hit = known.get(rel)
        if hit is not None and hit[1] is not None and fp.unchanged(hit[0]):
            return hit[1]
        cached = self._cache.get(rel)
        if cached is not None and fp.unchanged(cached.fp):
            return cached.sha256
        return None
