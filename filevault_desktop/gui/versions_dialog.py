"""A file's versions, newest first, with restore."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.api.models import Version
from filevault_desktop.gui import formatting
from filevault_desktop.gui.events import FileVersions
from filevault_desktop.gui.icons import icon


class VersionsDialog(QDialog):
    restore_requested = Signal(str, str)  # path, version id

    def __init__(self, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle(f"Versions of {path.rpartition('/')[2]}")
        self.setWindowIcon(icon("versions"))
        self.setMinimumWidth(480)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Saved", "Size", ""])
        self.tree.setRootIsDecorated(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.currentItemChanged.connect(lambda *_: self._update())
        self.status = QLabel("Loading versions…", self)
        self.restore = QPushButton(icon("versions"), "Restore this version", self)
        self.restore.setToolTip("Makes a copy of the selected version the current one")
        self.restore.clicked.connect(self._restore)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.restore, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self._update()

    def show_versions(self, versions: FileVersions) -> None:
        if versions.path != self.path:
            return
        self.tree.clear()
        for v in sorted(versions.versions, key=lambda v: v.created_at, reverse=True):
            item = QTreeWidgetItem(
                [
                    formatting.when(v.created_at),
                    formatting.size(v.size),
                    "current" if v.current else "",
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, v)
            self.tree.addTopLevelItem(item)
        self.status.setText(f"{len(versions.versions)} versions")
        self._update()

    def _selected(self) -> Version | None:
        item = self.tree.currentItem()
        version = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return version if isinstance(version, Version) else None

    def _update(self) -> None:
        version = self._selected()
        self.restore.setEnabled(version is not None and not version.current)

    def _restore(self) -> None:
        version = self._selected()
        if version is not None:
            self.status.setText("Restoring…")
            self.restore_requested.emit(self.path, version.version_id)
