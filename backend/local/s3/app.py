"""S3 protocol (path-style) over ``ObjectStore``, as a WSGI application.

Authentication is not done here: the local stack's front verifies SigV4
(``backend.local.sigv4``) and then calls this app, which trusts its caller. A
front that verified a signed streaming upload passes the chunk-signature
checker in ``environ[CHUNK_VALIDATOR_ENVIRON]`` so the chunks are checked too.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, unquote

from werkzeug.datastructures import Headers
from werkzeug.http import http_date, parse_date
from werkzeug.wrappers import Request, Response

from . import checksums, xmlio
from .errors import S3Error
from .ingest import IncomingBody
from .models import ObjectInfo
from .ranges import parse_range
from .store import ObjectStore

__all__ = ["CHUNK_VALIDATOR_ENVIRON", "S3App"]

_log = logging.getLogger(__name__)

CHUNK_VALIDATOR_ENVIRON: Final = "filevault.s3.chunk_validator"
_XML: Final = "application/xml"
# Representation headers S3 stores with an object and returns on GET/HEAD.
_STORED_HEADERS: Final = (
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Expires",
)
# GET query parameters that override a stored header in the response.
_RESPONSE_OVERRIDES: Final = {
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
    "response-content-language": "Content-Language",
    "response-content-type": "Content-Type",
    "response-expires": "Expires",
}
# Sub-resources of real S3 we do not implement: answer 501 rather than doing
# something else (e.g. a GET ?versions must not list the current objects only).
# ``tagging`` is implemented for objects only (bucket tagging answers 501).
_UNSUPPORTED: Final = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "attributes",
        "cors",
        "encryption",
        "intelligent-tiering",
        "inventory",
        "legal-hold",
        "lifecycle",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "ownershipControls",
        "policy",
        "policyStatus",
        "publicAccessBlock",
        "replication",
        "requestPayment",
        "restore",
        "retention",
        "select",
        "tagging",
        "torrent",
        "versioning",
        "versions",
        "website",
    }
)

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]


def _int_arg(args: Mapping[str, str], name: str, default: int, *, limit: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise S3Error("InvalidArgument", f"{name} must be an integer") from None
    if value < 0:
        raise S3Error("InvalidArgument", f"{name} must not be negative")
    return min(value, limit)


def _token_encode(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode("utf-8", "surrogatepass")).decode("ascii")


def _token_decode(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError, UnicodeError):
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect") from None


def _metadata(request: Request) -> dict[str, str]:
    return {
        name.lower().removeprefix("x-amz-meta-"): value
        for name, value in request.headers.items()
        if name.lower().startswith("x-amz-meta-")
    }


def _stored_headers(request: Request) -> dict[str, str]:
    stored = {}
    for name in _STORED_HEADERS:
        value = request.headers.get(name)
        if name == "Content-Encoding" and value:
            # aws-chunked is transport framing, not part of the object.
            value = ",".join(
                e.strip() for e in value.split(",") if e.strip().lower() != "aws-chunked"
            )
        if value:
            stored[name] = value
    return stored


def _etag_matches(condition: str, etag: str) -> bool:
    wanted = {c.strip().removeprefix("W/").strip('"') for c in condition.split(",")}
    return "*" in wanted or etag.strip('"') in wanted


class S3App:
    """WSGI app serving the S3 REST API (path-style: ``/bucket/key``) from a store."""

    def __init__(self, store: ObjectStore, *, region: str = "us-east-1") -> None:
        # Object-created events come from the store (``ObjectStore.on_object_created``), so
        # a write that reaches the store without a request raises them too.
        self.store = store
        self.region = region

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request_id = secrets.token_hex(8).upper()
        try:
            response = self.dispatch(request)
        except S3Error as error:
            response = self._error(request, error, request_id)
        except Exception:  # noqa: BLE001 - any bug must still yield an S3 error reply
            _log.exception("S3 request failed: %s %s", request.method, request.path)
            response = self._error(
                request,
                S3Error("InternalError", "We encountered an internal error. Please try again."),
                request_id,
            )
        response.headers["x-amz-request-id"] = request_id
        response.headers["x-amz-id-2"] = request_id
        result: Iterable[bytes] = response(environ, start_response)
        return result

    @staticmethod
    def _error(request: Request, error: S3Error, request_id: str) -> Response:
        if request.method == "HEAD":
            return Response(status=error.status)
        body = xmlio.error(error.code, error.message, error.resource, request_id)
        return Response(body, status=error.status, content_type=_XML)

    # ---------------------------------------------------------------- routing
    def dispatch(self, request: Request) -> Response:
        bucket, _, key = request.path.lstrip("/").partition("/")
        args = request.args
        method = request.method
        unsupported = set(_UNSUPPORTED.intersection(args.keys()))
        if key:
            unsupported.discard("tagging")
        if unsupported:
            raise S3Error(
                "NotImplemented",
                f"The local stack does not implement ?{sorted(unsupported)[0]}",
            )
        if not bucket:
            if method == "GET":
                return _xml(xmlio.list_buckets(self.store.list_buckets()))
            raise S3Error("MethodNotAllowed", "The specified method is not allowed")
        if not key:
            return self._bucket_request(request, bucket)
        if "tagging" in args:
            return self.object_tagging(request, bucket, key)
        if method == "PUT":
            if "uploadId" in args or "partNumber" in args:
                return self.upload_part(request, bucket, key)
            if "x-amz-copy-source" in request.headers:
                return self.copy_object(request, bucket, key)
            return self.put_object(request, bucket, key)
        if method in ("GET", "HEAD"):
            if "uploadId" in args and method == "GET":
                return self.list_parts(request, bucket, key)
            return self.get_object(request, bucket, key)
        if method == "DELETE":
            if "uploadId" in args:
                self.store.abort_multipart_upload(bucket, key, args["uploadId"])
                return Response(status=204)
            self.store.delete_object(bucket, key)
            return Response(status=204)
        if method == "POST":
            if "uploads" in args:
                return self.create_multipart_upload(request, bucket, key)
            if "uploadId" in args:
                return self.complete_multipart_upload(request, bucket, key)
        raise S3Error("MethodNotAllowed", "The specified method is not allowed")

    def _bucket_request(self, request: Request, bucket: str) -> Response:
        args = request.args
        method = request.method
        if method == "PUT":
            self.store.create_bucket(bucket)
            return Response(status=200, headers={"Location": f"/{bucket}"})
        if method == "HEAD":
            self.store.head_bucket(bucket)
            return Response(status=200, headers={"x-amz-bucket-region": self.region})
        if method == "DELETE":
            self.store.delete_bucket(bucket)
            return Response(status=204)
        if method == "POST" and "delete" in args:
            return self.delete_objects(request, bucket)
        if method == "GET":
            if "location" in args:
                self.store.head_bucket(bucket)
                return _xml(xmlio.location(self.region))
            if "uploads" in args:
                return self.list_multipart_uploads(request, bucket)
            return self.list_objects(request, bucket)
        raise S3Error("MethodNotAllowed", "The specified method is not allowed")

    # ----------------------------------------------------------------- bodies
    @staticmethod
    def _incoming(request: Request) -> IncomingBody:
        environ = request.environ
        length = request.content_length
        if length is None and not environ.get("wsgi.input_terminated"):
            raise S3Error(
                "MissingContentLength", "You must provide the Content-Length HTTP header."
            )
        return IncomingBody.from_headers(
            request.stream,
            dict(request.headers.items()),
            content_length=length,
            chunk_validator=environ.get(CHUNK_VALIDATOR_ENVIRON),
        )

    @staticmethod
    def _small_body(request: Request) -> bytes:
        """An XML request body, read whole (bounded: these are at most ~1 MiB)."""
        length = request.content_length
        if length is not None and length > xmlio.MAX_XML_BODY:
            raise S3Error("MalformedXML", "The XML you provided was too large")
        data = request.stream.read(xmlio.MAX_XML_BODY + 1)
        if len(data) > xmlio.MAX_XML_BODY:
            raise S3Error("MalformedXML", "The XML you provided was too large")
        return bytes(data)

    # ---------------------------------------------------------------- objects
    def put_object(self, request: Request, bucket: str, key: str) -> Response:
        if_none_match = request.headers.get("If-None-Match", "").strip()
        if if_none_match not in ("", "*"):
            raise S3Error("NotImplemented", "Only If-None-Match: * is supported on PUT")
        info = self.store.put_object(
            bucket,
            key,
            self._incoming(request),
            content_type=request.headers.get("Content-Type"),
            metadata=_metadata(request),
            headers=_stored_headers(request),
            if_none_match=if_none_match == "*",
        )
        response = Response(status=200)
        response.headers["ETag"] = info.etag
        if info.checksum_algorithm and info.checksum_value:
            response.headers[checksums.header_name(info.checksum_algorithm)] = info.checksum_value
            response.headers["x-amz-checksum-type"] = info.checksum_type or "FULL_OBJECT"
        return response

    def copy_object(self, request: Request, bucket: str, key: str) -> Response:
        source = unquote(request.headers["x-amz-copy-source"]).split("?", 1)[0].lstrip("/")
        src_bucket, _, src_key = source.partition("/")
        if not src_bucket or not src_key:
            raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key")
        directive = request.headers.get("x-amz-metadata-directive", "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise S3Error("InvalidArgument", "Unknown metadata directive.")
        info = self.store.copy_object(
            src_bucket,
            src_key,
            bucket,
            key,
            replace_metadata=directive == "REPLACE",
            content_type=request.headers.get("Content-Type"),
            metadata=_metadata(request),
            headers=_stored_headers(request),
        )
        return _xml(xmlio.copy_result(info))

    def get_object(self, request: Request, bucket: str, key: str) -> Response:
        raw_part = request.args.get("partNumber")
        part_number = None
        if raw_part is not None:
            if not raw_part.isdigit():
                raise S3Error("InvalidArgument", "Part number must be an integer")
            part_number = int(raw_part)
        byte_range = None if part_number else parse_range(request.headers.get("Range"))
        info, body = self.store.open_object(bucket, key, byte_range, part_number=part_number)
        partial = byte_range is not None or part_number is not None
        try:
            status = self._preconditions(request, info)
            headers = self._object_headers(request, info, ranged=partial)
            if status == 304:
                body.close()
                return Response(status=304, headers=_only(headers, ("ETag", "Last-Modified")))
            if part_number is not None:
                headers["x-amz-mp-parts-count"] = str(info.parts_count or 1)
            if partial:
                headers["Content-Range"] = f"bytes {body.start}-{body.end - 1}/{info.size}"
            headers["Content-Length"] = str(len(body))
            if request.method == "HEAD":
                body.close()
                return Response(status=206 if partial else 200, headers=headers)
            # The body iterates over blob files chunk by chunk; the WSGI server
            # calls its close(), which releases the blobs' pins.
            return Response(
                body, status=206 if partial else 200, headers=headers, direct_passthrough=True
            )
        except BaseException:
            body.close()
            raise

    @staticmethod
    def _preconditions(request: Request, info: ObjectInfo) -> int:
        """200 to serve, 304 for not-modified; raises 412 PreconditionFailed."""
        failed = S3Error(
            "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"
        )
        if_match = request.headers.get("If-Match")
        if if_match is not None and not _etag_matches(if_match, info.etag):
            raise failed
        since = parse_date(request.headers.get("If-Unmodified-Since"))
        if (
            if_match is None
            and since is not None
            and info.last_modified.replace(microsecond=0) > since
        ):
            raise failed
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None:
            return 304 if _etag_matches(if_none_match, info.etag) else 200
        modified = parse_date(request.headers.get("If-Modified-Since"))
        if modified is not None and info.last_modified.replace(microsecond=0) <= modified:
            return 304
        return 200

    @staticmethod
    def _object_headers(request: Request, info: ObjectInfo, *, ranged: bool) -> Headers:
        headers = Headers()
        headers["Content-Type"] = info.content_type
        headers["ETag"] = info.etag
        headers["Last-Modified"] = http_date(info.last_modified)
        headers["Accept-Ranges"] = "bytes"
        for name, value in info.headers.items():
            headers[name] = value
        for name, value in info.metadata.items():
            headers[f"x-amz-meta-{name}"] = value
        for param, header in _RESPONSE_OVERRIDES.items():
            if param in request.args:
                headers[header] = request.args[param]
        # S3 returns the stored checksum only for whole-object reads, on request.
        checksum_mode = request.headers.get("x-amz-checksum-mode", "").upper()
        if checksum_mode == "ENABLED" and not ranged and info.checksum_algorithm:
            headers[checksums.header_name(info.checksum_algorithm)] = info.checksum_value or ""
            headers["x-amz-checksum-type"] = info.checksum_type or "FULL_OBJECT"
        return headers

    def object_tagging(self, request: Request, bucket: str, key: str) -> Response:
        """GetObjectTagging, PutObjectTagging and DeleteObjectTagging (current object)."""
        if request.method == "GET":
            return _xml(xmlio.tagging(self.store.get_object_tagging(bucket, key)))
        if request.method == "PUT":
            tags = xmlio.parse_tagging(self._small_body(request))
            self.store.put_object_tagging(bucket, key, tags)
            return Response(status=200)
        if request.method == "DELETE":
            self.store.delete_object_tagging(bucket, key)
            return Response(status=204)
        raise S3Error("MethodNotAllowed", "The specified method is not allowed")

    def delete_objects(self, request: Request, bucket: str) -> Response:
        keys, quiet = xmlio.parse_delete(self._small_body(request))
        results = self.store.delete_objects(bucket, keys)
        return _xml(xmlio.delete_result(results, quiet=quiet))

    def list_objects(self, request: Request, bucket: str) -> Response:
        args = request.args
        v2 = args.get("list-type") == "2"
        prefix = args.get("prefix", "")
        delimiter = args.get("delimiter", "")
        max_keys = _int_arg(args, "max-keys", 1000, limit=1000)
        token = args.get("continuation-token") if v2 else None
        start_after = args.get("start-after", "") if v2 else ""
        marker = args.get("marker", "") if not v2 else ""
        resume = _token_decode(token) if token else (start_after or marker)
        listing = self.store.list_objects(
            bucket, prefix=prefix, delimiter=delimiter, start_after=resume, max_keys=max_keys
        )
        next_token = (
            _token_encode(listing.next_marker)
            if v2 and listing.is_truncated and listing.next_marker
            else None
        )
        return _xml(
            xmlio.list_objects(
                bucket,
                listing,
                v2=v2,
                prefix=prefix,
                delimiter=delimiter,
                max_keys=max_keys,
                encoding_type=args.get("encoding-type"),
                marker=marker,
                continuation_token=token,
                next_continuation_token=next_token,
                start_after=start_after,
                fetch_owner=args.get("fetch-owner", "").lower() == "true",
            )
        )

    # -------------------------------------------------------------- multipart
    def create_multipart_upload(self, request: Request, bucket: str, key: str) -> Response:
        upload = self.store.create_multipart_upload(
            bucket,
            key,
            content_type=request.headers.get("Content-Type"),
            metadata=_metadata(request),
            headers=_stored_headers(request),
            checksum_algorithm=request.headers.get("x-amz-checksum-algorithm"),
            checksum_type=request.headers.get("x-amz-checksum-type"),
        )
        response = _xml(xmlio.initiate_result(upload))
        if upload.checksum_algorithm:
            response.headers["x-amz-checksum-algorithm"] = upload.checksum_algorithm.upper()
            response.headers["x-amz-checksum-type"] = upload.checksum_type or "COMPOSITE"
        return response

    def upload_part(self, request: Request, bucket: str, key: str) -> Response:
        if "x-amz-copy-source" in request.headers:
            raise S3Error("NotImplemented", "UploadPartCopy is not supported by the local stack")
        upload_id = request.args.get("uploadId", "")
        raw_number = request.args.get("partNumber", "")
        if not upload_id or not raw_number.isdigit():
            raise S3Error("InvalidArgument", "UploadPart needs partNumber and uploadId")
        part = self.store.upload_part(
            bucket, key, upload_id, int(raw_number), self._incoming(request)
        )
        response = Response(status=200)
        response.headers["ETag"] = part.etag
        for algorithm, value in part.checksums.items():
            response.headers[checksums.header_name(algorithm)] = value
        return response

    def list_parts(self, request: Request, bucket: str, key: str) -> Response:
        marker = _int_arg(request.args, "part-number-marker", 0, limit=10_000)
        max_parts = _int_arg(request.args, "max-parts", 1000, limit=1000)
        listing = self.store.list_parts(
            bucket, key, request.args["uploadId"], part_number_marker=marker, max_parts=max_parts
        )
        return _xml(xmlio.list_parts(listing, part_number_marker=marker, max_parts=max_parts))

    def complete_multipart_upload(self, request: Request, bucket: str, key: str) -> Response:
        parts = xmlio.parse_complete(self._small_body(request))
        expected = {}
        for algorithm in checksums.SUPPORTED:
            value = request.headers.get(checksums.header_name(algorithm))
            if value:
                expected[algorithm] = value
        if_none_match = request.headers.get("If-None-Match", "").strip()
        size_header = request.headers.get("x-amz-mp-object-size")
        if size_header is not None and not size_header.strip().isdigit():
            raise S3Error("InvalidArgument", "x-amz-mp-object-size must be an integer")
        info = self.store.complete_multipart_upload(
            bucket,
            key,
            request.args["uploadId"],
            parts,
            expected_checksums=expected,
            expected_size=int(size_header) if size_header is not None else None,
            if_none_match=if_none_match == "*",
        )
        location = f"{request.host_url}{quote(bucket)}/{quote(key)}"
        return _xml(xmlio.complete_result(info, location))

    def list_multipart_uploads(self, request: Request, bucket: str) -> Response:
        args = request.args
        prefix = args.get("prefix", "")
        key_marker = args.get("key-marker", "")
        upload_id_marker = args.get("upload-id-marker", "")
        max_uploads = _int_arg(args, "max-uploads", 1000, limit=1000)
        listing = self.store.list_multipart_uploads(
            bucket,
            prefix=prefix,
            key_marker=key_marker,
            upload_id_marker=upload_id_marker,
            max_uploads=max_uploads,
        )
        return _xml(
            xmlio.list_uploads(
                bucket,
                listing,
                prefix=prefix,
                key_marker=key_marker,
                upload_id_marker=upload_id_marker,
                max_uploads=max_uploads,
            )
        )


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=_XML)


def _only(headers: Headers, names: Iterable[str]) -> Headers:
    kept = Headers()
    for name in names:
        if name in headers:
            kept[name] = headers[name]
    return kept
