"""Accelerate-endpoint URLs, signed offline by the services the API Lambdas build from their
environment (``FILEVAULT_S3_ACCELERATE`` is set by the CDK app, never by the local stack)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from backend import naming
from backend.errors import BadRequest
from backend.workflows.runtime import services_from_env

BUCKET = "filevault-uploads-123456789012-eu-west-1"
KEY = "users/sub/blobs/f_0/v0"


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        naming.ENV_REGION: "eu-west-1",
        naming.ENV_TABLE: "meta",
        naming.ENV_UPLOAD_BUCKET: BUCKET,
        naming.ENV_PROCESSED_BUCKET: "processed",
        naming.ENV_PUBLIC_BASE_URL: "https://share.example",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(naming.ENV_AWS_ENDPOINT, raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


def test_accelerated_urls_use_the_accelerate_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(naming.ENV_S3_ACCELERATE, "1")
    services = services_from_env()
    assert services.config.s3_accelerate is True
    fast = services.accelerated().uploads
    urls = [
        fast.presign_put(KEY, 60),
        fast.presign_part(KEY, "upload-1", 3, 60),
        fast.presign_get(KEY, 60, filename="a b.txt", content_type="text/plain"),
    ]
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme == "https"
        assert parts.hostname == f"{BUCKET}.s3-accelerate.amazonaws.com"
        assert parts.path == f"/{KEY}"
        query = parse_qs(parts.query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert "/eu-west-1/s3/aws4_request" in query["X-Amz-Credential"][0]
    # Without the request asking, the same services sign for the regional endpoint.
    plain = urlsplit(services.uploads.presign_put(KEY, 60)).hostname or ""
    assert "s3-accelerate" not in plain and plain.startswith(BUCKET)
    # Only the URLs move: the API's own S3 calls keep the regular client.
    assert fast._s3 is services.uploads._s3


def test_without_the_deployment_flag_acceleration_is_refused() -> None:
    services = services_from_env()
    assert services.config.s3_accelerate is False and not services.uploads.can_accelerate
    with pytest.raises(BadRequest) as excinfo:
        services.accelerated()
    assert excinfo.value.code == "accelerate_unavailable"
    assert "turn 'accelerate' off in your profile" in excinfo.value.message
