"""Handler tests: the real handlers against moto's in-process AWS mocks.

Each test runs twice: with boto3's DynamoDB client, as on AWS, and with the local stack's
``DirectDynamoDB``, which must answer every call the handlers make as boto3 does."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from backend import naming
from backend.api.app import handle
from backend.config import BackendConfig
from backend.data import keys
from backend.data.blobs import BlobStore
from backend.data.metadata import MetadataStore
from backend.local.dynamodb_direct import DirectDynamoDB
from backend.local.moto_dynamodb import install as install_moto_fixes
from backend.logic.context import Services

REGION = "us-east-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["boto3", "direct"])
def services(clock: Clock, request: pytest.FixtureRequest) -> Iterator[Services]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["S3_UPLOAD_PART_MIN_SIZE"] = str(1024)
    # The local stack's TransactWriteItems (moto's copies the whole table per transaction).
    install_moto_fixes()
    with mock_aws():
        db: Any = boto3.client("dynamodb", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        db.create_table(**naming.metadata_table_definition("meta"))
        if request.param == "direct":
            db = DirectDynamoDB(
                account_id=DEFAULT_ACCOUNT_ID, region=REGION, on_mutation=lambda: None
            )
        s3.create_bucket(Bucket="uploads")
        config = BackendConfig(
            region=REGION,
            table_name="meta",
            upload_bucket="uploads",
            processed_bucket="processed",
            public_base_url="https://share.example",
            epoch="e1",
            min_part_size=1024,
            single_put_max=4096,
            default_quota_bytes=1_000_000,
        )
        yield Services(
            config,
            MetadataStore(db, "meta", default_quota=1_000_000),
            BlobStore(s3, "uploads"),
            clock=clock,
        )


class Api:
    """Calls the real Lambda entry point with API Gateway v2 events."""

    def __init__(
        self, services: Services, sub: str, username: str, groups: list[str] | None = None
    ):
        self.services = services
        self.claims: dict[str, Any] = {"sub": sub, "username": username, "token_use": "access"}
        if groups:
            self.claims["cognito:groups"] = "[" + " ".join(groups) + "]"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        route: str | None = None,
        params: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        raw_body: str | None = None,
        binary: bytes | None = None,
        auth: bool = True,
    ) -> tuple[int, Any, dict[str, str]]:
        event = {
            "version": "2.0",
            "routeKey": f"{method} {route or path}",
            "rawPath": path,
            "headers": headers or {},
            "queryStringParameters": query,
            "pathParameters": params,
            "body": raw_body
            if raw_body is not None
            else (json.dumps(body) if body is not None else None),
            "isBase64Encoded": False,
            "requestContext": {"http": {"method": method, "path": path}},
        }
        if binary is not None:  # as API Gateway hands Lambda a binary body
            event.update(body=base64.b64encode(binary).decode("ascii"), isBase64Encoded=True)
        if auth:
            event["requestContext"]["authorizer"] = {"jwt": {"claims": self.claims, "scopes": None}}
        out = handle(self.services, event)
        payload: Any = None
        if out.get("isBase64Encoded"):  # a binary answer: its bytes
            payload = base64.b64decode(out["body"], validate=True)
        elif out.get("body"):
            payload = json.loads(out["body"])
        return out["statusCode"], payload, out["headers"]


@pytest.fixture
def alice(services: Services) -> Api:
    return Api(services, "sub-alice", "alice")


@pytest.fixture
def bob(services: Services) -> Api:
    return Api(services, "sub-bob", "bob")


def put_bytes(services: Services, upload: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
    """Stand in for the client: write the bytes where the pre-signed URLs point."""
    s3 = services.uploads._s3
    key = f"users/{upload['path']}"  # placeholder replaced below
    record = services.store.upload(_sub_of(upload, services), upload["upload_id"])
    assert record is not None
    key = record.blob_key
    if upload["mode"] == "single":
        s3.put_object(Bucket="uploads", Key=key, Body=data)
        return []
    parts = []
    size = upload["part_size"]
    for n in range(1, upload["part_count"] + 1):
        chunk = data[(n - 1) * size : n * size]
        out = s3.upload_part(
            Bucket="uploads", Key=key, UploadId=record.s3_upload_id, PartNumber=n, Body=chunk
        )
        parts.append({"part_number": n, "etag": out["ETag"].strip('"')})
    return parts


def _sub_of(upload: dict[str, Any], services: Services) -> str:
    return upload["_sub"]


def sort_keys(api: Api, prefix: str) -> list[str]:
    """The sort keys of the caller's items that start with ``prefix``."""
    store = api.services.store
    found = store._db.query(
        TableName=store._table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={
            ":pk": {"S": keys.user_pk(api.claims["sub"])},
            ":prefix": {"S": prefix},
        },
    )
    return [item["sk"]["S"] for item in found["Items"]]


def put_first_part(api: Api, upload: dict[str, Any], data: bytes) -> None:
    """Send only the first part of a multipart upload (one its client then abandons)."""
    record = api.services.store.upload(api.claims["sub"], upload["upload_id"])
    assert record is not None and record.s3_upload_id is not None
    api.services.uploads._s3.upload_part(
        Bucket="uploads",
        Key=record.blob_key,
        UploadId=record.s3_upload_id,
        PartNumber=1,
        Body=data[: upload["part_size"]],
    )


def upload_file(api: Api, path: str, data: bytes, **extra: Any) -> dict[str, Any]:
    status, up, _ = api.call("POST", "/uploads", {"path": path, "size": len(data), **extra})
    assert status == 201, up
    up["_sub"] = api.claims["sub"]
    parts = put_bytes(api.services, up, data)
    status, done, _ = api.call(
        "POST",
        f"/uploads/{up['upload_id']}/complete",
        {"parts": parts},
        route="/uploads/{upload_id}/complete",
        params={"upload_id": up["upload_id"]},
    )
    assert status == 200, done
    return done
