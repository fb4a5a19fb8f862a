"""The remote browser: one folder of the account at a time, with a context menu per file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.gui import formatting
from filevault_desktop.gui.events import FolderListing
from filevault_desktop.gui.file_drops import FileDrops
from filevault_desktop.gui.icons import icon
from filevault_desktop.gui.qtutil import top_items
from filevault_desktop.remote import EntryKind, RemoteEntry

NAME, SIZE, MODIFIED, SHARED, VERSIONS = range(5)
_SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class _Item(QTreeWidgetItem):
    def __lt__(self, other: QTreeWidgetItem) -> bool:
        # Folders first, then by the column's own sort key (sizes as numbers, not text).
        column = self.treeWidget().sortColumn() if self.treeWidget() else NAME
        mine = (self.data(NAME, _SORT_ROLE), self.data(column, _SORT_ROLE + 1) or 0)
        theirs = (other.data(NAME, _SORT_ROLE), other.data(column, _SORT_ROLE + 1) or 0)
        if mine[0] != theirs[0] or column == NAME:
            return bool(
                (mine[0], self.text(NAME).casefold()) < (theirs[0], other.text(NAME).casefold())
            )
        return bool(mine[1] < theirs[1])


class DropZone(FileDrops, QLabel):
    """A visible target for drops; the whole window accepts them as well."""

    dropped = Signal(list)  # list[Path]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFrameShadow(QFrame.Shadow.Sunken)
        self.setMinimumHeight(44)
        self.setWordWrap(True)
        self.set_folder("")

    def set_folder(self, folder: str) -> None:
        where = f"“{folder}”" if folder else "your top folder"
        self.setText(f"Drop files or folders here to upload them to {where}")
        self.setToolTip("You can also drop files anywhere on the FileVault window")

    def files_dropped(self, paths: list[Path]) -> None:
        self.dropped.emit(paths)


class RemoteBrowser(QWidget):
    navigate = Signal(str)  # folder
    download_requested = Signal(str)
    share_requested = Signal(str)
    rename_requested = Signal(str)
    move_requested = Signal(str)
    delete_requested = Signal(str)
    versions_requested = Signal(str)
    upload_requested = Signal(list)  # list[Path], into the folder shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = ""
        self._shown_seq = 0
        self.up_button = self._tool("up", "Up one folder (Backspace)", self.go_up)
        self.refresh_button = self._tool(
            "sync", "Refresh (F5)", lambda: self.navigate.emit(self.folder)
        )
        self.where = QLabel(self)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel(self)
        self.status.setEnabled(False)
        bar = QHBoxLayout()
        bar.addWidget(self.up_button)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.where, 1)
        bar.addWidget(self.status)

        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Name", "Size", "Modified", "Shared", "Versions"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemActivated.connect(self._activated)
        self.tree.setAccessibleName("Remote files")
        header = self.tree.header()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((SIZE, 90), (MODIFIED, 140), (SHARED, 70), (VERSIONS, 70)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        header.setStretchLastSection(False)

        self.empty = QLabel(self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)
        self.empty.setWordWrap(True)
        self.drop_zone = DropZone(self)
        self.drop_zone.dropped.connect(self.upload_requested)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.drop_zone)
        QShortcut(QKeySequence(Qt.Key.Key_Backspace), self.tree, self.go_up)
        QShortcut(
            QKeySequence(QKeySequence.StandardKey.Refresh),
            self,
            lambda: self.navigate.emit(self.folder),
        )
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.tree, self._delete_selected)
        self._show_where()
        self.set_loading()

    def _tool(self, name: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(name))
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.clicked.connect(slot)
        return button

    # ----- state -----------------------------------------------------------------------------

    def set_loading(self) -> None:
        self.status.setText("Loading…")

    def open_folder(self, folder: str) -> None:
        self.folder = folder
        self._show_where()
        self.set_loading()
        self.navigate.emit(folder)

    def go_up(self) -> None:
        if self.folder:
            self.open_folder(self.folder.rpartition("/")[0])

    def _show_where(self) -> None:
        crumbs = ["Files", *[p for p in self.folder.split("/") if p]]
        self.where.setText(" › ".join(crumbs))  # noqa: RUF001
        self.up_button.setEnabled(bool(self.folder))
        self.drop_zone.set_folder(self.folder)

    def show_listing(self, listing: FolderListing) -> None:
        if listing.folder != self.folder or listing.seq < self._shown_seq:
            return  # an answer for a folder the user already left, or a stale one
        self._shown_seq = listing.seq
        selected = self.selected_path()
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        items = [self._item(e, listing) for e in listing.entries]
        self.tree.addTopLevelItems(items)
        self.tree.setSortingEnabled(True)
        for item in items:
            if item.data(NAME, Qt.ItemDataRole.UserRole).path == selected:
                self.tree.setCurrentItem(item)
        files = sum(1 for e in listing.entries if e.kind is EntryKind.FILE)
        self.status.setText(f"{files} files, {len(listing.entries) - files} folders")
        self.empty.setText(
            "This folder is empty. Drop files here to upload them."
            if self.folder
            else "No files yet. Drop files or folders on this window to upload them."
        )
        self.tree.setVisible(bool(items))
        self.empty.setVisible(not items)

    def _item(self, entry: RemoteEntry, listing: FolderListing) -> _Item:
        item = _Item()
        item.setData(NAME, Qt.ItemDataRole.UserRole, entry)
        item.setText(NAME, entry.name)
        item.setToolTip(NAME, entry.path)
        is_folder = entry.kind is EntryKind.FOLDER
        item.setIcon(NAME, icon("folder" if is_folder else "file"))
        item.setData(NAME, _SORT_ROLE, 0 if is_folder else 1)
        f = entry.file
        if f is not None:
            shared = listing.shared.get(f.file_id, 0)
            versions = listing.versions.get(f.file_id)
            item.setText(SIZE, formatting.size(f.size))
            item.setData(SIZE, _SORT_ROLE + 1, f.size)
            item.setText(MODIFIED, formatting.when(f.modified_at))
            item.setData(MODIFIED, _SORT_ROLE + 1, f.modified_at)
            item.setText(SHARED, f"{shared} link{'s' * (shared != 1)}" if shared else "")
            item.setData(SHARED, _SORT_ROLE + 1, shared)
            item.setText(VERSIONS, str(versions) if versions is not None else "")
            item.setData(VERSIONS, _SORT_ROLE + 1, versions or 0)
            for column in (SIZE, SHARED, VERSIONS):
                item.setTextAlignment(
                    column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
        return item

    def selected_path(self) -> str | None:
        entry = self.selected_entry()
        return entry.path if entry else None

    def selected_entry(self) -> RemoteEntry | None:
        item = self.tree.currentItem()
        entry = item.data(NAME, Qt.ItemDataRole.UserRole) if item else None
        return entry if isinstance(entry, RemoteEntry) else None

    def entries(self) -> list[RemoteEntry]:
        return [item.data(NAME, Qt.ItemDataRole.UserRole) for item in top_items(self.tree)]

    # ----- interaction -----------------------------------------------------------------------

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        entry = item.data(NAME, Qt.ItemDataRole.UserRole)
        if isinstance(entry, RemoteEntry) and entry.kind is EntryKind.FOLDER:
            self.open_folder(entry.path)

    def _delete_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None and entry.kind is EntryKind.FILE:
            self.delete_requested.emit(entry.path)

    def menu_for(self, entry: RemoteEntry) -> QMenu:
        menu = QMenu(self)
        path = entry.path
        if entry.kind is EntryKind.FOLDER:
            menu.addAction(icon("folder"), "Open", lambda: self.open_folder(path))
            menu.addAction(
                icon("download"), "Download…", lambda: self.download_requested.emit(path)
            )
            return menu
        menu.addAction(icon("download"), "Download…", lambda: self.download_requested.emit(path))
        menu.addAction(icon("share"), "Share…", lambda: self.share_requested.emit(path))
        menu.addSeparator()
        menu.addAction(icon("rename"), "Rename…", lambda: self.rename_requested.emit(path))
        menu.addAction(icon("move"), "Move…", lambda: self.move_requested.emit(path))
        menu.addAction(icon("versions"), "Versions…", lambda: self.versions_requested.emit(path))
        menu.addSeparator()
        menu.addAction(icon("trash"), "Delete", lambda: self.delete_requested.emit(path))
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        entry = item.data(NAME, Qt.ItemDataRole.UserRole) if item else None
        if isinstance(entry, RemoteEntry):
            self.menu_for(entry).popup(self.tree.viewport().mapToGlobal(pos))
