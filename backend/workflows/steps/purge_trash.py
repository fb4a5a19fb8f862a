"""Scheduled job `TrashPurge` (definitions.SCHEDULED_JOBS): `trash.purge_expired`.

Run daily by an EventBridge schedule in AWS, and by ``backend/local/schedules.py`` in the
local stack. The retention is the deployment's ``trashRetentionDays`` (the environment's
``FILEVAULT_TRASH_RETENTION_DAYS``, read into ``BackendConfig.trash_retention_days``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from backend.logic import trash
from backend.workflows import runtime

log = logging.getLogger("filevault.jobs")
# No new batch is started with less than this left of the invocation's time.
SAFETY_MARGIN_MS = 60_000


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    remaining = getattr(context, "get_remaining_time_in_millis", None)

    def should_stop() -> bool:
        return remaining is not None and int(remaining()) < SAFETY_MARGIN_MS

    run = trash.purge_expired(runtime.services(), should_stop=should_stop)
    log.info(
        "trash purge: %d files of %d users purged (%d bytes released), %d failed, "
        "%d abandoned uploads deleted%s",
        run.purged,
        run.users,
        run.released_bytes,
        run.failed,
        run.abandoned_uploads,
        "" if run.complete else "; stopped early, the next run goes on",
    )
    return dataclasses.asdict(run)
