"""``filevault trash``, ``trash purge`` and ``trash empty`` against the local stack."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.helpers import upload_bytes
from tests.integration.stack import RunningStack
from tests.integration.test_cli import run
from tests.integration.test_cli_files import signed_in_cli


def test_trash_purge_and_empty(stack: RunningStack, tmp_path: Path) -> None:
    home, svc = signed_in_cli(stack, tmp_path, "tess")
    upload_bytes(svc, "a/one.txt", b"one")
    upload_bytes(svc, "a/two.txt", b"two!")
    upload_bytes(svc, "a/three.txt", b"three")
    live = upload_bytes(svc, "live.txt", b"live")
    for path in ("a/one.txt", "a/two.txt", "a/three.txt"):
        assert run(["rm", path], home, stack).returncode == 0
    listed = json.loads(run(["trash", "--json"], home, stack).stdout)
    assert sorted(f["path"] for f in listed) == ["a/one.txt", "a/three.txt", "a/two.txt"]
    assert "a/two.txt" in run(["trash"], home, stack).stdout

    out = run(["trash", "purge", "a/one.txt", "--json"], home, stack)
    assert out.returncode == 0, out.stderr
    assert [(p["path"], p["released_bytes"]) for p in json.loads(out.stdout)] == [("a/one.txt", 3)]
    out = run(["trash", "purge", "a/two.txt"], home, stack)
    assert out.stdout.strip() == "deleted a/two.txt for good (4 B freed)"

    # Not in the trash: by path, not found (7); a live file's id, a conflict (8).
    missing = run(["trash", "purge", "live.txt", "a/three.txt"], home, stack)
    assert missing.returncode == 7 and "nothing named 'live.txt' in the trash" in missing.stderr
    live_id = run(["trash", "purge", live.file_id], home, stack)
    assert live_id.returncode == 8 and "not in the trash" in live_id.stderr
    assert [f.path for f in svc.trash()] == ["a/three.txt"]  # nothing else went

    # Without a terminal, emptying needs --yes.
    refused = run(["trash", "empty"], home, stack, "y\n")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert [f.path for f in svc.trash()] == ["a/three.txt"]

    out = run(["trash", "empty", "--yes", "--json"], home, stack)
    assert out.returncode == 0, out.stderr
    emptied = json.loads(out.stdout)
    assert [p["path"] for p in emptied["purged"]] == ["a/three.txt"]
    assert emptied["released_bytes"] == 5
    assert run(["trash"], home, stack).stdout.strip() == "(the trash is empty)"
    assert svc.whoami().account.used_bytes == len(b"live")
    again = run(["trash", "empty", "--yes"], home, stack)
    assert again.stdout.strip() == "deleted 0 files for good, 0 B freed"
