"""Index, scanner, ignore rules, debouncer, watcher, the engine's loop, and the import rule."""

from __future__ import annotations

import subprocess
import sys
import threading
import unicodedata
from pathlib import Path

import pytest

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.sync import (
    ActionResult,
    FolderTrash,
    IgnoreRules,
    Outcome,
    SyncConfig,
    SyncEngine,
    SyncIndex,
    SyncRootMissing,
)
from filevault_desktop.sync.localfs import LocalFs
from filevault_desktop.sync.models import BaseEntry, Download, Fingerprint, RemoteEntry, Upload
from filevault_desktop.sync.scanner import Scanner, fingerprint
from filevault_desktop.sync.testing import FakeRemote
from filevault_desktop.sync.watcher import Debouncer, LocalWatcher
from filevault_desktop.sync_remote import entry_of
from filevault_desktop.transfer.testing import ManualClock


def test_sync_core_imports_no_sdk_or_qt() -> None:
    code = (
        "import sys, filevault_desktop.sync, filevault_desktop.sync.testing\n"
        "import filevault_desktop.sync.watcher\n"
        "bad = [m for m in ('requests', 'urllib3', 'boto3', 'botocore', 'PySide6') "
        "if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


# ---- index -------------------------------------------------------------------------------------


def entry(file_id: str, path: str) -> BaseEntry:
    return BaseEntry(file_id, path, path, "v1", "h", Fingerprint(1, 2, 3, 4))


def test_index_persists_and_rolls_back(tmp_path: Path) -> None:
    db = tmp_path / "s" / "index.sqlite3"
    with SyncIndex(db) as index:
        index.put_base(entry("F1", "a"))
        index.apply_remote([RemoteEntry("F1", "a", "v1", 1, "h")], [], cursor="7", epoch="e")
        index.paused = True
        with pytest.raises(RuntimeError), index.transaction() as tx:
            tx.execute("DELETE FROM base")
            raise RuntimeError("crash inside a transaction")
        assert index.get_meta("cursor") == "7"
    with SyncIndex(db) as index:
        assert index.base() == [entry("F1", "a")]
        assert index.paused
        assert [e.file_id for e in index.remote()] == ["F1"]
        assert index._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        index.put_base(entry("F2", "a"))  # a path belongs to one file
        assert [b.file_id for b in index.base()] == ["F2"]
        index.reset_for_epoch()
        assert index.base() == [] and index.remote() == [] and index.get_meta("cursor") is None


def test_index_moves_the_cursor_past_our_own_change_only_when_it_is_the_next(
    tmp_path: Path,
) -> None:
    with SyncIndex(tmp_path / "index.sqlite3") as index:
        mine = RemoteEntry("F1", "a", "v1", 1, "h", change_seq=1)
        index.record(put_remote=mine)
        assert index.get_meta("cursor") is None  # no feed read yet: nothing to move on from
        index.apply_remote([], [], cursor="7", epoch="e")
        index.record(put_remote=RemoteEntry("F1", "a", "v2", 1, "h", change_seq=8))
        assert index.get_meta("cursor") == "8"
        index.record(put_remote=RemoteEntry("F1", "a", "v3", 1, "h", change_seq=10))
        assert index.get_meta("cursor") == "8"  # 9 is someone else's, still to be read
        index.record(put_remote=RemoteEntry("F1", "a", "v3", 1, "h"))
        assert index.get_meta("cursor") == "8"
        # The seq says which change an entry came from, not what the file is.
        assert index.remote() == [RemoteEntry("F1", "a", "v3", 1, "h", change_seq=3)]


def test_a_save_right_after_a_download_landed_is_not_recorded_as_the_download(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    fs = LocalFs(root, FolderTrash(tmp_path / "trash"))
    temp = root / ".download.part"
    temp.write_bytes(b"downloaded")
    wrote = fingerprint(temp.lstat())

    class SavedRightAfter(type(temp)):  # type: ignore[misc]
        def replace(self, target: object) -> Path:
            placed = super().replace(target)
            (root / "doc.txt").write_bytes(b"the user's save, a moment later")
            return placed

    recorded = fs.place(SavedRightAfter(temp), "doc.txt", None)
    # What we wrote is recorded, so the next scan sees the save and hashes it again.
    assert recorded == wrote
    assert not recorded.same_file(fs.stat("doc.txt"))
    quiet = root / ".quiet.part"
    quiet.write_bytes(b"downloaded")
    recorded = fs.place(quiet, "quiet.txt", None)
    assert recorded.unchanged(fs.stat("quiet.txt"))  # with the ctime the rename gave it


def test_only_a_live_files_answer_can_move_the_cursor() -> None:
    def answer(state: str) -> RemoteFile:
        return RemoteFile.from_json(
            {
                **dict.fromkeys(("file_id", "path", "name", "content_type", "etag"), "x"),
                **dict.fromkeys(("version_id", "created_at", "modified_at"), "x"),
                "size": 1,
                "state": state,
                "change_seq": 8,
            }
        )

    assert entry_of(answer("active")).change_seq == 8
    # Read while someone trashed it: its seq is the trashing, which a mirror entry hides.
    assert entry_of(answer("trashed")).change_seq is None


# ---- scanner -----------------------------------------------------------------------------------


def test_scanner_hashes_only_new_or_changed_files(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "x.swp").write_text("ignored")
    scanner = Scanner(tmp_path, IgnoreRules())
    first = scanner.scan()
    assert set(first.tree.files) == {"d/a.txt", "b.txt"} and first.tree.dirs == {"d"}
    assert first.hashed == 2
    assert scanner.scan().hashed == 0
    (tmp_path / "b.txt").write_text("B")
    assert scanner.scan().hashed == 1
    # the base index is a hash cache too (a fresh process hashes nothing that is synced)
    known = {p: (f.fp, f.sha256) for p, f in scanner.scan().tree.files.items()}
    assert Scanner(tmp_path, IgnoreRules()).scan(known).hashed == 0


def test_scanner_reports_symlinks_and_unreadable_files(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    root = tmp_path / "root"
    root.mkdir()
    (root / "escape").symlink_to(outside)
    (root / "ok").write_text("ok")
    (root / "bad").write_text("bad")

    def hasher(path: Path) -> str:
        if path.name == "bad":
            raise PermissionError(13, "Permission denied")
        return "h"

    result = Scanner(root, IgnoreRules(), hasher=hasher).scan()
    assert set(result.tree.files) == {"ok"}
    assert {(i.kind.value, i.path) for i in result.issues} == {
        ("symlink", "escape"),
        ("unreadable", "bad"),
    }


def test_scanner_keeps_on_disk_spelling(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "café")
    (tmp_path / nfd).write_text("x")
    assert list(Scanner(tmp_path, IgnoreRules()).scan().tree.files) == [nfd]


def test_missing_root_is_an_error_not_a_mass_delete(tmp_path: Path) -> None:
    with pytest.raises(SyncRootMissing):
        Scanner(tmp_path / "unmounted", IgnoreRules()).scan()


# ---- ignore rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ".DS_Store",
        "d/Thumbs.db",
        "desktop.ini",
        "~$report.docx",
        ".~lock.report.odt#",
        "a.swp",
        "a.tmp",
        "notes.txt~",
        ".report.pdf.filevault-1a2b3c4d.part",
        "build/x.o",
        "x.log",
        "big/file",
    ],
)
def test_ignored(path: str) -> None:
    rules = IgnoreRules(["*.log", "build/"], excluded_folders=["big"])
    assert rules.is_ignored(path)


@pytest.mark.parametrize("path", ["report.docx", "d/notes.txt", "bigger/file", ".bashrc"])
def test_not_ignored(path: str) -> None:
    rules = IgnoreRules(["*.log", "build/"], excluded_folders=["big"])
    assert not rules.is_ignored(path)


def test_negation_in_filevaultignore(tmp_path: Path) -> None:
    (tmp_path / ".filevaultignore").write_text("*.log\n!keep.log\n")
    rules = IgnoreRules.for_root(tmp_path)
    assert rules.is_ignored("a.log") and not rules.is_ignored("keep.log")


# ---- debouncer and watcher ---------------------------------------------------------------------


def test_debouncer_waits_for_quiet_but_not_forever() -> None:
    clock = ManualClock()
    d = Debouncer(clock, delay=0.5, max_delay=2.0)
    assert d.due_in() is None
    d.add("a")
    clock.advance(0.4)
    d.add("b")
    assert d.take() is None
    clock.advance(0.5)
    assert d.take() == frozenset({"a", "b"})
    for _ in range(10):  # a folder that never calms down still gets a batch every max_delay
        d.add("busy")
        clock.advance(0.3)
        if d.take():
            break
    else:
        pytest.fail("no batch")


def test_watcher_batches_a_save_by_rename_as_one_change(tmp_path: Path) -> None:
    (tmp_path / "doc.txt").write_text("v1")
    batches: list[frozenset[str]] = []
    got = threading.Event()

    def on_batch(batch: frozenset[str]) -> None:
        batches.append(batch)
        got.set()

    watcher = LocalWatcher(tmp_path, on_batch, delay=0.2)
    watcher.start()
    try:
        (tmp_path / ".doc.txt.swp").write_text("swap")
        (tmp_path / "doc.txt.tmp").write_text("v2")
        (tmp_path / "doc.txt.tmp").replace(tmp_path / "doc.txt")
        (tmp_path / ".doc.txt.swp").unlink()
        assert got.wait(10)
    finally:
        watcher.stop()
    assert set().union(*batches) == {"doc.txt"}


def test_watcher_ignores_our_own_writes(tmp_path: Path) -> None:
    from filevault_desktop.sync.localfs import SelfWrites

    own = SelfWrites(window=60)
    got = threading.Event()
    batches: list[frozenset[str]] = []

    def on_batch(batch: frozenset[str]) -> None:
        batches.append(batch)
        got.set()

    watcher = LocalWatcher(tmp_path, on_batch, self_writes=own, delay=0.1)
    watcher.start()
    try:
        own.note(tmp_path / "ours.txt")
        (tmp_path / "ours.txt").write_text("downloaded")
        (tmp_path / "theirs.txt").write_text("typed by the user")
        assert got.wait(10)
    finally:
        watcher.stop()
    assert set().union(*batches) == {"theirs.txt"}


# ---- the engine's loop -------------------------------------------------------------------------


def test_run_loop_uploads_local_changes_and_fetches_remote_ones(tmp_path: Path) -> None:
    remote = FakeRemote()
    root = tmp_path / "root"
    root.mkdir()
    uploaded, downloaded = threading.Event(), threading.Event()

    def on_event(event: object) -> None:
        if isinstance(event, ActionResult) and event.outcome is Outcome.DONE:
            if isinstance(event.action, Upload):
                uploaded.set()
            if isinstance(event.action, Download):
                downloaded.set()

    engine = SyncEngine(
        SyncConfig(root=root, poll_interval=0.05, debounce=0.05),
        remote,
        SyncIndex(tmp_path / "index.sqlite3"),
        trash=FolderTrash(tmp_path / "trash"),
        on_event=on_event,
    )
    stop = threading.Event()
    thread = threading.Thread(target=engine.run, args=(stop,), daemon=True)
    thread.start()
    try:
        (root / "typed.txt").write_text("hello")
        assert uploaded.wait(10)
        remote.put("from-web.txt", b"web")
        assert downloaded.wait(10)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert (root / "from-web.txt").read_bytes() == b"web"
    assert remote.tree()["typed.txt"] == b"hello"


def _eventually(check, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_a_save_right_after_the_engine_touched_the_file_is_not_lost(tmp_path: Path) -> None:
    """The engine's own writes are ignored as events, but a user's save inside that echo
    window still syncs (after an upload, and after a download that wrote the file)."""
    import threading

    from filevault_desktop.sync import FolderTrash, SyncConfig, SyncEngine, SyncIndex
    from filevault_desktop.sync.testing import FakeRemote

    root = tmp_path / "root"
    root.mkdir()
    remote = FakeRemote()
    engine = SyncEngine(
        SyncConfig(root=root, device="x", poll_interval=0.2, debounce=0.1),
        remote,
        SyncIndex(tmp_path / "i.sqlite3"),
        trash=FolderTrash(tmp_path / "trash"),
    )
    stop = threading.Event()
    runner = threading.Thread(target=engine.run, args=(stop,), daemon=True)
    runner.start()
    try:
        (root / "doc.txt").write_bytes(b"v1")
        assert _eventually(lambda: remote.tree().get("doc.txt") == b"v1")
        (root / "doc.txt").write_bytes(b"v2")  # within the echo window of the upload
        assert _eventually(lambda: remote.tree().get("doc.txt") == b"v2")

        entry = next(e for e in remote.list_files("") if e.path == "doc.txt")
        remote_tmp = tmp_path / "from-elsewhere.txt"
        remote_tmp.write_bytes(b"v3 from another device")
        remote.upload(remote_tmp, "doc.txt", entry.version_id)
        assert _eventually(lambda: (root / "doc.txt").read_bytes() == b"v3 from another device")
        (root / "doc.txt").write_bytes(b"v4 right after the download")
        assert _eventually(lambda: remote.tree().get("doc.txt") == b"v4 right after the download")
    finally:
        stop.set()
        runner.join(10)
