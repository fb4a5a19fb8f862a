"""Small pure pieces: formatting, tray state, autostart entry, icons."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from filevault_desktop.gui import formatting, icons
from filevault_desktop.gui.autostart.macos import LaunchAgent
from filevault_desktop.gui.autostart.xdg import XdgAutostart
from filevault_desktop.gui.icons import TrayState
from filevault_desktop.gui.state import tray_state
from filevault_desktop.gui.sync_port import (
    FolderState,
    NoSync,
    SyncFolder,
    SyncNotConfigured,
    SyncPort,
)


def test_formatting() -> None:
    assert formatting.size(999) == "999 B"
    assert formatting.size(1_500_000) == "1.5 MB"
    assert formatting.rate(0) == "—"
    assert formatting.duration(None) == "—"
    assert formatting.duration(75) == "1 min 15 s"
    assert formatting.duration(7300) == "2 h 01 min"
    assert formatting.when("not a date") == ""


def _f(state: FolderState) -> SyncFolder:
    return SyncFolder("x", Path("/tmp/x"), "", state)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"signed_in": False}, TrayState.OFFLINE),
        ({"online": False}, TrayState.OFFLINE),
        ({"issues": 1}, TrayState.ERROR),
        ({"folders": [_f(FolderState.NEEDS_CONFIRMATION)]}, TrayState.ERROR),
        ({"folders": [_f(FolderState.PAUSED)]}, TrayState.PAUSED),
        ({"folders": [_f(FolderState.PAUSED), _f(FolderState.UP_TO_DATE)]}, TrayState.UP_TO_DATE),
        ({"active_transfers": 2}, TrayState.SYNCING),
        ({"folders": [_f(FolderState.SCANNING)]}, TrayState.SYNCING),
        ({}, TrayState.UP_TO_DATE),
    ],
)
def test_tray_state(kwargs: dict[str, object], expected: TrayState) -> None:
    base: dict[str, object] = {
        "signed_in": True,
        "online": True,
        "folders": [],
        "active_transfers": 0,
        "issues": 0,
    }
    assert tray_state(**{**base, **kwargs}) is expected  # type: ignore[arg-type]


def test_autostart_entries(tmp_path: Path) -> None:
    xdg = XdgAutostart(tmp_path / "autostart")
    assert not xdg.enabled()
    xdg.set_enabled(True)
    text = xdg.path.read_text()
    assert text.startswith("[Desktop Entry]") and "-m filevault_desktop.gui --minimized" in text
    xdg.set_enabled(False)
    assert not xdg.enabled()
    agent = LaunchAgent(tmp_path / "LaunchAgents")
    agent.set_enabled(True)
    assert b"RunAtLoad" in agent.path.read_bytes()


def test_no_sync_is_truthful() -> None:
    port = NoSync()
    assert isinstance(port, SyncPort)
    assert not port.configured and port.folders() == []
    with pytest.raises(SyncNotConfigured):
        port.pause()


def test_every_tray_state_has_an_icon_that_renders(qtbot: QtBot) -> None:
    for state in TrayState:
        icon = icons.tray_icon(state)
        assert not icon.isNull()
        image = icons.render(f"tray-{state.value}", 64)
        assert not image.isNull() and image.pixelColor(32, 32).alpha() >= 0
    for svg in icons.icons_dir().glob("*.svg"):
        assert not icons.render(svg.stem, 32).isNull(), svg
    # Packaged with the code (the resources link), not read from the working directory.
    assert (icons.icons_dir() / "filevault.svg").is_file()
