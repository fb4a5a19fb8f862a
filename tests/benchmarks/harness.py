"""Shared pieces of the benchmarks: the size knob, timed subprocesses with their peak RSS,
waiting for the local stack to go quiet, and markdown tables."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
GiB = 1024 * MiB
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
GNU_TIME = Path("/usr/bin/time")


def scale() -> float:
    """``FILEVAULT_BENCH_SCALE`` (default 1.0): file counts and sizes are multiplied by it."""
    value = float(os.environ.get("FILEVAULT_BENCH_SCALE", "1.0"))
    if not 0 < value <= 1.0:
        raise ValueError(f"FILEVAULT_BENCH_SCALE must be in (0, 1], not {value}")
    return value


def scaled(n: int, minimum: int = 1) -> int:
    return max(minimum, round(n * scale()))


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss: int | None  # bytes; None when it could not be measured
    returncode: int
    stdout: str
    stderr: str


def _rss_from_gnu_time(path: Path) -> int | None:
    try:
        text = path.read_text().strip().splitlines()
    except OSError:
        return None
    for line in reversed(text):  # the command's own stderr may come first
        if line.strip().isdigit():
            return int(line.strip()) * 1024
    return None


def _poll_hwm(pid: int, done: threading.Event, peak: list[int]) -> None:
    """Fallback without GNU time: the largest VmHWM seen in the process (not its children)."""
    while not done.is_set():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]) * 1024)
        except (OSError, ValueError):
            return
        done.wait(0.05)


def run_measured(
    cmd: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 3 * 3600,
) -> Measured:
    """Runs ``cmd`` as a user would; wall time, and peak RSS from ``/usr/bin/time`` if present,
    else from polling ``/proc/<pid>/status``."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as scratch:
        out_path, err_path = Path(scratch) / "out", Path(scratch) / "err"
        rss_path = Path(scratch) / "rss"
        use_time = GNU_TIME.exists()
        full = [str(GNU_TIME), "-f", "%M", "-o", str(rss_path), *cmd] if use_time else list(cmd)
        with out_path.open("w") as out, err_path.open("w") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                full,
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
            )
            done, peak = threading.Event(), [0]
            poller = None
            if not use_time:
                poller = threading.Thread(target=_poll_hwm, args=(proc.pid, done, peak))
                poller.start()
            try:
                proc.communicate(stdin, timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise
            finally:
                seconds = time.perf_counter() - t0
                done.set()
                if poller is not None:
                    poller.join()
        rss = _rss_from_gnu_time(rss_path) if use_time else (peak[0] or None)
        return Measured(
            seconds, rss, proc.returncode, out_path.read_text(), err_path.read_text()[-4000:]
        )


def check(result: Measured, what: str) -> Measured:
    if result.returncode != 0:
        raise AssertionError(
            f"{what} exited {result.returncode}\nstdout: {result.stdout[-2000:]}\n"
            f"stderr: {result.stderr}"
        )
    return result


def random_content(size: int) -> bytes:
    """``size`` random bytes, the first one zero: no content sniffing takes them for a blocked
    type. Plain random data starts like an executable (``MZ``, ``#!``) about once in 30,000
    files; processing quarantines such a file and the API never serves it again, so a sampled
    download check of a 10,000-file run failed now and then."""
    return b"\0" + os.urandom(size - 1) if size else b""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def settle(
    pid: int,
    *,
    max_wait: float,
    quiet_share: float = 0.05,
    window: float = 0.5,
    quiet_windows: int = 3,
) -> float:
    """Waits until process ``pid`` uses less than ``quiet_share`` of a core over
    ``quiet_windows`` windows of ``window`` seconds in a row (or ``max_wait`` passes): work an
    earlier run left behind in the stack (workflow executions its objects started) must not be
    charged to the next run. Several windows, because the stack holds new workflow executions
    back for a moment after a client's last request. Returns the wait."""
    t0 = time.monotonic()
    quiet = 0
    while time.monotonic() - t0 < max_wait and quiet < quiet_windows:
        before = cpu_seconds(pid)
        time.sleep(window)
        quiet = quiet + 1 if cpu_seconds(pid) - before < quiet_share * window else 0
    return time.monotonic() - t0


def prime_memory(nbytes: int, where: Path) -> None:
    """Writes ``nbytes`` to a scratch file in ``where`` and deletes it, so the run that starts
    right after finds that much memory freed a moment ago.

    This VM hands freed guest memory back to the host about 2 s after it is freed (free page
    reporting), and touching it again then costs ~2.7 s of system time a GiB: writing a 1 GiB
    file took 0.22 s right after another was deleted, 1.4 s two seconds later, 3 s ten seconds
    later (``/sys/module/page_reporting/parameters/reported_kib`` counts what went back).
    Whichever client ran after such a pause paid for it, so the order of the runs, not the
    clients, decided a row. ``FILEVAULT_BENCH_PRIME=0`` skips this."""
    if nbytes <= 0 or os.environ.get("FILEVAULT_BENCH_PRIME", "1") == "0":
        return
    block = bytes(min(nbytes, 8 * 1024 * 1024))
    with tempfile.NamedTemporaryFile(dir=where, prefix="prime-") as scratch:
        for _ in range(0, nbytes, len(block)):
            scratch.write(block)


def settle_max() -> float:
    return float(os.environ.get("FILEVAULT_BENCH_SETTLE_MAX", str(max(60.0, 3600 * scale()))))


def download_rounds() -> int:
    """How many interleaved rounds each download row runs (its median is reported)."""
    return max(1, int(os.environ.get("FILEVAULT_BENCH_DOWNLOAD_ROUNDS", "3")))


def which(env_name: str, default: str) -> str | None:
    """A peer's executable: ``$env_name`` when set, else ``default`` on PATH."""
    value = os.environ.get(env_name)
    if value:
        if not Path(value).exists():
            raise FileNotFoundError(f"{env_name}={value} does not exist")
        return str(Path(value).resolve())
    return shutil.which(default)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join(
        [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]
    )
