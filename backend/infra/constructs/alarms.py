"""Operational alarms and a dashboard over the API, Lambdas, workflows and the table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

_PERIOD = Duration.minutes(5)


class OpsAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topic: sns.ITopic,
        api_id: str,
        functions: Mapping[str, lambda_.IFunction],
        state_machines: Mapping[str, sfn.IStateMachine],
        table_name: str,
    ) -> None:
        super().__init__(scope, id)
        self.alarms: list[cw.Alarm] = []
        action = cw_actions.SnsAction(topic)

        def alarm(name: str, metric: cw.IMetric, threshold: float, what: str) -> cw.Alarm:
            created = cw.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                alarm_description=what,
            )
            created.add_alarm_action(action)
            self.alarms.append(created)
            return created

        api_5xx = cw.Metric(
            namespace="AWS/ApiGateway",
            metric_name="5xx",
            dimensions_map={"ApiId": api_id, "Stage": "$default"},
            statistic="Sum",
            period=_PERIOD,
        )
        self.api_5xx = alarm("Api5xx", api_5xx, 5, "The HTTP API answered 5xx")
        errors: list[cw.IMetric] = []
        throttles: list[cw.IMetric] = []
        for name, fn in functions.items():
            err = fn.metric_errors(period=_PERIOD, statistic="Sum")
            thr = fn.metric_throttles(period=_PERIOD, statistic="Sum")
            alarm(f"{name}Errors", err, 1, f"Lambda {name} raised errors")
            alarm(f"{name}Throttles", thr, 1, f"Lambda {name} was throttled")
            errors.append(err)
            throttles.append(thr)
        failed: list[cw.IMetric] = []
        for name, machine in state_machines.items():
            metric = machine.metric_failed(period=_PERIOD, statistic="Sum")
            alarm(f"{name}Failures", metric, 1, f"Workflow {name} failed")
            failed.append(metric)
        table_throttles = [
            cw.Metric(
                namespace="AWS/DynamoDB",
                metric_name=metric_name,
                dimensions_map={"TableName": table_name},
                statistic="Sum",
                period=_PERIOD,
            )
            for metric_name in ("ReadThrottleEvents", "WriteThrottleEvents")
        ]
        for metric in table_throttles:
            alarm(f"Table{metric.metric_name}", metric, 1, "DynamoDB throttled the table")
        self.dashboard = cw.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        self.dashboard.add_widgets(
            _graph("API 5xx", [api_5xx]),
            _graph("Lambda errors", errors),
            _graph("Lambda throttles", throttles),
        )
        self.dashboard.add_widgets(
            _graph("Workflow failures", failed),
            _graph("Table throttles", table_throttles),
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=8),
        )


def _graph(title: str, metrics: Sequence[cw.IMetric]) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=list(metrics), width=8)
