"""An AWS FIS experiment template that makes a share of Lambda invocations fail, and the AWS
FIS Lambda extension on the functions it targets.

FIS Lambda actions work through the extension (a public layer): the experiment writes the fault
to ``AWS_FIS_CONFIGURATION_LOCATION`` (an S3 prefix), and the extension, wrapping the runtime
through ``AWS_LAMBDA_EXEC_WRAPPER``, polls that prefix with the function's role.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_fis as fis
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from backend.infra import names
from backend.infra.constructs.functions import BackendFunction
from backend.infra.nag import acknowledge_object_wildcards

# Public SSM parameter holding this region's arm64 extension layer ARN (resolved at deploy
# time, so synthesis needs no AWS call).
FIS_EXTENSION_PARAMETER = "/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x"
FIS_EXEC_WRAPPER = "/opt/aws-fis/bootstrap"
# Key prefix in the FIS config bucket (names.FIS_CONFIG) where experiments write faults.
FIS_CONFIG_PREFIX = "FisConfigs/"


def fis_config_location(prefix: str) -> str:
    """``AWS_FIS_CONFIGURATION_LOCATION``: the S3 ARN of the config prefix."""
    return f"{names.bucket_arn(prefix, names.FIS_CONFIG)}/{FIS_CONFIG_PREFIX}"


def fis_config_objects(prefix: str) -> str:
    return names.objects_arn(prefix, names.FIS_CONFIG, f"{FIS_CONFIG_PREFIX}*")


def attach_fis_extension(fn: BackendFunction, *, prefix: str) -> None:
    """The extension layer, its two environment variables and read access to the prefix."""
    layer_arn = ssm.StringParameter.value_for_string_parameter(
        Stack.of(fn), FIS_EXTENSION_PARAMETER
    )
    fn.function.add_layers(
        lambda_.LayerVersion.from_layer_version_arn(fn, "FisExtension", layer_arn)
    )
    fn.function.add_environment("AWS_FIS_CONFIGURATION_LOCATION", fis_config_location(prefix))
    fn.function.add_environment("AWS_LAMBDA_EXEC_WRAPPER", FIS_EXEC_WRAPPER)
    objects = fis_config_objects(prefix)
    fn.role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="FisConfigList",
            actions=["s3:ListBucket"],
            resources=[names.bucket_arn(prefix, names.FIS_CONFIG)],
            conditions={"StringLike": {"s3:prefix": [f"{FIS_CONFIG_PREFIX}*"]}},
        )
    )
    fn.role.add_to_principal_policy(
        iam.PolicyStatement(sid="FisConfigRead", actions=["s3:GetObject"], resources=[objects])
    )
    acknowledge_object_wildcards(
        fn.role,
        [objects],
        "The FIS Lambda extension reads the fault file FIS writes under its config prefix.",
    )


class LambdaFaultExperiment(Construct):
    """``aws:lambda:invocation-error`` on the given functions for a few minutes, stopped by
    the API 5xx alarm. The FIS Lambda extension reads the fault from ``config_objects``
    (an object ARN ending in ``<prefix>*``)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function_arns: Sequence[str],
        config_objects: str,
        stop_alarm: cw.IAlarm,
        percentage: int = 25,
        duration: str = "PT5M",
    ) -> None:
        super().__init__(scope, id)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("fis.amazonaws.com"),
            description="FileVault FIS experiment: inject Lambda invocation errors",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadTargets", actions=["lambda:GetFunction"], resources=list(function_arns)
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteFaultConfig",
                actions=["s3:PutObject", "s3:DeleteObject"],
                resources=[config_objects],
            )
        )
        acknowledge_object_wildcards(
            role, [config_objects], "FIS writes one fault file per experiment under its prefix."
        )
        self.template = fis.CfnExperimentTemplate(
            self,
            "Template",
            description="Fail a share of FileVault API Lambda invocations (resilience test)",
            role_arn=role.role_arn,
            stop_conditions=[
                fis.CfnExperimentTemplate.ExperimentTemplateStopConditionProperty(
                    source="aws:cloudwatch:alarm", value=stop_alarm.alarm_arn
                )
            ],
            targets={
                "functions": fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty(
                    resource_type="aws:lambda:function",
                    resource_arns=list(function_arns),
                    selection_mode="ALL",
                )
            },
            actions={
                "invocationErrors": fis.CfnExperimentTemplate.ExperimentTemplateActionProperty(
                    action_id="aws:lambda:invocation-error",
                    parameters={
                        "duration": duration,
                        "invocationPercentage": str(percentage),
                        "preventExecution": "true",
                    },
                    targets={"Functions": "functions"},
                )
            },
            tags={"Name": "filevault-lambda-faults"},
        )
