"""The fast paths of a rescan give the answers the plain ones gave.

The scanner asks the ignore rules only about entries a hint points at, reuses known
fingerprints, lists folders by fd; the index keeps the base in memory; the models have
hand-written constructors. Each is checked here against a straightforward reference: the
scanner as it was before (every entry through ``pathspec``), a fresh read of the index.
"""

from __future__ import annotations

import dataclasses
import gc
import inspect
import os
import random
import stat
import tempfile
import unicodedata
from pathlib import Path

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filevault_desktop.sync import IgnoreRules, SyncIndex
from filevault_desktop.sync import scanner as scanner_module
from filevault_desktop.sync.gcpause import GcPause
from filevault_desktop.sync.ignore import BUILTIN_PATTERNS
from filevault_desktop.sync.models import (
    BaseEntry,
    Fingerprint,
    IssueKind,
    LocalFile,
    PathRules,
    RemoteEntry,
)
from filevault_desktop.sync.scanner import Scanner, fingerprint, sha256_file

NFD_CAFE = unicodedata.normalize("NFD", "café")
NAMES = (
    "a",
    "b.txt",
    "x.tmp",
    "build",
    "keep.log",
    "a.log",
    "node_modules",
    "Thumbs.db",
    "café",
    NFD_CAFE,
    "É.tmp",
    "tmpkeep",
    "tmpx",
    "docs",
    "d",
    "x.tmp\n",
    "x.tmp\nz",
    ".hidden",
    "~$x",
    "4913",
    "[a].txt",
    "back\\slash",
    "*",
)
PATTERNS = (
    "*.log",
    "!keep.log",
    "build/",
    "/docs/",
    "docs/*.md",
    "**/node_modules",
    "tmp*",
    "!tmpkeep/",
    "!tmpkeep",
    "a/**/b",
    "d/a",
    "*",
    "!d/",
    "!*/",
    "[abc].txt",
    "café",
    "d/",
    "/a",
    "x.tmp?z",
    "\\*",
    "[!a]",
    "**",
    "!**/",
)
EXCLUDED = ("big", "d", "d/build", "docs/x", "tmpkeep/a")


# ---- the reference: the scanner before the fast paths ------------------------------------------


class ReferenceRules:
    def __init__(self, patterns: list[str], excluded: list[str]) -> None:
        self.spec = pathspec.GitIgnoreSpec.from_lines([*BUILTIN_PATTERNS, *patterns])
        self.excluded = tuple(f.strip("/") for f in excluded if f.strip("/"))

    def is_ignored(self, path: str, *, is_dir: bool = False) -> bool:
        if any(path == f or path.startswith(f + "/") for f in self.excluded):
            return True
        return bool(self.spec.match_file(path + "/" if is_dir else path))


def reference_scan(
    root: Path, rules: ReferenceRules
) -> tuple[dict[str, LocalFile], frozenset[str], list[tuple[IssueKind, str, str]]]:
    files: dict[str, LocalFile] = {}
    dirs: set[str] = set()
    issues: list[tuple[IssueKind, str, str]] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(root / rel_dir if rel_dir else root) as it:
            entries = list(it)
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            st_ = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st_.st_mode):
                if not rules.is_ignored(rel):
                    issues.append((IssueKind.SYMLINK, rel, "symbolic link not synced"))
                continue
            if stat.S_ISDIR(st_.st_mode):
                if not rules.is_ignored(rel, is_dir=True):
                    dirs.add(rel)
                    stack.append(rel)
                continue
            if not stat.S_ISREG(st_.st_mode) or rules.is_ignored(rel):
                continue
            files[rel] = LocalFile(rel, fingerprint(st_), sha256_file(Path(entry.path)))
    return files, frozenset(dirs), issues


def make_tree(root: Path, entries: list[tuple[tuple[str, ...], str]]) -> None:
    for n, (parts, kind) in enumerate(entries):
        path = root.joinpath(*parts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "dir":
                path.mkdir(exist_ok=True)
            elif kind == "link":
                path.symlink_to(root.parent)  # out of the root
            else:
                path.write_bytes(f"{n}".encode())
        except OSError:
            pass  # a file where a folder is wanted, or the other way round: skip it


def random_case(
    rng: random.Random,
) -> tuple[list[tuple[tuple[str, ...], str]], list[str], list[str]]:
    # few names, so that paths meet: folders and files of the same name, excluded folders
    names = rng.sample(NAMES, 8)
    entries = [
        (
            tuple(rng.choice(names) for _ in range(rng.randint(1, 3))),
            rng.choice(["file", "file", "file", "dir", "link"]),
        )
        for _ in range(rng.randint(3, 30))
    ]
    patterns = rng.sample(PATTERNS, rng.randint(0, 5))
    return entries, patterns, rng.sample([*EXCLUDED, *names], rng.randint(0, 2))


@pytest.mark.parametrize("block", range(4))
def test_scan_matches_the_plain_walk(block: int, tmp_path: Path) -> None:
    for seed in range(block * 100, block * 100 + 100):
        entries, patterns, excluded = random_case(random.Random(seed))
        root = tmp_path / str(seed)
        root.mkdir()
        make_tree(root, entries)
        case = f"seed {seed}: {entries} {patterns} {excluded}"
        want_files, want_dirs, want_issues = reference_scan(
            root, ReferenceRules(patterns, excluded)
        )
        rules = IgnoreRules(patterns, excluded_folders=excluded)
        first = Scanner(root, rules).scan()
        assert first.tree.files == want_files, case
        assert first.tree.dirs == want_dirs, case
        got_issues = sorted((i.kind, i.path, i.detail) for i in first.issues)
        assert got_issues == sorted(want_issues), case
        assert first.hashed == len(want_files), case
        known = {p: (f.fp, f.sha256) for p, f in want_files.items()}
        again = Scanner(root, rules).scan(known)
        assert again.tree.files == want_files and again.hashed == 0, case


def test_is_ignored_matches_pathspec() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        _, patterns, excluded = random_case(rng)
        names = [*NAMES, "x", "é", "a/b", "\n", ".", "", "tmp"]
        path = "/".join(rng.choice(names) for _ in range(rng.randint(1, 4)))
        for is_dir in (False, True):
            want = ReferenceRules(patterns, excluded).is_ignored(path, is_dir=is_dir)
            rules = IgnoreRules(patterns, excluded_folders=excluded)
            assert rules.is_ignored(path, is_dir=is_dir) == want, (path, is_dir, patterns)


# ---- the cases one by one -----------------------------------------------------------------------


def test_ignored_folders_are_not_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for rel in ("build/deep/x.o", "node_modules/m/i.js", "big/f", "src/a.c", "src/build/y.o"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    listed: list[str] = []
    real = scanner_module._list_dir

    def spy(abs_dir: str, *, top: bool) -> tuple[list[os.DirEntry[str]], int | None]:
        listed.append(os.path.relpath(abs_dir, tmp_path))
        return real(abs_dir, top=top)

    monkeypatch.setattr(scanner_module, "_list_dir", spy)
    rules = IgnoreRules(["build/", "node_modules"], excluded_folders=["big"])
    result = Scanner(tmp_path, rules).scan()
    assert set(result.tree.files) == {"src/a.c"}
    assert result.tree.dirs == {"src"}
    assert sorted(listed) == [".", "src"]


def test_a_negation_keeps_a_folder_and_its_files_are_checked_one_by_one(tmp_path: Path) -> None:
    # "tmp*" matches the folder "tmpkeep"; "!tmpkeep/" keeps it, so its entries can't be
    # judged by their names alone
    for rel in ("tmpkeep/a.txt", "tmpkeep/b.log", "tmpx/c.txt", "other/tmpy.txt", "e.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    patterns = ["tmp*", "!tmpkeep/", "*.log"]
    result = Scanner(tmp_path, IgnoreRules(patterns)).scan()
    want = reference_scan(tmp_path, ReferenceRules(patterns, []))
    assert result.tree.files == want[0] and result.tree.dirs == want[1]
    assert "e.txt" in result.tree.files and "other/tmpy.txt" not in result.tree.files


def test_ascii_and_non_ascii_names(tmp_path: Path) -> None:
    nfc = "café.tmp"
    nfd = unicodedata.normalize("NFD", "cafè.txt")
    for name in ("plain.txt", "plain.tmp", nfc, nfd, "ÉTÉ~", "naïve.txt"):
        (tmp_path / name).write_text(name)
    result = Scanner(tmp_path, IgnoreRules()).scan()
    assert set(result.tree.files) == {"plain.txt", nfd, "naïve.txt"}  # spelled as on disk

    sensitive, insensitive = PathRules(), PathRules(case_sensitive=False)
    assert sensitive.key("Docs/A.txt") == "Docs/A.txt"
    assert insensitive.key("Docs/A.txt") == "docs/a.txt"
    assert (
        sensitive.key(NFD_CAFE) == "café" == insensitive.key(unicodedata.normalize("NFD", "CAFÉ"))
    )
    assert insensitive.key("STRASSE") == insensitive.key("straße")  # casefold, not lower
    assert sensitive.key("Ångström") == unicodedata.normalize("NFC", "Ångström")


def test_a_changed_mtime_ctime_or_inode_is_hashed_again(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("one")
    rules = IgnoreRules()

    def known() -> dict[str, tuple[Fingerprint, str | None]]:
        return {p: (x.fp, x.sha256) for p, x in Scanner(tmp_path, rules).scan().tree.files.items()}

    base = known()
    assert Scanner(tmp_path, rules).scan(base).hashed == 0
    fp, sha = base["f.txt"]
    for name in ("size", "mtime_ns", "inode", "ctime_ns"):  # each one on its own
        other_fp = dataclasses.replace(fp, **{name: getattr(fp, name) + 1})
        result = Scanner(tmp_path, rules).scan({"f.txt": (other_fp, sha)})
        assert result.hashed == 1 and result.tree.files["f.txt"].fp == fp, name

    st_ = f.stat()
    os.utime(f, ns=(st_.st_atime_ns, st_.st_mtime_ns + 1_000_000))  # same size, new mtime
    result = Scanner(tmp_path, rules).scan(base)
    assert result.hashed == 1
    assert result.tree.files["f.txt"].fp.mtime_ns == st_.st_mtime_ns + 1_000_000

    base = known()
    st_ = f.stat()
    f.write_text("two")  # same size, new content, old mtime put back (cp -p, touch -r)
    os.utime(f, ns=(st_.st_atime_ns, st_.st_mtime_ns))
    result = Scanner(tmp_path, rules).scan(base)
    assert result.hashed == 1 and result.tree.files["f.txt"].sha256 != base["f.txt"][1]

    base = known()
    st_ = f.stat()
    other = tmp_path / "other"
    other.write_text("two")
    os.utime(other, ns=(st_.st_atime_ns, st_.st_mtime_ns))
    other.replace(f)  # another file (inode) with the same size and mtime
    assert Scanner(tmp_path, rules).scan(base).hashed == 1

    # a known entry without a hash is no help; the scanner's own previous scan is
    base = known()
    no_hash = {p: (fp, None) for p, (fp, _) in base.items()}
    scanner = Scanner(tmp_path, rules)
    assert scanner.scan(no_hash).hashed == 1
    assert scanner.scan(no_hash).hashed == 0


def test_unreadable_folder_is_reported_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x").write_text("x")
    (tmp_path / "ok.txt").write_text("ok")
    real = scanner_module._list_dir

    def deny(abs_dir: str, *, top: bool) -> tuple[list[os.DirEntry[str]], int | None]:
        if abs_dir.endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real(abs_dir, top=top)

    monkeypatch.setattr(scanner_module, "_list_dir", deny)
    result = Scanner(tmp_path, IgnoreRules()).scan()
    assert set(result.tree.files) == {"ok.txt"}
    assert [(i.kind, i.path) for i in result.issues] == [(IssueKind.UNREADABLE, "locked")]
    assert result.tree.unknown == {"locked"}


@pytest.mark.skipif(not scanner_module._BY_FD, reason="folders are listed by path here")
def test_a_folder_below_the_root_is_never_opened_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (tmp_path / "link").symlink_to(outside)
    with pytest.raises(OSError):
        scanner_module._list_dir(str(tmp_path / "link"), top=False)
    entries, fd = scanner_module._list_dir(str(tmp_path / "link"), top=True)  # the root may be
    assert fd is not None
    os.close(fd)
    assert [e.name for e in entries] == ["secret"]


# ---- the index's in-memory base ----------------------------------------------------------------

FILE_IDS = ("F1", "F2", "F3")
LOCAL = ("a", "b", "c/d")


def base_entry(file_id: str, path: str, n: int) -> BaseEntry:
    return BaseEntry(file_id, path, f"r/{path}", f"v{n}", f"h{n}", Fingerprint(n, n, n, n))


index_op = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(FILE_IDS), st.sampled_from(LOCAL), st.integers(0, 9)),
    st.tuples(st.just("forget"), st.sampled_from(FILE_IDS)),
    st.tuples(st.just("clear")),
    st.tuples(
        st.just("record"), st.sampled_from(FILE_IDS), st.sampled_from(LOCAL), st.integers(0, 9)
    ),
    st.tuples(st.just("reset")),
    st.tuples(st.just("raw_delete"), st.sampled_from(FILE_IDS)),
    st.tuples(st.just("raw_duplicate"), st.sampled_from(LOCAL)),
    st.tuples(st.just("rollback"), st.sampled_from(FILE_IDS)),
    st.tuples(
        st.just("other_put"), st.sampled_from(FILE_IDS), st.sampled_from(LOCAL), st.integers(0, 9)
    ),
    st.tuples(st.just("remote"), st.sampled_from(FILE_IDS)),
)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(index_op, max_size=15))
def test_base_in_memory_matches_a_fresh_read(ops: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "index.sqlite3"
        with SyncIndex(db) as index, SyncIndex(db) as other:
            for op in ops:
                index.base()  # fill the in-memory copy before each change
                kind = op[0]
                if kind == "put":
                    index.put_base(base_entry(str(op[1]), str(op[2]), int(str(op[3]))))
                elif kind == "forget":
                    index.forget_base(str(op[1]))
                elif kind == "clear":
                    index.clear_base()
                elif kind == "record":
                    entry = base_entry(str(op[1]), str(op[2]), int(str(op[3])))
                    index.record(put_base=entry, forget=iter([FILE_IDS[0]]))
                elif kind == "reset":
                    index.reset_for_epoch()
                elif kind == "raw_delete":
                    with index.transaction() as tx:
                        tx.execute("DELETE FROM base WHERE file_id = ?", (op[1],))
                elif kind == "raw_duplicate":
                    with index.transaction() as tx:
                        tx.execute(
                            "INSERT OR REPLACE INTO base VALUES "
                            "('D', ?, 'r', 'v', NULL, 1, 2, 3, 4)",
                            (op[1],),
                        )
                elif kind == "rollback":
                    with pytest.raises(RuntimeError), index.transaction() as tx:
                        tx.execute("DELETE FROM base WHERE file_id = ?", (op[1],))
                        raise RuntimeError("crash")
                elif kind == "other_put":
                    other.put_base(base_entry(str(op[1]), str(op[2]), int(str(op[3]))))
                else:
                    index.apply_remote(
                        [RemoteEntry(str(op[1]), "p", "v", 1, None)], [], cursor="c", epoch="e"
                    )
                with SyncIndex(db) as fresh:
                    want = fresh.base()
                assert index.base() == want
                base, hashes = index.base_and_hashes()
                assert base == want
                assert dict(hashes) == {b.local_path: (b.fp, b.sha256) for b in want}
                assert [b.local_path for b in want] == sorted(b.local_path for b in want)


def test_base_values_read_back_as_stored(tmp_path: Path) -> None:
    with SyncIndex(tmp_path / "i.sqlite3") as index:
        index.base()
        index.put_base(BaseEntry("F", "a", "r", "v", None, Fingerprint(True, 2, 3)))
        [got] = index.base()
        assert type(got.fp.size) is int and got.fp == Fingerprint(1, 2, 3, 0)
        assert index.base() is not index.base()  # a copy the caller may change
        _, hashes = index.base_and_hashes()
        with pytest.raises(TypeError):
            hashes["b"] = (got.fp, None)  # type: ignore[index]


# ---- models ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [Fingerprint, LocalFile, BaseEntry])
def test_written_out_constructors_match_the_fields(cls: type) -> None:
    fields = dataclasses.fields(cls)
    params = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        assert p.default == (
            inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        )


def test_models_stay_frozen_values() -> None:
    fp = Fingerprint(1, 2, 3)
    assert fp == Fingerprint(size=1, mtime_ns=2, inode=3, ctime_ns=0) and fp.ctime_ns == 0
    assert hash(fp) == hash(Fingerprint(1, 2, 3, 0))
    assert repr(fp) == "Fingerprint(size=1, mtime_ns=2, inode=3, ctime_ns=0)"
    assert dataclasses.replace(fp, size=5) == Fingerprint(5, 2, 3, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fp.size = 2  # type: ignore[misc]
    lf = LocalFile("a", fp, "h")
    assert lf == LocalFile("a", Fingerprint(1, 2, 3), "h") and lf != LocalFile("a", fp, "x")
    entry = BaseEntry("F", "a", "r", "v", None, fp)
    assert dataclasses.replace(entry, local_path="b").local_path == "b"
    assert dataclasses.asdict(entry)["fp"] == {"size": 1, "mtime_ns": 2, "inode": 3, "ctime_ns": 0}


def test_garbage_collection_is_held_off_only_while_walking(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    seen: list[bool] = []

    def hasher(path: Path) -> str:
        seen.append(gc.isenabled())  # hashing may take long: never with collection off
        return sha256_file(path)

    assert gc.isenabled()
    scanner = Scanner(tmp_path, IgnoreRules(), hasher=hasher)
    assert scanner.scan().hashed == 2 and seen == [True, True]
    assert gc.isenabled()
    assert scanner.scan().hashed == 0 and gc.isenabled()
    gc.disable()
    try:
        (tmp_path / "c.txt").write_text("c")
        assert scanner.scan().hashed == 1
        assert not gc.isenabled()  # a process that disabled it keeps it disabled
    finally:
        gc.enable()


def test_gc_pause_holders_share_one_pause() -> None:
    assert gc.isenabled()
    first, second = GcPause(), GcPause()
    assert not gc.isenabled()
    first.release()
    first.release()  # again: no-op
    assert not gc.isenabled()
    with second:
        pass
    assert gc.isenabled()
