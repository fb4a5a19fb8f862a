"""Deleting trash for good in the templates: the daily purge job (EventBridge schedule ->
its own least-privilege Lambda) and the files API's rights to purge on request."""

from __future__ import annotations

from typing import Any

from backend import naming
from backend.config import DEFAULT_TRASH_RETENTION_DAYS, BackendConfig
from backend.infra.nag import flatten
from backend.infra.permissions import JOB_ACCESS, Target
from backend.infra.settings import Settings
from tests.infra.conftest import PARTS, Synth, actions, as_list, functions, role_statements

HANDLER = "backend.workflows.steps.purge_trash.handler"
UPLOAD_OBJECTS = (
    "arn:<AWS::Partition>:s3:::filevault-uploads-<AWS::AccountId>-<AWS::Region>/users/*"
)
PROCESSED_OBJECTS = (
    "arn:<AWS::Partition>:s3:::filevault-processed-<AWS::AccountId>-<AWS::Region>/users/*"
)
UPLOAD_BUCKET = "arn:<AWS::Partition>:s3:::filevault-uploads-<AWS::AccountId>-<AWS::Region>"
PROCESSED_BUCKET = "arn:<AWS::Partition>:s3:::filevault-processed-<AWS::AccountId>-<AWS::Region>"
USERS_ONLY = {"StringLike": {"s3:prefix": ["users/*"]}}
PURGE_OBJECT_ACTIONS = {"s3:DeleteObject", "s3:DeleteObjectVersion"}


def _purge_function(synth: Synth) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (lid, f) for lid, f in functions(synth, "Workflows").items() if f["Handler"] == HANDLER
    ]
    return found


def _resources(statement: dict[str, Any]) -> list[str]:
    return [flatten(r) for r in as_list(statement["Resource"])]


def _data_statements(synth: Synth, part: str, function: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements about the table and the buckets (not logs, X-Ray or the key)."""
    return [
        s
        for s in role_statements(synth, part, function)
        if any(a.startswith(("dynamodb:", "s3:")) for a in actions(s))
    ]


def test_a_daily_schedule_runs_the_purge_function(synth: Synth) -> None:
    logical_id, function = _purge_function(synth)
    assert function["Timeout"] == 900 and function["Architectures"] == ["arm64"]
    rules = [
        r["Properties"]
        for r in synth.resources("Workflows", "AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"]
    ]
    (rule,) = rules
    assert rule["ScheduleExpression"] == "rate(1 day)" and rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    permissions = [
        p["Properties"]
        for p in synth.resources("Workflows", "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    ]
    assert [p["Principal"] for p in permissions] == ["events.amazonaws.com"]


def test_the_job_uses_the_one_retention_setting(synth: Synth) -> None:
    _, function = _purge_function(synth)
    env = function["Environment"]["Variables"]
    assert env[naming.ENV_TRASH_RETENTION_DAYS] == str(Settings().trash_retention_days)
    assert Settings().trash_retention_days == DEFAULT_TRASH_RETENTION_DAYS
    config = BackendConfig.from_env({**env, naming.ENV_PUBLIC_BASE_URL: "https://x"})
    assert config.trash_retention_days == DEFAULT_TRASH_RETENTION_DAYS
    for name in (naming.ENV_TABLE, naming.ENV_UPLOAD_BUCKET, naming.ENV_PROCESSED_BUCKET):
        assert name in env


def test_the_purge_job_may_do_exactly_what_it_needs(synth: Synth) -> None:
    _, function = _purge_function(synth)
    found = _data_statements(synth, "Workflows", function)
    by_resource = {tuple(_resources(s)): s for s in found}
    assert len(by_resource) == len(found) == 5, [_resources(s) for s in found]

    (table,) = [s for s in found if any(a.startswith("dynamodb:") for a in actions(s))]
    assert actions(table) == set(JOB_ACCESS["TrashPurge"][Target.TABLE])
    assert actions(table) == {
        "dynamodb:Scan",
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    }
    (table_arn,) = _resources(table)
    assert "*" not in table_arn and "index" not in table_arn  # the table, no index

    # Abandoned uploads: their multipart uploads are aborted (only in the upload bucket).
    upload_objects = by_resource[(UPLOAD_OBJECTS,)]
    assert actions(upload_objects) == PURGE_OBJECT_ACTIONS | {"s3:AbortMultipartUpload"}
    processed_objects = by_resource[(PROCESSED_OBJECTS,)]
    assert actions(processed_objects) == PURGE_OBJECT_ACTIONS
    assert "Condition" not in upload_objects and "Condition" not in processed_objects
    for bucket in (UPLOAD_BUCKET, PROCESSED_BUCKET):
        statement = by_resource[(bucket,)]
        assert actions(statement) == {"s3:ListBucketVersions"}
        assert statement["Condition"] == USERS_ONLY
    # It reads and writes no object, tags nothing, publishes nothing.
    granted = set().union(*(actions(s) for s in role_statements(synth, "Workflows", function)))
    assert not {"s3:GetObject", "s3:PutObject", "sns:Publish", "dynamodb:BatchWriteItem"} & (
        granted
    )


def test_only_the_purge_job_may_scan_the_table(synth: Synth) -> None:
    scanners = [
        function["Handler"]
        for part in PARTS
        for function in functions(synth, part).values()
        if any("dynamodb:Scan" in actions(s) for s in role_statements(synth, part, function))
    ]
    assert scanners == [HANDLER]


def test_the_files_api_may_purge_on_request_and_nobody_else(synth: Synth) -> None:
    deleters: dict[str, list[dict[str, Any]]] = {}
    for part in PARTS:
        for function in functions(synth, part).values():
            found = [
                s
                for s in role_statements(synth, part, function)
                if actions(s) & (PURGE_OBJECT_ACTIONS | {"s3:ListBucketVersions"})
                and "s3:DeleteObject" not in actions(s) - PURGE_OBJECT_ACTIONS
            ]
            if any("s3:DeleteObjectVersion" in actions(s) for s in found):
                deleters[function["Handler"]] = found
    assert set(deleters) == {"backend.api.lambdas.files", HANDLER}
    files = {tuple(_resources(s)): s for s in deleters["backend.api.lambdas.files"]}
    assert actions(files[(UPLOAD_OBJECTS,)]) >= PURGE_OBJECT_ACTIONS
    assert actions(files[(PROCESSED_OBJECTS,)]) >= PURGE_OBJECT_ACTIONS
    for bucket in (UPLOAD_BUCKET, PROCESSED_BUCKET):
        assert actions(files[(bucket,)]) == {"s3:ListBucketVersions"}
        assert files[(bucket,)]["Condition"] == USERS_ONLY


def test_the_purge_function_gets_alarms_like_every_function(synth: Synth) -> None:
    logical_id, _ = _purge_function(synth)
    alarms = synth.resources("Audit", "AWS::CloudWatch::Alarm").values()
    watched = [
        a
        for a in alarms
        if any(
            d.get("Name") == "FunctionName" and f"Ref{logical_id}" in str(d.get("Value"))
            for d in a["Properties"].get("Dimensions", [])
        )
    ]
    assert len(watched) >= 2, "errors and throttles of the purge function need alarms"
