"""Golden scenarios: two clients (real temp folders, own indexes) sharing one fake server."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Any, cast

import pytest

from filevault_desktop.sync import SyncState
from filevault_desktop.sync.testing import FakeRemote
from filevault_desktop.transfer.errors import FileChangedError
from tests.unit.sync_fakes import Client, CrashAfter, SimulatedCrash, sync_all

COPY = " (conflicted copy {} 2024-05-06 070809)"


@pytest.fixture
def remote() -> FakeRemote:
    return FakeRemote()


@pytest.fixture
def a(tmp_path: Path, remote: FakeRemote) -> Client:
    return Client(tmp_path, "A", remote)


@pytest.fixture
def b(tmp_path: Path, remote: FakeRemote) -> Client:
    return Client(tmp_path, "B", remote)


def assert_converged(remote: FakeRemote, *clients: Client) -> None:
    for c in clients:
        assert c.tree() == remote.tree(), c.name
        assert c.base_paths() == set(remote.tree()), c.name


def test_initial_sync_uploads_downloads_and_adopts_identical_content(
    a: Client, b: Client, remote: FakeRemote
) -> None:
    a.write("docs/same.txt", "same")
    a.write("only-a.txt", "a")
    b.write("docs/same.txt", "same")
    b.write("only-b.txt", "b")
    a.sync()
    uploaded = remote.bytes_uploaded
    b.sync()
    # identical content is adopted: only B's own file travels up
    assert remote.bytes_uploaded == uploaded + 1
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert set(remote.tree()) == {"docs/same.txt", "only-a.txt", "only-b.txt"}


def test_initial_sync_with_different_content_keeps_both(
    a: Client, b: Client, remote: FakeRemote
) -> None:
    a.write("notes.txt", "from A")
    b.write("notes.txt", "from B")
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {
        "notes.txt": b"from A",
        f"notes{COPY.format('B')}.txt": b"from B",
    }


def test_a_client_reads_back_no_change_of_its_own_unless_another_came_first(
    a: Client, b: Client, remote: FakeRemote
) -> None:
    for n in range(5):
        a.write(f"mine/{n}.txt", f"mine {n}")
    a.engine.sync_once()
    # Its uploads and then its move were each the feed's next change: nothing left to read.
    assert a.engine.index.get_meta("cursor") == "5"
    a.move("mine/0.txt", "moved/0.txt")
    a.engine.sync_once()
    assert a.engine.index.get_meta("cursor") == "6"
    assert a.engine.refresh_remote() == 0

    def someone_else_writes_first(_: Path) -> None:
        remote.during_upload = None
        remote.put("theirs.txt", b"from the web")

    remote.during_upload = someone_else_writes_first
    a.write("mine/5.txt", "after theirs")
    a.engine.sync_once()
    assert a.engine.index.get_meta("cursor") == "6"  # theirs (7) came before ours (8)
    assert a.engine.refresh_remote() == 2
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert a.read("theirs.txt") == b"from the web"


def test_a_file_moved_out_of_the_folder_while_downloading_is_not_left_in_the_mirror(
    tmp_path: Path, remote: FakeRemote
) -> None:
    a = Client(tmp_path, "A", remote, remote_root="Docs")
    remote.put("Docs/x.txt", b"one")
    a.sync()
    remote.put("Docs/x.txt", b"two")
    file_id = next(e.file_id for e in remote.list_files("Docs"))
    moved: list[bool] = []

    class MovedOutFirst:
        def __getattr__(self, name: str) -> Any:
            target = getattr(remote, name)
            if name not in ("download", "download_many"):
                return target

            def move_then_download(*args: Any, **kwargs: Any) -> Any:
                if not moved:
                    moved.append(True)
                    remote.move(file_id, "Elsewhere/x.txt", None)
                return target(*args, **kwargs)

            return move_then_download

    a.restart(cast(FakeRemote, MovedOutFirst()))
    a.engine.sync_once()
    assert moved and a.read("x.txt") == b"two"  # the version planned, placed
    # The answer's seq is the move out: the cursor stays before it, so reading it drops the row.
    assert a.engine.index.get_meta("cursor") == "2"
    a.sync()
    assert [e.path for e in a.engine.index.remote()] == []
    assert a.tree() == {} and a.trashed() == [b"two"]


def test_folder_moved_while_a_file_inside_changes(a: Client, b: Client, remote: FakeRemote) -> None:
    a.write("d/x.txt", "x" * 100)
    a.write("d/y.txt", "y" * 100)
    sync_all(a, b)
    up, down = remote.bytes_uploaded, remote.bytes_downloaded
    a.move("d", "e")
    a.write("e/x.txt", "x2")
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {"e/x.txt": b"x2", "e/y.txt": b"y" * 100}
    assert remote.bytes_uploaded - up == 2  # only the edit travelled, not the moved folder
    assert remote.bytes_downloaded - down == 2
    assert remote.calls["trash"] == 0


def test_folder_moved_on_one_client_while_file_edited_on_the_other(
    a: Client, b: Client, remote: FakeRemote
) -> None:
    a.write("d/x.txt", "x")
    a.write("d/y.txt", "y")
    sync_all(a, b)
    a.move("d", "e")
    b.write("d/x.txt", "edited on B")
    a.sync()
    b.sync()
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {"e/x.txt": b"edited on B", "e/y.txt": b"y"}


def test_case_only_rename(a: Client, b: Client, remote: FakeRemote) -> None:
    a.write("readme.txt", "hello")
    sync_all(a, b)
    up, down = remote.bytes_uploaded, remote.bytes_downloaded
    a.move("readme.txt", "README.txt")
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert set(b.tree()) == {"README.txt"}
    assert (remote.bytes_uploaded, remote.bytes_downloaded) == (up, down)


@pytest.mark.parametrize("transfer_notices", [False, True])
def test_edit_during_upload(
    a: Client, b: Client, remote: FakeRemote, transfer_notices: bool
) -> None:
    a.write("big.bin", "v1")
    edits = ["v2-edited-while-uploading"]

    def edit(local: Path) -> None:
        if edits:
            local.write_text(edits.pop())
            if transfer_notices:  # the real transfer engine stops and keeps nothing
                raise FileChangedError(str(local), "mtime changed")

    remote.during_upload = edit
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {"big.bin": b"v2-edited-while-uploading"}


@pytest.mark.parametrize("first", ["deleter", "editor"])
def test_edit_vs_delete_keeps_the_edit(
    a: Client, b: Client, remote: FakeRemote, first: str
) -> None:
    a.write("f.txt", "original")
    sync_all(a, b)
    a.delete("f.txt")
    b.write("f.txt", "edited")
    order = [a, b] if first == "deleter" else [b, a]
    for c in order:
        c.sync()
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {"f.txt": b"edited"}


def test_edit_on_both_clients_keeps_both(a: Client, b: Client, remote: FakeRemote) -> None:
    a.write("f.txt", "original")
    sync_all(a, b)
    a.write("f.txt", "edit A")
    b.write("f.txt", "edit B")
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {"f.txt": b"edit A", f"f{COPY.format('B')}.txt": b"edit B"}


@pytest.mark.parametrize("same_content", [True, False])
def test_nfc_and_nfd_names_are_one_name(
    a: Client, b: Client, remote: FakeRemote, same_content: bool
) -> None:
    nfd = unicodedata.normalize("NFD", "café.txt")
    nfc = unicodedata.normalize("NFC", "café.txt")
    a.write(nfd, "from A")
    b.write(nfc, "from A" if same_content else "from B")
    a.sync()
    up = remote.bytes_uploaded
    sync_all(a, b)
    names = {unicodedata.normalize("NFC", p) for p in remote.tree()}
    if same_content:
        assert remote.tree() == {nfd: b"from A"}
        assert remote.bytes_uploaded == up  # adopted, nothing sent
        assert b.tree() == {nfc: b"from A"}  # B keeps its own spelling
    else:
        assert names == {nfc, unicodedata.normalize("NFC", f"café{COPY.format('B')}.txt")}
        assert_converged(remote, a, b)
    assert len(b.tree()) == len(remote.tree())


def test_same_size_and_mtime_but_different_content(
    a: Client, b: Client, remote: FakeRemote
) -> None:
    a.write("f.bin", "AAAA")
    sync_all(a, b)
    st = (a.root / "f.bin").stat()
    a.write("f.bin", "BBBB")
    os.utime(a.root / "f.bin", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (a.root / "f.bin").stat().st_mtime_ns == st.st_mtime_ns
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {"f.bin": b"BBBB"}


def test_file_replaced_by_a_folder_and_back(a: Client, b: Client, remote: FakeRemote) -> None:
    a.write("x", "file")
    sync_all(a, b)
    a.delete("x")
    a.write("x/y", "inside")
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {"x/y": b"inside"}
    assert b.trashed() == [b"file"]
    a.delete("x")
    a.write("x", "file again")
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {"x": b"file again"}


def test_save_by_rename_editor_makes_one_new_version(
    a: Client, b: Client, remote: FakeRemote
) -> None:
    a.write("doc.txt", "v1")
    sync_all(a, b)
    file_id = next(e.file_id for e in remote.list_files(""))
    uploads = remote.calls["upload"]
    a.write(".doc.txt.swp", "swap")
    a.write("doc.txt.tmp", "v2")
    os.replace(a.root / "doc.txt.tmp", a.root / "doc.txt")
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.calls["upload"] == uploads + 1
    assert remote.calls["trash"] == 0
    assert [(e.file_id, e.path) for e in remote.list_files("")] == [(file_id, "doc.txt")]
    assert b.read("doc.txt") == b"v2"


def test_mass_delete_stops_at_the_guard(tmp_path: Path, remote: FakeRemote) -> None:
    a = Client(tmp_path, "A", remote, mass_delete_threshold=5)
    b = Client(tmp_path, "B", remote, mass_delete_threshold=5)
    for n in range(8):
        a.write(f"f{n}.txt", str(n))
    sync_all(a, b)
    for n in range(8):
        a.delete(f"f{n}.txt")
    a.write("new.txt", "still syncs")
    report = a.sync()
    assert report.held_deletes == 8 and not report.ok
    assert a.engine.status().state is SyncState.NEEDS_CONFIRMATION
    assert len(remote.tree()) == 9  # nothing deleted, the rest synced
    a.engine.allow_mass_delete()
    assert a.sync().ok
    assert remote.tree() == {"new.txt": b"still syncs"}
    # the other client also holds back, then deletes into its trash
    report = b.sync()
    assert report.held_deletes == 8
    assert len(b.tree()) == 9
    b.engine.allow_mass_delete()
    b.sync()
    assert_converged(remote, a, b)
    assert len(b.trashed()) == 8


def test_declined_mass_delete_brings_the_files_back_on_both_sides(
    tmp_path: Path, remote: FakeRemote
) -> None:
    a = Client(tmp_path, "A", remote, mass_delete_threshold=5)
    b = Client(tmp_path, "B", remote, mass_delete_threshold=5)
    for n in range(8):
        a.write(f"f{n}.txt", str(n))
    sync_all(a, b)
    before = remote.tree()
    # A deleted them locally by mistake: declined, they are downloaded again.
    for n in range(8):
        a.delete(f"f{n}.txt")
    assert a.sync().held_deletes == 8
    a.engine.keep_held_deletes()
    report = a.sync()
    assert report.ok and report.held_deletes == 0
    assert a.tree() == before and remote.tree() == before
    assert a.engine.status().state is SyncState.IDLE
    # Deleted on the server (by A, allowed there): B declines, so B uploads them again.
    for n in range(6):
        a.delete(f"f{n}.txt")
    a.engine.allow_mass_delete()
    assert a.sync().ok and len(remote.tree()) == 2
    assert b.sync().held_deletes == 6
    b.engine.keep_held_deletes()
    assert b.sync().ok
    assert b.tree() == before and remote.tree() == before
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert not b.trashed()  # nothing of B's went to the trash on the way


@pytest.mark.parametrize("op", ["upload", "move", "trash", "download"])
def test_crash_between_remote_call_and_commit_converges(
    a: Client, b: Client, remote: FakeRemote, op: str
) -> None:
    a.write("keep.txt", "keep")
    a.write("f.txt", "v1")
    a.write("d/g.txt", "g")
    sync_all(a, b)
    victim = b if op == "download" else a
    # the change the crashing call carries out
    if op == "upload":
        a.write("f.txt", "v2")
        a.write("new.txt", "new")
    elif op == "move":
        a.move("d", "e")
    elif op == "trash":
        a.delete("f.txt")
    else:
        a.write("f.txt", "v2")
        a.sync()
    victim.restart(CrashAfter(remote, op))
    with pytest.raises(SimulatedCrash):
        victim.sync()
    victim.restart()
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert not any("conflicted" in p for p in remote.tree())
    expected = {"keep.txt": b"keep", "f.txt": b"v1", "d/g.txt": b"g"}
    if op == "upload":
        expected |= {"f.txt": b"v2", "new.txt": b"new"}
    elif op == "move":
        expected = {"keep.txt": b"keep", "f.txt": b"v1", "e/g.txt": b"g"}
    elif op == "trash":
        del expected["f.txt"]
    else:
        expected["f.txt"] = b"v2"
    assert remote.tree() == expected


@pytest.mark.parametrize("keep_files", [False, True])
def test_epoch_reset_deletes_nothing_locally(
    a: Client, b: Client, remote: FakeRemote, keep_files: bool
) -> None:
    a.write("one.txt", "1")
    a.write("d/two.txt", "2")
    sync_all(a, b)
    b.delete("one.txt")  # deleted while the server was being replaced: comes back, not lost
    remote.reset_epoch(keep_files=keep_files)
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert remote.tree() == {"one.txt": b"1", "d/two.txt": b"2"}
    assert a.trashed() == [] and b.trashed() == []


def test_renames_and_moves_transfer_zero_bytes(a: Client, b: Client, remote: FakeRemote) -> None:
    for n in range(5):
        a.write(f"photos/p{n}.jpg", os.urandom(1000))
    a.write("cv.pdf", os.urandom(500))
    sync_all(a, b)
    up, down = remote.bytes_uploaded, remote.bytes_downloaded
    a.move("photos", "archive/2024/photos")
    a.move("cv.pdf", "archive/cv-old.pdf")
    sync_all(a, b)
    b.move("archive/2024", "archive/y2024")
    sync_all(a, b)
    assert_converged(remote, a, b)
    assert (remote.bytes_uploaded, remote.bytes_downloaded) == (up, down)
    assert "archive/y2024/photos/p3.jpg" in remote.tree()


def test_pause_and_resume(a: Client, b: Client, remote: FakeRemote) -> None:
    a.engine.pause()
    a.write("f.txt", "x")
    a.sync()
    assert remote.tree() == {}
    a.restart()  # paused survives a restart
    assert a.engine.status().state is SyncState.PAUSED
    a.engine.resume()
    a.sync()
    assert remote.tree() == {"f.txt": b"x"}


def test_ignored_and_excluded_files_stay_put(tmp_path: Path, remote: FakeRemote) -> None:
    a = Client(tmp_path, "A", remote)
    b = Client(tmp_path, "B", remote, excluded_folders=("big",))
    a.write(".filevaultignore", "*.log\nbuild/\n")
    a.write("app.log", "noise")
    a.write("build/out.o", "obj")
    a.write(".DS_Store", "x")
    a.write("~$report.docx", "lock")
    a.write("big/video.mp4", "huge")
    a.write("src/main.py", "print()")
    sync_all(a, b)
    assert set(remote.tree()) == {".filevaultignore", "big/video.mp4", "src/main.py"}
    assert set(b.tree()) == {".filevaultignore", "src/main.py"}


def test_symlinks_and_unreadable_files_are_reported_not_fatal(
    a: Client, remote: FakeRemote
) -> None:
    a.write("ok.txt", "ok")
    (a.root / "link").symlink_to("/etc/passwd")
    a.write("secret.txt", "s")
    real_hasher = a.engine._scanner._hasher

    def hasher(path: Path) -> str:  # chmod 0 does not stop root, so refuse here instead
        if path.name == "secret.txt":
            raise PermissionError(13, "Permission denied")
        return real_hasher(path)

    a.engine._scanner._hasher = hasher
    report = a.sync()
    assert remote.tree() == {"ok.txt": b"ok"}
    assert not report.ok
    kinds = {(i.kind.value, i.path) for i in report.issues}
    assert kinds == {("symlink", "link"), ("unreadable", "secret.txt")}


def test_small_downloads_come_in_one_batch_and_a_failed_batch_is_retried(
    a: Client, b: Client, remote: FakeRemote
) -> None:
    remote.inline_max = 10
    for n in range(4):
        a.write(f"small/{n}.txt", f"s{n}")
    a.write("large.bin", "x" * 50)  # above inline_max: downloaded on its own
    a.sync()
    remote.fail_next("download_many")  # the first batch is lost on the way
    b.sync()  # the network error ends this run; the next one tries again
    b.sync()
    assert_converged(remote, a, b)
    assert remote.calls["download_many"] == 2  # the lost batch, then its retry
    # 4 small files through the batch, the large one on its own (once: it was never batched)
    assert remote.calls["download"] == 5
    assert not [p for p in b.root.rglob("*") if ".filevault" in p.name]  # no temp left
