"""Settings: general, account (with the quota bar), sync folders, bandwidth."""

from __future__ import annotations

import sys

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.gui import formatting
from filevault_desktop.gui.events import SignedInInfo
from filevault_desktop.gui.icons import icon
from filevault_desktop.gui.settings import GuiSettings
from filevault_desktop.gui.sync_port import NoSync, SyncFolder

_AUTOSTART_WHERE = {
    "linux": "an entry in ~/.config/autostart",
    "darwin": "a LaunchAgent in ~/Library/LaunchAgents",
    "win32": "the Run key of your Windows account",
}


def quota_text(used: int, quota: int) -> str:
    if quota <= 0:
        return f"{formatting.size(used)} used"
    return f"{formatting.size(used)} of {formatting.size(quota)} used ({used / quota:.0%})"


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


class SettingsDialog(QDialog):
    saved = Signal(GuiSettings)
    sign_out_requested = Signal()
    folder_configured = Signal(str, tuple, tuple)  # folder id, excluded, ignore patterns

    def __init__(
        self,
        settings: GuiSettings,
        account: SignedInInfo | None,
        folders: list[SyncFolder],
        *,
        sync_configured: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("FileVault settings")
        self.setWindowIcon(icon("settings"))
        self.setMinimumSize(540, 380)
        self._settings = settings
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._general(settings), "General")
        self.tabs.addTab(self._account(account), "Account")
        self.tabs.addTab(self._sync(folders, sync_configured), "Sync")
        self.tabs.addTab(self._bandwidth(settings), "Bandwidth")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)

    # ----- tabs ------------------------------------------------------------------------------

    def _general(self, s: GuiSettings) -> QWidget:
        page = QWidget(self)
        self.notifications = QCheckBox("Show notifications", page)
        self.notifications.setChecked(s.notifications)
        self.notifications.setToolTip(
            "Finished uploads (grouped), copied links, conflicts and errors"
        )
        self.start_at_login = QCheckBox("Start FileVault when I sign in to this computer", page)
        self.start_at_login.setChecked(s.start_at_login)
        where = _AUTOSTART_WHERE.get(sys.platform, _AUTOSTART_WHERE["linux"])
        self.start_at_login.setToolTip(f"Uses {where}")
        self.recent = QSpinBox(page)
        self.recent.setRange(0, 20)
        self.recent.setValue(s.recent_files)
        self.recent.setToolTip("How many recent files the tray menu lists")
        self.link_expiry = QComboBox(page)
        self._expiries = [
            (3600, "1 hour"),
            (86400, "1 day"),
            (3 * 86400, "3 days"),
            (7 * 86400, "7 days"),
        ]
        for seconds, label in self._expiries:
            self.link_expiry.addItem(label, seconds)
        chosen = [i for i, (sec, _) in enumerate(self._expiries) if sec == s.share_expiry_s]
        self.link_expiry.setCurrentIndex(chosen[0] if chosen else len(self._expiries) - 1)
        self.link_expiry.setToolTip("How long links made with “Copy share link” work")
        form = QFormLayout(page)
        form.addRow(self.notifications)
        form.addRow(self.start_at_login)
        form.addRow("Recent files in the tray menu:", self.recent)
        form.addRow("“Copy share link” links expire after:", self.link_expiry)
        return page

    def _account(self, account: SignedInInfo | None) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.quota = QProgressBar(page)
        self.quota.setAccessibleName("Storage used")
        if account is None:
            form.addRow(QLabel("Not signed in.", page))
            return page
        a = account.account
        form.addRow("Signed in as:", QLabel(f"<b>{a.username}</b>", page))
        form.addRow("Profile:", QLabel(account.profile, page))
        form.addRow("Groups:", QLabel(", ".join(a.groups) or "none", page))
        self.quota.setRange(0, 1000)
        self.quota.setValue(round(1000 * a.used_bytes / a.quota_bytes) if a.quota_bytes else 0)
        self.quota.setFormat(quota_text(a.used_bytes, a.quota_bytes))
        self.quota.setTextVisible(True)
        form.addRow("Storage:", self.quota)
        sign_out = QPushButton(icon("account"), "Sign out", page)
        sign_out.setToolTip("Forget the session on this computer")
        sign_out.clicked.connect(self.sign_out_requested)
        sign_out.clicked.connect(self.reject)
        form.addRow(sign_out)
        return page

    def _sync(self, folders: list[SyncFolder], configured: bool) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        self.sync_folder = QComboBox(page)
        self.excluded = QPlainTextEdit(page)
        self.excluded.setPlaceholderText("Remote folders to keep off this computer, one a line")
        self.excluded.setAccessibleName("Selective sync: folders not synced")
        self.ignore = QPlainTextEdit(page)
        self.ignore.setPlaceholderText("*.tmp\nbuild/\n(gitignore syntax, one pattern a line)")
        self.ignore.setAccessibleName("Ignore patterns")
        self.apply_folder = QPushButton("Apply to this folder", page)
        self.apply_folder.clicked.connect(self._configure_folder)
        self._folders = folders
        for folder in folders:
            self.sync_folder.addItem(str(folder.local_path), folder.folder_id)
        self.sync_folder.currentIndexChanged.connect(self._show_folder)
        form = QFormLayout()
        form.addRow("Folder:", self.sync_folder)
        form.addRow("Don't sync these folders:", self.excluded)
        form.addRow("Ignore files matching:", self.ignore)
        form.addRow(self.apply_folder)
        layout.addLayout(form)
        note = QLabel(
            "Before deleting many files at once, FileVault asks you first; nothing is deleted "
            "until you confirm. Deleted files go to the trash on both sides.",
            page,
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        if not configured or not folders:
            message = (
                NoSync.REASON if not configured else "Add a sync folder in the main window first."
            )
            self.sync_message = QLabel(message, page)
            self.sync_message.setWordWrap(True)
            layout.insertWidget(0, self.sync_message)
            for widget in (self.sync_folder, self.excluded, self.ignore, self.apply_folder):
                widget.setEnabled(False)
        layout.addStretch(1)
        self._show_folder()
        return page

    def _bandwidth(self, s: GuiSettings) -> QWidget:
        page = QWidget(self)
        self.upload_limit = self._limit_box(page, s.upload_limit_kbps)
        self.download_limit = self._limit_box(page, s.download_limit_kbps)
        form = QFormLayout(page)
        form.addRow("Upload limit:", self.upload_limit)
        form.addRow("Download limit:", self.download_limit)
        note = QLabel("Limits apply to all transfers together.", page)
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def _limit_box(self, parent: QWidget, value: int) -> QSpinBox:
        box = QSpinBox(parent)
        box.setRange(0, 10_000_000)
        box.setSingleStep(100)
        box.setSuffix(" KB/s")
        box.setSpecialValueText("Unlimited")
        box.setValue(value)
        box.setToolTip("0 means unlimited")
        return box

    # ----- actions ---------------------------------------------------------------------------

    def _show_folder(self) -> None:
        folder = self._current_folder()
        self.excluded.setPlainText("\n".join(folder.excluded) if folder else "")
        self.ignore.setPlainText("\n".join(folder.ignore_patterns) if folder else "")

    def _current_folder(self) -> SyncFolder | None:
        i = self.sync_folder.currentIndex()
        return self._folders[i] if 0 <= i < len(self._folders) else None

    def _configure_folder(self) -> None:
        folder = self._current_folder()
        if folder is not None:
            excluded = tuple(p.strip("/") for p in _lines(self.excluded.toPlainText()))
            self.folder_configured.emit(
                folder.folder_id, excluded, _lines(self.ignore.toPlainText())
            )

    def result_settings(self) -> GuiSettings:
        return self._settings.with_changes(
            notifications=self.notifications.isChecked(),
            start_at_login=self.start_at_login.isChecked(),
            recent_files=self.recent.value(),
            share_expiry_s=int(self.link_expiry.currentData()),
            upload_limit_kbps=self.upload_limit.value(),
            download_limit_kbps=self.download_limit.value(),
        )

    def _accept(self) -> None:
        self.saved.emit(self.result_settings())
        self.accept()
