"""ObjectStore used directly: durability, blob handling, integrity checks, listing."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from backend.local.s3 import (
    ByteRange,
    CompletedPart,
    IncomingBody,
    ObjectCreatedEvent,
    ObjectStore,
    S3Error,
)
from backend.local.s3.checksums import crc32_combine, full_object_crc32
from tests.unit.test_sigv4 import AWS_EXAMPLE, aws_example_request, aws_example_verifier

MIN_PART = 1024


@pytest.fixture
def events() -> list[ObjectCreatedEvent]:
    return []


@pytest.fixture
def store(tmp_path: Path, events: list[ObjectCreatedEvent]) -> Iterator[ObjectStore]:
    s = ObjectStore(tmp_path, min_part_size=MIN_PART, on_object_created=events.append)
    s.create_bucket("vault")
    yield s
    s.close()


def _body(data: bytes, **kwargs: Any) -> IncomingBody:
    return IncomingBody.from_bytes(data, **kwargs)


def _read(store: ObjectStore, key: str, byte_range: ByteRange | None = None) -> bytes:
    _, body = store.open_object("vault", key, byte_range)
    with body:
        return body.read()


def _blob_files(root: Path) -> set[str]:
    return {p.name for p in (root / "blobs").rglob("*") if p.is_file()}


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _error(excinfo: pytest.ExceptionInfo[S3Error]) -> str:
    return excinfo.value.code


# ---------------------------------------------------------------- objects
def test_put_get_overwrite_delete(store: ObjectStore, tmp_path: Path) -> None:
    info = store.put_object("vault", "a/b.txt", _body(b"one"), content_type="text/plain")
    assert info.etag == f'"{hashlib.md5(b"one").hexdigest()}"'
    assert _read(store, "a/b.txt") == b"one"
    first_blobs = _blob_files(tmp_path)
    assert len(first_blobs) == 1
    store.put_object("vault", "a/b.txt", _body(b"two"), metadata={"k": "v"})
    assert _read(store, "a/b.txt") == b"two"
    head = store.head_object("vault", "a/b.txt")
    assert head.metadata == {"k": "v"}
    assert head.content_type == "binary/octet-stream"
    # The overwritten body's file is gone, only after the new row was committed.
    assert _blob_files(tmp_path).isdisjoint(first_blobs)
    assert store.delete_object("vault", "a/b.txt") is True
    assert store.delete_object("vault", "a/b.txt") is False
    assert _blob_files(tmp_path) == set()
    with pytest.raises(S3Error) as excinfo:
        store.head_object("vault", "a/b.txt")
    assert _error(excinfo) == "NoSuchKey"
    with pytest.raises(S3Error) as excinfo:
        store.put_object("nope", "k", _body(b"x"))
    assert _error(excinfo) == "NoSuchBucket"


def test_bucket_rules(store: ObjectStore) -> None:
    with pytest.raises(S3Error) as excinfo:
        store.create_bucket("vault")
    assert _error(excinfo) == "BucketAlreadyOwnedByYou"
    with pytest.raises(S3Error) as excinfo:
        store.create_bucket("Bad_Name")
    assert _error(excinfo) == "InvalidBucketName"
    store.put_object("vault", "k", _body(b"x"))
    with pytest.raises(S3Error) as excinfo:
        store.delete_bucket("vault")
    assert _error(excinfo) == "BucketNotEmpty"
    store.delete_object("vault", "k")
    store.create_multipart_upload("vault", "pending")
    store.delete_bucket("vault")
    assert store.list_buckets() == []


def test_ranges(store: ObjectStore) -> None:
    data = bytes(range(200))
    store.put_object("vault", "r", _body(data))
    assert _read(store, "r", ByteRange(10, 19)) == data[10:20]
    assert _read(store, "r", ByteRange(150, None)) == data[150:]
    assert _read(store, "r", ByteRange(None, 5)) == data[-5:]
    assert _read(store, "r", ByteRange(None, 500)) == data
    assert _read(store, "r", ByteRange(190, 999)) == data[190:]
    with pytest.raises(S3Error) as excinfo:
        _read(store, "r", ByteRange(200, None))
    assert _error(excinfo) == "InvalidRange"
    assert excinfo.value.status == 416


def test_reader_keeps_old_body_while_object_is_replaced(store: ObjectStore, tmp_path: Path) -> None:
    store.put_object("vault", "k", _body(b"old" * 1000))
    old_blobs = _blob_files(tmp_path)
    _, reader = store.open_object("vault", "k")
    store.put_object("vault", "k", _body(b"new"))
    store.delete_object("vault", "k")
    assert old_blobs <= _blob_files(tmp_path)  # pinned by the open reader
    assert reader.read() == b"old" * 1000  # read() closes the reader
    assert _blob_files(tmp_path) == set()


def test_concurrent_writers_and_readers(store: ObjectStore) -> None:
    payloads = [os.urandom(50_000) for _ in range(4)]
    errors: list[BaseException] = []

    def writer(data: bytes) -> None:
        for _ in range(10):
            store.put_object("vault", "hot", _body(data))

    def reader() -> None:
        for _ in range(30):
            try:
                assert _read(store, "hot") in payloads
            except S3Error as error:
                if error.code != "NoSuchKey":
                    errors.append(error)
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# ----------------------------------------------------------- integrity
def test_checksum_headers(store: ObjectStore, tmp_path: Path) -> None:
    data = b"checked"
    good = _b64(hashlib.sha256(data).digest())
    info = store.put_object("vault", "ok", _body(data, checksums={"sha256": good}))
    assert (info.checksum_algorithm, info.checksum_value) == ("sha256", good)
    assert info.checksum_type == "FULL_OBJECT"
    for algorithm, digest in [
        ("sha256", hashlib.sha256(b"other").digest()),
        ("sha1", hashlib.sha1(b"other").digest()),
        ("crc32", zlib.crc32(b"other").to_bytes(4, "big")),
    ]:
        with pytest.raises(S3Error) as excinfo:
            store.put_object("vault", "bad", _body(data, checksums={algorithm: _b64(digest)}))
        assert _error(excinfo) == "BadDigest"
    with pytest.raises(S3Error):
        store.head_object("vault", "bad")
    assert len(_blob_files(tmp_path)) == 1
    assert list((tmp_path / "tmp").iterdir()) == []


def test_from_headers_parses_checksums_and_rejects_unsupported() -> None:
    body = IncomingBody.from_headers(
        io.BytesIO(b""),
        {"X-Amz-Checksum-CRC32": "AAAAAA==", "x-amz-checksum-mode": "ENABLED"},
        content_length=0,
    )
    assert body.checksums == {"crc32": "AAAAAA=="}
    with pytest.raises(S3Error) as excinfo:
        IncomingBody.from_headers(
            io.BytesIO(b""), {"x-amz-checksum-crc32c": "AAAAAA=="}, content_length=0
        )
    assert _error(excinfo) == "InvalidRequest"
    with pytest.raises(S3Error) as excinfo:
        IncomingBody.from_headers(io.BytesIO(b""), {"Content-MD5": "nope"}, content_length=0)
    assert _error(excinfo) == "InvalidDigest"


def test_content_md5_and_sha256(store: ObjectStore) -> None:
    data = b"payload"
    store.put_object("vault", "m", _body(data, content_md5=_b64(hashlib.md5(data).digest())))
    with pytest.raises(S3Error) as excinfo:
        store.put_object("vault", "m2", _body(data, content_md5=_b64(hashlib.md5(b"x").digest())))
    assert _error(excinfo) == "BadDigest"
    store.put_object("vault", "s", _body(data, content_sha256=hashlib.sha256(data).hexdigest()))
    with pytest.raises(S3Error) as excinfo:
        store.put_object(
            "vault", "s2", _body(data, content_sha256=hashlib.sha256(b"x").hexdigest())
        )
    assert _error(excinfo) == "XAmzContentSHA256Mismatch"
    store.put_object("vault", "u", _body(data, content_sha256="UNSIGNED-PAYLOAD"))


def test_short_body_is_incomplete(store: ObjectStore) -> None:
    body = IncomingBody(stream=io.BytesIO(b"abc"), content_length=10)
    with pytest.raises(S3Error) as excinfo:
        store.put_object("vault", "short", body)
    assert _error(excinfo) == "IncompleteBody"


def _aws_chunked(data: bytes, *, chunk_size: int = 4096) -> bytes:
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data),
        checksum_cls=Crc32Checksum,
        checksum_name="x-amz-checksum-crc32",
        chunk_size=chunk_size,
    )
    return bytes(wrapper.read())


def _chunked_body(encoded: bytes, decoded_length: int) -> IncomingBody:
    return IncomingBody.from_headers(
        io.BytesIO(encoded),
        {
            "Content-Encoding": "aws-chunked",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-decoded-content-length": str(decoded_length),
        },
        content_length=len(encoded),
    )


def test_aws_chunked_with_trailer(store: ObjectStore) -> None:
    data = os.urandom(20_000)
    info = store.put_object("vault", "c", _chunked_body(_aws_chunked(data), len(data)))
    assert _read(store, "c") == data
    assert info.size == len(data)
    assert info.checksum_value == _b64(zlib.crc32(data).to_bytes(4, "big"))


def test_aws_chunked_bad_trailer_and_truncation(store: ObjectStore) -> None:
    data = os.urandom(10_000)
    encoded = _aws_chunked(data)
    wrong = _b64(zlib.crc32(b"x").to_bytes(4, "big")).encode()
    right = _b64(zlib.crc32(data).to_bytes(4, "big")).encode()
    with pytest.raises(S3Error) as excinfo:
        store.put_object("vault", "c", _chunked_body(encoded.replace(right, wrong), len(data)))
    assert _error(excinfo) == "BadDigest"
    with pytest.raises(S3Error) as excinfo:
        store.put_object("vault", "c", _chunked_body(encoded[:5000], len(data)))
    assert _error(excinfo) == "IncompleteBody"
    with pytest.raises(S3Error) as excinfo:
        store.put_object("vault", "c", _chunked_body(encoded, len(data) + 1))
    assert _error(excinfo) == "IncompleteBody"
    with pytest.raises(S3Error):
        store.head_object("vault", "c")


def _aws_example_body(corrupt: bool = False) -> bytes:
    out = b""
    for size, signature in AWS_EXAMPLE["chunks"]:
        data = bytearray(b"a" * int(size))
        if corrupt and size == 1024:
            data[10] = ord("b")
        out += f"{int(size):x};chunk-signature={signature}\r\n".encode() + bytes(data) + b"\r\n"
    return out


def test_signed_streaming_body_verified_chunk_by_chunk(store: ObjectStore) -> None:
    request = aws_example_request()
    for corrupt in (False, True):
        verified = aws_example_verifier().verify(**request)
        encoded = _aws_example_body(corrupt)
        assert len(encoded) == 66824  # the example's Content-Length
        body = IncomingBody.from_headers(
            io.BytesIO(encoded),
            request["headers"],
            content_length=len(encoded),
            chunk_validator=verified.chunk_signatures,
        )
        if corrupt:
            with pytest.raises(S3Error) as excinfo:
                store.put_object("vault", "signed-bad", body)
            assert _error(excinfo) == "SignatureDoesNotMatch"
        else:
            store.put_object("vault", "signed", body)
            assert _read(store, "signed") == b"a" * 66560
    with pytest.raises(S3Error):
        store.head_object("vault", "signed-bad")


def test_signed_streaming_without_signatures_is_refused(store: ObjectStore) -> None:
    verified = aws_example_verifier().verify(**aws_example_request())
    stripped = b"400\r\n" + b"a" * 1024 + b"\r\n0\r\n\r\n"
    body = IncomingBody.from_headers(
        io.BytesIO(stripped),
        {"content-encoding": "aws-chunked"},
        content_length=len(stripped),
        chunk_validator=verified.chunk_signatures,
    )
    with pytest.raises(S3Error) as excinfo:
        store.put_object("vault", "x", body)
    assert _error(excinfo) == "SignatureDoesNotMatch"


# -------------------------------------------------------------- listing
def test_list_with_delimiter_and_pagination(store: ObjectStore) -> None:
    keys = ["a", "b/1", "b/2", "b/c/3", "c", "d/1", "d/2", "e"]
    for key in keys:
        store.put_object("vault", key, _body(key.encode()))
    full = store.list_objects("vault")
    assert [o.key for o in full.contents] == keys
    assert not full.is_truncated
    rolled = store.list_objects("vault", delimiter="/")
    assert [o.key for o in rolled.contents] == ["a", "c", "e"]
    assert rolled.common_prefixes == ("b/", "d/")
    # Page through the rolled-up listing two entries at a time.
    seen: list[str] = []
    marker = ""
    while True:
        page = store.list_objects("vault", delimiter="/", max_keys=2, start_after=marker)
        seen += [o.key for o in page.contents] + list(page.common_prefixes)
        if not page.is_truncated:
            break
        assert page.next_marker is not None
        marker = page.next_marker
    assert sorted(seen) == ["a", "b/", "c", "d/", "e"]
    assert len(seen) == 5
    sub = store.list_objects("vault", prefix="b/", delimiter="/")
    assert [o.key for o in sub.contents] == ["b/1", "b/2"]
    assert sub.common_prefixes == ("b/c/",)
    assert [o.key for o in store.list_objects("vault", start_after="b/2").contents] == [
        "b/c/3",
        "c",
        "d/1",
        "d/2",
        "e",
    ]


# ------------------------------------------------------------ multipart
def _upload_parts(store: ObjectStore, key: str, parts: list[bytes]) -> tuple[str, list[Any]]:
    upload = store.create_multipart_upload("vault", key, content_type="video/mp4")
    done = []
    for number, data in enumerate(parts, start=1):
        part = store.upload_part("vault", key, upload.upload_id, number, _body(data))
        done.append(CompletedPart(number, part.etag))
    return upload.upload_id, done


def test_complete_multipart_reuses_part_files(
    store: ObjectStore, tmp_path: Path, events: list[ObjectCreatedEvent]
) -> None:
    parts = [os.urandom(MIN_PART), os.urandom(MIN_PART * 2), b"last"]
    upload_id, done = _upload_parts(store, "mp", parts)
    part_blobs = _blob_files(tmp_path)
    info = store.complete_multipart_upload("vault", "mp", upload_id, done)
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    assert info.etag == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert info.parts_count == 3
    assert info.content_type == "video/mp4"
    assert _blob_files(tmp_path) == part_blobs  # no byte was copied
    whole = b"".join(parts)
    assert _read(store, "mp") == whole
    for first, last in [(MIN_PART - 3, MIN_PART + 3), (0, len(whole) - 1), (len(whole) - 2, None)]:
        end = len(whole) if last is None else last + 1
        assert _read(store, "mp", ByteRange(first, last)) == whole[first:end]
    assert events[-1].event_name == "ObjectCreated:CompleteMultipartUpload"
    assert events[-1].etag == info.etag.strip('"')
    store.delete_object("vault", "mp")
    assert _blob_files(tmp_path) == set()


def test_complete_with_subset_of_parts_discards_the_rest(
    store: ObjectStore, tmp_path: Path
) -> None:
    upload_id, done = _upload_parts(store, "mp", [b"x" * MIN_PART, b"y" * MIN_PART, b"z"])
    replaced = store.upload_part("vault", "mp", upload_id, 2, _body(b"Y" * MIN_PART))
    assert len(_blob_files(tmp_path)) == 3  # re-uploading a part replaced its file
    store.complete_multipart_upload(
        "vault", "mp", upload_id, [done[0], CompletedPart(2, replaced.etag)]
    )
    assert _read(store, "mp") == b"x" * MIN_PART + b"Y" * MIN_PART
    assert len(_blob_files(tmp_path)) == 2


def test_multipart_errors(store: ObjectStore, tmp_path: Path) -> None:
    upload_id, done = _upload_parts(store, "mp", [b"small", b"x" * MIN_PART, b"end"])
    with pytest.raises(S3Error) as excinfo:
        store.complete_multipart_upload("vault", "mp", upload_id, done)
    assert _error(excinfo) == "EntityTooSmall"
    with pytest.raises(S3Error) as excinfo:
        store.complete_multipart_upload(
            "vault", "mp", upload_id, [CompletedPart(2, done[1].etag), done[0]]
        )
    assert _error(excinfo) == "InvalidPartOrder"
    with pytest.raises(S3Error) as excinfo:
        store.complete_multipart_upload("vault", "mp", upload_id, [CompletedPart(1, '"beef"')])
    assert _error(excinfo) == "InvalidPart"
    with pytest.raises(S3Error) as excinfo:
        store.complete_multipart_upload("vault", "mp", upload_id, [CompletedPart(9, done[0].etag)])
    assert _error(excinfo) == "InvalidPart"
    with pytest.raises(S3Error) as excinfo:
        store.upload_part("vault", "mp", upload_id, 10_001, _body(b"x"))
    assert _error(excinfo) == "InvalidArgument"
    with pytest.raises(S3Error) as excinfo:
        store.upload_part("vault", "other-key", upload_id, 1, _body(b"x"))
    assert _error(excinfo) == "NoSuchUpload"
    store.abort_multipart_upload("vault", "mp", upload_id)
    assert _blob_files(tmp_path) == set()
    for call in (
        lambda: store.complete_multipart_upload("vault", "mp", upload_id, done),
        lambda: store.list_parts("vault", "mp", upload_id),
        lambda: store.abort_multipart_upload("vault", "mp", upload_id),
    ):
        with pytest.raises(S3Error) as excinfo:
            call()
        assert _error(excinfo) == "NoSuchUpload"


def test_list_parts_and_uploads(store: ObjectStore) -> None:
    upload_id, _ = _upload_parts(store, "mp", [b"a" * MIN_PART] * 5)
    page = store.list_parts("vault", "mp", upload_id, max_parts=2)
    assert [p.part_number for p in page.parts] == [1, 2]
    assert page.is_truncated
    page = store.list_parts(
        "vault", "mp", upload_id, part_number_marker=page.next_part_number_marker
    )
    assert [p.part_number for p in page.parts] == [3, 4, 5]
    assert not page.is_truncated
    other = store.create_multipart_upload("vault", "other")
    listing = store.list_multipart_uploads("vault")
    assert sorted(u.upload_id for u in listing.uploads) == sorted([upload_id, other.upload_id])
    assert [u.key for u in store.list_multipart_uploads("vault", prefix="oth").uploads] == ["other"]


def test_multipart_checksums_composite_and_full_object(store: ObjectStore) -> None:
    parts = [os.urandom(MIN_PART), os.urandom(MIN_PART), b"tail"]
    for kind in ("COMPOSITE", "FULL_OBJECT"):
        upload = store.create_multipart_upload(
            "vault", kind, checksum_algorithm="CRC32", checksum_type=kind
        )
        done = []
        for number, data in enumerate(parts, start=1):
            crc = _b64(zlib.crc32(data).to_bytes(4, "big"))
            part = store.upload_part(
                "vault", kind, upload.upload_id, number, _body(data, checksums={"crc32": crc})
            )
            assert part.checksums == {"crc32": crc}
            done.append(CompletedPart(number, part.etag, {"crc32": crc}))
        info = store.complete_multipart_upload("vault", kind, upload.upload_id, done)
        if kind == "FULL_OBJECT":
            assert info.checksum_value == _b64(zlib.crc32(b"".join(parts)).to_bytes(4, "big"))
        else:
            raw = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
            assert info.checksum_value == _b64(zlib.crc32(raw).to_bytes(4, "big")) + "-3"
        assert info.checksum_type == kind
    upload = store.create_multipart_upload("vault", "bad", checksum_algorithm="SHA256")
    part = store.upload_part("vault", "bad", upload.upload_id, 1, _body(b"data"))
    assert "sha256" in part.checksums  # computed even when the client sent none
    with pytest.raises(S3Error) as excinfo:
        store.complete_multipart_upload(
            "vault", "bad", upload.upload_id, [CompletedPart(1, part.etag, {"sha256": "AAAA"})]
        )
    assert _error(excinfo) == "InvalidPart"


def test_crc32_combine() -> None:
    a, b = os.urandom(1000), os.urandom(333)
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    values = [(_b64(zlib.crc32(p).to_bytes(4, "big")), len(p)) for p in (a, b, b"")]
    assert full_object_crc32(values) == _b64(zlib.crc32(a + b).to_bytes(4, "big"))


# ---------------------------------------------------------------- copy
def test_copy_links_instead_of_copying(store: ObjectStore, tmp_path: Path) -> None:
    store.put_object("vault", "src", _body(b"shared bytes"), metadata={"a": "1"})
    info = store.copy_object("vault", "src", "vault", "dst")
    assert info.metadata == {"a": "1"}
    src_file, dst_file = (
        tmp_path / "blobs" / name[:2] / name
        for name in (
            store.head_object("vault", "src").segments[0][0],
            info.segments[0][0],
        )
    )
    assert src_file.stat().st_ino == dst_file.stat().st_ino
    store.delete_object("vault", "src")
    assert _read(store, "dst") == b"shared bytes"
    replaced = store.copy_object(
        "vault", "dst", "vault", "dst", replace_metadata=True, metadata={"b": "2"}
    )
    assert replaced.metadata == {"b": "2"}
    assert _read(store, "dst") == b"shared bytes"
    with pytest.raises(S3Error) as excinfo:
        store.copy_object("vault", "dst", "vault", "dst")
    assert _error(excinfo) == "InvalidRequest"


# ----------------------------------------------------------------- tags
def test_object_tags_put_get_delete_and_follow_the_object(
    store: ObjectStore, tmp_path: Path
) -> None:
    trashed = {"filevault-state": "trashed"}
    store.put_object("vault", "k", _body(b"x"))
    assert store.get_object_tagging("vault", "k") == {}
    store.put_object_tagging("vault", "k", trashed)
    assert store.get_object_tagging("vault", "k") == trashed
    store.put_object_tagging("vault", "k", {"a": "1", "b": ""})  # replaces the whole set
    assert store.get_object_tagging("vault", "k") == {"a": "1", "b": ""}
    store.delete_object_tagging("vault", "k")
    assert store.get_object_tagging("vault", "k") == {}
    # A copy carries the source's tags; an overwrite or a new upload starts without any.
    store.put_object_tagging("vault", "k", trashed)
    store.copy_object("vault", "k", "vault", "copy")
    assert store.get_object_tagging("vault", "copy") == trashed
    store.put_object("vault", "k", _body(b"y"))
    assert store.get_object_tagging("vault", "k") == {}
    upload = store.create_multipart_upload("vault", "copy")
    part = store.upload_part("vault", "copy", upload.upload_id, 1, _body(b"z"))
    store.complete_multipart_upload(
        "vault", "copy", upload.upload_id, [CompletedPart(1, part.etag)]
    )
    assert store.get_object_tagging("vault", "copy") == {}
    # Deleting the object deletes its tags: a new object under the key has none.
    store.put_object_tagging("vault", "k", trashed)
    store.delete_object("vault", "k")
    store.put_object("vault", "k", _body(b"again"))
    assert store.get_object_tagging("vault", "k") == {}
    # Tags survive a restart.
    store.put_object_tagging("vault", "k", trashed)
    store.close()
    reopened = ObjectStore(tmp_path, min_part_size=MIN_PART)
    try:
        assert reopened.get_object_tagging("vault", "k") == trashed
    finally:
        reopened.close()


def test_object_tag_errors(store: ObjectStore) -> None:
    for call in (
        lambda: store.get_object_tagging("vault", "missing"),
        lambda: store.put_object_tagging("vault", "missing", {"a": "1"}),
        lambda: store.delete_object_tagging("vault", "missing"),
    ):
        with pytest.raises(S3Error) as excinfo:
            call()
        assert _error(excinfo) == "NoSuchKey"
    store.put_object("vault", "k", _body(b"x"))
    with pytest.raises(S3Error) as excinfo:
        store.put_object_tagging("vault", "k", {f"t{i}": "v" for i in range(11)})
    assert _error(excinfo) == "BadRequest"
    with pytest.raises(S3Error) as excinfo:
        store.put_object_tagging("vault", "k", {"k" * 129: "v"})
    assert _error(excinfo) == "InvalidTag"


# --------------------------------------------------------- durability
def test_state_survives_reopen_and_orphans_are_swept(tmp_path: Path) -> None:
    first = ObjectStore(tmp_path, min_part_size=MIN_PART)
    first.create_bucket("vault")
    first.put_object("vault", "k", _body(b"persisted"), metadata={"m": "1"})
    upload = first.create_multipart_upload("vault", "mp")
    part = first.upload_part("vault", "mp", upload.upload_id, 1, _body(b"part"))
    first.close()
    stray = tmp_path / "blobs" / "zz" / "zz-orphan"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by a crash between rename and commit")
    (tmp_path / "tmp" / "put-half").write_bytes(b"half")

    second = ObjectStore(tmp_path, min_part_size=MIN_PART)
    try:
        assert not stray.exists()
        assert list((tmp_path / "tmp").iterdir()) == []
        assert [b.name for b in second.list_buckets()] == ["vault"]
        assert second.head_object("vault", "k").metadata == {"m": "1"}
        assert _read(second, "k") == b"persisted"
        second.complete_multipart_upload(
            "vault", "mp", upload.upload_id, [CompletedPart(1, part.etag)]
        )
        assert _read(second, "mp") == b"part"
    finally:
        second.close()


def test_listener_errors_do_not_fail_the_write(tmp_path: Path) -> None:
    def explode(event: ObjectCreatedEvent) -> None:
        raise RuntimeError("listener bug")

    store = ObjectStore(tmp_path, on_object_created=explode)
    try:
        store.create_bucket("vault")
        store.put_object("vault", "k", _body(b"x"))
        assert _read(store, "k") == b"x"
    finally:
        store.close()


def test_event_sequencers_increase(store: ObjectStore, events: list[ObjectCreatedEvent]) -> None:
    for i in range(5):
        store.put_object("vault", f"k{i}", _body(b"x"))
    sequencers = [e.sequencer for e in events]
    assert sequencers == sorted(sequencers)
    assert len(set(sequencers)) == 5
    assert events[0].bucket == "vault"
    assert events[0].size == 1
