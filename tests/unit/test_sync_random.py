"""Randomized two-client sync (in the spirit of CanopyCheck): random edits, deletes, renames and
folder moves on both sides, interleaved with syncs, restarts and network faults; then everyone
goes quiet and (1) both folders, both indexes and the server hold the same tree, and (2) every
content a sync found in a folder is still somewhere after it: a folder, a conflicted copy, a
trash or a server version. (A user overwriting their own unsynced edit is not the engine's loss.)

Hypothesis prints the failing operation list, which replays the case. CI runs a fixed
(derandomized) set; ``SYNC_SOAK_EXAMPLES=5000 pytest tests/unit/test_sync_random.py`` soaks with
fresh random cases.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filevault_desktop.sync.testing import FakeRemote
from tests.unit.sync_fakes import Client, CrashAfter, SimulatedCrash, sync_all

FILES = ("a.txt", "b.txt", "c.txt")
DIRS = ("", "d1", "d2", "d1/d3")
PATHS = tuple(f"{d}/{f}" if d else f for d in DIRS for f in FILES)

REMOTE_OPS = ("upload", "download", "move", "trash")

client = st.sampled_from([0, 1])
op = st.one_of(
    st.tuples(st.just("write"), client, st.sampled_from(PATHS)),
    st.tuples(st.just("delete"), client, st.integers(0, 20)),
    st.tuples(st.just("move"), client, st.integers(0, 20), st.sampled_from(PATHS)),
    st.tuples(st.just("movedir"), client, st.sampled_from(DIRS[1:]), st.sampled_from(DIRS[1:])),
    st.tuples(st.just("sync"), client),
    st.tuples(st.just("restart"), client),
    st.tuples(st.just("fault"), st.sampled_from(REMOTE_OPS)),
    st.tuples(st.just("crash"), client, st.sampled_from(REMOTE_OPS)),
    st.tuples(st.just("web"), st.sampled_from(PATHS)),  # a third client writes on the server
    st.tuples(st.just("race"), st.sampled_from(PATHS)),  # ... while an upload is in flight
)


def run_ops(ops: list[tuple[object, ...]]) -> None:
    counter = itertools.count()
    with tempfile.TemporaryDirectory() as tmp:
        remote = FakeRemote(page_size=7)
        clients = [Client(Path(tmp), "A", remote), Client(Path(tmp), "B", remote)]

        def kept() -> set[bytes]:
            found = set(remote.all_contents())
            for c in clients:
                found.update(c.tree().values())
                found.update(c.trashed())
            return found

        def sync(*syncing: Client, rounds: int = 0) -> None:
            seen = {data for c in clients for data in c.tree().values()}
            if rounds:
                sync_all(*syncing, rounds=rounds)
            else:
                syncing[0].sync()
            lost = seen - kept()
            assert not lost, f"lost contents: {lost}"

        for step in ops:
            kind = step[0]
            if kind == "fault":
                remote.fail_next(str(step[1]))
                continue
            if kind in ("web", "race"):
                path = str(step[1])

                def web_write(_: Path | None = None, path: str = path) -> None:
                    remote.during_upload = None
                    live = remote.tree()
                    if not any(path.startswith(f + "/") or f.startswith(path + "/") for f in live):
                        remote.put(path, f"web content {next(counter)}".encode())

                if kind == "web":
                    web_write()
                else:
                    remote.during_upload = web_write
                continue
            c = clients[int(step[1])]  # type: ignore[call-overload]
            files = sorted(c.tree())
            if kind == "write":
                path = str(step[2])
                if not any(path.startswith(f + "/") for f in files):
                    c.write(path, f"content {next(counter)}")
            elif kind == "delete" and files:
                c.delete(files[int(step[2]) % len(files)])  # type: ignore[call-overload]
            elif kind == "move" and files:
                src, dst = files[int(step[2]) % len(files)], str(step[3])  # type: ignore[call-overload]
                if dst not in files and not any(dst.startswith(f + "/") for f in files):
                    c.move(src, dst)
            elif kind == "movedir":
                src, dst = str(step[2]), str(step[3])
                if (
                    (c.root / src).is_dir()
                    and not (c.root / dst).exists()
                    and not dst.startswith(src + "/")
                ):
                    c.move(src, dst)
            elif kind == "sync":
                sync(c)
            elif kind == "restart":
                c.restart()
            elif kind == "crash":  # killed right after a call reached the server
                c.restart(CrashAfter(remote, str(step[2])))
                with contextlib.suppress(SimulatedCrash):
                    sync(c)
                c.restart()

        remote.clear_faults()
        remote.during_upload = None
        sync(*clients, rounds=6)

        a, b = clients
        assert a.tree() == b.tree() == remote.tree()
        for c in clients:
            assert c.base_paths() == set(c.tree()), c.name


SOAK = int(os.environ.get("SYNC_SOAK_EXAMPLES", "0"))


@settings(
    max_examples=SOAK or 150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=not SOAK,
    database=None,
)
@given(st.lists(op, max_size=30))
def test_random_operations_converge_without_losing_content(ops: list[tuple[object, ...]]) -> None:
    run_ops(ops)
