"""The admin window's users: listed from the real local stack, a quota set through the dialog,
an account disabled and enabled with a confirmation; loading, empty and error states."""

from __future__ import annotations

import secrets
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from filevault_desktop.api.models import AdminUser
from filevault_desktop.gui.admin_users import UsersPanel
from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.gui.events import AdminUsers, Failure, Problem
from tests.gui.conftest import SIGNAL_TIMEOUT_MS, AppFactory, User, sign_in
from tests.integration.stack import RunningStack, client

GiB = 1024**3


def _admin(stack: RunningStack) -> User:
    admin = User(f"admin-{secrets.token_hex(3)}", "Pw-" + secrets.token_hex(8))
    stack.add_user(admin.username, admin.password, admin_user=True)
    return admin


def _open_admin(qtbot: QtBot, app: FileVaultApp) -> UsersPanel:
    with qtbot.waitSignal(app.bridge.admin_users_ready, timeout=SIGNAL_TIMEOUT_MS):
        window = app.open_admin()
        assert window is not None
        # Until the answer arrives the window says it is loading.
        assert window.users.message.text() == "Loading users…"
    panel = window.users
    assert panel.pages.currentWidget() is panel.table
    return panel


def _row_of(panel: UsersPanel, username: str) -> AdminUser:
    return next(u for u in panel.model.users if u.username == username)


def test_admin_window_lists_users_and_sets_a_quota_through_the_dialog(
    qtbot: QtBot, make_app: AppFactory, stack: RunningStack, user: User, tmp_path: Path
) -> None:
    admin = _admin(stack)
    app = make_app()
    info = sign_in(qtbot, app, admin)
    panel = _open_admin(qtbot, app)

    names = {u.username for u in panel.model.users}
    assert {admin.username, user.username} <= names
    me = _row_of(panel, admin.username)
    assert me.groups == ("admins",) and me.enabled and me.user_id == info.account.user_id
    target = _row_of(panel, user.username)
    assert target.used_bytes == 0 and target.quota_bytes > 0
    assert "used" in panel.model.data(panel.model.index(panel.model.users.index(target), 4))

    # Find the user with the filter, then open the dialog from the keyboard (Enter).
    panel.filter.setText(user.username)
    assert panel.proxy.rowCount() == 1
    panel.table.setFocus()
    panel.select(target.user_id)
    assert panel.selected() == target and panel.quota_action.isEnabled()
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    dialog = panel.quota_dialog
    assert dialog is not None and dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.size_edit.setText("not a size")
    assert not ok.isEnabled()
    dialog.size_edit.setText("3 GiB")
    assert ok.isEnabled() and "3,221,225,472 bytes" in dialog.feedback.text()
    with qtbot.waitSignal(app.bridge.admin_user_changed, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        ok.click()
    changed = blocker.args[0]
    assert changed.user.user_id == target.user_id and changed.user.quota_bytes == 3 * GiB
    assert _row_of(panel, user.username).quota_bytes == 3 * GiB
    assert panel.status.text() == f"{user.username}: quota set to 3 GiB."
    # The server has it: the user's own account says so.
    mine = client(stack, tmp_path / "user-home")
    mine.login(user.username, user.password)
    assert mine.whoami().account.quota_bytes == 3 * GiB


def test_disable_and_enable_with_a_confirmation(
    qtbot: QtBot, make_app: AppFactory, stack: RunningStack, user: User
) -> None:
    admin = _admin(stack)
    app = make_app()
    sign_in(qtbot, app, admin)
    panel = _open_admin(qtbot, app)

    # An admin cannot disable themselves: the action is off for their own row.
    panel.select(_row_of(panel, admin.username).user_id)
    assert not panel.disable_action.isEnabled() and panel.quota_action.isEnabled()
    assert "your own account" in panel.disable_button.toolTip()
    assert panel.ask_enabled(False) is None

    target = _row_of(panel, user.username)
    panel.select(target.user_id)
    assert panel.disable_action.isEnabled() and not panel.enable_action.isEnabled()
    panel.disable_button.click()
    box = panel.confirm_box
    assert box is not None and box.isVisible() and user.username in box.text()
    # Cancel changes nothing.
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert panel.confirm_box is None and _row_of(panel, user.username).enabled

    panel.disable_button.click()
    box = panel.confirm_box
    assert box is not None
    confirm = next(b for b in box.buttons() if b.text() == "Disable")
    with qtbot.waitSignal(app.bridge.admin_user_changed, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        confirm.click()
    assert blocker.args[0].user.enabled is False
    assert _row_of(panel, user.username).enabled is False
    row = panel.model.users.index(_row_of(panel, user.username))
    assert panel.model.data(panel.model.index(row, 3)) == "Disabled"
    assert panel.enable_action.isEnabled() and not panel.disable_action.isEnabled()

    panel.enable_button.click()
    box = panel.confirm_box
    assert box is not None
    confirm = next(b for b in box.buttons() if b.text() == "Enable")
    with qtbot.waitSignal(app.bridge.admin_user_changed, timeout=SIGNAL_TIMEOUT_MS):
        confirm.click()
    assert _row_of(panel, user.username).enabled is True

    # Refresh (F5) reloads from the server, which agrees.
    with qtbot.waitSignal(app.bridge.admin_users_ready, timeout=SIGNAL_TIMEOUT_MS):
        panel.refresh_action.trigger()
    assert _row_of(panel, user.username).enabled is True


def test_loading_empty_and_error_states(qtbot: QtBot) -> None:
    panel = UsersPanel("me")
    qtbot.addWidget(panel)
    assert panel.message.text() == "Loading users…" and panel.retry.isHidden()
    panel.show_error(Failure("list users", Problem.REFUSED, "only administrators may do this"))
    assert panel.pages.currentIndex() == 0
    assert "only administrators" in panel.message.text() and not panel.retry.isHidden()
    with qtbot.waitSignal(panel.refresh_requested, timeout=1000):
        panel.retry.click()
    assert panel.message.text() == "Loading users…"
    panel.show_users(AdminUsers(()))
    assert panel.message.text() == "There are no users yet."
    assert not panel.quota_action.isEnabled() and not panel.disable_action.isEnabled()


def test_the_admin_window_goes_away_on_sign_out(
    qtbot: QtBot, make_app: AppFactory, stack: RunningStack
) -> None:
    app = make_app()
    sign_in(qtbot, app, _admin(stack))
    panel = _open_admin(qtbot, app)
    assert app.admin.window is not None and panel.isVisible()
    with qtbot.waitSignal(app.bridge.signed_out, timeout=SIGNAL_TIMEOUT_MS):
        app.sign_out()
    assert app.admin.window is None
