from __future__ import annotations

import json
import mmap
import os
import time
from pathlib import Path
from typing import Any

import pytest

RESULTS = Path(os.environ.get("FILEVAULT_BENCH_DIR", "bench-results"))


def record(name: str, results: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2))
    print(f"\n== {name} ==")
    for key, value in results.items():
        print(f"  {key}: {value}")


@pytest.fixture(scope="session", autouse=True)
def touched_memory() -> None:
    """Touches the machine's free memory once before any measurement.

    On this VM the first write to a page of guest memory costs a hypervisor fault (~2.5 us a
    page: 20 GiB took 51 s). Whichever client ran first paid it for the page cache its files
    filled (a 1 GiB download: 4.8 s of system time first, 0.8 s later), so the order of the
    clients, not the clients, decided the ratio. ``FILEVAULT_BENCH_TOUCH_MEMORY=0`` skips it.
    It does not last: memory freed later goes back to the host within seconds, which the
    transfer benchmark answers run by run (``harness.prime_memory``).
    """
    if os.environ.get("FILEVAULT_BENCH_TOUCH_MEMORY", "1") == "0":
        return
    available = _available_bytes()
    size = max(0, available - 2 * 1024**3)  # leave room for the stack and the clients
    if size <= 0:
        return
    started = time.monotonic()
    with mmap.mmap(-1, size) as region:
        for offset in range(0, size, mmap.PAGESIZE):
            region[offset] = 1
    print(f"\n(touched {size / 1024**3:.1f} GiB of memory in {time.monotonic() - started:.0f} s)")


def _available_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0
