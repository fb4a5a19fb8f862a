"""Lambda functions: arm64, Powertools layer (and Pillow's where the code imports PIL), X-Ray,
their own role and log group."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from backend.infra.constructs.pillow import PillowLayer
from backend.infra.imports import imports_package
from backend.infra.lambda_source import staged_source
from backend.infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13
POWERTOOLS_ACCOUNT = "017000801446"


def powertools_layer_arn(version: int) -> str:
    """The public Powertools for AWS Lambda (Python) v3 layer for our runtime and arm64."""
    runtime = RUNTIME.name.replace(".", "")  # python3.13 -> python313
    return (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{POWERTOOLS_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{runtime}-arm64:{version}"
    )


class BackendFunction(Construct):
    """One Lambda running ``handler`` from the ``backend`` package.

    The role starts empty except for writing its own log group and X-Ray segments; callers
    add exact grants to ``role``. A handler whose code can import ``PIL`` gets the stack's
    Pillow layer (``pillow_version``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        service: str,
        powertools_layer_version: int,
        pillow_version: str,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        memory_mb: int = 512,
        timeout: Duration | None = None,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} (least privilege)",
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.log_group.grant_write(self.role)
        layers = [
            lambda_.LayerVersion.from_layer_version_arn(
                self, "Powertools", powertools_layer_arn(powertools_layer_version)
            )
        ]
        self.uses_pillow = imports_package(handler, "PIL")
        if self.uses_pillow:
            layers.append(PillowLayer.of(self, version=pillow_version, runtime=RUNTIME))
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=lambda_.Code.from_asset(staged_source(), exclude=[".complete"]),
            description=description,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            layers=layers,
            memory_size=memory_mb,
            timeout=timeout or Duration.seconds(29),
            reserved_concurrent_executions=reserved_concurrency,
            environment={
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": "FileVault",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "POWERTOOLS_LOGGER_LOG_EVENT": "false",
                "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
                **environment,
            },
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned to python3.13: the public Powertools layer is published per Python version "
            "and this is the newest one verified with it; raise both together.",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
        )
