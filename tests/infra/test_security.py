"""Security properties of the synthesized templates, one assertion per property."""

from __future__ import annotations

from typing import Any

import pytest

from backend import naming
from backend.api.routes import GROUPS, ROUTES
from backend.infra.permissions import ACCESS
from tests.infra.conftest import PARTS, Synth, as_list, statements

DATA_SERVICES = ("s3:", "dynamodb:", "kms:", "sns:", "states:", "s3-object-lambda:")
# Actions IAM cannot scope to a resource (the stream consumer's event source mapping).
NO_RESOURCE_LEVEL = {"dynamodb:ListStreams"}


def _buckets(synth: Synth) -> list[tuple[str, str, dict[str, Any]]]:
    return list(synth.all_resources("AWS::S3::Bucket"))


def test_every_bucket_blocks_public_access_on_all_four_settings(synth: Synth) -> None:
    buckets = _buckets(synth)
    assert len(buckets) >= 5
    for part, logical_id, bucket in buckets:
        bpa = bucket["Properties"]["PublicAccessBlockConfiguration"]
        assert bpa == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, (part, logical_id)


def test_every_bucket_is_encrypted_versioned_and_data_buckets_use_the_cmk(synth: Synth) -> None:
    kms_buckets = 0
    for part, logical_id, bucket in _buckets(synth):
        props = bucket["Properties"]
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        algorithm = rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
        if algorithm == "aws:kms":
            kms_buckets += 1
            assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
            assert rule["BucketKeyEnabled"] is True
        else:
            # Log targets: S3 server access logs and CloudTrail need SSE-S3 there; the FIS
            # config bucket holds only fault files the FIS service writes.
            assert algorithm == "AES256"
            assert "Log" in logical_id or logical_id.startswith("FisConfigs"), (part, logical_id)
    assert kms_buckets == 3  # uploads, processed, analytics


def test_every_bucket_but_the_log_target_writes_access_logs(synth: Synth) -> None:
    unlogged = [
        logical_id
        for _, logical_id, bucket in _buckets(synth)
        if "LoggingConfiguration" not in bucket["Properties"]
    ]
    assert len(unlogged) == 1 and unlogged[0].startswith("AccessLogs"), unlogged


def _denies_plain_http(policy: dict[str, Any]) -> bool:
    return any(
        s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in statements(policy)
    )


def test_every_bucket_policy_denies_requests_without_tls(synth: Synth) -> None:
    policies = {}
    for part, _, policy in synth.all_resources("AWS::S3::BucketPolicy"):
        ref = policy["Properties"]["Bucket"]["Ref"]
        policies[(part, ref)] = policy["Properties"]["PolicyDocument"]
        assert _denies_plain_http(policy["Properties"]["PolicyDocument"]), ref
    for part, logical_id, _ in _buckets(synth):
        assert (part, logical_id) in policies, f"{logical_id} has no bucket policy"


def test_every_topic_is_kms_encrypted_and_tls_only(synth: Synth) -> None:
    topics = list(synth.all_resources("AWS::SNS::Topic"))
    assert len(topics) == 2  # user notifications, ops alarms
    for _, logical_id, topic in topics:
        assert topic["Properties"]["KmsMasterKeyId"], logical_id
    topic_policies = list(synth.all_resources("AWS::SNS::TopicPolicy"))
    assert len(topic_policies) == len(topics)
    for _, _, policy in topic_policies:
        assert _denies_plain_http(policy["Properties"]["PolicyDocument"])


def test_the_data_key_rotates(synth: Synth) -> None:
    keys = synth.resources("Storage", "AWS::KMS::Key")
    assert len(keys) == 1
    assert next(iter(keys.values()))["Properties"]["EnableKeyRotation"] is True


def test_upload_bucket_lifecycle_cors_acceleration_and_events(synth: Synth) -> None:
    uploads = next(
        b for lid, b in synth.resources("Storage", "AWS::S3::Bucket").items() if "Uploads" in lid
    )["Properties"]
    rules = uploads["LifecycleConfiguration"]["Rules"]
    assert any(
        r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 7 for r in rules
    )
    assert any(
        t["StorageClass"] == "INTELLIGENT_TIERING" for r in rules for t in r.get("Transitions", [])
    )
    assert any("NoncurrentVersionExpiration" in r for r in rules)
    # No rule expires current objects: S3 would count from each object's creation, so a file
    # older than the trash retention would lose its bytes within a day of being trashed (the
    # purge job deletes trashed files' bytes, counting from the trash time; ADR 005).
    assert not [r["Id"] for r in rules if "ExpirationInDays" in r or "ExpirationDate" in r]
    assert not [r["Id"] for r in rules if r.get("TagFilters")]
    assert uploads["AccelerateConfiguration"] == {"AccelerationStatus": "Enabled"}
    cors = uploads["CorsConfiguration"]["CorsRules"][0]
    assert {"PUT", "GET"} <= set(cors["AllowedMethods"])
    assert "ETag" in cors["ExposedHeaders"]
    assert uploads["NotificationConfiguration"]["EventBridgeConfiguration"] == {
        "EventBridgeEnabled": True
    }


def test_metadata_table_matches_naming_and_is_protected(synth: Synth) -> None:
    tables = synth.resources("Data", "AWS::DynamoDB::Table")
    assert len(tables) == 1
    props = next(iter(tables.values()))["Properties"]
    expected = naming.metadata_table_definition("x")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == expected["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(
        expected["AttributeDefinitions"], key=str
    )
    assert [
        (g["IndexName"], g["KeySchema"], g["Projection"]) for g in props["GlobalSecondaryIndexes"]
    ] == [
        (g["IndexName"], g["KeySchema"], g["Projection"])
        for g in expected["GlobalSecondaryIndexes"]
    ]
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": naming.TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert props["SSESpecification"]["KMSMasterKeyId"]
    assert props["DeletionProtectionEnabled"] is True


def test_user_pool_policy_mfa_threat_protection_and_admins_group(synth: Synth) -> None:
    pool = next(iter(synth.resources("Auth", "AWS::Cognito::UserPool").values()))["Properties"]
    password = pool["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(
        password[k]
        for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    groups = synth.resources("Auth", "AWS::Cognito::UserPoolGroup")
    assert [g["Properties"]["GroupName"] for g in groups.values()] == [naming.ADMINS_GROUP]


def test_desktop_client_is_public_srp_and_refresh_only(synth: Synth) -> None:
    clients = synth.resources("Auth", "AWS::Cognito::UserPoolClient")
    assert len(clients) == 1
    client = next(iter(clients.values()))["Properties"]
    assert client["GenerateSecret"] is False
    assert sorted(client["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    assert "AllowedOAuthFlows" not in client
    assert client["EnableTokenRevocation"] is True
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_every_route_is_deployed_with_jwt_except_the_public_resolver(synth: Synth) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synth.resources("Api", "AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {route.key for route in ROUTES}
    for route in ROUTES:
        deployed = routes[route.key]
        if route.public:
            assert deployed["AuthorizationType"] == "NONE", route.key
            assert "AuthorizerId" not in deployed
        else:
            assert deployed["AuthorizationType"] == "JWT", route.key
            assert deployed["AuthorizerId"], route.key
    authorizers = synth.resources("Api", "AWS::ApiGatewayV2::Authorizer")
    assert len(authorizers) == 1
    jwt = next(iter(authorizers.values()))["Properties"]
    assert jwt["AuthorizerType"] == "JWT"
    assert jwt["IdentitySource"] == ["$request.header.Authorization"]


def test_api_stage_throttles_and_writes_access_logs(synth: Synth) -> None:
    stages = synth.resources("Api", "AWS::ApiGatewayV2::Stage")
    assert len(stages) == 1
    stage = next(iter(stages.values()))["Properties"]
    throttle = stage["DefaultRouteSettings"]
    assert throttle["ThrottlingRateLimit"] > 0 and throttle["ThrottlingBurstLimit"] > 0
    assert stage["AccessLogSettings"]["DestinationArn"]
    assert "$context.requestId" in stage["AccessLogSettings"]["Format"]


def test_one_arm64_traced_lambda_per_route_group(synth: Synth) -> None:
    functions = synth.resources("Api", "AWS::Lambda::Function").values()
    # (The API stack also holds CDK's cross-region reference reader, a Node.js provider.)
    by_handler = {
        f["Properties"]["Handler"]: f["Properties"]
        for f in functions
        if f["Properties"]["Handler"].startswith("backend.")
    }
    assert set(by_handler) == {f"backend.api.lambdas.{group}" for group in GROUPS}
    for props in by_handler.values():
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert any("AWSLambdaPowertoolsPythonV3" in str(layer) for layer in props["Layers"])
        env = props["Environment"]["Variables"]
        for name in (
            naming.ENV_TABLE,
            naming.ENV_UPLOAD_BUCKET,
            naming.ENV_PROCESSED_BUCKET,
            naming.ENV_PUBLIC_BASE_URL,
        ):
            assert name in env
    public = by_handler["backend.api.lambdas.public"]
    assert public["ReservedConcurrentExecutions"] > 0


def test_every_route_group_has_declared_permissions() -> None:
    assert set(ACCESS) == set(GROUPS)


def _iam_documents(synth: Synth) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for part in PARTS:
        for logical_id, res in synth.templates[part].get("Resources", {}).items():
            props = res.get("Properties", {})
            if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                found.append((part, logical_id, props["PolicyDocument"]))
            elif res["Type"] == "AWS::IAM::Role":
                for inline in props.get("Policies", []):
                    found.append((part, logical_id, inline["PolicyDocument"]))
    return found


def test_no_iam_policy_uses_a_wildcard_action(synth: Synth) -> None:
    documents = _iam_documents(synth)
    assert len(documents) > 20
    wild = [
        (part, logical_id, action)
        for part, logical_id, doc in documents
        for s in statements(doc)
        for action in as_list(s.get("Action", []))
        if "*" in action
    ]
    assert wild == []


def test_no_data_action_is_granted_on_every_resource(synth: Synth) -> None:
    broad = [
        (part, logical_id, s.get("Action"))
        for part, logical_id, doc in _iam_documents(synth)
        for s in statements(doc)
        if s["Effect"] == "Allow"
        and "*" in as_list(s.get("Resource", []))
        and any(
            str(a).startswith(DATA_SERVICES) and a not in NO_RESOURCE_LEVEL
            for a in as_list(s.get("Action", []))
        )
    ]
    assert broad == []


def test_no_role_of_ours_has_an_aws_managed_policy(synth: Synth) -> None:
    for part, logical_id, role in synth.all_resources("AWS::IAM::Role"):
        if logical_id.startswith("CustomCrossRegionExport"):
            continue  # CDK's own cross-region reference provider (basic execution role)
        assert "ManagedPolicyArns" not in role["Properties"], (part, logical_id)


@pytest.mark.parametrize("part", ["Workflows"])
def test_state_machines_log_trace_and_substitute_every_placeholder(synth: Synth, part: str) -> None:
    from backend.workflows.definitions import STATE_MACHINES

    machines = list(synth.resources(part, "AWS::StepFunctions::StateMachine").values())
    assert len(machines) == len(STATE_MACHINES)
    expected = sorted(sorted(p.name for p in spec.placeholders) for spec in STATE_MACHINES)
    assert sorted(sorted(m["Properties"]["DefinitionSubstitutions"]) for m in machines) == expected
    for machine in machines:
        props = machine["Properties"]
        assert props["LoggingConfiguration"]["Level"] == "ALL"
        assert props["TracingConfiguration"] == {"Enabled": True}


def test_uploads_start_the_workflow_and_the_watermark_access_point_exists(synth: Synth) -> None:
    rules = list(synth.resources("Workflows", "AWS::Events::Rule").values())
    assert any(r["Properties"]["EventPattern"]["source"] == ["aws.s3"] for r in rules)
    assert synth.resources("Workflows", "AWS::S3ObjectLambda::AccessPoint")
    mappings = synth.resources("Workflows", "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 1  # the analytics stream consumer
    assert synth.resources("Workflows", "AWS::SNS::Subscription")  # the inbox subscriber


def test_edge_waf_uses_managed_rules_and_a_rate_limit(synth: Synth) -> None:
    acl = next(iter(synth.resources("Edge", "AWS::WAFv2::WebACL").values()))["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed
    assert any("RateBasedStatement" in r["Statement"] for r in acl["Rules"])
    distribution = next(iter(synth.resources("Api", "AWS::CloudFront::Distribution").values()))
    config = distribution["Properties"]["DistributionConfig"]
    assert config["WebACLId"]
    assert any(o.get("OriginAccessControlId") for o in config["Origins"])
    assert config["Logging"]["Bucket"]


def test_trail_validates_log_files_and_records_s3_data_events(synth: Synth) -> None:
    trail = next(iter(synth.resources("Audit", "AWS::CloudTrail::Trail").values()))["Properties"]
    assert trail["EnableLogFileValidation"] is True
    data = [r for s in trail["EventSelectors"] for r in s.get("DataResources", [])]
    assert {d["Type"] for d in data} == {"AWS::S3::Object"}
    assert len(data[0]["Values"]) == 3


def test_operations_alarms_dashboard_parameters_and_fault_injection(synth: Synth) -> None:
    alarms = synth.resources("Audit", "AWS::CloudWatch::Alarm").values()
    metrics = {a["Properties"].get("MetricName") for a in alarms}
    assert {"5xx", "Errors", "Throttles", "ExecutionsFailed", "WriteThrottleEvents"} <= metrics
    assert all(a["Properties"]["AlarmActions"] for a in alarms)
    assert synth.resources("Audit", "AWS::CloudWatch::Dashboard")
    assert len(synth.resources("Audit", "AWS::SSM::Parameter")) >= 4
    fis = next(iter(synth.resources("Audit", "AWS::FIS::ExperimentTemplate").values()))
    actions = fis["Properties"]["Actions"]
    assert {a["ActionId"] for a in actions.values()} == {"aws:lambda:invocation-error"}
    assert fis["Properties"]["StopConditions"][0]["Source"] == "aws:cloudwatch:alarm"


def test_athena_workgroup_is_enforced_limited_and_has_the_named_queries(synth: Synth) -> None:
    from backend.infra.analytics_queries import QUERIES, TABLE

    workgroup = next(iter(synth.resources("Analytics", "AWS::Athena::WorkGroup").values()))
    config = workgroup["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] > 0
    encryption = config["ResultConfiguration"]["EncryptionConfiguration"]
    assert encryption["EncryptionOption"] == "SSE_KMS"
    queries = synth.resources("Analytics", "AWS::Athena::NamedQuery").values()
    assert {q["Properties"]["Name"] for q in queries} == set(QUERIES)
    tables = synth.resources("Analytics", "AWS::Glue::Table").values()
    assert [t["Properties"]["TableInput"]["Name"] for t in tables] == [TABLE]
    assert all(f"FROM {TABLE}" in sql for _, sql in QUERIES.values())


def test_outputs_the_desktop_needs(synth: Synth) -> None:
    from backend.infra import outputs

    found = {key for part in PARTS for key in synth.templates[part].get("Outputs", {})}
    assert set(outputs.REQUIRED) | {outputs.UPLOAD_BUCKET} <= found
