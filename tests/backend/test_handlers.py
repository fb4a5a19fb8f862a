from __future__ import annotations

from typing import Any

import pytest

from tests.backend.conftest import Api, Clock, put_bytes, put_first_part, upload_file


def test_small_upload_then_list_and_get(alice: Api) -> None:
    done = upload_file(alice, "docs/a.txt", b"hello", content_type="text/plain")
    assert done["path"] == "docs/a.txt" and done["size"] == 5 and done["state"] == "active"
    status, page, _ = alice.call("GET", "/files", query={"prefix": "docs/"})
    assert status == 200
    assert [f["path"] for f in page["items"]] == ["docs/a.txt"]
    status, meta, _ = alice.call(
        "GET",
        f"/files/{done['file_id']}",
        route="/files/{file_id}",
        params={"file_id": done["file_id"]},
    )
    assert status == 200 and meta["content_type"] == "text/plain"


def test_multipart_upload_verifies_parts(alice: Api) -> None:
    data = bytes(range(256)) * 40  # 10,240 bytes: 3 parts of 4096 with part size 4096
    status, up, _ = alice.call("POST", "/uploads", {"path": "big.bin", "size": len(data)})
    assert status == 201 and up["mode"] == "multipart" and up["part_count"] >= 2
    up["_sub"] = "sub-alice"
    parts = put_bytes(alice.services, up, data)
    parts[0]["etag"] = "0" * 32
    status, err, _ = alice.call(
        "POST",
        f"/uploads/{up['upload_id']}/complete",
        {"parts": parts},
        route="/uploads/{upload_id}/complete",
        params={"upload_id": up["upload_id"]},
    )
    assert status == 400 and err["code"] == "part_mismatch"


def test_multipart_missing_part_is_refused(alice: Api) -> None:
    data = b"x" * 10_000
    status, up, _ = alice.call("POST", "/uploads", {"path": "m.bin", "size": len(data)})
    up["_sub"] = "sub-alice"
    put_first_part(alice, up, data)
    status, err, _ = alice.call(
        "POST",
        f"/uploads/{up['upload_id']}/complete",
        {},
        route="/uploads/{upload_id}/complete",
        params={"upload_id": up["upload_id"]},
    )
    assert status == 400 and err["code"] == "parts_missing"


@pytest.mark.parametrize(
    "path",
    [
        "../etc/passwd",
        "/abs",
        "a//b",
        "a/./b",
        "bad\x00name",
        "tab\there",
        "x" * 1025,
        "a\\b",
        "C:/x",
        "",
        "dir/",
    ],
)
def test_bad_paths_are_400(alice: Api, path: str) -> None:
    status, err, _ = alice.call("POST", "/uploads", {"path": path, "size": 1})
    assert status == 400, err
    assert err["code"] == "validation_error" and err["message"]


def test_nfc_normalization(alice: Api) -> None:
    nfd = "Cafe\u0301.txt"
    done = upload_file(alice, nfd, b"x")
    assert done["path"] == "Caf\u00e9.txt"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1,2]",
        '{"path": "a", "size": -1}',
        '{"path": "a", "size": "1"}',
        '{"path": "a", "size": 1, "extra": true}',
        '{"path": 5, "size": 1}',
        '{"path": "a", "size": 1, "content_type": "nope"}',
        '{"size": 1}',
    ],
)
def test_bad_bodies_are_400(alice: Api, body: str) -> None:
    status, err, _ = alice.call("POST", "/uploads", raw_body=body)
    assert status == 400, err
    assert set(err) >= {"code", "message"}


def test_quota_enforced_before_upload(alice: Api) -> None:
    status, err, _ = alice.call("POST", "/uploads", {"path": "huge", "size": 2_000_000})
    assert status == 413 and err["code"] == "quota_exceeded"


def test_expected_version_conflicts(alice: Api) -> None:
    first = upload_file(alice, "c.txt", b"one")
    status, err, _ = alice.call(
        "POST", "/uploads", {"path": "c.txt", "size": 3, "expected_version": None}
    )
    assert status == 409
    status, err, _ = alice.call(
        "POST", "/uploads", {"path": "c.txt", "size": 3, "expected_version": "vnope"}
    )
    assert status == 409 and err["details"]["current_version"] == first["version_id"]
    second = upload_file(alice, "c.txt", b"two", expected_version=first["version_id"])
    assert second["file_id"] == first["file_id"] and second["version_id"] != first["version_id"]


def test_racing_uploads_to_one_path_loser_gets_409(alice: Api) -> None:
    ups = []
    for _ in range(2):
        status, up, _ = alice.call("POST", "/uploads", {"path": "race.txt", "size": 3})
        up["_sub"] = "sub-alice"
        put_bytes(alice.services, up, b"abc")
        ups.append(up)
    results = []
    for up in ups:
        status, _body, _ = alice.call(
            "POST",
            f"/uploads/{up['upload_id']}/complete",
            {},
            route="/uploads/{upload_id}/complete",
            params={"upload_id": up["upload_id"]},
        )
        results.append(status)
    assert results == [200, 409]


def _fid(api: Api, path: str, data: bytes = b"data") -> str:
    return str(upload_file(api, path, data)["file_id"])


def test_move_is_metadata_only_and_conflicts(alice: Api) -> None:
    a = _fid(alice, "a.txt")
    _fid(alice, "b.txt")
    status, moved, _ = alice.call(
        "PATCH",
        f"/files/{a}",
        {"path": "dir/a2.txt"},
        route="/files/{file_id}",
        params={"file_id": a},
    )
    assert status == 200 and moved["path"] == "dir/a2.txt"
    status, _err, _ = alice.call(
        "PATCH", f"/files/{a}", {"path": "b.txt"}, route="/files/{file_id}", params={"file_id": a}
    )
    assert status == 409
    record = alice.services.store.file("sub-alice", a)
    assert record is not None and record.blob_key.endswith(record.version_id)


def test_trash_restore_and_versions(alice: Api, clock: Clock) -> None:
    first = upload_file(alice, "v.txt", b"one")
    clock.now += 1
    second = upload_file(alice, "v.txt", b"two!")
    fid = first["file_id"]
    p = {"file_id": fid}
    status, versions, _ = alice.call(
        "GET", f"/files/{fid}/versions", route="/files/{file_id}/versions", params=p
    )
    assert [v["version_id"] for v in versions["items"]] == [
        second["version_id"],
        first["version_id"],
    ]
    assert versions["items"][0]["current"] is True
    status, restored, _ = alice.call(
        "POST",
        "x",
        route="/files/{file_id}/versions/{version_id}/restore",
        params={"file_id": fid, "version_id": first["version_id"]},
    )
    assert status == 200 and restored["size"] == 3
    status, trashed, _ = alice.call("DELETE", "x", route="/files/{file_id}", params=p)
    assert status == 200 and trashed["state"] == "trashed"
    status, page, _ = alice.call("GET", "/files")
    assert page["items"] == []
    status, trash, _ = alice.call("GET", "/trash")
    assert [f["file_id"] for f in trash["items"]] == [fid]
    status, back, _ = alice.call("POST", "x", route="/trash/{file_id}/restore", params=p)
    assert status == 200 and back["state"] == "active" and back["path"] == "v.txt"


def test_changes_feed_is_ordered_with_epoch(alice: Api) -> None:
    status, start, _ = alice.call("GET", "/changes", query={"cursor": "latest"})
    assert start["epoch"] == "e1"
    a = _fid(alice, "one.txt")
    alice.call("PATCH", "x", {"path": "two.txt"}, route="/files/{file_id}", params={"file_id": a})
    alice.call("DELETE", "x", route="/files/{file_id}", params={"file_id": a})
    status, page, _ = alice.call("GET", "/changes", query={"cursor": start["cursor"]})
    assert status == 200
    assert [c["op"] for c in page["changes"]] == ["upsert", "move", "delete"]
    assert [c["seq"] for c in page["changes"]] == [1, 2, 3]
    _status, empty, _ = alice.call("GET", "/changes", query={"cursor": page["cursor"]})
    assert empty["changes"] == [] and empty["cursor"] == page["cursor"]


def test_each_write_answers_with_the_seq_of_its_change(alice: Api, clock: Clock) -> None:
    """A client moves its cursor past its own writes by these seqs: each must be the seq of
    the change the write made, whose content is what the answer says."""
    first = upload_file(alice, "w.txt", b"one")
    fid, p = first["file_id"], {"file_id": first["file_id"]}
    upload_file(alice, "other.txt", b"another file's change in between")
    clock.now += 1
    second = upload_file(alice, "w.txt", b"two!", expected_version=first["version_id"])
    _, moved, _ = alice.call("PATCH", "x", {"path": "m/w.txt"}, route="/files/{file_id}", params=p)
    _, restored, _ = alice.call(
        "POST",
        "x",
        route="/files/{file_id}/versions/{version_id}/restore",
        params={**p, "version_id": first["version_id"]},
    )
    _, trashed, _ = alice.call("DELETE", "x", route="/files/{file_id}", params=p)
    _, back, _ = alice.call("POST", "x", route="/trash/{file_id}/restore", params=p)
    answers = [first, second, moved, restored, trashed, back]
    assert [a["change_seq"] for a in answers] == [1, 3, 4, 5, 6, 7]
    _, feed, _ = alice.call("GET", "/changes")
    changes = {c["seq"]: c for c in feed["changes"]}
    for answer in answers:
        change = changes[answer["change_seq"]]
        assert (change["file_id"], change["path"], change["version_id"]) == (
            fid,
            answer["path"],
            answer["version_id"],
        )
    # A read says which change made the file what it is; a no-op move makes none.
    _, same, _ = alice.call("PATCH", "x", {"path": "m/w.txt"}, route="/files/{file_id}", params=p)
    _, got, _ = alice.call("GET", "x", route="/files/{file_id}", params=p)
    assert same["change_seq"] == got["change_seq"] == 7


def _share(api: Api, fid: str, **extra: Any) -> dict[str, Any]:
    status, share, _ = api.call("POST", "/shares", {"file_id": fid, **extra})
    assert status == 201, share
    return share


def _resolve(
    api: Api, share: dict[str, Any], password: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    token = share["url"].rsplit("/", 1)[1]
    headers = {"x-share-password": password} if password else {}
    return api.call(
        "GET",
        f"/s/{token}",
        route="/s/{token}",
        params={"token": token},
        headers=headers,
        auth=False,
    )


def test_share_lifecycle(alice: Api, clock: Clock) -> None:
    fid = _fid(alice, "s.txt")
    share = _share(alice, fid)
    assert share["state"] == "active"
    status, _, headers = _resolve(alice, share)
    assert status == 302 and "location" in headers
    status, _, _ = alice.call(
        "DELETE", "x", route="/shares/{share_id}", params={"share_id": share["share_id"]}
    )
    assert status == 200
    status, err, _ = _resolve(alice, share)
    assert status == 410 and err["code"] == "share_revoked"
    expiring = _share(alice, fid, expires_in_seconds=60)
    clock.now += 61
    status, err, _ = _resolve(alice, expiring)
    assert status == 410 and err["code"] == "share_expired"


def test_share_password_and_limit(alice: Api) -> None:
    fid = _fid(alice, "p.txt")
    share = _share(alice, fid, password="s3cret!", max_downloads=1)
    assert _resolve(alice, share)[0] == 401
    assert _resolve(alice, share, "wrong")[0] == 403
    assert _resolve(alice, share, "s3cret!")[0] == 302
    status, err, _ = _resolve(alice, share, "s3cret!")
    assert status == 410 and err["code"] == "download_limit_reached"


def test_share_expiry_bounds(alice: Api) -> None:
    fid = _fid(alice, "e.txt")
    status, _err, _ = alice.call(
        "POST", "/shares", {"file_id": fid, "expires_in_seconds": 8 * 24 * 3600}
    )
    assert status == 400
    share = _share(alice, fid)
    assert share["expires_at"] > share["created_at"]


def test_me_reports_usage(alice: Api) -> None:
    _fid(alice, "u.txt", b"12345")
    status, me, _ = alice.call("GET", "/me")
    assert status == 200 and me["used_bytes"] == 5 and me["username"] == "alice"


def test_unauthenticated_is_401(alice: Api) -> None:
    status, err, _ = alice.call("GET", "/files", auth=False)
    assert status == 401 and err["code"] == "unauthorized"


def test_cross_user_isolation(alice: Api, bob: Api) -> None:
    done = upload_file(alice, "secret.txt", b"alice only")
    fid = done["file_id"]
    share = _share(alice, fid)
    p = {"file_id": fid}
    checks = [
        ("GET", "/files/{file_id}", p, None),
        ("GET", "/files/{file_id}/download", p, None),
        ("GET", "/files/{file_id}/versions", p, None),
        ("PATCH", "/files/{file_id}", p, {"path": "stolen.txt"}),
        ("DELETE", "/files/{file_id}", p, None),
        (
            "POST",
            "/files/{file_id}/versions/{version_id}/restore",
            {**p, "version_id": done["version_id"]},
            None,
        ),
        ("POST", "/trash/{file_id}/restore", p, None),
        ("DELETE", "/shares/{share_id}", {"share_id": share["share_id"]}, None),
    ]
    for method, route, params, body in checks:
        status, err, _ = bob.call(method, "x", body, route=route, params=params)
        assert status == 404, (route, status, err)
    status, err, _ = bob.call("POST", "/shares", {"file_id": fid})
    assert status == 404
    status, page, _ = bob.call("GET", "/files")
    assert page["items"] == []
    status, shares, _ = bob.call("GET", "/shares")
    assert shares["items"] == []
    # Bob cannot complete or abort Alice's upload.
    status, up, _ = alice.call("POST", "/uploads", {"path": "pending.txt", "size": 3})
    u = {"upload_id": up["upload_id"]}
    assert bob.call("POST", "x", {}, route="/uploads/{upload_id}/complete", params=u)[0] == 404
    assert (
        bob.call("POST", "x", {"part_numbers": [1]}, route="/uploads/{upload_id}/parts", params=u)[
            0
        ]
        == 404
    )
    assert bob.call("DELETE", "x", route="/uploads/{upload_id}", params=u)[0] == 404
    # And Alice's file is untouched.
    status, meta, _ = alice.call("GET", "x", route="/files/{file_id}", params=p)
    assert meta["path"] == "secret.txt" and meta["state"] == "active"


def test_complete_is_idempotent(alice: Api) -> None:
    status, up, _ = alice.call("POST", "/uploads", {"path": "i.txt", "size": 2})
    assert status == 201
    up["_sub"] = "sub-alice"
    put_bytes(alice.services, up, b"hi")
    route, params = "/uploads/{upload_id}/complete", {"upload_id": up["upload_id"]}
    first = alice.call("POST", "x", {}, route=route, params=params)
    again = alice.call("POST", "x", {}, route=route, params=params)
    assert first[0] == again[0] == 200 and first[1]["version_id"] == again[1]["version_id"]
    _status, me, _ = alice.call("GET", "/me")
    assert me["used_bytes"] == 2


def test_size_mismatch_is_refused(alice: Api) -> None:
    status, up, _ = alice.call("POST", "/uploads", {"path": "short.txt", "size": 10})
    up["_sub"] = "sub-alice"
    put_bytes(alice.services, up, b"short")
    status, err, _ = alice.call(
        "POST",
        "x",
        {},
        route="/uploads/{upload_id}/complete",
        params={"upload_id": up["upload_id"]},
    )
    assert status == 400 and err["code"] == "size_mismatch"


def test_full_length_paths_work(alice: Api) -> None:
    longest = "/".join(["é" * 127] * 4) + "/" + "x" * 3  # 4*254 + 4 + 3 = 1023 bytes
    longest += "y"
    assert len(longest.encode()) == 1024
    done = upload_file(alice, longest, b"deep")
    status, page, _ = alice.call("GET", "/files", query={"prefix": longest[:600]})
    assert status == 200 and [f["path"] for f in page["items"]] == [longest]
    other = longest[:-1] + "z"
    status, moved, _ = alice.call(
        "PATCH", "x", {"path": other}, route="/files/{file_id}", params={"file_id": done["file_id"]}
    )
    assert status == 200 and moved["path"] == other


def test_changes_cursor_ahead_of_server_is_410(alice: Api) -> None:
    _fid(alice, "one.txt")
    status, err, _ = alice.call("GET", "/changes", query={"cursor": "99"})
    assert status == 410 and err["code"] == "cursor_reset"
    assert err["details"]["current_cursor"] == "1"


def test_validation_messages_name_the_field(alice: Api) -> None:
    status, err, _ = alice.call("POST", "/uploads", {"path": "../x", "size": 1})
    assert status == 400 and err["message"].startswith("path:")


def test_upload_sessions_and_shares_carry_the_ttl_attribute(alice: Api) -> None:
    from backend import naming

    fid = _fid(alice, "ttl.txt")
    _share(alice, fid)
    status, _, _ = alice.call("POST", "/uploads", {"path": "pending.txt", "size": 1})
    assert status == 201
    items = alice.services.store._db.scan(TableName="meta")["Items"]
    by_kind = {i["sk"]["S"].split("#", 1)[0]: i for i in items if "#" in i["sk"]["S"]}
    for kind in ("UP", "S"):
        assert int(by_kind[kind][naming.TTL_ATTRIBUTE]["N"]) > 1_800_000_000


def _complete(api: Api, upload_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    status, out, _ = api.call(
        "POST",
        f"/uploads/{upload_id}/complete",
        body,
        route="/uploads/{upload_id}/complete",
        params={"upload_id": upload_id},
    )
    return status, out


def test_whole_file_sha256_is_kept_through_moves_and_the_feed(alice: Api) -> None:
    import hashlib

    data = b"content that sync compares by hash"
    digest = hashlib.sha256(data).hexdigest()
    _, up, _ = alice.call("POST", "/uploads", {"path": "h.txt", "size": len(data)})
    up["_sub"] = "sub-alice"
    put_bytes(alice.services, up, data)
    status, done = _complete(alice, up["upload_id"], {"sha256": digest})
    assert status == 200 and done["sha256"] == digest
    status, moved, _ = alice.call(
        "PATCH",
        f"/files/{done['file_id']}",
        {"path": "moved/h.txt"},
        route="/files/{file_id}",
        params={"file_id": done["file_id"]},
    )
    assert status == 200 and moved["sha256"] == digest
    _, feed, _ = alice.call("GET", "/changes")
    assert [c["sha256"] for c in feed["changes"]] == [digest, digest]
    status, _err = _complete(alice, up["upload_id"], {"sha256": "A" * 64})
    assert status == 400  # not hex: refused by validation, nothing changes
