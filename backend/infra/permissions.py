"""What each Lambda may do, as exact actions on named targets (the stacks map targets to ARNs).

API groups: derived from the calls the group's logic makes (``backend/logic``, ``backend/data``).
Workflow and event Lambdas: from the grants ``backend/workflows/definitions.py`` declares.
A route group missing here fails the infra tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from backend import naming
from backend.workflows.definitions import Grant, Resource


class Target(StrEnum):
    TABLE = "table"
    SHARE_INDEX = "share_index"  # the share-token GSI only
    UPLOAD_OBJECTS = "upload_objects"  # users/* in the upload bucket
    PROCESSED_OBJECTS = "processed_objects"  # users/* in the processed bucket
    ANALYTICS_OBJECTS = "analytics_objects"  # the analytics event prefix
    TOPIC = "topic"  # the user-notifications topic
    SHARE_LIFECYCLE = "share_lifecycle"  # the share lifecycle state machine
    WATERMARK = "watermark"  # the watermarking Object Lambda access point (+ its function)
    WATERMARK_RESPONSE = "watermark_response"  # the Object Lambda answering its requests
    USER_POOL = "user_pool"  # the Cognito user pool (the admin API)
    # The buckets themselves, for listing the versions of users/* keys (TARGET_CONDITIONS).
    UPLOAD_VERSIONS = "upload_versions"
    PROCESSED_VERSIONS = "processed_versions"


TABLE_READ: Final = ("dynamodb:GetItem", "dynamodb:Query")
# Transactions need the action of every item they touch (Put, Update, Delete, ConditionCheck).
TABLE_WRITE: Final = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)

# The batch routes read and write up to 100 records a call (MetadataStore.get_many and
# put_many_plain): BatchGetItem/BatchWriteItem are actions of their own.
TABLE_BATCH: Final = ("dynamodb:BatchGetItem", "dynamodb:BatchWriteItem")

Access = Mapping[Target, tuple[str, ...]]

# Deleting a trashed file for good (backend/logic/trash.py) deletes every S3 version under its
# prefixes: listing versions is a bucket action, deleting a version an object action.
PURGE_OBJECT_ACTIONS: Final = ("s3:DeleteObject", "s3:DeleteObjectVersion")
PURGE_LIST_ACTIONS: Final = ("s3:ListBucketVersions",)
# Bucket-level targets are granted only for the keys the handlers use.
TARGET_CONDITIONS: Final[Mapping[Target, Mapping[str, Mapping[str, list[str]]]]] = {
    Target.UPLOAD_VERSIONS: {"StringLike": {"s3:prefix": [f"{naming.USER_OBJECTS_PREFIX}*"]}},
    Target.PROCESSED_VERSIONS: {"StringLike": {"s3:prefix": [f"{naming.USER_OBJECTS_PREFIX}*"]}},
}
# Exactly the Cognito calls the admin API makes, on the one user pool.
ADMIN_USER_POOL_ACTIONS: Final = (
    "cognito-idp:ListUsers",
    "cognito-idp:ListGroups",
    "cognito-idp:ListUsersInGroup",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminUserGlobalSignOut",
)

ACCESS: Final[Mapping[str, Access]] = {
    "uploads": {
        Target.TABLE: TABLE_READ + TABLE_WRITE + TABLE_BATCH,
        Target.UPLOAD_OBJECTS: (
            # PutObject covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload.
            "s3:PutObject",
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        ),
    },
    "files": {
        Target.TABLE: TABLE_READ + TABLE_WRITE + TABLE_BATCH,
        # Trash tags a file's blobs for the expiry lifecycle rule; restore removes the tag;
        # delete forever (DELETE /trash/{id}, POST /trash/empty) deletes every S3 version.
        Target.UPLOAD_OBJECTS: (
            "s3:GetObject",
            "s3:PutObjectTagging",
            "s3:DeleteObjectTagging",
            *PURGE_OBJECT_ACTIONS,
        ),
        Target.UPLOAD_VERSIONS: PURGE_LIST_ACTIONS,
        # Previews and thumbnails: read, and deleted with their file.
        Target.PROCESSED_OBJECTS: ("s3:GetObject", *PURGE_OBJECT_ACTIONS),
        Target.PROCESSED_VERSIONS: PURGE_LIST_ACTIONS,
    },
    "shares": {
        Target.TABLE: TABLE_READ + TABLE_WRITE,
        Target.SHARE_LIFECYCLE: ("states:StartExecution",),  # the expiry reminder
    },
    # The unauthenticated share resolver: find by token, count the download, sign one GET.
    "public": {
        Target.TABLE: ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        Target.SHARE_INDEX: ("dynamodb:Query",),
        Target.UPLOAD_OBJECTS: ("s3:GetObject",),
        Target.TOPIC: ("sns:Publish",),  # "your link was opened"
        Target.WATERMARK: ("s3-object-lambda:GetObject",),
    },
    "account": {Target.TABLE: ("dynamodb:GetItem", "dynamodb:PutItem")},
    "notifications": {
        Target.TABLE: TABLE_READ + TABLE_WRITE,
        Target.TOPIC: ("sns:Subscribe", "sns:Unsubscribe"),
    },
    # backend/logic/admin.py through backend/data/directory.py: list users (with their groups)
    # and find one by sub, disable/enable and sign out; profiles: read many, create, set quota.
    "admin": {
        Target.TABLE: (
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ),
        Target.USER_POOL: ADMIN_USER_POOL_ACTIONS,
    },
}

# Scheduled jobs (backend/workflows/definitions.py SCHEDULED_JOBS), by name: exactly the calls
# their logic makes.
JOB_ACCESS: Final[Mapping[str, Access]] = {
    # backend/logic/trash.py purge_expired: scan for old trash entries, read a user's versions
    # and links (Query), then per file one transaction (ConditionCheck/Delete/Put, the profile
    # Update, read with GetItem) and the deletion of every S3 version of its bytes and previews;
    # and abandoned upload sessions (uploads.sweep_abandoned): a transaction deleting each with
    # a DROP# marker, then its multipart upload aborted, its object and the marker deleted.
    "TrashPurge": {
        Target.TABLE: (
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
        ),
        Target.UPLOAD_OBJECTS: (*PURGE_OBJECT_ACTIONS, "s3:AbortMultipartUpload"),
        Target.UPLOAD_VERSIONS: PURGE_LIST_ACTIONS,
        Target.PROCESSED_OBJECTS: PURGE_OBJECT_ACTIONS,
        Target.PROCESSED_VERSIONS: PURGE_LIST_ACTIONS,
    },
}

# KMS use through S3 (SSE-KMS objects), DynamoDB (the CMK table) and SNS (the CMK topic).
KMS_DATA_ACTIONS: Final = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:DescribeKey",
)

_RESOURCE_TARGET: Final = {
    Resource.METADATA_TABLE: Target.TABLE,
    Resource.UPLOAD_BUCKET: Target.UPLOAD_OBJECTS,
    Resource.PROCESSED_BUCKET: Target.PROCESSED_OBJECTS,
    Resource.ANALYTICS_BUCKET: Target.ANALYTICS_OBJECTS,
    Resource.NOTIFICATIONS_TOPIC: Target.TOPIC,
    Resource.SHARE_LIFECYCLE_STATE_MACHINE: Target.SHARE_LIFECYCLE,
}
_S3_ACCESS: Final = {
    "read": ("s3:GetObject",),
    "write": ("s3:PutObject",),
    "read_write": ("s3:GetObject", "s3:PutObject"),
}
_TABLE_ACCESS: Final = {
    "read": TABLE_READ,
    "write": TABLE_WRITE,
    "read_write": TABLE_READ + TABLE_WRITE,
}


def access_of(grants: tuple[Grant, ...]) -> dict[Target, tuple[str, ...]]:
    """The exact actions for the grants a workflow step or event handler declares."""
    out: dict[Target, tuple[str, ...]] = {}
    for grant in grants:
        target = _RESOURCE_TARGET[grant.resource]
        if target is Target.TABLE:
            actions = _TABLE_ACCESS[grant.access]
        elif target is Target.TOPIC:
            actions = ("sns:Publish",)
        elif target is Target.SHARE_LIFECYCLE:
            actions = ("states:StartExecution",)
        else:
            actions = _S3_ACCESS[grant.access]
        out[target] = tuple(dict.fromkeys(out.get(target, ()) + actions))
    return out
