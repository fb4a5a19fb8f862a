"""Transfers through a network that drops connections mid-body (a fault-injecting proxy)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from filevault_desktop.errors import NetworkError
from filevault_desktop.transfer import RetryPolicy
from filevault_desktop.transfer.download import DownloadEngine, partial_path
from filevault_desktop.transfer.http import RequestsFetcher
from tests.integration.faulty_proxy import FaultyProxy, Policy
from tests.integration.stack import MiB, RunningStack
from tests.integration.test_cli import run
from tests.integration.test_cli_files import signed_in_cli


@pytest.fixture
def proxy_for(stack: RunningStack) -> Iterator[callable]:  # type: ignore[valid-type]
    started: list[FaultyProxy] = []

    def start(policy: Policy) -> FaultyProxy:
        proxy = FaultyProxy(policy)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.close()


def _via(proxy: FaultyProxy) -> dict[str, str]:
    return {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, "NO_PROXY": "", "no_proxy": ""}


def _is_storage(stack: RunningStack, path: str) -> bool:
    # Everything under the upload bucket is S3 traffic; the API has no such prefix.
    bucket = stack.credentials()["upload_bucket"]
    return path.startswith(f"/{bucket}/")


def test_upload_survives_connections_cut_mid_part(
    stack: RunningStack, tmp_path: Path, proxy_for
) -> None:  # type: ignore[no-untyped-def]
    home, svc = signed_in_cli(stack, tmp_path, "flaky-up")
    # Six parts on this stack (1 MiB each, the last 200 kB): every part is longer than the
    # 100 kB after which the proxy cuts it.
    data = os.urandom(5 * MiB + 200_000)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    puts: list[int] = []

    def cut_some_puts(method: str, path: str, n: int, headers: dict[str, str]) -> int | None:
        if method != "PUT" or not _is_storage(stack, path):
            return None
        puts.append(n)
        return 100_000 if len(puts) in (2, 4) else None  # two parts die after 100 kB

    proxy = proxy_for(cut_some_puts)
    out = run(["upload", str(source), "--to", "flaky"], home, stack, **_via(proxy))
    assert out.returncode == 0, out.stderr
    assert len(proxy.cuts) == 2
    assert len(puts) == 8  # six parts, two of them twice
    uploaded = svc.find("flaky/big.bin")
    assert uploaded.size == len(data)

    # Download through a proxy that cuts the first range GET half-way: it is fetched again.
    gets: list[int] = []

    def cut_first_get(method: str, path: str, n: int, headers: dict[str, str]) -> int | None:
        if method != "GET" or not _is_storage(stack, path):
            return None
        gets.append(n)
        return 300_000 if len(gets) == 1 else None

    proxy = proxy_for(cut_first_get)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    got = run(["download", "flaky/big.bin", str(out_dir)], home, stack, **_via(proxy))
    assert got.returncode == 0, got.stderr
    assert proxy.cuts
    assert (
        hashlib.sha256((out_dir / "big.bin").read_bytes()).digest() == hashlib.sha256(data).digest()
    )


def test_a_dead_network_fails_clearly_and_a_rerun_resumes(
    stack: RunningStack, tmp_path: Path, proxy_for
) -> None:  # type: ignore[no-untyped-def]
    home, svc = signed_in_cli(stack, tmp_path, "flaky-down")
    data = os.urandom(5 * MiB)
    source = tmp_path / "src.bin"
    source.write_bytes(data)
    assert run(["upload", str(source)], home, stack).returncode == 0
    remote = svc.find("src.bin")
    target = tmp_path / "src.bin"
    target.write_bytes(b"precious local copy")

    # The second and fourth ranges never get through: their retries run out and the error
    # says so; the ranges that finished meanwhile are kept.
    def cut_two_ranges(method: str, path: str, n: int, headers: dict[str, str]) -> int | None:
        doomed = (f"bytes={MiB}-{2 * MiB - 1}", f"bytes={3 * MiB}-{4 * MiB - 1}")
        return 1000 if headers.get("range") in doomed and _is_storage(stack, path) else None

    dead = proxy_for(cut_two_ranges)
    session = requests.Session()
    session.proxies = {"http": dead.url}
    fast = RetryPolicy(attempts=3, initial_s=0.01, max_wait_s=0.05)
    with (
        DownloadEngine(svc.api, RequestsFetcher(session), range_size=MiB, retry=fast) as engine,
        pytest.raises(NetworkError, match="interrupted"),
    ):
        engine.download(remote, target)
    assert target.read_bytes() == b"precious local copy"
    # Three attempts for the range that gave up first; the other stopped with it.
    assert 4 <= len(dead.cuts) <= 6
    # Which other ranges finished before the failure stopped the rest depends on timing; the
    # sidecar says which are on disk, and those are the ones a rerun must not fetch again.
    partial = partial_path(target, remote)
    kept = set(json.loads(partial.with_name(partial.name + ".json").read_bytes())["done"])
    assert not kept & {1, 3}
    missing = [n for n in range(5) if n not in kept]

    # The network is back: the download resumes (only missing ranges) and lands in place.
    counted = proxy_for(lambda m, p, n, h: None)
    session.proxies = {"http": counted.url}
    gets: list[str] = []
    original = RequestsFetcher(session)

    class Counting:
        def fetch(self, url: str, start: int = 0, end: int | None = None):  # type: ignore[no-untyped-def]
            gets.append(f"{start}-{end}")
            return original.fetch(url, start, end)

    with DownloadEngine(svc.api, Counting(), range_size=MiB, retry=fast) as engine:
        engine.download(remote, target)
    assert target.read_bytes() == data
    assert sorted(gets) == [f"{n * MiB}-{(n + 1) * MiB}" for n in missing]  # only those
    assert sorted(p.name for p in tmp_path.iterdir() if "filevault-part" in p.name) == []
