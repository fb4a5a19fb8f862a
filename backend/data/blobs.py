"""S3 access for file bytes: pre-signed URLs and the multipart calls the API makes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef, TagTypeDef


@dataclass(frozen=True)
class StoredPart:
    part_number: int
    size: int
    etag: str
    checksum_sha256: str | None = None


@dataclass(frozen=True)
class StoredObject:
    size: int
    etag: str
    # Base64 SHA-256 S3 verified on the way in, when the writer sent one (single PUTs).
    checksum_sha256: str | None = None


def _content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def first_bytes_range(first: int) -> str:
    """The Range header for an object's first ``first`` bytes (at least one: S3 has no empty
    range)."""
    return f"bytes=0-{max(first, 1) - 1}"


_MISSING = ("404", "NoSuchKey", "NotFound")
_DELETE_BATCH = 1000  # S3's limit of keys per DeleteObjects
# The configuration of an S3 client that signs URLs for the S3 Transfer Acceleration
# endpoint (<bucket>.s3-accelerate.amazonaws.com); signing makes no request.
ACCELERATE_CONFIG = Config(
    s3={"addressing_style": "virtual", "use_accelerate_endpoint": True},
    signature_version="s3v4",
)


class BlobStore:
    """One bucket's bytes. The S3 client's endpoint is the one clients can reach.

    ``accelerate_client`` (an S3 client configured with ``use_accelerate_endpoint``) is given
    where the bucket has S3 Transfer Acceleration; :meth:`accelerated` signs URLs with it.
    """

    def __init__(
        self, client: S3Client, bucket: str, *, accelerate_client: S3Client | None = None
    ) -> None:
        self._s3 = client
        self.bucket = bucket
        self._accelerate = accelerate_client
        # Pre-signs URLs; only the URLs move to the accelerate endpoint, never our own calls.
        self._signer = client

    @property
    def can_accelerate(self) -> bool:
        return self._accelerate is not None

    def accelerated(self) -> BlobStore:
        """The same bucket, its pre-signed URLs on the S3 Transfer Acceleration endpoint."""
        if self._accelerate is None:
            raise ValueError(f"no accelerate client for bucket {self.bucket}")
        store = BlobStore(self._s3, self.bucket, accelerate_client=self._accelerate)
        store._signer = self._accelerate
        return store

    def presign_put(self, key: str, ttl_s: int) -> str:
        return self._signer.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=ttl_s
        )

    def presign_part(self, key: str, s3_upload_id: str, part_number: int, ttl_s: int) -> str:
        return self._signer.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "UploadId": s3_upload_id,
                "PartNumber": part_number,
            },
            ExpiresIn=ttl_s,
        )

    def presign_get(self, key: str, ttl_s: int, *, filename: str, content_type: str) -> str:
        return self._signer.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": _content_disposition(filename),
                "ResponseContentType": content_type,
            },
            ExpiresIn=ttl_s,
        )

    def put_bytes(self, key: str, data: bytes, *, sha256_b64: str, content_type: str) -> str:
        """Stores ``data`` (S3 checks it against ``sha256_b64``); its ETag."""
        out = self._s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ChecksumSHA256=sha256_b64,
        )
        return str(out["ETag"]).strip('"')

    def create_multipart(self, key: str, content_type: str) -> str:
        out = self._s3.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return out["UploadId"]

    def list_parts(self, key: str, s3_upload_id: str) -> list[StoredPart] | None:
        """All uploaded parts, or None when the multipart upload no longer exists."""
        parts: list[StoredPart] = []
        marker = 0
        while True:
            try:
                out = self._s3.list_parts(
                    Bucket=self.bucket, Key=key, UploadId=s3_upload_id, PartNumberMarker=marker
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                    return None
                raise
            for part in out.get("Parts", []):
                parts.append(
                    StoredPart(
                        part["PartNumber"],
                        part["Size"],
                        part["ETag"].strip('"'),
                        part.get("ChecksumSHA256"),
                    )
                )
            if not out.get("IsTruncated"):
                return parts
            marker = int(out["NextPartNumberMarker"])

    def complete_multipart(self, key: str, s3_upload_id: str, parts: list[StoredPart]) -> None:
        self._s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=s3_upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": p.part_number, "ETag": f'"{p.etag}"'} for p in parts]
            },
        )

    def abort_multipart(self, key: str, s3_upload_id: str) -> None:
        try:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=s3_upload_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                raise

    def head(self, key: str) -> StoredObject | None:
        try:
            out: dict[str, Any] = dict(
                self._s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        checksum = out.get("ChecksumSHA256")
        return StoredObject(
            size=int(out["ContentLength"]),
            etag=str(out["ETag"]).strip('"'),
            checksum_sha256=checksum if isinstance(checksum, str) and "-" not in checksum else None,
        )

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def delete_everything_under(self, prefix: str) -> int:
        """Delete every object under ``prefix`` for good: each S3 version and delete marker
        (the buckets are versioned, so a plain delete would only hide the bytes). Returns how
        many versions (or, in a store without versioning, objects) were deleted."""
        deleted = 0
        batch: list[ObjectIdentifierTypeDef] = []
        for entry in self._versions_under(prefix):
            batch.append(entry)
            if len(batch) == _DELETE_BATCH:
                deleted += self._delete_batch(batch)
                batch = []
        if batch:
            deleted += self._delete_batch(batch)
        return deleted

    def _versions_under(self, prefix: str) -> Iterator[ObjectIdentifierTypeDef]:
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        try:
            while True:
                out = self._s3.list_object_versions(**params)
                for version in [*out.get("Versions", []), *out.get("DeleteMarkers", [])]:
                    yield {"Key": version["Key"], "VersionId": version["VersionId"]}
                if not out.get("IsTruncated"):
                    return
                params["KeyMarker"] = out["NextKeyMarker"]
                params["VersionIdMarker"] = out["NextVersionIdMarker"]
        except ClientError as exc:
            # A store without versioning (the local stack's S3 answers ?versions with 501):
            # each key has one body, and deleting it deletes the bytes.
            if exc.response.get("Error", {}).get("Code") != "NotImplemented":
                raise
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield {"Key": obj["Key"]}

    def _delete_batch(self, batch: list[ObjectIdentifierTypeDef]) -> int:
        out = self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        errors = out.get("Errors", [])
        if errors:
            first = errors[0]
            raise ClientError(
                {"Error": {"Code": first.get("Code", ""), "Message": first.get("Message", "")}},
                "DeleteObjects",
            )
        return len(batch)

    def set_tags(self, key: str, tags: Mapping[str, str]) -> bool:
        """Replace the object's tag set (the backend is its only tagger); False if missing."""
        tag_set: list[TagTypeDef] = [{"Key": k, "Value": v} for k, v in tags.items()]
        try:
            self._s3.put_object_tagging(Bucket=self.bucket, Key=key, Tagging={"TagSet": tag_set})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True

    def clear_tags(self, key: str) -> bool:
        """Remove every tag of the object; False if it does not exist."""
        try:
            self._s3.delete_object_tagging(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True

    def tags(self, key: str) -> dict[str, str]:
        """The object's tags (checks and tests: the API roles have no GetObjectTagging)."""
        out = self._s3.get_object_tagging(Bucket=self.bucket, Key=key)
        return {t["Key"]: t["Value"] for t in out.get("TagSet", [])}

    # ----- used by the workflow steps -----
    def read(self, key: str, *, first: int | None = None) -> bytes:
        """The object's bytes (only the first ``first`` bytes when given)."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if first is not None:
            params["Range"] = first_bytes_range(first)
        out = self._s3.get_object(**params)
        data: bytes = out["Body"].read()
        return data

    def read_if_present(self, key: str) -> bytes | None:
        """The object's bytes; None when it does not exist."""
        try:
            return self.read(key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise

    def iter_chunks(self, key: str, chunk_size: int = 1024**2) -> Iterator[bytes]:
        body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def presign_inline(self, key: str, ttl_s: int, *, content_type: str) -> str:
        """A short-lived GET URL that a browser or image view shows rather than saves."""
        return self._signer.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type},
            ExpiresIn=ttl_s,
        )

    def with_bucket(self, bucket: str) -> BlobStore:
        """The same client on another bucket (or access point); never accelerated (access
        points have no accelerate endpoint)."""
        return BlobStore(self._s3, bucket)
