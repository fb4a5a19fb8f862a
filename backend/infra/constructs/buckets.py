"""S3 buckets that are secure by default."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from backend.infra.nag import acknowledge


class AccessLogBucket(s3.Bucket):
    """Target of S3 server access logs and CloudFront standard logs.

    Log delivery supports only SSE-S3 on the target bucket, and CloudFront's standard logs
    need ACLs (object writer ownership); everything else matches the data buckets.
    """

    def __init__(self, scope: Construct, id: str, *, expire_after_days: int) -> None:
        super().__init__(
            scope,
            id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(expire_after_days),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )
        acknowledge(
            self,
            "AwsSolutions-S1",
            "This is the access-log target itself; logging it into itself would loop.",
        )


class SecureBucket(s3.Bucket):
    """SSE-KMS with a bucket key, all four Block Public Access settings, TLS-only (1.2+),
    versioning and server access logging; lifecycle and CORS are the caller's."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        access_logs: s3.IBucket,
        bucket_name: str | None = None,
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
        cors: Sequence[s3.CorsRule] = (),
        transfer_acceleration: bool = False,
        event_bridge: bool = False,
    ) -> None:
        super().__init__(
            scope,
            id,
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"s3/{id}/",
            lifecycle_rules=list(lifecycle_rules),
            cors=list(cors) or None,
            transfer_acceleration=transfer_acceleration,
            removal_policy=RemovalPolicy.RETAIN,
        )
        if event_bridge:
            # Set on the L1 resource: the L2 flag deploys a custom-resource Lambda to do it.
            cfn = self.node.default_child
            assert isinstance(cfn, s3.CfnBucket)
            cfn.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                    event_bridge_enabled=True
                )
            )
