"""The planner is pure: trees in, actions out. Cases that need a file system we don't have
(case-insensitive, normalizing) are checked here with ``PathRules``."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from filevault_desktop.sync.models import (
    BaseEntry,
    CommitBase,
    ConflictCopy,
    Download,
    Fingerprint,
    IssueKind,
    LocalFile,
    LocalMove,
    LocalTrash,
    LocalTree,
    PathRules,
    RemoteEntry,
    RemoteMove,
    RemoteTrash,
    Upload,
    Verdict,
)
from filevault_desktop.sync.planner import PlanOptions, conflict_name, plan

NOW = datetime(2024, 1, 2, 3, 4, 5)
INSENSITIVE = PathRules(case_sensitive=False, normalizes_unicode=True)


def fp(inode: int, size: int = 1) -> Fingerprint:
    return Fingerprint(size, 1000, inode, 1000)


def local(*files: tuple[str, int, str]) -> LocalTree:
    return LocalTree({p: LocalFile(p, fp(ino), sha) for p, ino, sha in files})


def synced(path: str, inode: int, sha: str, file_id: str = "F") -> tuple[BaseEntry, RemoteEntry]:
    return (
        BaseEntry(file_id, path, path, "v1", sha, fp(inode)),
        RemoteEntry(file_id, path, "v1", 1, sha),
    )


def opts(**kw: object) -> PlanOptions:
    return PlanOptions(now=NOW, device="pc", **kw)  # type: ignore[arg-type]


def kinds(p: object) -> list[type]:
    return [type(a) for a in p.actions]  # type: ignore[attr-defined]


def test_conflict_names() -> None:
    taken: set[str] = {"d/report (conflicted copy pc 2024-01-02 030405).pdf"}
    assert conflict_name("notes.txt", "pc", NOW, taken.__contains__) == (
        "notes (conflicted copy pc 2024-01-02 030405).txt"
    )
    assert conflict_name("d/report.pdf", "pc", NOW, taken.__contains__) == (
        "d/report (conflicted copy pc 2024-01-02 030405 2).pdf"
    )
    assert conflict_name(".bashrc", "pc", NOW, taken.__contains__) == (
        ".bashrc (conflicted copy pc 2024-01-02 030405)"
    )


def test_nothing_to_do_when_all_agree() -> None:
    b, r = synced("a.txt", 1, "h")
    assert plan(local(("a.txt", 1, "h")), [r], [b], opts()).actions == ()


def test_case_only_rename_local_on_case_insensitive_fs() -> None:
    b, r = synced("readme.txt", 1, "h")
    p = plan(local(("README.txt", 1, "h")), [r], [b], opts(rules=INSENSITIVE))
    assert [(type(a), getattr(a, "dst", None)) for a in p.actions] == [
        (RemoteMove, "README.txt"),
        (CommitBase, None),
    ]


def test_case_only_rename_remote_on_case_insensitive_fs() -> None:
    b, _ = synced("readme.txt", 1, "h")
    renamed = RemoteEntry("F", "README.txt", "v1", 1, "h")
    p = plan(local(("readme.txt", 1, "h")), [renamed], [b], opts(rules=INSENSITIVE))
    assert isinstance(p.actions[0], LocalMove)
    assert (p.actions[0].src, p.actions[0].dst) == ("readme.txt", "README.txt")


def test_case_twins_on_the_server_are_reported_not_merged_or_deleted() -> None:
    remote = [RemoteEntry("F1", "A.txt", "v1", 1, "h1"), RemoteEntry("F2", "a.txt", "v1", 1, "h2")]
    p = plan(LocalTree(), remote, [], opts(rules=INSENSITIVE))
    assert kinds(p) == [Download]
    assert [(i.kind, i.path) for i in p.issues] == [(IssueKind.NAME_CLASH, "a.txt")]
    # on a case-sensitive file system both come down
    assert kinds(plan(LocalTree(), remote, [], opts())) == [Download, Download]


def test_normalizing_fs_spelling_is_not_a_rename() -> None:
    nfc, nfd = (unicodedata.normalize(f, "résumé.txt") for f in ("NFC", "NFD"))
    b, r = synced(nfc, 1, "h")
    p = plan(local((nfd, 1, "h")), [r], [b], opts(rules=INSENSITIVE))
    assert kinds(p) == [CommitBase]  # only the on-disk spelling is recorded
    assert isinstance(p.actions[0], CommitBase)
    assert (p.actions[0].entry.local_path, p.actions[0].entry.remote_path) == (nfd, nfc)


def test_both_created_same_content_is_adopted() -> None:
    p = plan(local(("a", 1, "h")), [RemoteEntry("F", "a", "v1", 1, "h")], [], opts())
    assert kinds(p) == [CommitBase]


def test_both_created_different_content_keeps_both() -> None:
    theirs = RemoteEntry("F", "a.txt", "v1", 1, "theirs")
    p = plan(local(("a.txt", 1, "mine")), [theirs], [], opts())
    assert kinds(p) == [ConflictCopy, Download, Upload]
    copy = p.actions[0]
    assert isinstance(copy, ConflictCopy)
    assert copy.dst == "a (conflicted copy pc 2024-01-02 030405).txt"


def test_unknown_remote_hash_is_a_conflict_not_an_overwrite() -> None:
    p = plan(local(("a", 1, "h")), [RemoteEntry("F", "a", "v1", 1, None)], [], opts())
    assert kinds(p) == [ConflictCopy, Download, Upload]


def test_local_move_by_inode_and_by_hash() -> None:
    b1, r1 = synced("a", 1, "h1", "F1")
    b2, r2 = synced("b", 2, "h2", "F2")
    tree = local(("x/a", 1, "h1"), ("y/b", 9, "h2"))  # inode kept / copied then deleted
    p = plan(tree, [r1, r2], [b1, b2], opts())
    moves = {(a.src, a.dst) for a in p.actions if isinstance(a, RemoteMove)}
    assert moves == {("a", "x/a"), ("b", "y/b")}
    assert not any(isinstance(a, Upload | RemoteTrash) for a in p.actions)


def test_reused_inode_with_new_name_and_content_is_not_a_move() -> None:
    b, r = synced("old.txt", 1, "h1")
    p = plan(local(("new.txt", 1, "other")), [r], [b], opts())
    assert sorted(t.__name__ for t in kinds(p)) == ["RemoteTrash", "Upload"]


def test_remote_move_wins_when_both_moved() -> None:
    b, _ = synced("a", 1, "h")
    p = plan(local(("l/a", 1, "h")), [RemoteEntry("F", "r/a", "v1", 1, "h")], [b], opts())
    assert [(type(a), getattr(a, "dst", "")) for a in p.actions] == [
        (LocalMove, "r/a"),
        (CommitBase, ""),
    ]


def test_local_new_file_where_remote_moved_another_gets_a_conflict_copy() -> None:
    b, _ = synced("a", 1, "h")
    tree = local(("a", 1, "h"), ("b", 2, "mine"))
    p = plan(tree, [RemoteEntry("F", "b", "v1", 1, "h")], [b], opts())
    assert kinds(p)[0] is ConflictCopy
    assert any(isinstance(a, LocalMove) and a.dst == "b" for a in p.actions)


def test_mass_delete_guard_holds_deletes_only() -> None:
    pairs = [synced(f"f{n}", n, f"h{n}", f"F{n}") for n in range(5)]
    remote = [r for _, r in pairs]
    base = [b for b, _ in pairs]
    p = plan(local(("new", 99, "n")), remote, base, opts(mass_delete_threshold=3))
    assert p.verdict is Verdict.MASS_DELETE and p.held_deletes == 5
    assert kinds(p) == [Upload]
    allowed = plan(LocalTree(), remote, base, opts(mass_delete_threshold=3, allow_mass_delete=True))
    assert kinds(allowed) == [RemoteTrash] * 5


def test_remote_delete_of_unchanged_file_goes_to_local_trash() -> None:
    b, _ = synced("a", 1, "h")
    assert kinds(plan(local(("a", 1, "h")), [], [b], opts())) == [LocalTrash]
    # ...but a local edit is kept and uploaded again
    assert kinds(plan(local(("a", 1, "edited")), [], [b], opts())) == [Upload]


def test_ignored_and_excluded_remote_files_are_left_alone() -> None:
    remote = [RemoteEntry("F1", "x.tmp", "v", 1, "h"), RemoteEntry("F2", "big/v", "v", 1, "h")]
    skip = {"x.tmp", "big/v"}.__contains__
    assert plan(LocalTree(), remote, [], opts(is_ignored=skip)).actions == ()


def test_download_onto_a_local_folder_with_content_is_reported() -> None:
    tree = LocalTree({"x/y": LocalFile("x/y", fp(1), "h")}, frozenset({"x"}))
    p = plan(tree, [RemoteEntry("F", "x", "v1", 1, "h2")], [], opts())
    assert kinds(p) == [Upload]
    assert [i.kind for i in p.issues] == [IssueKind.NAME_CLASH]


def test_unreadable_or_symlinked_local_paths_are_left_alone() -> None:
    b, r = synced("locked.txt", 1, "h")
    other = RemoteEntry("F2", "dir/new.txt", "v1", 1, "h2")
    tree = LocalTree({}, frozenset(), frozenset({"locked.txt", "dir"}))
    assert plan(tree, [r, other], [b], opts()).actions == ()
