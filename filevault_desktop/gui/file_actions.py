"""What the user does to remote files: download, rename, move, delete, versions, sharing.

Owns the share and versions dialogs (one per file) and routes the bridge's answers to them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox

from filevault_desktop.gui.bridge import Bridge
from filevault_desktop.gui.events import FileShares, FileVersions, RemoteChanged, ShareCreated
from filevault_desktop.gui.main_window import MainWindow
from filevault_desktop.gui.notifier import Notifier
from filevault_desktop.gui.share_dialog import ShareDialog
from filevault_desktop.gui.versions_dialog import VersionsDialog
from filevault_desktop.remote import clean


class FileActions(QObject):
    show_window = Signal()

    def __init__(
        self,
        bridge: Bridge,
        window: MainWindow,
        notifier: Notifier,
        share_expiry_s: Callable[[], int],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.window = window
        self.notifier = notifier
        self._share_expiry_s = share_expiry_s
        self.share_dialogs: dict[str, ShareDialog] = {}
        self.versions_dialogs: dict[str, VersionsDialog] = {}
        b, browser = bridge, window.browser
        b.remote_changed.connect(self.on_remote_changed)
        b.shares_ready.connect(self.on_shares)
        b.share_revoked.connect(self.on_shares)
        b.share_created.connect(self.on_share_created)
        b.versions_ready.connect(self.on_versions)
        browser.download_requested.connect(self.download)
        browser.share_requested.connect(self.open_share_dialog)
        browser.rename_requested.connect(self.rename)
        browser.move_requested.connect(self.move)
        browser.delete_requested.connect(self.delete)
        browser.versions_requested.connect(self.versions)

    def on_remote_changed(self, change: RemoteChanged) -> None:
        if change.folder == self.window.browser.folder:
            self.bridge.list_folder(change.folder)

    def reveal(self, path: str) -> None:
        self.show_window.emit()
        self.window.tabs.setCurrentWidget(self.window.browser)
        self.window.browser.open_folder(clean(path).rpartition("/")[0])

    def download(self, path: str) -> None:
        target = QFileDialog.getExistingDirectory(self.window, f"Download {path} into")
        if target:
            self.bridge.download(path, Path(target))
            self.window.tabs.setCurrentWidget(self.window.activity)

    def rename(self, path: str) -> None:
        folder, _, name = clean(path).rpartition("/")
        new, ok = QInputDialog.getText(
            self.window, "Rename", "New name:", QLineEdit.EchoMode.Normal, name
        )
        new = new.strip().strip("/")
        if ok and new and new != name:
            self.bridge.move(path, f"{folder}/{new}" if folder else new)

    def move(self, path: str) -> None:
        folder, _, name = clean(path).rpartition("/")
        target, ok = QInputDialog.getText(
            self.window, "Move", f"Move {name} to folder:", QLineEdit.EchoMode.Normal, folder
        )
        target = clean(target)
        if ok and target != folder:
            self.bridge.move(path, f"{target}/{name}" if target else name)

    def delete(self, path: str) -> None:
        answer = QMessageBox.question(
            self.window,
            "Delete",
            f"Move {path} to the trash? You can restore it from the trash later.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.bridge.remove(path)

    def versions(self, path: str) -> VersionsDialog:
        dialog = self.versions_dialogs.get(path)
        if dialog is None:
            dialog = VersionsDialog(path, self.window)
            dialog.restore_requested.connect(self.bridge.restore_version)
            dialog.finished.connect(lambda _: self.versions_dialogs.pop(path, None))
            self.versions_dialogs[path] = dialog
            self.bridge.load_versions(path)
        dialog.show()
        return dialog

    def on_versions(self, versions: FileVersions) -> None:
        dialog = self.versions_dialogs.get(versions.path)
        if dialog is not None:
            dialog.show_versions(versions)

    # ----- sharing ---------------------------------------------------------------------------

    def open_share_dialog(self, path: str) -> ShareDialog:
        dialog = self.share_dialogs.get(path)
        if dialog is None:
            dialog = ShareDialog(path, self.window)
            dialog.create_requested.connect(
                lambda p, seconds, password, limit: self.bridge.create_share(
                    p, expires_in_seconds=seconds, password=password, max_downloads=limit
                )
            )
            dialog.revoke_requested.connect(self.bridge.revoke_share)
            dialog.finished.connect(lambda _: self.share_dialogs.pop(path, None))
            self.share_dialogs[path] = dialog
            self.bridge.load_shares(path)
        dialog.show()
        dialog.raise_()
        return dialog

    def on_shares(self, shares: FileShares) -> None:
        dialog = self.share_dialogs.get(shares.path)
        if dialog is not None:
            dialog.show_shares(shares)

    def on_share_created(self, created: ShareCreated) -> None:
        if created.purpose == "copy":
            QGuiApplication.clipboard().setText(created.share.url)
            self.notifier.link_copied(created.path.rpartition("/")[2])
            return
        dialog = self.share_dialogs.get(created.path)
        if dialog is not None:
            dialog.created(created)
            self.bridge.load_shares(created.path)
        self.bridge.list_folder(self.window.browser.folder)

    def copy_share_link(self, path: str) -> None:
        self.bridge.create_share(path, expires_in_seconds=self._share_expiry_s(), purpose="copy")
