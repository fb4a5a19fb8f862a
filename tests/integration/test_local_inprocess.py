"""The local stack's own AWS calls answered in-process (backend/local/inprocess.py), and the
metadata table's base and journal on disk (backend/local/table_journal.py).

An ``AwsFront`` (our S3 + moto, SigV4-checked) is served on loopback for external callers;
internal clients point at a port nobody listens on, so their calls can only succeed through
the in-process handler, which must give the same answers and keep the same checks.
"""

from __future__ import annotations

import itertools
import json
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.serving import make_server

from backend.local import inprocess
from backend.local.aws_front import AwsFront
from backend.local.cognito import ACCOUNT_ID
from backend.local.inprocess import InProcess
from backend.local.moto_dynamodb import dump_items
from backend.local.moto_dynamodb import install as install_moto_fixes
from backend.local.persistence import Snapshotter
from backend.local.s3 import ContinueOnReadHandler, ObjectStore, S3App
from backend.local.sigv4 import SigV4Verifier
from backend.local.table_journal import TableJournal
from tests.integration.helpers import download_bytes, upload_bytes
from tests.integration.stack import client, start_stack

KEY, SECRET = "AKIAINPROCESSTEST", "in-process-secret"
REGION = "us-east-1"
NOBODY = "http://127.0.0.1:9"  # the discard port: nothing answers there


@dataclass
class Front:
    app: AwsFront
    url: str
    mutations: list[float]
    served: list[str]


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    install_moto_fixes()
    store = ObjectStore(tmp_path_factory.mktemp("inproc-s3"), min_part_size=64 * 1024)
    mutations: list[float] = []
    app = AwsFront(
        s3_app=S3App(store),
        moto_app=DomainDispatcherApplication(create_backend_app),
        verifier=SigV4Verifier({KEY: SECRET}),
        cognito=None,  # type: ignore[arg-type] # no Cognito calls here
        jwks={"keys": []},
        on_mutation=lambda: mutations.append(time.monotonic()),
    )
    served: list[str] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        served.append(str(environ.get("PATH_INFO")))
        return app(environ, start_response)

    server = make_server(
        "127.0.0.1", 0, counting, threaded=True, request_handler=ContinueOnReadHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Front(app, f"http://127.0.0.1:{server.server_port}", mutations, served)
    server.shutdown()
    server.server_close()
    store.close()


def _client(service: str, endpoint: str, secret: str = SECRET, access_key: str = KEY) -> Any:
    config = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4" if service == "s3" else None,
        retries={"mode": "standard", "max_attempts": 1},
    )
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=config,
    )


def _internal(front: Front, service: str, secret: str = SECRET) -> Any:
    return InProcess(front.app, NOBODY).attach(_client(service, NOBODY, secret))


def test_s3_round_trip_without_a_socket(front: Front) -> None:
    s3 = _internal(front, "s3")
    before = len(front.served)
    bucket = f"inproc-{secrets.token_hex(4)}"
    s3.create_bucket(Bucket=bucket)
    key = "dir/ä b+c%d (1).txt"  # quoting: the signature covers the raw path
    data = secrets.token_bytes(300_000)
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/x-test")
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ContentType"] == "application/x-test"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    chunks = list(body.iter_chunks(64 * 1024))  # streamed, not one piece
    assert b"".join(chunks) == data and len(chunks) > 1
    ranged = s3.get_object(Bucket=bucket, Key=key, Range="bytes=1000-1999")
    assert ranged["ContentRange"] == f"bytes 1000-1999/{len(data)}"
    assert ranged["Body"].read() == data[1000:2000]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="dir/")
    assert [o["Key"] for o in listed["Contents"]] == [key]
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="nope")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    s3.delete_object(Bucket=bucket, Key=key)
    assert front.served[before:] == []  # nothing came in over HTTP


def test_moto_services_in_process(front: Front) -> None:
    db = _internal(front, "dynamodb")
    table = f"inproc-{secrets.token_hex(4)}"
    db.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    marks = len(front.mutations)
    db.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    assert len(front.mutations) > marks  # the snapshot hook still sees writes
    assert db.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}
    with pytest.raises(ClientError) as failed:
        db.put_item(
            TableName=table,
            Item={"pk": {"S": "a"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    sns = _internal(front, "sns")  # query protocol: a form-encoded str body
    topic = sns.create_topic(Name=f"inproc-{secrets.token_hex(4)}")["TopicArn"]
    assert sns.publish(TopicArn=topic, Message="héllo wörld & more")["MessageId"]


def test_in_process_calls_name_a_known_credential_and_skip_the_signature(front: Front) -> None:
    seen: list[str] = []

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(str(environ.get("HTTP_AUTHORIZATION", "")))
        return front.app(environ, start_response)

    s3 = InProcess(spy, NOBODY).attach(_client("s3", NOBODY))
    s3.list_buckets()
    assert seen[-1].endswith(f"Signature={inprocess.UNSIGNED_MARK}")
    assert f"Credential={KEY}/" in seen[-1]
    for service in ("s3", "dynamodb"):
        unknown = _client(service, NOBODY, access_key="AKIASTRANGER")
        stranger = InProcess(front.app, NOBODY).attach(unknown)
        with pytest.raises(ClientError) as refused:
            stranger.list_buckets() if service == "s3" else stranger.list_tables()
        assert refused.value.response["Error"]["Code"] in ("InvalidAccessKeyId", "403")


def test_the_unsigned_mark_is_refused_over_http(front: Front) -> None:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    forged = requests.get(
        f"{front.url}/",
        headers={
            "Authorization": f"AWS4-HMAC-SHA256 Credential={KEY}/{stamp[:8]}/{REGION}/s3/"
            "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            f"Signature={inprocess.UNSIGNED_MARK}",
            "X-Amz-Date": stamp,
            "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
        },
        timeout=5,
    )
    assert forged.status_code == 403 and b"SignatureDoesNotMatch" in forged.content


def test_presigned_urls_and_other_endpoints_are_still_signed(front: Front) -> None:
    s3 = _internal(front, "s3")
    bucket = f"inproc-{secrets.token_hex(4)}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"presigned")
    # An attached client's URLs leave the process: they carry a real signature.
    internal_url = InProcess(front.app, NOBODY).attach(_client("s3", front.url))
    url = internal_url.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60
    )
    got = requests.get(url, timeout=5)
    assert got.status_code == 200 and got.content == b"presigned"
    # Attached for another endpoint: this client's requests go over HTTP, signed as always.
    before = len(front.served)
    assert internal_url.get_object(Bucket=bucket, Key="k")["Body"].read() == b"presigned"
    db = InProcess(front.app, NOBODY).attach(_client("dynamodb", front.url))
    assert isinstance(db.list_tables()["TableNames"], list)
    assert len(front.served) == before + 2


def test_external_callers_still_use_http_and_are_checked(front: Front) -> None:
    before = len(front.served)
    assert _client("s3", front.url).list_buckets()["Buckets"] is not None
    assert len(front.served) == before + 1  # an ordinary client: over HTTP
    unsigned = requests.get(f"{front.url}/", timeout=5)
    assert unsigned.status_code == 403 and b"AccessDenied" in unsigned.content
    unsigned_db = requests.post(
        f"{front.url}/",
        data=b"{}",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"},
        timeout=5,
    )
    assert unsigned_db.status_code == 403
    with pytest.raises(ClientError) as wrong:
        _client("dynamodb", front.url, secret="not-the-secret").list_tables()
    assert wrong.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert requests.get(f"{front.url}/moto-api/reset", timeout=5).status_code == 404


def test_only_the_endpoint_is_taken(front: Front) -> None:
    handler = InProcess(front.app, front.url)
    other = _client("s3", "http://127.0.0.1:9")  # another address: left to HTTP
    other.meta.events.register_first("before-send", handler)
    with pytest.raises(Exception, match="Could not connect"):
        other.list_buckets()


def test_switch_turns_it_off(front: Front, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(inprocess.DISABLE_ENV, "1")
    s3 = InProcess(front.app, front.url).attach(_client("s3", front.url))
    before = len(front.served)
    s3.list_buckets()
    assert len(front.served) == before + 1


def _table(front: Front, name: str) -> Any:
    db = _internal(front, "dynamodb")
    db.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return db


def _items(table: str) -> list[str]:
    return sorted(json.dumps(i, sort_keys=True) for i in dump_items(ACCOUNT_ID, REGION, table))


def _restored(front: Front, state_dir: Path) -> list[str]:
    """What a stack restarting on ``state_dir`` would hold (a fresh table, as at start)."""
    name = f"restored-{secrets.token_hex(4)}"
    _table(front, name)
    TableJournal(ACCOUNT_ID, REGION, name, state_dir).restore()
    return _items(name)


def _put(db: Any, table: str, pk: str, sk: str, **attrs: str) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": sk}} | {k: {"S": v} for k, v in attrs.items()}
    db.put_item(TableName=table, Item=item)


def _journaled(front: Front, state_dir: Path, **options: Any) -> tuple[str, Any, TableJournal]:
    """A fresh table (its name and a client for it) and the journal that keeps it."""
    table = f"journal-{secrets.token_hex(4)}"
    db = _table(front, table)
    return table, db, TableJournal(ACCOUNT_ID, REGION, table, state_dir, **options)


def test_the_journal_restores_exactly_what_the_table_held(front: Front, tmp_path: Path) -> None:
    table, db, journal = _journaled(front, tmp_path)
    for i in range(20):
        _put(db, table, f"p{i % 3}", f"s{i}")
    journal.write()  # the first write lays down the base
    assert _restored(front, tmp_path) == _items(table)
    base = journal.base.stat()

    db.update_item(
        TableName=table,
        Key={"pk": {"S": "p1"}, "sk": {"S": "s1"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "7"}},
    )
    db.delete_item(TableName=table, Key={"pk": {"S": "p2"}, "sk": {"S": "s2"}})
    journal.write()
    db.update_item(  # creates an item
        TableName=table,
        Key={"pk": {"S": "new"}, "sk": {"S": "x"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "y"}},
    )
    db.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t"}, "sk": {"S": "1"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "p0"}, "sk": {"S": "s0"}}}},
        ]
    )
    db.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "p0"}, "sk": {"S": "s3"}}}},
            ]
        }
    )
    journal.write()
    journal.write()  # nothing changed since: appends nothing
    assert _restored(front, tmp_path) == _items(table)
    # Only the journal grew: one line per changed item, the base untouched.
    lines = journal.journal.read_text().splitlines()
    assert len(lines) == 1 + 2 + 5
    assert (journal.base.stat().st_ino, journal.base.stat().st_size) == (base.st_ino, base.st_size)


def test_a_grown_journal_is_folded_into_a_new_base(front: Front, tmp_path: Path) -> None:
    table, db, journal = _journaled(front, tmp_path, min_compaction_bytes=1)
    for i in range(5):
        _put(db, table, "p", f"s{i}", v="x" * 100)
    journal.write()
    first_base = journal.base.stat().st_ino
    for round_ in range(20):  # 20 appended puts would outgrow the base of five items
        _put(db, table, "p", f"s{round_ % 2}", v=str(round_))
        journal.write()
        if round_ % 5 == 4:
            assert _restored(front, tmp_path) == _items(table)
    # The journal was folded into a new base whenever it had grown as large as the base.
    assert journal.base.stat().st_ino != first_base
    assert journal.journal.stat().st_size < journal.base.stat().st_size


def test_a_journal_left_from_the_previous_base_is_not_replayed(
    front: Front, tmp_path: Path
) -> None:
    """A crash between renaming the new base into place and replacing the journal leaves the
    old journal beside a base that already holds its changes, and later ones."""
    table, db, journal = _journaled(front, tmp_path)
    _put(db, table, "p", "s", v="first")
    journal.write()
    _put(db, table, "p", "s", v="second")
    journal.write()
    old_journal = journal.journal.read_bytes()
    _put(db, table, "p", "s", v="third")
    journal.write(compact=True)
    journal.journal.write_bytes(old_journal)  # as if the crash came before its replacement
    restored = _restored(front, tmp_path)
    assert restored == _items(table)
    assert '"third"' in restored[0]


def test_a_torn_journal_end_is_cut_off_and_appends_go_on(front: Front, tmp_path: Path) -> None:
    table, db, journal = _journaled(front, tmp_path)
    _put(db, table, "p", "a")
    journal.write()
    _put(db, table, "p", "b")
    journal.write()
    before = _items(table)
    with journal.journal.open("ab") as f:
        f.write(b'{"put":{"pk":{"S":"p"},"sk":')  # a crash in the middle of an append
    name = f"restarted-{secrets.token_hex(4)}"
    restarted_db = _table(front, name)
    restarted = TableJournal(ACCOUNT_ID, REGION, name, tmp_path)
    assert restarted.restore() == 2
    assert _items(name) == before
    assert journal.journal.read_bytes().endswith(b"\n")
    _put(restarted_db, name, "p", "c")
    restarted.write()  # appends after the cut, to the same journal
    assert _restored(front, tmp_path) == _items(name)
    assert len(_items(name)) == 3


def test_an_append_that_failed_is_followed_by_a_whole_base(
    front: Front, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table, db, journal = _journaled(front, tmp_path)
    _put(db, table, "p", "a")
    journal.write()
    _put(db, table, "p", "b")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("os.fdatasync", full_disk)
        with pytest.raises(OSError):
            journal.write()
    journal.journal.write_bytes(journal.journal.read_bytes() + b'{"put":')  # and torn
    _put(db, table, "p", "c")
    journal.write()  # not an append after the torn line: a new base holding "b" too
    assert _restored(front, tmp_path) == _items(table)
    assert len(_items(table)) == 3


def test_a_base_written_before_the_journal_existed_is_read(front: Front, tmp_path: Path) -> None:
    table = f"journal-{secrets.token_hex(4)}"
    db = _table(front, table)
    _put(db, table, "p", "a", v="1")
    _put(db, table, "q", "b")
    lines = [json.dumps(i) for i in dump_items(ACCOUNT_ID, REGION, table)]
    (tmp_path / "dynamodb.jsonl").write_text("\n".join(lines) + "\n")  # items only
    assert _restored(front, tmp_path) == _items(table)


def test_snapshotter_coalesces_sustained_writes(tmp_path: Path) -> None:
    calls: list[tuple[float, bool]] = []
    snapshotter = Snapshotter(
        lambda full: calls.append((time.monotonic(), full)),
        settle_s=0.05,
        interval_s=0.3,
        full_every_s=3600,
    )
    snapshotter.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.5:  # a write every 10 ms
        snapshotter.mark_dirty()
        time.sleep(0.01)
    last_write = time.monotonic()
    time.sleep(0.5)
    snapshotter.stop()
    periodic = [t for t, full in calls[:-1]]
    assert not any(full for _, full in calls)  # nor the one at shutdown: it must be quick
    assert 3 <= len(periodic) <= 7, periodic  # ~1.5 s / 0.3 s, not one per write
    gaps = [b - a for a, b in itertools.pairwise(periodic)]
    assert min(gaps) >= 0.25
    assert periodic[-1] >= last_write - 0.35  # the last write made it to disk soon after


def test_changes_survive_a_crash_a_couple_of_seconds_later(tmp_path: Path) -> None:
    """ADR 001: metadata is on disk within about a second of a change (here: the first, full
    snapshot and a later incremental one), so a SIGKILL two seconds later loses nothing."""
    data_dir = tmp_path / "stack"
    stack = start_stack(data_dir)
    try:
        stack.add_user("grace", "Correct-horse2")
        svc = client(stack, tmp_path / "grace")
        svc.login("grace", "Correct-horse2")
        upload_bytes(svc, "a.txt", b"first")
        time.sleep(2)
        upload_bytes(svc, "b.txt", b"second")
        svc.remove("a.txt")
        time.sleep(2)
    finally:
        stack.stop(signal.SIGKILL)
    stack = start_stack(data_dir)
    try:
        svc = client(stack, tmp_path / "grace")
        assert [x.path for x in svc.api.list_files()] == ["b.txt"]
        assert download_bytes(svc, svc.find("b.txt").file_id) == b"second"
    finally:
        assert stack.stop() == 0


def _bare(app: Any) -> Any:
    return InProcess(app, NOBODY).attach(_client("sqs", NOBODY))


def test_an_app_error_is_a_500_as_over_http() -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        raise ValueError("boom")

    with pytest.raises(ClientError) as failed:
        _bare(broken).list_queues()
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_a_generator_app_is_answered() -> None:
    def lazy(environ: dict[str, Any], start_response: Any) -> Any:
        assert environ["PATH_INFO"] == "/" and environ["REQUEST_METHOD"] == "POST"
        assert int(environ["CONTENT_LENGTH"]) == len(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0")])
        yield b'{"QueueUrls": '
        yield b'["http://q/1"]}'

    assert _bare(lazy).list_queues()["QueueUrls"] == ["http://q/1"]


def test_a_snapshot_that_fails_is_tried_again_and_the_snapshotter_keeps_running() -> None:
    attempts: list[bool] = []
    saved = threading.Event()
    saved_again = threading.Event()

    def snapshot(full: bool) -> None:
        attempts.append(full)
        if len(attempts) <= 2:
            raise OSError(28, "No space left on device")
        (saved_again if saved.is_set() else saved).set()

    snapshotter = Snapshotter(
        snapshot, settle_s=0.01, interval_s=0.01, full_every_s=3600, retry_s=0.05
    )
    snapshotter.start()
    try:
        snapshotter.mark_dirty()  # one change, never marked again: the retries must carry it
        assert saved.wait(5), attempts
        assert len(attempts) == 3
        snapshotter.mark_dirty()  # the thread survived the failures and still writes
        assert saved_again.wait(5), attempts
    finally:
        snapshotter.stop()
