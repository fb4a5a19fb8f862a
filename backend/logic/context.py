"""What every piece of business logic is given: the caller and injected services."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from backend.config import BackendConfig
from backend.data.blobs import BlobStore
from backend.data.directory import UserDirectory
from backend.data.events import Events
from backend.data.metadata import MetadataStore
from backend.errors import BadRequest


@dataclass(frozen=True)
class Caller:
    """The authenticated user. ``user_id`` is the verified JWT ``sub``, never request data."""

    user_id: str
    username: str
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Services:
    config: BackendConfig
    store: MetadataStore
    uploads: BlobStore
    clock: Callable[[], float] = field(default=time.time)
    # The processed bucket (previews) and the notifications topic / workflows; None where a
    # deployment or a test does not have them.
    processed: BlobStore | None = None
    events: Events | None = None
    # The user pool, for the admin API (backend/logic/admin.py); None where it is not served.
    directory: UserDirectory | None = None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def accelerated(self) -> Services:
        """These services with upload and download URLs signed for S3 Transfer Acceleration,
        for a client that asked for them; refused where the deployment does not offer it."""
        if not self.uploads.can_accelerate:
            raise BadRequest(
                "this FileVault deployment does not offer S3 Transfer Acceleration; "
                "turn 'accelerate' off in your profile",
                code="accelerate_unavailable",
            )
        return replace(self, uploads=self.uploads.accelerated())


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def new_version_id(now_ms: int) -> str:
    """Version ids sort by creation time, so a file's versions list in order."""
    return f"v{now_ms:013x}{secrets.token_hex(4)}"
