"""Sync folders: their state and counts, and the buttons to add, remove, pause and sync."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.gui.icons import icon
from filevault_desktop.gui.qtutil import top_items
from filevault_desktop.gui.sync_port import FolderState, NoSync, SyncFolder

STATE_TEXT = {
    FolderState.UP_TO_DATE: "Up to date",
    FolderState.SCANNING: "Looking for changes",
    FolderState.SYNCING: "Syncing",
    FolderState.PAUSED: "Paused",
    FolderState.NEEDS_CONFIRMATION: "Waiting for you to confirm deletes",
    FolderState.ERROR: "Error",
    FolderState.OFFLINE: "Offline",
}
STATE_ICON = {
    FolderState.UP_TO_DATE: "tray-up-to-date",
    FolderState.SCANNING: "tray-syncing",
    FolderState.SYNCING: "tray-syncing",
    FolderState.PAUSED: "tray-paused",
    FolderState.NEEDS_CONFIRMATION: "tray-error",
    FolderState.ERROR: "tray-error",
    FolderState.OFFLINE: "tray-offline",
}


class FoldersView(QWidget):
    add_requested = Signal(Path, str)  # local folder, remote root
    remove_requested = Signal(str)  # folder id
    pause_requested = Signal(str)
    resume_requested = Signal(str)
    sync_now_requested = Signal(str)

    def __init__(self, configured: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.configured = configured
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(
            ["Folder", "Remote folder", "State", "In sync", "Pending", "Issues"]
        )
        self.tree.setRootIsDecorated(False)
        self.tree.setAccessibleName("Sync folders")
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 6):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.empty = QLabel(self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)

        self.add_button = QPushButton(icon("add"), "Add folder…", self)
        self.add_button.setToolTip("Keep a folder on this computer in sync with FileVault")
        self.add_button.clicked.connect(self._ask_add)
        self.remove_button = QPushButton(icon("remove"), "Remove", self)
        self.remove_button.setToolTip("Stop syncing the selected folder (no file is deleted)")
        self.remove_button.clicked.connect(lambda: self._for_selected(self.remove_requested))
        self.pause_button = QPushButton(icon("pause"), "Pause", self)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.sync_button = QPushButton(icon("sync"), "Sync now", self)
        self.sync_button.setToolTip("Look for changes on both sides right away")
        self.sync_button.clicked.connect(lambda: self._for_selected(self.sync_now_requested))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.pause_button, self.sync_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(buttons)
        self.show_folders(())

    def show_folders(self, folders: tuple[SyncFolder, ...]) -> None:
        current = self.selected()
        self.tree.clear()
        for folder in folders:
            item = QTreeWidgetItem(
                [
                    str(folder.local_path),
                    folder.remote_root or "(top folder)",
                    STATE_TEXT[folder.state],
                    str(folder.synced),
                    str(folder.pending),
                    str(folder.issues),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, folder)
            item.setIcon(2, icon(STATE_ICON[folder.state]))
            item.setToolTip(2, folder.last_error or STATE_TEXT[folder.state])
            self.tree.addTopLevelItem(item)
            if current and current.folder_id == folder.folder_id:
                self.tree.setCurrentItem(item)
        if not self.configured:
            self.empty.setText(NoSync.REASON)
        else:
            self.empty.setText("No sync folders yet. Add one to keep it in sync on every device.")
        self.tree.setVisible(bool(folders))
        self.empty.setVisible(not folders)
        self._update_buttons()

    def folders(self) -> list[SyncFolder]:
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in top_items(self.tree)]

    def selected(self) -> SyncFolder | None:
        item = self.tree.currentItem()
        folder = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return folder if isinstance(folder, SyncFolder) else None

    def _update_buttons(self) -> None:
        folder = self.selected()
        self.add_button.setEnabled(self.configured)
        if not self.configured:
            self.add_button.setToolTip(NoSync.REASON)
        for button in (self.remove_button, self.pause_button, self.sync_button):
            button.setEnabled(folder is not None)
        paused = folder is not None and folder.state is FolderState.PAUSED
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setIcon(icon("resume" if paused else "pause"))
        self.pause_button.setToolTip(
            "Resume syncing this folder" if paused else "Pause syncing this folder"
        )

    def _for_selected(self, signal: object) -> None:
        folder = self.selected()
        if folder is not None:
            signal.emit(folder.folder_id)  # type: ignore[attr-defined]

    def _toggle_pause(self) -> None:
        folder = self.selected()
        if folder is None:
            return
        if folder.state is FolderState.PAUSED:
            self.resume_requested.emit(folder.folder_id)
        else:
            self.pause_requested.emit(folder.folder_id)

    def _ask_add(self) -> None:
        local = QFileDialog.getExistingDirectory(self, "Choose a folder to sync")
        if not local:
            return
        remote, ok = QInputDialog.getText(
            self, "Remote folder", "Sync it with this folder in FileVault:", text=Path(local).name
        )
        if ok:
            self.add_requested.emit(Path(local), remote.strip("/"))
