"""The admin window, shown to members of the ``admins`` group only.

The API has no admin endpoints yet (user list, usage per user, roles, audit), so this window
shows what an admin can see today: their own account and its storage use.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QProgressBar, QWidget

from filevault_desktop.gui.events import SignedInInfo
from filevault_desktop.gui.icons import icon
from filevault_desktop.gui.settings_dialog import quota_text

NOT_YET = (
    "User management and per-user usage need admin endpoints in the FileVault API, "
    "which it does not offer yet."
)


class AdminWindow(QDialog):
    def __init__(self, info: SignedInInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("FileVault administration")
        self.setWindowIcon(icon("admin"))
        self.setMinimumWidth(460)
        a = info.account
        form = QFormLayout(self)
        form.addRow("Administrator:", QLabel(f"<b>{a.username}</b>", self))
        form.addRow("Profile:", QLabel(info.profile, self))
        form.addRow("Groups:", QLabel(", ".join(a.groups), self))
        self.usage = QProgressBar(self)
        self.usage.setRange(0, 1000)
        self.usage.setValue(round(1000 * a.used_bytes / a.quota_bytes) if a.quota_bytes else 0)
        self.usage.setFormat(quota_text(a.used_bytes, a.quota_bytes))
        form.addRow("Your storage:", self.usage)
        note = QLabel(NOT_YET, self)
        note.setWordWrap(True)
        note.setEnabled(False)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
