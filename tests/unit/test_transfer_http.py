"""The requests PartSender against a tiny HTTP server on loopback."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from filevault_desktop.errors import NetworkError
from filevault_desktop.transfer import PartUploadError
from filevault_desktop.transfer.http import RequestsPartSender
from filevault_desktop.transfer.reader import CHUNK, Interrupted, PartReader, SourceFile


class Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []
    answers: ClassVar[list[tuple[int, dict[str, str], bytes]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        Handler.seen.append({"headers": dict(self.headers), "body": body, "path": self.path})
        status, headers, payload = (
            Handler.answers.pop(0)
            if Handler.answers
            else (200, {"ETag": f'"{hashlib.md5(body).hexdigest()}"'}, b"")
        )
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def base_url() -> Iterator[str]:
    Handler.seen.clear()
    Handler.answers.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class CountingReader:
    def __init__(self, reader: PartReader) -> None:
        self.reader, self.sizes = reader, []  # type: ignore[var-annotated]

    def read(self, size: int = -1, /) -> bytes:
        data = self.reader.read(size)
        self.sizes.append(len(data))
        return data


def test_streams_the_part_with_its_headers(tmp_path: Path, base_url: str) -> None:
    data = bytes(range(256)) * 4096 * 3  # 3 MiB file
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    sender = RequestsPartSender(pool_size=2)
    with SourceFile.open(path) as src:
        offset, length = 1024 * 1024, 1024 * 1024 + 7
        sha = src.sha256_b64(offset, length, threading.Event())
        body = CountingReader(PartReader(src, offset, length, stop=threading.Event()))
        etag = sender.put(base_url + "/b/k?partNumber=2", body, length, sha256_b64=sha)
    part = data[offset : offset + length]
    assert etag == hashlib.md5(part).hexdigest()  # unquoted
    [req] = Handler.seen
    assert req["body"] == part
    assert req["headers"]["Content-Type"] == "application/octet-stream"
    assert req["headers"]["Content-Length"] == str(length)
    assert (
        req["headers"]["x-amz-checksum-sha256"]
        == base64.b64encode(hashlib.sha256(part).digest()).decode()
    )
    assert "Transfer-Encoding" not in req["headers"]
    assert max(body.sizes) <= CHUNK  # streamed in chunks, never the whole part at once
    sender.close()


def test_empty_body_has_a_zero_length(base_url: str) -> None:
    class Empty:
        def read(self, size: int = -1, /) -> bytes:
            return b""

    sender = RequestsPartSender()
    sender.put(base_url + "/b/empty", Empty(), 0, sha256_b64=None)
    [req] = Handler.seen
    assert req["headers"]["Content-Length"] == "0"
    assert "x-amz-checksum-sha256" not in req["headers"]


def _xml(code: str, message: str) -> bytes:
    return f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()


@pytest.mark.parametrize(
    ("status", "headers", "body", "check"),
    [
        (503, {"Retry-After": "2"}, _xml("SlowDown", "Reduce your rate"), "transient"),
        (403, {}, _xml("AccessDenied", "Request has expired"), "url_refused"),
        (400, {}, _xml("BadDigest", "The SHA256 you specified did not match"), "digest_mismatch"),
        (404, {}, _xml("NoSuchUpload", "gone"), "upload_gone"),
        (400, {}, b"not xml at all", None),
    ],
)
def test_http_errors_are_classified(
    base_url: str, status: int, headers: dict[str, str], body: bytes, check: str | None
) -> None:
    Handler.answers.append((status, headers, body))
    with pytest.raises(PartUploadError) as info:
        RequestsPartSender().put(base_url + "/x", _Bytes(b"abc"), 3, sha256_b64=None)
    err = info.value
    assert err.status == status
    flags = {"transient", "url_refused", "digest_mismatch", "upload_gone"}
    assert {f for f in flags if getattr(err, f)} == ({check} if check else set())
    if status == 503:
        assert err.retry_after == 2 and err.code == "SlowDown"
    if check is None:
        assert err.code == "http_400"


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1, /) -> bytes:
        out, self.data = (
            self.data[: size if size >= 0 else None],
            self.data[size:] if size >= 0 else b"",
        )
        return out


def test_connection_failures_are_network_errors() -> None:
    with socket.socket() as s:  # a port that was just free: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetworkError):
        RequestsPartSender().put(f"http://127.0.0.1:{port}/x", _Bytes(b"abc"), 3, sha256_b64=None)


def test_a_body_that_raises_propagates_unchanged(tmp_path: Path, base_url: str) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 4 * CHUNK)
    stop = threading.Event()
    with SourceFile.open(path) as src:
        reader = PartReader(src, 0, 4 * CHUNK, stop=stop)

        class StopAfterOne:
            def read(self, size: int = -1, /) -> bytes:
                data = reader.read(size)
                stop.set()  # cancelled mid-body
                return data

        with pytest.raises(Interrupted):
            RequestsPartSender().put(base_url + "/x", StopAfterOne(), 4 * CHUNK, sha256_b64=None)
