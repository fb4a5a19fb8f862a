"""backend/api/openapi.yaml is valid OpenAPI and describes exactly the routes we serve."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from pydantic import BaseModel

from backend.api.routes import ROUTES
from backend.logic import admin, inputs

SPEC_PATH = Path(__file__).resolve().parents[2] / "backend" / "api" / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

# The JSON body each operation parses (see backend/api/operations.py); the others take none.
BODIES: dict[str, type[BaseModel]] = {
    "initiate_upload": inputs.InitiateUpload,
    "upload_part_urls": inputs.PartNumbers,
    "complete_upload": inputs.CompleteUpload,
    "initiate_upload_batch": inputs.InitiateBatch,
    "complete_upload_batch": inputs.CompleteBatch,
    "upload_inline_batch": inputs.InlineBatch,
    "download_batch": inputs.DownloadBatch,
    "download_inline_batch": inputs.DownloadBatch,
    "move_file": inputs.MoveFile,
    "restore_from_trash": inputs.RestoreFromTrash,
    "empty_trash": inputs.EmptyTrash,
    "create_share": inputs.CreateShare,
    "ack_notifications": inputs.AckNotifications,
    "create_subscription": inputs.CreateSubscription,
    "set_user_quota": admin.SetQuota,
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.0.")
    validate(spec)


def test_spec_documents_exactly_the_routes(spec: dict[str, Any]) -> None:
    documented = {(m, p, op["operationId"]) for (m, p), op in _operations(spec).items()}
    served = {(r.method, r.path, r.operation) for r in ROUTES}
    assert documented == served, (
        f"undocumented routes: {sorted(served - documented)}; "
        f"documented but not served: {sorted(documented - served)}"
    )


def test_auth_matches_public_flag(spec: dict[str, Any]) -> None:
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    ops = _operations(spec)
    for route in ROUTES:
        op = ops[(route.method, route.path)]
        if route.public:
            assert op.get("security") == [], f"{route.key} is public: it needs 'security: []'"
        else:
            assert "security" not in op, f"{route.key} must use the global bearer security"
            assert "401" in op["responses"], f"{route.key} needs a 401 response"


def test_tags_follow_route_groups(spec: dict[str, Any]) -> None:
    ops = _operations(spec)
    for route in ROUTES:
        assert ops[(route.method, route.path)].get("tags") == [route.group], route.key


def test_every_response_is_described(spec: dict[str, Any]) -> None:
    for (method, path), op in _operations(spec).items():
        statuses = set(op["responses"])
        success = {s for s in statuses if s.startswith(("2", "3"))}
        assert len(success) == 1, f"{method} {path}: one success status, got {success}"
        assert "500" in statuses, f"{method} {path}: document 500"
        for status, response in op["responses"].items():
            response = _resolve(spec, response)
            if status in ("204", "302"):
                assert "content" not in response, f"{method} {path} {status} has no body"
            else:
                content = response.get("content", {})
                assert "application/json" in content, f"{method} {path} {status}"


@pytest.mark.parametrize("operation", sorted(r.operation for r in ROUTES))
def test_request_bodies_mirror_the_models(spec: dict[str, Any], operation: str) -> None:
    op = next(o for o in _operations(spec).values() if o["operationId"] == operation)
    model = BODIES.get(operation)
    if model is None:
        assert "requestBody" not in op, f"{operation} reads no body"
        return
    body = op["requestBody"]
    schema = _resolve(spec, body["content"]["application/json"]["schema"])
    fields = model.model_fields
    required = {name for name, field in fields.items() if field.is_required()}
    assert set(schema["properties"]) == set(fields), operation
    assert set(schema.get("required", [])) == required, operation
    assert schema["additionalProperties"] is False, f"{operation}: the models forbid extra fields"
    # An empty body counts as {}: it is only optional when no field is required.
    assert body.get("required", False) == bool(required), operation
    for name, field in fields.items():
        prop = _resolve(spec, schema["properties"][name])
        allows_none = type(None) in typing.get_args(field.annotation)
        assert bool(prop.get("nullable")) == allows_none, f"{operation}.{name} nullable"
        if not field.is_required() and field.default is not None:
            assert prop.get("default") == field.default, f"{operation}.{name} default"


def test_body_constraints_match_the_models(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    size = schemas["InitiateUpload"]["properties"]["size"]
    assert (size["minimum"], size["maximum"]) == (0, inputs.MAX_FILE_SIZE)
    content_type = schemas["InitiateUpload"]["properties"]["content_type"]
    assert content_type["pattern"] == inputs._CONTENT_TYPE
    parts = schemas["PartNumbers"]["properties"]["part_numbers"]
    assert parts["items"]["maximum"] == inputs.MAX_PARTS
    assert schemas["CompleteUpload"]["properties"]["parts"]["maxItems"] == inputs.MAX_PARTS
    quota = schemas["SetQuota"]["properties"]["quota_bytes"]
    assert (quota["minimum"], quota["maximum"]) == (1, admin.MAX_QUOTA_BYTES)
    assert schemas["EmptyTrash"]["properties"]["before"]["pattern"] == inputs.TIMESTAMP
    share = schemas["CreateShare"]["properties"]
    assert (share["expires_in_seconds"]["minimum"], share["expires_in_seconds"]["maximum"]) == (
        60,
        7 * 24 * 3600,
    )


def test_patterns_compile_in_python(spec: dict[str, Any]) -> None:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.append(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert found
    for pattern in found:
        re.compile(pattern)


def test_batch_items_document_the_one_file_bodies(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    item = schemas["CompleteBatch"]["properties"]["uploads"]["items"]
    assert set(item["properties"]) == set(inputs.CompleteBatchItem.model_fields)
    limit = inputs.InitiateBatch.model_fields["files"].metadata
    assert schemas["InitiateBatch"]["properties"]["files"]["maxItems"] == max(
        getattr(m, "max_length", 0) or 0 for m in limit
    )
