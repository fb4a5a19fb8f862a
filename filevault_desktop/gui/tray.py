"""The tray icon and its menu, rebuilt each time it opens from a snapshot of the app's state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from filevault_desktop.gui.events import RecentFile
from filevault_desktop.gui.icons import TrayState, app_icon, icon, tray_icon
from filevault_desktop.gui.state import STATE_LABEL


@dataclass(frozen=True)
class TrayMenuState:
    state: TrayState
    signed_in: bool
    sync_configured: bool
    paused: bool
    active_transfers: int
    issues: int
    recent: tuple[RecentFile, ...]
    account: str = ""


class Tray(QObject):
    open_requested = Signal()
    settings_requested = Signal()
    sign_in_requested = Signal()
    pause_requested = Signal()
    resume_requested = Signal()
    sync_now_requested = Signal()
    quit_requested = Signal()
    copy_link_requested = Signal(str)  # remote path
    reveal_requested = Signal(str)  # remote path: show its folder in the window

    def __init__(
        self, snapshot: Callable[[], TrayMenuState], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._snapshot = snapshot
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.state: TrayState | None = None
        self.set_state(TrayState.OFFLINE, "Not signed in")

    def set_state(self, state: TrayState, tooltip: str) -> None:
        if state is not self.state:
            self.state = state
            self.icon.setIcon(tray_icon(state))
        self.icon.setToolTip(f"FileVault — {tooltip}")

    def show(self) -> None:
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon.show()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_requested.emit()

    def rebuild(self) -> None:
        """Runs on aboutToShow: cheap, from cached state only (no I/O on the UI thread)."""
        s = self._snapshot()
        menu = self.menu
        menu.clear()
        menu.addAction(app_icon(), "Open FileVault", self.open_requested.emit)
        status = menu.addAction(tray_icon(s.state), self._status_text(s))
        status.setEnabled(False)
        if not s.signed_in:
            menu.addAction(icon("account"), "Sign in…", self.sign_in_requested.emit)
        menu.addSection("Recent files")
        if not s.recent:
            menu.addAction("No recent files").setEnabled(False)
        for recent in s.recent:
            sub = menu.addMenu(icon("file"), recent.name)
            sub.setToolTip(recent.path)
            path = recent.path
            sub.addAction(
                icon("link"), "Copy share link", lambda p=path: self.copy_link_requested.emit(p)
            )
            sub.addAction(
                icon("folder"), "Show in FileVault", lambda p=path: self.reveal_requested.emit(p)
            )
        menu.addSeparator()
        pause = QAction(menu)
        if s.paused:
            pause.setText("Resume syncing")
            pause.setIcon(icon("resume"))
            pause.triggered.connect(self.resume_requested.emit)
        else:
            pause.setText("Pause syncing")
            pause.setIcon(icon("pause"))
            pause.triggered.connect(self.pause_requested.emit)
        sync_now = QAction(icon("sync"), "Sync now", menu)
        sync_now.triggered.connect(self.sync_now_requested.emit)
        for action in (pause, sync_now):
            action.setEnabled(s.sync_configured and s.signed_in)
            if not s.sync_configured:
                action.setToolTip("Sync is not set up in this version yet")
            menu.addAction(action)
        menu.addAction(icon("settings"), "Settings…", self.settings_requested.emit)
        menu.addSeparator()
        menu.addAction("Quit FileVault", self.quit_requested.emit)

    def _status_text(self, s: TrayMenuState) -> str:
        if not s.signed_in:
            return "Not signed in"
        text = STATE_LABEL[s.state]
        if s.active_transfers:
            text = f"Transferring {s.active_transfers} item{'s' * (s.active_transfers != 1)}"
        if s.issues:
            text += f" · {s.issues} issue{'s' * (s.issues != 1)}"
        return f"{s.account}: {text}" if s.account else text

    def action_texts(self, menu: QMenu | None = None) -> list[str]:
        """The menu as text, submenus indented (for tests and screenshots)."""
        out: list[str] = []
        for action in (menu or self.menu).actions():
            if action.menu() is not None:
                out.append(action.text())
                sub = action.menu()
                assert isinstance(sub, QMenu)
                out.extend(f"  {t}" for t in self.action_texts(sub))
            elif action.isSeparator():
                out.append(f"-- {action.text()}" if action.text() else "--")
            else:
                out.append(action.text())
        return out

    def find_action(self, text: str, menu: QMenu | None = None) -> QAction | None:
        for action in (menu or self.menu).actions():
            if action.text() == text:
                return action
        return None
