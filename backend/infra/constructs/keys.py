"""The customer-managed KMS key of a deployment."""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class DataKey(kms.Key):
    """Symmetric CMK with yearly rotation; the services that must use it are named in its
    policy with the exact actions and a source-account condition."""

    def __init__(self, scope: Construct, id: str, *, alias: str) -> None:
        super().__init__(
            scope,
            id,
            alias=alias,
            description="FileVault data key: buckets, table, topics, Athena results",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        same_account = {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
        # CloudWatch alarms publish to the KMS-encrypted operations topic.
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToEncryptedTopics",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions=same_account,
            )
        )
        # CloudFront (origin access control) reads KMS-encrypted objects for share downloads.
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontOacDecrypt",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions=same_account,
            )
        )
        # EventBridge delivers S3 events to the KMS-encrypted notification topic.
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgePublishToEncryptedTopics",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions=same_account,
            )
        )
