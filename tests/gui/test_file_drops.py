"""The drop handling shared by the drop zone and the main window (no stack needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QUrl, SignalInstance
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.browser import DropZone
from filevault_desktop.gui.main_window import MainWindow
from tests.gui.dnd import drag_events

Target = tuple[QWidget, SignalInstance]


def _drop_zone(qtbot: QtBot) -> Target:
    zone = DropZone()
    qtbot.addWidget(zone)
    return zone, zone.dropped


def _main_window(qtbot: QtBot) -> Target:
    window = MainWindow(sync_configured=False)
    qtbot.addWidget(window)
    return window, window.upload_requested


TARGETS = [pytest.param(_drop_zone, id="drop-zone"), pytest.param(_main_window, id="main-window")]


def _mime(urls: list[QUrl] | None = None, text: str | None = None) -> QMimeData:
    mime = QMimeData()
    if urls is not None:
        mime.setUrls(urls)
    if text is not None:
        mime.setText(text)
    return mime


def _send(target: QWidget, mime: QMimeData) -> tuple[bool, bool, bool]:
    """Sends drag-enter, drag-move and drop through Qt, as a drag would, stopping when one is
    refused (Qt routes a move or a drop only to the widget that took the drag-enter); returns
    whether each was accepted."""
    events = drag_events(target, mime)
    for event in events:
        QApplication.sendEvent(target, event)
        if not event.isAccepted():
            break
    return events[0].isAccepted(), events[1].isAccepted(), events[2].isAccepted()


def _handle(target: QWidget, mime: QMimeData) -> tuple[bool, bool, bool]:
    """Hands each event to the target's own handler, even the move and the drop of a drag whose
    drag-enter was refused; returns whether each was accepted."""
    enter, move, drop = drag_events(target, mime)
    target.dragEnterEvent(enter)
    target.dragMoveEvent(move)
    target.dropEvent(drop)
    return enter.isAccepted(), move.isAccepted(), drop.isAccepted()


@pytest.mark.parametrize("make", TARGETS)
def test_the_local_files_and_folders_of_a_drag_are_taken(
    qtbot: QtBot, tmp_path: Path, make: Callable[[QtBot], Target]
) -> None:
    target, dropped = make(qtbot)
    folder = tmp_path / "album"
    folder.mkdir()
    note = tmp_path / "note.txt"
    note.write_text("hi")
    mime = _mime(
        [
            QUrl.fromLocalFile(str(note)),
            QUrl("https://example.com/a.txt"),  # skipped, the local ones are still taken
            QUrl.fromLocalFile(str(folder)),
        ]
    )
    with qtbot.waitSignal(dropped, timeout=1000) as blocker:
        assert _send(target, mime) == (True, True, True)
    assert blocker.args == [[note, folder]]


@pytest.mark.parametrize("make", TARGETS)
@pytest.mark.parametrize(
    "mime",
    [
        pytest.param(lambda: _mime([QUrl("https://example.com/a.txt")]), id="remote-url"),
        pytest.param(lambda: _mime([QUrl("file:")]), id="empty-file-url"),
        pytest.param(lambda: _mime([]), id="no-urls"),
        pytest.param(lambda: _mime(text="/tmp/not-a-url.txt"), id="plain-text"),
    ],
)
def test_drops_without_local_files_are_refused(
    qtbot: QtBot, make: Callable[[QtBot], Target], mime: Callable[[], QMimeData]
) -> None:
    target, dropped = make(qtbot)
    with qtbot.assertNotEmitted(dropped):
        assert _send(target, mime()) == (False, False, False)
        assert _handle(target, mime()) == (False, False, False)
