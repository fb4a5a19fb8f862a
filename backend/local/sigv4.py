"""Server-side verification of AWS Signature Version 4.

The local stack has to do what AWS does at its front door: reject requests whose
signature does not match (wrong secret, tampered path, query, method or signed
header) and pre-signed URLs that have expired. moto does not check pre-signed
URLs at all, so this module is what makes a tampered or expired URL fail locally.

The canonicalisation rules are botocore's: :func:`botocore_signature` feeds
botocore's own signer classes a request rebuilt from exactly what the client signed,
at the client's own ``X-Amz-Date`` (``add_auth`` would stamp the current time, so it
is never used). Every request of the stack goes through here (its own internal calls
too), and that rebuild costs more than the rest of a small request, so
:func:`direct_signature` computes the same canonical request, string to sign and
signature step by step as those classes do, without building a request object; it
hands the rare request it does not cover (a signed header value with surrogate
characters, which botocore's header map turns into another type) to botocore. The
two are compared on generated requests in the tests.

Covered: header auth (``Authorization: AWS4-HMAC-SHA256 ...``) for any service,
query auth (pre-signed URLs), and the chained chunk signatures of
``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`` bodies (see ``ChunkSignatureChain``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path

__all__ = [
    "ChunkSignatureChain",
    "SigV4Verifier",
    "SignatureError",
    "VerifiedRequest",
]

ALGORITHM: Final = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED: Final = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER: Final = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()
_AMZ_DATE_FORMAT: Final = "%Y%m%dT%H%M%SZ"
_QUERY_AUTH_PARAMS: Final = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
# x-amz-* headers a client may add without signing them. Everything else in the
# x-amz- namespace changes what the request does (copy source, metadata, ACL...),
# so, as S3 does, an unsigned one is refused: a pre-signed PUT must not be turned
# into a copy of someone else's object by adding a header.
_UNSIGNED_AMZ_HEADERS_ALLOWED: Final = frozenset(
    {
        "x-amz-content-sha256",
        "x-amz-decoded-content-length",
        "x-amz-trailer",
        "x-amz-sdk-checksum-algorithm",
        "x-amz-checksum-mode",
        "x-amz-user-agent",
    }
)


class SignatureError(Exception):
    """Authentication failed; ``code`` is the S3-style error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """HTTP status AWS uses for this code."""
        return 400 if self.code in _BAD_REQUEST_CODES else 403


_BAD_REQUEST_CODES: Final = frozenset(
    {"AuthorizationQueryParametersError", "AuthorizationHeaderMalformed", "InvalidRequest"}
)


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class ChunkSignatureChain:
    """Verifies the chained signatures of a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` body.

    The header signature (the "seed") only covers the headers; each chunk of the
    body then carries a signature over its own SHA-256 and the previous signature.
    The body decoder calls ``verify_chunk`` once per chunk, in order, and
    ``verify_trailer`` for the trailing headers of the ``-TRAILER`` variant. The
    object is stateful (it remembers the previous signature): one per request.
    """

    def __init__(self, *, signing_key: bytes, timestamp: str, scope: str, seed: str) -> None:
        self._key = signing_key
        self._timestamp = timestamp
        self._scope = scope
        self._previous = seed

    def _check(self, kind: str, digest_lines: tuple[str, ...], signature: str) -> bool:
        string_to_sign = "\n".join(
            (kind, self._timestamp, self._scope, self._previous, *digest_lines)
        )
        expected = hmac.new(self._key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.strip().lower()):
            return False
        self._previous = expected
        return True

    def verify_chunk(self, chunk_sha256_hex: str, signature: str) -> bool:
        """True if ``signature`` signs a chunk whose data hashes to ``chunk_sha256_hex``."""
        return self._check("AWS4-HMAC-SHA256-PAYLOAD", (EMPTY_SHA256, chunk_sha256_hex), signature)

    def verify_trailer(self, canonical_trailers: str, signature: str) -> bool:
        """True if ``signature`` signs the trailers (``name:value\\n`` lines, in order sent)."""
        digest = hashlib.sha256(canonical_trailers.encode()).hexdigest()
        return self._check("AWS4-HMAC-SHA256-TRAILER", (digest,), signature)


@dataclass(frozen=True)
class VerifiedRequest:
    """Who signed a request that passed verification, and what the signature covers."""

    access_key: str
    service: str
    region: str
    presigned: bool
    # The payload hash the signature covers: "UNSIGNED-PAYLOAD", "STREAMING-...",
    # or a hex SHA-256 that the body must still be checked against by whoever
    # reads it (the S3 store does, and answers XAmzContentSHA256Mismatch).
    payload_hash: str
    # Set for signed streaming bodies; hand it to the body decoder.
    chunk_signatures: ChunkSignatureChain | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class _Credential:
    access_key: str
    date: str
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


class _ExactHeadersMixin:
    """Sign exactly the headers the client listed in SignedHeaders.

    botocore's default drops a fixed list of hop-by-hop headers (user-agent,
    expect...) before signing; some SDKs do sign those, and the request we
    rebuild already contains only the signed headers, so take them all.
    """

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


class _HeaderSigner(_ExactHeadersMixin, SigV4Auth):
    pass


class _S3HeaderSigner(_ExactHeadersMixin, S3SigV4Auth):
    pass


class _QuerySigner(_ExactHeadersMixin, SigV4QueryAuth):
    pass


class _S3QuerySigner(_ExactHeadersMixin, S3SigV4QueryAuth):
    pass


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _parse_query(raw_query: str) -> list[tuple[str, str]]:
    """Decode a raw query string into (name, value) pairs, keeping blanks and order.

    ``+`` is kept literally (S3 clients percent-encode spaces), matching how the
    app decodes its own query parameters.
    """
    pairs: list[tuple[str, str]] = []
    for item in raw_query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def _canonical_path(raw_path: str) -> str:
    # Canonicalise the client's encoding (decode, then AWS URI-encode) so that a
    # client escaping e.g. "!" and one that does not both verify; botocore's
    # non-S3 signer then adds its second encoding pass itself.
    return quote(unquote(raw_path or "/"), safe="/~")


def _parse_amz_date(value: str, code: str) -> datetime:
    try:
        return datetime.strptime(value, _AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(code, f"X-Amz-Date is not ISO8601 basic format: {value!r}") from None


def _authorization_fields(authorization: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in authorization[len(ALGORITHM) :].split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def _parse_credential(value: str, code: str) -> _Credential:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise SignatureError(code, f"Malformed credential scope: {value!r}")
    return _Credential(access_key=parts[0], date=parts[1], region=parts[2], service=parts[3])


@dataclass(frozen=True)
class _Signing:
    """What the expected signature of a request depends on (besides its secret)."""

    method: str
    host: str
    raw_path: str
    # The canonical query's pairs (decoded): the whole query for header auth, all but
    # X-Amz-Signature for query auth.
    params: list[tuple[str, str]]
    # The signed headers (lowercase names) with their values, "host" included.
    headers: dict[str, str]
    body: bytes | None
    credential: _Credential
    timestamp: str
    presigned: bool


_SURROGATES: Final = re.compile("[\ud800-\udfff]")
_KEYS_CACHE_SIZE: Final = 64
_keys: dict[tuple[str, str, str, str], bytes] = {}
_keys_lock = threading.Lock()


def _cached_signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    where = (secret, date, region, service)
    key = _keys.get(where)
    if key is None:
        key = _signing_key(secret, date, region, service)
        with _keys_lock:
            if len(_keys) >= _KEYS_CACHE_SIZE:
                _keys.clear()
            _keys[where] = key
    return key


def _url(signing: _Signing) -> str:
    # The host only places the path for botocore; the signed Host header is
    # what enters the canonical request.
    return f"http://{signing.host or 'localhost'}{_canonical_path(signing.raw_path)}"


def botocore_signature(signing: _Signing, secret: str) -> str:
    """The expected signature, computed by botocore's signer classes."""
    credential = signing.credential
    request = AWSRequest(
        method=signing.method.upper(),
        url=_url(signing),
        headers=signing.headers,
        data=signing.body,
    )
    # A list keeps repeated names; botocore canonicalises a list or a mapping.
    request.params = signing.params  # type: ignore[assignment]
    creds = Credentials(credential.access_key, secret)
    is_s3 = credential.service == "s3"
    signer: SigV4Auth
    if signing.presigned:
        query_cls = _S3QuerySigner if is_s3 else _QuerySigner
        signer = query_cls(creds, credential.service, credential.region)
    else:
        header_cls = _S3HeaderSigner if is_s3 else _HeaderSigner
        signer = header_cls(creds, credential.service, credential.region)
    request.context["timestamp"] = signing.timestamp
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    return str(signer.signature(string_to_sign, request))


def _query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def direct_signature(signing: _Signing, secret: str) -> str | None:
    """The expected signature, computed as botocore's signer classes compute it (see
    :func:`botocore_signature`, the reference), or None for a request it leaves to them."""
    headers = signing.headers
    for value in headers.values():
        if not value.isascii() and _SURROGATES.search(value):
            return None  # botocore's header map makes such a value a Header object
    credential = signing.credential
    is_s3 = credential.service == "s3"
    # SigV4Auth.canonical_request: method, path, query, headers, signed names, payload.
    parts = urlsplit(_url(signing))
    path = parts.path if is_s3 else quote(normalize_url_path(parts.path), safe="/~")
    if signing.params:
        query = _query(
            [(quote(k, safe="-_.~"), quote(str(v), safe="-_.~")) for k, v in signing.params]
        )
    elif parts.query:
        query = _query([pair.partition("=")[::2] for pair in parts.query.split("&")])
    else:
        query = ""
    lowered = {name.lower(): value for name, value in headers.items()}
    canonical_headers = "\n".join(
        f"{name}:{' '.join(lowered[name].split())}" for name in sorted(lowered)
    )
    signed_names = ";".join(sorted(name.lower().strip() for name in lowered))
    if "x-amz-content-sha256" in lowered:
        payload = lowered["x-amz-content-sha256"]
    elif signing.presigned and is_s3:
        payload = UNSIGNED_PAYLOAD
    else:
        payload = hashlib.sha256(signing.body or b"").hexdigest()
    canonical = "\n".join(
        (signing.method.upper(), path, query, canonical_headers + "\n", signed_names, payload)
    )
    date = signing.timestamp[0:8]
    string_to_sign = "\n".join(
        (
            ALGORITHM,
            signing.timestamp,
            f"{date}/{credential.region}/{credential.service}/aws4_request",
            hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        )
    )
    key = _cached_signing_key(secret, date, credential.region, credential.service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class SigV4Verifier:
    """Verify SigV4-signed requests against a table of access key -> secret key."""

    def __init__(
        self,
        secrets: Mapping[str, str],
        *,
        clock: Callable[[], datetime] = _utc_now,
        max_skew: timedelta = timedelta(minutes=15),
        max_expires: int = 7 * 24 * 3600,
    ) -> None:
        self._secrets = secrets
        self._clock = clock
        self._max_skew = max_skew
        self._max_expires = max_expires

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def is_signed(headers_or_environ: Mapping[str, Any], raw_query: str | None = None) -> bool:
        """Whether a request carries SigV4 auth (header or query).

        Pass a WSGI environ alone, or a header mapping plus the raw query string.
        """
        if raw_query is None:
            authorization = str(headers_or_environ.get("HTTP_AUTHORIZATION", ""))
            raw_query = str(headers_or_environ.get("QUERY_STRING", ""))
        else:
            lowered = {k.lower(): v for k, v in headers_or_environ.items()}
            authorization = str(lowered.get("authorization", ""))
        if authorization.startswith(ALGORITHM + " "):
            return True
        return any(name == "X-Amz-Signature" for name, _ in _parse_query(raw_query))

    def _secret(self, access_key: str) -> str:
        secret = self._secrets.get(access_key)
        if secret is None:
            raise SignatureError(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
        return secret

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=UTC)

    @staticmethod
    def _require_signed_amz_headers(headers: Mapping[str, str], signed: list[str]) -> None:
        signed_set = set(signed)
        for name in headers:
            if (
                name.startswith("x-amz-")
                and name not in signed_set
                and name not in _UNSIGNED_AMZ_HEADERS_ALLOWED
                and not name.startswith("x-amz-checksum-")
            ):
                raise SignatureError(
                    "AccessDenied",
                    f"There were headers present in the request which were not signed: {name}",
                )

    @staticmethod
    def _only_signed(
        headers: Mapping[str, str], signed: list[str], host: str, code: str
    ) -> dict[str, str]:
        if "host" not in signed:
            raise SignatureError(code, "The host header must be signed")
        only_signed: dict[str, str] = {}
        for name in signed:
            if name == "host":
                only_signed["host"] = headers.get("host", host)
            elif name in headers:
                only_signed[name] = headers[name]
            else:
                raise SignatureError(
                    "SignatureDoesNotMatch", f"Signed header {name!r} is missing from the request"
                )
        return only_signed

    @staticmethod
    def _expected(signing: _Signing, secret: str) -> str:
        direct = direct_signature(signing, secret)
        return direct if direct is not None else botocore_signature(signing, secret)

    # ------------------------------------------------------------------ verify
    def verify(
        self,
        *,
        method: str,
        host: str,
        raw_path: str,
        raw_query: str,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> VerifiedRequest:
        """Check the request's SigV4 signature; raise ``SignatureError`` if it fails.

        ``raw_path`` and ``raw_query`` are as sent on the wire (still
        percent-encoded). ``body`` is needed for non-S3 services, whose signature
        covers the SHA-256 of the body; S3 declares its payload hash in a header.
        """
        lowered = {k.lower(): str(v) for k, v in headers.items()}
        query = _parse_query(raw_query)
        authorization = lowered.get("authorization", "")
        if authorization.startswith(ALGORITHM + " "):
            return self._verify_header(method, host, raw_path, query, lowered, body, authorization)
        if any(name in _QUERY_AUTH_PARAMS for name, _ in query):
            return self._verify_query(method, host, raw_path, query, lowered, body)
        if authorization:
            raise SignatureError("InvalidRequest", "Unsupported authorization type")
        raise SignatureError("AccessDenied", "Request is not signed")

    def unsigned_from_this_process(self, headers: Mapping[str, str]) -> VerifiedRequest:
        """Who sent a request made in this process (``backend/local/inprocess.py``): its
        Authorization header names a known credential and scope but carries no signature,
        since nothing crossed a wire. The caller must know the request never left the
        process; ``headers`` are lower-cased."""
        code = "AuthorizationHeaderMalformed"
        fields = _authorization_fields(headers.get("authorization", ""))
        try:
            credential = _parse_credential(fields["Credential"], code)
        except KeyError:
            raise SignatureError(code, "Authorization header lacks Credential") from None
        self._secret(credential.access_key)
        return VerifiedRequest(
            access_key=credential.access_key,
            service=credential.service,
            region=credential.region,
            presigned=False,
            payload_hash=headers.get("x-amz-content-sha256", UNSIGNED_PAYLOAD),
        )

    def _verify_header(
        self,
        method: str,
        host: str,
        raw_path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes | None,
        authorization: str,
    ) -> VerifiedRequest:
        code = "AuthorizationHeaderMalformed"
        fields = _authorization_fields(authorization)
        try:
            credential = _parse_credential(fields["Credential"], code)
            signed = fields["SignedHeaders"].split(";")
            signature = fields["Signature"]
        except KeyError as missing:
            raise SignatureError(code, f"Authorization header lacks {missing.args[0]}") from None
        secret = self._secret(credential.access_key)

        if "x-amz-date" in headers:
            timestamp = headers["x-amz-date"]
            when = _parse_amz_date(timestamp, code)
        elif "date" in headers:
            try:
                when = parsedate_to_datetime(headers["date"]).astimezone(UTC)
            except (TypeError, ValueError):
                raise SignatureError(code, "Unparseable Date header") from None
            timestamp = when.strftime(_AMZ_DATE_FORMAT)
        else:
            raise SignatureError("AccessDenied", "Request lacks an X-Amz-Date or Date header")
        if abs(self._now() - when) > self._max_skew:
            raise SignatureError(
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
        if credential.date != timestamp[:8]:
            raise SignatureError(code, "Credential scope date does not match X-Amz-Date")

        is_s3 = credential.service == "s3"
        if is_s3:
            payload_hash = headers.get("x-amz-content-sha256", "")
            if not payload_hash:
                raise SignatureError(
                    "InvalidRequest",
                    "Missing required header for this request: x-amz-content-sha256",
                )
            if "x-amz-content-sha256" not in signed:
                raise SignatureError("AccessDenied", "x-amz-content-sha256 must be signed")
        else:
            payload_hash = hashlib.sha256(body or b"").hexdigest()
            declared = headers.get("x-amz-content-sha256")
            # botocore takes a signed x-amz-content-sha256 header as the payload
            # hash; for services that hash the body it must also be the truth.
            if declared is not None and declared != payload_hash:
                raise SignatureError(
                    "SignatureDoesNotMatch", "Body does not match its declared hash"
                )
        self._require_signed_amz_headers(headers, signed)

        signing = _Signing(
            method=method,
            host=host,
            raw_path=raw_path,
            params=query,
            headers=self._only_signed(headers, signed, host, code),
            body=body,
            credential=credential,
            timestamp=timestamp,
            presigned=False,
        )
        expected = self._expected(signing, secret)
        if not hmac.compare_digest(expected, signature.lower()):
            raise SignatureError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )

        chain = None
        if payload_hash in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
            chain = ChunkSignatureChain(
                signing_key=_signing_key(
                    secret, credential.date, credential.region, credential.service
                ),
                timestamp=timestamp,
                scope=credential.scope,
                seed=expected,
            )
        return VerifiedRequest(
            access_key=credential.access_key,
            service=credential.service,
            region=credential.region,
            presigned=False,
            payload_hash=payload_hash,
            chunk_signatures=chain,
        )

    def _verify_query(
        self,
        method: str,
        host: str,
        raw_path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> VerifiedRequest:
        code = "AuthorizationQueryParametersError"
        params: dict[str, str] = {}
        for name, value in query:
            if name in _QUERY_AUTH_PARAMS:
                if name in params:
                    raise SignatureError(code, f"{name} appears more than once")
                params[name] = value
        missing = [name for name in _QUERY_AUTH_PARAMS if name not in params]
        if missing:
            raise SignatureError(code, f"Query-string authentication requires {', '.join(missing)}")
        if params["X-Amz-Algorithm"] != ALGORITHM:
            raise SignatureError(code, "X-Amz-Algorithm only supports AWS4-HMAC-SHA256")
        credential = _parse_credential(params["X-Amz-Credential"], code)
        timestamp = params["X-Amz-Date"]
        when = _parse_amz_date(timestamp, code)
        try:
            expires = int(params["X-Amz-Expires"])
        except ValueError:
            raise SignatureError(code, "X-Amz-Expires should be a number") from None
        if expires < 1:
            raise SignatureError(code, "X-Amz-Expires must be positive")
        if expires > self._max_expires:
            raise SignatureError(
                code, f"X-Amz-Expires must be less than {self._max_expires} seconds"
            )
        if credential.date != timestamp[:8]:
            raise SignatureError(code, "Credential scope date does not match X-Amz-Date")
        secret = self._secret(credential.access_key)

        now = self._now()
        if now > when + timedelta(seconds=expires):
            raise SignatureError("AccessDenied", "Request has expired")
        if when - now > self._max_skew:
            raise SignatureError("AccessDenied", "Request is not valid yet")

        signed = params["X-Amz-SignedHeaders"].split(";")
        self._require_signed_amz_headers(headers, signed)
        signing = _Signing(
            method=method,
            host=host,
            raw_path=raw_path,
            # Everything but the signature is in the canonical query, auth params
            # included, exactly as botocore's query signer lays them out.
            params=[(name, value) for name, value in query if name != "X-Amz-Signature"],
            headers=self._only_signed(headers, signed, host, code),
            body=body,
            credential=credential,
            timestamp=timestamp,
            presigned=True,
        )
        expected = self._expected(signing, secret)
        is_s3 = credential.service == "s3"
        if not hmac.compare_digest(expected, params["X-Amz-Signature"].lower()):
            raise SignatureError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if not is_s3:
            payload_hash = hashlib.sha256(body or b"").hexdigest()
        elif "x-amz-content-sha256" in signed:
            payload_hash = headers["x-amz-content-sha256"]
        else:  # what a pre-signed S3 URL signs in place of the body
            payload_hash = UNSIGNED_PAYLOAD
        return VerifiedRequest(
            access_key=credential.access_key,
            service=credential.service,
            region=credential.region,
            presigned=True,
            payload_hash=payload_hash,
        )
