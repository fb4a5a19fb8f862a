"""The local stack's own CPU per small uploaded file (``make bench`` does not collect it: run
``.venv/bin/pytest tests/benchmarks/bench_stack_cpu.py -s -p no:randomly``).

Starts the real stack (``filevault stack up``, default workflow timings), signs a user in,
uploads ``FILEVAULT_BENCH_CPU_FILES`` (default 200) files of 64 KiB with one
``svc.upload([folder], "x")`` (the engine batches its API calls), and reads the stack
process's utime+stime from ``/proc/<pid>/stat``:

- before the upload (the stack has settled after sign-in),
- right after the upload returns ("upload" phase),
- once every upload-processing execution has ended and the process is quiet again
  ("with workflows").

After the measurements it also counts, from the executions' histories, the Task attempts
per file (``task_attempts_per_file``: Validate, ExtractMetadata, RecordResult, Notify, and
every retry; a Validate that runs before the upload is completed fails with FileNotRecorded
and is retried, so this grows with the time between a file's PUT and its completion).

``FILEVAULT_LOCAL_INTERNAL_HTTP=1`` makes the stack's own clients use loopback HTTP, as before
in-process dispatch existed, to compare the two on the same tree. Reports CPU ms per file;
nothing is asserted about the numbers. Results: bench-results/stack_cpu.json.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks.conftest import record
from tests.benchmarks.harness import GiB, MiB, cpu_seconds, settle
from tests.integration.stack import client, start_stack

FILE_BYTES = 64 * 1024
SEED = 20260501
WORKFLOW_TIMEOUT_S = 900
POLL_S = 3.0


def _count() -> int:
    return int(os.environ.get("FILEVAULT_BENCH_CPU_FILES", "200"))


def _statuses(sfn: Any, arn: str) -> Counter[str]:
    """How many executions of the state machine are in each status (one paged listing)."""
    counts: Counter[str] = Counter()
    token = None
    while True:
        kwargs: dict[str, Any] = {"stateMachineArn": arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = sfn.list_executions(**kwargs)
        counts.update(e["status"] for e in page["executions"])
        token = page.get("nextToken")
        if not token:
            return counts


def _task_attempts(sfn: Any, arn: str) -> int:
    """How many Task states were scheduled (attempts, retries included) by all executions."""
    attempts = 0
    token = None
    while True:
        kwargs: dict[str, Any] = {"stateMachineArn": arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = sfn.list_executions(**kwargs)
        for execution in page["executions"]:
            history = sfn.get_execution_history(
                executionArn=execution["executionArn"], maxResults=1000
            )
            attempts += sum(e["type"] == "TaskScheduled" for e in history["events"])
        token = page.get("nextToken")
        if not token:
            return attempts


def test_stack_cpu_per_small_file(tmp_path: Path) -> None:
    n = _count()
    folder = tmp_path / "small"
    folder.mkdir()
    rng = random.Random(SEED)
    for i in range(n):
        (folder / f"f{i:04d}.bin").write_bytes(rng.randbytes(FILE_BYTES))

    stack = start_stack(
        tmp_path / "stack", min_part_size=5 * MiB, single_put_max=16 * MiB, quota=100 * GiB
    )
    try:
        pid = stack.process.pid
        stack.add_user("bench-cpu", "Bench-cpu-1")
        svc = client(stack, tmp_path / "home")
        svc.login("bench-cpu", "Bench-cpu-1")
        sfn = stack.aws_client("stepfunctions")
        arn = next(
            m["stateMachineArn"]
            for m in sfn.list_state_machines()["stateMachines"]
            if m["name"].endswith("-UploadProcessing")
        )
        settle(pid, max_wait=30)

        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        outcomes = svc.upload([folder], "x")
        cpu1, t1 = cpu_seconds(pid), time.perf_counter()
        failed = [o for o in outcomes if o.error]
        assert not failed, f"uploads failed: {failed[:3]}"

        deadline = time.monotonic() + WORKFLOW_TIMEOUT_S
        while time.monotonic() < deadline:
            time.sleep(POLL_S)
            counts = _statuses(sfn, arn)
            if counts.total() >= n and counts["RUNNING"] == 0:
                break
        else:
            pytest.fail("the upload workflows did not finish in time")
        settle(pid, max_wait=60)
        cpu2, t2 = cpu_seconds(pid), time.perf_counter()
        counts = _statuses(sfn, arn)
        attempts = _task_attempts(sfn, arn)  # after the measurements: it costs CPU too
    finally:
        stack.stop()

    mode = "http" if os.environ.get("FILEVAULT_LOCAL_INTERNAL_HTTP") == "1" else "default"
    record(
        f"stack_cpu_{mode}",
        {
            "files": n,
            "file_bytes": FILE_BYTES,
            "internal_calls": mode,
            "upload_wall_s": round(t1 - t0, 2),
            "upload_cpu_s": round(cpu1 - cpu0, 2),
            "upload_cpu_ms_per_file": round((cpu1 - cpu0) * 1000 / n, 1),
            "total_wall_s": round(t2 - t0, 2),
            "total_cpu_s": round(cpu2 - cpu0, 2),
            "total_cpu_ms_per_file": round((cpu2 - cpu0) * 1000 / n, 1),
            "executions": dict(counts),
            "task_attempts_per_file": round(attempts / n, 2),
        },
    )
