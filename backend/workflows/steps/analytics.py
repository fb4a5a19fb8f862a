"""The metadata table's stream consumer: actions become analytics events (JSON lines in S3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.logic import analytics
from backend.workflows.runtime import services


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    svc = services()
    events = analytics.events_from_stream(event.get("Records", []))
    key = analytics.write_events(svc, events)
    return {"events": len(events), "key": key}
