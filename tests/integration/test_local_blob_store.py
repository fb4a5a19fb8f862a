"""The local stack's LocalBlobStore answers as the boto3 BlobStore does through the S3 API:
same ETags, stored checksums and content types, same errors, same object-created events."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from backend.data.blobs import BlobStore
from backend.local import inprocess
from backend.local.blob_store import LocalBlobStore, blob_store
from tests.integration.s3_server import Server, s3_client

BUCKET = "vault"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "s3")
    s3_client(srv.endpoint).create_bucket(Bucket=BUCKET)
    yield srv
    srv.close()


@pytest.fixture
def s3(server: Server) -> Any:
    return s3_client(server.endpoint)


def stores(server: Server, bucket: str = BUCKET) -> dict[str, BlobStore]:
    client = s3_client(server.endpoint)
    return {
        "boto3": BlobStore(client, bucket),
        "local": LocalBlobStore(client, bucket, objects=server.store),
    }


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def failure(call: Any) -> tuple[str, str, int, str]:
    with pytest.raises(ClientError) as excinfo:
        call()
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        excinfo.value.operation_name,
    )


def test_put_bytes_stores_the_same_object_and_raises_the_same_event(
    server: Server, s3: Any
) -> None:
    data = b"the same bytes either way\n" * 100
    etags = {}
    for name, store in stores(server).items():
        etags[name] = store.put_bytes(
            f"u/{name}", data, sha256_b64=sha256_b64(data), content_type="text/plain"
        )
    assert etags["local"] == etags["boto3"] == hashlib.md5(data).hexdigest()
    heads = {
        name: s3.head_object(Bucket=BUCKET, Key=f"u/{name}", ChecksumMode="ENABLED")
        for name in etags
    }
    for field in ("ETag", "ContentLength", "ContentType", "ChecksumSHA256"):
        assert heads["local"][field] == heads["boto3"][field], field
    assert heads["local"]["ChecksumSHA256"] == sha256_b64(data)
    assert [(e.key, e.event_name, e.size) for e in server.events] == [
        ("u/boto3", "ObjectCreated:Put", len(data)),
        ("u/local", "ObjectCreated:Put", len(data)),
    ]


def test_put_bytes_refuses_bytes_that_do_not_match_their_sha256_as_s3_does(
    server: Server, s3: Any
) -> None:
    answers = {
        name: failure(
            lambda store=store, name=name: store.put_bytes(
                f"u/{name}", b"sent", sha256_b64=sha256_b64(b"meant"), content_type="text/plain"
            )
        )
        for name, store in stores(server).items()
    }
    assert answers["local"] == answers["boto3"]
    assert answers["local"][0] == "BadDigest"
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert server.events == []


def test_put_bytes_to_a_missing_bucket_or_an_overlong_key_fails_as_s3_does(server: Server) -> None:
    missing = {
        name: failure(
            lambda store=store: store.put_bytes(
                "u/x", b"x", sha256_b64=sha256_b64(b"x"), content_type="text/plain"
            )
        )
        for name, store in stores(server, "no-such-bucket").items()
    }
    assert missing["local"] == missing["boto3"]
    assert missing["local"][:3] == ("NoSuchBucket", missing["local"][1], 404)
    overlong = {
        name: failure(
            lambda store=store: store.put_bytes(
                "k" * 1025, b"x", sha256_b64=sha256_b64(b"x"), content_type="text/plain"
            )
        )
        for name, store in stores(server).items()
    }
    assert overlong["local"] == overlong["boto3"]
    assert overlong["local"][0] == "KeyTooLongError"


def test_read_answers_the_same_bytes_and_prefixes(server: Server, s3: Any) -> None:
    data = bytes(range(256)) * 5000  # over one of the store's 1 MiB read chunks
    s3.put_object(Bucket=BUCKET, Key="u/f", Body=data)
    s3.put_object(Bucket=BUCKET, Key="u/empty", Body=b"")
    local, boto = stores(server)["local"], stores(server)["boto3"]
    assert local.read("u/f") == boto.read("u/f") == data
    for first in (0, 1, 3, len(data) + 10):
        assert local.read("u/f", first=first) == boto.read("u/f", first=first), first
    assert local.read("u/f", first=3) == data[:3]
    assert local.read("u/empty") == boto.read("u/empty") == b""


def test_a_missing_object_fails_the_same_and_reads_as_absent(server: Server) -> None:
    local, boto = stores(server)["local"], stores(server)["boto3"]
    assert failure(lambda: local.read("u/none")) == failure(lambda: boto.read("u/none"))
    assert failure(lambda: local.read("u/none"))[0] == "NoSuchKey"
    assert local.read_if_present("u/none") is None
    assert boto.read_if_present("u/none") is None


def test_the_stack_goes_through_the_s3_api_when_internal_calls_use_http(
    server: Server, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert type(blob_store(s3, BUCKET, server.store)) is LocalBlobStore
    monkeypatch.setenv(inprocess.DISABLE_ENV, "1")
    assert type(blob_store(s3, BUCKET, server.store)) is BlobStore
