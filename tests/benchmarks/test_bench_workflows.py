"""Processing-workflow benchmark (issue 7; ``make bench``, not part of ``make test``).

On the local stack with its default (production) workflow timings:

- latency: time from "upload complete" (the engine's ``TransferFinished``, i.e. the API's
  complete call returned) to "preview available" (``GET /files/{id}/preview`` answers 200),
  p50/p95 over 100 JPEGs of 2-5 MB uploaded one after the other, each waited for;
- throughput: the same 100 images uploaded at once (the engine's usual parallelism), so that
  their executions run concurrently; images/s from the first upload complete to the last
  preview available, and the per-image latency under that load.

``FILEVAULT_BENCH_SCALE`` scales the number of images (sizes stay 2-5 MB). The images are
generated with Pillow from a fixed seed. A file whose processing ends other than ``ready``
fails the benchmark; timings are reported, never asserted. Results: bench-results/workflows.md
and workflows.json.
"""

from __future__ import annotations

import io
import random
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from filevault_desktop.errors import FileVaultError
from filevault_desktop.service import FileVaultService
from filevault_desktop.transfer import TransferEvent
from filevault_desktop.transfer.events import TransferFinished
from tests.benchmarks.conftest import RESULTS, record
from tests.benchmarks.harness import (
    GiB,
    MiB,
    cpu_seconds,
    markdown_table,
    percentile,
    scale,
    scaled,
    settle,
    settle_max,
)
from tests.integration.stack import RunningStack, client, start_stack

SEED = 20261125
MIN_BYTES, MAX_BYTES = 2_000_000, 5_000_000
POLL_S = 0.05
TIMEOUT_S = 600  # for one image's preview; far beyond any retry schedule of the workflow
BYTES_PER_PIXEL = 0.48  # of the generated images at JPEG quality 92 (first guess, corrected)
DONE = ("ready", "quarantined", "processing_failed")


def _photo(rng: random.Random, target: int) -> bytes:
    """A JPEG of about ``target`` bytes: smooth colour fields plus sensor-like noise."""
    pixels = target / BYTES_PER_PIXEL
    for _ in range(4):
        w = int((pixels * 1.5) ** 0.5) // 8 * 8
        h = w * 2 // 3 // 8 * 8
        base = Image.frombytes("RGB", (w // 16, h // 16), rng.randbytes((w // 16) * (h // 16) * 3))
        noise = Image.frombytes("RGB", (w, h), rng.randbytes(w * h * 3))
        image = Image.blend(base.resize((w, h), Image.Resampling.BICUBIC), noise, 0.15)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=92)
        data = out.getvalue()
        if MIN_BYTES <= len(data) <= MAX_BYTES:
            return data
        pixels *= target / len(data)
    raise AssertionError(f"could not make a JPEG of about {target} bytes")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("bench-images")
    rng = random.Random(SEED)
    paths = []
    for i in range(scaled(100, minimum=2)):
        path = folder / f"img{i:03d}.jpg"
        path.write_bytes(_photo(rng, rng.randint(MIN_BYTES + 100_000, MAX_BYTES - 100_000)))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def flow_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(
        tmp_path_factory.mktemp("bench-flows"),
        min_part_size=5 * MiB,
        single_put_max=16 * MiB,
        quota=100 * GiB,
    )
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def svc(flow_stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> FileVaultService:
    flow_stack.add_user("bench-flows", "Bench-flows-1")
    service = client(flow_stack, tmp_path_factory.mktemp("bench-flows-home"))
    service.login("bench-flows", "Bench-flows-1")
    return service


class Finished:
    """Records when each upload completed (the engine's ``TransferFinished``)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.file_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, event: TransferEvent) -> None:
        if isinstance(event, TransferFinished):
            with self._lock:
                self.at[event.remote_path] = time.perf_counter()
                self.file_ids[event.remote_path] = event.file_id


def _upload(svc: FileVaultService, paths: list[Path], to: str) -> Finished:
    finished = Finished()
    outcomes = svc.upload(paths, to, on_event=finished)
    failed = [o for o in outcomes if o.error]
    assert not failed, f"uploads failed: {failed[:3]}"
    assert len(finished.at) == len(paths), "an upload finished without a TransferFinished event"
    return finished


def _processing(svc: FileVaultService, file_id: str) -> dict[str, Any] | None:
    record: dict[str, Any] | None = svc.api.request("GET", f"/files/{file_id}").json()
    return record.get("processing") if record else None


def _check_done(svc: FileVaultService, file_id: str, processing: dict[str, Any] | None) -> None:
    if processing and processing.get("status") in DONE:
        assert processing["status"] == "ready" and processing.get("has_preview"), (
            f"{file_id} was processed without a preview: {processing}"
        )


def _preview(svc: FileVaultService, file_id: str) -> dict[str, Any] | None:
    try:
        ticket: dict[str, Any] = svc.api.request("GET", f"/files/{file_id}/preview").json()
    except FileVaultError as exc:
        if getattr(exc, "code", None) == "no_preview":
            return None
        raise
    return ticket


def _verify_preview(ticket: dict[str, Any], original: Path) -> None:
    response = requests.get(ticket["url"], timeout=60)
    assert response.status_code == 200, response.text
    preview = Image.open(io.BytesIO(response.content))
    assert preview.format == "JPEG"
    with Image.open(original) as source:
        assert max(preview.size) <= max(source.size), "the preview is larger than the original"


def _wait_preview(svc: FileVaultService, file_id: str) -> tuple[float, dict[str, Any]]:
    """Polls the preview endpoint; returns when it first answered 200, and its ticket."""
    deadline = time.monotonic() + TIMEOUT_S
    polls = 0
    while True:
        ticket = _preview(svc, file_id)
        if ticket is not None:
            return time.perf_counter(), ticket
        polls += 1
        if polls % 20 == 0:  # about every second: fail early when processing went wrong
            _check_done(svc, file_id, _processing(svc, file_id))
        assert time.monotonic() < deadline, f"no preview of {file_id} after {TIMEOUT_S} s"
        time.sleep(POLL_S)


def _summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "min_s": round(min(latencies), 3),
        "max_s": round(max(latencies), 3),
    }


RESULT: dict[str, Any] = {}


def test_latency_upload_to_preview(
    flow_stack: RunningStack, svc: FileVaultService, images: list[Path]
) -> None:
    latencies = []
    for path in images:
        finished = _upload(svc, [path], "latency")
        ((remote, done_at),) = finished.at.items()
        ready_at, ticket = _wait_preview(svc, finished.file_ids[remote])
        latencies.append(ready_at - done_at)
        _verify_preview(ticket, path)
    RESULT["latency"] = {"images": len(latencies), **_summary(latencies)}
    _write_report(images)


def test_pipeline_throughput(
    flow_stack: RunningStack, svc: FileVaultService, images: list[Path]
) -> None:
    pid = flow_stack.process.pid
    settle(pid, max_wait=settle_max())  # the latency test's work is done
    cpu0 = cpu_seconds(pid)
    threads_max = 0
    ready: dict[str, float] = {}
    statuses: dict[str, str] = {}
    stop = threading.Event()
    errors: list[BaseException] = []

    def poll() -> None:
        """Sweeps the folder's listing (one call for all files) until every file is done."""
        nonlocal threads_max
        try:
            while not stop.is_set():
                page = svc.api.request(
                    "GET", "/files", params={"prefix": "burst/", "limit": "1000"}
                ).json()
                now = time.perf_counter()
                for item in page["items"]:
                    info = item.get("processing") or {}
                    status = info.get("status")
                    if status and item["path"] not in statuses:
                        statuses[item["path"]] = status
                        if status == "ready" and info.get("has_preview"):
                            ready[item["path"]] = now
                threads_max = max(threads_max, _threads(pid))
                if len(statuses) == len(images):
                    return
                time.sleep(POLL_S * 2)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    poller = threading.Thread(target=poll, daemon=True)
    t0 = time.perf_counter()
    poller.start()
    finished = _upload(svc, images, "burst")
    uploaded_at = time.perf_counter()
    poller.join(TIMEOUT_S)
    stop.set()
    assert not errors, errors
    assert not poller.is_alive(), f"only {len(statuses)} of {len(images)} processed in time"
    not_ready = {p: s for p, s in statuses.items() if p not in ready}
    assert not not_ready, f"processing did not produce previews: {not_ready}"
    for remote, file_id in finished.file_ids.items():  # the endpoint agrees with the listing
        ticket = _preview(svc, file_id)
        assert ticket is not None, f"{remote}: listed ready but GET preview has none"
    first_done, last_ready = min(finished.at.values()), max(ready.values())
    latencies = [ready[r] - finished.at[r] for r in finished.at]
    RESULT["throughput"] = {
        "images": len(images),
        "megabytes": round(sum(p.stat().st_size for p in images) / 1e6, 1),
        "upload_s": round(uploaded_at - t0, 2),
        "first_upload_complete_to_last_preview_s": round(last_ready - first_done, 2),
        "images_per_s": round(len(images) / (last_ready - first_done), 2),
        "upload_start_to_last_preview_s": round(last_ready - t0, 2),
        "latency_under_load": _summary(latencies),
        "stack_cpu_s": round(cpu_seconds(pid) - cpu0, 1),
        "stack_threads_max": threads_max,
    }
    _write_report(images)


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def _write_report(images: list[Path]) -> None:
    sizes = [p.stat().st_size for p in images]
    summary = {
        "scale": scale(),
        "images": len(images),
        "image_mb_min_max": [round(min(sizes) / 1e6, 2), round(max(sizes) / 1e6, 2)],
        "workflow_timing": "default (production retry intervals)",
        **RESULT,
    }
    rows = []
    if "latency" in RESULT:
        lat = RESULT["latency"]
        rows.append(
            [
                "one at a time",
                str(lat["images"]),
                f"{lat['p50_s']:.2f}",
                f"{lat['p95_s']:.2f}",
                f"{lat['max_s']:.2f}",
                "",
            ]
        )
    if "throughput" in RESULT:
        thr = RESULT["throughput"]
        lat = thr["latency_under_load"]
        rows.append(
            [
                "all at once",
                str(thr["images"]),
                f"{lat['p50_s']:.2f}",
                f"{lat['p95_s']:.2f}",
                f"{lat['max_s']:.2f}",
                f"{thr['images_per_s']:.2f}",
            ]
        )
    header = [
        "uploads",
        "images",
        "upload complete -> preview p50 s",
        "p95 s",
        "max s",
        "pipeline images/s",
    ]
    lines = [
        "# Processing workflow benchmarks (issue 7)",
        "",
        f"Local stack, default workflow timings, `FILEVAULT_BENCH_SCALE={scale()}`; "
        f"{len(images)} JPEGs of {min(sizes) / 1e6:.1f}-{max(sizes) / 1e6:.1f} MB (seed {SEED}). "
        "Latency: from the upload's completion (the API's complete call returned) to "
        "`GET /files/{id}/preview` answering 200. Throughput: images / (last preview "
        "available - first upload complete), all uploads started together.",
        "",
        markdown_table(header, rows),
        "",
    ]
    if "throughput" in RESULT:
        thr = RESULT["throughput"]
        lines += [
            f"All at once: {thr['megabytes']} MB uploaded in {thr['upload_s']} s; last preview "
            f"{thr['upload_start_to_last_preview_s']} s after the first byte; stack CPU "
            f"{thr['stack_cpu_s']} s; at most {thr['stack_threads_max']} stack threads.",
            "",
        ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "workflows.md").write_text("\n".join(lines))
    record("workflows", summary)
    print("\n" + "\n".join(lines))
