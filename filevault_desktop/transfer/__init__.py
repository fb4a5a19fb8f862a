"""The transfer engine: resumable, parallel, checksummed uploads through pre-signed URLs.

The core (everything importable from here) uses no HTTP library, AWS SDK or Qt; it talks to the
``ports`` protocols. The real part sender lives in ``filevault_desktop.transfer.http``::

    journal = UploadJournal(paths.state_dir / "transfers.sqlite3")
    sender = RequestsPartSender(pool_size=8)
    with UploadEngine(service.api, sender, journal, workers=8, on_event=print) as engine:
        engine.upload_file("photo.jpg", "Pictures/photo.jpg")
"""

from filevault_desktop.transfer.bandwidth import TokenBucket
from filevault_desktop.transfer.engine_base import RetryPolicy
from filevault_desktop.transfer.errors import (
    FileChangedError,
    PartUploadError,
    SymlinkRefusedError,
    TransferCancelled,
    TransferError,
    UnreadableFileError,
)
from filevault_desktop.transfer.events import (
    Direction,
    FailureReason,
    Subscriber,
    TransferEvent,
    TransferFailed,
    TransferFinished,
    TransferProgress,
    TransferStarted,
)
from filevault_desktop.transfer.journal import UPLOAD_SESSION_TTL_S, DonePart, UploadJournal
from filevault_desktop.transfer.ports import UNSET, Clock, PartSender, SystemClock, UploadApi
from filevault_desktop.transfer.upload import UploadEngine

__all__ = [
    "UNSET",
    "UPLOAD_SESSION_TTL_S",
    "Clock",
    "Direction",
    "DonePart",
    "FailureReason",
    "FileChangedError",
    "PartSender",
    "PartUploadError",
    "RetryPolicy",
    "Subscriber",
    "SymlinkRefusedError",
    "SystemClock",
    "TokenBucket",
    "TransferCancelled",
    "TransferError",
    "TransferEvent",
    "TransferFailed",
    "TransferFinished",
    "TransferProgress",
    "TransferStarted",
    "UnreadableFileError",
    "UploadApi",
    "UploadEngine",
    "UploadJournal",
]
