"""The share dialog against the real stack: create with options, copy, list, revoke."""

from __future__ import annotations

from pathlib import Path

import requests
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.app import FileVaultApp
from tests.gui.conftest import SIGNAL_TIMEOUT_MS

PASSWORD = {"X-Share-Password": "open sesame"}


def test_create_copy_and_revoke_a_link(
    qtbot: QtBot, signed_in_app: FileVaultApp, tmp_path: Path
) -> None:
    app = signed_in_app
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg" * 50)
    with qtbot.waitSignal(app.bridge.job_done, timeout=SIGNAL_TIMEOUT_MS):
        app.upload([photo])

    with qtbot.waitSignal(app.bridge.shares_ready, timeout=SIGNAL_TIMEOUT_MS):
        dialog = app.open_share_dialog("photo.jpg")
    assert dialog.shares() == []
    assert dialog.loading.text() == "No links yet."

    # Custom expiry of 90 minutes, a password and a download limit.
    dialog.expiry.setCurrentText("Custom…")
    dialog.custom_amount.setValue(90)
    dialog.custom_unit.setCurrentText("minutes")
    assert dialog.expires_in_seconds() == 5400
    dialog.use_password.setChecked(True)
    dialog.password.setText("open sesame")
    dialog.use_limit.setChecked(True)
    dialog.limit.setValue(3)
    with qtbot.waitSignal(app.bridge.share_created, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    url = dialog.link.text()
    assert url and QGuiApplication.clipboard().text() == url
    qtbot.waitUntil(lambda: len(dialog.shares()) == 1, timeout=SIGNAL_TIMEOUT_MS)
    share = dialog.shares()[0]
    assert share.has_password and share.max_downloads == 3 and share.state == "active"
    assert requests.get(url, allow_redirects=False, timeout=10).status_code == 401
    opened = requests.get(url, headers=PASSWORD, timeout=10)
    assert opened.content == photo.read_bytes()

    # Revoke the selected link: it stops working and is listed as revoked.
    dialog.links.setCurrentItem(dialog.links.topLevelItem(0))
    assert dialog.revoke_button.isEnabled()
    with qtbot.waitSignal(app.bridge.share_revoked, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.mouseClick(dialog.revoke_button, Qt.MouseButton.LeftButton)
    assert dialog.shares()[0].state == "revoked"
    assert not dialog.revoke_button.isEnabled()
    gone = requests.get(url, headers=PASSWORD, allow_redirects=False, timeout=10)
    assert gone.status_code == 410


def test_bad_input_is_said_in_the_dialog(
    qtbot: QtBot, signed_in_app: FileVaultApp, tmp_path: Path
) -> None:
    app = signed_in_app
    f = tmp_path / "a.txt"
    f.write_text("a")
    with qtbot.waitSignal(app.bridge.job_done, timeout=SIGNAL_TIMEOUT_MS):
        app.upload([f])
    dialog = app.open_share_dialog("a.txt")
    dialog.use_password.setChecked(True)
    dialog.password.setText("ab")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert "at least 4 characters" in dialog.message.text()
    dialog.use_password.setChecked(False)
    dialog.expiry.setCurrentText("Custom…")
    dialog.custom_amount.setValue(8)
    dialog.custom_unit.setCurrentText("days")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert "7 days" in dialog.message.text()
