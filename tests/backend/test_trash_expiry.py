"""Trash expiry: the API tags a trashed file's blobs (all versions) and untags them on restore;
the upload bucket's lifecycle rule (tests/infra) expires objects with that exact tag."""

from __future__ import annotations

from backend import naming
from backend.logic.context import Services
from tests.backend.conftest import Api, Clock, upload_file

TRASHED = {naming.TRASHED_TAG_KEY: naming.TRASHED_TAG_VALUE}


def _blob_keys(services: Services, sub: str, file_id: str) -> set[str]:
    from backend.data import keys
    from backend.data.records import VersionRecord

    return {
        v.blob_key
        for v in services.store.iter_all(VersionRecord, keys.user_pk(sub), f"V#{file_id}#")
    }


def test_trash_tags_every_version_and_restore_removes_the_tag(alice: Api, clock: Clock) -> None:
    first = upload_file(alice, "v.txt", b"one")
    clock.now += 1
    second = upload_file(alice, "v.txt", b"two!")
    kept = upload_file(alice, "kept.txt", b"kept")
    fid = first["file_id"]
    assert second["file_id"] == fid
    p = {"file_id": fid}
    # A restored version shares the bytes of the old one: the set of objects stays at two.
    status, _, _ = alice.call(
        "POST",
        "x",
        route="/files/{file_id}/versions/{version_id}/restore",
        params={"file_id": fid, "version_id": first["version_id"]},
    )
    assert status == 200
    blobs = _blob_keys(alice.services, "sub-alice", fid)
    assert len(blobs) == 2
    uploads = alice.services.uploads
    assert all(uploads.tags(key) == {} for key in blobs)

    status, trashed, _ = alice.call("DELETE", "x", route="/files/{file_id}", params=p)
    assert status == 200 and trashed["state"] == "trashed"
    assert {key: uploads.tags(key) for key in blobs} == {key: TRASHED for key in blobs}
    other = alice.services.store.file("sub-alice", kept["file_id"])
    assert other is not None and uploads.tags(other.blob_key) == {}  # only the trashed file

    status, back, _ = alice.call("POST", "x", route="/trash/{file_id}/restore", params=p)
    assert status == 200 and back["state"] == "active"
    assert {key: uploads.tags(key) for key in blobs} == {key: {} for key in blobs}


def test_trash_works_when_a_blob_is_already_gone(alice: Api) -> None:
    # (Restore is not tried here: moto's DeleteObjectTagging crashes on a missing key where
    # S3 answers NoSuchKey, which BlobStore.clear_tags treats as "nothing to untag".)
    done = upload_file(alice, "gone.txt", b"bytes")
    record = alice.services.store.file("sub-alice", done["file_id"])
    assert record is not None
    alice.services.uploads.delete(record.blob_key)
    p = {"file_id": done["file_id"]}
    status, trashed, _ = alice.call("DELETE", "x", route="/files/{file_id}", params=p)
    assert status == 200 and trashed["state"] == "trashed"


def test_a_file_whose_bytes_expired_in_the_trash_is_not_restored(alice: Api) -> None:
    done = upload_file(alice, "old.txt", b"bytes")
    p = {"file_id": done["file_id"]}
    status, _, _ = alice.call("DELETE", "x", route="/files/{file_id}", params=p)
    assert status == 200
    record = alice.services.store.file("sub-alice", done["file_id"])
    assert record is not None
    alice.services.uploads.delete(record.blob_key)  # what the lifecycle rule does after 30 days

    status, body, _ = alice.call("POST", "x", route="/trash/{file_id}/restore", params=p)
    assert status == 410 and body["code"] == "trash_expired"
    status, trash, _ = alice.call("GET", "x", route="/trash")
    assert [f["file_id"] for f in trash["items"]] == [done["file_id"]]  # still listed, untouched
