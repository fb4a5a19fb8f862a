"""The one state the tray icon shows, derived from everything the app knows."""

from __future__ import annotations

from collections.abc import Iterable

from filevault_desktop.gui.icons import TrayState
from filevault_desktop.gui.sync_port import FolderState, SyncFolder

STATE_LABEL = {
    TrayState.UP_TO_DATE: "Up to date",
    TrayState.SYNCING: "Syncing",
    TrayState.PAUSED: "Paused",
    TrayState.ERROR: "Needs attention",
    TrayState.OFFLINE: "Offline",
}


def all_paused(folders: Iterable[SyncFolder]) -> bool:
    states = [f.state for f in folders]
    return bool(states) and all(s is FolderState.PAUSED for s in states)


def tray_state(
    *,
    signed_in: bool,
    online: bool,
    folders: Iterable[SyncFolder],
    active_transfers: int,
    issues: int,
) -> TrayState:
    folders = list(folders)
    states = {f.state for f in folders}
    if not signed_in or not online or FolderState.OFFLINE in states:
        return TrayState.OFFLINE
    if issues or states & {FolderState.ERROR, FolderState.NEEDS_CONFIRMATION}:
        return TrayState.ERROR
    if all_paused(folders):
        return TrayState.PAUSED
    if active_transfers or states & {FolderState.SYNCING, FolderState.SCANNING}:
        return TrayState.SYNCING
    return TrayState.UP_TO_DATE
