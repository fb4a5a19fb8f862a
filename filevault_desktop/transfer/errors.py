"""Transfer errors, in the project's one hierarchy (``filevault_desktop.errors``).

The engine decides what to retry from these classes alone, so adapters must map whatever their
SDK raises onto them: ``NetworkError`` for "the bytes may not have arrived, try again",
``PartUploadError`` for an HTTP answer from the storage endpoint, and the local-file errors below
for problems no retry can fix.
"""

from __future__ import annotations

from filevault_desktop.errors import ApiError, FileVaultError
from filevault_desktop.transfer.events import FailureReason


class TransferError(FileVaultError):
    """A transfer could not be carried out (the server was reachable and did not refuse it)."""


class FileChangedError(TransferError):
    """The local file changed (size, mtime or inode) while it was uploading: nothing was kept."""

    def __init__(self, path: str, detail: str = "") -> None:
        text = f"'{path}' changed while it was uploading; the upload was not completed"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.path = path


class UnreadableFileError(TransferError):
    """The local file cannot be opened or read (missing, permissions, I/O error, not a file)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot read '{path}': {reason}")
        self.path = path
        self.reason = reason


class SymlinkRefusedError(UnreadableFileError):
    """A symbolic link the caller did not allow us to follow (or pointing outside the root)."""


class TransferCancelled(TransferError):
    """The caller's cancel event was set; the journal keeps what was done unless aborted."""

    def __init__(self, path: str, *, aborted: bool, direction: str = "upload") -> None:
        how = "aborted" if aborted else "cancelled (a later run resumes it)"
        super().__init__(f"{direction} of '{path}' {how}")
        self.path = path
        self.aborted = aborted


class PartUploadError(ApiError):
    """The storage endpoint answered a part PUT with a non-2xx status.

    ``code`` is S3's error code when the body had one (``AccessDenied``, ``BadDigest``,
    ``NoSuchUpload``, ...), else ``http_<status>``. ``retry_after`` is the server's
    ``Retry-After`` in seconds, when it sent one.
    """

    def __init__(
        self, status: int, code: str, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(status, code, message)
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Worth retrying as is: throttling, timeouts and server-side failures."""
        return self.status in (408, 429) or self.status >= 500 or self.code == "RequestTimeout"

    @property
    def url_refused(self) -> bool:
        """The pre-signed URL was refused (typically expired): ask the API for a fresh one."""
        return self.status == 403

    @property
    def digest_mismatch(self) -> bool:
        """The body did not match the x-amz-checksum-sha256 we sent."""
        return self.code in ("BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest")

    @property
    def upload_gone(self) -> bool:
        """The multipart upload no longer exists on the storage side (aborted or expired)."""
        return self.code == "NoSuchUpload" or self.status == 404


def failure_reason(exc: FileVaultError) -> FailureReason:
    """How a failed transfer is reported to subscribers."""
    from filevault_desktop.errors import AuthError, ConflictError, NetworkError, QuotaError

    kinds: list[tuple[type[FileVaultError], FailureReason]] = [
        (TransferCancelled, FailureReason.CANCELLED),
        (FileChangedError, FailureReason.FILE_CHANGED),
        (UnreadableFileError, FailureReason.UNREADABLE),
        (QuotaError, FailureReason.QUOTA),
        (ConflictError, FailureReason.CONFLICT),
        (AuthError, FailureReason.AUTH),
        (NetworkError, FailureReason.NETWORK),
    ]
    for kind, reason in kinds:
        if isinstance(exc, kind):
            return reason
    if isinstance(exc, PartUploadError) and exc.transient:
        return FailureReason.NETWORK
    return FailureReason.REFUSED
