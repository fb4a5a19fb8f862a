"""Uploads through the API and pre-signed URLs, end to end on the local stack."""

from __future__ import annotations

import hashlib
import os
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from filevault_desktop.errors import ConflictError, QuotaError
from tests.integration.helpers import OCTET, download_bytes, upload_bytes
from tests.integration.stack import MiB, RunningStack


def test_three_part_upload_round_trips_bytes(make_user) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    data = os.urandom(2 * MiB + 12345)  # part size 1 MiB: three parts, the last short
    ticket = svc.api.initiate_upload("big/three.bin", len(data))
    assert ticket.mode == "multipart" and ticket.part_count == 3 and len(ticket.parts) == 3
    parts = []
    for part in reversed(ticket.parts):  # order of arrival must not matter
        start = (part.part_number - 1) * ticket.part_size
        r = requests.put(
            part.url, data=data[start : start + ticket.part_size], headers=OCTET, timeout=30
        )
        assert r.status_code == 200, r.text
        parts.append({"part_number": part.part_number, "etag": r.headers["ETag"].strip('"')})
    done = svc.api.complete_upload(ticket.upload_id, sorted(parts, key=lambda p: p["part_number"]))
    assert done.size == len(data)
    got = download_bytes(svc, done.file_id)
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def test_small_upload_and_new_version(make_user) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    first = upload_bytes(svc, "notes.txt", b"v1")
    second = upload_bytes(svc, "notes.txt", b"version two", expected_version=first.version_id)
    assert second.file_id == first.file_id and second.version_id != first.version_id
    assert download_bytes(svc, first.file_id) == b"version two"
    with pytest.raises(ConflictError):
        upload_bytes(svc, "notes.txt", b"stale", expected_version=first.version_id)


def test_zero_byte_file(make_user) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    done = upload_bytes(svc, "empty", b"")
    assert done.size == 0 and download_bytes(svc, done.file_id) == b""


def test_quota_refused_before_any_byte(make_user) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    with pytest.raises(QuotaError):
        svc.api.initiate_upload("too-big.iso", 3 * 1024 * MiB)


def _tamper(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    path = changes.pop("path", parts.path)
    query.update(changes)
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def test_presigned_urls_are_verified(make_user) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    ticket = svc.api.initiate_upload("signed.txt", 5)
    url = ticket.parts[0].url
    # A different key, a different signature, a stripped signature, a longer expiry: all refused.
    tampered = [
        _tamper(url, path=urlsplit(url).path + "x"),
        _tamper(url, **{"X-Amz-Signature": "0" * 64}),
        _tamper(url, **{"X-Amz-Expires": "604800"}),
        urlunsplit(urlsplit(url)._replace(query="")),
    ]
    for bad in tampered:
        r = requests.put(bad, data=b"hello", headers=OCTET, timeout=10)
        assert r.status_code == 403, (bad, r.status_code, r.text)
    # The right URL used with another method is refused too.
    assert requests.delete(url, timeout=10).status_code == 403
    assert requests.put(url, data=b"hello", headers=OCTET, timeout=10).status_code == 200


def test_expired_presigned_url_is_refused(stack: RunningStack) -> None:
    creds = stack.credentials()
    s3 = stack.aws_client("s3")
    s3.put_object(Bucket=creds["upload_bucket"], Key="probe/expiring", Body=b"x")
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": creds["upload_bucket"], "Key": "probe/expiring"},
        ExpiresIn=1,
    )
    assert requests.get(url, timeout=10).status_code == 200
    time.sleep(2.1)  # the URL's own expiry, not a polling loop
    r = requests.get(url, timeout=10)
    assert r.status_code == 403 and "expired" in r.text


def test_unsigned_and_wrongly_signed_s3_requests_are_refused(stack: RunningStack) -> None:
    creds = stack.credentials()
    bucket_url = f"{creds['endpoint_url']}/{creds['upload_bucket']}"
    assert requests.get(bucket_url, timeout=10).status_code == 403
    assert requests.put(bucket_url + "/anything", data=b"x", timeout=10).status_code == 403
    wrong = stack.aws_client("s3", aws_secret_access_key="wrong-secret")
    with pytest.raises(Exception, match="SignatureDoesNotMatch"):
        wrong.list_objects_v2(Bucket=creds["upload_bucket"])
    # moto's own control API is not reachable through the stack.
    assert requests.post(creds["endpoint_url"] + "/moto-api/reset", timeout=10).status_code == 404


def test_dynamodb_needs_the_service_credential(stack: RunningStack) -> None:
    outsider = stack.aws_client(
        "dynamodb", aws_access_key_id="AKIAOUTSIDER", aws_secret_access_key="nope"
    )
    with pytest.raises(
        Exception, match=r"InvalidAccessKeyId|UnrecognizedClient|AccessDenied|Signature"
    ):
        outsider.list_tables()


def test_cross_user_over_http(make_user) -> None:  # type: ignore[no-untyped-def]
    alice, _, _ = make_user()
    bob, _, _ = make_user()
    secret = upload_bytes(alice, "private/diary.txt", b"dear diary")
    from filevault_desktop.errors import NotFoundError

    for call in (
        lambda: bob.api.get_file(secret.file_id),
        lambda: bob.api.download_url(secret.file_id),
        lambda: bob.api.move(secret.file_id, "mine.txt"),
        lambda: bob.api.trash(secret.file_id),
        lambda: bob.api.create_share(secret.file_id),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert list(bob.api.list_files()) == []
    ticket = alice.api.initiate_upload("private/pending.bin", 4)
    with pytest.raises(NotFoundError):
        bob.api.complete_upload(ticket.upload_id)
    with pytest.raises(NotFoundError):
        bob.api.abort_upload(ticket.upload_id)
    assert download_bytes(alice, secret.file_id) == b"dear diary"


def test_stack_memory_stays_bounded_during_large_upload(make_user, stack: RunningStack) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    before = stack.rss_bytes()  # the session's stack has served every earlier test
    chunk = os.urandom(MiB)
    size = 256 * MiB
    ticket = svc.api.initiate_upload("large.bin", size)
    part_size, count = ticket.part_size, ticket.part_count
    urls = {p.part_number: p.url for p in ticket.parts}
    for batch_start in range(len(urls) + 1, count + 1, 100):
        more = svc.api.part_urls(
            ticket.upload_id, list(range(batch_start, min(count, batch_start + 99) + 1))
        )
        urls.update({p.part_number: p.url for p in more.parts})
    parts = []
    session = requests.Session()
    for n in range(1, count + 1):
        body = (chunk * (part_size // MiB + 1))[: min(part_size, size - (n - 1) * part_size)]
        r = session.put(urls[n], data=body, headers=OCTET, timeout=60)
        assert r.status_code == 200
        parts.append({"part_number": n, "etag": r.headers["ETag"].strip('"')})
    done = svc.api.complete_upload(ticket.upload_id, parts)
    assert done.size == size
    # Streamed to disk, never held: 256 MiB went through and the stack grew by far less.
    assert stack.rss_bytes() - before < 96 * MiB


def test_many_small_uploads_keep_the_stack_flat(make_user, stack: RunningStack) -> None:  # type: ignore[no-untyped-def]
    """moto's transactions once copied the whole table per write: 200 uploads took 5 GB."""
    svc, _, _ = make_user()
    for i in range(20):
        upload_bytes(svc, f"warm/{i}", b"w")
    before = stack.rss_bytes()
    started = time.perf_counter()
    for i in range(150):
        upload_bytes(svc, f"many/{i:03d}", b"x" * 10)
    elapsed = time.perf_counter() - started
    assert stack.rss_bytes() - before < 40 * MiB
    assert elapsed < 60, f"150 small uploads took {elapsed:.1f}s"
    assert len(list(svc.api.list_files("many/"))) == 150
    # Pages of the sizes asked for, the last size for the rest: together, every file once.
    pages = list(svc.api.list_file_pages("many/", page_sizes=(7, 100)))
    assert [len(page) for page in pages] == [7, 100, 43]
    assert [f.path for page in pages for f in page] == [f"many/{i:03d}" for i in range(150)]


def test_part_checksums_are_checked_at_completion(make_user) -> None:  # type: ignore[no-untyped-def]
    import base64

    svc, _, _ = make_user()
    data = os.urandom(2 * MiB + 100)
    ticket = svc.api.initiate_upload("checked.bin", len(data))
    parts = []
    for part in ticket.parts:
        body = data[(part.part_number - 1) * ticket.part_size :][: ticket.part_size]
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        bad = requests.put(
            part.url,
            data=body[:-1] + b"!",
            headers={**OCTET, "x-amz-checksum-sha256": digest},
            timeout=30,
        )
        assert bad.status_code == 400 and "BadDigest" in bad.text  # corrupted in flight
        r = requests.put(
            part.url, data=body, headers={**OCTET, "x-amz-checksum-sha256": digest}, timeout=30
        )
        assert r.status_code == 200, r.text
        parts.append({"part_number": part.part_number, "etag": r.headers["ETag"], "sha256": digest})
    wrong = [dict(p) for p in parts]
    wrong[1]["sha256"] = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    from filevault_desktop.errors import ApiError

    with pytest.raises(ApiError) as refused:
        svc.api.complete_upload(ticket.upload_id, wrong)
    assert refused.value.code == "part_mismatch"
    done = svc.api.complete_upload(ticket.upload_id, parts)
    assert download_bytes(svc, done.file_id) == data


def test_whole_file_sha256_of_a_single_put_is_checked(make_user) -> None:  # type: ignore[no-untyped-def]
    import base64

    from filevault_desktop.errors import ApiError

    svc, _, _ = make_user()
    data = b"the bytes S3 checked on the way in"
    digest = hashlib.sha256(data).digest()
    ticket = svc.api.initiate_upload("c.txt", len(data))
    header = {**OCTET, "x-amz-checksum-sha256": base64.b64encode(digest).decode()}
    assert requests.put(ticket.parts[0].url, data=data, headers=header, timeout=30).ok
    with pytest.raises(ApiError) as refused:
        svc.api.complete_upload(ticket.upload_id, sha256=hashlib.sha256(b"other").hexdigest())
    assert refused.value.code == "checksum_mismatch"
    assert list(svc.api.list_files()) == []
    # The same claim made honestly is recorded and comes back in listings and the feed.
    ticket = svc.api.initiate_upload("c.txt", len(data))
    assert requests.put(ticket.parts[0].url, data=data, headers=header, timeout=30).ok
    done = svc.api.complete_upload(ticket.upload_id, sha256=digest.hex())
    assert done.sha256 == digest.hex()
    assert [f.sha256 for f in svc.api.list_files()] == [digest.hex()]
    assert svc.api.changes(None).changes[-1].sha256 == digest.hex()
