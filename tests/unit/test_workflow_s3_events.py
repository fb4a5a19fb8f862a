"""The local stack turns the object store's "object created" events into the EventBridge
events that start the upload workflow (backend/local/workflows.py), as S3 + EventBridge do."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.local.s3 import ObjectCreatedEvent
from backend.local.workflows import s3_event


def created(event_name: str, key: str = "users/u1/blobs/f1/v1") -> ObjectCreatedEvent:
    return ObjectCreatedEvent(
        bucket="fv-uploads",
        key=key,
        size=4096,
        etag="9b2cf535f27731c974343645a3985328",
        sequencer="0000018C2A3B4C5D",
        event_time=datetime(2026, 12, 7, 8, 1, 2, 345000, tzinfo=UTC),
        event_name=event_name,
    )


@pytest.mark.parametrize(
    ("event_name", "reason"),
    [
        ("ObjectCreated:Put", "PutObject"),
        ("ObjectCreated:Copy", "CopyObject"),
        ("ObjectCreated:CompleteMultipartUpload", "CompleteMultipartUpload"),
    ],
)
def test_the_event_names_the_api_object_and_time_of_the_write(event_name: str, reason: str) -> None:
    event = s3_event(created(event_name), "eu-west-1")
    assert event["detail-type"] == "Object Created"
    assert event["source"] == "aws.s3"
    assert event["region"] == "eu-west-1"
    assert event["time"] == "2026-12-07T08:01:02Z"
    assert event["resources"] == ["arn:aws:s3:::fv-uploads"]
    assert event["detail"]["bucket"] == {"name": "fv-uploads"}
    assert event["detail"]["object"] == {
        "key": "users/u1/blobs/f1/v1",
        "size": 4096,
        "etag": "9b2cf535f27731c974343645a3985328",
        "sequencer": "0000018C2A3B4C5D",
    }
    assert event["detail"]["reason"] == reason


def test_each_event_has_its_own_id() -> None:
    one, two = (s3_event(created("ObjectCreated:Put"), "us-east-1") for _ in range(2))
    assert one["id"] != two["id"]
    assert one["detail"]["request-id"] != two["detail"]["request-id"]
