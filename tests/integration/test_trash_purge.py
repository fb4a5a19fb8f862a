"""Deleting trash for good against the real local stack: on request (the desktop facade over
HTTP) and by the stack's scheduled purge job (a stack whose jobs run every second)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.config import DEFAULT_TRASH_RETENTION_DAYS
from filevault_desktop.errors import ConflictError, NotFoundError
from filevault_desktop.service import FileVaultService
from tests.integration.helpers import upload_bytes
from tests.integration.stack import RunningStack, client, start_stack

pytestmark = pytest.mark.integration
MakeUser = Callable[..., tuple[FileVaultService, str, str]]
DAY_MS = 24 * 3600 * 1000


def _objects(stack: RunningStack, prefix: str) -> list[str]:
    s3 = stack.aws_client("s3")
    out = s3.list_objects_v2(Bucket=stack.profile["upload_bucket"], Prefix=prefix)
    return [o["Key"] for o in out.get("Contents", [])]


def _blobs(stack: RunningStack, svc: FileVaultService, file_id: str) -> list[str]:
    return _objects(stack, f"users/{svc.whoami().account.user_id}/blobs/{file_id}/")


def test_delete_forever_one_file_then_the_whole_trash(
    stack: RunningStack, make_user: MakeUser
) -> None:
    alice, _, _ = make_user()
    bob, _, _ = make_user()
    first = upload_bytes(alice, "docs/report.txt", b"first draft")
    upload_bytes(alice, "docs/report.txt", b"second draft!", expected_version=first.version_id)
    kept = upload_bytes(alice, "docs/kept.txt", b"kept")
    others = [upload_bytes(alice, f"junk/{i}.bin", b"j" * (i + 1)) for i in range(5)]
    bobs = upload_bytes(bob, "docs/report.txt", b"bob's report")
    bob.remove("docs/report.txt")
    assert len(_blobs(stack, alice, first.file_id)) == 2
    alice.remove("docs/report.txt")
    used = alice.whoami().account.used_bytes
    assert used == 11 + 13 + 4 + sum(range(1, 6))

    # A live file is refused, by path (not in the trash) and by id (the server's 409).
    with pytest.raises(NotFoundError):
        alice.purge_from_trash("docs/kept.txt")
    with pytest.raises(ConflictError) as refused:
        alice.purge_from_trash(kept.file_id)
    assert refused.value.code == "not_in_trash"

    (purged,) = alice.purge_from_trash("docs/report.txt")
    assert (purged.file_id, purged.released_bytes) == (first.file_id, 11 + 13)
    assert alice.whoami().account.used_bytes == used - 24
    assert alice.trash() == []
    assert _blobs(stack, alice, first.file_id) == []
    with pytest.raises(NotFoundError):
        alice.purge_from_trash(first.file_id)

    for f in others:
        alice.remove(f.path)
    emptied = alice.empty_trash()
    assert sorted(p.file_id for p in emptied.purged) == sorted(f.file_id for f in others)
    assert emptied.released_bytes == sum(range(1, 6))
    assert alice.trash() == [] and alice.whoami().account.used_bytes == 4
    assert all(_blobs(stack, alice, f.file_id) == [] for f in others)
    assert [e.path for e in alice.listing("", recursive=True)] == ["docs/kept.txt"]
    # Nothing of bob's was touched.
    assert [f.file_id for f in bob.trash()] == [bobs.file_id]
    assert bob.whoami().account.used_bytes == len(b"bob's report")
    assert len(_blobs(stack, bob, bobs.file_id)) == 1


# ------------------------------------------------------------------ the scheduled job
@pytest.fixture(scope="module")
def fast_jobs_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("jobs"), extra_args=("--job-interval", "1"))
    yield running
    running.stop()


def _table(stack: RunningStack) -> str:
    (name,) = [
        t for t in stack.aws_client("dynamodb").list_tables()["TableNames"] if "metadata" in t
    ]
    return str(name)


def _backdate(stack: RunningStack, user_id: str, file_id: str, days: float) -> None:
    """Make the file look trashed ``days`` ago (its file and trash-index items)."""
    db = stack.aws_client("dynamodb")
    table = _table(stack)
    key: dict[str, Any] = {"pk": {"S": f"U#{user_id}"}, "sk": {"S": f"F#{file_id}"}}
    item = db.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    when = int(item["trashed_at"]["N"]) - int(days * DAY_MS)
    for sk in (f"F#{file_id}", f"T#{file_id}"):
        db.update_item(
            TableName=table,
            Key={"pk": {"S": f"U#{user_id}"}, "sk": {"S": sk}},
            UpdateExpression="SET trashed_at = :t",
            ExpressionAttributeValues={":t": {"N": str(when)}},
        )


def test_the_stack_purges_trash_older_than_the_retention(
    fast_jobs_stack: RunningStack, tmp_path: Path
) -> None:
    stack = fast_jobs_stack
    stack.add_user("olga", "Correct-horse1")
    svc = client(stack, tmp_path / "olga")
    svc.login("olga", "Correct-horse1")
    user_id = svc.whoami().account.user_id
    expired = upload_bytes(svc, "old/expired.txt", b"expired bytes")
    recent = upload_bytes(svc, "old/recent.txt", b"recent")
    live = upload_bytes(svc, "live.txt", b"live")
    svc.remove(expired.path)
    svc.remove(recent.path)
    _backdate(stack, user_id, expired.file_id, DEFAULT_TRASH_RETENTION_DAYS + 0.5)
    _backdate(stack, user_id, recent.file_id, DEFAULT_TRASH_RETENTION_DAYS - 0.5)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if [f.file_id for f in svc.trash()] == [recent.file_id]:
            break
        time.sleep(0.5)
    assert [f.file_id for f in svc.trash()] == [recent.file_id]
    assert svc.whoami().account.used_bytes == len(b"recent") + len(b"live")
    assert _blobs(stack, svc, expired.file_id) == []
    assert len(_blobs(stack, svc, recent.file_id)) == 1
    assert [e.file.file_id for e in svc.listing("") if e.file] == [live.file_id]
    time.sleep(2)  # more runs change nothing for what is within the retention
    assert [f.file_id for f in svc.trash()] == [recent.file_id]
