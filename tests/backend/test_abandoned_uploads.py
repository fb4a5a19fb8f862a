"""Upload sessions abandoned by their client: the daily job deletes them with their bytes.

A session that expired while pending refers to bytes no version refers to (a version takes
its session from pending to completed in the same transaction), and DynamoDB's TTL would
drop only the record. The sweep runs in the scheduled purge (``trash.purge_expired``).
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from backend.data import keys
from backend.logic import trash, uploads
from backend.logic.uploads import SESSION_SWEEP_GRACE_S
from tests.backend.conftest import (
    Api,
    Clock,
    put_bytes,
    put_first_part,
    sort_keys,
    upload_file,
)

DAY_S = 24 * 3600


def _start(api: Api, path: str, data: bytes) -> dict[str, Any]:
    status, up, _ = api.call("POST", "/uploads", {"path": path, "size": len(data)})
    assert status == 201, up
    up["_sub"] = api.claims["sub"]
    put_bytes(api.services, up, data)
    return up


def _complete(api: Api, up: dict[str, Any], parts: list[Any] | None = None) -> tuple[int, Any]:
    status, body, _ = api.call(
        "POST",
        "x",
        {"parts": parts or []},
        route="/uploads/{upload_id}/complete",
        params={"upload_id": up["upload_id"]},
    )
    return status, body


def _objects(api: Api) -> list[str]:
    s3 = api.services.uploads._s3
    out = s3.list_objects_v2(Bucket="uploads", Prefix=f"users/{api.claims['sub']}/")
    return sorted(o["Key"] for o in out.get("Contents", []))


def _multipart_uploads(api: Api) -> list[str]:
    out = api.services.uploads._s3.list_multipart_uploads(Bucket="uploads")
    return [u["UploadId"] for u in out.get("Uploads", [])]


def test_expired_pending_sessions_are_deleted_with_their_bytes(alice: Api, clock: Clock) -> None:
    kept = upload_file(alice, "kept.txt", b"kept")  # completed: its session stays as it is
    single = _start(alice, "single.bin", b"abandoned")
    big = b"m" * 5000  # over single_put_max: a multipart upload, one part sent
    status, multi, _ = alice.call("POST", "/uploads", {"path": "multi.bin", "size": len(big)})
    assert status == 201 and multi["mode"] == "multipart", multi
    put_first_part(alice, multi, big)
    ttl_s = alice.services.config.upload_session_ttl_s
    clock.now += DAY_S
    fresh = _start(alice, "fresh.bin", b"still in time")

    clock.now += ttl_s - DAY_S  # the first sessions' expiry, not past it
    assert trash.purge_expired(alice.services).abandoned_uploads == 0
    clock.now += 1
    run = trash.purge_expired(alice.services)

    assert run.abandoned_uploads == 2 and run.users == 1
    assert alice.services.store.upload("sub-alice", single["upload_id"]) is None
    assert alice.services.store.upload("sub-alice", multi["upload_id"]) is None
    assert _multipart_uploads(alice) == []
    fresh_record = alice.services.store.upload("sub-alice", fresh["upload_id"])
    assert fresh_record is not None
    assert _objects(alice) == sorted(
        [
            keys.blob_key("sub-alice", kept["file_id"], kept["version_id"]),
            fresh_record.blob_key,
        ]
    )
    assert _complete(alice, single)[0] == 404  # the client is told to start again
    status, done = _complete(alice, fresh)
    assert status == 200, done
    assert trash.purge_expired(alice.services).abandoned_uploads == 0


def test_a_completion_the_sweep_overtakes_fails_instead_of_recording_missing_bytes(
    alice: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The completion checked the bytes just before the sweep deleted them with the session,
    and commits after it."""
    up = _start(alice, "late.bin", b"late bytes")
    clock.now += alice.services.config.upload_session_ttl_s + 1
    check_bytes = uploads.stored_etag
    swept: list[int] = []

    def check_then_sweep(*args: Any) -> str:
        etag = check_bytes(*args)
        swept.append(trash.purge_expired(alice.services).abandoned_uploads)
        return etag

    monkeypatch.setattr(uploads, "stored_etag", check_then_sweep)
    status, body = _complete(alice, up)
    assert swept == [1]
    assert status == 409, body
    _, page, _ = alice.call("GET", "/files")
    assert page["items"] == []
    assert _objects(alice) == []


def test_the_ttl_leaves_the_sweep_a_week_to_find_a_session(alice: Api) -> None:
    up = _start(alice, "a.bin", b"abc")
    item = alice.services.store._get(keys.upload("sub-alice", up["upload_id"]))
    assert item is not None
    record = alice.services.store.upload("sub-alice", up["upload_id"])
    assert record is not None
    assert int(item["ttl"]["N"]) == record.expires_at // 1000 + SESSION_SWEEP_GRACE_S


def test_bytes_a_failure_left_behind_are_deleted_by_the_next_run(
    alice: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    up = _start(alice, "left.bin", b"left behind")
    clock.now += alice.services.config.upload_session_ttl_s + 1
    with monkeypatch.context() as patch:
        patch.setattr(alice.services.uploads, "delete", _refuse_delete)
        trash.purge_expired(alice.services)  # the session goes, its bytes stay: logged
    assert alice.services.store.upload("sub-alice", up["upload_id"]) is None
    assert len(_objects(alice)) == 1
    assert _markers(alice) == [f"DROP#{up['upload_id']}"]

    trash.purge_expired(alice.services)
    assert _objects(alice) == [] and _markers(alice) == []


def test_an_abort_whose_byte_deletion_fails_is_finished_by_the_daily_job(
    alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    up = _start(alice, "aborted.bin", b"abort me")
    with monkeypatch.context() as patch:
        patch.setattr(alice.services.uploads, "delete", _refuse_delete)
        status, _, _ = alice.call(
            "DELETE", "x", route="/uploads/{upload_id}", params={"upload_id": up["upload_id"]}
        )
        assert status == 204  # aborted: the bytes will follow
    assert alice.services.store.upload("sub-alice", up["upload_id"]) is None
    assert _markers(alice) == [f"DROP#{up['upload_id']}"]
    trash.purge_expired(alice.services)  # the next run, whenever it comes
    assert _objects(alice) == [] and _markers(alice) == []


def test_a_drop_that_fails_again_leaves_the_users_other_drops_and_sessions_to_go_on(
    alice: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ups = [_start(alice, f"aborted{n}.bin", b"abort me") for n in range(3)]
    with monkeypatch.context() as patch:
        patch.setattr(alice.services.uploads, "delete", _refuse_delete)
        for up in ups:
            route, params = "/uploads/{upload_id}", {"upload_id": up["upload_id"]}
            assert alice.call("DELETE", "x", route=route, params=params)[0] == 204
    stuck = _markers(alice)[1]  # neither the first nor the last the scan meets
    marker = alice.services.store._get(keys.ItemKey(keys.user_pk("sub-alice"), stuck))
    assert marker is not None
    stuck_blob = marker["blob_key"]["S"]
    abandoned = _start(alice, "abandoned.bin", b"never completed")
    clock.now += alice.services.config.upload_session_ttl_s + 1
    delete = alice.services.uploads.delete

    def refuse_one(key: str) -> None:
        if key == stuck_blob:
            _refuse_delete(key)
        delete(key)

    with monkeypatch.context() as patch:
        patch.setattr(alice.services.uploads, "delete", refuse_one)
        trash.purge_expired(alice.services)
    assert _markers(alice) == [stuck]
    assert alice.services.store.upload("sub-alice", abandoned["upload_id"]) is None
    assert _objects(alice) == [stuck_blob]


def _refuse_delete(key: str) -> None:
    raise ClientError({"Error": {"Code": "InternalError", "Message": "later"}}, "DeleteObject")


def _markers(api: Api) -> list[str]:
    return sort_keys(api, "DROP#")
