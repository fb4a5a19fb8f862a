"""Serving S3App with werkzeug, with ``Expect: 100-continue`` done properly.

Clients such as botocore send ``Expect: 100-continue`` on uploads and wait for
the server's go-ahead before sending the body. Stock werkzeug (and
http.server underneath it) answers "100 Continue" as soon as the headers are
parsed, before the application has looked at the request, so a PUT to a
missing bucket still makes the client send the whole body into a connection
that is about to be closed. This handler defers "100 Continue" until the
application first reads the body, as the WSGI spec recommends: an early error
is answered at once and the body is never sent.
"""

from __future__ import annotations

import io
from typing import Any, Final

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = ["ContinueOnReadHandler", "make_s3_server"]

_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


class _ContinueOnRead(io.RawIOBase):
    """wsgi.input that sends the interim "100 Continue" before its first read."""

    def __init__(self, inner: Any, wfile: Any) -> None:
        super().__init__()
        self._inner = inner
        self._wfile = wfile
        self._sent = False

    def readable(self) -> bool:
        return True

    def _go_ahead(self) -> None:
        if not self._sent:
            self._sent = True
            self._wfile.write(_CONTINUE)
            self._wfile.flush()

    def readinto(self, buffer: Any) -> int:
        self._go_ahead()
        if hasattr(self._inner, "readinto"):
            return int(self._inner.readinto(buffer))
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        self._go_ahead()
        return bytes(self._inner.read(size))

    def readline(self, size: int | None = -1) -> bytes:
        self._go_ahead()
        return bytes(self._inner.readline(size))


class ContinueOnReadHandler(WSGIRequestHandler):
    """werkzeug's request handler, sending "100 Continue" only when the app reads."""

    _expect_continue = False

    def handle_expect_100(self) -> bool:
        # http.server calls this while parsing headers and would send the
        # interim response right away; defer it to the first body read.
        return True

    def run_wsgi(self) -> None:
        expect = str(self.headers.get("Expect", "")).strip().lower()
        self._expect_continue = expect == "100-continue"
        if self._expect_continue:
            del self.headers["Expect"]  # keeps werkzeug from answering eagerly too
        super().run_wsgi()

    def make_environ(self) -> Any:
        environ = super().make_environ()
        if self._expect_continue:
            environ["wsgi.input"] = _ContinueOnRead(environ["wsgi.input"], self.wfile)
            environ["HTTP_EXPECT"] = "100-continue"
        return environ


def make_s3_server(app: Any, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """A threaded werkzeug server for ``app`` (call ``serve_forever`` in a thread)."""
    return make_server(host, port, app, threaded=True, request_handler=ContinueOnReadHandler)
