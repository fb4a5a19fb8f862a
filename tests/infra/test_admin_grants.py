"""The admin API's function in the templates: its own role, exactly the Cognito actions it
calls on the one user pool, its table actions, and no other function near the user pool."""

from __future__ import annotations

from typing import Any

from backend import naming
from backend.infra.nag import flatten
from backend.infra.permissions import ACCESS, ADMIN_USER_POOL_ACTIONS, Target
from tests.infra.conftest import (
    PARTS,
    Synth,
    actions,
    as_list,
    functions,
    role_statements,
)

ADMIN_HANDLER = "backend.api.lambdas.admin"


def _admin(synth: Synth) -> dict[str, Any]:
    (function,) = [f for f in functions(synth, "Api").values() if f["Handler"] == ADMIN_HANDLER]
    return function


def _user_pool_arn(synth: Synth) -> str:
    """The Auth stack's user pool ARN as the Api stack imports it."""
    (pool_id,) = synth.resources("Auth", "AWS::Cognito::UserPool")
    return pool_id


def test_the_admin_function_has_a_role_of_its_own(synth: Synth) -> None:
    roles = [f["Role"]["Fn::GetAtt"][0] for f in functions(synth, "Api").values()]
    admin_role = _admin(synth)["Role"]["Fn::GetAtt"][0]
    assert roles.count(admin_role) == 1


def test_admin_may_call_exactly_its_cognito_actions_on_the_user_pool(synth: Synth) -> None:
    found = role_statements(synth, "Api", _admin(synth))
    cognito = [s for s in found if any(a.startswith("cognito-idp:") for a in actions(s))]
    assert len(cognito) == 1
    (statement,) = cognito
    assert statement["Effect"] == "Allow" and "Condition" not in statement
    assert actions(statement) == set(ADMIN_USER_POOL_ACTIONS)
    assert set(ADMIN_USER_POOL_ACTIONS) == {
        "cognito-idp:ListUsers",
        "cognito-idp:ListGroups",
        "cognito-idp:ListUsersInGroup",
        "cognito-idp:AdminListGroupsForUser",
        "cognito-idp:AdminDisableUser",
        "cognito-idp:AdminEnableUser",
        "cognito-idp:AdminUserGlobalSignOut",
    }
    (resource,) = as_list(statement["Resource"])
    flat = flatten(resource)
    # The Auth stack's pool, imported by ARN: one resource, no wildcard.
    assert "*" not in flat and _user_pool_arn(synth) in flat and "Arn" in flat, flat


def test_admin_table_access_is_the_declared_one_and_nothing_else(synth: Synth) -> None:
    found = role_statements(synth, "Api", _admin(synth))
    table = [s for s in found if any(a.startswith("dynamodb:") for a in actions(s))]
    (statement,) = table
    assert actions(statement) == set(ACCESS["admin"][Target.TABLE])
    assert actions(statement) == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }
    (resource,) = as_list(statement["Resource"])
    assert "index" not in flatten(resource) and "*" not in flatten(resource)
    data = {a.split(":")[0] for s in found for a in actions(s)}
    # Logs and X-Ray (every function), the FIS extension's config (every API function), KMS
    # through DynamoDB; no S3 data, topic or workflow access.
    assert not any(
        a.startswith(("sns:", "states:", "s3-object-lambda:")) for s in found for a in actions(s)
    )
    s3_actions = {a for s in found for a in actions(s) if a.startswith("s3:")}
    assert s3_actions <= {"s3:ListBucket", "s3:GetObject"}
    assert "cognito-idp" in data and "dynamodb" in data
    kms = [s for s in found if s.get("Sid") == "DataKeyViaServices"]
    assert len(kms) == 1
    via = as_list(kms[0]["Condition"]["StringEquals"]["kms:ViaService"])
    assert [flatten(v) for v in via] == ["dynamodb.<AWS::Region>.amazonaws.com"]


def test_no_other_function_may_touch_the_user_pool(synth: Synth) -> None:
    touching = {
        function["Handler"]
        for part in PARTS
        for function in functions(synth, part).values()
        for statement in role_statements(synth, part, function)
        if any(a.startswith("cognito-idp:") for a in actions(statement))
    }
    assert touching == {ADMIN_HANDLER}


def test_only_the_admin_function_is_told_the_user_pool(synth: Synth) -> None:
    told = {
        function["Handler"]: function["Environment"]["Variables"][naming.ENV_USER_POOL_ID]
        for part in PARTS
        for function in functions(synth, part).values()
        if naming.ENV_USER_POOL_ID in function.get("Environment", {}).get("Variables", {})
    }
    assert set(told) == {ADMIN_HANDLER}
    assert _user_pool_arn(synth) in flatten(told[ADMIN_HANDLER])


def test_every_admin_route_is_behind_the_jwt_authorizer(synth: Synth) -> None:
    routes = synth.resources("Api", "AWS::ApiGatewayV2::Route").values()
    admin = {r["Properties"]["RouteKey"]: r["Properties"] for r in routes}
    keys = [k for k in admin if " /admin/" in k]
    assert sorted(keys) == sorted(
        [
            "GET /admin/users",
            "PUT /admin/users/{user_id}/quota",
            "POST /admin/users/{user_id}/disable",
            "POST /admin/users/{user_id}/enable",
        ]
    )
    for key in keys:
        assert admin[key]["AuthorizationType"] == "JWT", key
