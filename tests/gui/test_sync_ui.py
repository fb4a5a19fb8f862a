"""Sync folders UI against a fake port: pause/resume and the tray state, the delete prompt."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.gui.icons import TrayState
from filevault_desktop.gui.sync_port import (
    FolderState,
    MassDeletePrompt,
    NoSync,
    SyncFolder,
    SyncIssue,
)
from tests.gui.conftest import SIGNAL_TIMEOUT_MS, AppFactory, User, sign_in
from tests.gui.fakes import FakeSync


def _app(qtbot: QtBot, make_app: AppFactory, user: User, sync: FakeSync) -> FileVaultApp:
    app = make_app(sync=sync)
    with qtbot.waitSignal(app.bridge.sync_folders, timeout=SIGNAL_TIMEOUT_MS):
        app.start()
    qtbot.waitUntil(lambda: app.signin is not None, timeout=SIGNAL_TIMEOUT_MS)
    sign_in(qtbot, app, user)
    return app


def _folder(tmp_path: Path, state: FolderState = FolderState.UP_TO_DATE) -> SyncFolder:
    return SyncFolder("f1", tmp_path / "Documents", "Documents", state, pending=0, synced=42)


def test_pause_and_resume_change_the_tray_state(
    qtbot: QtBot, make_app: AppFactory, user: User, tmp_path: Path
) -> None:
    sync = FakeSync([_folder(tmp_path)])
    app = _app(qtbot, make_app, user, sync)
    assert app.tray.state is TrayState.UP_TO_DATE
    [shown] = app.window.folders.folders()
    assert shown.synced == 42
    assert app.window.folders.tree.topLevelItem(0).text(2) == "Up to date"  # type: ignore[union-attr]

    app.tray.menu.aboutToShow.emit()
    pause = app.tray.find_action("Pause syncing")
    assert pause is not None and pause.isEnabled()
    with qtbot.waitSignal(app.state_changed, timeout=SIGNAL_TIMEOUT_MS) as changed:
        pause.trigger()
    assert changed.args == [TrayState.PAUSED]
    assert ("pause", None) in sync.calls
    # The window's action follows the folder list, which is reloaded after the call.
    qtbot.waitUntil(
        lambda: app.window.pause_action.text() == "Resume syncing", timeout=SIGNAL_TIMEOUT_MS
    )

    app.tray.menu.aboutToShow.emit()  # rebuilt: now offers resume
    resume = app.tray.find_action("Resume syncing")
    assert resume is not None and app.tray.find_action("Pause syncing") is None
    with qtbot.waitSignal(app.state_changed, timeout=SIGNAL_TIMEOUT_MS) as changed:
        resume.trigger()
    assert changed.args == [TrayState.UP_TO_DATE]


def test_sync_issue_and_mass_delete_prompt(
    qtbot: QtBot, make_app: AppFactory, user: User, tmp_path: Path
) -> None:
    sync = FakeSync([_folder(tmp_path)])
    app = _app(qtbot, make_app, user, sync)
    with qtbot.waitSignal(app.bridge.sync_notice, timeout=SIGNAL_TIMEOUT_MS):
        sync.send(SyncIssue("f1", "Documents/aux.txt", "reserved name on Windows", "Rename it"))
    assert app.window.issues.rows() == [
        ("Documents/aux.txt", "reserved name on Windows", "Rename it")
    ]
    app.window.issues.clear()

    with qtbot.waitSignal(app.bridge.sync_notice, timeout=SIGNAL_TIMEOUT_MS):
        sync.send(_folder(tmp_path, FolderState.NEEDS_CONFIRMATION))
    with qtbot.waitSignal(app.bridge.sync_notice, timeout=SIGNAL_TIMEOUT_MS):
        sync.send(MassDeletePrompt("f1", 250, ("Documents/a.txt", "Documents/b.txt")))
    assert app.tray.state is TrayState.ERROR
    box = app.mass_delete_prompts["f1"]
    assert "250 files" in box.text()
    keep = next(b for b in box.buttons() if b.text() == "Keep them")
    with qtbot.waitSignal(app.bridge.sync_folders, timeout=SIGNAL_TIMEOUT_MS):
        keep.click()
    assert sync.answers == [("f1", False)]
    qtbot.waitUntil(lambda: app.tray.state is TrayState.UP_TO_DATE, timeout=SIGNAL_TIMEOUT_MS)
    assert isinstance(box, QMessageBox)


def test_settings_apply_selective_sync_and_ignore_patterns(
    qtbot: QtBot, make_app: AppFactory, user: User, tmp_path: Path
) -> None:
    sync = FakeSync([_folder(tmp_path)])
    app = _app(qtbot, make_app, user, sync)
    dialog = app.open_settings()
    dialog.excluded.setPlainText("Archive/\nVideos\n")
    dialog.ignore.setPlainText("*.tmp\n\nnode_modules/\n")
    with qtbot.waitSignal(app.bridge.sync_folders, timeout=SIGNAL_TIMEOUT_MS):
        dialog.apply_folder.click()
    assert ("configure", ("f1", ("Archive", "Videos"), ("*.tmp", "node_modules/"))) in sync.calls


def test_without_a_sync_engine_the_app_says_so(qtbot: QtBot, make_app: AppFactory) -> None:
    app = make_app()
    assert not app.sync_configured
    view = app.window.folders
    assert view.empty.text() == NoSync.REASON
    assert not view.add_button.isEnabled()
    assert not app.window.pause_action.isEnabled()
