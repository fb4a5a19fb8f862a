"""The workflows and event handlers of the backend: one source for the CDK app and the local stack.

Each state machine is an Amazon States Language JSON file in ``backend/workflows/asl/`` with
``${Placeholder}`` substitutions (the syntax of CDK's ``definition_substitutions``). A
:class:`StateMachineSpec` names the file and says what every placeholder maps to:

* :class:`LambdaPlaceholder` -- substituted with the ARN of a Lambda function whose handler is
  ``handler`` (an import path such as ``backend.workflows.steps.validate.handler``). The function
  reads the resources in ``resources`` from the environment variables in :data:`RESOURCE_ENV`
  (and needs the matching IAM grants, see :data:`RESOURCE_ACCESS`).
* :class:`ResourcePlaceholder` -- substituted with the ``name`` or ``arn`` of a shared resource
  (the metadata table, a bucket, the notifications topic).

:data:`EVENT_HANDLERS` lists the Lambda functions that are not workflow steps: the SNS subscriber
that writes the inbox, the DynamoDB stream consumer that writes the analytics log, and the S3
Object Lambda that watermarks shared images. :data:`SCHEDULED_JOBS` lists the functions run on
a schedule (an EventBridge rule in AWS, a timer thread in the local stack).

Nothing here imports AWS libraries: the CDK app and the local stack read it as data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal

from backend import naming

ASL_DIR: Final = Path(__file__).resolve().parent / "asl"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


class Resource(StrEnum):
    """Shared resources that workflows and handlers use."""

    METADATA_TABLE = "metadata_table"
    UPLOAD_BUCKET = "upload_bucket"
    PROCESSED_BUCKET = "processed_bucket"
    ANALYTICS_BUCKET = "analytics_bucket"
    NOTIFICATIONS_TOPIC = "notifications_topic"
    SHARE_LIFECYCLE_STATE_MACHINE = "share_lifecycle_state_machine"


# The environment variable through which a Lambda function learns each resource's physical id
# (a name for tables and buckets, an ARN for the topic and the state machine).
RESOURCE_ENV: Final[Mapping[Resource, str]] = {
    Resource.METADATA_TABLE: naming.ENV_TABLE,
    Resource.UPLOAD_BUCKET: naming.ENV_UPLOAD_BUCKET,
    Resource.PROCESSED_BUCKET: naming.ENV_PROCESSED_BUCKET,
    Resource.ANALYTICS_BUCKET: naming.ENV_ANALYTICS_BUCKET,
    Resource.NOTIFICATIONS_TOPIC: naming.ENV_NOTIFICATIONS_TOPIC_ARN,
    Resource.SHARE_LIFECYCLE_STATE_MACHINE: naming.ENV_SHARE_LIFECYCLE_ARN,
}

Access = Literal["read", "write", "read_write", "publish", "start"]


@dataclass(frozen=True)
class Grant:
    resource: Resource
    access: Access


@dataclass(frozen=True)
class LambdaPlaceholder:
    """``${name}`` becomes the ARN of a Lambda function running ``handler``."""

    name: str
    handler: str
    grants: tuple[Grant, ...]
    timeout_s: int = 60
    memory_mb: int = 1024

    @property
    def resources(self) -> tuple[Resource, ...]:
        return tuple(dict.fromkeys(g.resource for g in self.grants))


@dataclass(frozen=True)
class ResourcePlaceholder:
    """``${name}`` becomes the ``attribute`` (name or ARN) of ``resource``."""

    name: str
    resource: Resource
    attribute: Literal["name", "arn"]


Placeholder = LambdaPlaceholder | ResourcePlaceholder


class Trigger(StrEnum):
    # EventBridge rule on the upload bucket (EventBridge notifications enabled):
    # source aws.s3, detail-type "Object Created", detail.bucket.name = the upload bucket;
    # the state machine receives the EventBridge event unchanged as its input.
    UPLOAD_OBJECT_CREATED = "upload_object_created"
    # Started by the API (the shares Lambda calls StartExecution; it needs the ARN in
    # RESOURCE_ENV[SHARE_LIFECYCLE_STATE_MACHINE] and a states:StartExecution grant).
    API = "api"


@dataclass(frozen=True)
class StateMachineSpec:
    name: str  # logical name (CDK construct id, local state machine name suffix)
    definition_file: str  # file name inside ASL_DIR
    placeholders: tuple[Placeholder, ...]
    trigger: Trigger
    description: str = ""

    @property
    def lambdas(self) -> tuple[LambdaPlaceholder, ...]:
        return tuple(p for p in self.placeholders if isinstance(p, LambdaPlaceholder))

    @property
    def resources(self) -> tuple[ResourcePlaceholder, ...]:
        return tuple(p for p in self.placeholders if isinstance(p, ResourcePlaceholder))


class EventSource(StrEnum):
    NOTIFICATIONS_TOPIC = "notifications_topic"  # SNS subscription (Lambda protocol)
    METADATA_TABLE_STREAM = "metadata_table_stream"  # DynamoDB stream, NEW_AND_OLD_IMAGES
    # S3 Object Lambda access point over a supporting access point of the upload bucket.
    OBJECT_LAMBDA_UPLOAD_BUCKET = "object_lambda_upload_bucket"


@dataclass(frozen=True)
class EventHandlerSpec:
    name: str
    handler: str
    source: EventSource
    grants: tuple[Grant, ...]
    timeout_s: int = 60
    memory_mb: int = 512


@dataclass(frozen=True)
class ScheduledJobSpec:
    """A Lambda function run every ``interval_s`` seconds: by an EventBridge schedule in AWS,
    by a timer thread in the local stack (``backend/local/schedules.py``). Its exact IAM
    actions are ``backend.infra.permissions.JOB_ACCESS[name]`` (they go beyond the
    read/write grants above: scans, deletes of S3 versions)."""

    name: str
    handler: str
    interval_s: int
    timeout_s: int = 900
    memory_mb: int = 512


_STEPS = "backend.workflows.steps"
_TABLE_RW = Grant(Resource.METADATA_TABLE, "read_write")
_UPLOADS_R = Grant(Resource.UPLOAD_BUCKET, "read")
_PROCESSED_W = Grant(Resource.PROCESSED_BUCKET, "write")

UPLOAD_PROCESSING: Final = StateMachineSpec(
    name="UploadProcessing",
    definition_file="upload_processing.asl.json",
    trigger=Trigger.UPLOAD_OBJECT_CREATED,
    description="Validate an uploaded object, extract metadata, derive previews, notify.",
    placeholders=(
        LambdaPlaceholder(
            "ValidateFunctionArn", f"{_STEPS}.validate.handler", (_TABLE_RW, _UPLOADS_R)
        ),
        LambdaPlaceholder(
            "ExtractMetadataFunctionArn",
            f"{_STEPS}.extract_metadata.handler",
            (_UPLOADS_R,),
            timeout_s=300,
        ),
        LambdaPlaceholder(
            "MakePreviewsFunctionArn",
            f"{_STEPS}.previews.handler",
            (_UPLOADS_R, _PROCESSED_W),
            timeout_s=300,
            memory_mb=2048,
        ),
        LambdaPlaceholder("RecordResultFunctionArn", f"{_STEPS}.record.handler", (_TABLE_RW,)),
        LambdaPlaceholder("QuarantineFunctionArn", f"{_STEPS}.quarantine.handler", (_TABLE_RW,)),
        LambdaPlaceholder("MarkFailedFunctionArn", f"{_STEPS}.mark_failed.handler", (_TABLE_RW,)),
        ResourcePlaceholder("NotificationsTopicArn", Resource.NOTIFICATIONS_TOPIC, "arn"),
    ),
)

SHARE_LIFECYCLE: Final = StateMachineSpec(
    name="ShareLifecycle",
    definition_file="share_lifecycle.asl.json",
    trigger=Trigger.API,
    description="Remind the owner of a share shortly before it expires.",
    placeholders=(
        LambdaPlaceholder(
            "ShareReminderFunctionArn",
            f"{_STEPS}.share_reminder.handler",
            (Grant(Resource.METADATA_TABLE, "read"),),
        ),
        ResourcePlaceholder("NotificationsTopicArn", Resource.NOTIFICATIONS_TOPIC, "arn"),
    ),
)

STATE_MACHINES: Final[tuple[StateMachineSpec, ...]] = (UPLOAD_PROCESSING, SHARE_LIFECYCLE)

EVENT_HANDLERS: Final[tuple[EventHandlerSpec, ...]] = (
    EventHandlerSpec(
        "NotificationInbox",
        f"{_STEPS}.inbox.handler",
        EventSource.NOTIFICATIONS_TOPIC,
        (Grant(Resource.METADATA_TABLE, "write"),),
    ),
    EventHandlerSpec(
        "AnalyticsEvents",
        f"{_STEPS}.analytics.handler",
        EventSource.METADATA_TABLE_STREAM,
        (Grant(Resource.ANALYTICS_BUCKET, "write"),),
    ),
    EventHandlerSpec(
        "Watermark",
        f"{_STEPS}.watermark.handler",
        EventSource.OBJECT_LAMBDA_UPLOAD_BUCKET,
        (_UPLOADS_R,),
        memory_mb=2048,
    ),
)

SCHEDULED_JOBS: Final[tuple[ScheduledJobSpec, ...]] = (
    # Deletes for good what stayed in the trash longer than the retention period
    # (backend.logic.trash.purge_expired); daily, like the lifecycle rule's expiry.
    ScheduledJobSpec("TrashPurge", f"{_STEPS}.purge_trash.handler", interval_s=24 * 3600),
)

# Where the analytics log lives in the analytics bucket (JSON lines, one event per line).
ANALYTICS_PREFIX: Final = "analytics/events/"


def load_definition(spec: StateMachineSpec) -> str:
    """The definition's JSON text, placeholders unsubstituted."""
    return (ASL_DIR / spec.definition_file).read_text(encoding="utf-8")


def placeholders_in(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def render(spec: StateMachineSpec, substitutions: Mapping[str, str]) -> str:
    """The definition with every ``${Placeholder}`` replaced (as CDK's definition_substitutions).

    Raises KeyError naming any placeholder of the spec that has no substitution, and
    ValueError for a substitution the spec does not declare.
    """
    declared = {p.name for p in spec.placeholders}
    unknown = set(substitutions) - declared
    if unknown:
        raise ValueError(f"{spec.name}: unknown placeholders {sorted(unknown)}")
    missing = declared - set(substitutions)
    if missing:
        raise KeyError(f"{spec.name}: no value for placeholders {sorted(missing)}")
    text = load_definition(spec)
    return _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], text)


def parsed(spec: StateMachineSpec, substitutions: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(render(spec, substitutions))
    return out
