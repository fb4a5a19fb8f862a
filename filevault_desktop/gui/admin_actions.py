"""Owns the admin window (one at a time, for the admin signed in) and routes the bridge's
admin answers to it; the window's requests go to the bridge."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from filevault_desktop.gui.admin import AdminWindow
from filevault_desktop.gui.bridge import Bridge
from filevault_desktop.gui.events import AdminUserChanged, AdminUsers, Failure, SignedInInfo


class AdminActions(QObject):
    def __init__(self, bridge: Bridge, parent_window: QWidget, parent: QObject | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.parent_window = parent_window
        self.window: AdminWindow | None = None
        bridge.admin_users_ready.connect(self._on_users)
        bridge.admin_user_changed.connect(self._on_changed)
        bridge.admin_failed.connect(self._on_failed)

    def open(self, info: SignedInInfo) -> AdminWindow:
        """Shows the window (made for ``info``'s account) and loads the users."""
        self.account_changed(info)
        if self.window is None:
            window = AdminWindow(info, self.parent_window)
            panel = window.users
            panel.refresh_requested.connect(self.bridge.load_admin_users)
            panel.quota_requested.connect(self.bridge.set_user_quota)
            panel.enabled_requested.connect(self.bridge.set_user_enabled)
            self.window = window
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()
        self.window.users.refresh()
        return self.window

    def account_changed(self, info: SignedInInfo | None) -> None:
        """Closes the window when it belongs to no one signed in any more: signed out,
        another account (or profile) signed in, or no longer an administrator."""
        window = self.window
        if window is None:
            return
        mine = window.info
        if (
            info is None
            or not info.is_admin
            or (info.profile, info.account.user_id) != (mine.profile, mine.account.user_id)
        ):
            self.close()

    def close(self) -> None:
        window, self.window = self.window, None
        if window is not None:
            window.close()
            window.deleteLater()

    def _on_users(self, users: AdminUsers) -> None:
        if self.window is not None:
            self.window.users.show_users(users)

    def _on_changed(self, change: AdminUserChanged) -> None:
        if self.window is not None:
            self.window.users.user_changed(change)
            if change.user.user_id == self.window.info.account.user_id:
                self.bridge.refresh_account()  # the admin's own quota changed

    def _on_failed(self, failure: Failure) -> None:
        if self.window is not None:
            self.window.users.show_error(failure)
