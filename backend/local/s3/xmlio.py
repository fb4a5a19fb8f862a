"""S3 XML: response documents and the request bodies we parse."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final
from urllib.parse import quote

from . import checksums
from .errors import S3Error
from .models import (
    BucketInfo,
    CompletedPart,
    DeleteResult,
    ObjectInfo,
    ObjectListing,
    PartListing,
    UploadInfo,
    UploadListing,
)

NAMESPACE: Final = "http://s3.amazonaws.com/doc/2006-03-01/"
OWNER_ID: Final = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
OWNER_NAME: Final = "filevault-local"
MAX_XML_BODY: Final = 2 * 1024 * 1024  # a 10,000-part Complete is ~1 MiB


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _root(tag: str) -> ET.Element:
    return ET.Element(tag, xmlns=NAMESPACE)


def _add(parent: ET.Element, tag: str, text: object = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = text if isinstance(text, str) else str(text)
    return child


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _owner(parent: ET.Element, tag: str = "Owner") -> None:
    owner = _add(parent, tag)
    _add(owner, "ID", OWNER_ID)
    _add(owner, "DisplayName", OWNER_NAME)


def to_bytes(root: ET.Element) -> bytes:
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def error(code: str, message: str, resource: str, request_id: str) -> bytes:
    root = ET.Element("Error")
    _add(root, "Code", code)
    _add(root, "Message", message)
    if resource:
        _add(root, "Resource", resource)
    _add(root, "RequestId", request_id)
    return to_bytes(root)


def list_buckets(buckets: Iterable[BucketInfo]) -> bytes:
    root = _root("ListAllMyBucketsResult")
    _owner(root)
    holder = _add(root, "Buckets")
    for bucket in buckets:
        node = _add(holder, "Bucket")
        _add(node, "Name", bucket.name)
        _add(node, "CreationDate", iso(bucket.created))
    return to_bytes(root)


def location(region: str) -> bytes:
    root = _root("LocationConstraint")
    # us-east-1 is reported as an empty constraint, as S3 does.
    root.text = "" if region == "us-east-1" else region
    return to_bytes(root)


def _checksum_elements(parent: ET.Element, values: Mapping[str, str]) -> None:
    for algorithm, value in sorted(values.items()):
        _add(parent, checksums.xml_name(algorithm), value)


def _object_checksums(info: ObjectInfo) -> dict[str, str]:
    if info.checksum_algorithm and info.checksum_value:
        return {info.checksum_algorithm: info.checksum_value}
    return {}


class _Encoder:
    """encoding-type=url: botocore asks for it and URL-decodes keys in listings."""

    def __init__(self, encoding_type: str | None) -> None:
        self.enabled = (encoding_type or "").lower() == "url"

    def __call__(self, value: str) -> str:
        return quote(value, safe="/") if self.enabled else value


def list_objects(
    bucket: str,
    listing: ObjectListing,
    *,
    v2: bool,
    prefix: str,
    delimiter: str,
    max_keys: int,
    encoding_type: str | None,
    marker: str = "",
    continuation_token: str | None = None,
    next_continuation_token: str | None = None,
    start_after: str = "",
    fetch_owner: bool = False,
) -> bytes:
    enc = _Encoder(encoding_type)
    root = _root("ListBucketResult")
    _add(root, "Name", bucket)
    _add(root, "Prefix", enc(prefix))
    if v2:
        if continuation_token is not None:
            _add(root, "ContinuationToken", continuation_token)
        if start_after:
            _add(root, "StartAfter", enc(start_after))
        _add(root, "KeyCount", len(listing.contents) + len(listing.common_prefixes))
    else:
        _add(root, "Marker", enc(marker))
    _add(root, "MaxKeys", max_keys)
    if delimiter:
        _add(root, "Delimiter", enc(delimiter))
    if enc.enabled:
        _add(root, "EncodingType", "url")
    _add(root, "IsTruncated", _bool(listing.is_truncated))
    if v2 and next_continuation_token:
        _add(root, "NextContinuationToken", next_continuation_token)
    if not v2 and listing.is_truncated and listing.next_marker:
        _add(root, "NextMarker", enc(listing.next_marker))
    for info in listing.contents:
        node = _add(root, "Contents")
        _add(node, "Key", enc(info.key))
        _add(node, "LastModified", iso(info.last_modified))
        _add(node, "ETag", info.etag)
        if info.checksum_algorithm:
            _add(node, "ChecksumAlgorithm", info.checksum_algorithm.upper())
            if info.checksum_type:
                _add(node, "ChecksumType", info.checksum_type)
        _add(node, "Size", info.size)
        if fetch_owner or not v2:
            _owner(node)
        _add(node, "StorageClass", "STANDARD")
    for common in listing.common_prefixes:
        _add(_add(root, "CommonPrefixes"), "Prefix", enc(common))
    return to_bytes(root)


def copy_result(info: ObjectInfo) -> bytes:
    root = _root("CopyObjectResult")
    _add(root, "ETag", info.etag)
    _add(root, "LastModified", iso(info.last_modified))
    _checksum_elements(root, _object_checksums(info))
    return to_bytes(root)


def delete_result(results: Iterable[DeleteResult], *, quiet: bool) -> bytes:
    root = _root("DeleteResult")
    for result in results:
        if result.error_code is None:
            if not quiet:
                _add(_add(root, "Deleted"), "Key", result.key)
        else:
            node = _add(root, "Error")
            _add(node, "Key", result.key)
            _add(node, "Code", result.error_code)
            _add(node, "Message", result.error_message or "")
    return to_bytes(root)


def initiate_result(upload: UploadInfo) -> bytes:
    root = _root("InitiateMultipartUploadResult")
    _add(root, "Bucket", upload.bucket)
    _add(root, "Key", upload.key)
    _add(root, "UploadId", upload.upload_id)
    return to_bytes(root)


def list_parts(listing: PartListing, *, part_number_marker: int, max_parts: int) -> bytes:
    upload = listing.upload
    root = _root("ListPartsResult")
    _add(root, "Bucket", upload.bucket)
    _add(root, "Key", upload.key)
    _add(root, "UploadId", upload.upload_id)
    _add(root, "PartNumberMarker", part_number_marker)
    _add(root, "NextPartNumberMarker", listing.next_part_number_marker)
    _add(root, "MaxParts", max_parts)
    _add(root, "IsTruncated", _bool(listing.is_truncated))
    _owner(root, "Initiator")
    _owner(root)
    _add(root, "StorageClass", "STANDARD")
    if upload.checksum_algorithm:
        _add(root, "ChecksumAlgorithm", upload.checksum_algorithm.upper())
        _add(root, "ChecksumType", upload.checksum_type or "COMPOSITE")
    for part in listing.parts:
        node = _add(root, "Part")
        _add(node, "PartNumber", part.part_number)
        _add(node, "LastModified", iso(part.last_modified))
        _add(node, "ETag", part.etag)
        _add(node, "Size", part.size)
        _checksum_elements(node, part.checksums)
    return to_bytes(root)


def complete_result(info: ObjectInfo, location_url: str) -> bytes:
    root = _root("CompleteMultipartUploadResult")
    _add(root, "Location", location_url)
    _add(root, "Bucket", info.bucket)
    _add(root, "Key", info.key)
    _add(root, "ETag", info.etag)
    _checksum_elements(root, _object_checksums(info))
    if info.checksum_type:
        _add(root, "ChecksumType", info.checksum_type)
    return to_bytes(root)


def list_uploads(
    bucket: str,
    listing: UploadListing,
    *,
    prefix: str,
    key_marker: str,
    upload_id_marker: str,
    max_uploads: int,
) -> bytes:
    root = _root("ListMultipartUploadsResult")
    _add(root, "Bucket", bucket)
    _add(root, "KeyMarker", key_marker)
    _add(root, "UploadIdMarker", upload_id_marker)
    _add(root, "NextKeyMarker", listing.next_key_marker)
    _add(root, "NextUploadIdMarker", listing.next_upload_id_marker)
    _add(root, "Prefix", prefix)
    _add(root, "MaxUploads", max_uploads)
    _add(root, "IsTruncated", _bool(listing.is_truncated))
    for upload in listing.uploads:
        node = _add(root, "Upload")
        _add(node, "Key", upload.key)
        _add(node, "UploadId", upload.upload_id)
        _owner(node, "Initiator")
        _owner(node)
        _add(node, "StorageClass", "STANDARD")
        _add(node, "Initiated", iso(upload.initiated))
        if upload.checksum_algorithm:
            _add(node, "ChecksumAlgorithm", upload.checksum_algorithm.upper())
    return to_bytes(root)


def tagging(tags: Mapping[str, str]) -> bytes:
    root = _root("Tagging")
    tag_set = _add(root, "TagSet")
    for key, value in tags.items():
        node = _add(tag_set, "Tag")
        _add(node, "Key", key)
        _add(node, "Value", value)
    return to_bytes(root)


# ----------------------------------------------------------------- parsing
def _parse(body: bytes) -> ET.Element:
    if len(body) > MAX_XML_BODY:
        raise S3Error("MalformedXML", "The XML you provided was too large")
    # No DTDs at all: rules out entity expansion attacks without defusedxml.
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise S3Error("MalformedXML", "The XML you provided may not contain a DTD")
    try:
        root = ET.fromstring(body)  # noqa: S314 - size-capped, DTD-free (checked above)
    except ET.ParseError:
        raise S3Error(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
        ) from None
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]  # drop the S3 namespace, if any
    return root


def _text(element: ET.Element, tag: str) -> str | None:
    child = element.find(tag)
    return None if child is None or child.text is None else child.text.strip()


def parse_complete(body: bytes) -> list[CompletedPart]:
    root = _parse(body)
    if root.tag != "CompleteMultipartUpload":
        raise S3Error("MalformedXML", "Expected a CompleteMultipartUpload document")
    parts = []
    for node in root.findall("Part"):
        number, etag = _text(node, "PartNumber"), _text(node, "ETag")
        if number is None or etag is None or not number.isdigit():
            raise S3Error("MalformedXML", "Each Part needs a PartNumber and an ETag")
        found = {}
        for algorithm in checksums.SUPPORTED:
            value = _text(node, checksums.xml_name(algorithm))
            if value:
                found[algorithm] = value
        parts.append(CompletedPart(part_number=int(number), etag=etag, checksums=found))
    return parts


def parse_delete(body: bytes) -> tuple[list[str], bool]:
    root = _parse(body)
    if root.tag != "Delete":
        raise S3Error("MalformedXML", "Expected a Delete document")
    keys = []
    for node in root.findall("Object"):
        key = node.find("Key")
        if key is None or key.text is None:
            raise S3Error("MalformedXML", "Each Object needs a Key")
        keys.append(key.text)
    if len(keys) > 1000:
        raise S3Error("MalformedXML", "A Delete request may name at most 1000 keys")
    quiet = (_text(root, "Quiet") or "false").lower() == "true"
    return keys, quiet


def parse_tagging(body: bytes) -> dict[str, str]:
    """A PutObjectTagging body: ``<Tagging><TagSet><Tag><Key/><Value/></Tag>...``."""
    root = _parse(body)
    tag_set = root.find("TagSet")
    if root.tag != "Tagging" or tag_set is None:
        raise S3Error("MalformedXML", "Expected a Tagging document with a TagSet")
    tags: dict[str, str] = {}
    for node in tag_set.findall("Tag"):
        key = node.find("Key")
        value = node.find("Value")
        if key is None or key.text is None or value is None:
            raise S3Error("MalformedXML", "Each Tag needs a Key and a Value")
        if key.text in tags:
            raise S3Error("InvalidTag", "Cannot provide multiple Tags with the same key")
        tags[key.text] = value.text or ""
    return tags
