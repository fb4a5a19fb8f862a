"""One source of truth for resource names and the metadata table's shape.

The CDK app and the embedded local stack both build their resources from these
definitions, and the Lambda handlers read the physical names from the
environment variables named here.
"""

from __future__ import annotations

from typing import Any, Final

ENV_TABLE: Final = "FILEVAULT_TABLE"
ENV_UPLOAD_BUCKET: Final = "FILEVAULT_UPLOAD_BUCKET"
ENV_PROCESSED_BUCKET: Final = "FILEVAULT_PROCESSED_BUCKET"
ENV_PUBLIC_BASE_URL: Final = "FILEVAULT_PUBLIC_BASE_URL"
ENV_EPOCH: Final = "FILEVAULT_EPOCH"
ENV_REGION: Final = "AWS_REGION"
ENV_DEFAULT_QUOTA: Final = "FILEVAULT_DEFAULT_QUOTA_BYTES"
ENV_AWS_ENDPOINT: Final = "FILEVAULT_AWS_ENDPOINT_URL"
ENV_MIN_PART_SIZE: Final = "FILEVAULT_MIN_PART_SIZE"
ENV_ANALYTICS_BUCKET: Final = "FILEVAULT_ANALYTICS_BUCKET"
ENV_NOTIFICATIONS_TOPIC_ARN: Final = "FILEVAULT_NOTIFICATIONS_TOPIC_ARN"
ENV_SHARE_LIFECYCLE_ARN: Final = "FILEVAULT_SHARE_LIFECYCLE_ARN"
ENV_WATERMARK_ACCESS_POINT: Final = "FILEVAULT_WATERMARK_ACCESS_POINT"
ENV_SHARE_REMINDER_LEAD_S: Final = "FILEVAULT_SHARE_REMINDER_LEAD_SECONDS"
# The Cognito user pool the admin API manages (set on the admin Lambda only).
ENV_USER_POOL_ID: Final = "FILEVAULT_USER_POOL_ID"
# "1" where the upload bucket has S3 Transfer Acceleration (set by the CDK app on the API
# Lambdas; the local stack never sets it).
ENV_S3_ACCELERATE: Final = "FILEVAULT_S3_ACCELERATE"
# Days a file stays in the trash before it is deleted for good (the scheduled purge and the
# upload bucket's lifecycle rule both use the deployment's ``trashRetentionDays``).
ENV_TRASH_RETENTION_DAYS: Final = "FILEVAULT_TRASH_RETENTION_DAYS"

# A client that wants pre-signed URLs on the S3 Transfer Acceleration endpoint sends this
# request header with the value "1" (the desktop does when its profile says ``accelerate``).
ACCELERATE_HEADER: Final = "x-filevault-accelerate"

# The object tag the API puts on every stored blob of a file in the server's trash (and takes
# off on restore); the upload bucket's lifecycle rule expires the objects that carry it.
TRASHED_TAG_KEY: Final = "filevault-state"
TRASHED_TAG_VALUE: Final = "trashed"

ADMINS_GROUP: Final = "admins"

# Every object the API writes lives under this prefix; only those start the upload workflow.
USER_OBJECTS_PREFIX: Final = "users/"

# Metadata table key schema (single-table design; see backend/data/keys.py).
PK: Final = "pk"
SK: Final = "sk"
GSI_SHARE_TOKEN: Final = "gsi1"  # noqa: S105 (an index name)
GSI1_PK: Final = "gsi1pk"
GSI1_SK: Final = "gsi1sk"
TTL_ATTRIBUTE: Final = "ttl"


def metadata_table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for the metadata table (used verbatim by the local stack)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": PK, "AttributeType": "S"},
            {"AttributeName": SK, "AttributeType": "S"},
            {"AttributeName": GSI1_PK, "AttributeType": "S"},
            {"AttributeName": GSI1_SK, "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI_SHARE_TOKEN,
                "KeySchema": [
                    {"AttributeName": GSI1_PK, "KeyType": "HASH"},
                    {"AttributeName": GSI1_SK, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
