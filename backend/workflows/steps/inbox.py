"""The notifications topic's subscriber: each SNS message becomes an inbox entry."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from backend.logic import notifications
from backend.workflows.runtime import services

log = logging.getLogger("filevault.workflows.inbox")


def handler(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    svc = services()
    written = 0
    for record in event.get("Records", []):
        sns = record.get("Sns") or {}
        try:
            message = json.loads(sns.get("Message") or "")
        except json.JSONDecodeError:
            log.warning("dropping a non-JSON message %s", sns.get("MessageId"))
            continue
        if isinstance(message, dict) and notifications.deliver(
            svc, message, str(sns.get("MessageId", ""))
        ):
            written += 1
    return {"written": written}
