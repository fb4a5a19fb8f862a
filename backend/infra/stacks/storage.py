"""Storage: the data key and the upload, processed, analytics and access-log buckets."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from backend import naming
from backend.infra import names, outputs
from backend.infra.constructs.buckets import AccessLogBucket, SecureBucket
from backend.infra.constructs.keys import DataKey
from backend.infra.settings import Settings

# Blobs live under users/<sub>/ (backend/data/keys.py); shared/ holds what CloudFront serves.
USERS_PREFIX = naming.USER_OBJECTS_PREFIX
SHARED_PREFIX = "shared/"
ANALYTICS_EVENTS_PREFIX = "events/"
ATHENA_RESULTS_PREFIX = "athena-results/"


class StorageStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.key = DataKey(self, "DataKey", alias=f"alias/{settings.prefix.lower()}-data")
        self.access_logs = AccessLogBucket(
            self, "AccessLogs", expire_after_days=settings.access_log_days
        )
        abort_mpu = Duration.days(7)
        noncurrent = Duration.days(settings.noncurrent_version_days)
        tiering = [
            s3.Transition(
                storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                transition_after=Duration.days(0),
            )
        ]
        self.uploads = SecureBucket(
            self,
            "Uploads",
            bucket_name=names.bucket_name(settings.prefix, names.UPLOADS),
            key=self.key,
            access_logs=self.access_logs,
            transfer_acceleration=settings.transfer_acceleration,
            event_bridge=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart",
                    abort_incomplete_multipart_upload_after=abort_mpu,
                ),
                s3.LifecycleRule(
                    id="stored-files-intelligent-tiering",
                    prefix=USERS_PREFIX,
                    transitions=tiering,
                    noncurrent_version_expiration=noncurrent,
                ),
                # No rule expires trashed files' bytes: S3 counts a rule's days from the
                # object's creation, so a file older than the retention would lose its bytes
                # within a day of being trashed. The TrashPurge job deletes them, counting
                # from the trash time (ADR 005).
                s3.LifecycleRule(id="expire-delete-markers", expired_object_delete_marker=True),
            ],
            cors=[
                s3.CorsRule(
                    allowed_methods=[
                        s3.HttpMethods.PUT,
                        s3.HttpMethods.GET,
                        s3.HttpMethods.HEAD,
                    ],
                    allowed_origins=list(settings.cors_allowed_origins),
                    allowed_headers=["*"],
                    # Multipart completion needs each part's ETag; integrity checks the sums.
                    exposed_headers=[
                        "ETag",
                        "x-amz-version-id",
                        "x-amz-checksum-sha256",
                        "x-amz-checksum-crc32",
                    ],
                    max_age=3600,
                )
            ],
        )
        self.processed = SecureBucket(
            self,
            "Processed",
            bucket_name=names.bucket_name(settings.prefix, names.PROCESSED),
            key=self.key,
            access_logs=self.access_logs,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart",
                    abort_incomplete_multipart_upload_after=abort_mpu,
                ),
                s3.LifecycleRule(
                    id="intelligent-tiering",
                    transitions=tiering,
                    noncurrent_version_expiration=noncurrent,
                ),
            ],
        )
        # CloudFront (origin access control) may read shared/ only. The distribution lives in
        # a later stack, so the condition names this account's distributions, not its id.
        self.processed.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontOacReadShared",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[self.processed.arn_for_objects(f"{SHARED_PREFIX}*")],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudfront::{Aws.ACCOUNT_ID}"
                        ":distribution/*"
                    },
                },
            )
        )
        self.analytics = SecureBucket(
            self,
            "Analytics",
            bucket_name=names.bucket_name(settings.prefix, names.ANALYTICS),
            key=self.key,
            access_logs=self.access_logs,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart",
                    abort_incomplete_multipart_upload_after=abort_mpu,
                ),
                s3.LifecycleRule(
                    id="events-intelligent-tiering",
                    prefix=ANALYTICS_EVENTS_PREFIX,
                    transitions=tiering,
                    noncurrent_version_expiration=noncurrent,
                ),
                s3.LifecycleRule(
                    id="expire-athena-results",
                    prefix=ATHENA_RESULTS_PREFIX,
                    expiration=Duration.days(30),
                    noncurrent_version_expiration=Duration.days(1),
                ),
            ],
        )
        # Where AWS FIS hands Lambda fault configurations to its extension (constructs/fis.py).
        # SSE-S3: the FIS service and the extension need no key grants for a few small files.
        self.fis_configs = s3.Bucket(
            self,
            "FisConfigs",
            bucket_name=names.bucket_name(settings.prefix, names.FIS_CONFIG),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="s3/FisConfigs/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                # FIS deletes a fault file when its experiment ends; this sweeps leftovers.
                s3.LifecycleRule(
                    id="expire-fault-configs",
                    expiration=Duration.days(7),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(id="expire-delete-markers", expired_object_delete_marker=True),
            ],
        )
        CfnOutput(self, outputs.UPLOAD_BUCKET, value=self.uploads.bucket_name)
        CfnOutput(self, outputs.PROCESSED_BUCKET, value=self.processed.bucket_name)
        CfnOutput(self, outputs.ANALYTICS_BUCKET, value=self.analytics.bucket_name)
        CfnOutput(self, outputs.REGION, value=Aws.REGION)
