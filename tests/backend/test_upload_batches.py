"""Batched initiate/complete of small uploads: one round trip each way, items independent."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from backend.data import keys
from backend.data.records import Profile
from backend.logic import uploads as uploads_logic
from tests.backend.conftest import Api, put_bytes, upload_file


def _initiate(api: Api, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    status, out, _ = api.call("POST", "/upload-batches", {"files": files})
    assert status == 200, out
    return list(out["items"])


def _complete(api: Api, uploads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    status, out, _ = api.call("POST", "/upload-batches/complete", {"uploads": uploads})
    assert status == 200, out
    return list(out["items"])


def _put(api: Api, ticket: dict[str, Any], data: bytes) -> None:
    put_bytes(api.services, {**ticket, "_sub": api.claims["sub"]}, data)


def test_a_batch_uploads_many_files_with_a_gapless_feed(alice: Api) -> None:
    contents = {f"many/f{i:02d}.txt": f"file {i}".encode() for i in range(45)}  # 3 transactions
    items = _initiate(alice, [{"path": p, "size": len(d)} for p, d in contents.items()])
    assert all("upload" in i and i["upload"]["mode"] == "single" for i in items)
    for item, data in zip(items, contents.values(), strict=True):
        _put(alice, item["upload"], data)
    done = _complete(
        alice,
        [
            {"upload_id": i["upload"]["upload_id"], "sha256": hashlib.sha256(d).hexdigest()}
            for i, d in zip(items, contents.values(), strict=True)
        ],
    )
    assert [d["file"]["path"] for d in done] == list(contents)
    assert done[3]["file"]["sha256"] == hashlib.sha256(b"file 3").hexdigest()
    _, feed, _ = alice.call("GET", "/changes", query={"limit": "100"})
    assert [c["seq"] for c in feed["changes"]] == list(range(1, 46))
    assert [c["path"] for c in feed["changes"]] == list(contents)
    assert [d["file"]["change_seq"] for d in done] == list(range(1, 46))
    _, me, _ = alice.call("GET", "/me")
    assert me["used_bytes"] == sum(len(d) for d in contents.values())
    # Completing again answers the same files (a retried request after a lost answer).
    again = _complete(alice, [{"upload_id": i["upload"]["upload_id"]} for i in items[:2]])
    assert [a["file"]["version_id"] for a in again] == [d["file"]["version_id"] for d in done[:2]]
    assert [a["file"]["change_seq"] for a in again] == [1, 2]


def test_items_fail_on_their_own(alice: Api) -> None:
    upload_file(alice, "taken.txt", b"already here")
    items = _initiate(
        alice,
        [
            {"path": "ok.txt", "size": 2},
            {"path": "bad/../name", "size": 2},
            {"path": "ok.txt", "size": 2},
            {"path": "taken.txt", "size": 2, "expected_version": None},
            {"path": "huge.bin", "size": 5000},  # above this config's 4096-byte single PUT
            {"path": "too-much.bin", "size": 1_000_000},
            "not an object",
        ],
    )
    assert "upload" in items[0]
    errors = [(i["error"]["status"], i["error"]["code"]) for i in items[1:]]
    assert errors == [
        (400, "validation_error"),
        (400, "duplicate"),
        (409, "conflict"),
        (400, "too_large_for_batch"),
        (400, "too_large_for_batch"),
        (400, "validation_error"),
    ]
    done = _complete(
        alice,
        [
            {"upload_id": items[0]["upload"]["upload_id"]},
            {"upload_id": "u_" + "0" * 24},
            {"upload_id": "nonsense"},
        ],
    )
    # Nothing was PUT for ok.txt: refused, and the unknown ids too.
    assert [d["error"]["code"] for d in done] == ["not_uploaded", "not_found", "validation_error"]


def test_quota_counts_the_batch_itself(alice: Api) -> None:
    alice.services.store.put_plain(keys.profile("sub-alice"), Profile("sub-alice", 10_000, 0, 0))
    items = _initiate(alice, [{"path": f"q/{n}.bin", "size": 3000} for n in range(4)])
    assert ["upload" in i for i in items] == [True, True, True, False]
    assert items[3]["error"] == {
        "status": 413,
        "code": "quota_exceeded",
        "message": "uploading 3000 bytes would exceed your quota",
        "details": {"quota_bytes": 10_000, "used_bytes": 9000},
    }


def test_a_conflict_fails_only_its_item_and_drops_its_bytes(alice: Api) -> None:
    items = _initiate(alice, [{"path": f"race/{n}.txt", "size": 3} for n in range(3)])
    for item in items:
        _put(alice, item["upload"], b"abc")
    # Someone else wins the race for race/1.txt before the batch completes.
    upload_file(alice, "race/1.txt", b"winner")
    done = _complete(alice, [{"upload_id": i["upload"]["upload_id"]} for i in items])
    assert "file" in done[0] and "file" in done[2]
    assert done[1]["error"]["status"] == 409
    _, page, _ = alice.call("GET", "/files", query={"prefix": "race/"})
    sizes = {f["path"]: f["size"] for f in page["items"]}
    assert sizes == {"race/0.txt": 3, "race/1.txt": 6, "race/2.txt": 3}
    loser = alice.services.store.upload("sub-alice", items[1]["upload"]["upload_id"])
    assert loser is None
    blob = keys.blob_key(
        "sub-alice", items[1]["upload"]["file_id"], items[1]["upload"]["version_id"]
    )
    assert alice.services.uploads.head(blob) is None


def test_download_urls_come_in_batches_and_items_fail_alone(alice: Api) -> None:
    kept = upload_file(alice, "d/kept.txt", b"kept")
    binned = upload_file(alice, "d/binned.txt", b"binned")
    alice.call(
        "DELETE",
        f"/files/{binned['file_id']}",
        route="/files/{file_id}",
        params={"file_id": binned["file_id"]},
    )
    status, out, _ = alice.call(
        "POST",
        "/download-batches",
        {"file_ids": [kept["file_id"], binned["file_id"], "f_" + "0" * 24]},
    )
    assert status == 200
    first, trashed, unknown = out["items"]
    assert first["download"]["file"]["file_id"] == kept["file_id"]
    assert "Signature=" in first["download"]["url"]
    assert trashed["error"]["code"] == "in_trash" and unknown["error"]["status"] == 404
    status, _, _ = alice.call("POST", "/download-batches", {"file_ids": ["../etc"]})
    assert status == 400


def _complete_one(api: Api, upload_id: str) -> tuple[int, dict[str, Any]]:
    status, out, _ = api.call(
        "POST",
        f"/uploads/{upload_id}/complete",
        {"parts": []},
        route="/uploads/{upload_id}/complete",
        params={"upload_id": upload_id},
    )
    return status, out


def _racing_completions(alice: Api, monkeypatch: pytest.MonkeyPatch, path: str) -> list[Any]:
    """Two completions of one upload (a client retrying a request whose answer was slow):
    the second read the session while the first was still committing."""
    status, up, _ = alice.call("POST", "/uploads", {"path": path, "size": 5})
    assert status == 201, up
    up["_sub"] = alice.claims["sub"]
    put_bytes(alice.services, up, b"bytes")
    stale = alice.services.store.upload("sub-alice", up["upload_id"])
    first = _complete_one(alice, up["upload_id"])
    monkeypatch.setattr(uploads_logic, "_pending", lambda svc, caller, upload_id: stale)
    second = _complete_one(alice, up["upload_id"])
    return [first, second]


@pytest.mark.parametrize("existing", [False, True], ids=["new file", "new version"])
def test_a_completion_racing_another_of_the_same_upload_keeps_its_bytes(
    alice: Api, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    if existing:
        upload_file(alice, "race.txt", b"old")
    (s1, done), (s2, again) = _racing_completions(alice, monkeypatch, "race.txt")
    assert s1 == 200 and s2 == 200, again
    assert again["version_id"] == done["version_id"]
    blob = keys.blob_key("sub-alice", done["file_id"], done["version_id"])
    s3 = alice.services.uploads._s3
    assert s3.get_object(Bucket="uploads", Key=blob)["Body"].read() == b"bytes"


def test_an_abort_racing_a_completion_leaves_the_completed_file_whole(
    alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The abort read the session while it was pending; the completion committed first."""
    status, up, _ = alice.call("POST", "/uploads", {"path": "keep.txt", "size": 5})
    assert status == 201, up
    up["_sub"] = alice.claims["sub"]
    put_bytes(alice.services, up, b"bytes")
    stale = alice.services.store.upload("sub-alice", up["upload_id"])
    status, done = _complete_one(alice, up["upload_id"])
    assert status == 200, done
    monkeypatch.setattr(uploads_logic, "_pending", lambda svc, caller, upload_id: stale)
    status, refused, _ = alice.call(
        "DELETE",
        "x",
        route="/uploads/{upload_id}",
        params={"upload_id": up["upload_id"]},
    )
    assert status == 409, refused
    blob = keys.blob_key("sub-alice", done["file_id"], done["version_id"])
    s3 = alice.services.uploads._s3
    assert s3.get_object(Bucket="uploads", Key=blob)["Body"].read() == b"bytes"
