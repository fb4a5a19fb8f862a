"""S3 Object Lambda: serve a watermarked copy of a shared image (the original is untouched).

In AWS the Object Lambda access point invokes this; locally the share resolver's URL points
at the local S3 front, which runs this same handler with the same event shape.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Mapping
from typing import Any

import boto3

from backend.workflows import imaging

log = logging.getLogger("filevault.workflows.watermark")
DEFAULT_TEXT = "Shared with FileVault"
_client: list[Any] = []


def configure(s3_client: Any | None) -> None:
    """The S3 client to answer with (the local stack's; None: boto3's default)."""
    _client[:] = [s3_client] if s3_client is not None else []


def _s3() -> Any:
    if not _client:
        _client.append(boto3.client("s3"))
    return _client[0]


def handler(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    ctx = event["getObjectContext"]
    payload = (event.get("configuration") or {}).get("payload") or "{}"
    text = str(json.loads(payload).get("text") or DEFAULT_TEXT)
    with urllib.request.urlopen(ctx["inputS3Url"], timeout=60) as response:  # noqa: S310
        original = response.read()
    try:
        body, content_type = imaging.watermark(original, text)
    except imaging.CorruptFile as exc:
        log.warning("not an image, refusing to serve it unstamped: %s", exc)
        _s3().write_get_object_response(
            RequestRoute=ctx["outputRoute"],
            RequestToken=ctx["outputToken"],
            StatusCode=415,
            ErrorCode="UnsupportedMediaType",
            ErrorMessage="the shared file cannot be watermarked",
        )
        return {"status_code": 415}
    _s3().write_get_object_response(
        RequestRoute=ctx["outputRoute"],
        RequestToken=ctx["outputToken"],
        Body=body,
        ContentType=content_type,
    )
    return {"status_code": 200}
