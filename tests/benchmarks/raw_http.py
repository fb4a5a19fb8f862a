"""The raw ceiling: PUTs or GETs of pre-signed URLs over many parallel connections.

``python raw_http.py JOB.json`` where the job is
``{"workers": 16, "ops": [{"method": "PUT"|"GET", "url": ..., "path": local file (PUT),
"offset": 0, "length": n, "range": "bytes=a-b" (GET, optional)}]}``. PUT bodies are streamed
from the file; GET bodies are read and discarded. Prints ``{"elapsed": s, "bytes": n,
"etags": [...]}`` (one ETag per op, in order). Standard library only, one keep-alive
connection per thread: as little client overhead as a Python client can have.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

BLOCK = 1024 * 1024
_local = threading.local()


class _Slice:
    def __init__(self, path: str, offset: int, length: int) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed when fully read
        self._f.seek(offset)
        self._left = length

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            self._f.close()
            return b""
        n = self._left if n < 0 else min(n, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        return data


def _connection(netloc: str) -> http.client.HTTPConnection:
    conns: dict[str, http.client.HTTPConnection] = _local.__dict__.setdefault("conns", {})
    if netloc not in conns:
        conns[netloc] = http.client.HTTPConnection(netloc, timeout=600, blocksize=BLOCK)
    return conns[netloc]


def _one(op: dict[str, Any]) -> tuple[int, str]:
    url = urlsplit(op["url"])
    target = url.path + ("?" + url.query if url.query else "")
    for attempt in range(3):
        conn = _connection(url.netloc)
        try:
            if op["method"] == "PUT":
                length = int(op["length"])
                body: Any = (
                    _Slice(op["path"], int(op.get("offset", 0)), length)
                    if length > BLOCK
                    else _read(op["path"], int(op.get("offset", 0)), length)
                )
                headers = {
                    "Content-Length": str(length),
                    "Content-Type": "application/octet-stream",
                }
                conn.request("PUT", target, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"PUT {url.path}: HTTP {response.status}")
                return length, (response.getheader("ETag") or "").strip('"')
            headers = {"Range": op["range"]} if op.get("range") else {}
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            got = 0
            while chunk := response.read(BLOCK):
                got += len(chunk)
            if response.status not in (200, 206):
                raise RuntimeError(f"GET {url.path}: HTTP {response.status}")
            if "length" in op and got != int(op["length"]):
                raise RuntimeError(f"GET {url.path}: {got} bytes, expected {op['length']}")
            return got, (response.getheader("ETag") or "").strip('"')
        except (ConnectionError, http.client.HTTPException):
            conn.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _read(path: str, offset: int, length: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def main() -> None:
    with open(sys.argv[1]) as f:
        job = json.load(f)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(int(job.get("workers", 16))) as pool:
        results = list(pool.map(_one, job["ops"]))
    elapsed = time.perf_counter() - t0
    out = {
        "elapsed": elapsed,
        "bytes": sum(n for n, _ in results),
        "etags": [e for _, e in results],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
