"""Settings persist across a restart; start at login writes the XDG autostart entry."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.settings import GuiSettings, SettingsStore
from tests.gui.conftest import AppFactory


def test_settings_persist_across_restart(
    qtbot: QtBot, make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    dialog = app.open_settings()
    dialog.notifications.setChecked(False)
    dialog.start_at_login.setChecked(True)
    dialog.upload_limit.setValue(500)
    dialog.download_limit.setValue(2000)
    dialog.recent.setValue(8)
    dialog.link_expiry.setCurrentText("1 day")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)  # type: ignore[union-attr]
    ok.click()
    assert not dialog.isVisible()
    assert not app.notifier.enabled
    entry = tmp_path / "autostart" / "filevault.desktop"
    assert "Exec=" in entry.read_text() and "filevault_desktop.gui" in entry.read_text()
    app.shutdown()

    again = make_app()  # a new process would read the same file
    s = again.settings
    assert (s.notifications, s.start_at_login, s.upload_limit_kbps, s.download_limit_kbps) == (
        False,
        True,
        500,
        2000,
    )
    assert (s.recent_files, s.share_expiry_s) == (8, 86400)
    reopened = again.open_settings()
    assert reopened.upload_limit.value() == 500 and not reopened.notifications.isChecked()
    reopened.start_at_login.setChecked(False)
    reopened.accept()
    reopened._accept()
    assert not entry.exists()


def test_a_damaged_settings_file_falls_back_to_defaults(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.path.write_text("{not json")
    assert store.load() == GuiSettings()
    store.path.write_text('{"notifications": "yes", "upload_limit_kbps": 10}')
    assert store.load() == GuiSettings(upload_limit_kbps=10)
    store.save(GuiSettings(recent_files=3))
    assert store.load().recent_files == 3
    assert not list(tmp_path.glob("*.tmp"))  # written atomically, nothing left behind
