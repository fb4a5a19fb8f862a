"""Analytics events from the metadata table's change stream: one per upload, download, share
access and delete, written as JSON lines under ``ANALYTICS_PREFIX`` (dated partitions)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from backend.data import keys
from backend.logic.context import Services
from backend.logic.processing_info import plain
from backend.workflows.definitions import ANALYTICS_PREFIX

_DESERIALIZER = TypeDeserializer()
ACTIONS = ("upload", "download", "share_access", "delete")


def _image(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    if not raw:
        return {}
    return {k: plain(_DESERIALIZER.deserialize(v)) for k, v in raw.items()}


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def events_of(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The analytics events one stream record stands for: none, one, or one per file of an
    activity item that records several (a batch download)."""
    name = record.get("eventName")
    data = record.get("dynamodb") or {}
    new, old = _image(data.get("NewImage")), _image(data.get("OldImage"))
    item = new or old
    pk, sk = str(item.get("pk", "")), str(item.get("sk", ""))
    if not pk.startswith("U#") or pk.endswith("#P"):
        return []
    user = pk[2:]
    base = {"event_id": str(record.get("eventID", "")), "user_id": user}
    if name == "INSERT" and sk.startswith("V#"):
        # A version with bytes of its own (a restored version points at an older blob).
        if new.get("blob_key") != keys.blob_key(user, new["file_id"], new["version_id"]):
            return []
        return [
            {
                **base,
                "action": "upload",
                "file_id": new["file_id"],
                "version_id": new["version_id"],
                "size": new.get("size"),
                "content_type": new.get("content_type"),
                "at": _iso(int(new["created_at"])),
            }
        ]
    if name == "INSERT" and sk.startswith("A#"):
        first = {
            **base,
            "action": new.get("action"),
            "file_id": new.get("file_id"),
            "size": new.get("size"),
            "at": _iso(int(new["at"])),
        }
        # The other files of the same action, each with its own file, size and event id.
        more = zip(new.get("more_file_ids") or [], new.get("more_sizes") or [], strict=True)
        return [first] + [
            {**first, "event_id": f"{base['event_id']}.{n}", "file_id": file_id, "size": size}
            for n, (file_id, size) in enumerate(more, start=1)
        ]
    if name == "INSERT" and sk.startswith("C#") and new.get("op") == "delete":
        return [
            {
                **base,
                "action": "delete",
                "file_id": new.get("file_id"),
                "version_id": new.get("version_id"),
                "size": new.get("size"),
                "at": _iso(int(new["at"])),
            }
        ]
    if name == "MODIFY" and sk.startswith("S#"):
        if int(new.get("downloads", 0)) <= int(old.get("downloads", 0)):
            return []
        return [
            {
                **base,
                "action": "share_access",
                "file_id": new.get("file_id"),
                "share_id": new.get("share_id"),
                "at": _iso(int(new.get("last_accessed_at") or 0)),
            }
        ]
    return []


def events_from_stream(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [event for record in records for event in events_of(record)]


def write_events(svc: Services, events: list[dict[str, Any]]) -> str | None:
    """One JSON-lines object per batch; its key is unique per batch (the first event id)."""
    if not events:
        return None
    bucket = svc.config.analytics_bucket
    if not bucket:
        raise RuntimeError("no analytics bucket configured")
    day = events[0]["at"][:10]
    key = f"{ANALYTICS_PREFIX}dt={day}/{events[0]['event_id']}.jsonl"
    body = "".join(json.dumps(e, separators=(",", ":"), sort_keys=True) + "\n" for e in events)
    svc.uploads.with_bucket(bucket).write(key, body.encode(), "application/x-ndjson")
    return key
