"""Dropping files on the window uploads them (real stack) into the folder shown."""

from __future__ import annotations

from pathlib import Path

import requests
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.activity import Status
from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.gui.events import JobDone
from filevault_desktop.paths import AppPaths
from tests.gui.conftest import SIGNAL_TIMEOUT_MS, service_for
from tests.gui.dnd import drop_files


def _files(tmp_path: Path, n: int, size: int = 1000) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp_path / f"note-{i}.txt"
        p.write_bytes(bytes([65 + i % 26]) * (size + i))
        out.append(p)
    return out


def test_dropping_files_on_the_window_uploads_them_into_the_folder_shown(
    qtbot: QtBot, signed_in_app: FileVaultApp, app_paths: AppPaths, tmp_path: Path
) -> None:
    app = signed_in_app
    with qtbot.waitSignal(app.bridge.listing_ready, timeout=SIGNAL_TIMEOUT_MS):
        app.window.browser.open_folder("inbox")
    files = _files(tmp_path, 3)
    shown: list[tuple[str, str]] = []
    app.notifier.shown.connect(lambda title, msg: shown.append((title, msg)))

    with qtbot.waitSignal(app.bridge.job_queued, timeout=SIGNAL_TIMEOUT_MS):
        assert drop_files(app.window, files)
    qtbot.waitUntil(lambda: app.bridge.active_jobs() == 0, timeout=SIGNAL_TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: (
            len(app.window.activity.model.rows()) == 3
            and all(r.status is Status.DONE for r in app.window.activity.model.rows())
        ),
        timeout=SIGNAL_TIMEOUT_MS,
    )
    rows = app.window.activity.model.rows()
    assert sorted(r.name for r in rows) == ["note-0.txt", "note-1.txt", "note-2.txt"]
    assert all(r.fraction == 1.0 for r in rows)

    svc = service_for(app_paths)
    for f in files:
        remote = svc.find(f"inbox/{f.name}")
        got = requests.get(svc.api.download_url(remote.file_id), timeout=10)
        assert got.content == f.read_bytes()

    # The browser refreshes and lists the new files; one notification for the three.
    qtbot.waitUntil(
        lambda: {e.name for e in app.window.browser.entries()} >= {f.name for f in files},
        timeout=SIGNAL_TIMEOUT_MS,
    )
    app.notifier.flush_uploads()
    assert shown == [("Uploads finished", "3 files uploaded to inbox.")]
    assert app.recent[0].path.startswith("inbox/note-")


def test_the_drop_zone_takes_folders_and_the_job_can_be_cancelled(
    qtbot: QtBot, signed_in_app: FileVaultApp, tmp_path: Path
) -> None:
    app = signed_in_app
    folder = tmp_path / "album"
    folder.mkdir()
    _files(folder, 2)
    with qtbot.waitSignal(app.bridge.job_done, timeout=SIGNAL_TIMEOUT_MS) as done:
        assert drop_files(app.window.browser.drop_zone, [folder])
    result = done.args[0]
    assert isinstance(result, JobDone)
    assert sorted(result.done) == ["album/note-0.txt", "album/note-1.txt"]

    # A job cancelled before it starts ends as cancelled, with nothing sent.
    job_ids = app.upload([folder])
    app.bridge.cancel_job(job_ids[0])
    with qtbot.waitSignal(app.bridge.job_done, timeout=SIGNAL_TIMEOUT_MS) as cancelled:
        pass
    assert cancelled.args[0].cancelled


def test_non_file_drops_are_refused(qtbot: QtBot, signed_in_app: FileVaultApp) -> None:
    assert not drop_files(signed_in_app.window, [])
