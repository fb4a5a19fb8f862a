"""A synthetic drag and drop of local files, as a file manager would send it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

DragEvents = tuple[QDragEnterEvent, QDragMoveEvent, QDropEvent]


def drag_events(target: QWidget, mime: QMimeData) -> DragEvents:
    """Drag-enter, drag-move and drop at the target's centre, none accepted yet."""
    centre = target.rect().center()
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    at: Any = centre
    try:
        enter = QDragEnterEvent(at, *args)
    except TypeError:  # PySide6 6.12 takes the position of a drag as a QPointF, not a QPoint
        at = QPointF(centre)
        enter = QDragEnterEvent(at, *args)
    events = (enter, QDragMoveEvent(at, *args), QDropEvent(QPointF(centre), *args))
    for event in events:
        event.ignore()
    return events


def drop_files(target: QWidget, paths: list[Path]) -> bool:
    """Sends drag-enter then drop; returns whether the drop was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter, _move, drop = drag_events(target, mime)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()
