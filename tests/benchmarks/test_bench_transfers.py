"""Transfer benchmarks (issue 4; ``make bench``, not part of ``make test``).

On one local stack, against its one S3 endpoint, in one run, each client run as a user runs it
(a subprocess, timed from start to exit, peak RSS from ``/usr/bin/time``):

- ``filevault upload`` / ``filevault download`` (signed in once with ``filevault login``);
- ``rclone copy`` (Debian's rclone; ``FILEVAULT_BENCH_RCLONE`` or ``rclone`` on PATH);
- ``aws s3 cp --recursive`` (awscli from PyPI; ``FILEVAULT_BENCH_AWS`` or ``aws`` on PATH);
- the raw ceiling: the same bytes PUT (GET) with pre-signed URLs over 16 parallel
  connections by a minimal script (``raw_http.py``).

Cases: (a) one 1 GiB file, (b) 1,000 files of 64 KiB, (c) 10,000 files of 4 KiB, uploads of
all three and downloads of (a) and (b). ``FILEVAULT_BENCH_SCALE`` (default 1.0) scales the file
counts and the big file's size down for a smoke run. Downloads run in interleaved rounds
(``FILEVAULT_BENCH_DOWNLOAD_ROUNDS``, default 3), the clients taking turns to go first, each
client's median reported.

Peers get the stack's service credential from ``filevault stack credentials --json`` and write
into the upload bucket under their own prefix (``rclone/``, ``awscli/``, ``ceiling/``). Every
object put into the upload bucket starts an upload-processing workflow execution in the stack,
whoever put it, so the stack is left to go quiet before every run (``settle``) and the wait is
recorded, so that no run pays for the previous one's workflows.

Every transfer is verified (counts, sizes, SHA-256 of a sample or of everything); the figures
are reported, never asserted. Results: bench-results/transfers.md and transfers.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.benchmarks.conftest import RESULTS, record
from tests.benchmarks.harness import (
    GiB,
    Measured,
    MiB,
    check,
    cpu_seconds,
    download_rounds,
    markdown_table,
    prime_memory,
    random_content,
    run_measured,
    scale,
    scaled,
    settle,
    settle_max,
    which,
)
from tests.integration.stack import RunningStack, client, start_stack

KiB = 1024
CEILING_WORKERS = 16
CEILING_PART = 8 * MiB
SAMPLE = 20  # objects whose bytes are checked by SHA-256 after an upload
USER, PASSWORD = "bench-transfers", "Bench-transfers-1"
CLIENTS = ("filevault", "rclone", "awscli", "ceiling")
PEERS = ("rclone", "awscli")


@dataclass(frozen=True)
class Case:
    key: str
    files: int
    size: int

    @property
    def label(self) -> str:
        size = f"{self.size // MiB} MiB" if self.size >= MiB else f"{self.size // KiB} KiB"
        return f"{self.files:,} x {size}"


def _cases() -> dict[str, Case]:
    big = max(MiB, round(GiB * scale() / MiB) * MiB)
    return {
        "big": Case("big", 1, big),
        "files64k": Case("files64k", scaled(1000), 64 * KiB),
        "files4k": Case("files4k", scaled(10_000), 4 * KiB),
    }


CASES = _cases()
UPLOADS = ("big", "files64k", "files4k")
DOWNLOADS = ("big", "files64k")


@dataclass
class Dataset:
    root: Path  # the folder that is uploaded; it is named after the case
    files: dict[str, tuple[int, str]]  # relative path -> (size, sha256)

    @property
    def total(self) -> int:
        return sum(size for size, _ in self.files.values())


@dataclass
class Bench:
    stack: RunningStack
    work: Path
    creds: dict[str, str]
    fv: list[str]
    fv_env: dict[str, str]
    rclone: str | None
    aws: str | None
    peer_env: dict[str, str]
    rclone_env: dict[str, str]
    datasets: dict[str, Dataset] = field(default_factory=dict)
    uploaded: dict[tuple[str, str], bool] = field(default_factory=dict)
    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    runs: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def bucket(self) -> str:
        return self.creds["upload_bucket"]

    @property
    def endpoint(self) -> str:
        return self.creds["endpoint_url"]

    def s3(self) -> Any:
        return self.stack.aws_client("s3")

    def dataset(self, case: Case) -> Dataset:
        if case.key not in self.datasets:
            self.datasets[case.key] = _make_dataset(self.work / "data" / case.key, case)
        return self.datasets[case.key]

    def timed(self, row: str, who: str, run: Any, *, prime: int = 0) -> Measured:
        """Runs ``run()`` on a quiet stack, ``prime`` bytes of memory freed just before
        (``prime_memory``: the page cache the run fills); records its time, RSS, the stack's
        CPU during it and how long the stack stayed busy after it."""
        pid = self.stack.process.pid
        settle(pid, max_wait=settle_max())
        prime_memory(prime, self.work)
        cpu0 = cpu_seconds(pid)
        result: Measured = run()
        cpu1 = cpu_seconds(pid)
        tail = settle(pid, max_wait=settle_max())
        runs = self.runs.setdefault((row, who), [])
        runs.append(
            {
                "seconds": round(result.seconds, 3),
                "peak_rss_mb": None if result.peak_rss is None else round(result.peak_rss / 1e6, 1),
                "stack_cpu_s": round(cpu1 - cpu0, 2),
                "stack_busy_after_s": round(tail, 1),
            }
        )
        # A repeated row reports its median run (by time), with every time beside it.
        median = sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]
        self.rows.setdefault(row, {})[who] = {
            **median,
            **({"all_seconds": [r["seconds"] for r in runs]} if len(runs) > 1 else {}),
        }
        return result


def _make_dataset(root: Path, case: Case) -> Dataset:
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[int, str]] = {}
    for i in range(case.files):
        name = f"f{i:05d}.bin"
        digest = hashlib.sha256()
        with (root / name).open("wb") as f:
            left = case.size
            while left:
                chunk = min(left, 4 * MiB)
                block = random_content(chunk) if left == case.size else os.urandom(chunk)
                f.write(block)
                digest.update(block)
                left -= len(block)
        files[name] = (case.size, digest.hexdigest())
    return Dataset(root, files)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(4 * MiB):
            digest.update(block)
    return digest.hexdigest()


def _sample(names: list[str], k: int = SAMPLE) -> list[str]:
    return random.Random(4).sample(sorted(names), min(k, len(names)))


# ----- setup -----
@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    work = tmp_path_factory.mktemp("bench-transfers")
    stack = start_stack(
        work / "stack", min_part_size=5 * MiB, single_put_max=16 * MiB, quota=1024 * GiB
    )
    try:
        stack.add_user(USER, PASSWORD)
        exe = Path(sys.executable).with_name("filevault")
        fv = [str(exe)] if exe.exists() else [sys.executable, "-m", "filevault_desktop"]
        fv_env = {
            **os.environ,
            "FILEVAULT_HOME": str(work / "fv-home"),
            "FILEVAULT_STACK_DIR": str(stack.data_dir),
        }
        creds_run = check(
            run_measured([*fv, "stack", "credentials", "--json"], fv_env), "stack credentials"
        )
        creds = json.loads(creds_run.stdout)
        check(
            run_measured(
                [*fv, "login", "--profile", "local", "--username", USER, "--password-stdin"],
                fv_env,
                stdin=PASSWORD + "\n",
            ),
            "filevault login",
        )
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
        aws_config = work / "aws-config"
        aws_config.write_text("[default]\ns3 =\n  addressing_style = path\n")
        peer_env = {
            **clean,
            "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": creds["region"],
            "AWS_CONFIG_FILE": str(aws_config),
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        # No config file for rclone: the remote "bench" comes from the environment. rclone
        # cannot load the machine's AWS_CA_BUNDLE (DESIGN.md), so it is not passed.
        rclone_env = {
            **clean,
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": creds["aws_access_key_id"],
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
            "RCLONE_CONFIG_BENCH_REGION": creds["region"],
            "RCLONE_CONFIG_BENCH_ENDPOINT": creds["endpoint_url"],
            "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
        }
        yield Bench(
            stack=stack,
            work=work,
            creds=creds,
            fv=fv,
            fv_env=fv_env,
            rclone=which("FILEVAULT_BENCH_RCLONE", "rclone"),
            aws=which("FILEVAULT_BENCH_AWS", "aws"),
            peer_env=peer_env,
            rclone_env=rclone_env,
        )
    finally:
        stack.stop()


@pytest.fixture(scope="module", autouse=True)
def report(bench: Bench) -> Iterator[None]:
    yield
    _write_report(bench)


# ----- verification -----
def _listing(bench: Bench, prefix: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for page in (
        bench.s3().get_paginator("list_objects_v2").paginate(Bucket=bench.bucket, Prefix=prefix)
    ):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix) :]] = obj["Size"]
    return found


def _verify_objects(bench: Bench, prefix: str, data: Dataset, who: str) -> None:
    found = _listing(bench, prefix)
    expected = {name: size for name, (size, _) in data.files.items()}
    assert found == expected, f"{who}: objects under {prefix} differ from the source"
    s3 = bench.s3()
    for name in _sample(list(data.files)):
        body = s3.get_object(Bucket=bench.bucket, Key=prefix + name)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == data.files[name][1], f"{who}: {name} differs"


def _verify_filevault_upload(bench: Bench, result: Measured, data: Dataset, case: Case) -> None:
    outcomes = json.loads(result.stdout)
    failed = [o for o in outcomes if o["error"]]
    assert not failed, f"filevault upload failed for {len(failed)} file(s): {failed[:3]}"
    by_name = {Path(o["remote"]).name: o["file"] for o in outcomes}
    assert sorted(by_name) == sorted(data.files), "filevault uploaded other files"
    for name, (size, sha) in data.files.items():
        assert by_name[name]["size"] == size, f"filevault: {name} has the wrong size"
        assert by_name[name]["path"] == f"fv/{case.key}/{name}"
        recorded = by_name[name].get("sha256")
        assert recorded in (None, sha), f"filevault: {name} recorded with another SHA-256"
    svc = client(bench.stack, Path(bench.fv_env["FILEVAULT_HOME"]))  # the CLI's own session
    listed = {f.path: f.size for f in svc.api.list_files(f"fv/{case.key}/")}
    assert listed == {f"fv/{case.key}/{n}": s for n, (s, _) in data.files.items()}
    http = requests.Session()
    for name in _sample(list(data.files)):
        digest = hashlib.sha256()
        url = svc.api.download_url(by_name[name]["file_id"])
        with http.get(url, stream=True, timeout=600) as r:
            assert r.status_code == 200, r.text
            for block in r.iter_content(MiB):
                digest.update(block)
        assert digest.hexdigest() == data.files[name][1], f"filevault: {name} differs"


def _verify_tree(root: Path, data: Dataset, who: str) -> None:
    found = {
        p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*") if p.is_file()
    }
    expected = {name: size for name, (size, _) in data.files.items()}
    assert found == expected, f"{who}: downloaded files differ from the source in {root}"
    for name, (_, sha) in data.files.items():
        assert _sha256(root / name) == sha, f"{who}: downloaded {name} differs"


# ----- the raw ceiling -----
def _ceiling(bench: Bench, job: list[dict[str, Any]], name: str) -> Measured:
    path = bench.work / f"ceiling-{name}.json"
    path.write_text(json.dumps({"workers": CEILING_WORKERS, "ops": job}))
    script = Path(__file__).with_name("raw_http.py")
    return run_measured([sys.executable, str(script), str(path)], bench.peer_env)


def _ceiling_upload(bench: Bench, case: Case, data: Dataset) -> Measured:
    s3 = bench.s3()
    prefix = f"ceiling/{case.key}/"
    if case.files == 1 and case.size > CEILING_PART:
        ((name, (size, _)),) = data.files.items()
        key = prefix + name
        t0 = time.perf_counter()
        upload_id = s3.create_multipart_upload(Bucket=bench.bucket, Key=key)["UploadId"]
        setup_s = time.perf_counter() - t0
        parts = range(1, -(-size // CEILING_PART) + 1)
        job = [
            {
                "method": "PUT",
                "url": s3.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": bench.bucket,
                        "Key": key,
                        "UploadId": upload_id,
                        "PartNumber": n,
                    },
                    ExpiresIn=3 * 3600,
                ),
                "path": str(data.root / name),
                "offset": (n - 1) * CEILING_PART,
                "length": min(CEILING_PART, size - (n - 1) * CEILING_PART),
            }
            for n in parts
        ]
        result = check(_ceiling(bench, job, case.key + "-put"), "ceiling upload")
        etags = json.loads(result.stdout)["etags"]
        t0 = time.perf_counter()
        s3.complete_multipart_upload(
            Bucket=bench.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip(parts, etags, strict=True)]
            },
        )
        done_s = time.perf_counter() - t0
        # Creating and completing the upload are part of the transfer; signing is not.
        return replace(result, seconds=result.seconds + setup_s + done_s)
    job = [
        {
            "method": "PUT",
            "url": s3.generate_presigned_url(
                "put_object", Params={"Bucket": bench.bucket, "Key": prefix + name}, ExpiresIn=10800
            ),
            "path": str(data.root / name),
            "offset": 0,
            "length": size,
        }
        for name, (size, _) in data.files.items()
    ]
    return check(_ceiling(bench, job, case.key + "-put"), "ceiling upload")


def _ceiling_download(bench: Bench, case: Case, data: Dataset) -> Measured:
    s3 = bench.s3()
    prefix = f"ceiling/{case.key}/"
    job: list[dict[str, Any]] = []
    for name, (size, _) in data.files.items():
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bench.bucket, "Key": prefix + name}, ExpiresIn=10800
        )
        if size > CEILING_PART:
            for start in range(0, size, CEILING_PART):
                end = min(size, start + CEILING_PART) - 1
                job.append(
                    {
                        "method": "GET",
                        "url": url,
                        "range": f"bytes={start}-{end}",
                        "length": end - start + 1,
                    }
                )
        else:
            job.append({"method": "GET", "url": url, "length": size})
    result = check(_ceiling(bench, job, case.key + "-get"), "ceiling download")
    assert json.loads(result.stdout)["bytes"] == data.total, "ceiling: byte count differs"
    return result


# ----- the benchmarks -----
def test_startup(bench: Bench) -> None:
    """Each client's fixed cost: start, list an empty folder (one request), exit."""
    row = "list an empty folder (startup)"
    result = bench.timed(
        row, "filevault", lambda: run_measured([*bench.fv, "ls", "--json"], bench.fv_env)
    )
    assert check(result, "filevault ls").stdout.strip() == "[]", result.stdout
    if bench.rclone:
        rclone = bench.rclone
        result = bench.timed(
            row,
            "rclone",
            lambda: run_measured(
                [rclone, "lsf", f"bench:{bench.bucket}/rclone/"], bench.rclone_env
            ),
        )
        assert check(result, "rclone lsf").stdout.strip() == "", result.stdout
    if bench.aws:
        aws = bench.aws
        result = bench.timed(
            row,
            "awscli",
            lambda: run_measured(
                [aws, "s3", "ls", "--endpoint-url", bench.endpoint, f"s3://{bench.bucket}/awscli/"],
                bench.peer_env,
            ),
        )
        # `aws s3 ls` exits 1 when nothing matched.
        assert result.returncode in (0, 1) and not result.stdout.strip(), result.stderr


@pytest.mark.parametrize("key", UPLOADS)
def test_upload(bench: Bench, key: str) -> None:
    case = CASES[key]
    data = bench.dataset(case)
    row = f"upload {case.label}"
    for who in ("filevault", "rclone", "awscli"):
        planned = _upload_command(bench, who, key, data)
        if planned is None:
            continue
        cmd, env = planned
        run = partial(_checked, cmd, env, f"{who} upload")
        result = bench.timed(row, who, run, prime=data.total)
        if who == "filevault":
            _verify_filevault_upload(bench, result, data, case)
        else:
            _verify_objects(bench, f"{who}/{key}/", data, who)
        bench.uploaded[(who, key)] = True

    bench.timed(row, "ceiling", lambda: _ceiling_upload(bench, case, data), prime=data.total)
    _verify_objects(bench, f"ceiling/{key}/", data, "ceiling")
    bench.uploaded[("ceiling", key)] = True


def _upload_command(
    bench: Bench, who: str, key: str, data: Dataset
) -> tuple[list[str], dict[str, str]] | None:
    """How ``who`` uploads the case (into ``fv`` or its own prefix): the command and its
    environment. None when that peer is missing."""
    if who == "filevault":
        return [*bench.fv, "upload", str(data.root), "--to", "fv", "--json"], bench.fv_env
    if who == "rclone":
        if not bench.rclone:
            return None
        target = f"bench:{bench.bucket}/rclone/{key}"
        return [bench.rclone, "copy", str(data.root), target], bench.rclone_env
    if not bench.aws:
        return None
    target = f"s3://{bench.bucket}/awscli/{key}/"
    cmd = [bench.aws, "s3", "cp", "--recursive", "--only-show-errors"]
    return [*cmd, "--endpoint-url", bench.endpoint, str(data.root), target], bench.peer_env


@pytest.mark.parametrize("key", DOWNLOADS)
def test_download(bench: Bench, key: str) -> None:
    if not bench.uploaded.get(("filevault", key)):
        pytest.skip(f"the upload of {key} did not run")
    target = bench.work / "downloads"
    shutil.rmtree(target, ignore_errors=True)

    # Interleaved rounds, median reported: one download's time varied a lot from run to run
    # on this VM (the same 1 GiB download by FileVault alone took 1.5-4.3 s, nearly all of the
    # difference system time filling page-cache pages; see harness.prime_memory), so one run
    # is not evidence. The clients take turns going first, so whatever the one before leaves
    # behind (page cache, the stack's state) falls on each of them alike.
    for turn in range(download_rounds()):
        _download_round(bench, key, target, turn)


def _download_round(bench: Bench, key: str, target: Path, turn: int) -> None:
    """One download of the case by each client, the order rotated by ``turn``."""
    case = CASES[key]
    data = bench.dataset(case)
    row = f"download {case.label}"
    clients = ["filevault", "rclone", "awscli"]
    turn %= len(clients)
    for who in clients[turn:] + clients[:turn]:
        dest = target / who
        planned = _download_command(bench, who, key, dest, data)
        if planned is None:
            continue
        cmd, env, landed = planned
        dest.mkdir(parents=True)
        bench.timed(row, who, partial(_checked, cmd, env, f"{who} download"), prime=data.total)
        _verify_tree(landed, data, who)
        shutil.rmtree(dest)
    if bench.uploaded.get(("ceiling", key)):
        bench.timed(row, "ceiling", lambda: _ceiling_download(bench, case, data), prime=data.total)


def _download_command(
    bench: Bench, who: str, key: str, dest: Path, data: Dataset
) -> tuple[list[str], dict[str, str], Path] | None:
    """How ``who`` downloads the case into ``dest``: the command, its environment and where
    the files land. None when that peer is missing or did not upload the case."""
    if who == "filevault":
        one = len(data.files) == 1
        remote = f"fv/{key}/{next(iter(data.files))}" if one else f"fv/{key}"
        cmd = [*bench.fv, "download", remote, str(dest), "--json"]
        return cmd, bench.fv_env, dest if one else dest / key
    if who == "rclone":
        if not bench.rclone or not bench.uploaded.get(("rclone", key)):
            return None
        source = f"bench:{bench.bucket}/rclone/{key}"
        return [bench.rclone, "copy", source, str(dest)], bench.rclone_env, dest
    if not bench.aws or not bench.uploaded.get(("awscli", key)):
        return None
    source = f"s3://{bench.bucket}/awscli/{key}/"
    cmd = [bench.aws, "s3", "cp", "--recursive", "--only-show-errors"]
    return [*cmd, "--endpoint-url", bench.endpoint, source, str(dest)], bench.peer_env, dest


def _checked(cmd: list[str], env: dict[str, str], what: str) -> Measured:
    return check(run_measured(cmd, env), what)


# ----- the report -----
def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _write_report(bench: Bench) -> None:
    if not bench.rows:
        return
    header = [
        "case",
        "filevault s",
        "rclone s",
        "awscli s",
        "ceiling s",
        "ratio (best peer / filevault)",
        "filevault / ceiling",
        "peak RSS MB (fv / rclone / aws / ceiling)",
    ]
    table: list[list[str]] = []
    summary: dict[str, Any] = {"scale": scale(), "rows": bench.rows}
    for row, runs in bench.rows.items():
        secs = {who: runs[who]["seconds"] if who in runs else None for who in CLIENTS}
        fv = secs["filevault"]
        peers = [s for who in PEERS if (s := secs[who]) is not None]
        ratio = min(peers) / fv if fv and peers else None
        of_ceiling = secs["ceiling"] / fv if fv and secs["ceiling"] else None
        runs_ratio = summary.setdefault("ratios", {})
        runs_ratio[row] = {
            "best_peer_over_filevault": ratio and round(ratio, 3),
            "ceiling_over_filevault": of_ceiling and round(of_ceiling, 3),
        }
        rss = " / ".join(
            _fmt(runs[who]["peak_rss_mb"], 0) if who in runs else "n/a" for who in CLIENTS
        )
        table.append(
            [
                row,
                *(_fmt(secs[who]) for who in CLIENTS),
                _fmt(ratio),
                _fmt(of_ceiling),
                rss,
            ]
        )
    busy_header = ["case", *(f"{who}: stack CPU s / busy after s" for who in CLIENTS)]
    busy = [
        [
            row,
            *(
                f"{runs[who]['stack_cpu_s']} / {runs[who]['stack_busy_after_s']}"
                if who in runs
                else "n/a"
                for who in CLIENTS
            ),
        ]
        for row, runs in bench.rows.items()
    ]
    text = "\n".join(
        [
            "# Transfer benchmarks (issue 4)",
            "",
            f"Local stack on loopback, one run, `FILEVAULT_BENCH_SCALE={scale()}`. Times are "
            "wall-clock seconds of each client's process, start to exit; each download is the "
            f"median of {download_rounds()} interleaved rounds (every time is in "
            "transfers.json). ratio = best peer "
            "time / filevault time (≥ 1.0: FileVault at least as fast as the best peer); "
            f"filevault / ceiling = ceiling time / filevault time (ceiling: {CEILING_WORKERS} "
            "parallel connections with pre-signed URLs, GET bodies discarded).",
            "",
            markdown_table(header, table),
            "",
            "Work each run caused in the stack process (every object written to the upload "
            "bucket starts a processing workflow execution): its CPU seconds during the run, "
            "and how long it stayed busy afterwards (waited out before the next run).",
            "",
            markdown_table(busy_header, busy),
            "",
        ]
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "transfers.md").write_text(text)
    record("transfers", summary)
    print("\n" + text)
