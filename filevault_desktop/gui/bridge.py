"""The one door between widgets and the service facade.

Every facade call runs on a worker thread; results and failures come back as typed Qt signals,
which Qt delivers on the UI thread (queued connections), so no worker ever touches a widget
and the UI thread never waits on the network or the disk. Transfer events are collected from
the workers and handed to the UI in batches a few times a second: a thousand small uploads
cost the UI thread a few dozen model updates, not thousands.

Whatever receives these signals is a QObject (or a callable its connection keeps): PySide runs a
queued call even when the receiving plain Python object has been freed since it was queued.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from filevault_desktop.api.models import Notification, RemoteFile
from filevault_desktop.errors import (
    ApiError,
    AuthError,
    ConfigError,
    ConflictError,
    FileVaultError,
    KeychainUnavailable,
    NetworkError,
    NotFoundError,
    QuotaError,
)
from filevault_desktop.gui.events import (
    AdminUserChanged,
    AdminUsers,
    Failure,
    FileShares,
    FileVersions,
    FolderListing,
    JobDone,
    JobEvent,
    JobQueued,
    Problem,
    RecentFile,
    RemoteChanged,
    ShareCreated,
    SignedInInfo,
    TrashChanged,
    TrashListing,
)
from filevault_desktop.gui.sync_port import SyncNotConfigured, SyncNotice, SyncPort
from filevault_desktop.priority import lower_this_thread
from filevault_desktop.remote import EntryKind, clean
from filevault_desktop.service import FileVaultService
from filevault_desktop.sizes import format_size
from filevault_desktop.transfer.events import Direction, TransferEvent, TransferFailed

log = logging.getLogger(__name__)
T = TypeVar("T")
ServiceFactory = Callable[[str | None], FileVaultService]

# Counting versions costs a request per file, so only the first files of a folder get a count.
VERSION_COUNT_LIMIT = 50
DRAIN_INTERVAL_MS = 100
# Worker threads hand the GIL back to the UI thread after at most this long (default 5 ms).
UI_SWITCH_INTERVAL_S = 0.001
# A trash action stops at the first of these: the files after it would fail the same way.
_NOT_ABOUT_THE_FILE = {Problem.NOT_SIGNED_IN, Problem.UNREACHABLE, Problem.NO_KEYCHAIN}


def classify(exc: BaseException) -> Problem:
    checks: list[tuple[type[BaseException], Problem]] = [
        (KeychainUnavailable, Problem.NO_KEYCHAIN),
        (SyncNotConfigured, Problem.SYNC_NOT_CONFIGURED),
        (ConfigError, Problem.NO_PROFILE),
        (AuthError, Problem.NOT_SIGNED_IN),
        (NetworkError, Problem.UNREACHABLE),
        (NotFoundError, Problem.NOT_FOUND),
        (ConflictError, Problem.CONFLICT),
        (QuotaError, Problem.QUOTA),
        (ApiError, Problem.REFUSED),
    ]
    for cls, problem in checks:
        if isinstance(exc, cls):
            return problem
    return Problem.BUG


def parent_folder(path: str) -> str:
    return clean(path).rpartition("/")[0]


@dataclass
class _Job:
    job_id: int
    direction: Direction
    source: str
    target: str
    cancel: threading.Event = field(default_factory=threading.Event)
    failed_paths: set[str] = field(default_factory=set)


class Bridge(QObject):
    # session
    signed_in = Signal(SignedInInfo)
    sign_in_failed = Signal(Failure)
    signed_out = Signal()
    account_changed = Signal(SignedInInfo)
    online_changed = Signal(bool)
    # any other call that failed
    failed = Signal(Failure)
    # remote files
    listing_ready = Signal(FolderListing)
    remote_changed = Signal(RemoteChanged)
    versions_ready = Signal(FileVersions)
    recent_ready = Signal(tuple)  # tuple[RecentFile, ...]
    server_notifications = Signal(tuple)  # tuple[Notification, ...], new and unread
    # sharing
    shares_ready = Signal(FileShares)
    share_created = Signal(ShareCreated)
    share_revoked = Signal(FileShares)
    # transfers
    job_queued = Signal(JobQueued)
    transfer_events = Signal(tuple)  # tuple[JobEvent, ...], in order
    job_done = Signal(JobDone)
    # sync
    sync_folders = Signal(tuple)  # tuple[SyncFolder, ...]
    sync_notice = Signal(object)  # SyncNotice
    # administration (the admin window; its failures do not go to ``failed``)
    admin_users_ready = Signal(AdminUsers)
    admin_user_changed = Signal(AdminUserChanged)
    admin_failed = Signal(Failure)
    # the trash (the trash view; actions report their failures in ``trash_changed``, and
    # ``trash_failed`` says the trash could not be listed)
    trash_ready = Signal(TrashListing)
    trash_changed = Signal(TrashChanged)
    trash_failed = Signal(Failure)

    def __init__(
        self,
        make_service: ServiceFactory,
        sync: SyncPort,
        parent: QObject | None = None,
        *,
        call_workers: int = 4,
        transfer_jobs: int = 2,
    ) -> None:
        super().__init__(parent)
        self._make_service = make_service
        self.sync = sync
        self._service: FileVaultService | None = None
        self._calls = ThreadPoolExecutor(call_workers, thread_name_prefix="filevault-gui-call")
        self._transfers = ThreadPoolExecutor(transfer_jobs, thread_name_prefix="filevault-gui-xfer")
        self._closing = threading.Event()
        self._online: bool | None = None
        self._job_ids = itertools.count(1)
        self._listing_seq = itertools.count(1)
        # Where the next inbox poll starts; one poll at a time, so nothing is shown twice.
        self._inbox_cursor: str | None = None
        self._inbox_polling = threading.Lock()
        self._jobs: dict[int, _Job] = {}
        self._jobs_lock = threading.Lock()
        # Filled by transfer workers (deque appends are atomic), drained on the UI thread.
        self._inbox: deque[JobEvent | JobDone] = deque()
        self._drain = QTimer(self)
        self._drain.setInterval(DRAIN_INTERVAL_MS)
        self._drain.timeout.connect(self.flush_transfer_events)
        self._unsubscribe = sync.subscribe(self._on_sync_notice)
        sys.setswitchinterval(min(sys.getswitchinterval(), UI_SWITCH_INTERVAL_S))

    # ----- plumbing --------------------------------------------------------------------------

    @property
    def service(self) -> FileVaultService | None:
        return self._service

    @property
    def signed_in_now(self) -> bool:
        return self._service is not None

    def _emit(self, signal: SignalInstance, *values: Any) -> None:
        if self._closing.is_set():
            return
        try:
            signal.emit(*values)
        except RuntimeError:  # the QObject went away while a worker was finishing
            log.debug("dropped a signal after shutdown")

    def _mark_online(self, online: bool) -> None:
        if self._online != online:
            self._online = online
            self._emit(self.online_changed, online)

    def _failure(self, operation: str, exc: BaseException, path: str = "") -> Failure:
        problem = classify(exc)
        if problem is Problem.UNREACHABLE:
            self._mark_online(False)
        message = exc.message if isinstance(exc, FileVaultError) else f"unexpected error: {exc}"
        if problem is Problem.BUG:
            log.exception("%s failed", operation, exc_info=exc)
        return Failure(operation, problem, message, path)

    def _run(
        self,
        operation: str,
        call: Callable[[], T],
        done: Callable[[T], None],
        *,
        path: str = "",
        failed: SignalInstance | None = None,
        pool: ThreadPoolExecutor | None = None,
    ) -> Future[None]:
        def task() -> None:
            try:
                result = call()
            except Exception as exc:  # noqa: BLE001 -- every failure becomes a Failure signal, none is lost
                self._emit(failed or self.failed, self._failure(operation, exc, path))
                return
            if not isinstance(call, _Offline):
                self._mark_online(True)
            try:
                done(result)
            except Exception:  # a bug in a handler must not vanish inside the thread pool
                log.exception("handling the result of %s failed", operation)

        if not self._closing.is_set():
            with contextlib.suppress(RuntimeError):  # the pool shut down meanwhile
                return (pool or self._calls).submit(task)
        future: Future[None] = Future()
        future.cancel()
        return future

    def _signed_in_service(self) -> FileVaultService:
        service = self._service
        if service is None:
            raise AuthError("not signed in")
        return service

    # ----- session ---------------------------------------------------------------------------

    def resume_session(self, profile: str | None = None) -> Future[None]:
        """Signs in silently with a stored session; ``sign_in_failed`` when there is none."""

        def call() -> SignedInInfo:
            service = self._make_service(profile)
            if service.session.tokens() is None:
                raise AuthError("sign in to continue")
            info = service.whoami()
            self._set_service(service)
            return SignedInInfo(info.profile, info.account)

        return self._run(
            "sign in", call, lambda i: self._emit(self.signed_in, i), failed=self.sign_in_failed
        )

    def _set_service(self, service: FileVaultService | None) -> None:
        self._service = service
        self._inbox_cursor = None

    def sign_in(self, profile: str, username: str, password: str) -> Future[None]:
        def call() -> SignedInInfo:
            service = self._make_service(profile)
            info = service.login(username, password)
            self._set_service(service)
            return SignedInInfo(info.profile, info.account)

        return self._run(
            "sign in", call, lambda i: self._emit(self.signed_in, i), failed=self.sign_in_failed
        )

    def sign_out(self) -> Future[None]:
        service = self._service
        self._set_service(None)
        self.cancel_all()

        def call() -> None:
            if service is not None:
                service.logout()

        return self._run("sign out", _Offline(call), lambda _: self._emit(self.signed_out))

    def refresh_account(self) -> Future[None]:
        """Also keeps the session's tokens fresh: the facade refreshes them before expiry."""

        def call() -> SignedInInfo:
            service = self._signed_in_service()
            info = service.whoami()
            return SignedInInfo(info.profile, info.account)

        return self._run("account", call, lambda i: self._emit(self.account_changed, i))

    def apply_bandwidth(self, upload_kbps: int, download_kbps: int) -> Future[None]:
        def call() -> None:
            service = self._service
            if service is not None:
                service.set_bandwidth_limits(
                    upload_kbps * 1000 or None, download_kbps * 1000 or None
                )

        return self._run("bandwidth limits", _Offline(call), lambda _: None)

    def poll_notifications(self) -> Future[None]:
        """Emits the server's unread notifications that arrived since the last poll, and marks
        them read (they have been shown). A poll still running makes this one a no-op."""

        def call() -> tuple[Notification, ...]:
            if not self._inbox_polling.acquire(blocking=False):
                return ()
            try:
                service = self._signed_in_service()
                found, cursor = service.notifications(self._inbox_cursor)
                if self._service is service:  # not signed out or in again meanwhile
                    self._inbox_cursor = cursor
                service.mark_notifications_read([n.notification_id for n in found])
                return tuple(found)
            finally:
                self._inbox_polling.release()

        def done(found: tuple[Notification, ...]) -> None:
            if found:
                self._emit(self.server_notifications, found)

        return self._run("notifications", call, done)

    # ----- remote files ----------------------------------------------------------------------

    def list_folder(self, folder: str) -> Future[None]:
        folder = clean(folder)
        seq = next(self._listing_seq)

        def call() -> FolderListing:
            service = self._signed_in_service()
            entries = tuple(service.listing(folder))
            shared: dict[str, int] = {}
            for share in service.shares():
                if share.state == "active":
                    shared[share.file_id] = shared.get(share.file_id, 0) + 1
            return FolderListing(folder, entries, shared, {}, seq)

        def done(listing: FolderListing) -> None:
            self._emit(self.listing_ready, listing)
            if not self._closing.is_set():
                with contextlib.suppress(RuntimeError):  # shut down in the meantime
                    self._calls.submit(self._count_versions, listing)

        return self._run("list folder", call, done, path=folder)

    def _count_versions(self, listing: FolderListing) -> None:
        service = self._service
        if service is None or self._closing.is_set():
            return
        counts: dict[str, int] = {}
        files = [e for e in listing.entries if e.kind is EntryKind.FILE and e.file is not None]
        try:
            for entry in files[:VERSION_COUNT_LIMIT]:
                assert entry.file is not None
                counts[entry.file.file_id] = len(service.versions(entry.path))
        except FileVaultError as exc:  # a column left blank is no reason to alarm the user
            log.info("version counts stopped: %s", exc.message)
        if counts:
            self._emit(
                self.listing_ready,
                FolderListing(listing.folder, listing.entries, listing.shared, counts, listing.seq),
            )

    def move(self, source: str, destination: str) -> Future[None]:
        def call() -> RemoteChanged:
            self._signed_in_service().move(source, destination)
            return RemoteChanged(parent_folder(destination), f"moved {source} to {destination}")

        def done(change: RemoteChanged) -> None:
            self._emit(self.remote_changed, RemoteChanged(parent_folder(source), change.what))
            if parent_folder(source) != change.folder:
                self._emit(self.remote_changed, change)

        return self._run("move", call, done, path=source)

    def remove(self, path: str) -> Future[None]:
        def call() -> RemoteChanged:
            self._signed_in_service().remove(path)
            return RemoteChanged(parent_folder(path), f"moved {path} to the trash")

        return self._run("delete", call, lambda c: self._emit(self.remote_changed, c), path=path)

    def load_versions(self, path: str) -> Future[None]:
        def call() -> FileVersions:
            return FileVersions(path, tuple(self._signed_in_service().versions(path)))

        return self._run("versions", call, lambda v: self._emit(self.versions_ready, v), path=path)

    def restore_version(self, path: str, version_id: str) -> Future[None]:
        def call() -> FileVersions:
            service = self._signed_in_service()
            service.restore_version(path, version_id)
            return FileVersions(path, tuple(service.versions(path)))

        def done(versions: FileVersions) -> None:
            self._emit(self.versions_ready, versions)
            self._emit(self.remote_changed, RemoteChanged(parent_folder(path), "restored"))

        return self._run("restore version", call, done, path=path)

    def load_recent(self, limit: int) -> Future[None]:
        def call() -> tuple[RecentFile, ...]:
            entries = self._signed_in_service().listing("", recursive=True)
            files = [e.file for e in entries if e.file is not None]
            files.sort(key=lambda f: f.modified_at, reverse=True)
            return tuple(RecentFile(f.path, f.name, f.modified_at) for f in files[:limit])

        return self._run("recent files", call, lambda r: self._emit(self.recent_ready, r))

    # ----- the trash -------------------------------------------------------------------------

    def load_trash(self) -> Future[None]:
        seq = next(self._listing_seq)

        def call() -> TrashListing | None:
            service = self._signed_in_service()
            files = sorted(service.trash(), key=lambda f: f.trashed_at or "", reverse=True)
            # Signed out, or in as someone else, meanwhile: no longer the trash to show.
            return TrashListing(tuple(files), seq) if self._service is service else None

        def done(listing: TrashListing | None) -> None:
            if listing is not None:
                self._emit(self.trash_ready, listing)

        return self._run("list the trash", call, done, failed=self.trash_failed)

    def restore_from_trash(
        self, files: Sequence[RemoteFile], to: str | None = None
    ) -> Future[None]:
        """Restores each file where it was (``to``: under that path, for one file). By file
        id: the file selected, even when other trashed files had its path."""

        def restore(service: FileVaultService, f: RemoteFile) -> tuple[str, int]:
            return service.restore_from_trash(f.file_id, to=to).path, 0

        return self._trash_action("restore", files, restore)

    def purge_from_trash(self, files: Sequence[RemoteFile]) -> Future[None]:
        def purge(service: FileVaultService, f: RemoteFile) -> tuple[str, int]:
            purged = service.purge_from_trash(f.file_id)
            return f.path, sum(p.released_bytes for p in purged)

        return self._trash_action("delete forever", files, purge)

    def empty_trash(self) -> Future[None]:
        def call() -> TrashChanged:
            service = self._signed_in_service()
            try:
                emptied = service.empty_trash()
            except Exception as exc:  # noqa: BLE001 -- reported in the change; the list reloads
                failure = self._trash_failure("empty the trash", exc, "")
                return TrashChanged("empty the trash", (), (failure,))
            done = tuple(p.path for p in emptied.purged)
            return TrashChanged("empty the trash", done, (), emptied.released_bytes)

        return self._run("empty the trash", call, self._trash_done, failed=self.trash_failed)

    def _trash_action(
        self,
        operation: str,
        files: Sequence[RemoteFile],
        act: Callable[[FileVaultService, RemoteFile], tuple[str, int]],
    ) -> Future[None]:
        """Runs ``act`` file by file (one failing does not stop the others), then reloads."""
        files = tuple(files)

        def call() -> TrashChanged:
            service = self._signed_in_service()
            done: list[str] = []
            failed: list[Failure] = []
            freed = 0
            for f in files:
                try:
                    path, released = act(service, f)
                except Exception as exc:  # noqa: BLE001 -- reported per file in the change
                    failed.append(self._trash_failure(operation, exc, f.path))
                    if failed[-1].problem in _NOT_ABOUT_THE_FILE:
                        break
                    continue
                done.append(path)
                freed += released
            return TrashChanged(operation, tuple(done), tuple(failed), freed)

        return self._run(operation, call, self._trash_done, failed=self.trash_failed)

    def _trash_done(self, change: TrashChanged) -> None:
        self._emit(self.trash_changed, change)
        if change.operation == "restore":
            for folder in dict.fromkeys(parent_folder(p) for p in change.done):
                self._emit(self.remote_changed, RemoteChanged(folder, "restored from the trash"))
        self.load_trash()

    def _trash_failure(self, operation: str, exc: BaseException, path: str) -> Failure:
        failure = self._failure(operation, exc, path)
        gone = failure.problem is Problem.NOT_FOUND or getattr(exc, "code", "") == "not_in_trash"
        if gone and path:
            return replace(failure, message="it is no longer in the trash (restored or deleted)")
        return failure

    # ----- sharing ---------------------------------------------------------------------------

    def _file_shares(self, path: str) -> FileShares:
        service = self._signed_in_service()
        file_id = service.find(path).file_id
        mine = tuple(s for s in service.shares() if s.file_id == file_id)
        return FileShares(path, file_id, mine)

    def load_shares(self, path: str) -> Future[None]:
        return self._run(
            "share links",
            lambda: self._file_shares(path),
            lambda s: self._emit(self.shares_ready, s),
            path=path,
        )

    def create_share(
        self,
        path: str,
        *,
        expires_in_seconds: int,
        password: str | None = None,
        max_downloads: int | None = None,
        purpose: str = "dialog",
    ) -> Future[None]:
        def call() -> ShareCreated:
            share = self._signed_in_service().share(
                path,
                expires_in_seconds=expires_in_seconds,
                password=password or None,
                max_downloads=max_downloads,
            )
            return ShareCreated(path, share, purpose)

        return self._run(
            "create share link", call, lambda s: self._emit(self.share_created, s), path=path
        )

    def revoke_share(self, path: str, share_id: str) -> Future[None]:
        def call() -> FileShares:
            self._signed_in_service().revoke_share(share_id)
            return self._file_shares(path)

        return self._run(
            "revoke share link", call, lambda s: self._emit(self.share_revoked, s), path=path
        )

    # ----- transfers -------------------------------------------------------------------------

    def upload(self, sources: list[Path], folder: str) -> list[int]:
        """One job per dropped item, each cancellable on its own; returns the job ids."""
        return [self._start_job(Direction.UPLOAD, str(src), clean(folder)) for src in sources]

    def download(self, remote: str, local_dir: Path) -> int:
        return self._start_job(Direction.DOWNLOAD, clean(remote), str(local_dir))

    def _start_job(self, direction: Direction, source: str, target: str) -> int:
        job = _Job(next(self._job_ids), direction, source, target)
        with self._jobs_lock:
            self._jobs[job.job_id] = job
        self.job_queued.emit(JobQueued(job.job_id, direction, source, target))
        if not self._drain.isActive():
            self._drain.start()
        self._transfers.submit(self._run_job, job)
        return job.job_id

    def _run_job(self, job: _Job) -> None:
        lower_this_thread()

        def on_event(event: TransferEvent) -> None:
            if isinstance(event, TransferFailed):
                job.failed_paths.add(event.local_path)
            self._inbox.append(JobEvent(job.job_id, event))

        done: list[str] = []
        failed: list[tuple[str, str]] = []
        try:
            service = self._signed_in_service()
            if job.cancel.is_set():
                raise _Cancelled
            if job.direction is Direction.UPLOAD:
                for up in service.upload(
                    [Path(job.source)], job.target, on_event=on_event, cancel=job.cancel
                ):
                    if up.file is not None:
                        done.append(up.remote)
                    elif up.local not in job.failed_paths:
                        failed.append((up.local, up.error or "failed"))
            else:
                for down in service.download(
                    job.source, Path(job.target), on_event=on_event, cancel=job.cancel
                ):
                    if down.error is None:
                        done.append(down.local)
                    elif down.local not in job.failed_paths:
                        failed.append((down.local, down.error))
            self._mark_online(True)
        except _Cancelled:
            pass
        except Exception as exc:  # noqa: BLE001 -- reported in the job's outcome, never lost
            failure = self._failure(f"{job.direction.value} {job.source}", exc, job.source)
            failed.append((job.source, failure.message))
        finally:
            with self._jobs_lock:
                self._jobs.pop(job.job_id, None)
        self._inbox.append(
            JobDone(
                job.job_id,
                job.direction,
                job.source,
                job.target,
                tuple(done),
                tuple(failed),
                job.cancel.is_set(),
            )
        )

    def cancel_job(self, job_id: int) -> None:
        with self._jobs_lock:
            job = self._jobs.get(job_id)
        if job is not None:
            job.cancel.set()

    def cancel_all(self) -> None:
        with self._jobs_lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel.set()

    def active_jobs(self) -> int:
        with self._jobs_lock:
            return len(self._jobs)

    def flush_transfer_events(self) -> None:
        """Hands queued transfer events to the UI (runs on the UI thread, from a timer)."""
        batch: list[JobEvent] = []
        while self._inbox:
            item = self._inbox.popleft()
            if isinstance(item, JobDone):
                # Events that came before a job's end are delivered before it.
                if batch:
                    self.transfer_events.emit(tuple(batch))
                    batch = []
                self.job_done.emit(item)
            else:
                batch.append(item)
        if batch:
            self.transfer_events.emit(tuple(batch))
        if not self._inbox and self.active_jobs() == 0:
            self._drain.stop()

    # ----- administration --------------------------------------------------------------------

    def load_admin_users(self) -> Future[None]:
        def call() -> AdminUsers:
            return AdminUsers(tuple(self._signed_in_service().admin_users()))

        return self._run(
            "list users",
            call,
            lambda u: self._emit(self.admin_users_ready, u),
            failed=self.admin_failed,
        )

    def set_user_quota(self, user_id: str, quota_bytes: int) -> Future[None]:
        def call() -> AdminUserChanged:
            user = self._signed_in_service().set_user_quota(user_id, quota_bytes)
            return AdminUserChanged(user, f"quota set to {format_size(user.quota_bytes)}")

        return self._run(
            "set quota",
            call,
            lambda c: self._emit(self.admin_user_changed, c),
            failed=self.admin_failed,
        )

    def set_user_enabled(self, user_id: str, enabled: bool) -> Future[None]:
        def call() -> AdminUserChanged:
            user = self._signed_in_service().set_user_enabled(user_id, enabled)
            return AdminUserChanged(user, "enabled" if enabled else "disabled and signed out")

        return self._run(
            "enable user" if enabled else "disable user",
            call,
            lambda c: self._emit(self.admin_user_changed, c),
            failed=self.admin_failed,
        )

    # ----- sync ------------------------------------------------------------------------------

    def _on_sync_notice(self, notice: SyncNotice) -> None:
        self._emit(self.sync_notice, notice)

    def refresh_sync(self) -> Future[None]:
        return self._run(
            "sync folders",
            _Offline(lambda: tuple(self.sync.folders())),
            lambda f: self._emit(self.sync_folders, f),
        )

    def sync_call(self, operation: str, call: Callable[[SyncPort], object]) -> Future[None]:
        """Runs ``call(port)`` off the UI thread, then reloads the folder list."""
        return self._run(
            operation,
            _Offline(lambda: call(self.sync)),
            lambda _: self._refresh_sync_soon(),
        )

    def _refresh_sync_soon(self) -> None:
        self.refresh_sync()

    # ----- shutdown --------------------------------------------------------------------------

    def shutdown(self, wait: bool = True) -> None:
        """Cancels transfers and stops the workers; no signal is emitted afterwards."""
        if self._closing.is_set():
            return
        self.cancel_all()
        self._closing.set()
        self._unsubscribe()
        self._drain.stop()
        self._calls.shutdown(wait=wait, cancel_futures=True)
        self._transfers.shutdown(wait=wait, cancel_futures=True)


class _Cancelled(Exception):
    pass


class _Offline:
    """Wraps a call that says nothing about whether the server answers (local work only)."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call

    def __call__(self) -> Any:
        return self._call()
