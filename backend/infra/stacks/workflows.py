"""Workflows: the state machines of ``backend/workflows``, their step Lambdas, the S3 ->
workflow trigger, the inbox subscriber, the analytics stream consumer, the watermarking
S3 Object Lambda access point and the scheduled jobs (the daily trash purge)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3objectlambda as s3ol
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from backend import naming
from backend.infra import names
from backend.infra.constructs.functions import BackendFunction
from backend.infra.constructs.grants import TargetArns, grant
from backend.infra.constructs.workflows import Workflow
from backend.infra.nag import acknowledge
from backend.infra.permissions import JOB_ACCESS, Target, access_of
from backend.infra.settings import Settings
from backend.infra.stacks.storage import USERS_PREFIX
from backend.workflows.definitions import (
    ANALYTICS_PREFIX,
    EVENT_HANDLERS,
    RESOURCE_ENV,
    SCHEDULED_JOBS,
    STATE_MACHINES,
    EventSource,
    Grant,
    Resource,
    ScheduledJobSpec,
    Trigger,
)


class WorkflowsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        key: kms.IKey,
        table: ddb.ITable,
        uploads: s3.IBucket,
        processed: s3.IBucket,
        analytics: s3.IBucket,
        topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self._settings = settings
        physical: dict[Resource, tuple[str, str]] = {
            Resource.METADATA_TABLE: (table.table_name, table.table_arn),
            Resource.UPLOAD_BUCKET: (uploads.bucket_name, uploads.bucket_arn),
            Resource.PROCESSED_BUCKET: (processed.bucket_name, processed.bucket_arn),
            Resource.ANALYTICS_BUCKET: (analytics.bucket_name, analytics.bucket_arn),
            Resource.NOTIFICATIONS_TOPIC: (topic.topic_name, topic.topic_arn),
        }
        self._names = physical
        self._arns = TargetArns(
            {
                Target.TABLE: [table.table_arn],
                Target.UPLOAD_OBJECTS: [
                    names.objects_arn(settings.prefix, names.UPLOADS, f"{USERS_PREFIX}*")
                ],
                Target.PROCESSED_OBJECTS: [
                    names.objects_arn(settings.prefix, names.PROCESSED, f"{USERS_PREFIX}*")
                ],
                Target.ANALYTICS_OBJECTS: [
                    names.objects_arn(settings.prefix, names.ANALYTICS, f"{ANALYTICS_PREFIX}*")
                ],
                Target.UPLOAD_VERSIONS: [names.bucket_arn(settings.prefix, names.UPLOADS)],
                Target.PROCESSED_VERSIONS: [names.bucket_arn(settings.prefix, names.PROCESSED)],
                Target.TOPIC: [topic.topic_arn],
            },
            key.key_arn,
        )
        # BackendConfig.from_env needs these in every handler; share links are the API's.
        self._base_env = {
            naming.ENV_TABLE: table.table_name,
            naming.ENV_UPLOAD_BUCKET: uploads.bucket_name,
            naming.ENV_PROCESSED_BUCKET: processed.bucket_name,
            naming.ENV_PUBLIC_BASE_URL: "",
            naming.ENV_EPOCH: "aws",
        }
        self.functions: dict[str, BackendFunction] = {}
        self.workflows: dict[str, Workflow] = {}
        for spec in STATE_MACHINES:
            substitutions: dict[str, str] = {}
            invoke: list[str] = []
            for step in spec.lambdas:
                fn = self._function(
                    step.name.removesuffix("FunctionArn"),
                    step.handler,
                    step.grants,
                    timeout_s=step.timeout_s,
                    memory_mb=step.memory_mb,
                )
                substitutions[step.name] = fn.function.function_arn
                invoke.append(fn.function.function_arn)
            publish: list[str] = []
            for placeholder in spec.resources:
                name, arn = physical[placeholder.resource]
                substitutions[placeholder.name] = arn if placeholder.attribute == "arn" else name
                if placeholder.resource is Resource.NOTIFICATIONS_TOPIC:
                    publish.append(arn)
            self.workflows[spec.name] = Workflow(
                self,
                spec.name,
                spec=spec,
                substitutions=substitutions,
                invoke_arns=invoke,
                publish_arns=publish,
                key_arn=key.key_arn,
            )
            if spec.trigger is Trigger.UPLOAD_OBJECT_CREATED:
                self._trigger_on_upload(spec.name, uploads)
        self.watermark_access_point_arn: str | None = None
        self.watermark_support_arn: str | None = None
        self.watermark_function_arn: str | None = None
        for handler in EVENT_HANDLERS:
            fn = self._function(
                handler.name,
                handler.handler,
                handler.grants,
                timeout_s=handler.timeout_s,
                memory_mb=handler.memory_mb,
            )
            if handler.source is EventSource.NOTIFICATIONS_TOPIC:
                topic.add_subscription(subscriptions.LambdaSubscription(fn.function))
            elif handler.source is EventSource.METADATA_TABLE_STREAM:
                self._consume_stream(fn, table)
            elif handler.source is EventSource.OBJECT_LAMBDA_UPLOAD_BUCKET:
                self._object_lambda(fn, uploads)
        for job in SCHEDULED_JOBS:
            self._scheduled_job(job)

    @property
    def share_lifecycle_arn(self) -> str | None:
        for spec in STATE_MACHINES:
            if spec.trigger is Trigger.API:
                return self.workflows[spec.name].state_machine.state_machine_arn
        return None

    def _function(
        self,
        name: str,
        handler: str,
        grants: tuple[Grant, ...],
        *,
        timeout_s: int,
        memory_mb: int,
    ) -> BackendFunction:
        env = dict(self._base_env)
        for g in grants:
            if g.resource in self._names and g.resource in RESOURCE_ENV:
                physical_name, arn = self._names[g.resource]
                attr = "arn" if g.resource is Resource.NOTIFICATIONS_TOPIC else "name"
                env[RESOURCE_ENV[g.resource]] = arn if attr == "arn" else physical_name
        fn = BackendFunction(
            self,
            name,
            handler=handler,
            description=f"FileVault workflow: {name}",
            environment=env,
            service=f"filevault-{name.lower()}",
            powertools_layer_version=self._settings.powertools_layer_version,
            pillow_version=self._settings.pillow_version,
            memory_mb=memory_mb,
            timeout=Duration.seconds(timeout_s),
        )
        grant(fn.role, access_of(grants), self._arns)
        self.functions[name] = fn
        return fn

    def _scheduled_job(self, job: ScheduledJobSpec) -> None:
        """The job's function, with exactly its ``JOB_ACCESS``, run by an EventBridge schedule."""
        fn = BackendFunction(
            self,
            job.name,
            handler=job.handler,
            description=f"FileVault scheduled job: {job.name}",
            environment={
                **self._base_env,
                # The same setting the upload bucket's lifecycle rule expires trash with.
                naming.ENV_TRASH_RETENTION_DAYS: str(self._settings.trash_retention_days),
            },
            service=f"filevault-{job.name.lower()}",
            powertools_layer_version=self._settings.powertools_layer_version,
            pillow_version=self._settings.pillow_version,
            memory_mb=job.memory_mb,
            timeout=Duration.seconds(job.timeout_s),
        )
        grant(fn.role, JOB_ACCESS[job.name], self._arns)
        self.functions[job.name] = fn
        rule = events.Rule(
            self,
            f"{job.name}Schedule",
            description=f"Run {job.name} every {job.interval_s} s",
            schedule=events.Schedule.rate(Duration.seconds(job.interval_s)),
        )
        rule.add_target(targets.LambdaFunction(fn.function, retry_attempts=2))

    def _trigger_on_upload(self, name: str, uploads: s3.IBucket) -> None:
        """S3 (EventBridge notifications) -> rule -> the workflow, for users/* objects."""
        rule = events.Rule(
            self,
            f"{name}Trigger",
            description="Start upload processing when an object lands in the upload bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [uploads.bucket_name]},
                    "object": {"key": [{"prefix": USERS_PREFIX}]},
                },
            ),
        )
        rule.add_target(
            targets.SfnStateMachine(
                self.workflows[name].state_machine,
                retry_attempts=8,
                max_event_age=Duration.hours(24),
            )
        )

    def _consume_stream(self, fn: BackendFunction, table: ddb.ITable) -> None:
        fn.function.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=100,
                max_batching_window=Duration.seconds(30),
                bisect_batch_on_error=True,
                retry_attempts=10,
                report_batch_item_failures=True,
            )
        )
        acknowledge(
            fn.role,
            "AwsSolutions-IAM5[Resource::*]",
            "dynamodb:ListStreams and X-Ray actions support no resource-level permissions.",
        )

    def _object_lambda(self, fn: BackendFunction, uploads: s3.IBucket) -> None:
        support = s3.CfnAccessPoint(
            self,
            "WatermarkSupport",
            bucket=uploads.bucket_name,
            name=names.access_point_name(self._settings.prefix, names.WATERMARK_SOURCE),
        )
        olap = s3ol.CfnAccessPoint(
            self,
            "WatermarkAccessPoint",
            object_lambda_configuration=s3ol.CfnAccessPoint.ObjectLambdaConfigurationProperty(
                supporting_access_point=support.attr_arn,
                transformation_configurations=[
                    s3ol.CfnAccessPoint.TransformationConfigurationProperty(
                        actions=["GetObject"],
                        content_transformation={
                            "AwsLambda": {"FunctionArn": fn.function.function_arn}
                        },
                    )
                ],
            ),
        )
        # A policy of its own: in the role's default policy it would close a cycle
        # (function -> default policy -> access point -> function).
        iam.Policy(
            self,
            "WatermarkAnswers",
            roles=[fn.role],
            statements=[
                iam.PolicyStatement(
                    actions=["s3-object-lambda:WriteGetObjectResponse"],
                    resources=[olap.attr_arn],
                )
            ],
        )
        self.watermark_access_point_arn = olap.attr_arn
        self.watermark_support_arn = support.attr_arn
        self.watermark_function_arn = fn.function.function_arn
