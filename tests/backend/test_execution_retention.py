"""The local stack forgets old finished Step Functions executions (moto keeps them all), on
moto's own execution objects: running ones and the most recent finished ones stay."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from backend.local.workflows import forget_finished_executions

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/test"


@pytest.fixture
def sfn() -> Iterator[Any]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name=REGION)


def _machine(sfn: Any, name: str, state: dict[str, Any]) -> str:
    definition = {"StartAt": "Only", "States": {"Only": {**state, "End": True}}}
    arn: str = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    return arn


def _status(sfn: Any, arn: str) -> str:
    status: str = sfn.describe_execution(executionArn=arn)["status"]
    return status


def _wait_finished(sfn: Any, arns: list[str]) -> None:
    deadline = time.monotonic() + 30
    while any(_status(sfn, arn) == "RUNNING" for arn in arns):
        assert time.monotonic() < deadline, "executions did not finish"
        time.sleep(0.02)


def test_keeps_running_and_the_newest_finished_executions(sfn: Any) -> None:
    from moto.stepfunctions.responses import get_backend

    quick = _machine(sfn, "quick", {"Type": "Pass"})
    slow = _machine(sfn, "slow", {"Type": "Wait", "Seconds": 600})
    waiting = sfn.start_execution(stateMachineArn=slow, name="waiting")["executionArn"]
    done = [
        sfn.start_execution(stateMachineArn=quick, name=f"run-{n}")["executionArn"]
        for n in range(6)
    ]
    _wait_finished(sfn, done)

    machines = list(get_backend("123456789012", REGION).state_machines)
    assert forget_finished_executions(machines, keep=2) == 4

    kept = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=quick)["executions"]}
    assert kept == set(done[-2:])
    assert _status(sfn, done[-1]) == "SUCCEEDED"
    assert [e["executionArn"] for e in sfn.list_executions(stateMachineArn=slow)["executions"]] == [
        waiting
    ]
    assert _status(sfn, waiting) == "RUNNING"
    assert forget_finished_executions(machines, keep=2) == 0
    sfn.stop_execution(executionArn=waiting)
