"""The tray: menu rebuilt on open, one-click share links that work, state icon."""

from __future__ import annotations

from pathlib import Path

import requests
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.gui.icons import TrayState
from tests.gui.conftest import SIGNAL_TIMEOUT_MS


def _upload(qtbot: QtBot, app: FileVaultApp, path: Path) -> None:
    with qtbot.waitSignal(app.bridge.job_done, timeout=SIGNAL_TIMEOUT_MS) as done:
        app.upload([path])
    assert done.args[0].done


def test_menu_lists_recent_files_and_copy_share_link_puts_a_working_url_in_the_clipboard(
    qtbot: QtBot, signed_in_app: FileVaultApp, tmp_path: Path
) -> None:
    app = signed_in_app
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4 quarterly numbers\n" * 100)
    _upload(qtbot, app, report)

    app.tray.menu.aboutToShow.emit()
    texts = app.tray.action_texts()
    assert texts[0] == "Open FileVault"
    assert "report.pdf" in texts
    assert texts[texts.index("report.pdf") + 1 : texts.index("report.pdf") + 3] == [
        "  Copy share link",
        "  Show in FileVault",
    ]
    for wanted in ("Pause syncing", "Sync now", "Settings…", "Quit FileVault"):
        assert wanted in texts
    # No sync engine yet: the menu says so instead of pretending.
    pause = app.tray.find_action("Pause syncing")
    assert pause is not None and not pause.isEnabled()

    entry = app.tray.find_action("report.pdf")
    assert entry is not None and entry.menu() is not None
    copy = next(a for a in entry.menu().actions() if a.text() == "Copy share link")  # type: ignore[union-attr]
    notified: list[str] = []
    app.notifier.shown.connect(lambda title, _msg: notified.append(title))
    QGuiApplication.clipboard().clear()
    with qtbot.waitSignal(app.bridge.share_created, timeout=SIGNAL_TIMEOUT_MS):
        copy.trigger()
    url = QGuiApplication.clipboard().text()
    assert url.startswith("http")
    got = requests.get(url, timeout=10)  # the link redirects to the bytes
    assert got.status_code == 200
    assert got.content == report.read_bytes()
    assert notified == ["Link copied"]


def test_menu_is_rebuilt_each_time_it_opens(
    qtbot: QtBot, signed_in_app: FileVaultApp, tmp_path: Path
) -> None:
    app = signed_in_app
    app.tray.menu.aboutToShow.emit()
    assert "No recent files" in app.tray.action_texts()
    first = tmp_path / "first.txt"
    first.write_text("one")
    _upload(qtbot, app, first)
    app.tray.menu.aboutToShow.emit()
    texts = app.tray.action_texts()
    assert "first.txt" in texts and "No recent files" not in texts
    assert app.tray.state is TrayState.UP_TO_DATE


def test_not_signed_in_shows_offline_and_offers_sign_in(qtbot: QtBot, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    app.tray.menu.aboutToShow.emit()
    texts = app.tray.action_texts()
    assert "Sign in…" in texts and "Not signed in" in texts
    assert app.tray.state is TrayState.OFFLINE
