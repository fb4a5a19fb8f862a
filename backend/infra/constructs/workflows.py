"""State machines from ``backend/workflows`` (ASL files + substitutions) and their Lambdas."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from backend.infra.nag import acknowledge
from backend.workflows.definitions import ASL_DIR, StateMachineSpec


class Workflow(Construct):
    """One state machine: logging (ALL, no execution data), X-Ray, exact invoke grants."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: StateMachineSpec,
        substitutions: Mapping[str, str],
        invoke_arns: list[str],
        publish_arns: list[str],
        key_arn: str,
    ) -> None:
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            # Step Functions vended logs need the /aws/vendedlogs/ prefix to keep policies small.
            log_group_name=f"/aws/vendedlogs/states/filevault-{spec.name}-{self.node.addr[:8]}",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment=spec.description or None,
            definition_body=sfn.DefinitionBody.from_file(str(ASL_DIR / spec.definition_file)),
            definition_substitutions=dict(substitutions),
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            tracing_enabled=True,
            timeout=Duration.days(30),
        )
        role = self.state_machine.role
        if invoke_arns:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="InvokeSteps", actions=["lambda:InvokeFunction"], resources=invoke_arns
                )
            )
        if publish_arns:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="PublishNotifications", actions=["sns:Publish"], resources=publish_arns
                )
            )
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="DataKeyViaSns",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[key_arn],
                    conditions={"StringLike": {"kms:ViaService": "sns.*.amazonaws.com"}},
                )
            )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:*LogDelivery*, DescribeLogGroups) and X-Ray "
            "actions support no resource-level permissions.",
        )
