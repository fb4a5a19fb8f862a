"""What the sync leaves alone: built-in temp/system names, ``.filevaultignore``, selective sync.

``.filevaultignore`` lives at the root of the sync folder and uses gitignore syntax. Selective
sync excludes remote subfolders: their files are neither downloaded nor, when present locally,
uploaded or deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pathspec
from pathspec.util import normalize_file

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


Matcher = Callable[[str], "re.Match[str] | None"]


@dataclass(frozen=True)
class ScanHints:
    """What lets a walk skip the full rule check for most entries, with the same answers.

    A path can be ignored only if the regex of a pattern that ignores (not a negation) matches
    it, or if it is an excluded folder. ``name`` is the union of the patterns that match one
    whole path component ("*.tmp", "Thumbs.db", "build/": most of them), to be matched against
    an entry's name; ``path`` the union of the others ("/build/", "docs/*.md"), to be searched
    in the entry's relative path ("/" appended for a folder). A walk that has descended into a
    folder (so the folder is not ignored) needs ``IgnoreRules.is_ignored`` only for an entry
    when a hint matches it, its path is in ``excluded``, it is a folder and ``empty_name`` is
    set, or ``name`` matched one of its folders (a negation kept that folder).
    """

    name: Matcher | None
    path: Matcher | None
    empty_name: bool  # a component pattern matches the empty name: check every folder
    excluded: frozenset[str]
    check_all: bool  # the patterns could not be analysed: check every entry


# How pathspec writes the regex of a gitignore pattern without an inner "/": the component
# (``tail``) after any number of folders, then "/" (the component is a folder) or the end.
_COMPONENT = re.compile(
    r"\^\(\?:\.\+/\)\?(?P<tail>.*)"  # ^(?:.+/)?  then the component
    r"(?:\(\?:\(\?P<ps_d>/\)\|\$\)|\(\?P<ps_d>/\))"  # (?:(?P<ps_d>/)|$)  or  (?P<ps_d>/)
)
# A tail that can never match "/" (so whatever it matches is one whole component): escaped
# punctuation, "[^/]" (alone, "*" or "+"), and characters that are neither "/" nor syntax.
_TAIL = re.compile(r"(?:\\[^/\w]|\[\^/\][*+]?|[^/\\.^$*+?{}\[\]|()])*")
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def _union(regexes: list[str], prefix: str = "", suffix: str = "") -> re.Pattern[str] | None:
    if not regexes:
        return None
    alternatives = "|".join(f"(?:{_NAMED_GROUP.sub('(?:', r)})" for r in regexes)
    return re.compile(f"{prefix}(?:{alternatives}){suffix}")


def _analyse(
    spec: pathspec.GitIgnoreSpec, excluded: Iterable[str]
) -> tuple[ScanHints, Callable[[str], bool] | None]:
    """The scan hints, and whether a pattern that ignores may match a (normalized) path
    (None: the patterns could not be analysed, so any may)."""
    tails: list[str] = []  # the component patterns'
    others: list[str] = []
    try:
        for p in spec.patterns:
            if not p.include:
                continue  # a negation never makes a path ignored; a no-op line matches nothing
            regex = getattr(p, "regex", None)
            if (
                not isinstance(regex, re.Pattern)
                or not isinstance(regex.pattern, str)
                or regex.flags != re.UNICODE
                or "(?P=" in regex.pattern
            ):
                raise TypeError(p)
            m = _COMPONENT.fullmatch(regex.pattern)
            if m is not None and _TAIL.fullmatch(m["tail"]):
                tails.append(m["tail"])
            else:
                others.append(regex.pattern)
        # "$" as in the patterns' own regexes: the end, or before a newline that ends the name
        name = _union(tails, suffix="$")
        path = _union(others)
        # all the component patterns in one pass (their own regexes, one after the other,
        # would each scan the whole path): a component, after any folders, then "/" or the end
        component = _union(tails, r"^(?:.+/)?", "(?:/|$)")
    except (TypeError, re.error):
        return ScanHints(None, None, True, frozenset(excluded), check_all=True), None
    hints = ScanHints(
        None if name is None else name.match,
        None if path is None else path.search,
        name is not None and name.match("") is not None,
        frozenset(excluded),
        check_all=False,
    )
    component_match, path_search = None if component is None else component.match, hints.path

    def may_match(file: str) -> bool:
        return (component_match is not None and component_match(file) is not None) or (
            path_search is not None and path_search(file) is not None
        )

    return hints, may_match


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
        self.hints, self._may_match = _analyse(self._spec, self.excluded_folders)

    @classmethod
    def for_root(cls, root: Path, *, excluded_folders: Iterable[str] = ()) -> IgnoreRules:
        try:
            text = (root / IGNORE_FILE).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        return cls(text.splitlines(), excluded_folders=excluded_folders)

    def is_ignored(self, path: str, *, is_dir: bool = False) -> bool:
        """``path`` is relative and '/'-separated."""
        if self.excluded_folders and self.is_excluded(path):
            return True
        file = path + "/" if is_dir else path
        if self._may_match is not None and not self._may_match(normalize_file(file)):
            return False  # no pattern that ignores matches (negations might: no matter)
        return bool(self._spec.match_file(file))

    def is_own_temp(self, path: str) -> bool:
        return bool(self._own.match_file(path))

    def is_excluded(self, path: str) -> bool:
        return any(path == f or path.startswith(f + "/") for f in self.excluded_folders)
