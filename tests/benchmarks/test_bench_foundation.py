"""Foundation benchmarks on the local stack (``make bench``; not part of ``make test``).

- p50/p95 of upload initiate + complete for small files (the API's own overhead);
- one 1 GiB file through the API and pre-signed part URLs vs. one direct pre-signed PUT
  of the same bytes to the same S3 endpoint (ratio, goal >= 0.9);
- the stack's RSS after 2 GiB of uploads (goal < 300 MB).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.benchmarks.conftest import record
from tests.integration.stack import MiB, RunningStack, client, start_stack

GiB = 1024 * MiB
OCTET = {"Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def bench_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(
        tmp_path_factory.mktemp("bench-stack"),
        min_part_size=8 * MiB,
        single_put_max=16 * MiB,
        quota=100 * GiB,
    )
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench-data") / "one-gib.bin"
    block = os.urandom(4 * MiB)
    with path.open("wb") as f:
        for _ in range(GiB // len(block)):
            f.write(block)
    return path


class _FileSlice:
    """A part of a file, read in chunks by requests: never the whole part in memory."""

    def __init__(self, path: Path, start: int, length: int) -> None:
        self._f = path.open("rb")
        self._f.seek(start)
        self._left = length
        self.len = length

    def __len__(self) -> int:
        return self.len

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            self._f.close()
            return b""
        n = self._left if n < 0 else min(n, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        return data


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_small_upload_latency(bench_stack: RunningStack, tmp_path: Path) -> None:
    bench_stack.add_user("bench-small", "Bench-pass1")
    svc = client(bench_stack, tmp_path)
    svc.login("bench-small", "Bench-pass1")
    http = requests.Session()
    api_ms, total_ms = [], []
    for i in range(200):
        data = os.urandom(1024)
        t0 = time.perf_counter()
        ticket = svc.api.initiate_upload(f"small/{i:04d}.bin", len(data))
        t1 = time.perf_counter()
        assert (
            http.put(ticket.parts[0].url, data=data, headers=OCTET, timeout=30).status_code == 200
        )
        t2 = time.perf_counter()
        svc.api.complete_upload(ticket.upload_id)
        t3 = time.perf_counter()
        api_ms.append(((t1 - t0) + (t3 - t2)) * 1000)
        total_ms.append((t3 - t0) * 1000)
    record(
        "small-upload-latency",
        {
            "files": len(api_ms),
            "size_bytes": 1024,
            "initiate+complete p50 ms": round(statistics.median(api_ms), 2),
            "initiate+complete p95 ms": round(_percentile(api_ms, 0.95), 2),
            "whole upload (incl. PUT) p50 ms": round(statistics.median(total_ms), 2),
            "whole upload (incl. PUT) p95 ms": round(_percentile(total_ms, 0.95), 2),
        },
    )


def _api_upload(svc, path: Path, remote: str, workers: int) -> float:  # type: ignore[no-untyped-def]
    size = path.stat().st_size
    t0 = time.perf_counter()
    ticket = svc.api.initiate_upload(remote, size)
    urls = {p.part_number: p.url for p in ticket.parts}
    missing = [n for n in range(1, ticket.part_count + 1) if n not in urls]
    for start in range(0, len(missing), 100):
        more = svc.api.part_urls(ticket.upload_id, missing[start : start + 100])
        urls.update({p.part_number: p.url for p in more.parts})
    sessions = {}

    def put(n: int) -> dict[str, object]:
        import threading

        http = sessions.setdefault(threading.get_ident(), requests.Session())
        offset = (n - 1) * ticket.part_size
        length = min(ticket.part_size, size - offset)
        r = http.put(urls[n], data=_FileSlice(path, offset, length), headers=OCTET, timeout=300)
        assert r.status_code == 200, r.text
        return {"part_number": n, "etag": r.headers["ETag"].strip('"')}

    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(put, range(1, ticket.part_count + 1)))
    svc.api.complete_upload(ticket.upload_id, parts)
    return time.perf_counter() - t0


def _direct_put(stack: RunningStack, path: Path) -> float:
    creds = stack.credentials()
    s3 = stack.aws_client("s3")
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": creds["upload_bucket"], "Key": "bench/direct.bin"},
        ExpiresIn=3600,
    )
    size = path.stat().st_size
    t0 = time.perf_counter()
    r = requests.put(url, data=_FileSlice(path, 0, size), headers=OCTET, timeout=600)
    assert r.status_code == 200, r.text
    return time.perf_counter() - t0


def test_one_gib_throughput_and_memory(
    bench_stack: RunningStack, big_file: Path, tmp_path: Path
) -> None:
    bench_stack.add_user("bench-big", "Bench-pass1")
    svc = client(bench_stack, tmp_path)
    svc.login("bench-big", "Bench-pass1")
    rss_start = bench_stack.rss_bytes()
    direct_s = _direct_put(bench_stack, big_file)
    api_1_s = _api_upload(svc, big_file, "bench/serial.bin", workers=1)
    api_8_s = _api_upload(svc, big_file, "bench/parallel.bin", workers=8)
    rss_after = bench_stack.rss_bytes()
    mb = GiB / 1e6
    record(
        "one-gib-upload",
        {
            "direct pre-signed PUT, 1 stream (MB/s)": round(mb / direct_s, 1),
            "API + pre-signed parts, 1 worker (MB/s)": round(mb / api_1_s, 1),
            "API + pre-signed parts, 8 workers (MB/s)": round(mb / api_8_s, 1),
            "ratio API 1 worker / direct": round(direct_s / api_1_s, 3),
            "ratio API 8 workers / direct": round(direct_s / api_8_s, 3),
            "stack RSS before (MB)": round(rss_start / 1e6, 1),
            "stack RSS after 3 GiB uploaded (MB)": round(rss_after / 1e6, 1),
        },
    )
    assert rss_after < 300 * MiB
