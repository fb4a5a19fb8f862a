"""Taking drops of local files and folders, for any widget that uploads what it is given."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders of a drag, if it carries any."""
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class FileDrops:
    """Mixin for a QWidget (put it before the Qt class): drags that carry local files or folders
    are accepted and their paths go to ``files_dropped``; any other drag is left unaccepted.

    The widget still has to call ``setAcceptDrops(True)``.
    """

    def files_dropped(self, paths: list[Path]) -> None:
        raise NotImplementedError

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.files_dropped(paths)
