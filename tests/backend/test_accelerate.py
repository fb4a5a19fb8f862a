"""S3 Transfer Acceleration: a client that sends ``X-FileVault-Accelerate: 1`` gets URLs on the
accelerate endpoint where the deployment offers it, and a clear 400 where it does not."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from backend import naming
from backend.data.blobs import ACCELERATE_CONFIG, BlobStore
from backend.logic.context import Services
from tests.backend.conftest import REGION, Api, upload_file

ACCELERATED_HOST = "uploads.s3-accelerate.amazonaws.com"
ASK = {naming.ACCELERATE_HEADER: "1"}


@pytest.fixture
def accelerating(services: Services) -> Api:
    """Alice on a deployment with acceleration: an accelerate client is injected for signing."""
    signer = boto3.client("s3", region_name=REGION, config=ACCELERATE_CONFIG)
    uploads = BlobStore(services.uploads._s3, "uploads", accelerate_client=signer)
    return Api(dataclasses.replace(services, uploads=uploads), "sub-alice", "alice")


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _urls(body: dict[str, Any]) -> list[str]:
    return [p["url"] for p in body["parts"]]


def test_urls_are_accelerated_only_when_asked(accelerating: Api) -> None:
    api = accelerating
    status, plain, _ = api.call("POST", "/uploads", {"path": "p.txt", "size": 10})
    assert status == 201 and all(_host(u) != ACCELERATED_HOST for u in _urls(plain))

    status, single, _ = api.call("POST", "/uploads", {"path": "s.txt", "size": 10}, headers=ASK)
    assert status == 201 and single["mode"] == "single"
    assert [_host(u) for u in _urls(single)] == [ACCELERATED_HOST]

    size = 10_000  # multipart with the test config's 1 KiB parts
    status, multi, _ = api.call("POST", "/uploads", {"path": "m.bin", "size": size}, headers=ASK)
    assert status == 201 and multi["mode"] == "multipart"
    assert {_host(u) for u in _urls(multi)} == {ACCELERATED_HOST}
    upload_id = multi["upload_id"]
    status, more, _ = api.call(
        "POST",
        f"/uploads/{upload_id}/parts",
        {"part_numbers": [2, 3]},
        route="/uploads/{upload_id}/parts",
        params={"upload_id": upload_id},
        headers=ASK,
    )
    assert status == 200 and {_host(u) for u in _urls(more)} == {ACCELERATED_HOST}

    status, batch, _ = api.call(
        "POST", "/upload-batches", {"files": [{"path": "b/1.txt", "size": 3}]}, headers=ASK
    )
    assert status == 200
    assert [_host(u) for u in _urls(batch["items"][0]["upload"])] == [ACCELERATED_HOST]


def test_download_urls_are_accelerated_when_asked(accelerating: Api) -> None:
    done = upload_file(accelerating, "d.txt", b"hello")  # our own S3 calls stay regular
    fid = done["file_id"]
    route = {"route": "/files/{file_id}/download", "params": {"file_id": fid}}
    status, plain, _ = accelerating.call("GET", "x", **route)  # type: ignore[arg-type]
    assert status == 200 and _host(plain["url"]) != ACCELERATED_HOST
    status, fast, _ = accelerating.call("GET", "x", headers=ASK, **route)  # type: ignore[arg-type]
    assert status == 200 and _host(fast["url"]) == ACCELERATED_HOST
    assert "X-Amz-Signature=" in fast["url"]
    status, batch, _ = accelerating.call(
        "POST", "/download-batches", {"file_ids": [fid]}, headers=ASK
    )
    assert status == 200 and _host(batch["items"][0]["download"]["url"]) == ACCELERATED_HOST


def test_a_deployment_without_acceleration_answers_400(alice: Api) -> None:
    for method, path, body in (
        ("POST", "/uploads", {"path": "x.txt", "size": 1}),
        ("GET", "/me", None),
    ):
        status, out, _ = alice.call(method, path, body, headers={"X-FileVault-Accelerate": "1"})
        assert status == 400, out
        assert out["code"] == "accelerate_unavailable"
        assert "profile" in out["message"] and "accelerate" in out["message"]
    status, out, _ = alice.call("GET", "/me", headers={naming.ACCELERATE_HEADER: "0"})
    assert status == 200
    status, out, _ = alice.call("GET", "/me", headers={naming.ACCELERATE_HEADER: "fast"})
    assert status == 400 and out["code"] == "validation_error"
