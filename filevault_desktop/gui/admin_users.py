"""The admin window's user list: users with groups, status and storage; set a quota, disable
or enable an account. Widgets only: requests leave as signals, answers arrive as the bridge's
events (``AdminUsers``, ``AdminUserChanged``, ``Failure``)."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.api.models import AdminUser
from filevault_desktop.gui import formatting
from filevault_desktop.gui.events import AdminUserChanged, AdminUsers, Failure
from filevault_desktop.gui.icons import icon
from filevault_desktop.sizes import format_size, parse_size

USERNAME, EMAIL, GROUPS, STATUS, STORAGE = range(5)
HEADERS = ("Username", "Email", "Groups", "Status", "Storage used / quota")
# Cognito's user statuses, as an admin reads them.
STATUS_TEXT = {
    "CONFIRMED": "Active",
    "FORCE_CHANGE_PASSWORD": "Must set a password",
    "RESET_REQUIRED": "Password reset required",
    "UNCONFIRMED": "Not confirmed",
    "EXTERNAL_PROVIDER": "External sign-in",
    "ARCHIVED": "Archived",
    "COMPROMISED": "Compromised",
}
MAX_QUOTA_BYTES = 1024**5  # the API's limit (1 PiB)
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 1
USER_ROLE = Qt.ItemDataRole.UserRole


def status_text(user: AdminUser) -> str:
    if not user.enabled:
        return "Disabled"
    return STATUS_TEXT.get(user.status, user.status.replace("_", " ").capitalize())


def usage_text(used: int, quota: int) -> str:
    """``1.2 GiB of 10 GiB used (12%)``: binary units, as quotas are typed."""
    if quota <= 0:
        return f"{format_size(used)} used"
    return f"{format_size(used)} of {format_size(quota)} used ({used / quota:.0%})"


def storage_text(user: AdminUser) -> str:
    return usage_text(user.used_bytes, user.quota_bytes)


class UsersModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.users: list[AdminUser] = []

    def set_users(self, users: tuple[AdminUser, ...]) -> None:
        self.beginResetModel()
        self.users = sorted(users, key=lambda u: u.username.casefold())
        self.endResetModel()

    def update_user(self, user: AdminUser) -> None:
        for row, old in enumerate(self.users):
            if old.user_id == user.user_id:
                self.users[row] = user
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
                return

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.users)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.users):
            return None
        user, column = self.users[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(user, column)
        if role == USER_ROLE:
            return user
        if role == FRACTION_ROLE:
            return min(1.0, user.used_bytes / user.quota_bytes) if user.quota_bytes else 0.0
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(user, column)
        if role == Qt.ItemDataRole.ForegroundRole and not user.enabled:
            return QApplication.palette().brush(
                QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text
            )
        return None

    @staticmethod
    def _text(user: AdminUser, column: int) -> str:
        if column == USERNAME:
            return user.username
        if column == EMAIL:
            return user.email or "—"
        if column == GROUPS:
            return ", ".join(user.groups) or "—"
        if column == STATUS:
            return status_text(user)
        return storage_text(user)

    @staticmethod
    def _tooltip(user: AdminUser, column: int) -> str:
        if column == STORAGE:
            over = user.used_bytes > user.quota_bytes
            note = "\nOver quota: their uploads are refused." if over else ""
            return f"{user.used_bytes:,} of {user.quota_bytes:,} bytes{note}"
        if column == STATUS:
            return f"Cognito status: {user.status}; {'enabled' if user.enabled else 'disabled'}"
        return f"{user.username} · id {user.user_id} · created {formatting.when(user.created_at)}"


class StorageDelegate(QStyledItemDelegate):
    """The storage column as a bar (used / quota) with the numbers on it."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if index.column() != STORAGE:
            super().paint(painter, option, index)
            return
        fraction = index.data(FRACTION_ROLE)
        bar = QStyleOptionProgressBar()
        rect = QRect(option.rect)
        bar.rect = rect.adjusted(3, 3, -3, -3)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = round(1000 * float(fraction or 0.0))
        bar.text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        bar.textVisible = True
        # Not the row's selected state: the bar keeps its colours on the highlighted row.
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        bar.palette = option.palette
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        style = option.widget.style() if option.widget else QApplication.style()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight())
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class QuotaDialog(QDialog):
    """Asks for a quota as text (``50 GiB``, ``500 MB``); OK only for a valid size."""

    def __init__(self, user: AdminUser, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.user = user
        self.setWindowTitle(f"Storage quota for {user.username}")
        self.setWindowIcon(icon("admin"))
        self.setMinimumWidth(420)
        self.size_edit = QLineEdit(format_size(user.quota_bytes), self)
        self.size_edit.setPlaceholderText("e.g. 50 GiB, 500 MB, 2T")
        self.size_edit.setToolTip(
            "A size with a unit: KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB "
            "(powers of 1000); 1 PiB at most"
        )
        self.size_edit.setAccessibleName("New quota")
        self.size_edit.selectAll()
        self.feedback = QLabel(self)
        self.feedback.setWordWrap(True)
        # Room for the longest message, so the dialog does not jump (or clip) while typing.
        self.feedback.setMinimumHeight(3 * self.fontMetrics().lineSpacing())
        self.feedback.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Set quota")
        ok.setToolTip("Replaces the user's quota now")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel(f"<b>{user.username}</b> uses {storage_text(user)}.", self))
        form.addRow("&New quota:", self.size_edit)
        form.addRow(self.feedback)
        form.addRow(self.buttons)
        self.size_edit.textChanged.connect(self._check)
        self._check()

    def value(self) -> int | None:
        try:
            size = parse_size(self.size_edit.text())
        except ValueError:
            return None
        return size if 0 < size <= MAX_QUOTA_BYTES else None

    def _check(self) -> None:
        size = self.value()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(size is not None)
        if size is None:
            self.feedback.setText("Type a size from 1 byte to 1 PiB, e.g. 50 GiB.")
        elif size < self.user.used_bytes:
            self.feedback.setText(
                f"{size:,} bytes — below what {self.user.username} already stores: their "
                "files stay, but their uploads are refused until they free space."
            )
        else:
            self.feedback.setText(f"{size:,} bytes")

    def _accept(self) -> None:
        if self.value() is not None:
            self.accept()


class UsersPanel(QWidget):
    refresh_requested = Signal()
    quota_requested = Signal(str, object)  # user id, bytes (int: may exceed 32 bits)
    enabled_requested = Signal(str, bool)  # user id, enabled

    def __init__(self, own_user_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.own_user_id = own_user_id
        self.loaded = False
        self.quota_dialog: QuotaDialog | None = None
        self.confirm_box: QMessageBox | None = None

        self.model = UsersModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by name, email, group…")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter users")
        self.filter.setToolTip("Shows only the users whose row contains this text")
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)

        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(USERNAME, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setItemDelegate(StorageDelegate(self.table))
        self.table.setAccessibleName("Users")
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        # Enter (eventFilter: the key must not reach the window's buttons) or a double-click.
        self.table.installEventFilter(self)
        self.table.doubleClicked.connect(lambda _: self.ask_quota())
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(STORAGE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)

        self.message = QLabel(self)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.retry = QPushButton(icon("sync"), "&Try again", self)
        self.retry.setToolTip("Load the user list again")
        self.retry.clicked.connect(self.refresh)
        message_page = QWidget(self)
        message_layout = QVBoxLayout(message_page)
        message_layout.addStretch(1)
        message_layout.addWidget(self.message)
        message_layout.addWidget(self.retry, 0, Qt.AlignmentFlag.AlignHCenter)
        message_layout.addStretch(1)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(message_page)
        self.pages.addWidget(self.table)

        self.refresh_action = QAction(icon("sync"), "&Refresh", self)
        self.refresh_action.setShortcuts(
            [QKeySequence(QKeySequence.StandardKey.Refresh), QKeySequence("Ctrl+R")]
        )
        self.refresh_action.setToolTip("Load the user list again (F5)")
        self.refresh_action.triggered.connect(self.refresh)
        self.quota_action = QAction(icon("settings"), "Set &quota…", self)
        self.quota_action.setShortcut("Ctrl+Shift+Q")
        self.quota_action.setToolTip("Change the selected user's storage quota (Enter)")
        self.quota_action.triggered.connect(self.ask_quota)
        self.disable_action = QAction(icon("cancel"), "&Disable…", self)
        self.disable_action.setShortcut("Ctrl+Shift+D")
        self.disable_action.setToolTip(
            "Disable the selected account: signed out everywhere, sign-in refused"
        )
        self.disable_action.triggered.connect(lambda: self.ask_enabled(False))
        self.enable_action = QAction(icon("resume"), "&Enable…", self)
        self.enable_action.setShortcut("Ctrl+Shift+E")
        self.enable_action.setToolTip("Let the selected account sign in again")
        self.enable_action.triggered.connect(lambda: self.ask_enabled(True))
        for action in (
            self.refresh_action,
            self.quota_action,
            self.disable_action,
            self.enable_action,
        ):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)

        self.refresh_button = self._button(self.refresh_action)
        self.quota_button = self._button(self.quota_action)
        self.disable_button = self._button(self.disable_action)
        self.enable_button = self._button(self.enable_action)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.filter, 1)
        toolbar.addWidget(self.refresh_button)
        toolbar.addWidget(self.quota_button)
        toolbar.addWidget(self.disable_button)
        toolbar.addWidget(self.enable_button)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Status")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(toolbar)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.proxy.modelReset.connect(self._update_actions)
        self.proxy.dataChanged.connect(lambda *_: self._update_actions())
        self.setTabOrder(self.filter, self.table)
        self._show_message("Loading users…", retry=False)
        self._update_actions()

    def _button(self, action: QAction) -> QPushButton:
        button = QPushButton(action.icon(), action.text(), self)
        button.setToolTip(action.toolTip())
        button.setAutoDefault(False)  # Enter in the table sets a quota; it presses no button
        button.clicked.connect(action.trigger)
        action.enabledChanged.connect(button.setEnabled)
        button.setEnabled(action.isEnabled())
        return button

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and self.selected() is not None
        ):
            self.ask_quota()
            return True
        return super().eventFilter(watched, event)

    # ----- what the bridge says ----------------------------------------------------------------

    def refresh(self) -> None:
        if self.loaded:
            self.status.setText("Refreshing…")
        else:
            self._show_message("Loading users…", retry=False)
        self.refresh_requested.emit()

    def show_users(self, users: AdminUsers) -> None:
        selected = self.selected()
        first = not self.loaded
        self.loaded = True
        self.model.set_users(users.users)
        if not users.users:
            self._show_message("There are no users yet.", retry=False)
            self.status.setText("")
            return
        self.pages.setCurrentWidget(self.table)
        disabled = sum(1 for u in users.users if not u.enabled)
        extra = f", {disabled} disabled" if disabled else ""
        self.status.setText(f"{len(users.users)} users{extra}")
        self.select(selected.user_id if selected else None)
        if first and not self.filter.text():
            self.table.setFocus()  # arrow keys and Enter work at once

    def user_changed(self, change: AdminUserChanged) -> None:
        self.model.update_user(change.user)
        self.status.setText(f"{change.user.username}: {change.what}.")
        self._update_actions()

    def show_error(self, failure: Failure) -> None:
        if not self.loaded:
            self._show_message(f"Could not {failure.operation}: {failure.message}", retry=True)
        self.status.setText(f"Could not {failure.operation}: {failure.message}")
        self._update_actions()

    def _show_message(self, text: str, *, retry: bool) -> None:
        self.message.setText(text)
        self.retry.setVisible(retry)
        self.pages.setCurrentIndex(0)

    # ----- selection and actions ---------------------------------------------------------------

    def selected(self) -> AdminUser | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        user = rows[0].data(USER_ROLE)
        return user if isinstance(user, AdminUser) else None

    def select(self, user_id: str | None) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            user = index.data(USER_ROLE)
            if isinstance(user, AdminUser) and (user_id is None or user.user_id == user_id):
                self.table.selectRow(row)
                self.table.setCurrentIndex(index)
                return

    def _update_actions(self) -> None:
        user = self.selected()
        self.quota_action.setEnabled(user is not None)
        is_me = user is not None and user.user_id == self.own_user_id
        self.disable_action.setEnabled(user is not None and user.enabled and not is_me)
        self.enable_action.setEnabled(user is not None and not user.enabled)
        self.disable_button.setToolTip(
            "You cannot disable your own account" if is_me else self.disable_action.toolTip()
        )

    def _context_menu(self, pos: QPoint) -> None:
        if not self.table.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        for action in (self.quota_action, self.disable_action, self.enable_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.refresh_action)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def ask_quota(self) -> QuotaDialog | None:
        user = self.selected()
        if self.quota_dialog is not None:  # one question at a time
            self.quota_dialog.raise_()
            return self.quota_dialog
        if user is None:
            return None
        dialog = QuotaDialog(user, self)
        self.quota_dialog = dialog

        def done(result: int) -> None:
            size = dialog.value()
            if result == QDialog.DialogCode.Accepted and size is not None:
                self.status.setText(f"Setting the quota of {user.username}…")
                self.quota_requested.emit(user.user_id, size)
            self.quota_dialog = None

        dialog.finished.connect(done)
        dialog.open()  # not exec(): the window keeps running while it is open
        return dialog

    def ask_enabled(self, enabled: bool) -> QMessageBox | None:
        user = self.selected()
        if self.confirm_box is not None:
            self.confirm_box.raise_()
            return self.confirm_box
        if user is None or user.enabled == enabled:
            return None
        if not enabled and user.user_id == self.own_user_id:
            self.status.setText("You cannot disable your own account.")
            return None
        if enabled:
            title, verb = f"Enable {user.username}?", "Enable"
            text = f"{user.username} will be able to sign in again."
            kind = QMessageBox.Icon.Question
        else:
            title, verb = f"Disable {user.username}?", "Disable"
            text = (
                f"{user.username} is signed out on every device and cannot sign in until an "
                "administrator enables the account again. Their files are kept. A session "
                "already open may keep working until its access token expires (within an hour)."
            )
            kind = QMessageBox.Icon.Warning
        box = QMessageBox(kind, title, text, QMessageBox.StandardButton.NoButton, self)
        role = (
            QMessageBox.ButtonRole.AcceptRole if enabled else QMessageBox.ButtonRole.DestructiveRole
        )
        confirm = box.addButton(verb, role)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        self.confirm_box = box

        def answered() -> None:
            if box.clickedButton() is confirm:
                self.status.setText(f"{verb[:-1]}ing {user.username}…")
                self.enabled_requested.emit(user.user_id, enabled)
            self.confirm_box = None

        box.finished.connect(lambda _: answered())
        box.open()
        return box
