"""Small files with their bytes in the answer: one call downloads up to a hundred."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from backend.api.http import FRAMED_BATCH_TYPE
from backend.logic import download_batches, processing
from tests.backend.conftest import Api, sort_keys, upload_file


def _inline(api: Api, file_ids: list[str]) -> list[dict[str, Any]]:
    status, out, _ = api.call("POST", "/download-batches/inline", {"file_ids": file_ids})
    assert status == 200, out
    return list(out["items"])


def _activity_count(api: Api) -> int:
    return len(sort_keys(api, "A#"))


def test_files_come_with_their_bytes_and_records_and_items_fail_alone(alice: Api, bob: Api) -> None:
    contents = {f"d/f{i}.txt": f"file {i}".encode() * (i + 1) for i in range(5)}
    done = [upload_file(alice, p, d) for p, d in contents.items()]
    empty = upload_file(alice, "d/empty.txt", b"")
    binned = upload_file(alice, "d/binned.txt", b"binned")
    alice.call(
        "DELETE",
        f"/files/{binned['file_id']}",
        route="/files/{file_id}",
        params={"file_id": binned["file_id"]},
    )
    theirs = upload_file(bob, "secret.txt", b"bob's")
    before = _activity_count(alice)
    ids = [d["file_id"] for d in done] + [empty["file_id"], binned["file_id"], theirs["file_id"]]
    items = _inline(alice, ids)
    for item, d, data in zip(items, done, contents.values(), strict=False):
        assert item["download"]["file"]["file_id"] == d["file_id"]
        assert (
            item["download"]["file"]["etag"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
        )
        assert base64.b64decode(item["download"]["content"]) == data
    assert items[5]["download"]["content"] == "" and items[5]["download"]["file"]["size"] == 0
    assert (items[6]["error"]["status"], items[6]["error"]["code"]) == (404, "in_trash")
    assert items[7]["error"]["status"] == 404  # another user's file is not found, not shown
    # A batch writes one activity item for the files it served, as the URL path does.
    assert _activity_count(alice) == before + 1
    status, _, _ = alice.call("POST", "/download-batches/inline", {"file_ids": ["../etc"]})
    assert status == 400


def test_the_answer_carries_at_most_its_budget_and_the_rest_go_on_their_own(
    alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download_batches, "INLINE_BATCH_BYTES", 8)
    monkeypatch.setattr(download_batches, "INLINE_FILE_MAX", 6)
    files = [upload_file(alice, f"b/{n}.txt", b"x" * n) for n in (4, 7, 5, 1)]
    items = _inline(alice, [f["file_id"] for f in files])
    assert base64.b64decode(items[0]["download"]["content"]) == b"xxxx"
    assert items[1]["error"]["code"] == "too_large_for_batch"  # over the per-file limit
    assert items[2]["error"]["code"] == "too_large_for_batch"  # 4 + 5 > 8: past the budget
    assert base64.b64decode(items[3]["download"]["content"]) == b"x"


def test_missing_bytes_and_quarantined_files_are_refused(alice: Api) -> None:
    svc = alice.services
    lost = upload_file(alice, "lost.txt", b"gone soon")
    record = svc.store.file("sub-alice", lost["file_id"])
    assert record is not None
    svc.uploads._s3.delete_object(Bucket=svc.uploads.bucket, Key=record.blob_key)
    blocked = upload_file(alice, "setup.txt", b"MZ\x90\x00" + b"\x00" * 100)
    blocked_record = svc.store.file("sub-alice", blocked["file_id"])
    assert blocked_record is not None
    job = processing.validate(
        svc, {"bucket": svc.uploads.bucket, "key": blocked_record.blob_key, "size": 104}
    )
    processing.quarantine(svc, job)
    items = _inline(alice, [lost["file_id"], blocked["file_id"]])
    assert (items[0]["error"]["status"], items[0]["error"]["code"]) == (410, "content_missing")
    assert (items[1]["error"]["status"], items[1]["error"]["code"]) == (403, "quarantined")


def test_the_framed_answer_carries_the_same_items_with_the_contents_as_they_are(
    alice: Api,
) -> None:
    contents = [b"", bytes(range(256)) * 8, b"line one\nline two\n", b"\xff" * 3]
    done = [upload_file(alice, f"bin/{n}.dat", data) for n, data in enumerate(contents)]
    ids = [d["file_id"] for d in done] + ["f_" + "0" * 24]
    as_json = _inline(alice, ids)
    status, body, headers = alice.call(
        "POST",
        "/download-batches/inline",
        {"file_ids": ids},
        headers={"accept": f"{FRAMED_BATCH_TYPE}, application/json"},
    )
    assert status == 200 and headers["content-type"] == FRAMED_BATCH_TYPE
    line, _, rest = body.partition(b"\n")
    items = json.loads(line)["items"]
    offset = 0
    for framed, plain, data in zip(items, as_json, [*contents, None], strict=True):
        if data is None:
            assert framed == plain and plain["error"]["status"] == 404
            continue
        assert framed["download"]["file"] == plain["download"]["file"]
        length = framed["download"]["length"]
        assert (
            rest[offset : offset + length] == data == base64.b64decode(plain["download"]["content"])
        )
        offset += length
    assert offset == len(rest)
