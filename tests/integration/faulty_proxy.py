"""An HTTP forward proxy on loopback that cuts chosen requests mid-body: a flaky network.

Clients reach it through ``HTTP_PROXY``; the Host header stays the origin's, so pre-signed
URLs still verify. Each request gets its own upstream connection (``Connection: close``).
``policy(method, path, n, headers)`` says whether the n-th request of that method dies, and
after how many bytes (of the request body for a PUT, of the response for a GET).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

Policy = Callable[[str, str, int, dict[str, str]], int | None]


class FaultyProxy:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.cuts: list[tuple[str, str]] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _count(self, method: str) -> int:
        with self._lock:
            self._counts[method] = self._counts.get(method, 0) + 1
            return self._counts[method]

    def _serve(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                return
            head += chunk
        head, _, body = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        url = urlsplit(target)
        headers = [
            line
            for line in lines[1:]
            if not line.lower().startswith(("connection:", "proxy-connection:", "keep-alive:"))
        ]
        path = url.path + (f"?{url.query}" if url.query else "")
        upstream = socket.create_connection((url.hostname or "127.0.0.1", url.port or 80))
        named = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in headers)}
        cut_after = self.policy(method, url.path, self._count(method), named)
        if cut_after is not None:
            with self._lock:
                self.cuts.append((method, url.path))
        start = f"{method} {path} {version}\r\n" + "\r\n".join(headers)
        upstream.sendall(start.encode("latin-1") + b"\r\nConnection: close\r\n\r\n")
        try:
            if method == "GET":
                upstream.sendall(body)
                self._pipe(upstream, client, cut_after)
            else:
                length = next(
                    (
                        int(h.split(":", 1)[1])
                        for h in headers
                        if h.lower().startswith("content-length:")
                    ),
                    0,
                )
                sent = self._send_body(client, upstream, body, length, cut_after)
                if sent:
                    self._pipe(upstream, client, None)
        except OSError:
            pass
        finally:
            for s in (upstream, client):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    @staticmethod
    def _send_body(
        client: socket.socket,
        upstream: socket.socket,
        first: bytes,
        length: int,
        cut_after: int | None,
    ) -> bool:
        """Forwards ``length`` body bytes; False when they were cut (then both sides close)."""
        sent = 0
        data = first
        while True:
            if cut_after is not None and sent + len(data) >= cut_after:
                upstream.sendall(data[: max(0, cut_after - sent)])
                return False
            upstream.sendall(data)
            sent += len(data)
            if sent >= length:
                return True
            data = client.recv(min(65536, length - sent))
            if not data:
                return False

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, cut_after: int | None) -> None:
        passed = 0
        while chunk := src.recv(65536):
            if cut_after is not None and passed + len(chunk) >= cut_after:
                dst.sendall(chunk[: max(0, cut_after - passed)])
                return
            dst.sendall(chunk)
            passed += len(chunk)
