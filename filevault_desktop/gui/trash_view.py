"""The Trash tab: files deleted from FileVault, restored or deleted for good from here.

Widgets only: requests leave as signals, answers arrive as the bridge's events
(``TrashListing``, ``TrashChanged``, ``Failure``). Deleting for good and emptying the trash
ask first (a window-modal box opened with ``open()``: the UI keeps running); the bridge
reloads the list after every action. The view asks for the list whenever it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.gui import formatting
from filevault_desktop.gui.events import Failure, Problem, TrashChanged, TrashListing
from filevault_desktop.gui.icons import icon
from filevault_desktop.gui.qtutil import top_items
from filevault_desktop.remote import clean

NAME, LOCATION, SIZE, DELETED = range(4)
HEADERS = ("Name", "Original location", "Size", "Deleted")
_FILE_ROLE = Qt.ItemDataRole.UserRole
_SORT_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_NAMED = 10  # files a confirmation names; the others are counted
MAX_ERRORS = 3  # failures spelled out after an action; the others are counted
EMPTY_TEXT = (
    "The trash is empty.\n\nFiles you delete from FileVault wait here until you delete them "
    "for good; the server also clears files that stayed in the trash too long."
)
SIGNED_OUT_TEXT = "Sign in to see your trash."
REFRESHING = "Refreshing…"


def files_text(n: int) -> str:
    return "1 file" if n == 1 else f"{n} files"


def location(path: str) -> str:
    """The folder a trashed file was in, as the Files tab's path bar shows it."""
    folder = clean(path).rpartition("/")[0]
    return " › ".join(["Files", *folder.split("/")]) if folder else "Files"  # noqa: RUF001


def change_text(change: TrashChanged) -> str:
    """What an action did, for the status line ("" when it did nothing)."""
    done = change.done
    which = done[0] if len(done) == 1 else files_text(len(done))
    freed = formatting.size(change.freed_bytes)
    if change.operation == "empty the trash":
        if not done:
            return "" if change.failed else "The trash was already empty."
        return f"Emptied the trash: {files_text(len(done))} deleted for good, {freed} freed."
    if not done:
        return ""
    if change.operation == "restore":
        return f"Restored {which}."
    return f"Deleted {which} for good, {freed} freed."


def failure_text(failures: Sequence[Failure]) -> str:
    lines = [
        f"Could not {f.operation}{' ' + f.path if f.path else ''}: {f.message}."
        for f in failures[:MAX_ERRORS]
    ]
    if len(failures) > MAX_ERRORS:
        lines.append(f"…and {files_text(len(failures) - MAX_ERRORS)} more.")
    return "\n".join(lines)


def named(files: Sequence[RemoteFile]) -> str:
    """The files' paths, one a line, the first few of them."""
    lines = [f"• {f.path}" for f in files[:MAX_NAMED]]
    if len(files) > MAX_NAMED:
        lines.append(f"…and {len(files) - MAX_NAMED} more")
    return "\n".join(lines)


class _Item(QTreeWidgetItem):
    def __lt__(self, other: QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() else NAME
        mine, theirs = self.data(column, _SORT_ROLE), other.data(column, _SORT_ROLE)
        return bool((mine, self.text(NAME)) < (theirs, other.text(NAME)))


class TrashView(QWidget):
    refresh_requested = Signal()
    restore_requested = Signal(list)  # list[RemoteFile], each back where it was
    restore_to_requested = Signal(object, str)  # RemoteFile, the path to restore it as
    purge_requested = Signal(list)  # list[RemoteFile], deleted for good
    empty_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loaded = False
        self.busy = False
        self.confirm_box: QMessageBox | None = None
        self.restore_dialog: QInputDialog | None = None
        self._shown_seq = 0

        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(list(HEADERS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(DELETED, Qt.SortOrder.DescendingOrder)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.setAccessibleName("Files in the trash")
        self.tree.itemSelectionChanged.connect(self._update_actions)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((LOCATION, 220), (SIZE, 90), (DELETED, 140)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)

        self.message = QLabel(self)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setEnabled(False)
        self.retry = QPushButton(icon("sync"), "&Try again", self)
        self.retry.setToolTip("Load the trash again")
        self.retry.clicked.connect(self.refresh)
        message_page = QWidget(self)
        message_layout = QVBoxLayout(message_page)
        message_layout.addStretch(1)
        message_layout.addWidget(self.message)
        message_layout.addWidget(self.retry, 0, Qt.AlignmentFlag.AlignHCenter)
        message_layout.addStretch(1)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(message_page)
        self.pages.addWidget(self.tree)

        self.error_bar = QFrame(self)
        self.error_bar.setFrameShape(QFrame.Shape.StyledPanel)
        self.error = QLabel(self.error_bar)
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setAccessibleName("Error")
        warning = QLabel(self.error_bar)
        warning.setPixmap(icon("warning").pixmap(20, 20))
        dismiss = QToolButton(self.error_bar)
        dismiss.setIcon(icon("cancel"))
        dismiss.setToolTip("Hide this message")
        dismiss.setAutoRaise(True)
        dismiss.clicked.connect(lambda: self.show_failures(()))
        bar = QHBoxLayout(self.error_bar)
        bar.setContentsMargins(6, 4, 4, 4)
        bar.addWidget(warning, 0, Qt.AlignmentFlag.AlignTop)
        bar.addWidget(self.error, 1)
        bar.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self.error_bar.hide()

        self.refresh_action = self._action("sync", "&Refresh", "Load the trash again (F5)")
        self.refresh_action.setShortcuts(
            [QKeySequence(QKeySequence.StandardKey.Refresh), QKeySequence("Ctrl+R")]
        )
        self.refresh_action.triggered.connect(self.refresh)
        self.restore_action = self._action(
            "versions", "Re&store", "Put the selected files back where they were"
        )
        self.restore_action.triggered.connect(self.restore_selected)
        self.restore_to_action = self._action(
            "move", "Restore &to…", "Restore the selected file under another name or folder"
        )
        self.restore_to_action.triggered.connect(self.ask_restore_to)
        self.purge_action = self._action(
            "cancel", "&Delete forever…", "Delete the selected files for good (Delete)"
        )
        self.purge_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.purge_action.triggered.connect(self.ask_purge)
        self.empty_action = self._action(
            "trash", "&Empty trash…", "Delete every file in the trash for good"
        )
        self.empty_action.triggered.connect(self.ask_empty)

        toolbar = QHBoxLayout()
        self.restore_button = self._button(self.restore_action)
        self.restore_to_button = self._button(self.restore_to_action)
        self.purge_button = self._button(self.purge_action)
        self.empty_button = self._button(self.empty_action)
        self.refresh_button = self._button(self.refresh_action)
        for button in (self.restore_button, self.restore_to_button, self.purge_button):
            toolbar.addWidget(button)
        toolbar.addStretch(1)
        toolbar.addWidget(self.empty_button)
        toolbar.addWidget(self.refresh_button)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Status")
        self.summary = QLabel(self)
        self.summary.setEnabled(False)
        self.summary.setAccessibleName("Files in the trash")
        footer = QHBoxLayout()
        footer.addWidget(self.status, 1)
        footer.addWidget(self.summary)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(toolbar)
        layout.addWidget(self.error_bar)
        layout.addWidget(self.pages, 1)
        layout.addLayout(footer)
        self._show_message(SIGNED_OUT_TEXT, retry=False)
        self._update_actions()

    def _action(self, icon_name: str, text: str, tip: str) -> QAction:
        action = QAction(icon(icon_name), text, self)
        action.setToolTip(tip)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(action)
        return action

    def _button(self, action: QAction) -> QPushButton:
        button = QPushButton(action.icon(), action.text(), self)
        button.setToolTip(action.toolTip())
        button.setAutoDefault(False)
        button.clicked.connect(action.trigger)
        action.enabledChanged.connect(button.setEnabled)
        button.setEnabled(action.isEnabled())
        return button

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not event.spontaneous():  # its tab was opened (not the window un-minimized)
            self.refresh()

    # ----- what the bridge says ----------------------------------------------------------------

    def refresh(self) -> None:
        if self.busy:
            return  # the action under way reloads the list when it is done
        if self.loaded:
            self.status.setText(REFRESHING)
        else:
            self._show_message("Loading the trash…", retry=False)
        self.refresh_requested.emit()

    def show_trash(self, listing: TrashListing) -> None:
        if listing.seq < self._shown_seq:
            return  # an older answer than the one on screen
        self._shown_seq = listing.seq
        selected = {f.file_id for f in self.selected()}
        self.loaded = True
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        items = [self._item(f) for f in listing.files]
        self.tree.addTopLevelItems(items)
        self.tree.setSortingEnabled(True)
        for item in items:
            item.setSelected(item.data(NAME, _FILE_ROLE).file_id in selected)
        if items:
            self.pages.setCurrentWidget(self.tree)
            total = formatting.size(sum(f.size for f in listing.files))
            self.summary.setText(f"{files_text(len(items))}, {total}")
        else:
            self._show_message(EMPTY_TEXT, retry=False)
            self.summary.setText("")
        if self.status.text() == REFRESHING:
            self.status.setText("")
        self._update_actions()

    def show_change(self, change: TrashChanged) -> None:
        self.busy = False
        self.status.setText(change_text(change))
        self.show_failures(change.failed)
        self._update_actions()

    def show_error(self, failure: Failure) -> None:
        self.busy = False
        if failure.problem is Problem.NOT_SIGNED_IN:
            self.clear()
            return
        if not self.loaded:
            self._show_message(f"Could not load the trash: {failure.message}.", retry=True)
            self.status.setText("")
        else:
            self.status.setText("")
            self.show_failures((failure,))
        self._update_actions()

    def show_failures(self, failures: Sequence[Failure]) -> None:
        self.error.setText(failure_text(failures))
        self.error_bar.setVisible(bool(failures))

    def account_changed(self) -> None:
        """Someone signed in: the trash shown (if any) was someone else's."""
        self.clear()
        if self.isVisible():
            self.refresh()

    def clear(self) -> None:
        """Signed out: nothing to show, nothing to ask."""
        self.loaded = self.busy = False
        for dialog in (self.confirm_box, self.restore_dialog):
            if dialog is not None:
                dialog.reject()
        self.tree.clear()
        self.status.setText("")
        self.summary.setText("")
        self.show_failures(())
        self._show_message(SIGNED_OUT_TEXT, retry=False)
        self._update_actions()

    def _show_message(self, text: str, *, retry: bool) -> None:
        self.message.setText(text)
        self.retry.setVisible(retry)
        self.pages.setCurrentIndex(0)

    def _item(self, f: RemoteFile) -> _Item:
        item = _Item()
        item.setData(NAME, _FILE_ROLE, f)
        item.setIcon(NAME, icon("file"))
        values = (
            (NAME, f.name, f.name.casefold()),
            (LOCATION, location(f.path), f.path.casefold()),
            (SIZE, formatting.size(f.size), f.size),
            (DELETED, formatting.when(f.trashed_at), f.trashed_at or ""),
        )
        for column, text, key in values:
            item.setText(column, text)
            item.setData(column, _SORT_ROLE, key)
            item.setToolTip(column, f"{f.path}\n{formatting.size(f.size)} ({f.size:,} bytes)")
        item.setTextAlignment(SIZE, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

    # ----- selection and actions ---------------------------------------------------------------

    def files(self) -> list[RemoteFile]:
        return [item.data(NAME, _FILE_ROLE) for item in top_items(self.tree)]

    def selected(self) -> list[RemoteFile]:
        items = [item for item in top_items(self.tree) if item.isSelected()]
        return [item.data(NAME, _FILE_ROLE) for item in items]

    def select(self, *paths: str) -> None:
        self.tree.clearSelection()
        for item in top_items(self.tree):
            if item.data(NAME, _FILE_ROLE).path in paths:
                item.setSelected(True)

    def _update_actions(self) -> None:
        n = len(self.selected())
        idle = not self.busy
        self.restore_action.setEnabled(idle and n > 0)
        self.restore_to_action.setEnabled(idle and n == 1)
        self.purge_action.setEnabled(idle and n > 0)
        self.empty_action.setEnabled(idle and self.loaded and self.tree.topLevelItemCount() > 0)
        self.refresh_action.setEnabled(idle)

    def _start(self, text: str) -> None:
        self.busy = True
        self.status.setText(text)
        self.show_failures(())
        self._update_actions()

    def _context_menu(self, pos: QPoint) -> None:
        if self.tree.itemAt(pos) is None:
            return
        menu = QMenu(self)
        for action in (self.restore_action, self.restore_to_action, self.purge_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.refresh_action)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def restore_selected(self) -> None:
        files = self.selected()
        if files and not self.busy:
            self._start(
                f"Restoring {files[0].path if len(files) == 1 else files_text(len(files))}…"
            )
            self.restore_requested.emit(files)

    def ask_restore_to(self) -> QInputDialog | None:
        files = self.selected()
        if self.restore_dialog is not None:
            self.restore_dialog.raise_()
            return self.restore_dialog
        if len(files) != 1 or self.busy:
            return None
        [f] = files
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Restore to")
        dialog.setLabelText(f"Restore {f.name} as (folders and name in FileVault):")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(f.path)
        dialog.setOkButtonText("Restore")
        dialog.resize(max(dialog.width(), 460), dialog.height())
        self.restore_dialog = dialog

        def done(result: int) -> None:
            self.restore_dialog = None
            target = clean(dialog.textValue())
            if result == QDialog.DialogCode.Accepted and target and not self.busy:
                self._start(f"Restoring {f.path} as {target}…")
                self.restore_to_requested.emit(f, target)

        dialog.finished.connect(done)
        dialog.open()
        return dialog

    def _confirm(
        self, title: str, text: str, info: str, verb: str, go: Callable[[], None]
    ) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton, self
        )
        box.setInformativeText(info)
        confirm = box.addButton(verb, QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        self.confirm_box = box

        def answered() -> None:
            self.confirm_box = None
            if box.clickedButton() is confirm:
                go()

        box.finished.connect(lambda _: answered())
        box.open()
        return box

    def ask_purge(self) -> QMessageBox | None:
        files = self.selected()
        if self.confirm_box is not None:
            self.confirm_box.raise_()
            return self.confirm_box
        if not files or self.busy:
            return None

        def purge() -> None:
            if not self.busy:
                self._start(f"Deleting {files_text(len(files))} for good…")
                self.purge_requested.emit(files)

        one = len(files) == 1
        return self._confirm(
            "Delete forever?",
            f"Delete {'this file' if one else f'these {len(files)} files'} for good?\n\n"
            + named(files),
            f"{'It' if one else 'They'} cannot be restored afterwards.",
            "Delete forever",
            purge,
        )

    def ask_empty(self) -> QMessageBox | None:
        count = self.tree.topLevelItemCount()
        if self.confirm_box is not None:
            self.confirm_box.raise_()
            return self.confirm_box
        if not count or self.busy:
            return None

        def empty() -> None:
            if not self.busy:
                self._start("Emptying the trash…")
                self.empty_requested.emit()

        every = "the file" if count == 1 else f"all {count} files"
        return self._confirm(
            "Empty the trash?",
            f"Delete {every} in the trash for good?",
            "This cannot be undone. Files moved to the trash meanwhile are kept.",
            "Empty trash",
            empty,
        )
