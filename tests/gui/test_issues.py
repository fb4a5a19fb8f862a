"""Failures land in the issues list with the reason and what to do."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.gui.icons import TrayState
from tests.gui.conftest import SIGNAL_TIMEOUT_MS


def test_a_refused_move_appears_in_the_issues_list(
    qtbot: QtBot, signed_in_app: FileVaultApp, tmp_path: Path
) -> None:
    app = signed_in_app
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
    with qtbot.waitSignal(app.bridge.job_done, timeout=SIGNAL_TIMEOUT_MS):
        app.upload([tmp_path / "a.txt"])
    with qtbot.waitSignal(app.bridge.job_done, timeout=SIGNAL_TIMEOUT_MS):
        app.upload([tmp_path / "b.txt"])
    notified: list[str] = []
    app.notifier.shown.connect(lambda title, _msg: notified.append(title))

    with qtbot.waitSignal(app.bridge.failed, timeout=SIGNAL_TIMEOUT_MS):
        app.bridge.move("a.txt", "b.txt")  # what Rename… sends: b.txt exists already
    [(item, problem, advice)] = app.window.issues.rows()
    assert item == "a.txt"
    assert problem.startswith("Could not move:") and "already exists" in problem
    assert advice == "Something with that name exists already; choose another name."
    assert app.window.tabs.tabText(3) == "Issues (1)"
    assert app.tray.state is TrayState.ERROR
    assert notified == ["Could not move"]

    app.window.issues.clear()
    assert app.tray.state is TrayState.UP_TO_DATE


def test_a_file_that_cannot_be_read_appears_in_the_issues_list(
    qtbot: QtBot, signed_in_app: FileVaultApp, tmp_path: Path
) -> None:
    app = signed_in_app
    missing = tmp_path / "vanished.txt"  # dropped, then gone before it could be read
    with qtbot.waitSignal(app.bridge.job_done, timeout=SIGNAL_TIMEOUT_MS):
        app.upload([missing])
    qtbot.waitUntil(lambda: app.window.issues.count() == 1, timeout=SIGNAL_TIMEOUT_MS)
    [(item, problem, advice)] = app.window.issues.rows()
    assert item == str(missing)
    assert problem and advice
