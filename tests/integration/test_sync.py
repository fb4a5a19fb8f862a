"""Two-way sync on the real local stack: two clients of one user, through the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.stack import MiB, RunningStack
from tests.integration.test_cli import run


def _client(
    stack: RunningStack, tmp_path: Path, name: str, user: str
) -> tuple[Path, Path, dict[str, str]]:
    home = tmp_path / name
    folder = tmp_path / f"{name}-Docs"
    # The OS trash (freedesktop.org spec) lives under $XDG_DATA_HOME.
    env = {"XDG_DATA_HOME": str(tmp_path / f"{name}-data")}
    login = run(["login", "-u", user, "--password-stdin"], home, stack, "Correct-horse1\n", **env)
    assert login.returncode == 0, login.stderr
    added = run(["sync", "add", str(folder), "--remote", "Docs", "--json"], home, stack, **env)
    assert added.returncode == 0, added.stderr
    return home, folder, env


def _sync(
    stack: RunningStack, home: Path, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    return run(["sync", "run", "--once", *extra], home, stack, **env)


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_clients_converge_renames_move_no_bytes_and_conflicts_keep_both(
    stack: RunningStack, tmp_path: Path
) -> None:
    stack.add_user("sync-ann", "Correct-horse1")
    a_home, a, a_env = _client(stack, tmp_path, "laptop", "sync-ann")
    b_home, b, b_env = _client(stack, tmp_path, "desktop", "sync-ann")

    (a / "notes").mkdir()
    (a / "notes" / "todo.txt").write_text("buy milk")
    (a / "big.bin").write_bytes(os.urandom(3 * MiB + 17))  # multipart on this stack
    (a / "notes" / "draft.txt.swp").write_text("editor temp file: never synced")
    first = _sync(stack, a_home, a_env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert _sync(stack, b_home, b_env).returncode == 0
    assert _tree(b) == {k: v for k, v in _tree(a).items() if not k.endswith(".swp")}

    # A rename on one side is a rename on the other: same file id, no new version.
    before = json.loads(run(["ls", "Docs/notes", "--json"], a_home, stack, **a_env).stdout)
    (a / "notes" / "todo.txt").rename(a / "notes" / "today.txt")
    assert _sync(stack, a_home, a_env).returncode == 0
    after = json.loads(run(["ls", "Docs/notes", "--json"], a_home, stack, **a_env).stdout)
    assert [e["file"]["file_id"] for e in after] == [e["file"]["file_id"] for e in before]
    assert [e["file"]["version_id"] for e in after] == [e["file"]["version_id"] for e in before]
    assert _sync(stack, b_home, b_env).returncode == 0
    assert (b / "notes" / "today.txt").read_text() == "buy milk"
    assert not (b / "notes" / "todo.txt").exists()

    # Both edit the same file before syncing: both versions survive.
    (a / "notes" / "today.txt").write_text("buy oat milk")
    (b / "notes" / "today.txt").write_text("buy bread")
    assert _sync(stack, a_home, a_env).returncode == 0
    assert _sync(stack, b_home, b_env).returncode == 0
    assert _sync(stack, a_home, a_env).returncode == 0
    notes_a = {k: v for k, v in _tree(a / "notes").items() if not k.endswith(".swp")}
    assert notes_a == _tree(b / "notes")
    assert sorted(notes_a.values()) == [b"buy bread", b"buy oat milk"]
    assert any("conflicted copy" in name for name in notes_a)

    status = run(["sync", "status", "--json"], a_home, stack, **a_env)
    [state] = json.loads(status.stdout)
    assert state["files"] == 3 and state["state"] == "idle" and not state["paused"]


def test_deletes_are_recoverable_on_both_sides(stack: RunningStack, tmp_path: Path) -> None:
    stack.add_user("sync-bo", "Correct-horse1")
    a_home, a, a_env = _client(stack, tmp_path, "one", "sync-bo")
    b_home, b, b_env = _client(stack, tmp_path, "two", "sync-bo")
    (a / "keep.txt").write_text("keep")
    (a / "old.txt").write_text("delete me later")
    assert _sync(stack, a_home, a_env).returncode == 0
    assert _sync(stack, b_home, b_env).returncode == 0

    (b / "old.txt").unlink()  # deleted on B: goes to the server's trash
    assert _sync(stack, b_home, b_env).returncode == 0
    trash = json.loads(run(["trash", "--json"], b_home, stack, **b_env).stdout)
    assert [t["path"] for t in trash] == ["Docs/old.txt"]
    assert _sync(stack, a_home, a_env).returncode == 0  # ... and from A into the OS trash
    assert not (a / "old.txt").exists()
    trashed = Path(a_env["XDG_DATA_HOME"]) / "Trash" / "files" / "old.txt"
    assert trashed.read_text() == "delete me later"
    assert (a / "keep.txt").read_text() == "keep"


def test_remote_change_reaches_a_running_client_within_seconds(
    stack: RunningStack, tmp_path: Path
) -> None:
    stack.add_user("sync-cy", "Correct-horse1")
    a_home, a, a_env = _client(stack, tmp_path, "writer", "sync-cy")
    b_home, b, b_env = _client(stack, tmp_path, "watcher", "sync-cy")
    environ = {
        **os.environ,
        "FILEVAULT_HOME": str(b_home),
        "FILEVAULT_STACK_DIR": str(stack.data_dir),
        **b_env,
    }
    watcher = subprocess.Popen(
        [sys.executable, "-m", "filevault_desktop", "sync", "run"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(b.iterdir()) and watcher.poll() is None:
            (a / "hello.txt").write_text("hi from the writer")
            assert _sync(stack, a_home, a_env).returncode == 0
            saved = time.monotonic()
            while time.monotonic() < saved + 10 and not (b / "hello.txt").exists():
                time.sleep(0.1)
            break
        latency = time.monotonic() - saved
        assert (b / "hello.txt").read_text() == "hi from the writer"
        assert latency < 5, f"remote change took {latency:.1f} s to arrive"
        # And a local change on the running client goes up on its own.
        (b / "reply.txt").write_text("hello back")
        end = time.monotonic() + 10
        while time.monotonic() < end:
            listed = run(["ls", "Docs", "--json"], a_home, stack, **a_env)
            if "Docs/reply.txt" in listed.stdout:
                break
            time.sleep(0.2)
        assert "Docs/reply.txt" in listed.stdout
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, _ = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, out


def test_kill_9_mid_sync_then_restart_converges_without_duplicates(
    stack: RunningStack, tmp_path: Path
) -> None:
    stack.add_user("sync-di", "Correct-horse1")
    home, folder, env = _client(stack, tmp_path, "crashy", "sync-di")
    for n in range(60):
        (folder / f"f{n:02d}.txt").write_text(f"file {n}" * 100)
    (folder / "big.bin").write_bytes(os.urandom(6 * MiB))
    environ = {
        **os.environ,
        "FILEVAULT_HOME": str(home),
        "FILEVAULT_STACK_DIR": str(stack.data_dir),
        **env,
    }
    victim = subprocess.Popen(
        [sys.executable, "-m", "filevault_desktop", "sync", "run", "--once"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2.5)  # somewhere in the middle of uploading
    victim.kill()
    victim.wait()
    again = _sync(stack, home, env)
    assert again.returncode == 0, again.stdout + again.stderr
    listed = json.loads(run(["ls", "Docs", "--json"], home, stack, **env).stdout)
    names = sorted(e["name"] for e in listed)
    assert names == sorted([f"f{n:02d}.txt" for n in range(60)] + ["big.bin"])
    assert sorted(p.name for p in folder.iterdir()) == names  # no conflicted copies, no temps
