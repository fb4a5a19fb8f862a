"""Audit and operations: CloudTrail with S3 data events, alarms, a dashboard, configuration
in SSM Parameter Store, and an FIS experiment that injects Lambda faults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from backend.infra.constructs.alarms import OpsAlarms
from backend.infra.constructs.fis import LambdaFaultExperiment, fis_config_objects
from backend.infra.constructs.topics import SecureTopic
from backend.infra.settings import Settings


class AuditStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        key: kms.IKey,
        access_logs: s3.IBucket,
        data_buckets: Mapping[str, s3.IBucket],
        api_id: str,
        api_functions: Mapping[str, lambda_.IFunction],
        functions: Mapping[str, lambda_.IFunction],
        state_machines: Mapping[str, sfn.IStateMachine],
        table_name: str,
        parameters: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.trail_bucket = s3.Bucket(
            self,
            "TrailLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="s3/TrailLogs/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="archive-then-expire",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=Duration.days(90),
                        )
                    ],
                    expiration=Duration.days(2555),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            bucket=self.trail_bucket,
            enable_file_validation=True,
            include_global_service_events=True,
            is_multi_region_trail=True,
            send_to_cloud_watch_logs=True,
            cloud_watch_logs_retention=logs.RetentionDays.ONE_YEAR,
        )
        self.trail.add_s3_event_selector(
            [cloudtrail.S3EventSelector(bucket=b) for b in data_buckets.values()],
            read_write_type=cloudtrail.ReadWriteType.ALL,
            include_management_events=True,
        )
        self.ops_topic = SecureTopic(self, "OpsAlarms", key=key, display_name="FileVault ops")
        if settings.alarm_email:
            self.ops_topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        self.alarms = OpsAlarms(
            self,
            "Ops",
            topic=self.ops_topic,
            api_id=api_id,
            functions=functions,
            state_machines=state_machines,
            table_name=table_name,
        )
        self.parameters = {
            name: ssm.StringParameter(
                self,
                f"Param{name.title().replace('-', '')}",
                parameter_name=f"/{settings.prefix.lower()}/{name}",
                string_value=value,
                description=f"FileVault {name}",
            )
            for name, value in parameters.items()
        }
        self.fault_experiment = LambdaFaultExperiment(
            self,
            "LambdaFaults",
            function_arns=[fn.function_arn for fn in api_functions.values()],
            # The Storage stack's FIS config bucket; the API stack points the extension there.
            config_objects=fis_config_objects(settings.prefix),
            stop_alarm=self.alarms.api_5xx,
        )
