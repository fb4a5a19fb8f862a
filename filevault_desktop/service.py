"""The one facade the CLI and the GUI use. Returns plain dataclasses."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import requests

from filevault_desktop import profiles
from filevault_desktop.api.client import ApiClient, make_http
from filevault_desktop.api.models import (
    Account,
    AdminUser,
    Notification,
    PurgedFile,
    RemoteFile,
    Share,
    Version,
)
from filevault_desktop.auth.session import AuthSession
from filevault_desktop.auth.token_store import KeyringTokenStore, Tokens, TokenStore
from filevault_desktop.errors import NotFoundError
from filevault_desktop.paths import AppPaths
from filevault_desktop.persist import write_atomic
from filevault_desktop.profiles import Profile
from filevault_desktop.remote import EntryKind, RemoteEntry, children, clean, folder_prefix

if TYPE_CHECKING:  # the real modules load on first use: most commands need none of them
    from filevault_desktop.auth.cognito import Authenticator
    from filevault_desktop.downloads import DownloadOutcome, PlannedDownload
    from filevault_desktop.sync_service import SyncService
    from filevault_desktop.transfer import Subscriber
    from filevault_desktop.transfer.engine_base import EngineBase
    from filevault_desktop.uploads import UploadOutcome

KEYRING_SERVICE = "filevault"
# Listing a folder to download: the files of a short first page start while the rest (in
# pages as large as the API gives) are listed.
FOLDER_PAGE_SIZES = (100, 1000)
E = TypeVar("E", bound="EngineBase")


class _CognitoOnFirstUse:
    """The Cognito authenticator, built when first used: pycognito pulls in boto3 and
    cryptography (~0.4 s), and a command whose stored token is still fresh needs none of it."""

    def __init__(self, profile: Profile, clock: Callable[[], float]) -> None:
        self._profile, self._clock = profile, clock
        self._real: Authenticator | None = None

    def _auth(self) -> Authenticator:
        if self._real is None:
            from filevault_desktop.auth.cognito import CognitoAuthenticator

            self._real = CognitoAuthenticator(self._profile, clock=self._clock)
        return self._real

    def sign_in(self, username: str, password: str) -> Tokens:
        return self._auth().sign_in(username, password)

    def refresh(self, tokens: Tokens) -> Tokens:
        return self._auth().refresh(tokens)

    def sign_out(self, tokens: Tokens) -> None:
        self._auth().sign_out(tokens)


@dataclass(frozen=True)
class EmptiedTrash:
    """What emptying the trash deleted for good, and the storage it gave back."""

    purged: list[PurgedFile]
    released_bytes: int


_FILE_ID = re.compile(r"f_[0-9a-f]{24}")


@dataclass(frozen=True)
class SignedIn:
    profile: str
    account: Account


class FileVaultService:
    def __init__(
        self,
        paths: AppPaths,
        profile_name: str | None = None,
        *,
        token_store: Callable[[Profile], TokenStore] | None = None,
        authenticator: Callable[[Profile], Authenticator] | None = None,
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.paths = paths
        self.profile_name = profiles.check_name(profile_name or self._default_profile())
        self._token_store = token_store or (
            lambda p: KeyringTokenStore(KEYRING_SERVICE, f"{p.name}@{paths.identity()}")
        )
        self._authenticator = authenticator or (lambda p: _CognitoOnFirstUse(p, clock))
        self._http = http or make_http()
        self._clock = clock
        self._profile: Profile | None = None
        self._session: AuthSession | None = None
        self._api: ApiClient | None = None
        self._sync: SyncService | None = None
        # Bytes per second (None: unlimited) for uploads and downloads, sync included.
        self.upload_limit_bps: float | None = None
        self.download_limit_bps: float | None = None
        self._engines: list[EngineBase] = []

    def _default_profile(self) -> str:
        try:
            settings = json.loads(self.paths.settings_file.read_text("utf-8"))
            return str(settings.get("profile") or profiles.LOCAL)
        except (OSError, ValueError):
            return profiles.LOCAL

    @property
    def profile(self) -> Profile:
        if self._profile is None:
            self._profile = profiles.load(self.paths, self.profile_name)
        return self._profile

    @property
    def session(self) -> AuthSession:
        if self._session is None:
            self._session = AuthSession(
                self._authenticator(self.profile),
                self._token_store(self.profile),
                clock=self._clock,
            )
        return self._session

    def set_bandwidth_limits(self, upload_bps: float | None, download_bps: float | None) -> None:
        """Limits every transfer from now on, the ones running included."""
        self.upload_limit_bps, self.download_limit_bps = upload_bps, download_bps
        from filevault_desktop.transfer import UploadEngine

        for engine in list(self._engines):
            is_upload = isinstance(engine, UploadEngine)
            engine.set_bandwidth_limit(upload_bps if is_upload else download_bps)

    def track(self, engine: E) -> E:
        """Applies the current limit to ``engine`` and keeps it in step until it is closed."""
        from filevault_desktop.transfer import UploadEngine

        is_upload = isinstance(engine, UploadEngine)
        engine.set_bandwidth_limit(self.upload_limit_bps if is_upload else self.download_limit_bps)
        self._engines.append(engine)
        engine.on_close(lambda: self._engines.remove(engine))
        return engine

    @property
    def sync(self) -> SyncService:
        """Sync folders of this profile, and running them."""
        if self._sync is None:
            from filevault_desktop.sync_service import SyncService

            self._sync = SyncService(self)
        return self._sync

    @property
    def api(self) -> ApiClient:
        if self._api is None:
            self._api = ApiClient(
                self.profile.api_url,
                self.session.access_token,
                http=self._http,
                accelerate=self.profile.accelerate,
            )
        return self._api

    # ----- auth -----
    def login(self, username: str, password: str) -> SignedIn:
        self.session.sign_in(username, password)
        write_atomic(self.paths.settings_file, json.dumps({"profile": self.profile_name}).encode())
        return SignedIn(self.profile_name, self.api.me())

    def logout(self) -> None:
        self.session.sign_out()

    def whoami(self) -> SignedIn:
        return SignedIn(self.profile_name, self.api.me())

    def access_token(self) -> str:
        return self.session.access_token()

    # ----- remote files -----
    def find(self, path: str) -> RemoteFile:
        """The active file at ``path``."""
        wanted = clean(path)
        for f in self.api.list_files(wanted, page_size=1):
            if f.path == wanted:  # the exact path sorts before anything it prefixes
                return f
            break
        raise NotFoundError(404, "not_found", f"no file at '{wanted}'")

    def listing(self, folder: str = "", *, recursive: bool = False) -> list[RemoteEntry]:
        prefix = folder_prefix(folder)
        files = self.api.list_files(prefix)
        if recursive:
            return [RemoteEntry(EntryKind.FILE, f.path, f.name, f) for f in files]
        return children(prefix, files)

    def remove(self, path: str) -> RemoteFile:
        """Move a file to the server's trash (recoverable with ``restore``)."""
        return self.api.trash(self.find(path).file_id)

    def move(self, source: str, destination: str) -> RemoteFile:
        return self.api.move(self.find(source).file_id, clean(destination))

    def versions(self, path: str) -> list[Version]:
        return self.api.list_versions(self.find(path).file_id)

    def restore_version(self, path: str, version_id: str) -> RemoteFile:
        return self.api.restore_version(self.find(path).file_id, version_id)

    def trash(self) -> list[RemoteFile]:
        return list(self.api.list_trash())

    def restore_from_trash(self, path: str, *, to: str | None = None) -> RemoteFile:
        wanted = clean(path)
        matches = [f for f in self.api.list_trash() if f.path == wanted or f.file_id == path]
        if not matches:
            raise NotFoundError(404, "not_found", f"nothing named '{wanted}' in the trash")
        newest = max(matches, key=lambda f: f.trashed_at or "")
        return self.api.restore_from_trash(newest.file_id, clean(to) if to else None)

    def purge_from_trash(self, *paths_or_ids: str) -> list[PurgedFile]:
        """Delete trashed files for good. Each argument is a file id, or the path a trashed
        file had (every trashed file that had it). Nothing is deleted unless every argument
        names something in the trash (NotFoundError); a file id of a live file gets the
        server's ConflictError (``not_in_trash``)."""
        trashed = list(self.api.list_trash()) if paths_or_ids else []
        ids: list[str] = []
        for target in paths_or_ids:
            wanted = clean(target)
            matches = [f.file_id for f in trashed if f.path == wanted or f.file_id == target]
            if not matches and _FILE_ID.fullmatch(target):
                matches = [target]  # not in the trash: the server says why (live or unknown)
            if not matches:
                raise NotFoundError(404, "not_found", f"nothing named '{wanted}' in the trash")
            ids += [m for m in matches if m not in ids]
        return [self.api.purge_from_trash(file_id) for file_id in ids]

    def empty_trash(self) -> EmptiedTrash:
        """Delete everything in the trash for good (what was trashed before the call: files
        trashed meanwhile, by sync for one, are kept)."""
        purged: list[PurgedFile] = []
        released = 0
        for page in self.api.empty_trash():
            purged += page.purged
            released += page.released_bytes
        return EmptiedTrash(purged, released)

    def share(
        self,
        path: str,
        *,
        expires_in_seconds: int,
        password: str | None = None,
        max_downloads: int | None = None,
    ) -> Share:
        return self.api.create_share(
            self.find(path).file_id,
            expires_in_seconds=expires_in_seconds,
            password=password,
            max_downloads=max_downloads,
        )

    def shares(self) -> list[Share]:
        return self.api.list_shares()

    def revoke_share(self, share_id: str) -> Share:
        return self.api.revoke_share(share_id)

    # ----- administration (members of the admins group; others get ApiError 403) -----
    def admin_users(self) -> list[AdminUser]:
        """Every user of the pool with their groups, status, quota and usage."""
        return list(self.api.admin_users())

    def admin_user(self, username_or_id: str) -> AdminUser:
        """The user with this id (``sub``) or username (usernames ignore case, as sign-in)."""
        users = self.admin_users()
        for user in users:
            if username_or_id in (user.user_id, user.username):
                return user
        folded = [u for u in users if u.username.casefold() == username_or_id.casefold()]
        if len(folded) == 1:
            return folded[0]
        raise NotFoundError(404, "not_found", f"no user '{username_or_id}'")

    def set_user_quota(self, user_id: str, quota_bytes: int) -> AdminUser:
        return self.api.set_user_quota(user_id, quota_bytes)

    def set_user_enabled(self, user_id: str, enabled: bool) -> AdminUser:
        """Disabling also signs the user out everywhere; an admin cannot disable themselves."""
        return self.api.set_user_enabled(user_id, enabled)

    # ----- notifications -----
    def notifications(
        self, cursor: str | None = None, *, unread_only: bool = True
    ) -> tuple[list[Notification], str | None]:
        """Inbox items after ``cursor`` (all pages), and the cursor to poll with next."""
        found: list[Notification] = []
        while True:
            page = self.api.notifications(cursor)
            found.extend(n for n in page.items if not (unread_only and n.read))
            cursor = page.cursor or cursor
            if not page.has_more:
                return found, cursor

    def mark_notifications_read(self, notification_ids: list[str]) -> int:
        return self.api.ack_notifications(notification_ids) if notification_ids else 0

    # ----- transfers -----
    def upload(
        self,
        sources: list[Path],
        to: str = "",
        *,
        on_event: Subscriber | None = None,
        cancel: threading.Event | None = None,
        workers: int = 8,
    ) -> list[UploadOutcome]:
        """Upload files and folders (recursively) under the remote folder ``to``."""
        from filevault_desktop.transfer import UploadEngine, UploadJournal
        from filevault_desktop.transfer.http import RequestsPartSender
        from filevault_desktop.uploads import plan, upload_all

        planned = list(plan(sources, to))
        journal = UploadJournal(self.paths.state_dir / "transfers.sqlite3")
        sender = RequestsPartSender(pool_size=workers)
        try:
            with self.track(
                UploadEngine(self.api, sender, journal, workers=workers, on_event=on_event)
            ) as engine:
                return upload_all(engine, planned, cancel)
        finally:
            journal.close()

    def download(
        self,
        remote: str,
        local: Path | None = None,
        *,
        on_event: Subscriber | None = None,
        cancel: threading.Event | None = None,
        workers: int = 8,
    ) -> list[DownloadOutcome]:
        """Download a remote file or folder (recursively) into ``local``.

        A file goes to ``local`` (or into it, when it is a folder); a folder lands as
        ``local/<folder>/...``. Interrupted downloads resume when run again.
        """
        from filevault_desktop.downloads import download_pages, plan_file, plan_folder
        from filevault_desktop.transfer.download import DownloadEngine
        from filevault_desktop.transfer.http import RequestsFetcher

        target = (local or Path.cwd()).expanduser()
        try:
            pages: Iterable[list[PlannedDownload]] = [[plan_file(self.find(remote), target)]]
            folder = None
        except NotFoundError as missing:
            folder = missing
            prefix = folder_prefix(remote)
            listing = self.api.list_file_pages(prefix, page_sizes=FOLDER_PAGE_SIZES)
            pages = (plan_folder(prefix, page, target) for page in listing)
        with self.track(
            DownloadEngine(
                self.api,
                RequestsFetcher(pool_size=workers),
                workers=workers,
                on_event=on_event,
                inline=self.api,
            )
        ) as engine:
            outcomes = download_pages(
                engine,
                pages,
                files_at_once=workers,
                cancel=cancel,
                batch_urls=self.api.download_urls,
            )
        if folder is not None and not outcomes:
            raise folder  # neither a file nor a folder with files in it
        return outcomes
