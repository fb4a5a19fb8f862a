"""The upload workflow's steps against moto: validate, metadata, previews, record, quarantine,
mark failed, and the analytics events derived from the table's stream."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import time
from typing import Any

import pytest
from PIL import Image

from backend.data.blobs import BlobStore
from backend.local.workflows import as_lambda_gets
from backend.logic import analytics, processing
from backend.logic.context import Services
from backend.workflows.imaging import CorruptFile
from tests.backend.conftest import REGION, Api, upload_file


@pytest.fixture
def svc(services: Services) -> Services:
    s3 = services.uploads._s3
    s3.create_bucket(Bucket="processed")
    s3.create_bucket(Bucket="analytics")
    config = dataclasses.replace(services.config, analytics_bucket="analytics")
    return dataclasses.replace(services, config=config, processed=BlobStore(s3, "processed"))


@pytest.fixture
def alice(svc: Services) -> Api:
    return Api(svc, "sub-alice", "alice")


@pytest.fixture
def bob(svc: Services) -> Api:
    return Api(svc, "sub-bob", "bob")


def jpeg(width: int = 120, height: int = 80) -> bytes:
    image = Image.new("RGB", (width, height), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[1] = "N"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _job(svc: Services, done: dict[str, Any], sub: str = "sub-alice") -> dict[str, Any]:
    record = svc.store.file(sub, done["file_id"])
    assert record is not None
    return {"bucket": "uploads", "key": record.blob_key, "size": record.size}


def _file(api: Api, file_id: str) -> dict[str, Any]:
    status, record, _ = api.call(
        "GET", f"/files/{file_id}", route="/files/{file_id}", params={"file_id": file_id}
    )
    assert status == 200, record
    return record


def test_image_runs_through_every_step(svc: Services, alice: Api) -> None:
    data = jpeg()
    done = upload_file(alice, "pics/a.jpg", data)
    job = processing.validate(svc, _job(svc, done))
    assert job["verdict"] == "ok" and job["detected_type"] == "image/jpeg"
    job = processing.extract_metadata(svc, job)
    assert job["metadata"] == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "image": True,
        "width": 80,
        "height": 120,
    }
    job = processing.make_previews(svc, job)
    assert set(job["previews"]) == {"thumbnail_key", "preview_key"}
    job = processing.record_result(svc, job)
    assert job["notification"]["kind"] == "file_processed"
    assert job["notification"]["user_id"] == "sub-alice"

    got = _file(alice, done["file_id"])
    assert got["processing"]["status"] == "ready"
    assert (got["processing"]["width"], got["processing"]["height"]) == (80, 120)
    # The path index copy carries it too (listings show it).
    status, page, _ = alice.call("GET", "/files")
    assert page["items"][0]["processing"]["has_preview"] is True
    status, ticket, _ = alice.call(
        "GET",
        f"/files/{done['file_id']}/preview",
        route="/files/{file_id}/preview",
        params={"file_id": done["file_id"]},
    )
    assert status == 200 and "processed" in ticket["url"] and ticket["width"] == 80


def test_a_move_keeps_the_processing_result(svc: Services, alice: Api) -> None:
    done = upload_file(alice, "a.jpg", jpeg())
    job = processing.extract_metadata(svc, processing.validate(svc, _job(svc, done)))
    processing.record_result(svc, job)
    status, moved, _ = alice.call(
        "PATCH",
        f"/files/{done['file_id']}",
        {"path": "b.jpg"},
        route="/files/{file_id}",
        params={"file_id": done["file_id"]},
    )
    assert status == 200 and moved["processing"]["status"] == "ready"


def test_unrecorded_upload_is_retried(svc: Services, alice: Api) -> None:
    status, up, _ = alice.call("POST", "/uploads", {"path": "x.jpg", "size": 3})
    assert status == 201
    record = svc.store.upload("sub-alice", up["upload_id"])
    assert record is not None
    with pytest.raises(processing.FileNotRecorded):
        processing.validate(svc, {"bucket": "uploads", "key": record.blob_key, "size": 3})
    with pytest.raises(processing.NotAVersion):
        processing.validate(svc, {"bucket": "uploads", "key": "elsewhere/x", "size": 3})


def test_superseded_version_is_skipped(svc: Services, alice: Api) -> None:
    first = upload_file(alice, "v.txt", b"one")
    job = _job(svc, first)
    upload_file(alice, "v.txt", b"two", expected_version=first["version_id"])
    with pytest.raises(processing.Superseded):
        processing.validate(svc, job)


def test_corrupt_image_then_mark_failed(svc: Services, alice: Api) -> None:
    done = upload_file(alice, "bad.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200)
    job = processing.validate(svc, _job(svc, done))
    with pytest.raises(CorruptFile):
        processing.extract_metadata(svc, job)
    failed = processing.mark_failed(svc, {**job, "error": {"Error": "CorruptFile", "Cause": "{}"}})
    assert failed["notification"]["kind"] == "processing_failed"
    record = svc.store.file("sub-alice", done["file_id"])
    assert record is not None and processing.processing_of(record) is not None
    assert record.processing["status"] == "processing_failed"  # type: ignore[index]
    # The original is kept and still served.
    status, _, _ = alice.call(
        "GET",
        f"/files/{done['file_id']}/download",
        route="/files/{file_id}/download",
        params={"file_id": done["file_id"]},
    )
    assert status == 200


def test_blocked_type_is_quarantined_and_never_served(svc: Services, alice: Api) -> None:
    done = upload_file(alice, "setup.txt", b"MZ\x90\x00" + b"\x00" * 100)
    job = processing.validate(svc, _job(svc, done))
    assert job["verdict"] == "blocked" and job["detected_type"] == "application/x-msdownload"
    out = processing.quarantine(svc, job)
    assert out["notification"]["kind"] == "file_quarantined"
    status, body, _ = alice.call(
        "GET",
        f"/files/{done['file_id']}/download",
        route="/files/{file_id}/download",
        params={"file_id": done["file_id"]},
    )
    assert status == 403 and body["code"] == "quarantined"


def test_declared_blocked_type_is_quarantined(svc: Services, alice: Api) -> None:
    done = upload_file(alice, "run.sh", b"echo hi", content_type="text/x-shellscript")
    assert processing.validate(svc, _job(svc, done))["verdict"] == "blocked"


def test_an_empty_file_runs_through_every_step(svc: Services, alice: Api) -> None:
    # S3 answers InvalidRange to any ranged GET of an empty object: validate must not ask.
    done = upload_file(alice, "empty.txt", b"", content_type="text/plain")
    job = processing.validate(svc, _job(svc, done))
    assert job["verdict"] == "ok"
    job = processing.extract_metadata(svc, job)
    assert job["metadata"]["sha256"] == hashlib.sha256(b"").hexdigest()
    job = processing.record_result(svc, job)  # no previews: the workflow makes them for images
    got = _file(alice, done["file_id"])
    assert got["processing"]["status"] == "ready"


def test_analytics_events_from_the_real_stream(svc: Services, alice: Api) -> None:
    """The records moto's stream holds for real API actions (as the local stack drains them)."""
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends["123456789012"][REGION].get_table("meta").stream_shard
    assert shard is not None
    start = len(shard.items)

    done = upload_file(alice, "a.txt", b"data")
    fid = done["file_id"]
    params = {"file_id": fid}
    alice.call("GET", f"/files/{fid}/download", route="/files/{file_id}/download", params=params)
    status, share, _ = alice.call("POST", "/shares", {"file_id": fid})
    token = share["url"].rsplit("/", 1)[1]
    status, _, _ = alice.call(
        "GET", f"/s/{token}", route="/s/{token}", params={"token": token}, auth=False
    )
    assert status == 302
    alice.call("DELETE", f"/files/{fid}", route="/files/{file_id}", params=params)
    records = [as_lambda_gets(r.to_json()) for r in shard.items[start:]]
    # As Lambda gets them: plain JSON, the creation time in epoch seconds.
    assert json.loads(json.dumps(records)) == records
    assert all(
        abs(r["dynamodb"]["ApproximateCreationDateTime"] - time.time()) < 60 for r in records
    )
    events = analytics.events_from_stream(records)
    assert [e["action"] for e in events] == ["upload", "download", "share_access", "delete"]
    assert {e["file_id"] for e in events} == {fid}
    key = analytics.write_events(svc, events)
    assert key is not None and key.startswith("analytics/events/dt=")
    body = svc.uploads._s3.get_object(Bucket="analytics", Key=key)["Body"].read().decode()
    assert len(body.splitlines()) == 4


def test_a_batch_download_is_one_item_and_an_event_per_file(svc: Services, alice: Api) -> None:
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends["123456789012"][REGION].get_table("meta").stream_shard
    assert shard is not None
    files = [upload_file(alice, f"b/{n}.txt", b"x" * (n + 1)) for n in range(3)]
    start = len(shard.items)
    ids = [f["file_id"] for f in files]
    status, out, _ = alice.call("POST", "/download-batches/inline", {"file_ids": ids})
    assert status == 200, out
    records = [as_lambda_gets(r.to_json()) for r in shard.items[start:]]
    assert len(records) == 1  # one write for the batch
    events = analytics.events_from_stream(records)
    assert [(e["action"], e["file_id"], e["size"]) for e in events] == [
        ("download", fid, n + 1) for n, fid in enumerate(ids)
    ]
    assert len({e["event_id"] for e in events}) == 3
    assert len({(e["at"], e["user_id"]) for e in events}) == 1


def test_an_upload_landing_meanwhile_does_not_make_a_result_retry(
    svc: Services, alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = upload_file(alice, "notes.txt", b"plain text")
    job = processing.extract_metadata(svc, processing.validate(svc, _job(svc, done)))
    read = svc.store.file
    reads: list[str] = []

    def upload_after_read(user_id: str, file_id: str) -> Any:
        found = read(user_id, file_id)
        reads.append(file_id)
        if len(reads) == 1:  # another upload commits (the user's seq moves) after this read
            monkeypatch.setattr(svc.store, "file", read)
            upload_file(alice, "other.txt", b"another file")
            monkeypatch.setattr(svc.store, "file", upload_after_read)
        return found

    before = svc.store.profile("sub-alice")
    monkeypatch.setattr(svc.store, "file", upload_after_read)
    processing.record_result(svc, job)
    # Results are stored outside the user's change sequence: no contention with uploads.
    assert reads == [done["file_id"]]
    assert svc.store.profile("sub-alice").seq == before.seq + 1  # the other upload's change
    record = read("sub-alice", done["file_id"])
    assert record is not None and record.processing is not None
    assert record.processing["status"] == "ready"


def test_a_file_trashed_while_its_result_is_stored_stays_in_the_trash(
    svc: Services, alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = upload_file(alice, "race.txt", b"racing")
    job = processing.extract_metadata(svc, processing.validate(svc, _job(svc, done)))
    write = svc.store.write_outside_feed
    attempts: list[int] = []

    def trash_first(items: list[dict[str, Any]]) -> bool:
        if not attempts:  # the user trashes the file between the read and the write
            status, _, _ = alice.call(
                "DELETE",
                f"/files/{done['file_id']}",
                route="/files/{file_id}",
                params={"file_id": done["file_id"]},
            )
            assert status == 200
        attempts.append(len(items))
        return write(items)

    monkeypatch.setattr(svc.store, "write_outside_feed", trash_first)
    processing.record_result(svc, job)
    assert len(attempts) == 2  # the first write was refused, the second read the trashed file
    assert svc.store.file_at("sub-alice", "race.txt") is None  # not brought back to the listing
    _, trash, _ = alice.call("GET", "/trash")
    (item,) = trash["items"]
    assert item["file_id"] == done["file_id"] and item["processing"]["status"] == "ready"
