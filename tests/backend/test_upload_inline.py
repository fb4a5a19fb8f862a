"""Small files with their bytes in the request: checked, stored and recorded in one call."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from backend.api.http import FRAMED_BATCH_TYPE
from backend.data import keys
from backend.data.records import Profile
from tests.backend.conftest import Api, upload_file


def _item(path: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "path": path,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content": base64.b64encode(data).decode("ascii"),
        **extra,
    }


def _inline(api: Api, files: list[Any]) -> list[dict[str, Any]]:
    status, out, _ = api.call("POST", "/upload-batches/inline", {"files": files})
    assert status == 200, out
    return list(out["items"])


def _stored(api: Api, file: dict[str, Any]) -> bytes:
    blob = keys.blob_key(api.claims["sub"], file["file_id"], file["version_id"])
    s3 = api.services.uploads._s3
    body: bytes = s3.get_object(Bucket=api.services.uploads.bucket, Key=blob)["Body"].read()
    return body


def test_files_are_stored_and_recorded_in_one_call_with_a_gapless_feed(alice: Api) -> None:
    contents = {f"in/f{i:02d}.txt": f"file {i}".encode() * (i + 1) for i in range(60)}
    done = _inline(alice, [_item(p, d) for p, d in contents.items()])  # 3 transactions
    assert [d["file"]["path"] for d in done] == list(contents)
    for d, data in zip(done, contents.values(), strict=True):
        assert d["file"]["size"] == len(data)
        assert d["file"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert d["file"]["etag"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
        assert _stored(alice, d["file"]) == data
    _, feed, _ = alice.call("GET", "/changes", query={"limit": "100"})
    assert [c["seq"] for c in feed["changes"]] == list(range(1, 61))
    assert [d["file"]["change_seq"] for d in done] == list(range(1, 61))
    _, me, _ = alice.call("GET", "/me")
    assert me["used_bytes"] == sum(len(d) for d in contents.values())
    # No upload session is written (nothing to expire or clean up).
    store = alice.services.store
    found = store._db.query(
        TableName=store._table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :up)",
        ExpressionAttributeValues={":pk": {"S": keys.user_pk("sub-alice")}, ":up": {"S": "UP#"}},
    )
    assert found["Items"] == []


def test_a_new_version_replaces_the_file_and_expected_versions_are_checked(alice: Api) -> None:
    first = upload_file(alice, "v.txt", b"one")
    done = _inline(
        alice,
        [
            _item("v.txt", b"two", expected_version=first["version_id"]),
            _item("w.txt", b"new", expected_version=None),
        ],
    )
    assert done[0]["file"]["file_id"] == first["file_id"]
    assert done[0]["file"]["version_id"] != first["version_id"]
    stale = _inline(alice, [_item("v.txt", b"three", expected_version=first["version_id"])])
    assert stale[0]["error"]["status"] == 409
    _, versions, _ = alice.call(
        "GET",
        f"/files/{first['file_id']}/versions",
        route="/files/{file_id}/versions",
        params={"file_id": first["file_id"]},
    )
    assert len(versions["items"]) == 2


def test_items_whose_bytes_differ_from_their_claims_fail_alone_and_store_nothing(
    alice: Api,
) -> None:
    good = _item("ok.txt", b"fine")
    wrong_sum = {**_item("sum.txt", b"abc"), "sha256": hashlib.sha256(b"abd").hexdigest()}
    wrong_size = {**_item("size.txt", b"abc"), "size": 4}
    not_base64 = {**_item("b64.txt", b"abc"), "content": "!!!!"}
    done = _inline(
        alice,
        [
            good,
            wrong_sum,
            wrong_size,
            not_base64,
            _item("bad/../name", b"x"),
            _item("ok.txt", b"again"),
            _item("big.bin", b"x" * 5000),  # above this config's 4096-byte single PUT
            "not an object",
        ],
    )
    assert "file" in done[0]
    assert [(d["error"]["status"], d["error"]["code"]) for d in done[1:]] == [
        (400, "checksum_mismatch"),
        (400, "size_mismatch"),
        (400, "invalid_content"),
        (400, "validation_error"),
        (400, "duplicate"),
        (400, "too_large_for_batch"),
        (400, "validation_error"),
    ]
    _, page, _ = alice.call("GET", "/files")
    assert [f["path"] for f in page["items"]] == ["ok.txt"]
    listed = alice.services.uploads._s3.list_objects_v2(
        Bucket=alice.services.uploads.bucket, Prefix="users/sub-alice/"
    )
    assert len(listed.get("Contents", [])) == 1  # only ok.txt's bytes were stored


def test_quota_counts_the_batch_itself_and_refuses_before_storing(alice: Api) -> None:
    alice.services.store.put_plain(keys.profile("sub-alice"), Profile("sub-alice", 10, 0, 0))
    done = _inline(alice, [_item(f"q/{n}.bin", b"four") for n in range(3)])
    assert ["file" in d for d in done] == [True, True, False]
    assert done[2]["error"]["code"] == "quota_exceeded"
    listed = alice.services.uploads._s3.list_objects_v2(
        Bucket=alice.services.uploads.bucket, Prefix="users/sub-alice/"
    )
    assert len(listed.get("Contents", [])) == 2


def test_bytes_stored_for_files_the_quota_then_refuses_are_deleted(
    alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer uses up the quota between the batch's check and its commit: the files
    fail, and the bytes already stored for them (referred to by nothing) are not left behind."""
    store, uploads = alice.services.store, alice.services.uploads
    store.put_plain(keys.profile("sub-alice"), Profile("sub-alice", 1000, 0, 0))
    put_bytes = uploads.put_bytes

    def put_then_someone_else_fills_the_quota(*args: Any, **kwargs: Any) -> str:
        etag = put_bytes(*args, **kwargs)
        store.put_plain(keys.profile("sub-alice"), Profile("sub-alice", 1000, 999, 0))
        return etag

    monkeypatch.setattr(uploads, "put_bytes", put_then_someone_else_fills_the_quota)
    done = _inline(alice, [_item(f"q/{n}.bin", b"four") for n in range(3)])
    assert [d["error"]["code"] for d in done] == ["quota_exceeded"] * 3
    listed = uploads._s3.list_objects_v2(Bucket=uploads.bucket, Prefix="users/sub-alice/")
    assert listed.get("Contents", []) == []

    def refuse(key: str) -> None:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "later"}}, "Delete")

    # Bytes that cannot be deleted now are not worth failing the batch for.
    monkeypatch.setattr(uploads, "delete", refuse)
    store.put_plain(keys.profile("sub-alice"), Profile("sub-alice", 1000, 0, 0))
    done = _inline(alice, [_item("q/late.bin", b"four")])
    assert done[0]["error"]["code"] == "quota_exceeded"


def test_a_batch_over_its_byte_limit_is_refused_whole(alice: Api) -> None:
    # 600 declared files of 4,000 bytes would be 2.4 MB: over 2 MiB, refused before any work.
    data = b"y" * 4000
    status, out, _ = alice.call(
        "POST",
        "/upload-batches/inline",
        {"files": [_item(f"l/{n}.bin", data) for n in range(100)] * 6},
    )
    assert status == 400  # more than 100 items
    files = [{**_item(f"l/{n}.bin", b""), "size": 30_000} for n in range(80)]
    status, out, _ = alice.call("POST", "/upload-batches/inline", {"files": files})
    assert status == 400 and out["code"] == "batch_too_large", out


def test_someone_else_writing_first_fails_only_that_item_and_drops_its_bytes(alice: Api) -> None:
    taken = upload_file(alice, "race.txt", b"winner")
    done = _inline(
        alice,
        [_item("a.txt", b"a"), _item("race.txt", b"loser", expected_version=None)],
    )
    assert "file" in done[0] and done[1]["error"]["status"] == 409
    _, page, _ = alice.call("GET", "/files")
    assert {f["path"]: f["version_id"] for f in page["items"]}["race.txt"] == taken["version_id"]


def _versions(api: Api, file_id: str) -> list[Any]:
    _, versions, _ = api.call(
        "GET",
        f"/files/{file_id}/versions",
        route="/files/{file_id}/versions",
        params={"file_id": file_id},
    )
    return list(versions["items"])


def test_a_retried_request_whose_answer_was_lost_changes_nothing(alice: Api) -> None:
    """The client's HTTP layer sends a request again when the connection drops before the
    answer: the files it carried already hold those bytes, so they are answered as they are
    (no second version, no conflict for a path that had to be free, no quota used twice)."""
    files = [
        _item("r/new.txt", b"new file", expected_version=None),
        _item("r/any.txt", b"any version"),
    ]
    first = _inline(alice, files)
    _, me_before, _ = alice.call("GET", "/me")
    _, feed_before, _ = alice.call("GET", "/changes", query={"limit": "100"})
    again = _inline(alice, files)
    assert [a["file"] for a in again] == [f["file"] for f in first]
    for done in first:
        assert len(_versions(alice, done["file"]["file_id"])) == 1
    _, me_after, _ = alice.call("GET", "/me")
    assert me_after["used_bytes"] == me_before["used_bytes"]
    _, feed_after, _ = alice.call("GET", "/changes", query={"limit": "100"})
    assert feed_after["changes"] == feed_before["changes"]


def test_only_the_same_bytes_of_a_live_file_are_taken_as_already_there(alice: Api) -> None:
    first = _inline(alice, [_item("s/a.txt", b"abc")])[0]["file"]
    # Same size, other bytes: a new version (and a stale expected version is still refused).
    changed = _inline(alice, [_item("s/a.txt", b"abd", expected_version=first["version_id"])])
    assert changed[0]["file"]["version_id"] != first["version_id"]
    stale = _inline(alice, [_item("s/a.txt", b"abe", expected_version=first["version_id"])])
    assert stale[0]["error"]["status"] == 409
    # Back to the first bytes while another version is current: a new version too.
    back = _inline(alice, [_item("s/a.txt", b"abc")])[0]["file"]
    assert back["version_id"] not in {first["version_id"], changed[0]["file"]["version_id"]}
    assert len(_versions(alice, first["file_id"])) == 3
    # A trashed file's bytes sent to its path: a new file, not the one in the trash.
    status, _, _ = alice.call(
        "DELETE",
        f"/files/{first['file_id']}",
        route="/files/{file_id}",
        params={"file_id": first["file_id"]},
    )
    assert status in {200, 204}
    revived = _inline(alice, [_item("s/a.txt", b"abc")])[0]["file"]
    assert revived["version_id"] != back["version_id"]


def test_a_file_that_holds_the_bytes_sent_is_still_checked_like_any_other(alice: Api) -> None:
    first = _inline(alice, [_item("c/a.txt", b"abc")])[0]["file"]
    # Declaring the current SHA-256 with other bytes: refused, not taken as unchanged.
    forged = _item("c/a.txt", b"abc") | {"content": base64.b64encode(b"xyz").decode("ascii")}
    refused = _inline(alice, [forged])
    assert refused[0]["error"]["code"] == "checksum_mismatch"
    # The same path twice in a batch: the second is a duplicate, even with unchanged bytes.
    twice = _inline(alice, [_item("c/a.txt", b"abc"), _item("c/a.txt", b"abc")])
    assert twice[1]["error"]["code"] == "duplicate"
    twice = _inline(alice, [_item("c/a.txt", b"abc"), _item("c/a.txt", b"new bytes")])
    assert twice[1]["error"]["code"] == "duplicate"
    assert _versions(alice, first["file_id"])[0]["sha256"] == hashlib.sha256(b"abc").hexdigest()


def _framed(api: Api, files: list[tuple[dict[str, Any], bytes]], extra: bytes = b"") -> Any:
    line = json.dumps({"files": [item for item, _ in files]}).encode()
    status, out, _ = api.call(
        "POST",
        "/upload-batches/inline",
        headers={"content-type": FRAMED_BATCH_TYPE},
        binary=b"".join([line, b"\n", *(data for _, data in files), extra]),
    )
    return status, out


def _meta(path: str, data: bytes, **extra: Any) -> tuple[dict[str, Any], bytes]:
    item = _item(path, data, **extra)
    del item["content"]
    return item, data


def test_a_framed_batch_is_checked_and_stored_as_a_json_one(alice: Api) -> None:
    every_byte = bytes(range(256)) * 4
    wrong_sum = _meta("sum.txt", b"abc")
    wrong_sum[0]["sha256"] = hashlib.sha256(b"abd").hexdigest()
    status, out = _framed(
        alice,
        [
            _meta("bin/all-bytes.dat", every_byte),
            _meta("bin/empty", b""),
            wrong_sum,
            _meta("bad/../name", b"skipped by its size"),
            _meta("bin/empty", b""),
            _meta("big.bin", b"x" * 5000),
            _meta('bin/"quoted" é.txt', b"last\n"),
        ],
    )
    assert status == 200, out
    done = out["items"]
    assert [d.get("error", {}).get("code") for d in done] == [
        None,
        None,
        "checksum_mismatch",
        "validation_error",
        "duplicate",
        "too_large_for_batch",
        None,
    ]
    assert _stored(alice, done[0]["file"]) == every_byte
    assert _stored(alice, done[1]["file"]) == b""
    assert _stored(alice, done[6]["file"]) == b"last\n"
    assert done[0]["file"]["sha256"] == hashlib.sha256(every_byte).hexdigest()


@pytest.mark.parametrize(
    ("files", "extra", "code"),
    [
        ([_meta("a.txt", b"abc")], b"x", "bad_framing"),  # more bytes than the sizes say
        ([({**_meta("a.txt", b"abc")[0], "size": 4}, b"abc")], b"", "bad_framing"),  # fewer
        ([({**_meta("a.txt", b"abc")[0], "size": "3"}, b"abc")], b"", "bad_framing"),
        ([({**_meta("a.txt", b"abc")[0], "size": -1}, b"")], b"", "bad_framing"),
    ],
)
def test_a_framed_body_whose_bytes_do_not_add_up_is_refused_whole(
    alice: Api, files: list[tuple[dict[str, Any], bytes]], extra: bytes, code: str
) -> None:
    status, out = _framed(alice, files, extra)
    assert (status, out["code"]) == (400, code)
    _, page, _ = alice.call("GET", "/files")
    assert page["items"] == []


def test_a_framed_body_without_its_json_line_is_refused(alice: Api) -> None:
    for body in (b'{"files": []}', b"not json\nabc", b"[]\n"):
        status, out, _ = alice.call(
            "POST",
            "/upload-batches/inline",
            headers={"content-type": FRAMED_BATCH_TYPE},
            binary=body,
        )
        assert status == 400, (body, out)
