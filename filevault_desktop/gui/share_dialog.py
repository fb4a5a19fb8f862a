"""The share dialog: create a link (expiry, password, download limit), copy it, revoke links."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.api.models import Share
from filevault_desktop.gui import formatting
from filevault_desktop.gui.events import FileShares, ShareCreated
from filevault_desktop.gui.icons import icon
from filevault_desktop.gui.qtutil import top_items

MAX_EXPIRY_S = 7 * 86400  # the server's limit
MIN_PASSWORD = 4
PRESETS: tuple[tuple[str, int], ...] = (
    ("1 hour", 3600),
    ("1 day", 86400),
    ("3 days", 3 * 86400),
    ("7 days", 7 * 86400),
)
CUSTOM = "Custom…"
UNITS: tuple[tuple[str, int], ...] = (("minutes", 60), ("hours", 3600), ("days", 86400))


class ShareDialog(QDialog):
    create_requested = Signal(str, int, object, object)  # path, seconds, password?, limit?
    revoke_requested = Signal(str, str)  # path, share id

    def __init__(self, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle(f"Share {path.rpartition('/')[2]}")
        self.setWindowIcon(icon("share"))
        self.setMinimumWidth(560)

        new_link = QGroupBox("New link", self)
        self.expiry = QComboBox(new_link)
        self.expiry.addItems([label for label, _ in PRESETS] + [CUSTOM])
        self.expiry.setCurrentIndex(1)
        self.expiry.setToolTip("After this, the link stops working (7 days at most)")
        self.custom_amount = QSpinBox(new_link)
        self.custom_amount.setRange(1, 10_080)
        self.custom_amount.setValue(12)
        self.custom_unit = QComboBox(new_link)
        self.custom_unit.addItems([label for label, _ in UNITS])
        self.custom_unit.setCurrentIndex(1)
        expiry_row = QHBoxLayout()
        expiry_row.addWidget(self.expiry)
        expiry_row.addWidget(self.custom_amount)
        expiry_row.addWidget(self.custom_unit)
        expiry_row.addStretch(1)
        self.expiry.currentTextChanged.connect(self._update)

        self.use_password = QCheckBox("Require a password", new_link)
        self.password = QLineEdit(new_link)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(f"at least {MIN_PASSWORD} characters")
        self.password.setAccessibleName("Link password")
        self.use_password.toggled.connect(self._update)
        password_row = QHBoxLayout()
        password_row.addWidget(self.use_password)
        password_row.addWidget(self.password, 1)

        self.use_limit = QCheckBox("Limit downloads to", new_link)
        self.limit = QSpinBox(new_link)
        self.limit.setRange(1, 1_000_000)
        self.limit.setValue(10)
        self.limit.setAccessibleName("Download limit")
        self.use_limit.toggled.connect(self._update)
        limit_row = QHBoxLayout()
        limit_row.addWidget(self.use_limit)
        limit_row.addWidget(self.limit)
        limit_row.addStretch(1)

        self.create_button = QPushButton(icon("link"), "Create link and copy", new_link)
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self._create)
        self.link = QLineEdit(new_link)
        self.link.setReadOnly(True)
        self.link.setPlaceholderText("The new link appears here")
        self.link.setAccessibleName("New link")
        self.message = QLabel(new_link)
        self.message.setWordWrap(True)
        form = QFormLayout(new_link)
        form.addRow("Expires in:", expiry_row)
        form.addRow("Password:", password_row)
        form.addRow("Downloads:", limit_row)
        form.addRow(self.create_button, self.link)
        form.addRow(self.message)

        existing = QGroupBox("Links to this file", self)
        self.links = QTreeWidget(existing)
        self.links.setHeaderLabels(["Link", "Expires", "Downloads", "Password", "State"])
        self.links.setRootIsDecorated(False)
        self.links.setAccessibleName("Existing links")
        header = self.links.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.links.currentItemChanged.connect(lambda *_: self._update())
        self.copy_button = QPushButton(icon("link"), "Copy link", existing)
        self.copy_button.clicked.connect(self._copy_selected)
        self.revoke_button = QPushButton(icon("cancel"), "Revoke", existing)
        self.revoke_button.setToolTip("Stop the selected link from working, right away")
        self.revoke_button.clicked.connect(self._revoke_selected)
        self.loading = QLabel("Loading links…", existing)
        buttons = QHBoxLayout()
        buttons.addWidget(self.loading, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.revoke_button)
        box = QVBoxLayout(existing)
        box.addWidget(self.links)
        box.addLayout(buttons)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(new_link)
        layout.addWidget(existing, 1)
        layout.addWidget(close)
        self._update()

    # ----- input -----------------------------------------------------------------------------

    def expires_in_seconds(self) -> int:
        text = self.expiry.currentText()
        for label, seconds in PRESETS:
            if label == text:
                return seconds
        return self.custom_amount.value() * UNITS[self.custom_unit.currentIndex()][1]

    def _update(self) -> None:
        custom = self.expiry.currentText() == CUSTOM
        self.custom_amount.setVisible(custom)
        self.custom_unit.setVisible(custom)
        self.password.setEnabled(self.use_password.isChecked())
        self.limit.setEnabled(self.use_limit.isChecked())
        share = self.selected_share()
        self.copy_button.setEnabled(share is not None)
        self.revoke_button.setEnabled(share is not None and share.state == "active")

    def _problem(self) -> str | None:
        seconds = self.expires_in_seconds()
        if not 60 <= seconds <= MAX_EXPIRY_S:
            return "Choose an expiry between 1 minute and 7 days."
        if self.use_password.isChecked() and len(self.password.text()) < MIN_PASSWORD:
            return f"The password needs at least {MIN_PASSWORD} characters."
        return None

    def _create(self) -> None:
        problem = self._problem()
        if problem:
            self.show_error(problem)
            return
        self.create_button.setEnabled(False)
        self.message.setText("Creating the link…")
        password = self.password.text() if self.use_password.isChecked() else None
        limit = self.limit.value() if self.use_limit.isChecked() else None
        self.create_requested.emit(self.path, self.expires_in_seconds(), password, limit)

    # ----- results ---------------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        self.create_button.setEnabled(True)
        self.message.setStyleSheet("color: #c62828;")
        self.message.setText(text)

    def created(self, created: ShareCreated) -> None:
        self.create_button.setEnabled(True)
        self.link.setText(created.share.url)
        QGuiApplication.clipboard().setText(created.share.url)
        self.message.setStyleSheet("")
        self.message.setText(
            f"Link copied. It works until {formatting.when(created.share.expires_at)}."
        )

    def show_shares(self, shares: FileShares) -> None:
        if shares.path != self.path:
            return
        self.loading.setText("" if shares.shares else "No links yet.")
        current = self.selected_share()
        self.links.clear()
        ordered = sorted(
            shares.shares, key=lambda s: (s.state != "active", s.created_at), reverse=False
        )
        for share in ordered:
            limit = (
                f"{share.downloads} of {share.max_downloads}"
                if share.max_downloads
                else str(share.downloads)
            )
            item = QTreeWidgetItem(
                [
                    share.url,
                    formatting.when(share.expires_at),
                    limit,
                    "yes" if share.has_password else "no",
                    share.state,
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, share)
            item.setToolTip(0, share.url)
            if share.state != "active":
                item.setDisabled(True)
            self.links.addTopLevelItem(item)
            if current and current.share_id == share.share_id:
                self.links.setCurrentItem(item)
        self._update()

    def selected_share(self) -> Share | None:
        item = self.links.currentItem()
        share = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return share if isinstance(share, Share) else None

    def shares(self) -> list[Share]:
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in top_items(self.links)]

    def _copy_selected(self) -> None:
        share = self.selected_share()
        if share is not None:
            QGuiApplication.clipboard().setText(share.url)
            self.message.setStyleSheet("")
            self.message.setText("Link copied.")

    def _revoke_selected(self) -> None:
        share = self.selected_share()
        if share is not None:
            self.revoke_button.setEnabled(False)
            self.revoke_requested.emit(self.path, share.share_id)
