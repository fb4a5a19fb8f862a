"""The desktop app's background sync (the GUI's SyncPort over the facade), on the real stack."""

from __future__ import annotations

import time
from pathlib import Path

from filevault_desktop.gui.sync_port import FolderState, SyncFolder, SyncNotice
from filevault_desktop.service import FileVaultService
from filevault_desktop.sync_background import BackgroundSync


def _until(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_folders_sync_in_the_background_and_pause(make_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    current: list[FileVaultService | None] = [svc]
    port = BackgroundSync(lambda: current[0])
    notices: list[SyncNotice] = []
    unsubscribe = port.subscribe(notices.append)
    try:
        folder = port.add_folder(tmp_path / "Synced", "Docs")
        (tmp_path / "Synced" / "hello.txt").write_text("from the app")
        port.sync_now()
        _until(lambda: any(f.path == "Docs/hello.txt" for f in svc.api.list_files("Docs/")))
        # The folder's notices carry its file count as rounds end (the window's folder list).
        _until(lambda: any(isinstance(n, SyncFolder) and n.synced == 1 for n in notices))
        [shown] = port.folders()
        assert shown.folder_id == folder.folder_id and shown.remote_root == "Docs"

        port.configure(folder.folder_id, excluded=("private",), ignore_patterns=("*.log",))
        assert (tmp_path / "Synced" / ".filevaultignore").read_text() == "*.log\n"
        [shown] = port.folders()
        assert shown.excluded == ("private",) and shown.ignore_patterns == ("*.log",)

        port.pause()
        _until(lambda: port.folders()[0].state is FolderState.PAUSED)
        (tmp_path / "Synced" / "while-paused.txt").write_text("waits")
        port.sync_now()
        time.sleep(1.5)  # a paused folder must not upload even when asked to sync
        assert all(f.path != "Docs/while-paused.txt" for f in svc.api.list_files("Docs/"))
        port.resume()
        _until(lambda: any(f.path == "Docs/while-paused.txt" for f in svc.api.list_files("Docs/")))

        current[0] = None  # signed out: nothing syncs, nothing is shown
        assert port.folders() == []
    finally:
        unsubscribe()
        port.close()
