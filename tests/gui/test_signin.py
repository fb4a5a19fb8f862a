"""Sign-in against the real local stack: success, wrong password, unreachable, silent resume."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.paths import AppPaths
from tests.gui.conftest import SIGNAL_TIMEOUT_MS, AppFactory, User, service_for


def _dialog(qtbot: QtBot, app: FileVaultApp):  # type: ignore[no-untyped-def]
    qtbot.waitUntil(
        lambda: app.signin is not None and app.signin.isVisible(), timeout=SIGNAL_TIMEOUT_MS
    )
    assert app.signin is not None
    return app.signin


def test_sign_in_with_the_dialog(qtbot: QtBot, make_app: AppFactory, user: User) -> None:
    app = make_app()
    app.start()
    dialog = _dialog(qtbot, app)
    assert dialog.profile.currentText() == "local"
    dialog.username.setText(user.username)
    dialog.password.setText(user.password)
    with qtbot.waitSignal(app.bridge.signed_in, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert app.signin is None  # closed
    assert user.username in app.window.windowTitle()
    assert "used" in app.window.quota_label.text()
    qtbot.waitUntil(lambda: "files" in app.window.browser.status.text(), timeout=SIGNAL_TIMEOUT_MS)
    # The tray menu says who is signed in.
    app.tray.menu.aboutToShow.emit()
    assert any(user.username in t for t in app.tray.action_texts())


def test_wrong_password_is_said_inline(qtbot: QtBot, make_app: AppFactory, user: User) -> None:
    app = make_app()
    app.start()
    dialog = _dialog(qtbot, app)
    dialog.username.setText(user.username)
    dialog.password.setText("not-the-password")
    with qtbot.waitSignal(app.bridge.sign_in_failed, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert not dialog.error.isHidden()
    assert "wrong username or password" in dialog.error.text().lower()
    assert dialog.sign_in_button.isEnabled()  # ready for another try
    assert app.info is None


def test_unreachable_server_is_said_inline(
    qtbot: QtBot, make_app: AppFactory, app_paths: AppPaths, user: User
) -> None:
    local = json.loads((app_paths.stack_dir / "profile.json").read_text())
    dead = {
        **local,
        "name": "gone",
        "api_url": "http://127.0.0.1:9",
        "aws_endpoint_url": "http://127.0.0.1:9",
    }
    app_paths.profiles_dir.mkdir(parents=True)
    (app_paths.profiles_dir / "gone.json").write_text(json.dumps(dead))
    app = make_app()
    app.start()
    dialog = _dialog(qtbot, app)
    dialog.profile.setCurrentText("gone")
    dialog.username.setText(user.username)
    dialog.password.setText(user.password)
    with qtbot.waitSignal(app.bridge.sign_in_failed, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert "can't reach the server" in dialog.error.text().lower()


def test_stored_session_signs_in_silently_and_sign_out_forgets_it(
    qtbot: QtBot, make_app: AppFactory, app_paths: AppPaths, user: User
) -> None:
    service_for(app_paths).login(user.username, user.password)
    app = make_app()
    with qtbot.waitSignal(app.bridge.signed_in, timeout=SIGNAL_TIMEOUT_MS):
        app.start()
    assert app.signin is None
    with qtbot.waitSignal(app.bridge.signed_out, timeout=SIGNAL_TIMEOUT_MS):
        app.sign_out()
    assert service_for(app_paths).session.tokens() is None
    assert app.signin is not None  # asks again
