"""SigV4 verification against requests signed by botocore itself."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from backend.local.sigv4 import SignatureError, SigV4Verifier

ACCESS_KEY = "AKIDLOCALTEST"
SECRET = "local-secret-key"
ENDPOINT = "http://127.0.0.1:9000"


def _verifier(now: datetime | None = None, **kwargs: Any) -> SigV4Verifier:
    clock = (lambda: now) if now else (lambda: datetime.now(UTC))
    return SigV4Verifier({ACCESS_KEY: SECRET}, clock=clock, **kwargs)


def _s3(secret: str = SECRET, access_key: str = ACCESS_KEY) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )


def _parts(url: str) -> dict[str, Any]:
    split = urlsplit(url)
    return {"host": split.netloc, "raw_path": split.path, "raw_query": split.query}


def _verify_url(
    url: str,
    method: str,
    *,
    verifier: SigV4Verifier | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    parts = _parts(url)
    all_headers = {"host": parts["host"], **(headers or {})}
    return (verifier or _verifier()).verify(method=method, headers=all_headers, body=None, **parts)


def _presign(operation: str, expires: int = 3600, **params: Any) -> str:
    url: str = _s3().generate_presigned_url(
        operation, Params={"Bucket": "uploads", **params}, ExpiresIn=expires
    )
    return url


def _code(excinfo: pytest.ExceptionInfo[SignatureError]) -> str:
    return excinfo.value.code


# ------------------------------------------------------------ pre-signed
@pytest.mark.parametrize(
    ("operation", "method", "params"),
    [
        ("get_object", "GET", {"Key": "users/abc/file.bin"}),
        ("put_object", "PUT", {"Key": "users/abc/file.bin"}),
        ("upload_part", "PUT", {"Key": "users/abc/f", "UploadId": "u-1", "PartNumber": 7}),
        ("get_object", "GET", {"Key": "odd key/é + = & ? %.txt"}),
        (
            "get_object",
            "GET",
            {"Key": "k", "ResponseContentDisposition": 'attachment; filename="a b.txt"'},
        ),
    ],
)
def test_presigned_url_verifies(operation: str, method: str, params: dict[str, Any]) -> None:
    verified = _verify_url(_presign(operation, **params), method)
    assert verified.presigned is True
    assert verified.access_key == ACCESS_KEY
    assert (verified.service, verified.region) == ("s3", "us-east-1")
    assert verified.payload_hash == "UNSIGNED-PAYLOAD"


def test_presigned_put_with_signed_content_type() -> None:
    url = _presign("put_object", Key="k", ContentType="image/png")
    _verify_url(url, "PUT", headers={"content-type": "image/png"})
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url, "PUT", headers={"content-type": "text/html"})
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_presigned_wrong_secret() -> None:
    url = _s3(secret="not-the-secret").generate_presigned_url(
        "get_object", Params={"Bucket": "uploads", "Key": "k"}
    )
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url, "GET")
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_presigned_unknown_access_key() -> None:
    url = _s3(access_key="AKIDSOMEONEELSE").generate_presigned_url(
        "get_object", Params={"Bucket": "uploads", "Key": "k"}
    )
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url, "GET")
    assert _code(excinfo) == "InvalidAccessKeyId"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/uploads/users/abc/file.bin", "/uploads/users/xyz/file.bin"),  # another user's key
        ("/uploads/", "/other-bucket/"),
        ("partNumber=7", "partNumber=8"),
        ("uploadId=u-1", "uploadId=u-2"),
        ("X-Amz-Expires=3600", "X-Amz-Expires=3601"),
        ("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=host%3Brange"),
    ],
)
def test_presigned_tampering_fails(old: str, new: str) -> None:
    url = _presign("upload_part", Key="users/abc/file.bin", UploadId="u-1", PartNumber=7)
    assert old in url
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url.replace(old, new), "PUT", headers={"range": "bytes=0-1"})
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_presigned_added_query_param_fails() -> None:
    url = _presign("get_object", Key="k")
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url + "&response-content-type=text%2Fhtml", "GET")
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_presigned_tampered_method_fails() -> None:
    url = _presign("get_object", Key="k")
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url, "PUT")
    assert _code(excinfo) == "SignatureDoesNotMatch"
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url, "DELETE")
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_presigned_tampered_signature_fails() -> None:
    url = _presign("get_object", Key="k")
    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url.replace(signature, flipped), "GET")
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_presigned_tampered_host_fails() -> None:
    url = _presign("get_object", Key="k")
    parts = _parts(url)
    with pytest.raises(SignatureError) as excinfo:
        _verifier().verify(method="GET", headers={"host": "evil.example:9000"}, body=None, **parts)
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_presigned_expiry() -> None:
    url = _presign("get_object", expires=60, Key="k")
    now = datetime.now(UTC)
    _verify_url(url, "GET", verifier=_verifier(now + timedelta(seconds=50)))
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url, "GET", verifier=_verifier(now + timedelta(seconds=120)))
    assert _code(excinfo) == "AccessDenied"
    assert excinfo.value.message == "Request has expired"
    with pytest.raises(SignatureError) as excinfo:  # dated far in the future
        _verify_url(url, "GET", verifier=_verifier(now - timedelta(hours=1)))
    assert _code(excinfo) == "AccessDenied"


def test_presigned_expires_too_long_or_not_a_number() -> None:
    url = _presign("get_object", expires=8 * 24 * 3600, Key="k")
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url, "GET")
    assert _code(excinfo) == "AuthorizationQueryParametersError"
    url = _presign("get_object", expires=100, Key="k").replace(
        "X-Amz-Expires=100", "X-Amz-Expires=soon"
    )
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url, "GET")
    assert _code(excinfo) == "AuthorizationQueryParametersError"


@pytest.mark.parametrize(
    "param",
    [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ],
)
def test_presigned_missing_param(param: str) -> None:
    url = _presign("get_object", Key="k")
    base, query = url.split("?", 1)
    kept = "&".join(p for p in query.split("&") if not p.startswith(param + "="))
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(f"{base}?{kept}", "GET")
    assert _code(excinfo) == "AuthorizationQueryParametersError"


def test_presigned_unsigned_amz_header_is_refused() -> None:
    # Adding x-amz-copy-source would turn a PUT URL into a copy of any object.
    url = _presign("put_object", Key="users/abc/mine")
    with pytest.raises(SignatureError) as excinfo:
        _verify_url(url, "PUT", headers={"x-amz-copy-source": "uploads/users/xyz/theirs"})
    assert _code(excinfo) == "AccessDenied"
    # Integrity headers a client adds on its own are fine.
    _verify_url(
        url,
        "PUT",
        headers={"x-amz-checksum-crc32": "AAAAAA==", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    )


# ------------------------------------------------------------ header auth
def _header_signed(
    *,
    service: str,
    method: str = "PUT",
    path: str = "/uploads/users/abc/file.bin",
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    secret: str = SECRET,
) -> dict[str, Any]:
    url = f"{ENDPOINT}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer_cls = S3SigV4Auth if service == "s3" else SigV4Auth
    signer_cls(Credentials(ACCESS_KEY, secret), service, "us-east-1").add_auth(request)
    sent = {k.lower(): v for k, v in request.headers.items()}
    sent["host"] = "127.0.0.1:9000"
    return {
        "method": method,
        "host": "127.0.0.1:9000",
        "raw_path": path,
        "raw_query": query,
        "headers": sent,
        "body": body,
    }


def test_header_auth_s3_verifies() -> None:
    body = b"file bytes"
    request = _header_signed(
        service="s3",
        body=body,
        query="partNumber=2&uploadId=abc",
        headers={"x-amz-meta-owner": "alice", "Content-Type": "application/octet-stream"},
    )
    verified = _verifier().verify(**{**request, "body": None})
    assert verified.presigned is False
    assert verified.payload_hash == hashlib.sha256(body).hexdigest()
    assert verified.chunk_signatures is None


def test_header_auth_s3_odd_key_verifies() -> None:
    path = "/uploads/" + quote("a b/é+=&%.txt", safe="/~")
    _verifier().verify(**{**_header_signed(service="s3", path=path, method="GET"), "body": None})


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r.update(method="DELETE"),
        lambda r: r.update(raw_path="/uploads/users/xyz/file.bin"),
        lambda r: r.update(raw_query="partNumber=3&uploadId=abc"),
        lambda r: r["headers"].update({"x-amz-meta-owner": "mallory"}),
        lambda r: r["headers"].update({"host": "evil:1"}),
    ],
)
def test_header_auth_s3_tampering_fails(tamper: Any) -> None:
    request = _header_signed(
        service="s3", query="partNumber=2&uploadId=abc", headers={"x-amz-meta-owner": "alice"}
    )
    tamper(request)
    with pytest.raises(SignatureError) as excinfo:
        _verifier().verify(**request)
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_header_auth_wrong_secret_and_unknown_key() -> None:
    with pytest.raises(SignatureError) as excinfo:
        _verifier().verify(**_header_signed(service="s3", secret="wrong"))
    assert _code(excinfo) == "SignatureDoesNotMatch"
    with pytest.raises(SignatureError) as excinfo:
        SigV4Verifier({"OTHER": "x"}).verify(**_header_signed(service="s3"))
    assert _code(excinfo) == "InvalidAccessKeyId"


def test_header_auth_clock_skew() -> None:
    request = _header_signed(service="s3")
    with pytest.raises(SignatureError) as excinfo:
        _verifier(datetime.now(UTC) + timedelta(minutes=20)).verify(**request)
    assert _code(excinfo) == "RequestTimeTooSkewed"
    _verifier(datetime.now(UTC) + timedelta(minutes=10)).verify(**request)


def test_header_auth_s3_requires_content_sha256() -> None:
    request = _header_signed(service="s3")
    del request["headers"]["x-amz-content-sha256"]
    with pytest.raises(SignatureError) as excinfo:
        _verifier().verify(**request)
    assert _code(excinfo) == "InvalidRequest"


def test_header_auth_unsigned_amz_header_is_refused() -> None:
    request = _header_signed(service="s3")
    request["headers"]["x-amz-copy-source"] = "uploads/other"
    with pytest.raises(SignatureError) as excinfo:
        _verifier().verify(**request)
    assert _code(excinfo) == "AccessDenied"


def test_header_auth_dynamodb_covers_body() -> None:
    body = json.dumps({"TableName": "files", "Key": {"pk": {"S": "u#1"}}}).encode()
    request = _header_signed(
        service="dynamodb",
        method="POST",
        path="/",
        body=body,
        headers={
            "X-Amz-Target": "DynamoDB_20120810.GetItem",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    verified = _verifier().verify(**request)
    assert verified.service == "dynamodb"
    assert verified.payload_hash == hashlib.sha256(body).hexdigest()
    with pytest.raises(SignatureError) as excinfo:
        _verifier().verify(**{**request, "body": body.replace(b"u#1", b"u#2")})
    assert _code(excinfo) == "SignatureDoesNotMatch"
    with pytest.raises(SignatureError) as excinfo:
        _verifier().verify(
            **{**request, "headers": {**request["headers"], "x-amz-target": "X.DeleteItem"}}
        )
    assert _code(excinfo) == "SignatureDoesNotMatch"


def test_header_auth_non_s3_path_is_double_encoded() -> None:
    # Non-S3 services sign the path URI-encoded twice; botocore's signer knows.
    path = "/2015-03-31/functions/" + quote("my fn:1", safe="/~") + "/invocations"
    request = _header_signed(service="lambda", method="POST", path=path, body=b"{}")
    _verifier().verify(**request)


@pytest.mark.parametrize(
    ("operation", "event", "params"),
    [
        ("list_objects_v2", "ListObjectsV2", {"Prefix": "users/a b/", "Delimiter": "/"}),
        (
            "put_object",
            "PutObject",
            {"Key": "users/a/é x.bin", "Body": b"data", "Metadata": {"a": "1"}},
        ),
        ("get_object", "GetObject", {"Key": "users/a/f", "Range": "bytes=0-9"}),
        ("upload_part", "UploadPart", {"Key": "k", "UploadId": "u", "PartNumber": 2, "Body": b"x"}),
        ("delete_objects", "DeleteObjects", {"Delete": {"Objects": [{"Key": "a"}]}}),
    ],
)
def test_boto3_client_request_verifies(operation: str, event: str, params: dict[str, Any]) -> None:
    """Requests exactly as a boto3 client sends them (captured before the wire)."""
    client = _s3()
    captured: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> Any:
        split = urlsplit(request.url)
        captured.update(
            method=request.method,
            host=split.netloc,
            raw_path=split.path,
            raw_query=split.query,
            headers={
                k.lower(): (v.decode() if isinstance(v, bytes) else v)
                for k, v in request.headers.items()
            },
        )
        raise _Stop

    client.meta.events.register(f"before-send.s3.{event}", capture)
    with pytest.raises(_Stop):
        getattr(client, operation)(Bucket="uploads", **params)
    captured["headers"]["host"] = captured["host"]
    verified = _verifier().verify(body=None, **captured)
    assert verified.payload_hash == captured["headers"]["x-amz-content-sha256"]
    tampered = {**captured, "raw_path": captured["raw_path"] + "x"}
    with pytest.raises(SignatureError):
        _verifier().verify(body=None, **tampered)


class _Stop(Exception):
    pass


# ---------------------------------------------------------- streaming body
# AWS's published example of a signed streaming upload (sigv4-streaming docs):
# 66560 bytes of "a" sent as chunks of 65536, 1024 and 0 bytes.
AWS_EXAMPLE = {
    "access_key": "AKIAIOSFODNN7EXAMPLE",
    "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "seed": "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    "chunks": [
        (65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
        (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
        (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
    ],
}


def aws_example_request() -> dict[str, Any]:
    return {
        "method": "PUT",
        "host": "s3.amazonaws.com",
        "raw_path": "/examplebucket/chunkObject.txt",
        "raw_query": "",
        "body": None,
        "headers": {
            "host": "s3.amazonaws.com",
            "x-amz-date": "20130524T000000Z",
            "x-amz-storage-class": "REDUCED_REDUNDANCY",
            "authorization": (
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                "aws4_request,SignedHeaders=content-encoding;content-length;host;"
                "x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                f"x-amz-storage-class,Signature={AWS_EXAMPLE['seed']}"
            ),
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "content-encoding": "aws-chunked",
            "x-amz-decoded-content-length": "66560",
            "content-length": "66824",
        },
    }


def aws_example_verifier() -> SigV4Verifier:
    return SigV4Verifier(
        {str(AWS_EXAMPLE["access_key"]): str(AWS_EXAMPLE["secret"])},
        clock=lambda: datetime(2013, 5, 24, 0, 5, tzinfo=UTC),
    )


def test_streaming_seed_and_chunk_signatures_match_aws_example() -> None:
    verified = aws_example_verifier().verify(**aws_example_request())
    assert verified.payload_hash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    chain = verified.chunk_signatures
    assert chain is not None
    for size, signature in AWS_EXAMPLE["chunks"]:
        digest = hashlib.sha256(b"a" * int(size)).hexdigest()
        assert chain.verify_chunk(digest, str(signature))


def test_streaming_chunk_signature_chain_rejects_tampering() -> None:
    chain = aws_example_verifier().verify(**aws_example_request()).chunk_signatures
    assert chain is not None
    first_size, first_signature = AWS_EXAMPLE["chunks"][0]
    assert not chain.verify_chunk(
        hashlib.sha256(b"b" * int(first_size)).hexdigest(), str(first_signature)
    )


# ------------------------------------------------------------------ misc
def test_is_signed() -> None:
    url = _presign("get_object", Key="k")
    assert SigV4Verifier.is_signed({}, _parts(url)["raw_query"])
    assert SigV4Verifier.is_signed({"QUERY_STRING": _parts(url)["raw_query"]})
    assert SigV4Verifier.is_signed({"Authorization": "AWS4-HMAC-SHA256 Credential=x"}, "")
    assert SigV4Verifier.is_signed({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=x"})
    assert not SigV4Verifier.is_signed({}, "prefix=a")
    assert not SigV4Verifier.is_signed({"QUERY_STRING": "", "HTTP_AUTHORIZATION": "Bearer x"})


def test_unsigned_request_is_refused() -> None:
    with pytest.raises(SignatureError) as excinfo:
        _verifier().verify(
            method="GET", host="h", raw_path="/b/k", raw_query="", headers={}, body=None
        )
    assert _code(excinfo) == "AccessDenied"
