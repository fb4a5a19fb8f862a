"""Sync running in the background of the desktop app: the GUI's ``SyncPort`` over the facade's
``SyncService``. No Qt here; the GUI's bridge calls these methods off its UI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from filevault_desktop.gui.sync_port import (
    ConflictCopied,
    FolderState,
    MassDeletePrompt,
    SyncFolder,
    SyncIssue,
    SyncListener,
    SyncNotConfigured,
    SyncNotice,
)
from filevault_desktop.persist import write_atomic
from filevault_desktop.priority import lower_this_thread
from filevault_desktop.service import FileVaultService
from filevault_desktop.sync import ActionResult, SyncEvent, SyncStatus
from filevault_desktop.sync.ignore import IGNORE_FILE
from filevault_desktop.sync.models import ConflictCopy, IssueKind, Outcome, SyncState
from filevault_desktop.sync_folders import SyncFolder as FolderConfig
from filevault_desktop.sync_service import FolderState as StoredState

log = logging.getLogger(__name__)

# A round of the engine is over: the folder's file count is worth reading again.
_ROUND_ENDS = {SyncState.IDLE, SyncState.NEEDS_CONFIRMATION, SyncState.ERROR}
_STATES = {
    SyncState.IDLE: FolderState.UP_TO_DATE,
    SyncState.SCANNING: FolderState.SCANNING,
    SyncState.SYNCING: FolderState.SYNCING,
    SyncState.PAUSED: FolderState.PAUSED,
    SyncState.NEEDS_CONFIRMATION: FolderState.NEEDS_CONFIRMATION,
    SyncState.ERROR: FolderState.ERROR,
}
_ADVICE = {
    IssueKind.SYMLINK: "Links are not followed out of a sync folder; copy the file in instead.",
    IssueKind.UNREADABLE: "Check the file's permissions, then choose Sync now.",
    IssueKind.NAME_CLASH: "Two names differ only in case or accents here; rename one of them.",
    IssueKind.REFUSED: "The server refused the name or the file; rename or move it.",
    IssueKind.FAILED: "It is retried at the next sync; if it keeps failing, check the reason.",
}


def read_ignore_patterns(root: Path) -> tuple[str, ...]:
    try:
        lines = (root / IGNORE_FILE).read_text("utf-8").splitlines()
    except FileNotFoundError:
        return ()
    return tuple(line for line in (raw.strip() for raw in lines) if line and line[0] != "#")


class BackgroundSync:
    """Runs every sync folder of the signed-in account until told to stop.

    ``service`` returns the signed-in facade, or None while nobody is signed in. A change of
    folders (add, remove, selective sync) restarts the engines on the new set.
    """

    def __init__(self, service: Callable[[], FileVaultService | None]) -> None:
        self._service = service
        self._lock = threading.RLock()
        self._listeners: list[SyncListener] = []
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._running_for: FileVaultService | None = None
        self._live: dict[str, SyncStatus] = {}
        self._files: dict[str, int] = {}  # synced files per folder, as last read from its index

    # ----- the port -----
    @property
    def configured(self) -> bool:
        return True

    def folders(self) -> list[SyncFolder]:
        svc = self._service()
        if svc is None:  # nobody signed in: nothing syncs, nothing to show
            self._stop_running()
            return []
        self._ensure_running(svc)
        out = []
        for state in svc.sync.states():
            self._files[state.folder.folder_id] = state.files
            live = self._live.get(state.folder.folder_id)
            out.append(self._folder_view(state.folder, state.paused, state.files, live, state))
        return out

    def add_folder(self, local_path: Path, remote_root: str) -> SyncFolder:
        svc = self._signed_in()
        folder = svc.sync.add(local_path, remote_root)
        self._restart(svc)
        return self._folder_view(folder, False, 0, None, None)

    def remove_folder(self, folder_id: str) -> None:
        svc = self._signed_in()
        self._stop_running()
        svc.sync.remove(folder_id)
        self._live.pop(folder_id, None)
        self._ensure_running(svc)

    def pause(self, folder_id: str | None = None) -> None:
        self._set_paused(folder_id, True)

    def resume(self, folder_id: str | None = None) -> None:
        self._set_paused(folder_id, False)
        self.sync_now(folder_id)

    def sync_now(self, folder_id: str | None = None) -> None:
        svc = self._signed_in()
        self._ensure_running(svc)
        for fid, engine in svc.sync.running().items():
            if folder_id in (None, fid):
                engine.notify_local_change()

    def configure(
        self, folder_id: str, *, excluded: tuple[str, ...], ignore_patterns: tuple[str, ...]
    ) -> SyncFolder:
        svc = self._signed_in()
        folder = svc.sync.exclude(folder_id, excluded)
        # The patterns live in the folder's .filevaultignore (gitignore syntax), one source of
        # truth that the user can also edit by hand.
        if ignore_patterns != read_ignore_patterns(folder.local):
            text = "".join(f"{p}\n" for p in ignore_patterns)
            write_atomic(folder.local / IGNORE_FILE, text.encode(), mode=0o644)
        self._restart(svc)
        return self._folder_view(folder, False, 0, self._live.get(folder_id), None)

    def answer_mass_delete(self, folder_id: str, allow: bool) -> None:
        """Allowed, the held deletes are carried out; declined, the files come back."""
        svc = self._signed_in()
        engine = svc.sync.running().get(folder_id)
        if engine is None:
            return  # not running: the deletes stay held until the next answer
        if allow:
            engine.allow_mass_delete()
        else:
            engine.keep_held_deletes()

    def subscribe(self, listener: SyncListener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        self._stop_running()

    # ----- running the engines -----
    def _signed_in(self) -> FileVaultService:
        svc = self._service()
        if svc is None:
            self._stop_running()
            raise SyncNotConfigured("sign in to sync folders")
        return svc

    def _ensure_running(self, svc: FileVaultService) -> None:
        with self._lock:
            if self._thread is not None and self._running_for is svc and self._thread.is_alive():
                return
        self._restart(svc)

    def _restart(self, svc: FileVaultService) -> None:
        self._stop_running()
        with self._lock:
            stop = threading.Event()
            thread = threading.Thread(
                target=self._run, args=(svc, stop), name="filevault-sync", daemon=True
            )
            self._stop, self._thread, self._running_for = stop, thread, svc
            thread.start()

    def _stop_running(self) -> None:
        with self._lock:
            stop, thread = self._stop, self._thread
            self._stop = self._thread = self._running_for = None
        if stop is not None:
            stop.set()
        if thread is not None:
            thread.join(timeout=60)

    def _run(self, svc: FileVaultService, stop: threading.Event) -> None:
        lower_this_thread()  # the engines' threads start from this one and inherit it
        try:
            svc.sync.run(stop, on_event=self._on_event)
        except Exception:  # never silently: the folders show the error and a restart retries
            log.exception("background sync stopped")

    def _set_paused(self, folder_id: str | None, paused: bool) -> None:
        svc = self._signed_in()
        for folder in svc.sync.set_paused(folder_id, paused):
            engine = svc.sync.running().get(folder.folder_id)
            if engine is not None:
                if paused:
                    engine.pause()
                else:
                    engine.resume()
            else:
                status = SyncStatus(SyncState.PAUSED if paused else SyncState.IDLE)
                self._on_event(folder, status)

    # ----- events -> notices -----
    def _on_event(self, folder: FolderConfig, event: SyncEvent) -> None:
        notices: list[SyncNotice] = []
        if isinstance(event, SyncStatus):
            self._live[folder.folder_id] = event
            if event.state in _ROUND_ENDS:
                self._count_files(folder.folder_id)
            files = self._files.get(folder.folder_id, 0)
            paused = event.state is SyncState.PAUSED
            notices.append(self._folder_view(folder, paused, files, event))
            for issue in event.issues:
                notices.append(
                    SyncIssue(folder.folder_id, issue.path, issue.detail, _ADVICE[issue.kind])
                )
            if event.held_deletes:
                notices.append(MassDeletePrompt(folder.folder_id, event.held_deletes, ()))
        elif isinstance(event, ActionResult):
            action = event.action
            if isinstance(action, ConflictCopy) and event.outcome is Outcome.DONE:
                notices.append(ConflictCopied(folder.folder_id, action.src, action.dst))
        with self._lock:
            listeners = list(self._listeners)
        for notice in notices:
            for listener in listeners:
                try:
                    listener(notice)
                except Exception:  # a broken listener must not stop the sync
                    log.exception("sync listener failed")

    def _count_files(self, folder_id: str) -> None:
        """The files in sync, from the engine's index (kept in memory), as a round ends."""
        svc = self._running_for
        engine = svc.sync.running().get(folder_id) if svc is not None else None
        if engine is not None:
            self._files[folder_id] = len(engine.index.base())

    def _folder_view(
        self,
        folder: FolderConfig,
        paused: bool,
        files: int,
        live: SyncStatus | None,
        stored: StoredState | None = None,
    ) -> SyncFolder:
        if paused:
            state = FolderState.PAUSED
        elif live is not None:
            state = _STATES[live.state]
        else:
            last = stored.state if stored is not None else "never"
            state = {s.value: _STATES[s] for s in SyncState}.get(last, FolderState.SCANNING)
        if state is FolderState.ERROR and live is not None and "network" in live.last_error:
            state = FolderState.OFFLINE
        issues = len(live.issues if live is not None else stored.issues if stored else ())
        return SyncFolder(
            folder.folder_id,
            folder.local,
            folder.remote,
            state,
            pending=live.pending if live is not None else 0,
            synced=files or (stored.files if stored is not None else 0),
            issues=issues,
            held_deletes=live.held_deletes if live is not None else 0,
            last_error=(
                live.last_error if live is not None else stored.last_error if stored else ""
            ),
            excluded=folder.excluded,
            ignore_patterns=read_ignore_patterns(folder.local),
        )
