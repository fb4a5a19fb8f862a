"""The admin window is offered to members of the admins group only."""

from __future__ import annotations

import secrets

from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, User, sign_in
from tests.integration.stack import RunningStack


def test_admin_window_only_for_admins(
    qtbot: QtBot, make_app: AppFactory, stack: RunningStack, user: User
) -> None:
    app = make_app()
    sign_in(qtbot, app, user)
    assert not app.window.admin_action.isVisible() and app.open_admin() is None

    admin = User(f"admin-{secrets.token_hex(3)}", "Pw-" + secrets.token_hex(8))
    stack.add_user(admin.username, admin.password, admin_user=True)
    info = sign_in(qtbot, app, admin)
    assert info.is_admin
    app.window.show()
    assert app.window.admin_action.isVisible()
    window = app.open_admin()
    assert window is not None and "used" in window.usage.format()
