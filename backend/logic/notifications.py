"""Notifications: the per-user inbox (written by the SNS subscriber), email/SMS subscriptions,
and the share events (expiry reminder, first open) that produce notifications."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.data import keys
from backend.data.events import Events
from backend.data.records import NotificationRecord, ShareRecord, SubscriptionRecord
from backend.errors import BadRequest, NotFound
from backend.logic.context import Caller, Services, new_id
from backend.logic.files import decode_cursor, encode_cursor
from backend.logic.inputs import AckNotifications, CreateSubscription
from backend.logic.processing_info import notification

log = logging.getLogger("filevault.notifications")
KINDS = frozenset(
    {"file_processed", "file_quarantined", "processing_failed", "share_expiring", "share_opened"}
)
MAX_SUBSCRIPTIONS = 10


@dataclass(frozen=True)
class InboxPage:
    items: list[NotificationRecord]
    cursor: str | None
    has_more: bool


def notification_id(at_ms: int, message_id: str) -> str:
    """Sorts by time; derived from the SNS message id, so a redelivery writes the same item."""
    return f"n{at_ms:013x}{hashlib.sha256(message_id.encode()).hexdigest()[:8]}"


# ----- the subscriber -----
def deliver(svc: Services, message: Mapping[str, Any], message_id: str) -> bool:
    """Write one published notification into its user's inbox. False: a duplicate delivery
    (or a message that is not a notification)."""
    user = message.get("user_id")
    kind = message.get("kind")
    if not isinstance(user, str) or not user or kind not in KINDS:
        log.warning("dropping a message that is not a notification: %s", message_id)
        return False
    at = int(message.get("at") or svc.now_ms())
    record = NotificationRecord(
        notification_id=notification_id(at, message_id),
        kind=str(kind),
        title=str(message.get("title", ""))[:200],
        body=str(message.get("body", ""))[:1000],
        created_at=at,
        file_id=_opt(message.get("file_id")),
        share_id=_opt(message.get("share_id")),
    )
    ttl = (at // 1000) + svc.config.notification_ttl_s
    return svc.store.put_new(keys.notification(user, record.notification_id), record, ttl=ttl)


def _opt(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# ----- the API -----
def list_inbox(svc: Services, caller: Caller, cursor: str | None, limit: int) -> InboxPage:
    """Oldest first after ``cursor``; the returned cursor continues from the last item, so a
    client polls with it for what arrives next."""
    after = decode_cursor(cursor, "N#")
    records, next_after = svc.store.page(
        NotificationRecord, keys.user_pk(caller.user_id), "N#", after=after, limit=limit
    )
    now_s = svc.now_ms() // 1000
    # DynamoDB deletes expired items lazily; an expired one is not shown.
    live = [r for r in records if r.created_at // 1000 + svc.config.notification_ttl_s > now_s]
    last = f"N#{records[-1].notification_id}" if records else after
    return InboxPage(live, encode_cursor(last), next_after is not None)


def ack(svc: Services, caller: Caller, body: AckNotifications) -> int:
    """Mark notifications read; returns how many changed (unknown or read ones are skipped)."""
    now = svc.now_ms()
    changed = 0
    for nid in dict.fromkeys(body.notification_ids):
        if svc.store.update_counter(
            keys.notification(caller.user_id, nid),
            add={},
            set_values={"read_at": now},
            condition="attribute_not_exists(#read_at)",
        ):
            changed += 1
    return changed


def _events(svc: Services) -> Events:
    if svc.events is None:
        raise BadRequest("notifications are not configured here", code="not_configured")
    return svc.events


def subscribe(svc: Services, caller: Caller, body: CreateSubscription) -> SubscriptionRecord:
    is_email = "@" in body.endpoint
    if (body.protocol == "email") != is_email:
        raise BadRequest(
            f"a {body.protocol} subscription needs "
            + ("an email address" if body.protocol == "email" else "an E.164 phone number"),
            code="validation_error",
        )
    existing = list_subscriptions(svc, caller)
    for sub in existing:
        if sub.protocol == body.protocol and sub.endpoint == body.endpoint:
            return sub
    if len(existing) >= MAX_SUBSCRIPTIONS:
        raise BadRequest(
            f"at most {MAX_SUBSCRIPTIONS} subscriptions", code="too_many_subscriptions"
        )
    arn = _events(svc).subscribe(body.protocol, body.endpoint, caller.user_id)
    record = SubscriptionRecord(
        subscription_id=new_id("n"),
        protocol=body.protocol,
        endpoint=body.endpoint,
        subscription_arn=arn,
        created_at=svc.now_ms(),
    )
    svc.store.put_plain(keys.subscription(caller.user_id, record.subscription_id), record)
    return record


def list_subscriptions(svc: Services, caller: Caller) -> list[SubscriptionRecord]:
    return list(svc.store.iter_all(SubscriptionRecord, keys.user_pk(caller.user_id), "SUB#"))


def unsubscribe(svc: Services, caller: Caller, subscription_id: str) -> None:
    key = keys.subscription(caller.user_id, subscription_id)
    found = [s for s in list_subscriptions(svc, caller) if s.subscription_id == subscription_id]
    if not found:
        raise NotFound("no such subscription")
    _events(svc).unsubscribe(found[0].subscription_arn)
    svc.store.delete_plain(key)


# ----- shares -----
def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule_share_reminder(svc: Services, share: ShareRecord) -> bool:
    """Start the share's lifecycle workflow: a reminder ``share_reminder_lead_s`` before it
    expires. A share that expires sooner than that gets no reminder."""
    if svc.events is None:
        return False
    remind_at = share.expires_at - svc.config.share_reminder_lead_s * 1000
    if remind_at <= svc.now_ms():
        return False
    payload = {"user_id": share.owner_id, "share_id": share.share_id, "remind_at": iso(remind_at)}
    return svc.events.start_share_lifecycle(share.share_id, payload)


def share_reminder(svc: Services, job: dict[str, Any]) -> dict[str, Any]:
    """The lifecycle workflow's step after its wait: notify if the share is still live."""
    user, share_id = str(job["user_id"]), str(job["share_id"])
    share = svc.store.share(user, share_id)
    now = svc.now_ms()
    live = (
        share is not None
        and share.revoked_at is None
        and now < share.expires_at
        and (share.max_downloads is None or share.downloads < share.max_downloads)
    )
    if not live or share is None:
        return {**job, "notify": False}
    record = svc.store.file(user, share.file_id)
    name = record.path if record else "a shared file"
    minutes = max(1, (share.expires_at - now) // 60_000)
    when = f"{minutes // 60} hours" if minutes >= 120 else f"{minutes} minutes"
    return {
        **job,
        "notify": True,
        "notification": notification(
            "share_expiring",
            user,
            "A share link expires soon",
            f"Your link to {name} expires in about {when} ({iso(share.expires_at)}).",
            now,
            share_id=share_id,
            file_id=share.file_id,
        ),
    }


def share_opened(svc: Services, share: ShareRecord, path: str) -> None:
    """Publish the first-open notification (the caller made sure this is the first open)."""
    if svc.events is None:
        return
    try:
        svc.events.publish(
            notification(
                "share_opened",
                share.owner_id,
                "Your share link was opened",
                f"Someone opened your link to {path} for the first time.",
                svc.now_ms(),
                share_id=share.share_id,
                file_id=share.file_id,
            )
        )
    except Exception:  # a notification never fails the download itself
        log.exception("could not publish share_opened for %s", share.share_id)
