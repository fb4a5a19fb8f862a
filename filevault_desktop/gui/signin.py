"""The sign-in dialog: profile, username, password, and errors said inline."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.gui.events import Failure, Problem
from filevault_desktop.gui.icons import app_icon
from filevault_desktop.profiles import LOCAL

_HINTS = {
    Problem.UNREACHABLE: "Can't reach the server. If you use the local stack, start it with "
    "'make run' (or 'filevault stack up'), then try again.",
    Problem.NO_PROFILE: "This profile is not set up on this computer.",
    Problem.NO_KEYCHAIN: "FileVault keeps your session in the system keychain, and none is "
    "available.",
}


def explain(failure: Failure) -> str:
    message = failure.message[:1].upper() + failure.message[1:]
    if not message.endswith("."):
        message += "."
    hint = _HINTS.get(failure.problem)
    return f"{hint}\n\n{message}" if hint else message


class SignInDialog(QDialog):
    submitted = Signal(str, str, str)  # profile, username, password

    def __init__(
        self, profiles: list[str], current: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in to FileVault")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(420)

        logo = QLabel(self)
        logo.setPixmap(app_icon().pixmap(48, 48))
        title = QLabel("<b>Sign in to FileVault</b><br>Your files, on your own AWS account.", self)
        header = QHBoxLayout()
        header.addWidget(logo)
        header.addWidget(title, 1)

        self.profile = QComboBox(self)
        self.profile.addItems(profiles or [LOCAL])
        self.profile.setToolTip(
            "Which FileVault backend to use: 'local' is the stack on this computer; "
            "other profiles point at AWS deployments"
        )
        if current and current in (profiles or [LOCAL]):
            self.profile.setCurrentText(current)
        self.username = QLineEdit(self)
        self.username.setPlaceholderText("username")
        self.username.setAccessibleName("Username")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("password")
        self.password.setAccessibleName("Password")
        form = QFormLayout()
        form.addRow("&Profile:", self.profile)
        form.addRow("&Username:", self.username)
        form.addRow("Pass&word:", self.password)

        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setAccessibleName("Sign-in error")
        self.error.hide()
        self.progress = QLabel("Signing in…", self)
        self.progress.hide()

        self.buttons = QDialogButtonBox(self)
        self.sign_in_button = self.buttons.addButton(
            "Sign in", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.sign_in_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self.username.setFocus()

    def _submit(self) -> None:
        username = self.username.text().strip()
        if not username or not self.password.text():
            self.show_message("Enter your username and password.")
            return
        self.set_busy(True)
        self.error.hide()
        self.submitted.emit(self.profile.currentText(), username, self.password.text())

    def set_busy(self, busy: bool) -> None:
        for widget in (self.profile, self.username, self.password, self.sign_in_button):
            widget.setEnabled(not busy)
        self.progress.setVisible(busy)

    def show_message(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def show_failure(self, failure: Failure) -> None:
        self.set_busy(False)
        self.show_message(explain(failure))
        self.password.selectAll()
        self.password.setFocus()
