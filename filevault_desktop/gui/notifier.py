"""Native notifications through the tray icon; finished uploads are grouped into one."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from filevault_desktop.gui.icons import app_icon

# Uploads finishing within this window make one notification, not one per file.
BATCH_MS = 2000
Kind = QSystemTrayIcon.MessageIcon


class Notifier(QObject):
    shown = Signal(str, str)  # title, message (also when the platform shows nothing)

    def __init__(
        self, tray: QSystemTrayIcon, *, enabled: bool = True, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._tray = tray
        self.enabled = enabled
        self._uploaded: list[str] = []
        self._batch = QTimer(self)
        self._batch.setSingleShot(True)
        self._batch.setInterval(BATCH_MS)
        self._batch.timeout.connect(self.flush_uploads)

    def notify(self, title: str, message: str, kind: Kind = Kind.Information) -> None:
        if not self.enabled:
            return
        self.shown.emit(title, message)
        if self._tray.isVisible():
            self._tray.showMessage(title, message, app_icon(), 5000)

    def uploaded(self, remote_paths: list[str]) -> None:
        if not remote_paths:
            return
        self._uploaded.extend(remote_paths)
        if not self._batch.isActive():
            self._batch.start()

    def flush_uploads(self) -> None:
        paths, self._uploaded = self._uploaded, []
        if not paths:
            return
        if len(paths) == 1:
            name, _, folder = paths[0].rpartition("/")[::-1]
            self.notify("Upload finished", f"{name} is in {folder or 'your top folder'}.")
            return
        folders = {p.rpartition("/")[0] for p in paths}
        where = f" to {next(iter(folders)) or 'your top folder'}" if len(folders) == 1 else ""
        self.notify("Uploads finished", f"{len(paths)} files uploaded{where}.")

    def link_copied(self, name: str) -> None:
        self.notify("Link copied", f"A share link to {name} is in the clipboard.")

    def error(self, title: str, message: str) -> None:
        self.notify(title, message, Kind.Warning)
