"""The stack's own AWS calls, answered in-process by the AWS endpoint's WSGI app.

The API handlers, the workflow steps and moto's Step Functions Task states all call the
stack's AWS endpoint (``AwsFront``) through boto3. Over loopback HTTP each call costs a TCP
connection and a server thread (werkzeug answers ``Connection: close``). :class:`InProcess`
is a botocore ``before-send`` handler that hands the signed request to the very same WSGI
app instead, in the caller's thread and without a socket: routing, the DynamoDB lock and the
mutation hooks are those of an HTTP request. Only requests for the endpoint's own URL are
taken; anything else goes out over HTTP as usual.

Such a request is not signed: computing a SigV4 signature here and checking it there cost a
tenth of the stack's CPU while it post-processed uploads, to prove something no wire stood
between. The client still names its credential and scope in the ``Authorization`` header
(moto routes and attributes requests by them) with the signature :data:`UNSIGNED_MARK`, and
the app accepts that only from a request marked in the WSGI environ
(:data:`IN_PROCESS_ENVIRON`), which no HTTP request can carry. Presigned URLs are signed as
always: they leave the process. Clients outside the process (the desktop app,
rclone, awscli, admin commands) are untouched and still speak HTTP to the endpoint.

``FILEVAULT_LOCAL_INTERNAL_HTTP=1`` turns this off (internal calls go over loopback HTTP as
before), to compare the two or to debug with a packet capture.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import botocore.auth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse, HTTPHeaders
from botocore.compat import get_current_datetime
from botocore.exceptions import NoCredentialsError
from botocore.handlers import set_operation_specific_signer

log = logging.getLogger("filevault.local.inprocess")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
DISABLE_ENV = "FILEVAULT_LOCAL_INTERNAL_HTTP"
# http.client sends "Content-Length: 0" for these methods when there is no body.
_METHODS_EXPECTING_BODY = frozenset({"PATCH", "POST", "PUT"})
IN_PROCESS_ENVIRON = "filevault.in_process"
UNSIGNED_MARK = "unsigned-in-process"
# Set in a request's context by the InProcess of the client sending it: the host:port it
# answers (botocore makes the signers below by name, so they cannot be handed one).
_ANSWERED_HERE = "filevault_in_process_netloc"
_SIGNERS = {"v4": "filevault-in-process-v4", "s3v4": "filevault-in-process-s3v4"}
_INTERNAL_ERROR = (
    b"<!doctype html>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>"
)


def enabled() -> bool:
    return os.environ.get(DISABLE_ENV, "") not in ("1", "true", "yes")


def _wsgi_str(value: str) -> str:
    """PEP 3333 "bytes as latin-1" strings, as werkzeug's server builds them."""
    return value.encode("utf-8").decode("latin-1")


def _body_bytes(body: Any) -> bytes | None:
    """The request body as http.client would send it (None: no body at all)."""
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("iso-8859-1")  # http.client's encoding of str bodies
    if hasattr(body, "read"):
        chunks = []
        while True:
            chunk = body.read(1024 * 1024)
            if not chunk:
                break
            chunks.append(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk))
        return b"".join(chunks)
    return b"".join(bytes(c) for c in body)  # an iterable of chunks


class _Body(io.RawIOBase):
    """A response body for botocore: ``read``/``readinto``/``stream`` over a WSGI iterable.

    Streaming output (S3 GetObject's ``Body``) is pulled from the app lazily, so a large or
    ranged read is never held in memory whole; ``close`` closes the WSGI iterable.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._source = chunks
        self._iter: Iterator[bytes] | None = iter(chunks)
        self._buffer = b""
        self._position = 0

    def readable(self) -> bool:
        return True

    def _next(self) -> bytes:
        while self._iter is not None:
            try:
                chunk = next(self._iter)
            except StopIteration:
                self._finish()
                return b""
            if chunk:
                return bytes(chunk)
        return b""

    def _finish(self) -> None:
        self._iter = None
        close = getattr(self._source, "close", None)
        if close is not None:
            close()

    def readinto(self, buffer: Any) -> int:
        if not self._buffer:
            self._buffer = self._next()
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._buffer))
        view[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        self._position += n
        return n

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        if size == 0:
            return b""
        if not self._buffer:
            self._buffer = self._next()
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        self._position += len(out)
        return out

    def readall(self) -> bytes:
        parts = [self._buffer]
        self._buffer = b""
        while chunk := self._next():
            parts.append(chunk)
        data = b"".join(parts)
        self._position += len(data)
        return data

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        """urllib3's ``HTTPResponse.stream`` (what ``AWSResponse.content`` uses)."""
        while chunk := self.read(amt):
            yield chunk

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if self._iter is not None:
            self._finish()
        super().close()


class InProcess:
    """``before-send`` handler: answers requests for ``endpoint_url`` by calling ``app``."""

    def __init__(self, app: WsgiApp, endpoint_url: str) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme != "http" or not parts.hostname or parts.port is None:
            raise ValueError(f"not an http://host:port endpoint: {endpoint_url}")
        self._app = app
        self._netloc = parts.netloc
        self._server_name = parts.hostname
        self._server_port = str(parts.port)

    def attach(self, client: Any) -> Any:
        """Route ``client``'s requests to the app (unless turned off); returns the client."""
        if enabled():
            self._register(client.meta.events)
        return client

    def attach_session(self, session: Any) -> Any:
        """Route every client ``session`` creates from now on (a boto3 Session)."""
        if enabled():
            self._register(session.events)
        return session

    def _register(self, events: Any) -> None:
        events.register_first("choose-signer", self._choose_signer)
        events.register_first("before-send", self)

    def _choose_signer(self, context: dict[str, Any], **kwargs: Any) -> Any:
        context[_ANSWERED_HERE] = self._netloc
        return _choose_unsigned_in_process(context=context, **kwargs)

    def __call__(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        url = urlsplit(request.url)
        if url.scheme != "http" or url.netloc != self._netloc:
            return None
        environ = self._environ(request, url.path or "/", url.query)
        captured: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured[:] = [status, headers]
            return lambda data: None  # the legacy write() callable; our apps never use it

        try:
            body = _Body(self._app(environ, start_response))
            if not captured:  # a generator app calls start_response at its first chunk
                first = body.read(2**16)
                body = _Body(_prepend(first, body))
            if not captured:
                raise RuntimeError("the app answered without calling start_response")
            if request.method == "HEAD":
                body.close()
                body = _Body([])
            elif not request.stream_output:
                data = body.readall()  # read now: the app's resources are released at once
                body.close()
                body = _Body([data])
        except Exception:
            # What werkzeug's server answers when the app raises before the body is sent.
            log.exception("in-process %s %s failed", request.method, url.path)
            error_headers = HTTPHeaders()
            error_headers["Content-Type"] = "text/html; charset=utf-8"
            return AWSResponse(request.url, 500, error_headers, _Body([_INTERNAL_ERROR]))
        status = int(str(captured[0]).split(" ", 1)[0])
        joined: dict[str, str] = {}
        for name, value in captured[1]:
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else str(value)
        headers = HTTPHeaders()
        for key, value in joined.items():
            headers[key] = value
        return AWSResponse(request.url, status, headers, body)

    def _environ(self, request: AWSPreparedRequest, path: str, query: str) -> dict[str, Any]:
        method = str(request.method).upper()
        target = f"{path}?{query}" if query else path
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "SERVER_SOFTWARE": "filevault-inprocess",
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": _wsgi_str(unquote(path)),
            "QUERY_STRING": _wsgi_str(query),
            "REQUEST_URI": _wsgi_str(target),
            "RAW_URI": _wsgi_str(target),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": 0,
            "SERVER_NAME": self._server_name,
            "SERVER_PORT": self._server_port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self._netloc,
            IN_PROCESS_ENVIRON: True,
        }
        for name, raw in request.headers.items():
            if "_" in name:
                continue  # werkzeug drops these too
            value = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
            key = name.upper().replace("-", "_")
            if key == "HOST":
                continue  # http.client sends the URL's netloc, as set above
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
                if key in environ:
                    value = f"{environ[key]},{value}"
            environ[key] = value.replace("\r\n", "")
        body = _body_bytes(request.body)
        if "CONTENT_LENGTH" not in environ:
            if body:
                environ["CONTENT_LENGTH"] = str(len(body))
            elif method in _METHODS_EXPECTING_BODY:
                environ["CONTENT_LENGTH"] = "0"
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is passed whole
        environ["wsgi.input"] = io.BytesIO(body or b"")
        return environ


class _UnsignedInProcess:
    """Signs as its SigV4 base class, except a request for an endpoint answered in process:
    that one gets the date, token and payload headers and an Authorization header naming
    the credential and scope, with :data:`UNSIGNED_MARK` for a signature."""

    credentials: Any

    def _in_process(self, request: AWSRequest) -> bool:
        return urlsplit(request.url).netloc == request.context.get(_ANSWERED_HERE)

    def add_auth(self, request: AWSRequest) -> None:
        if not self._in_process(request):
            super().add_auth(request)  # type: ignore[misc]
            return
        if self.credentials is None:
            raise NoCredentialsError()
        now = get_current_datetime()
        request.context["timestamp"] = now.strftime(botocore.auth.SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)  # type: ignore[attr-defined]
        scope = self.scope(request)  # type: ignore[attr-defined]
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature={UNSIGNED_MARK}"
        )

    def _should_sha256_sign_payload(self, request: AWSRequest) -> bool:
        if self._in_process(request):
            return False
        return bool(super()._should_sha256_sign_payload(request))  # type: ignore[misc]


class _UnsignedInProcessV4(_UnsignedInProcess, botocore.auth.SigV4Auth):
    pass


class _UnsignedInProcessS3V4(_UnsignedInProcess, botocore.auth.S3SigV4Auth):
    pass


botocore.auth.AUTH_TYPE_MAPS[_SIGNERS["v4"]] = _UnsignedInProcessV4
botocore.auth.AUTH_TYPE_MAPS[_SIGNERS["s3v4"]] = _UnsignedInProcessS3V4


def _choose_unsigned_in_process(
    signature_version: Any, context: dict[str, Any], signing_name: str, **kwargs: Any
) -> Any:
    """``choose-signer`` handler, ahead of botocore's own (whose choice it keeps): SigV4
    gets the signers above, which sign as before any request not answered in process.
    Presigned URLs and posts are left to botocore: they leave the process."""
    if not isinstance(signature_version, str) or signature_version.endswith(
        ("-query", "-presign-post")
    ):
        return None
    chosen = set_operation_specific_signer(context=context, signing_name=signing_name)
    version = signature_version if chosen is None else chosen
    if version == "v4" and signing_name == "s3":
        version = "s3v4"
    return _SIGNERS.get(version, chosen) if isinstance(version, str) else chosen


def _prepend(first: bytes, rest: _Body) -> Iterator[bytes]:
    try:
        if first:
            yield first
        while chunk := rest.read(2**16):
            yield chunk
    finally:
        rest.close()
