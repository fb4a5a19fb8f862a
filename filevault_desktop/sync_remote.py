"""The server as the sync engine sees it (``sync.ports.RemotePort``), over the HTTP API client
and the transfer engines. Translates API shapes and errors at this edge so the sync core
stays free of HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from filevault_desktop.api.client import ApiClient
from filevault_desktop.api.models import Change, RemoteFile
from filevault_desktop.errors import ApiError, FileVaultError
from filevault_desktop.sync.errors import CursorReset
from filevault_desktop.sync.models import ChangeOp, ChangePage, RemoteChange, RemoteEntry
from filevault_desktop.transfer.download import DownloadEngine
from filevault_desktop.transfer.small_downloads import SmallDownload
from filevault_desktop.transfer.small_files import SmallUpload
from filevault_desktop.transfer.upload import UploadEngine
from filevault_desktop.uploads import content_type_of

# The server's three kinds of change, in the sync core's words: an upsert of a file the mirror
# does not know is a creation, which the engine treats like an update.
_OPS = {"upsert": ChangeOp.UPDATED, "move": ChangeOp.MOVED, "delete": ChangeOp.TRASHED}


def entry_of(f: RemoteFile) -> RemoteEntry:
    # An entry stands for a live file: a trashed one's seq is its trashing, and moving the
    # cursor past that with this entry in the mirror would lose the deletion.
    seq = f.change_seq if f.state == "active" else None
    return RemoteEntry(f.file_id, f.path, f.version_id, f.size, f.sha256, f.modified_at, seq)


def change_of(c: Change) -> RemoteChange:
    return RemoteChange(
        c.seq, _OPS[c.op], c.file_id, c.path, c.old_path, c.version_id, c.size, c.sha256
    )


class ApiRemote:
    def __init__(self, api: ApiClient, uploads: UploadEngine, downloads: DownloadEngine) -> None:
        self._api = api
        self._uploads = uploads
        self._downloads = downloads

    def list_files(self, prefix: str) -> Iterator[RemoteEntry]:
        folder = f"{prefix.rstrip('/')}/" if prefix else ""
        for f in self._api.list_files(folder):
            yield entry_of(f)

    def changes(self, cursor: str | None) -> ChangePage:
        try:
            page = self._api.changes(cursor)
        except ApiError as exc:
            if exc.status == 410:
                raise CursorReset(exc.message) from exc
            raise
        return ChangePage(
            tuple(change_of(c) for c in page.changes if c.op in _OPS),
            page.cursor,
            page.has_more,
            page.epoch,
        )

    def upload(self, local: Path, remote_path: str, expected_version: str | None) -> RemoteEntry:
        done = self._uploads.upload_file(
            local,
            remote_path,
            content_type=content_type_of(local),
            expected_version=expected_version,
            root=local.parent,
        )
        return entry_of(done)

    def upload_many(
        self, items: list[tuple[Path, str, str | None]]
    ) -> list[RemoteEntry | FileVaultError]:
        """Many uploads at once: small files go in batches (see transfer.small_files)."""
        specs = [
            SmallUpload(local, remote_path, content_type_of(local), expected, root=local.parent)
            for local, remote_path, expected in items
        ]
        return [
            r if isinstance(r, FileVaultError) else entry_of(r)
            for r in self._uploads.upload_small_files(specs)
        ]

    def download(self, file_id: str, dest: Path) -> RemoteEntry:
        remote = self._api.get_file(file_id)
        self._downloads.download(remote, dest)
        return entry_of(remote)

    def download_many(
        self, items: list[tuple[str, str, int, Path]]
    ) -> list[RemoteEntry | FileVaultError | None]:
        """(file id, path, listed size, dest) each: small files come in batches (see
        transfer.small_downloads); None for each left to ``download``."""
        done = self._downloads.download_small_files(
            [SmallDownload(file_id, path, size, dest) for file_id, path, size, dest in items]
        )
        return [entry_of(d) if isinstance(d, RemoteFile) else d for d in done]

    def move(self, file_id: str, new_path: str, expected_version: str | None) -> RemoteEntry:
        return entry_of(self._api.move(file_id, new_path, expected_version=expected_version))

    def trash(self, file_id: str, expected_version: str | None) -> None:
        # The API's delete takes no version: the file stays recoverable from the server's trash.
        del expected_version
        self._api.trash(file_id)
