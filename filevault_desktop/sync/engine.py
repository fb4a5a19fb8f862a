"""One sync folder, end to end: remote mirror ← change feed, local scan, plan, execute.

Construct with a ``RemotePort`` (the lead's adapter over the API client, or
``sync.testing.FakeRemote``) and a ``SyncIndex`` (one SQLite file per folder)::

    engine = SyncEngine(SyncConfig(root=Path("~/FileVault"), remote_root="", device="laptop"),
                        remote, SyncIndex(state_dir / "sync-<id>.sqlite3"))
    report = engine.run_until_quiet()          # `filevault sync run --once`
    engine.run(stop_event)                     # foreground loop with watcher and polling

The core imports no HTTP library, AWS SDK or Qt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from filevault_desktop.errors import FileVaultError
from filevault_desktop.sync.errors import CursorReset
from filevault_desktop.sync.executor import Executor
from filevault_desktop.sync.ignore import IgnoreRules
from filevault_desktop.sync.index import SyncIndex
from filevault_desktop.sync.localfs import LocalFs, SelfWrites
from filevault_desktop.sync.models import (
    ActionResult,
    ChangeOp,
    Issue,
    IssueKind,
    Outcome,
    PathRules,
    Plan,
    RemoteEntry,
    RoundReport,
    SyncReport,
    SyncState,
    SyncStatus,
    Verdict,
)
from filevault_desktop.sync.planner import PlanOptions, plan
from filevault_desktop.sync.ports import LATEST_CURSOR, RemotePort, Send2Trash, Trash
from filevault_desktop.sync.remote_root import RemoteRoot
from filevault_desktop.sync.scanner import Scanner
from filevault_desktop.transfer.ports import Clock, SystemClock

SyncEvent = SyncStatus | ActionResult
_REMOVED = (ChangeOp.TRASHED, ChangeOp.DELETED)
_REPLAN = (Outcome.DEFERRED, Outcome.CONFLICT, Outcome.GONE)


@dataclass(frozen=True)
class SyncConfig:
    root: Path
    remote_root: str = ""
    device: str = "this device"
    rules: PathRules = field(default_factory=PathRules)
    excluded_folders: tuple[str, ...] = ()  # selective sync, relative to the remote root
    mass_delete_threshold: int = 100
    poll_interval: float = 2.0  # remote changes show up locally within ~this + a round
    debounce: float = 0.5


class SyncEngine:
    def __init__(
        self,
        config: SyncConfig,
        remote: RemotePort,
        index: SyncIndex,
        *,
        trash: Trash | None = None,
        clock: Clock | None = None,
        now: Callable[[], datetime] | None = None,
        on_event: Callable[[SyncEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.remote = remote
        self.index = index
        self.root = RemoteRoot(config.remote_root)
        self.clock = clock or SystemClock()
        self._now = now or (lambda: datetime.fromtimestamp(self.clock.time()))
        self._emit = on_event or (lambda event: None)
        self.self_writes = SelfWrites(self.clock)
        self.fs = LocalFs(config.root, trash or Send2Trash(), self.self_writes)
        self.executor = Executor(self.fs, remote, index, self.root, on_result=self._emit)
        self._scanner = Scanner(config.root, self._rules())
        self._allow_mass_delete = False
        self._keep_held = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._local_dirty = True
        self._status = SyncStatus(SyncState.PAUSED if index.paused else SyncState.IDLE)
        self._started = False

    # ---- control ------------------------------------------------------------------------------

    def pause(self) -> None:
        self.index.paused = True
        self._set(SyncStatus(SyncState.PAUSED))

    def resume(self) -> None:
        self.index.paused = False
        self._set(SyncStatus(SyncState.IDLE))
        self._wake.set()

    def allow_mass_delete(self) -> None:
        """The user confirmed the held deletes (GUI dialog, or ``--allow-mass-delete``)."""
        self._allow_mass_delete, self._keep_held = True, False
        self._wake.set()

    def keep_held_deletes(self) -> None:
        """The user declined the held deletes (GUI dialog, or ``--keep-deleted``): each file
        comes back on the side that lost it (downloaded, or uploaded, again); nothing is
        deleted anywhere."""
        self._allow_mass_delete, self._keep_held = False, True
        self._wake.set()

    def status(self) -> SyncStatus:
        return self._status

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def notify_local_change(self, paths: frozenset[str] = frozenset()) -> None:
        del paths  # a full (cheap) rescan follows; the paths only say "something changed"
        self._local_dirty = True
        self._wake.set()

    # ---- the remote mirror --------------------------------------------------------------------

    def refresh_remote(self) -> int:
        """Drains the change feed into the mirror; returns how many changes it applied.

        On a new epoch (or a cursor the server no longer knows) everything we believed about
        the server is dropped, base included, so the next plan is an initial sync: it uploads
        and downloads but deletes nothing.
        """
        cursor = self.index.get_meta("cursor")
        epoch = self.index.get_meta("epoch")
        applied = 0
        if cursor is None:
            cursor = self._full_listing(epoch)
            epoch = self.index.get_meta("epoch")
        # What the mirror knew of the files a page touches, read for those files only: an
        # idle poll (no changes) reads nothing, where loading the whole mirror cost O(files).
        mirror: dict[str, RemoteEntry | None] = {}
        while True:
            try:
                page = self.remote.changes(cursor)
            except CursorReset:
                self.index.reset_for_epoch()
                return applied + 1 + self.refresh_remote()
            if page.epoch != epoch:
                self.index.reset_for_epoch()
                return applied + 1 + self.refresh_remote()
            unread = {c.file_id for c in page.changes} - mirror.keys()
            if unread:
                mirror.update(dict.fromkeys(unread))
                mirror.update(self.index.remote_entries(unread))
            touched: dict[str, RemoteEntry | None] = {}
            for c in page.changes:
                inside = self.root.rel(c.path) is not None
                if c.op in _REMOVED or not inside:
                    touched[c.file_id] = mirror[c.file_id] = None
                    continue
                known = mirror.get(c.file_id)
                entry = RemoteEntry(
                    c.file_id,
                    c.path,
                    c.version_id or (known.version_id if known else ""),
                    c.size if c.size is not None else (known.size if known else 0),
                    c.sha256 if c.version_id or known is None else known.sha256,
                )
                touched[c.file_id] = mirror[c.file_id] = entry
            self.index.apply_remote(
                [e for e in touched.values() if e is not None],
                [k for k, e in touched.items() if e is None],
                cursor=page.cursor,
                epoch=page.epoch,
            )
            applied += len(page.changes)
            cursor = page.cursor
            if not page.has_more:
                return applied

    def _full_listing(self, old_epoch: str | None) -> str:
        head = self.remote.changes(LATEST_CURSOR)  # first: changes during the listing replay
        if old_epoch is not None and head.epoch != old_epoch:
            self.index.reset_for_epoch()
        entries = list(self.remote.list_files(self.root.root))
        self.index.apply_remote(entries, [], cursor=head.cursor, epoch=head.epoch, replace_all=True)
        return head.cursor

    # ---- rounds -------------------------------------------------------------------------------

    def _rules(self) -> IgnoreRules:
        return IgnoreRules.for_root(self.config.root, excluded_folders=self.config.excluded_folders)

    def sync_once(self) -> RoundReport:
        """One round: feed → mirror, scan, plan, execute. Does nothing while paused."""
        if self.index.paused:
            self._set(SyncStatus(SyncState.PAUSED))
            return RoundReport(Plan(()), ())
        if not self._started:
            self.fs.clean_temps()  # leftovers of a killed process
            self._started = True
        self._set(SyncStatus(SyncState.SCANNING))
        self.refresh_remote()
        rules = self._rules()
        self._scanner.rules = rules
        base, hashes = self.index.base_and_hashes()
        scan = self._scanner.scan(hashes)
        self._local_dirty = False
        remote = []
        for e in self.index.remote():
            rel = self.root.rel(e.path)
            if rel is not None:
                remote.append(replace(e, path=rel))
        options = PlanOptions(
            now=self._now(),
            device=self.config.device,
            rules=self.config.rules,
            mass_delete_threshold=self.config.mass_delete_threshold,
            allow_mass_delete=self._allow_mass_delete,
            is_ignored=rules.is_ignored,
        )
        the_plan = plan(scan.tree, remote, base, options)
        if self._keep_held:
            self._keep_held = False
            if the_plan.held:
                # Without a base entry, the file is new on the side that still has it.
                for held in the_plan.held:
                    self.index.forget_base(held.file_id)
                base = self.index.base()
                the_plan = plan(scan.tree, remote, base, options)
        the_plan = replace(the_plan, issues=scan.issues + the_plan.issues)
        self._set(SyncStatus(SyncState.SYNCING, pending=len(the_plan.actions)))
        results = self.executor.run(the_plan, self._stopping)
        if the_plan.verdict is Verdict.OK:
            self._allow_mass_delete = False
        state = SyncState.NEEDS_CONFIRMATION if the_plan.held_deletes else SyncState.IDLE
        issues = the_plan.issues + tuple(_issue(r) for r in results if _is_failure(r))
        self._set(SyncStatus(state, issues=issues, held_deletes=the_plan.held_deletes))
        return RoundReport(the_plan, results)

    def run_until_quiet(self, max_rounds: int = 12) -> SyncReport:
        """Rounds until a plan is empty (quiet) or a round makes no progress."""
        rounds = 0
        last: RoundReport | None = None
        while rounds < max_rounds:
            last = self.sync_once()
            rounds += 1
            if not last.plan.actions or self.index.paused:
                break
            # a deferred or refused action is worth another plan; plain failures are not
            replan = any(r.outcome in _REPLAN for r in last.results)
            if not last.progressed and not replan:
                break
        assert last is not None
        quiet = not last.plan.actions
        failures = tuple(
            r for r in last.results if r.outcome not in (Outcome.DONE, Outcome.SKIPPED)
        )
        return SyncReport(rounds, quiet, last.plan.issues, last.plan.held_deletes, failures)

    def run(self, stop: threading.Event | None = None) -> None:
        """Foreground loop: startup rescan, then rounds on local events or remote changes."""
        from filevault_desktop.sync.watcher import LocalWatcher  # watchdog only when watching

        if stop is not None:

            def relay(event: threading.Event) -> None:
                event.wait()
                self.stop()

            threading.Thread(target=relay, args=(stop,), daemon=True).start()
        watcher = LocalWatcher(
            self.config.root,
            self.notify_local_change,
            rules=self._rules(),
            self_writes=self.self_writes,
            delay=self.config.debounce,
        )
        watcher.start()
        try:
            self._guarded_round(force=True)
            while not self._stopping.is_set():
                self.clock.wait(self._wake, self.config.poll_interval)
                self._wake.clear()
                if not self._stopping.is_set():
                    self._guarded_round(force=False)
        finally:
            watcher.stop()

    def _guarded_round(self, *, force: bool) -> None:
        try:
            if self.index.paused:
                return
            if force or self._local_dirty or self.refresh_remote() or self._allow_mass_delete:
                self.run_until_quiet(max_rounds=5)
        except FileVaultError as exc:  # offline, root unmounted...: report and try again later
            self._set(SyncStatus(SyncState.ERROR, last_error=exc.message))

    def _set(self, status: SyncStatus) -> None:
        if status != self._status:
            self._status = status
            self._emit(status)


def _is_failure(r: ActionResult) -> bool:
    return r.outcome in (Outcome.FAILED, Outcome.RETRY)


def _issue(r: ActionResult) -> Issue:
    path = getattr(r.action, "local_path", None) or getattr(r.action, "src", "")
    return Issue(IssueKind.FAILED, str(path), r.detail)
