"""Notifications: the user-notification topic (KMS, TLS only)."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from backend.infra.constructs.topics import SecureTopic
from backend.infra.settings import Settings


class NotificationsStack(Stack):
    def __init__(
        self, scope: Construct, id: str, *, settings: Settings, key: kms.IKey, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.topic = SecureTopic(self, "UserNotifications", key=key, display_name="FileVault")
        CfnOutput(self, "NotificationTopicArn", value=self.topic.topic_arn)
