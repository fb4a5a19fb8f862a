"""Typed transfer events. A subscriber is any callable taking one event.

The upload engine calls subscribers on the thread that called ``upload_file`` (never on a
worker thread), so a GUI bridge can forward events as Qt signals without extra locking.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class Direction(enum.Enum):
    UPLOAD = "upload"
    DOWNLOAD = "download"


class FailureReason(enum.Enum):
    CANCELLED = "cancelled"
    FILE_CHANGED = "file_changed"
    UNREADABLE = "unreadable"
    QUOTA = "quota"
    CONFLICT = "conflict"
    AUTH = "auth"
    NETWORK = "network"
    NO_SPACE = "no_space"  # the disk cannot hold a download
    REFUSED = "refused"  # the API or the storage endpoint refused it for another reason


@dataclass(frozen=True)
class TransferStarted:
    """Sent when an upload session is under way. Sent again, with the same ``transfer_id``,
    when the server had lost the session and the upload starts over from zero."""

    transfer_id: str
    direction: Direction
    local_path: str
    remote_path: str
    total: int
    # Bytes already on the server from an earlier, interrupted run of the same upload.
    resumed_bytes: int


@dataclass(frozen=True)
class TransferProgress:
    transfer_id: str
    local_path: str
    remote_path: str
    bytes_done: int
    total: int
    rate_bps: float  # bytes per second over the last few seconds
    eta_s: float | None  # None while the rate is unknown (start, stall)

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else self.bytes_done / self.total


@dataclass(frozen=True)
class TransferFinished:
    transfer_id: str
    direction: Direction
    local_path: str
    remote_path: str
    total: int
    file_id: str
    version_id: str
    elapsed_s: float


@dataclass(frozen=True)
class TransferFailed:
    transfer_id: str
    direction: Direction
    local_path: str
    remote_path: str
    reason: FailureReason
    message: str
    # True when the journal still holds the upload, so running it again resumes it.
    resumable: bool


TransferEvent = TransferStarted | TransferProgress | TransferFinished | TransferFailed
Subscriber = Callable[[TransferEvent], None]


def fan_out(*subscribers: Subscriber) -> Subscriber:
    """One subscriber that calls several, in order."""

    def publish(event: TransferEvent) -> None:
        for subscriber in subscribers:
            subscriber(event)

    return publish
