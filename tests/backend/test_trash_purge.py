"""Deleting trashed files for good (backend/logic/trash.py): ``DELETE /trash/{file_id}``,
``POST /trash/empty`` and the scheduled purge of trash older than the retention period.

The upload and processed buckets are versioned here, as in AWS, so "every S3 version is
gone" is something a plain DeleteObject would fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from backend.config import BackendConfig
from backend.data import keys
from backend.data.blobs import BlobStore
from backend.data.records import FileRecord, PurgeRecord
from backend.logic import trash
from backend.logic.context import Caller, Services
from backend.workflows import runtime
from backend.workflows.steps import purge_trash
from tests.backend.conftest import Api, Clock, upload_file

ALICE, BOB = "sub-alice", "sub-bob"
DAY_S = 24 * 3600


@pytest.fixture(autouse=True)
def _one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto's in-process S3 is not thread-safe (listing versions while another thread deletes
    # one crashes it); the local stack's S3 and AWS are.
    monkeypatch.setattr(trash, "_CONCURRENCY", 1)


@pytest.fixture
def svc(services: Services) -> Services:
    s3 = services.uploads._s3
    s3.put_bucket_versioning(Bucket="uploads", VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket="processed")
    s3.put_bucket_versioning(Bucket="processed", VersioningConfiguration={"Status": "Enabled"})
    return dataclasses.replace(services, processed=BlobStore(s3, "processed"))


@pytest.fixture
def alice(svc: Services) -> Api:
    return Api(svc, ALICE, "alice")


@pytest.fixture
def bob(svc: Services) -> Api:
    return Api(svc, BOB, "bob")


def _p(file_id: str) -> dict[str, Any]:
    return {"route": "/trash/{file_id}", "params": {"file_id": file_id}}


def _trash(api: Api, file_id: str) -> dict[str, Any]:
    status, body, _ = api.call("DELETE", "x", route="/files/{file_id}", params={"file_id": file_id})
    assert status == 200, body
    return body


def _purge(api: Api, file_id: str) -> tuple[int, Any]:
    status, body, _ = api.call("DELETE", "x", **_p(file_id))
    return status, body


def _used(api: Api) -> int:
    status, me, _ = api.call("GET", "/me")
    assert status == 200
    return int(me["used_bytes"])


def _trash_ids(api: Api) -> list[str]:
    status, page, _ = api.call("GET", "/trash")
    assert status == 200
    return [f["file_id"] for f in page["items"]]


def _s3_versions(svc: Services, bucket: str, prefix: str) -> list[tuple[str, str]]:
    out = svc.uploads._s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    found = [*out.get("Versions", []), *out.get("DeleteMarkers", [])]
    return sorted((v["Key"], v["VersionId"]) for v in found)


def _items(svc: Services, user: str, prefix: str) -> list[str]:
    db = svc.store._db
    out = db.query(
        TableName="meta",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": keys.user_pk(user)}, ":p": {"S": prefix}},
    )
    return [item["sk"]["S"] for item in out["Items"]]


def _versioned_file(api: Api, clock: Clock, path: str) -> dict[str, Any]:
    """Two uploaded versions (3 + 5 bytes), an old version restored (shares bytes: counts
    nothing), a share link, a preview, and a second S3 version plus a delete marker of the
    first blob (what overwrites and lifecycle rules leave in a versioned bucket)."""
    first = upload_file(api, path, b"one")
    clock.now += 1
    second = upload_file(api, path, b"two!!")
    clock.now += 1
    file_id = first["file_id"]
    status, _, _ = api.call(
        "POST",
        "x",
        route="/files/{file_id}/versions/{version_id}/restore",
        params={"file_id": file_id, "version_id": first["version_id"]},
    )
    assert status == 200
    status, share, _ = api.call("POST", "/shares", {"file_id": file_id})
    assert status == 201, share
    svc = api.services
    user = api.claims["sub"]
    s3 = svc.uploads._s3
    blob = keys.blob_key(user, file_id, first["version_id"])
    s3.put_object(Bucket="uploads", Key=blob, Body=b"one")  # a second S3 version
    s3.put_object(
        Bucket="processed",
        Key=keys.preview_key(user, file_id, second["version_id"], "thumbnail"),
        Body=b"jpeg",
    )
    assert len(_s3_versions(svc, "uploads", keys.blob_prefix(user, file_id))) == 3
    return first


# ------------------------------------------------------------------ one file
def test_purge_deletes_records_releases_quota_and_every_s3_version(
    alice: Api, bob: Api, clock: Clock
) -> None:
    svc = alice.services
    doomed = _versioned_file(alice, clock, "docs/doomed.txt")["file_id"]
    kept = upload_file(alice, "docs/kept.txt", b"kept")
    bobs = upload_file(bob, "docs/doomed.txt", b"bob's")
    _trash(bob, bobs["file_id"])
    assert _used(alice) == 3 + 5 + 4
    _trash(alice, doomed)
    assert _used(alice) == 3 + 5 + 4  # the trash still counts
    status, feed, _ = alice.call("GET", "/changes")
    seq_before = feed["cursor"]

    status, body = _purge(alice, doomed)

    assert status == 200, body
    assert body == {"file_id": doomed, "path": "docs/doomed.txt", "released_bytes": 3 + 5}
    assert _used(alice) == 4
    assert _trash_ids(alice) == []
    for prefix in (f"F#{doomed}", f"T#{doomed}", f"V#{doomed}#", f"PURGE#{doomed}"):
        assert _items(svc, ALICE, prefix) == [], prefix
    status, _, _ = alice.call("GET", "x", route="/files/{file_id}", params={"file_id": doomed})
    assert status == 404
    status, shares, _ = alice.call("GET", "/shares")
    assert shares["items"] == []
    assert _s3_versions(svc, "uploads", keys.blob_prefix(ALICE, doomed)) == []
    assert _s3_versions(svc, "processed", keys.preview_prefix(ALICE, doomed)) == []
    # No change-feed entry: the trash already reported the delete.
    status, feed, _ = alice.call("GET", "/changes", query={"cursor": seq_before})
    assert feed["changes"] == [] and feed["cursor"] == seq_before
    # Everything else is untouched: alice's other file, and bob's trash under the same path.
    status, files, _ = alice.call("GET", "/files")
    assert [f["file_id"] for f in files["items"]] == [kept["file_id"]]
    kept_record = svc.store.file(ALICE, kept["file_id"])
    assert kept_record is not None and svc.uploads.head(kept_record.blob_key) is not None
    assert _trash_ids(bob) == [bobs["file_id"]] and _used(bob) == 5
    assert len(_s3_versions(svc, "uploads", keys.blob_prefix(BOB, bobs["file_id"]))) == 1


def test_only_files_in_the_callers_trash_can_be_purged(alice: Api, bob: Api) -> None:
    live = upload_file(alice, "live.txt", b"live")
    status, body = _purge(alice, live["file_id"])
    assert status == 409 and body["code"] == "not_in_trash"
    assert _used(alice) == 4 and alice.services.store.file(ALICE, live["file_id"]) is not None

    bobs = upload_file(bob, "bob.txt", b"bob")
    _trash(bob, bobs["file_id"])
    status, body = _purge(alice, bobs["file_id"])  # someone else's trash: not found
    assert status == 404 and body["code"] == "not_found"
    assert _trash_ids(bob) == [bobs["file_id"]]

    assert _purge(alice, "f_" + "0" * 24)[0] == 404
    assert _purge(alice, "not-an-id")[0] == 404


def test_a_repeated_purge_finishes_the_byte_deletion_then_answers_404(
    alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = alice.services
    done = upload_file(alice, "flaky.txt", b"flaky")
    _trash(alice, done["file_id"])
    prefix = keys.blob_prefix(ALICE, done["file_id"])

    def refuse(self: BlobStore, prefix: str) -> int:
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "DeleteObjects")

    with monkeypatch.context() as patch:
        patch.setattr(BlobStore, "delete_everything_under", refuse)
        status, body = _purge(alice, done["file_id"])
    # The records are gone and the quota released; the bytes and the marker are left.
    assert status == 200 and body["released_bytes"] == 5
    assert _used(alice) == 0 and _trash_ids(alice) == []
    assert _items(svc, ALICE, "PURGE#") == [f"PURGE#{done['file_id']}"]
    assert len(_s3_versions(svc, "uploads", prefix)) == 1

    status, body = _purge(alice, done["file_id"])
    assert status == 200 and body == {
        "file_id": done["file_id"],
        "path": "flaky.txt",
        "released_bytes": 0,
    }
    assert _s3_versions(svc, "uploads", prefix) == []
    assert _items(svc, ALICE, "PURGE#") == []
    assert _used(alice) == 0
    assert _purge(alice, done["file_id"])[0] == 404


def test_a_file_restored_meanwhile_is_not_purged(alice: Api, clock: Clock) -> None:
    svc = alice.services
    caller = Caller(ALICE, "alice")
    restored = upload_file(alice, "restored.txt", b"back")
    retrashed = upload_file(alice, "retrashed.txt", b"again")
    gone = upload_file(alice, "gone.txt", b"gone")
    for f in (restored, retrashed, gone):
        _trash(alice, f["file_id"])
    stale = {f["file_id"]: svc.store.file(ALICE, f["file_id"]) for f in (restored, retrashed)}
    p = {"file_id": restored["file_id"]}
    assert alice.call("POST", "x", route="/trash/{file_id}/restore", params=p)[0] == 200
    p = {"file_id": retrashed["file_id"]}
    assert alice.call("POST", "x", route="/trash/{file_id}/restore", params=p)[0] == 200
    clock.now += 5
    _trash(alice, retrashed["file_id"])  # in the trash again, but not as it was read
    records = [*stale.values(), svc.store.file(ALICE, gone["file_id"])]

    # All three in one group: the transaction fails, then each file is tried on its own.
    outcomes = trash._purge(svc, caller.user_id, [r for r in records if r is not None])

    assert [type(o).__name__ for o in outcomes] == ["Conflict", "Conflict", "Purged"]
    assert all(o.code == "not_in_trash" for o in outcomes[:2] if isinstance(o, Exception))
    assert _trash_ids(alice) == [retrashed["file_id"]]
    assert _used(alice) == len(b"back") + len(b"again")
    for f in (restored, retrashed):
        record = svc.store.file(ALICE, f["file_id"])
        assert record is not None and svc.uploads.head(record.blob_key) is not None


def test_a_file_with_more_versions_than_a_transaction_holds(
    alice: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trash, "MAX_TRANSACTION_ITEMS", 6)
    svc = alice.services
    sizes = list(range(1, 12))
    for size in sizes:
        done = upload_file(alice, "many.txt", b"x" * size)
        clock.now += 1
    small = upload_file(alice, "small.txt", b"small")
    _trash(alice, done["file_id"])
    _trash(alice, small["file_id"])
    assert _used(alice) == sum(sizes) + 5

    status, body, _ = alice.call("POST", "/trash/empty", {})

    assert status == 200, body
    assert sorted((p["path"], p["released_bytes"]) for p in body["purged"]) == [
        ("many.txt", sum(sizes)),
        ("small.txt", 5),
    ]
    assert body["released_bytes"] == sum(sizes) + 5 and body["cursor"] is None
    assert _used(alice) == 0
    assert _items(svc, ALICE, "V#") == [] and _items(svc, ALICE, "F#") == []
    assert _s3_versions(svc, "uploads", keys.blob_prefix(ALICE, done["file_id"])) == []


# ------------------------------------------------------------------ empty trash
def test_empty_trash_pages_and_keeps_what_was_trashed_after_it_started(
    alice: Api, bob: Api, clock: Clock
) -> None:
    svc = alice.services
    caller = Caller(ALICE, "alice")
    files = [upload_file(alice, f"bulk/{i:02}.txt", b"b" * (i + 1)) for i in range(12)]
    live = upload_file(alice, "live.txt", b"live")
    bobs = upload_file(bob, "bob.txt", b"bob")
    _trash(bob, bobs["file_id"])
    for f in files[:10]:
        _trash(alice, f["file_id"])
    clock.now += 1
    first = trash.empty_trash(svc, caller, before=None, cursor=None, limit=4)
    # Trashed after the first page: kept, whatever page they land on.
    clock.now += 1
    for f in files[10:]:
        _trash(alice, f["file_id"])
    pages = [first]
    while pages[-1].cursor is not None:
        pages.append(
            trash.empty_trash(svc, caller, before=first.before, cursor=pages[-1].cursor, limit=4)
        )

    purged = sorted(p.file_id for page in pages for p in page.purged)
    assert purged == sorted(f["file_id"] for f in files[:10])
    assert len(pages) >= 3
    assert sum(page.released_bytes for page in pages) == sum(range(1, 11))
    assert sorted(_trash_ids(alice)) == sorted(f["file_id"] for f in files[10:])
    assert _used(alice) == 11 + 12 + 4
    status, listed, _ = alice.call("GET", "/files")
    assert [f["file_id"] for f in listed["items"]] == [live["file_id"]]
    assert _trash_ids(bob) == [bobs["file_id"]] and _used(bob) == 3

    # Through the API: the rest, with the answer's shape.
    status, body, _ = alice.call("POST", "/trash/empty")
    assert status == 200 and body["cursor"] is None
    assert body["before"].endswith("Z") and body["released_bytes"] == 11 + 12
    assert _trash_ids(alice) == [] and _used(alice) == 4
    status, body, _ = alice.call("POST", "/trash/empty", {})  # an empty trash: nothing to do
    assert status == 200 and body["purged"] == [] and body["released_bytes"] == 0


def test_empty_trash_validates_before_and_cursor(alice: Api) -> None:
    for bad in ({"before": "yesterday"}, {"before": "2026-13-40T00:00:00Z"}, {"x": 1}):
        status, body, _ = alice.call("POST", "/trash/empty", bad)
        assert status == 400 and body["code"] == "validation_error", bad
    status, body, _ = alice.call("POST", "/trash/empty", {"cursor": "bm9wZQ"})
    assert status == 400 and body["code"] == "invalid_cursor"
    done = upload_file(alice, "old.txt", b"old")
    _trash(alice, done["file_id"])
    status, body, _ = alice.call("POST", "/trash/empty", {"before": "2000-01-01T00:00:00.000Z"})
    assert status == 200 and body["purged"] == [] and _trash_ids(alice) == [done["file_id"]]


# ------------------------------------------------------------------ the scheduled job
def test_scheduled_purge_respects_the_retention_boundary(
    alice: Api, bob: Api, clock: Clock
) -> None:
    svc = alice.services
    retention = svc.config.trash_retention_days
    old = upload_file(alice, "old.txt", b"old")
    newer = upload_file(alice, "newer.txt", b"newer")
    live = upload_file(alice, "live.txt", b"live")
    bobs = upload_file(bob, "bob.txt", b"bob")
    t0 = clock.now
    _trash(alice, old["file_id"])
    _trash(bob, bobs["file_id"])
    clock.now = t0 + DAY_S
    _trash(alice, newer["file_id"])

    clock.now = t0 + retention * DAY_S  # exactly the retention: not older than it yet
    run = trash.purge_expired(svc)
    assert (run.purged, run.users) == (0, 0)
    assert sorted(_trash_ids(alice)) == sorted([old["file_id"], newer["file_id"]])

    clock.now += 0.001  # one millisecond more
    run = trash.purge_expired(svc)
    assert (run.purged, run.users, run.released_bytes, run.complete) == (2, 2, 3 + 3, True)
    assert _trash_ids(alice) == [newer["file_id"]] and _trash_ids(bob) == []
    assert _used(alice) == len(b"newer") + len(b"live") and _used(bob) == 0
    assert _s3_versions(svc, "uploads", keys.blob_prefix(ALICE, old["file_id"])) == []
    assert len(_s3_versions(svc, "uploads", keys.blob_prefix(ALICE, live["file_id"]))) == 1

    clock.now = t0 + (retention + 1) * DAY_S + 1
    assert trash.purge_expired(svc).purged == 1
    assert _trash_ids(alice) == [] and _used(alice) == len(b"live")


def test_scheduled_purge_uses_the_configured_retention_and_finishes_left_bytes(
    alice: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = dataclasses.replace(
        alice.services, config=dataclasses.replace(alice.services.config, trash_retention_days=2)
    )
    left = upload_file(alice, "left.txt", b"left")
    _trash(alice, left["file_id"])
    with monkeypatch.context() as patch:  # a purge whose byte deletion failed
        patch.setattr(BlobStore, "delete_everything_under", _refuse)
        trash.purge_file(svc, Caller(ALICE, "alice"), left["file_id"])
    assert _items(svc, ALICE, "PURGE#") == [f"PURGE#{left['file_id']}"]
    soon = upload_file(alice, "soon.txt", b"soon")
    _trash(alice, soon["file_id"])

    clock.now += 2 * DAY_S + 1
    run = trash.purge_expired(svc)

    assert run.purged == 1 and _trash_ids(alice) == []
    assert _items(svc, ALICE, "PURGE#") == []
    assert _s3_versions(svc, "uploads", keys.blob_prefix(ALICE, left["file_id"])) == []


def test_scheduled_purge_stops_when_told_and_goes_on_next_time(
    alice: Api, bob: Api, clock: Clock
) -> None:
    svc = alice.services
    for api in (alice, bob):
        _trash(api, upload_file(api, "x.txt", b"x")["file_id"])
    clock.now += 31 * DAY_S
    asked: list[int] = []

    def stop_after_first_user() -> bool:
        asked.append(1)
        return len(asked) > 1

    run = trash.purge_expired(svc, should_stop=stop_after_first_user)
    assert (run.purged, run.complete) == (1, False)
    assert len(_trash_ids(alice) + _trash_ids(bob)) == 1
    assert trash.purge_expired(svc).purged == 1
    assert _trash_ids(alice) == _trash_ids(bob) == []


def test_the_lambda_handler_runs_the_job_on_the_installed_services(
    alice: Api, clock: Clock
) -> None:
    _trash(alice, upload_file(alice, "x.txt", b"xyz")["file_id"])
    clock.now += 31 * DAY_S

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 900_000

    runtime.install(alice.services)
    try:
        out = purge_trash.handler({"source": "aws.events"}, Context())
    finally:
        runtime.install(None)
    assert out["purged"] == 1 and out["released_bytes"] == 3 and out["complete"] is True


def test_the_retention_comes_from_the_environment() -> None:
    env = {
        "FILEVAULT_TABLE": "t",
        "FILEVAULT_UPLOAD_BUCKET": "u",
        "FILEVAULT_PROCESSED_BUCKET": "p",
        "FILEVAULT_PUBLIC_BASE_URL": "https://x",
    }
    assert BackendConfig.from_env(env).trash_retention_days == 30
    env["FILEVAULT_TRASH_RETENTION_DAYS"] = "7"
    assert BackendConfig.from_env(env).trash_retention_days == 7


# ------------------------------------------------------------------ the S3 side
def _refuse(self: BlobStore, prefix: str) -> int:
    raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "DeleteObjects")


class _UnversionedS3:
    """An S3 that answers ?versions with 501, as the local stack's does."""

    def __init__(self) -> None:
        self.deleted: list[dict[str, Any]] = []

    def list_object_versions(self, **_: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "NotImplemented", "Message": "no"}}, "List")

    def get_paginator(self, name: str) -> Any:
        assert name == "list_objects_v2"

        class Pages:
            def paginate(self, **params: Any) -> Iterator[dict[str, Any]]:
                assert params["Prefix"] == "users/u/blobs/f/"
                yield {"Contents": [{"Key": f"users/u/blobs/f/v{i}"} for i in range(1500)]}

        return Pages()

    def delete_objects(self, **params: Any) -> dict[str, Any]:
        self.deleted.append(params)
        return {}


def test_a_store_without_versioning_deletes_the_keys_in_batches() -> None:
    s3 = _UnversionedS3()
    store = BlobStore(s3, "b")  # type: ignore[arg-type]
    assert store.delete_everything_under("users/u/blobs/f/") == 1500
    assert [len(call["Delete"]["Objects"]) for call in s3.deleted] == [1000, 500]
    assert s3.deleted[0]["Delete"]["Objects"][0] == {"Key": "users/u/blobs/f/v0"}


class _RefusingS3:
    """A versioned S3 that lists one version and refuses to delete it."""

    def list_object_versions(self, **params: Any) -> dict[str, Any]:
        return {"Versions": [{"Key": params["Prefix"] + "v1", "VersionId": "abc"}]}

    def delete_objects(self, **params: Any) -> dict[str, Any]:
        key = params["Delete"]["Objects"][0]["Key"]
        return {"Errors": [{"Key": key, "Code": "AccessDenied", "Message": "no"}]}


def test_a_version_that_is_not_deleted_is_an_error() -> None:
    store = BlobStore(_RefusingS3(), "b")  # type: ignore[arg-type]
    with pytest.raises(ClientError, match="AccessDenied"):
        store.delete_everything_under("users/u/blobs/f/")


def test_purge_markers_roundtrip(svc: Services) -> None:
    marker = PurgeRecord("f_" + "1" * 24, "a/b.txt", 123)
    svc.store.put_plain(keys.purge(ALICE, marker.file_id), marker)
    assert svc.store.get(PurgeRecord, keys.purge(ALICE, marker.file_id)) == marker
    assert svc.store.get(FileRecord, keys.file(ALICE, marker.file_id)) is None
