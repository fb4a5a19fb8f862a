"""Native notifications through the tray icon; finished uploads are grouped into one."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from filevault_desktop.api.models import Notification
from filevault_desktop.gui.icons import app_icon

# Uploads finishing within this window make one notification, not one per file.
BATCH_MS = 2000
# More server notifications than this at once are summed up in one.
SHOW_EACH_UP_TO = 3
Kind = QSystemTrayIcon.MessageIcon
WARNING_KINDS = {"file_quarantined", "processing_failed", "share_expiring"}
KIND_NOUN = {
    "file_processed": ("file processed", "files processed"),
    "file_quarantined": ("file quarantined", "files quarantined"),
    "processing_failed": ("file could not be processed", "files could not be processed"),
    "share_expiring": ("link expiring soon", "links expiring soon"),
    "share_opened": ("link opened", "links opened"),
}


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

    def server(self, notices: tuple[Notification, ...]) -> None:
        """The server's inbox: processed files are summed up (every upload is processed), the
        rest shown one by one unless many arrive at once."""
        processed = [n for n in notices if n.kind == "file_processed"]
        others = [n for n in notices if n.kind != "file_processed"]
        if len(processed) == 1:
            self.notify(processed[0].title, processed[0].body)
        elif processed:
            self.notify("Processing finished", f"{len(processed)} files are ready.")
        if len(others) <= SHOW_EACH_UP_TO:
            for n in others:
                self.notify(
                    n.title, n.body, Kind.Warning if n.kind in WARNING_KINDS else Kind.Information
                )
            return
        counts: dict[str, int] = {}
        for n in others:
            counts[n.kind] = counts.get(n.kind, 0) + 1
        parts = []
        for kind, count in counts.items():
            one, many = KIND_NOUN.get(kind, ("other notice", "other notices"))
            parts.append(f"{count} {one if count == 1 else many}")
        warn = any(n.kind in WARNING_KINDS for n in others)
        self.notify(
            f"{len(others)} new notifications",
            "; ".join(parts) + ".",
            Kind.Warning if warn else Kind.Information,
        )

    def link_copied(self, name: str) -> None:
        self.notify("Link copied", f"A share link to {name} is in the clipboard.")

    def error(self, title: str, message: str) -> None:
        self.notify(title, message, Kind.Warning)
