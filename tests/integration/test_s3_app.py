"""S3App over a real loopback HTTP server, driven by boto3 (path-style, dummy credentials)."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3_server import MIN_PART, Server, s3_client

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "s3")
    yield srv
    srv.close()


@pytest.fixture
def s3(server: Server) -> Any:
    client = s3_client(server.endpoint)
    client.create_bucket(Bucket="vault")
    return client


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


# ------------------------------------------------------------------ basics
def test_bucket_lifecycle(server: Server) -> None:
    s3 = s3_client(server.endpoint)
    s3.create_bucket(Bucket="alpha")
    s3.head_bucket(Bucket="alpha")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["alpha"]
    assert s3.get_bucket_location(Bucket="alpha").get("LocationConstraint") in (None, "")
    s3.put_object(Bucket="alpha", Key="x", Body=b"1")
    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket="alpha")
    assert _code(excinfo) == "BucketNotEmpty"
    s3.delete_object(Bucket="alpha", Key="x")
    s3.delete_bucket(Bucket="alpha")
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket="alpha")
    assert _code(excinfo) == "404"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="alpha", Key="x", Body=b"1")
    assert _code(excinfo) == "NoSuchBucket"


def test_put_get_head_delete(s3: Any, server: Server) -> None:
    body = os.urandom(300_000)
    put = s3.put_object(
        Bucket="vault",
        Key="dir/file name+é.bin",
        Body=body,
        ContentType="application/x-test",
        Metadata={"owner": "alice", "File-Id": "f1"},
        ContentDisposition='attachment; filename="a.bin"',
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket="vault", Key="dir/file name+é.bin")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"owner": "alice", "file-id": "f1"}
    assert got["ContentDisposition"] == 'attachment; filename="a.bin"'
    head = s3.head_object(Bucket="vault", Key="dir/file name+é.bin")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == put["ETag"]
    s3.delete_object(Bucket="vault", Key="dir/file name+é.bin")
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="vault", Key="dir/file name+é.bin")
    assert _code(excinfo) == "NoSuchKey"
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket="vault", Key="dir/file name+é.bin")
    assert _code(excinfo) == "404"
    s3.delete_object(Bucket="vault", Key="never-existed")  # 204 as in S3
    assert [e.key for e in server.events] == ["dir/file name+é.bin"]
    assert server.events[0].etag == put["ETag"].strip('"')
    assert server.events[0].event_name == "ObjectCreated:Put"


def test_empty_object(s3: Any) -> None:
    s3.put_object(Bucket="vault", Key="empty", Body=b"")
    got = s3.get_object(Bucket="vault", Key="empty")
    assert got["Body"].read() == b""
    assert got["ETag"] == f'"{hashlib.md5(b"").hexdigest()}"'


def test_ranges(s3: Any) -> None:
    body = bytes(range(256)) * 40
    s3.put_object(Bucket="vault", Key="r", Body=body)
    got = s3.get_object(Bucket="vault", Key="r", Range="bytes=10-19")
    assert got["Body"].read() == body[10:20]
    assert got["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert (
        s3.get_object(Bucket="vault", Key="r", Range="bytes=10000-")["Body"].read()
        == (body[10000:])
    )
    assert s3.get_object(Bucket="vault", Key="r", Range="bytes=-7")["Body"].read() == body[-7:]
    assert (
        s3.get_object(Bucket="vault", Key="r", Range="bytes=5-99999")["Body"].read() == (body[5:])
    )
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="vault", Key="r", Range=f"bytes={len(body)}-")
    assert _code(excinfo) == "InvalidRange"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_response_overrides_and_conditionals(s3: Any) -> None:
    etag = s3.put_object(Bucket="vault", Key="c", Body=b"hello")["ETag"]
    got = s3.get_object(
        Bucket="vault",
        Key="c",
        ResponseContentDisposition='attachment; filename="x.txt"',
        ResponseContentType="text/plain",
    )
    assert got["ContentDisposition"] == 'attachment; filename="x.txt"'
    assert got["ContentType"] == "text/plain"
    assert s3.get_object(Bucket="vault", Key="c", IfMatch=etag)["Body"].read() == b"hello"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="vault", Key="c", IfMatch='"0000"')
    assert _code(excinfo) == "PreconditionFailed"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="vault", Key="c", IfNoneMatch=etag)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="vault", Key="c", Body=b"other", IfNoneMatch="*")
    assert _code(excinfo) == "PreconditionFailed"
    assert s3.get_object(Bucket="vault", Key="c")["Body"].read() == b"hello"


# ---------------------------------------------------------------- listing
def _all_keys_v2(s3: Any, **kwargs: Any) -> tuple[list[str], list[str], int]:
    keys: list[str] = []
    prefixes: list[str] = []
    pages = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="vault", **kwargs):
        pages += 1
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return keys, prefixes, pages


def test_listing_with_delimiter_and_pagination(s3: Any) -> None:
    names = [
        "a.txt",
        "b/1",
        "b/2",
        "b/c/3",
        "d/4",
        "e",
        "f g/h",
        "f+g",
        "z/é",
    ]
    for name in names:
        s3.put_object(Bucket="vault", Key=name, Body=name.encode())
    keys, prefixes, pages = _all_keys_v2(s3, PaginationConfig={"PageSize": 2})
    assert keys == sorted(names)
    assert pages == 5
    keys, prefixes, pages = _all_keys_v2(s3, Delimiter="/", PaginationConfig={"PageSize": 2})
    assert keys == ["a.txt", "e", "f+g"]
    assert prefixes == ["b/", "d/", "f g/", "z/"]
    assert pages == 4
    keys, prefixes, _ = _all_keys_v2(s3, Prefix="b/", Delimiter="/")
    assert keys == ["b/1", "b/2"]
    assert prefixes == ["b/c/"]
    keys, _, _ = _all_keys_v2(s3, StartAfter="d/4")
    assert keys == ["e", "f g/h", "f+g", "z/é"]
    page = s3.list_objects_v2(Bucket="vault", MaxKeys=3)
    assert page["IsTruncated"] is True
    assert page["KeyCount"] == 3
    # v1 with marker and delimiter
    v1 = s3.list_objects(Bucket="vault", Delimiter="/", Marker="b/")
    assert [o["Key"] for o in v1.get("Contents", [])] == ["e", "f+g"]
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == ["d/", "f g/", "z/"]
    v1_keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects").paginate(
            Bucket="vault", PaginationConfig={"PageSize": 4}
        )
        for o in page.get("Contents", [])
    ]
    assert v1_keys == sorted(names)


def test_delete_objects(s3: Any) -> None:
    for name in ("k1", "k2", "k3"):
        s3.put_object(Bucket="vault", Key=name, Body=b"x")
    result = s3.delete_objects(
        Bucket="vault", Delete={"Objects": [{"Key": "k1"}, {"Key": "k3"}, {"Key": "nope"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["k1", "k3", "nope"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="vault")["Contents"]] == ["k2"]


# -------------------------------------------------------------- multipart
def _parts(count: int, size: int) -> list[bytes]:
    return [os.urandom(size) for _ in range(count)]


def test_multipart_upload(s3: Any, server: Server) -> None:
    parts = [*_parts(3, MIN_PART), b"tail"]
    upload = s3.create_multipart_upload(Bucket="vault", Key="big", ContentType="video/mp4")
    upload_id = upload["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        etag = s3.upload_part(
            Bucket="vault", Key="big", UploadId=upload_id, PartNumber=number, Body=data
        )["ETag"]
        assert etag == f'"{hashlib.md5(data).hexdigest()}"'
        done.append({"PartNumber": number, "ETag": etag})
    listed = s3.list_parts(Bucket="vault", Key="big", UploadId=upload_id)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3, 4]
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    uploads = s3.list_multipart_uploads(Bucket="vault")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big", upload_id)]
    result = s3.complete_multipart_upload(
        Bucket="vault", Key="big", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert result["ETag"] == f'"{expected}-4"'
    whole = b"".join(parts)
    got = s3.get_object(Bucket="vault", Key="big")
    assert got["Body"].read() == whole
    assert got["ContentType"] == "video/mp4"
    # A range that spans the boundary between parts 1 and 2.
    ranged = s3.get_object(Bucket="vault", Key="big", Range=f"bytes={MIN_PART - 5}-{MIN_PART + 4}")
    assert ranged["Body"].read() == whole[MIN_PART - 5 : MIN_PART + 5]
    assert s3.list_multipart_uploads(Bucket="vault").get("Uploads", []) == []
    by_part = s3.get_object(Bucket="vault", Key="big", PartNumber=2)
    assert by_part["Body"].read() == parts[1]
    assert by_part["PartsCount"] == 4
    assert by_part["ContentRange"] == f"bytes {MIN_PART}-{2 * MIN_PART - 1}/{len(whole)}"
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket="vault", Key="big", PartNumber=5)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert server.events[-1].event_name == "ObjectCreated:CompleteMultipartUpload"
    assert server.events[-1].size == len(whole)


def test_multipart_errors(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket="vault", Key="m")["UploadId"]
    small = s3.upload_part(Bucket="vault", Key="m", UploadId=upload_id, PartNumber=1, Body=b"a")
    last = s3.upload_part(Bucket="vault", Key="m", UploadId=upload_id, PartNumber=2, Body=b"b")
    complete = {"Bucket": "vault", "Key": "m", "UploadId": upload_id}
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            **complete,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}]},
        )
    assert _code(excinfo) == "InvalidPart"
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            **complete,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 2, "ETag": last["ETag"]},
                    {"PartNumber": 1, "ETag": small["ETag"]},
                ]
            },
        )
    assert _code(excinfo) == "InvalidPartOrder"
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            **complete,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 1, "ETag": small["ETag"]},
                    {"PartNumber": 2, "ETag": last["ETag"]},
                ]
            },
        )
    assert _code(excinfo) == "EntityTooSmall"
    s3.abort_multipart_upload(**complete)
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket="vault", Key="m", UploadId=upload_id, PartNumber=3, Body=b"c")
    assert _code(excinfo) == "NoSuchUpload"
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(**complete)
    assert _code(excinfo) == "NoSuchUpload"


def test_multipart_with_checksums(s3: Any) -> None:
    parts = [*_parts(2, MIN_PART), b"end"]
    upload_id = s3.create_multipart_upload(Bucket="vault", Key="ck", ChecksumAlgorithm="SHA256")[
        "UploadId"
    ]
    done = []
    for number, data in enumerate(parts, start=1):
        response = s3.upload_part(
            Bucket="vault",
            Key="ck",
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="SHA256",
        )
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert response["ChecksumSHA256"] == digest
        done.append({"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": digest})
    listed = s3.list_parts(Bucket="vault", Key="ck", UploadId=upload_id)
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == [d["ChecksumSHA256"] for d in done]
    result = s3.complete_multipart_upload(
        Bucket="vault", Key="ck", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    composite = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    assert result["ChecksumSHA256"] == base64.b64encode(composite).decode() + "-3"
    head = s3.head_object(Bucket="vault", Key="ck", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == result["ChecksumSHA256"]
    # Composite checksums are not validated by botocore on GET; the bytes are.
    assert s3.get_object(Bucket="vault", Key="ck")["Body"].read() == b"".join(parts)


# ------------------------------------------------------------------ copy
def test_copy_object(s3: Any, server: Server) -> None:
    s3.put_object(Bucket="vault", Key="src", Body=b"payload", Metadata={"a": "1"})
    copied = s3.copy_object(Bucket="vault", Key="dst", CopySource={"Bucket": "vault", "Key": "src"})
    head = s3.head_object(Bucket="vault", Key="dst")
    assert head["Metadata"] == {"a": "1"}
    assert head["ETag"] == copied["CopyObjectResult"]["ETag"]
    s3.copy_object(
        Bucket="vault",
        Key="dst2",
        CopySource="vault/src",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="text/plain",
    )
    head2 = s3.head_object(Bucket="vault", Key="dst2")
    assert head2["Metadata"] == {"b": "2"}
    assert head2["ContentType"] == "text/plain"
    s3.delete_object(Bucket="vault", Key="src")
    assert s3.get_object(Bucket="vault", Key="dst")["Body"].read() == b"payload"
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket="vault", Key="x", CopySource={"Bucket": "vault", "Key": "src"})
    assert _code(excinfo) == "NoSuchKey"
    assert server.events[-1].event_name == "ObjectCreated:Copy"


# ------------------------------------------------------------- checksums
def _force_trailer_checksum(params: dict[str, Any], **_: Any) -> None:
    # botocore uses aws-chunked trailers only over https; this forces them on
    # plain http, exactly as a TLS client would send the body.
    algorithm = params["context"].get("checksum", {}).get("request_algorithm")
    if isinstance(algorithm, dict):
        algorithm["in"] = "trailer"


def test_default_checksum_aws_chunked_put(server: Server) -> None:
    s3 = s3_client(server.endpoint)
    s3.create_bucket(Bucket="vault")
    s3.meta.events.register("before-call.s3.PutObject", _force_trailer_checksum)
    s3.meta.events.register("before-call.s3.UploadPart", _force_trailer_checksum)
    seen: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> None:
        for name, value in request.headers.items():
            seen[name.lower()] = value.decode() if isinstance(value, bytes) else value

    s3.meta.events.register("before-send.s3.PutObject", capture)
    body = os.urandom(2_500_000)  # several 1 MiB aws-chunked chunks
    put = s3.put_object(Bucket="vault", Key="chunked", Body=body)
    assert "aws-chunked" in str(seen.get("content-encoding", ""))
    assert seen["x-amz-trailer"] == "x-amz-checksum-crc32"
    expected_crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket="vault", Key="chunked", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == expected_crc
    assert got["Body"].read() == body  # botocore validates the CRC32 while reading
    head = s3.head_object(Bucket="vault", Key="chunked")
    assert head["ContentLength"] == len(body)
    assert "ContentEncoding" not in head  # aws-chunked is framing, not stored


def test_default_checksum_header_put(s3: Any) -> None:
    # Over plain http boto3 sends its default CRC32 as a header.
    body = b"x" * 1000
    s3.put_object(Bucket="vault", Key="crc", Body=body)
    got = s3.get_object(Bucket="vault", Key="crc", ChecksumMode="ENABLED")
    assert "ChecksumCRC32" in got
    assert got["Body"].read() == body


def test_bad_sha256_checksum_rejected(s3: Any) -> None:
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="vault", Key="bad", Body=b"data", ChecksumSHA256=wrong)
    assert _code(excinfo) == "BadDigest"
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket="vault", Key="bad")
    assert _code(excinfo) == "404"
    right = base64.b64encode(hashlib.sha256(b"data").digest()).decode()
    s3.put_object(Bucket="vault", Key="good", Body=b"data", ChecksumSHA256=right)
    head = s3.head_object(Bucket="vault", Key="good", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == right


def test_bad_content_md5_rejected(s3: Any) -> None:
    wrong = base64.b64encode(hashlib.md5(b"nope").digest()).decode()
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="vault", Key="md5", Body=b"data", ContentMD5=wrong)
    assert _code(excinfo) == "BadDigest"


# ------------------------------------------------------------- transport
def _raw_exchange(port: int, request: bytes, *, then: bytes | None = None) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        first = sock.recv(65536)
        if then is not None:
            sock.sendall(then)
        chunks = [first]
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def test_expect_continue_is_sent_only_when_the_body_is_wanted(s3: Any, server: Server) -> None:
    head = (
        "PUT /{bucket}/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
        "Expect: 100-continue\r\n\r\n"
    )
    refused = _raw_exchange(server.port, head.format(bucket="missing").encode())
    assert refused.startswith(b"HTTP/1.1 404")
    assert b"100 Continue" not in refused
    accepted = _raw_exchange(server.port, head.format(bucket="vault").encode(), then=b"hello")
    assert accepted.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200")
    assert s3.get_object(Bucket="vault", Key="k")["Body"].read() == b"hello"


def test_presigned_put_with_form_content_type(s3: Any, server: Server) -> None:
    # urllib's default Content-Type broke moto; the body must still be stored raw.
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "vault", "Key": "form"})
    request = urllib.request.Request(url, data=b"a=1&b=2", method="PUT")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    assert s3.get_object(Bucket="vault", Key="form")["Body"].read() == b"a=1&b=2"


def test_unsupported_subresource_is_501(s3: Any) -> None:
    s3.put_object(Bucket="vault", Key="t", Body=b"x")
    with pytest.raises(ClientError) as excinfo:
        s3.get_object_acl(Bucket="vault", Key="t")
    assert _code(excinfo) == "NotImplemented"
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket="vault")  # object tags only
    assert _code(excinfo) == "NotImplemented"


def test_object_tagging_round_trip(s3: Any) -> None:
    s3.put_object(Bucket="vault", Key="t", Body=b"x")
    assert s3.get_object_tagging(Bucket="vault", Key="t")["TagSet"] == []
    tags = {"TagSet": [{"Key": "filevault-state", "Value": "trashed"}]}
    s3.put_object_tagging(Bucket="vault", Key="t", Tagging=tags)
    assert s3.get_object_tagging(Bucket="vault", Key="t")["TagSet"] == tags["TagSet"]
    s3.delete_object_tagging(Bucket="vault", Key="t")
    assert s3.get_object_tagging(Bucket="vault", Key="t")["TagSet"] == []
    with pytest.raises(ClientError) as excinfo:
        s3.put_object_tagging(Bucket="vault", Key="missing", Tagging=tags)
    assert _code(excinfo) == "NoSuchKey"


# ----------------------------------------------------------- persistence
def test_data_persists_across_restart(tmp_path: Path) -> None:
    first = Server(tmp_path / "s3")
    try:
        s3 = s3_client(first.endpoint)
        s3.create_bucket(Bucket="keep")
        s3.put_object(Bucket="keep", Key="a", Body=b"alpha")
        upload_id = s3.create_multipart_upload(Bucket="keep", Key="mp")["UploadId"]
        etag = s3.upload_part(
            Bucket="keep", Key="mp", UploadId=upload_id, PartNumber=1, Body=b"p1"
        )["ETag"]
    finally:
        first.close()
    second = Server(tmp_path / "s3")
    try:
        s3 = s3_client(second.endpoint)
        assert s3.get_object(Bucket="keep", Key="a")["Body"].read() == b"alpha"
        s3.complete_multipart_upload(
            Bucket="keep",
            Key="mp",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
        )
        assert s3.get_object(Bucket="keep", Key="mp")["Body"].read() == b"p1"
    finally:
        second.close()


# ---------------------------------------------------------------- memory
def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_large_multipart_keeps_server_memory_flat(tmp_path: Path) -> None:
    """64 MiB up and down: the server's peak RSS grows far less than the object."""
    part_size = 8 * 1024 * 1024
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend.local.s3",
            "--root",
            str(tmp_path / "s3"),
            "--min-part-size",
            str(part_size),
            "--bucket",
            "mem",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("port "), line
        s3 = s3_client(f"http://127.0.0.1:{int(line.split()[1])}")
        # Warm up every code path once so imports and buffers are in the baseline.
        s3.put_object(Bucket="mem", Key="warm", Body=os.urandom(2 * 1024 * 1024))
        s3.get_object(Bucket="mem", Key="warm")["Body"].read()
        time.sleep(0.2)
        baseline = _peak_rss_kib(process.pid)

        source = tmp_path / "part.bin"
        digest = hashlib.sha256()
        upload_id = s3.create_multipart_upload(Bucket="mem", Key="big")["UploadId"]
        done = []
        for number in range(1, 9):
            data = os.urandom(part_size)
            digest.update(data)
            source.write_bytes(data)
            del data
            with source.open("rb") as handle:
                etag = s3.upload_part(
                    Bucket="mem", Key="big", UploadId=upload_id, PartNumber=number, Body=handle
                )["ETag"]
            done.append({"PartNumber": number, "ETag": etag})
        s3.complete_multipart_upload(
            Bucket="mem", Key="big", UploadId=upload_id, MultipartUpload={"Parts": done}
        )
        readback = hashlib.sha256()
        size = 0
        for chunk in s3.get_object(Bucket="mem", Key="big")["Body"].iter_chunks(1024 * 1024):
            readback.update(chunk)
            size += len(chunk)
        assert size == 64 * 1024 * 1024
        assert readback.hexdigest() == digest.hexdigest()
        growth_mib = (_peak_rss_kib(process.pid) - baseline) / 1024
        print(f"server peak RSS growth: {growth_mib:.1f} MiB")
        assert growth_mib < 8, f"server peak RSS grew by {growth_mib:.1f} MiB"
    finally:
        process.terminate()
        process.wait(10)
