"""Publishing user notifications (SNS) and starting workflows (Step Functions)."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient

log = logging.getLogger("filevault.events")


def message_attributes(notification: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes subscription filter policies match on (the same in every publisher)."""
    return {
        "user_id": {"DataType": "String", "StringValue": str(notification["user_id"])},
        "kind": {"DataType": "String", "StringValue": str(notification["kind"])},
    }


class Events:
    def __init__(
        self,
        sns: SNSClient,
        topic_arn: str,
        sfn: SFNClient | None = None,
        share_lifecycle_arn: str | None = None,
    ) -> None:
        self._sns = sns
        self.topic_arn = topic_arn
        self._sfn = sfn
        self._share_lifecycle_arn = share_lifecycle_arn

    def publish(self, notification: Mapping[str, Any]) -> None:
        self._sns.publish(
            TopicArn=self.topic_arn,
            Message=json.dumps(dict(notification), separators=(",", ":")),
            MessageAttributes=message_attributes(notification),
        )

    def subscribe(self, protocol: str, endpoint: str, user_id: str) -> str:
        """Subscribe an email address or phone number to one user's notifications."""
        out = self._sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol=protocol,
            Endpoint=endpoint,
            Attributes={"FilterPolicy": json.dumps({"user_id": [user_id]})},
            ReturnSubscriptionArn=True,
        )
        return str(out["SubscriptionArn"])

    def unsubscribe(self, subscription_arn: str) -> None:
        with contextlib.suppress(self._sns.exceptions.NotFoundException):
            self._sns.unsubscribe(SubscriptionArn=subscription_arn)

    def start_share_lifecycle(self, name: str, payload: Mapping[str, Any]) -> bool:
        if self._sfn is None or self._share_lifecycle_arn is None:
            return False
        self._sfn.start_execution(
            stateMachineArn=self._share_lifecycle_arn, name=name, input=json.dumps(dict(payload))
        )
        return True
