"""Notifications: the inbox subscriber, the inbox API (cursor, ack, TTL), subscriptions (SNS),
and the share lifecycle step."""

from __future__ import annotations

import dataclasses
import json

import boto3
import pytest

from backend.data.events import Events
from backend.logic import notifications
from backend.logic.context import Services
from backend.workflows import runtime
from backend.workflows.steps import inbox
from tests.backend.conftest import REGION, Api, Clock, upload_file


@pytest.fixture
def svc(services: Services) -> Services:
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="notes")["TopicArn"]
    events = Events(sns, topic)
    return dataclasses.replace(services, events=events)


@pytest.fixture
def alice(svc: Services) -> Api:
    return Api(svc, "sub-alice", "alice")


@pytest.fixture
def bob(svc: Services) -> Api:
    return Api(svc, "sub-bob", "bob")


def _message(user: str, kind: str = "file_processed", at: int = 1_800_000_000_000) -> dict:
    return {"user_id": user, "kind": kind, "title": "t", "body": "b", "at": at, "file_id": "f_1"}


def _sns_event(*messages: tuple[str, dict]) -> dict:
    return {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"MessageId": mid, "Message": json.dumps(m)}}
            for mid, m in messages
        ]
    }


def test_inbox_handler_writes_once_per_message(svc: Services, alice: Api) -> None:
    runtime.install(svc)
    try:
        event = _sns_event(("m1", _message("sub-alice")), ("m2", _message("sub-alice")))
        assert inbox.handler(event, None) == {"written": 2}
        assert inbox.handler(event, None) == {"written": 0}  # a redelivery changes nothing
        bad = _sns_event(("m3", {"user_id": "sub-alice", "kind": "nonsense"}))
        assert inbox.handler(bad, None) == {"written": 0}
    finally:
        runtime.install(None)
    status, page, _ = alice.call("GET", "/notifications")
    assert status == 200 and len(page["items"]) == 2 and page["has_more"] is False


def test_inbox_cursor_ack_and_isolation(svc: Services, alice: Api, bob: Api, clock: Clock) -> None:
    now = int(clock.now * 1000)
    for i in range(3):
        notifications.deliver(svc, _message("sub-alice", at=now + i), f"m{i}")
    status, page, _ = alice.call("GET", "/notifications", query={"limit": "2"})
    assert [n["created_at"] for n in page["items"]] == sorted(
        n["created_at"] for n in page["items"]
    )
    assert len(page["items"]) == 2 and page["has_more"] is True
    status, rest, _ = alice.call("GET", "/notifications", query={"cursor": page["cursor"]})
    assert len(rest["items"]) == 1
    # Polling with the last cursor returns nothing new, and the same cursor.
    status, idle, _ = alice.call("GET", "/notifications", query={"cursor": rest["cursor"]})
    assert idle["items"] == [] and idle["cursor"] == rest["cursor"]
    notifications.deliver(svc, _message("sub-alice", at=now + 10), "m9")
    status, new, _ = alice.call("GET", "/notifications", query={"cursor": rest["cursor"]})
    assert len(new["items"]) == 1

    ids = [n["notification_id"] for n in page["items"]]
    status, out, _ = alice.call("POST", "/notifications/ack", {"notification_ids": ids})
    assert (status, out) == (200, {"acknowledged": 2})
    status, out, _ = alice.call("POST", "/notifications/ack", {"notification_ids": ids})
    assert out == {"acknowledged": 0}
    # Bob cannot see or acknowledge Alice's notifications.
    status, out, _ = bob.call("POST", "/notifications/ack", {"notification_ids": ids})
    assert out == {"acknowledged": 0}
    status, bobs, _ = bob.call("GET", "/notifications")
    assert bobs["items"] == []
    status, _, _ = alice.call("GET", "/notifications", query={"cursor": "bogus"})
    assert status == 400


def test_expired_notifications_are_hidden(svc: Services, alice: Api, clock: Clock) -> None:
    notifications.deliver(svc, _message("sub-alice", at=int(clock.now * 1000)), "old")
    _, page, _ = alice.call("GET", "/notifications")
    assert len(page["items"]) == 1
    clock.now += svc.config.notification_ttl_s + 1
    _, page, _ = alice.call("GET", "/notifications")
    assert page["items"] == []


def test_subscriptions_are_recorded_in_sns(svc: Services, alice: Api) -> None:
    status, sub, _ = alice.call(
        "POST", "/notifications/subscriptions", {"protocol": "sms", "endpoint": "+15555550100"}
    )
    assert status == 201
    sns = boto3.client("sns", region_name=REGION)
    assert svc.events is not None
    subs = sns.list_subscriptions_by_topic(TopicArn=svc.events.topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("sms", "+15555550100")]
    attrs = sns.get_subscription_attributes(SubscriptionArn=subs[0]["SubscriptionArn"])
    assert json.loads(attrs["Attributes"]["FilterPolicy"]) == {"user_id": ["sub-alice"]}
    status, again, _ = alice.call(
        "POST", "/notifications/subscriptions", {"protocol": "sms", "endpoint": "+15555550100"}
    )
    assert again["subscription_id"] == sub["subscription_id"]
    status, _, _ = alice.call(
        "POST", "/notifications/subscriptions", {"protocol": "email", "endpoint": "+15555550100"}
    )
    assert status == 400
    sid = sub["subscription_id"]
    route = "/notifications/subscriptions/{subscription_id}"
    params = {"subscription_id": sid}
    status, _, _ = alice.call(
        "DELETE", f"/notifications/subscriptions/{sid}", route=route, params=params
    )
    assert status == 204
    assert sns.list_subscriptions_by_topic(TopicArn=svc.events.topic_arn)["Subscriptions"] == []
    status, _, _ = alice.call(
        "DELETE", f"/notifications/subscriptions/{sid}", route=route, params=params
    )
    assert status == 404


def test_share_reminder_step(svc: Services, alice: Api, clock: Clock) -> None:
    done = upload_file(alice, "s.txt", b"x")
    _, share, _ = alice.call("POST", "/shares", {"file_id": done["file_id"]})
    job = {"user_id": "sub-alice", "share_id": share["share_id"], "remind_at": "x"}
    out = notifications.share_reminder(svc, job)
    assert out["notify"] is True and out["notification"]["kind"] == "share_expiring"
    assert out["notification"]["share_id"] == share["share_id"]
    sid = share["share_id"]
    alice.call("DELETE", f"/shares/{sid}", route="/shares/{share_id}", params={"share_id": sid})
    assert notifications.share_reminder(svc, job)["notify"] is False
