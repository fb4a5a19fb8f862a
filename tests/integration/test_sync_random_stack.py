"""Seeded randomized two-client sync against the REAL local stack (CanopyCheck/Trinity style).

Two clients of one user (each its own folder, base index, transfer engines and local trash)
sync ``Docs`` with the stack. A seed drives everything: random creates, edits (in place and
save-by-rename), copies, deletes, renames and moves of files and folders on both sides,
interleaved with syncs, restarts (a new "process": new service, engines and engine on the same
index), crashes right after a call reached the server, the other client syncing in the middle
of a sync, and injected network faults (a ``RemotePort`` wrapper around ``ApiRemote`` that
raises ``NetworkError`` before a call, or after it reached the server: a lost response). Then
the faults stop, everyone syncs until quiet, and the test asserts:

1. both folders, both base indexes and the server hold the same tree, byte for byte;
2. every content a client's engine ever saw (its folder at the start of each of its syncs) is
   still retrievable: in a folder (conflicted copies included), a local trash
   (``FolderTrash``), the server's trash or a server version. (A user overwriting or deleting
   their own unsynced edit before any sync saw it is not the engine's loss.)

CI runs ``SEEDS``. ``SYNC_SOAK_SEEDS=500`` runs 500 fresh random seeds (``make soak``);
``SYNC_SEED=1234`` (or ``1234,99``) replays seeds. A failure names its seed and prints the
operations it ran. ``SYNC_STEPS`` changes the number of operations per seed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import random
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from filevault_desktop.errors import FileVaultError, NetworkError
from filevault_desktop.service import FileVaultService
from filevault_desktop.sync import (
    FolderTrash,
    IgnoreRules,
    SyncConfig,
    SyncEngine,
    SyncEvent,
    SyncIndex,
)
from filevault_desktop.sync.models import ChangePage, RemoteEntry, SyncReport, SyncState, SyncStatus
from filevault_desktop.sync_folders import probe_rules
from filevault_desktop.sync_remote import ApiRemote
from filevault_desktop.transfer import UploadEngine, UploadJournal
from filevault_desktop.transfer.download import DownloadEngine
from filevault_desktop.transfer.http import RequestsFetcher, RequestsPartSender
from tests.integration.stack import MiB, RunningStack, client

pytestmark = pytest.mark.integration

# CI: ~80 s on 2 idle cores. 1201268778 (found by a soak): a client downloads a file that
# the other client trashes meanwhile, right after its own cursor.
SEEDS = (11, 23, 37, 41, 59, 67, 73, 89, 97, 101, 103, 107, 1201268778)
STEPS = int(os.environ.get("SYNC_STEPS", "40"))
REMOTE = "Docs"
PASSWORD = "Correct-horse1"

DIRS = ("", "d1", "d2", "d1/d3", "d2/d4")
NAMES = ("a.txt", "b.txt", "c.md", "d.bin")
FOLDER_TARGETS = ("d1", "d2", "d5", "d1/d3", "d2/d6", "d5/d7")
REMOTE_CALLS = ("list_files", "changes", "upload", "download", "download_many", "move", "trash")


def _seeds() -> list[int]:
    if os.environ.get("SYNC_SEED"):
        return [int(s) for s in os.environ["SYNC_SEED"].split(",")]
    soak = int(os.environ.get("SYNC_SOAK_SEEDS", "0"))
    if soak:
        fresh = random.SystemRandom()
        return [fresh.randrange(1, 2**31) for _ in range(soak)]
    return list(SEEDS)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _etags(data: bytes) -> set[str]:
    """The S3 ETags ``data`` gets in one PUT or in 1 MiB parts (this stack's part size for
    files this small): multipart versions carry no SHA-256, their ETag identifies them."""
    parts = [data[i : i + MiB] for i in range(0, len(data), MiB)] or [b""]
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return {hashlib.md5(data).hexdigest(), f"{hashlib.md5(joined).hexdigest()}-{len(parts)}"}


class SimulatedCrash(BaseException):
    """Not an Exception: nothing in the engine catches it, like a kill -9."""


# ---- the network, as badly behaved as the seed says ---------------------------------------------


@dataclass
class Faults:
    rate: float = 0.0  # chance that a call fails
    crash_at: int | None = None  # the n-th call from now dies right after reaching the server
    hook_at: int | None = None  # the n-th call from now first runs ``hook`` (a race)
    hook: Callable[[], None] | None = None
    calls: int = 0
    injected: int = 0

    def clear(self) -> None:
        self.rate, self.crash_at, self.hook_at, self.hook = 0.0, None, None, None


class FaultyRemote:
    """A ``RemotePort`` around ``ApiRemote`` that fails, crashes or races as told (seeded)."""

    def __init__(self, inner: ApiRemote, faults: Faults, rng: random.Random) -> None:
        self._inner = inner
        self._faults = faults
        self._rng = rng

    def _call(self, name: str, fn: Callable[[], Any]) -> Any:
        f = self._faults
        f.calls += 1
        if f.hook is not None and f.hook_at is not None and f.calls >= f.hook_at:
            hook, f.hook, f.hook_at = f.hook, None, None
            hook()
        fail = f.rate > 0 and self._rng.random() < f.rate
        lost_response = fail and self._rng.random() < 0.5
        if fail and not lost_response:
            f.injected += 1
            raise NetworkError(f"injected: {name} never reached the server")
        result = fn()
        if f.crash_at is not None and f.calls >= f.crash_at:
            f.crash_at = None
            raise SimulatedCrash(name)
        if lost_response:
            f.injected += 1
            raise NetworkError(f"injected: the response to {name} was lost")
        return result

    def list_files(self, prefix: str) -> list[RemoteEntry]:
        return self._call("list_files", lambda: list(self._inner.list_files(prefix)))  # type: ignore[no-any-return]

    def changes(self, cursor: str | None) -> ChangePage:
        return self._call("changes", lambda: self._inner.changes(cursor))  # type: ignore[no-any-return]

    def upload(self, local: Path, remote_path: str, expected_version: str | None) -> RemoteEntry:
        return self._call(  # type: ignore[no-any-return]
            "upload", lambda: self._inner.upload(local, remote_path, expected_version)
        )

    def download(self, file_id: str, dest: Path) -> RemoteEntry:
        return self._call("download", lambda: self._inner.download(file_id, dest))  # type: ignore[no-any-return]

    def download_many(
        self, items: list[tuple[str, str, int, Path]]
    ) -> list[RemoteEntry | FileVaultError | None]:
        return self._call("download_many", lambda: self._inner.download_many(items))  # type: ignore[no-any-return]

    def move(self, file_id: str, new_path: str, expected_version: str | None) -> RemoteEntry:
        return self._call(  # type: ignore[no-any-return]
            "move", lambda: self._inner.move(file_id, new_path, expected_version)
        )

    def trash(self, file_id: str, expected_version: str | None) -> None:
        self._call("trash", lambda: self._inner.trash(file_id, expected_version))


# ---- a client: a folder, an index, a local trash, and the process that syncs them --------------


@dataclass
class StackClient:
    name: str
    stack: RunningStack
    home: Path
    rng: random.Random
    on_scanned: Callable[[StackClient], None]  # the engine just scanned the folder
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.root = self.home / "Docs"
        self.trash_dir = self.home / "trash"
        self.root.mkdir(parents=True)
        self._process = ExitStack()
        self.engine: SyncEngine | None = None

    @property
    def svc(self) -> FileVaultService:
        return self._svc

    def login(self, username: str) -> None:
        svc = client(self.stack, self.home)
        svc.login(username, PASSWORD)
        self.folder = svc.sync.add(self.root, REMOTE)
        self.start()

    def start(self) -> None:
        """A new process: service, transfer engines and sync engine, on the same index."""
        svc = self._svc = client(self.stack, self.home)
        p = self._process
        journal = UploadJournal(svc.paths.state_dir / "transfers.sqlite3")
        p.callback(journal.close)
        uploads = p.enter_context(
            UploadEngine(svc.api, RequestsPartSender(pool_size=2), journal, workers=2)
        )
        downloads = p.enter_context(
            DownloadEngine(svc.api, RequestsFetcher(pool_size=2), workers=2)
        )
        remote = FaultyRemote(ApiRemote(svc.api, uploads, downloads), self.faults, self.rng)
        index = SyncIndex(svc.sync.folders.index_path(self.folder))
        p.callback(index.close)
        config = SyncConfig(
            root=self.root, remote_root=REMOTE, device=self.name, rules=probe_rules(self.root)
        )
        self.engine = SyncEngine(
            config, remote, index, trash=FolderTrash(self.trash_dir), on_event=self._event
        )

    def _event(self, event: SyncEvent) -> None:
        # SYNCING follows each round's scan and plan, before any action: the folder as it is
        # now is what the engine saw (the test's user never acts between scan and plan).
        if isinstance(event, SyncStatus) and event.state is SyncState.SYNCING:
            self.on_scanned(self)

    def stop(self) -> None:
        self._process.close()
        self._process = ExitStack()
        self.engine = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def sync(self) -> SyncReport | str:
        """``run_until_quiet``; a network error is reported (as ``sync run`` does), not raised."""
        assert self.engine is not None
        try:
            return self.engine.run_until_quiet()
        except FileVaultError as exc:
            return f"error: {exc.message}"

    # ---- what the client's user sees ----------------------------------------------------------

    def tree(self, *, with_ignored: bool = False) -> dict[str, bytes]:
        rules = IgnoreRules.for_root(self.root)
        out = {}
        for p in self.root.rglob("*"):
            rel = p.relative_to(self.root).as_posix()
            if p.is_file() and not p.is_symlink() and (with_ignored or not rules.is_ignored(rel)):
                out[rel] = p.read_bytes()
        return out

    def dirs(self) -> list[str]:
        found = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_dir())
        return sorted(found)

    def trashed(self) -> list[bytes]:
        if not self.trash_dir.exists():
            return []
        return [p.read_bytes() for p in self.trash_dir.rglob("*") if p.is_file()]

    def base_paths(self) -> set[str]:
        assert self.engine is not None
        return {b.local_path for b in self.engine.index.base()}

    def base_hashes(self) -> set[str]:
        """Contents this client agreed on with the server: each is a server version."""
        assert self.engine is not None
        return {b.sha256 for b in self.engine.index.base() if b.sha256}


# ---- the seeded run -------------------------------------------------------------------------


class Run:
    def __init__(self, seed: int, stack: RunningStack, tmp: Path) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.stack = stack
        username = f"soak{seed}-{os.urandom(3).hex()}"
        stack.add_user(username, PASSWORD)
        self.clients = [
            StackClient(name, stack, tmp / name, random.Random(f"{seed}-{name}"), self.saw)
            for name in ("laptop", "desktop")
        ]
        for c in self.clients:
            c.login(username)
        self.log: list[str] = []
        self.counter = 0
        self.step_no = 0
        # sha256 of every content an engine saw (and the user did not destroy before it was
        # synced) -> where and when it was first seen
        self.seen: dict[str, str] = {}
        self.etags: dict[str, set[str]] = {}

    def close(self) -> None:
        for c in self.clients:
            with contextlib.suppress(Exception):
                c.stop()

    # ---- user operations ----------------------------------------------------------------------

    def content(self) -> bytes:
        self.counter += 1
        roll = self.rng.random()
        if roll < 0.03:
            return b""
        head = f"seed {self.seed} content {self.counter}\n".encode()
        if roll < 0.05:  # now and then one that goes up multipart (this stack: > 2 MiB)
            return head + self.rng.randbytes(2 * MiB + self.rng.randrange(MiB))
        return head + self.rng.randbytes(self.rng.randrange(1, 3000))

    def free_path(self, c: StackClient) -> str | None:
        """A path where a new file can go (nothing there, no file where a folder must be)."""
        folder = self.rng.choice(DIRS)
        rel = f"{folder}/{self.rng.choice(NAMES)}" if folder else self.rng.choice(NAMES)
        target = c.root / rel
        if target.exists():
            return None
        parent = target.parent
        while parent != c.root:
            if parent.exists() and not parent.is_dir():
                return None
            parent = parent.parent
        return rel

    def user_op(self, c: StackClient) -> str | None:
        rng = self.rng
        files = sorted(c.tree())
        kind = rng.choices(
            ("create", "edit", "save_by_rename", "copy", "delete", "move", "rmdir", "movedir"),
            weights=(6, 5, 2, 1, 2, 4, 1, 2),
        )[0]
        if kind in ("edit", "save_by_rename", "copy", "delete", "move") and not files:
            kind = "create"
        if kind == "create":
            rel = self.free_path(c)
            if rel is None:
                return None
            (c.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (c.root / rel).write_bytes(self.content())
            return f"{c.name}: create {rel}"
        if kind == "edit":
            rel = rng.choice(files)
            self.destroying(c, [c.root / rel])
            (c.root / rel).write_bytes(self.content())
            return f"{c.name}: edit {rel}"
        if kind == "save_by_rename":
            rel = rng.choice(files)
            temp = (c.root / rel).with_name(f".{(c.root / rel).name}.sb-{self.counter}.tmp")
            temp.write_bytes(self.content())
            self.destroying(c, [c.root / rel])
            os.replace(temp, c.root / rel)
            return f"{c.name}: save-by-rename {rel}"
        if kind == "copy":
            src, dst = rng.choice(files), self.free_path(c)
            if dst is None:
                return None
            (c.root / dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(c.root / src, c.root / dst)
            return f"{c.name}: copy {src} -> {dst}"
        if kind == "delete":
            rel = rng.choice(files)
            self.destroying(c, [c.root / rel])
            (c.root / rel).unlink()
            return f"{c.name}: delete {rel}"
        if kind == "move":
            src, dst = rng.choice(files), self.free_path(c)
            if dst is None:
                return None
            (c.root / dst).parent.mkdir(parents=True, exist_ok=True)
            os.rename(c.root / src, c.root / dst)
            return f"{c.name}: move {src} -> {dst}"
        dirs = c.dirs()
        if not dirs:
            return None
        src = rng.choice(dirs)
        if kind == "rmdir":
            self.destroying(c, [p for p in (c.root / src).rglob("*") if p.is_file()])
            shutil.rmtree(c.root / src)
            return f"{c.name}: delete folder {src}"
        dst = rng.choice(FOLDER_TARGETS)
        target = c.root / dst
        if dst == src or dst.startswith(src + "/") or target.exists():
            return None
        if any(p.exists() and not p.is_dir() for p in target.parents):
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(c.root / src, target)
        return f"{c.name}: move folder {src} -> {dst}"

    # ---- syncing ------------------------------------------------------------------------------

    def saw(self, c: StackClient) -> None:
        for rel, data in c.tree().items():
            sha = _sha(data)
            if sha not in self.seen:
                self.seen[sha] = f"{c.name}:{rel} (step {self.step_no})"
                self.etags[sha] = _etags(data)

    def destroying(self, c: StackClient, paths: list[Path]) -> None:
        """The user is about to overwrite or delete ``paths``: content no engine synced yet
        and no other copy holds is the user's own loss, not the engine's."""
        doomed = {_sha(p.read_bytes()) for p in paths}
        synced = c.base_hashes()
        elsewhere = set()
        for other in self.clients:
            for p in other.root.rglob("*"):
                if p.is_file() and p not in paths:
                    elsewhere.add(_sha(p.read_bytes()))
        for sha in doomed - synced - elsewhere:
            self.seen.pop(sha, None)

    def sync(self, c: StackClient) -> str:
        return _short(c.sync())

    def step(self, step: int) -> str | None:
        rng = self.rng
        c = rng.choice(self.clients)
        other = self.clients[1 - self.clients.index(c)]
        roll = rng.random()
        if roll < 0.55:
            return self.user_op(c)
        if roll < 0.80:
            return f"{c.name}: sync -> {self.sync(c)}"
        if roll < 0.85:
            c.restart()
            return f"{c.name}: restart"
        if roll < 0.91:
            c.faults.rate = rng.choice((0.0, 0.1, 0.25, 0.5))
            return f"{c.name}: fault rate {c.faults.rate}"
        if roll < 0.95:
            n = rng.randrange(1, 8)
            c.faults.crash_at = c.faults.calls + n
            try:
                outcome = self.sync(c)
            except SimulatedCrash as crash:
                outcome = f"crashed after {crash}"
            c.faults.crash_at = None
            c.restart()
            return f"{c.name}: sync, killed at call {n} -> {outcome}; restart"
        # a race: at the n-th remote call of this sync, the other client syncs or this user edits
        n = rng.randrange(1, 6)
        if rng.random() < 0.5:
            label = f"{other.name} syncs"

            def race() -> None:
                self.log.append(f"    (race) {other.name}: sync -> {self.sync(other)}")

        else:
            label = f"{c.name}'s user acts"

            def race() -> None:
                self.log.append(f"    (race) {self.user_op(c)}")

        c.faults.hook_at, c.faults.hook = c.faults.calls + n, race
        outcome = self.sync(c)
        c.faults.hook_at = c.faults.hook = None
        return f"{c.name}: sync, {label} at call {n} -> {outcome}"

    def settle(self) -> None:
        """Faults off; everyone syncs until a full pass changes nothing."""
        for c in self.clients:
            c.faults.clear()
        for attempt in range(6):
            reports = [self.sync(c) for c in self.clients]
            self.log.append(f"settle {attempt}: {reports}")
            quiet = [c.sync() for c in self.clients]
            if all(isinstance(r, SyncReport) and r.quiet and r.rounds == 1 for r in quiet):
                return
        raise AssertionError(f"no convergence after 6 passes: {[c.sync() for c in self.clients]}")

    # ---- the checks ---------------------------------------------------------------------------

    def server(self) -> tuple[dict[str, bytes], set[str], set[str]]:
        """The server's tree under Docs (downloaded), and the SHA-256s and ETags of every
        version it still has (live or in its trash)."""
        api = self.clients[0].svc.api
        live = list(api.list_files(f"{REMOTE}/"))
        tree = {}
        for f in live:
            response = requests.get(api.download_url(f.file_id), timeout=60)
            response.raise_for_status()
            tree[f.path.removeprefix(f"{REMOTE}/")] = response.content
        trashed = [f for f in api.list_trash() if f.path.startswith(f"{REMOTE}/")]
        kept, etags = set(), set()
        for f in live + trashed:
            for v in api.list_versions(f.file_id):
                if v.sha256:
                    kept.add(v.sha256)
                etags.add(v.etag.strip('"'))
        return tree, kept, etags

    def check(self) -> None:
        a, b = self.clients
        server_tree, server_kept, server_etags = self.server()
        tree_a, tree_b = a.tree(), b.tree()
        assert tree_a == tree_b, _diff("laptop", tree_a, "desktop", tree_b)
        assert tree_a == server_tree, _diff("laptop", tree_a, "server", server_tree)
        for c in self.clients:
            leftovers = set(c.tree(with_ignored=True)) - set(tree_a)
            assert not leftovers, f"{c.name} left temp files: {sorted(leftovers)}"
            assert c.base_paths() == set(tree_a), f"{c.name}'s index disagrees with its folder"
        kept = set(server_kept)
        for c in self.clients:
            kept.update(_sha(d) for d in c.tree().values())
            kept.update(_sha(d) for d in c.trashed())
        lost = {
            sha: where
            for sha, where in self.seen.items()
            if sha not in kept and not self.etags[sha] & server_etags
        }
        assert not lost, "contents lost (first seen at): " + ", ".join(sorted(lost.values()))


def _short(report: SyncReport | str) -> str:
    if isinstance(report, str):
        return report
    failures = ", ".join(f"{type(f.action).__name__}:{f.outcome.value}" for f in report.failures)
    return f"{report.rounds} rounds, quiet={report.quiet}" + (f", {failures}" if failures else "")


def _diff(na: str, a: dict[str, bytes], nb: str, b: dict[str, bytes]) -> str:
    lines = [f"{na} != {nb}:"]
    for rel in sorted(set(a) | set(b)):
        if a.get(rel) != b.get(rel):
            da, db = a.get(rel), b.get(rel)
            lines.append(
                f"  {rel}: {na}={_sha(da)[:10] if da is not None else '-'} "
                f"{nb}={_sha(db)[:10] if db is not None else '-'}"
            )
    return "\n".join(lines)


@pytest.fixture
def soak_run(stack: RunningStack, tmp_path: Path) -> Iterator[Callable[[int], Run]]:
    runs: list[Run] = []

    def make(seed: int) -> Run:
        runs.append(Run(seed, stack, tmp_path))
        return runs[-1]

    yield make
    for r in runs:
        r.close()


@pytest.mark.parametrize("seed", _seeds())
def test_random_two_client_sync_on_the_stack(seed: int, soak_run: Callable[[int], Run]) -> None:
    run = soak_run(seed)
    step = 0
    try:
        for step in range(STEPS):
            run.step_no = step
            done = run.step(step)
            if done:
                run.log.append(f"{step:3}. {done}")
        step = run.step_no = STEPS
        run.settle()
        run.check()
    except BaseException as exc:
        where = f"at step {step}" if step < STEPS else "after the last step"
        ops = "\n".join(run.log)
        replay = f"SYNC_SEED={seed} pytest tests/integration/test_sync_random_stack.py"
        raise AssertionError(
            f"seed {seed} failed {where} (replay: {replay}): {type(exc).__name__}: {exc}\n"
            f"operations:\n{ops}"
        ) from exc


def test_fault_wrapper_injects_both_kinds_of_failure() -> None:
    """The fault injector itself: with rate 1 every call fails, before or after it ran."""
    ran: list[int] = []
    faults = Faults(rate=1.0)
    remote = FaultyRemote(None, faults, random.Random(1))  # type: ignore[arg-type]
    outcomes = set()
    for n in range(20):
        with contextlib.suppress(NetworkError):
            remote._call("changes", functools.partial(ran.append, n))
        outcomes.add("after" if ran and ran[-1] == n else "before")
    assert outcomes == {"before", "after"} and faults.injected == 20
    faults.clear()
    hits: list[int] = []
    faults.hook_at, faults.hook = faults.calls + 2, lambda: hits.append(faults.calls)
    for _ in range(4):
        remote._call("changes", lambda: None)
    assert hits == [22]  # once, at the second call
