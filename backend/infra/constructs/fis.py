"""An AWS FIS experiment template that makes a share of Lambda invocations fail."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_fis as fis
from aws_cdk import aws_iam as iam
from constructs import Construct

from backend.infra.nag import acknowledge_object_wildcards


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
