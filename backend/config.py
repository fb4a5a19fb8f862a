"""Backend configuration: from the environment in Lambda, built directly by the local stack."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from backend import naming

GiB = 1024**3
MiB = 1024**2
# Days a trashed file is kept: the one default for the CDK setting ``trashRetentionDays`` (the
# lifecycle rule and the purge job's environment), the purge job and the local stack.
DEFAULT_TRASH_RETENTION_DAYS = 30
# Content the upload workflow quarantines (detected from the bytes or declared by the client).
BLOCKED_TYPES = (
    "application/x-msdownload",
    "application/x-executable",
    "application/x-mach-binary",
    "text/x-shellscript",
)


@dataclass(frozen=True)
class BackendConfig:
    region: str
    table_name: str
    upload_bucket: str
    processed_bucket: str
    public_base_url: str
    epoch: str
    aws_endpoint_url: str | None = None
    default_quota_bytes: int = 10 * GiB
    # S3 requires parts of at least 5 MiB; the local stack may lower it for tests.
    min_part_size: int = 8 * MiB
    # Files up to this size go up in one pre-signed PUT.
    single_put_max: int = 16 * MiB
    parts_batch: int = 100
    upload_url_ttl_s: int = 3600
    download_url_ttl_s: int = 300
    upload_session_ttl_s: int = 7 * 24 * 3600
    # Workflows and notifications (backend/workflows/definitions.py names the resources).
    notifications_topic_arn: str | None = None
    analytics_bucket: str | None = None
    share_lifecycle_arn: str | None = None
    share_reminder_lead_s: int = 24 * 3600
    notification_ttl_s: int = 30 * 24 * 3600
    preview_url_ttl_s: int = 300
    blocked_types: tuple[str, ...] = BLOCKED_TYPES
    # Watermarked share links are served through this S3 Object Lambda access point (its ARN;
    # locally a bucket alias the local S3 front serves with the same handler).
    watermark_access_point: str | None = None
    # The upload bucket has S3 Transfer Acceleration: URLs may be signed for its endpoint.
    s3_accelerate: bool = False
    # The Cognito user pool the admin API manages (None: no admin API here).
    user_pool_id: str | None = None
    # Trashed files older than this are purged (records, quota and bytes) by the scheduled job.
    trash_retention_days: int = DEFAULT_TRASH_RETENTION_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BackendConfig:
        env = os.environ if env is None else env
        min_part = int(env.get(naming.ENV_MIN_PART_SIZE, str(8 * MiB)))
        return cls(
            region=env.get(naming.ENV_REGION, "us-east-1"),
            table_name=env[naming.ENV_TABLE],
            upload_bucket=env[naming.ENV_UPLOAD_BUCKET],
            processed_bucket=env[naming.ENV_PROCESSED_BUCKET],
            public_base_url=env[naming.ENV_PUBLIC_BASE_URL].rstrip("/"),
            epoch=env.get(naming.ENV_EPOCH, "aws"),
            aws_endpoint_url=env.get(naming.ENV_AWS_ENDPOINT) or None,
            default_quota_bytes=int(env.get(naming.ENV_DEFAULT_QUOTA, str(10 * GiB))),
            min_part_size=min_part,
            single_put_max=max(min_part, 16 * MiB),
            notifications_topic_arn=env.get(naming.ENV_NOTIFICATIONS_TOPIC_ARN) or None,
            analytics_bucket=env.get(naming.ENV_ANALYTICS_BUCKET) or None,
            share_lifecycle_arn=env.get(naming.ENV_SHARE_LIFECYCLE_ARN) or None,
            watermark_access_point=env.get(naming.ENV_WATERMARK_ACCESS_POINT) or None,
            share_reminder_lead_s=int(env.get(naming.ENV_SHARE_REMINDER_LEAD_S, str(24 * 3600))),
            s3_accelerate=env.get(naming.ENV_S3_ACCELERATE, "").strip().lower() in ("1", "true"),
            user_pool_id=env.get(naming.ENV_USER_POOL_ID) or None,
            trash_retention_days=int(
                env.get(naming.ENV_TRASH_RETENTION_DAYS, str(DEFAULT_TRASH_RETENTION_DAYS))
            ),
        )
