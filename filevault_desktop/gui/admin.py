"""The admin window, shown to members of the ``admins`` group only.

The admin's own account on top, then every user of the pool (``admin_users.UsersPanel``):
groups, status and storage, with set quota, disable and enable. Requests leave through the
panel's signals and answers come back from the bridge (wired by ``admin_actions``).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QProgressBar, QWidget

from filevault_desktop.gui.admin_users import UsersPanel, usage_text
from filevault_desktop.gui.events import SignedInInfo
from filevault_desktop.gui.icons import icon


class AdminWindow(QDialog):
    def __init__(self, info: SignedInInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("FileVault administration")
        self.setWindowIcon(icon("admin"))
        self.setMinimumSize(820, 480)
        self.info = info
        a = info.account
        form = QFormLayout(self)
        form.addRow("Administrator:", QLabel(f"<b>{a.username}</b>", self))
        form.addRow("Profile:", QLabel(info.profile, self))
        form.addRow("Groups:", QLabel(", ".join(a.groups), self))
        self.usage = QProgressBar(self)
        self.usage.setRange(0, 1000)
        self.usage.setValue(round(1000 * a.used_bytes / a.quota_bytes) if a.quota_bytes else 0)
        self.usage.setFormat(usage_text(a.used_bytes, a.quota_bytes))
        form.addRow("Your storage:", self.usage)
        self.users = UsersPanel(a.user_id, self)
        form.addRow(self.users)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
