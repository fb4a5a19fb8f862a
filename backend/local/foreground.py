"""How busy the user's own requests keep the local stack, so background work can yield to them.

On AWS the processing workflows' Lambdas run on capacity of their own. Here they share one
process (and its GIL) with the API and S3 requests a user is waiting on: started the moment
each object lands, a thousand small uploads' workflows took more than half the stack's CPU
while the upload itself was still running. :class:`ForegroundLoad` measures the requests that
arrive on the stack's sockets (clients, not the stack's in-process calls), so the workflow
scheduler can hold back while they keep the stack busy.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Clock = Callable[[], float]
WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


class ForegroundLoad:
    """Request-seconds per second over the last ``window_s`` (two requests served side by
    side for the whole window count as 2.0)."""

    def __init__(self, clock: Clock = time.monotonic, window_s: float = 1.0) -> None:
        self._clock = clock
        self._window = window_s
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._running: dict[int, float] = {}
        self._done: deque[tuple[float, float]] = deque()

    def begin(self) -> int:
        with self._lock:
            token = next(self._ids)
            self._running[token] = self._clock()
            return token

    def end(self, token: int) -> None:
        now = self._clock()
        with self._lock:
            started = self._running.pop(token, None)
            if started is not None:
                self._done.append((started, now))
            self._trim(now)

    def busy_fraction(self) -> float:
        now = self._clock()
        since = now - self._window
        with self._lock:
            self._trim(now)
            busy = sum(end - max(start, since) for start, end in self._done)
            busy += sum(now - max(start, since) for start in self._running.values())
        return busy / self._window

    def _trim(self, now: float) -> None:
        since = now - self._window
        while self._done and self._done[0][1] <= since:
            self._done.popleft()

    def measured(self, app: WsgiApp) -> WsgiApp:
        """``app`` with each request counted from its start until its body has been sent."""

        def wrapped(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            token = self.begin()
            try:
                body = app(environ, start_response)
            except BaseException:
                self.end(token)
                raise
            return _Counted(body, lambda: self.end(token))

        return wrapped


class _Counted:
    """A WSGI body that reports when the server is done with it (PEP 3333 ``close``)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self._body = body
        self._done = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()
