"""The local stack's ``BlobStore``: the two per-file calls reach its object store directly.

The API handlers store each small file with ``put_bytes`` and read it back with ``read``
(inline uploads and downloads, ADRs 006 and 007): one S3 call per file. Through boto3, each
was serialized by botocore, handed to the endpoint's WSGI app in-process, routed and parsed
again, while eight such calls competed for the GIL: for an initial sync of 3,000 files of
4 KiB, a quarter of the stack's time (``sync run --once`` 10.4 s, 8.0 s without it). Here
those two calls go straight to :class:`ObjectStore`, which makes the checks S3 makes (the
bucket, the key, the SHA-256 sent) and raises the object-created event as for any write;
a failure raises the ``ClientError`` botocore would have raised from S3's error reply.

Everything else (pre-signed URLs, multipart uploads, copies, deletes, tags) still goes through
the S3 API, as on AWS; so do these two when the stack's internal calls are sent over HTTP
(``FILEVAULT_LOCAL_INTERNAL_HTTP=1``, see inprocess.py), to compare the two or capture them.
tests/backend runs the handlers on the boto3 ``BlobStore`` (moto), and
tests/integration/test_local_blob_store.py holds the two to the same answers.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from backend.data.blobs import BlobStore, first_bytes_range
from backend.local import inprocess
from backend.local.s3 import IncomingBody, ObjectStore, S3Error, parse_range

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@contextmanager
def _as_client_error(operation: str) -> Iterator[None]:
    try:
        yield
    except S3Error as exc:
        raise ClientError(
            {
                "Error": {"Code": exc.code, "Message": exc.message},
                "ResponseMetadata": {
                    "RequestId": secrets.token_hex(8).upper(),
                    "HostId": "",
                    "HTTPStatusCode": exc.status,
                    "HTTPHeaders": {},
                    "RetryAttempts": 0,
                },
            },
            operation,
        ) from exc


class LocalBlobStore(BlobStore):
    """``BlobStore`` whose ``put_bytes`` and ``read`` use the stack's ``ObjectStore``."""

    def __init__(self, client: S3Client, bucket: str, *, objects: ObjectStore) -> None:
        super().__init__(client, bucket)
        self._objects = objects

    def put_bytes(self, key: str, data: bytes, *, sha256_b64: str, content_type: str) -> str:
        body = IncomingBody.from_bytes(data, checksums={"sha256": sha256_b64})
        with _as_client_error("PutObject"):
            info = self._objects.put_object(self.bucket, key, body, content_type=content_type)
        return info.etag.strip('"')

    def read(self, key: str, *, first: int | None = None) -> bytes:
        wanted = None if first is None else parse_range(first_bytes_range(first))
        with _as_client_error("GetObject"):
            _, body = self._objects.open_object(self.bucket, key, wanted)
        with body:
            return b"".join(body)


def blob_store(client: S3Client, bucket: str, objects: ObjectStore) -> BlobStore:
    """The stack's store for ``bucket``: direct unless internal calls go over HTTP."""
    if inprocess.enabled():
        return LocalBlobStore(client, bucket, objects=objects)
    return BlobStore(client, bucket)
