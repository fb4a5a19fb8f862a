"""Physical names that other stacks can rebuild without a cross-stack reference.

Object-level IAM resources (``<bucket ARN>/users/*``) are built from these, so each policy's
text is known at construction time and its cdk-nag acknowledgement can name it exactly.
"""

from __future__ import annotations

from aws_cdk import Aws

UPLOADS = "uploads"
PROCESSED = "processed"
ANALYTICS = "analytics"
WATERMARK_SOURCE = "wm-src"
FIS_CONFIG = "fis"  # where AWS FIS hands Lambda fault configurations to its extension


def bucket_name(prefix: str, purpose: str) -> str:
    """``<prefix>-<purpose>-<account>-<region>``: globally unique, at most 63 characters."""
    return f"{prefix.lower()}-{purpose}-{Aws.ACCOUNT_ID}-{Aws.REGION}"


def objects_arn(prefix: str, purpose: str, key_pattern: str) -> str:
    return f"arn:{Aws.PARTITION}:s3:::{bucket_name(prefix, purpose)}/{key_pattern}"


def access_point_name(prefix: str, purpose: str) -> str:
    return f"{prefix.lower()}-{purpose}"


def access_point_objects_arn(prefix: str, purpose: str, key_pattern: str) -> str:
    return (
        f"arn:{Aws.PARTITION}:s3:{Aws.REGION}:{Aws.ACCOUNT_ID}:accesspoint/"
        f"{access_point_name(prefix, purpose)}/object/{key_pattern}"
    )


def bucket_arn(prefix: str, purpose: str) -> str:
    return f"arn:{Aws.PARTITION}:s3:::{bucket_name(prefix, purpose)}"
