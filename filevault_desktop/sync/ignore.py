"""What the sync leaves alone: built-in temp/system names, ``.filevaultignore``, selective sync.

``.filevaultignore`` lives at the root of the sync folder and uses gitignore syntax. Selective
sync excludes remote subfolders: their files are neither downloaded nor, when present locally,
uploaded or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pathspec

from filevault_desktop.transfer.download import PARTIAL_SUFFIX

IGNORE_FILE = ".filevaultignore"

# Our own temp files (downloads in progress, moves in flight) must never be synced.
OWN_TEMP_PATTERNS = (
    ".*.filevault-*.part",
    ".filevault-tmp-*",
    # the download engine's resumable partial file and its sidecar (transfer.download)
    f".*{PARTIAL_SUFFIX}",
    f".*{PARTIAL_SUFFIX}.json",
)

BUILTIN_PATTERNS = (
    *OWN_TEMP_PATTERNS,
    # editors' swap, lock and backup files
    "*.swp",
    "*.swo",
    "*.swx",
    "*~",
    "4913",
    "~$*",
    ".~lock.*#",
    ".~lock.*",
    "*.tmp",
    "*.temp",
    ".goutputstream-*",
    ".#*",
    # operating system droppings
    ".DS_Store",
    "._*",
    ".Spotlight-V100/",
    ".Trashes/",
    ".fseventsd/",
    "Thumbs.db",
    "ehthumbs.db",
    "desktop.ini",
    "$RECYCLE.BIN/",
    ".Trash-*/",
)


class IgnoreRules:
    def __init__(
        self,
        patterns: Iterable[str] = (),
        *,
        excluded_folders: Iterable[str] = (),
        builtin: bool = True,
    ) -> None:
        lines = [*(BUILTIN_PATTERNS if builtin else ()), *patterns]
        self._spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._own = pathspec.GitIgnoreSpec.from_lines(OWN_TEMP_PATTERNS)
        self.excluded_folders = tuple(f.strip("/") for f in excluded_folders if f.strip("/"))

    @classmethod
    def for_root(cls, root: Path, *, excluded_folders: Iterable[str] = ()) -> IgnoreRules:
        try:
            text = (root / IGNORE_FILE).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        return cls(text.splitlines(), excluded_folders=excluded_folders)

    def is_ignored(self, path: str, *, is_dir: bool = False) -> bool:
        """``path`` is relative and '/'-separated."""
        if self.is_excluded(path):
            return True
        return bool(self._spec.match_file(path + "/" if is_dir else path))

    def is_own_temp(self, path: str) -> bool:
        return bool(self._own.match_file(path))

    def is_excluded(self, path: str) -> bool:
        return any(path == f or path.startswith(f + "/") for f in self.excluded_folders)
