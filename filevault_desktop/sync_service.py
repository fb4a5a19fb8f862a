"""The sync part of the facade: sync folders, and running their engines (CLI or GUI)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from filevault_desktop.sync import SyncConfig, SyncEngine, SyncEvent, SyncIndex
from filevault_desktop.sync.errors import SyncRootMissing
from filevault_desktop.sync.models import PathRules, SyncReport, SyncState, SyncStatus
from filevault_desktop.sync_folders import SyncFolder, SyncFolders, probe_rules
from filevault_desktop.sync_remote import ApiRemote
from filevault_desktop.transfer import UploadEngine, UploadJournal
from filevault_desktop.transfer.download import DownloadEngine
from filevault_desktop.transfer.http import RequestsFetcher, RequestsPartSender

if TYPE_CHECKING:
    from filevault_desktop.service import FileVaultService

log = logging.getLogger(__name__)
_LAST_STATUS = "last_status"

FolderEvent = Callable[[SyncFolder, SyncEvent], None]


@dataclass(frozen=True)
class FolderState:
    """A sync folder as ``sync ls``/``status`` and the GUI show it (read from its index)."""

    folder: SyncFolder
    paused: bool
    files: int
    state: str  # the last status the engine reported ("never" before the first sync)
    issues: tuple[dict[str, str], ...]
    held_deletes: int
    last_error: str
    updated_at: str | None


@dataclass(frozen=True)
class FolderReport:
    folder: SyncFolder
    report: SyncReport | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.report is not None and self.report.ok


def _status_json(status: SyncStatus) -> str:
    return json.dumps(
        {
            "state": status.state.value,
            "issues": [
                {"kind": i.kind.value, "path": i.path, "detail": i.detail} for i in status.issues
            ],
            "held_deletes": status.held_deletes,
            "last_error": status.last_error,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )


class SyncService:
    def __init__(self, service: FileVaultService, *, device: str | None = None) -> None:
        self._service = service
        self.folders = SyncFolders(service.paths.state_dir / "sync" / service.profile_name)
        self.device = device or socket.gethostname() or "this device"
        self._running: dict[str, SyncEngine] = {}

    # ----- folders -----
    def add(self, local: Path, remote: str = "") -> SyncFolder:
        return self.folders.add(local, remote)

    def remove(self, key: str) -> SyncFolder:
        """Stops syncing a folder; its files stay where they are, locally and remotely."""
        return self.folders.remove(key)

    def exclude(self, key: str, remote_folders: tuple[str, ...]) -> SyncFolder:
        """Selective sync: these remote subfolders stay on the server only."""
        return self.folders.exclude(key, remote_folders)

    def states(self) -> list[FolderState]:
        out = []
        for folder in self.folders.all():
            with SyncIndex(self.folders.index_path(folder)) as index:
                raw = index.get_meta(_LAST_STATUS)
                last = json.loads(raw) if raw else {}
                out.append(
                    FolderState(
                        folder,
                        index.paused,
                        len(index.base()),
                        str(last.get("state", "never")),
                        tuple(last.get("issues", ())),
                        int(last.get("held_deletes", 0)),
                        str(last.get("last_error", "")),
                        last.get("at"),
                    )
                )
        return out

    def set_paused(self, key: str | None, paused: bool) -> list[SyncFolder]:
        """Pauses (or resumes) one folder, or all when ``key`` is None; survives restarts."""
        chosen = [self.folders.find(key)] if key else self.folders.all()
        for folder in chosen:
            with SyncIndex(self.folders.index_path(folder)) as index:
                index.paused = paused
                if paused:
                    index.set_meta(_LAST_STATUS, _status_json(SyncStatus(SyncState.PAUSED)))
        return chosen

    # ----- running -----
    def running(self) -> dict[str, SyncEngine]:
        """The engines of a ``run`` in progress, by folder id (empty when none runs)."""
        return dict(self._running)

    @contextmanager
    def engines(
        self, on_event: FolderEvent | None = None, *, workers: int = 4
    ) -> Iterator[list[tuple[SyncFolder, SyncEngine]]]:
        """One engine per folder, sharing the transfer engines; closed on exit."""
        api = self._service.api
        with ExitStack() as stack:
            journal = UploadJournal(self._service.paths.state_dir / "transfers.sqlite3")
            stack.callback(journal.close)
            sender = RequestsPartSender(pool_size=workers)
            uploads = stack.enter_context(
                self._service.track(UploadEngine(api, sender, journal, workers=workers))
            )
            downloads = stack.enter_context(
                self._service.track(
                    DownloadEngine(
                        api, RequestsFetcher(pool_size=workers), workers=workers, inline=api
                    )
                )
            )
            remote = ApiRemote(api, uploads, downloads)
            engines = []
            for folder in self.folders.all():
                index = SyncIndex(self.folders.index_path(folder))
                stack.callback(index.close)
                engines.append((folder, self._engine(folder, index, remote, on_event)))
            yield engines

    def _engine(
        self,
        folder: SyncFolder,
        index: SyncIndex,
        remote: ApiRemote,
        on_event: FolderEvent | None,
    ) -> SyncEngine:
        def relay(event: SyncEvent) -> None:
            if isinstance(event, SyncStatus):
                index.set_meta(_LAST_STATUS, _status_json(event))
            if on_event is not None:
                on_event(folder, event)

        config = SyncConfig(
            root=folder.local,
            remote_root=folder.remote,
            device=self.device,
            rules=probe_rules(folder.local) if folder.local.is_dir() else PathRules(),
            excluded_folders=folder.excluded,
        )
        return SyncEngine(config, remote, index, on_event=relay)

    def run_once(
        self,
        *,
        allow_mass_delete: bool = False,
        keep_held_deletes: bool = False,
        on_event: FolderEvent | None = None,
    ) -> list[FolderReport]:
        """Syncs every folder until quiet (``sync run --once``). Deletes the mass-delete guard
        holds are carried out with ``allow_mass_delete``, undone with ``keep_held_deletes``."""
        reports = []
        with self.engines(on_event) as engines:
            for folder, engine in engines:
                _answer_guard(engine, allow_mass_delete, keep_held_deletes)
                try:
                    if not folder.local.is_dir():
                        raise SyncRootMissing(str(folder.local))
                    reports.append(FolderReport(folder, engine.run_until_quiet()))
                except Exception as exc:
                    log.exception("sync of %s failed", folder.local)
                    message = getattr(exc, "message", None) or str(exc)
                    engine.index.set_meta(
                        _LAST_STATUS,
                        _status_json(SyncStatus(SyncState.ERROR, last_error=message)),
                    )
                    reports.append(FolderReport(folder, None, message))
        return reports

    def run(
        self,
        stop: threading.Event,
        on_event: FolderEvent | None = None,
        *,
        allow_mass_delete: bool = False,
        keep_held_deletes: bool = False,
    ) -> None:
        """Watches and syncs every folder until ``stop`` is set (``sync run``, the app)."""
        with self.engines(on_event) as engines:
            for _, engine in engines:
                _answer_guard(engine, allow_mass_delete, keep_held_deletes)
            self._running = {folder.folder_id: engine for folder, engine in engines}
            threads = [
                threading.Thread(
                    target=engine.run, args=(stop,), name=f"sync-{folder.folder_id}", daemon=True
                )
                for folder, engine in engines
            ]
            for t in threads:
                t.start()
            try:
                stop.wait()
            finally:
                self._running = {}
                for _, engine in engines:
                    engine.stop()
                for t in threads:
                    t.join(timeout=30)


def _answer_guard(engine: SyncEngine, allow: bool, keep: bool) -> None:
    if allow and keep:
        raise ValueError("held deletes are either carried out or undone, not both")
    if allow:
        engine.allow_mass_delete()
    elif keep:
        engine.keep_held_deletes()
