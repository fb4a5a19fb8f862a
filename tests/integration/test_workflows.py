"""The processing workflows, notifications and analytics on the real local stack.

The stack runs in its own process with ``--fast-workflows`` (retries 1 s apart) and a share
reminder lead that makes a 60 s share's reminder due within seconds.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from PIL import Image

from filevault_desktop.service import FileVaultService
from tests.integration.helpers import OCTET, download_bytes, upload_bytes
from tests.integration.stack import RunningStack, client, start_stack
from tests.integration.test_cli import run

pytestmark = pytest.mark.integration
T = TypeVar("T")
REMINDER_LEAD_S = 57  # a 60 s share is due for its reminder 3 s after it is created


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def flow_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(
        tmp_path_factory.mktemp("flows"),
        extra_args=("--fast-workflows", "--share-reminder-lead", str(REMINDER_LEAD_S)),
    )
    yield running
    running.stop()


class User:
    def __init__(self, stack: RunningStack, home: Path) -> None:
        name = "flow-" + secrets.token_hex(4)
        password = "Pw-" + secrets.token_hex(8)
        stack.add_user(name, password)
        self.name, self.password = name, password
        self.svc: FileVaultService = client(stack, home / name)
        self.svc.login(name, password)
        self.base = stack.api_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.svc.access_token()}"
        self.user_id = self.call("GET", "/me")["user_id"]

    def call(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.http.request(method, self.base + path, timeout=30, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def inbox(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.call("GET", "/notifications")["items"]
        return items

    def notified(self, kind: str, **match: str) -> dict[str, Any] | None:
        for item in self.inbox():
            if item["kind"] == kind and all(item.get(k) == v for k, v in match.items()):
                return item
        return None

    def processed_file(self, file_id: str) -> dict[str, Any] | None:
        record: dict[str, Any] = self.call("GET", f"/files/{file_id}")
        return record if record["processing"] else None


@pytest.fixture
def user(flow_stack: RunningStack, tmp_path: Path) -> User:
    return User(flow_stack, tmp_path)


def photo(width: int = 400, height: int = 200) -> bytes:
    """A JPEG stored landscape, with EXIF orientation 6 (display rotated: portrait) and GPS."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x0112] = 6
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 22.0, 1.5)
    gps[3], gps[4] = "E", (4.0, 53.0, 2.5)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def executions(stack: RunningStack, machine: str) -> list[dict[str, Any]]:
    sfn = stack.aws_client("stepfunctions")
    arn = next(
        m["stateMachineArn"]
        for m in sfn.list_state_machines()["stateMachines"]
        if m["name"].endswith(f"-{machine}")
    )
    found: list[dict[str, Any]] = sfn.list_executions(stateMachineArn=arn)["executions"]
    return found


def execution_for(stack: RunningStack, file_id: str, *, done: bool = True) -> dict[str, Any]:
    sfn = stack.aws_client("stepfunctions")

    def probe() -> dict[str, Any] | None:
        for summary in executions(stack, "UploadProcessing"):
            described: dict[str, Any] = sfn.describe_execution(executionArn=summary["executionArn"])
            if f"/blobs/{file_id}/" in described["input"] and (
                not done or described["status"] != "RUNNING"
            ):
                return described
        return None

    return wait_for(f"the execution for {file_id}", probe)


def test_jpeg_yields_previews_metadata_and_notification(
    flow_stack: RunningStack, user: User
) -> None:
    original = photo()
    uploaded = upload_bytes(user.svc, "photos/beach.jpg", original)
    record = wait_for("processing", lambda: user.processed_file(uploaded.file_id))
    info = record["processing"]
    assert info["status"] == "ready" and info["detected_type"] == "image/jpeg"
    assert (info["width"], info["height"]) == (200, 400)  # EXIF orientation applied
    assert info["sha256"] == __import__("hashlib").sha256(original).hexdigest()
    assert info["has_preview"] is True

    s3 = flow_stack.aws_client("s3")
    bucket = next(
        b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("-processed")
    )
    prefix = f"users/{user.user_id}/previews/{uploaded.file_id}/{uploaded.version_id}/"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])
    assert keys == [prefix + "preview.jpg", prefix + "thumbnail.jpg"]
    thumb = Image.open(io.BytesIO(s3.get_object(Bucket=bucket, Key=keys[1])["Body"].read()))
    assert max(thumb.size) <= 256 and thumb.size[1] > thumb.size[0]

    # The preview endpoint hands out a short-lived URL; the image is upright, with no GPS.
    ticket = user.call("GET", f"/files/{uploaded.file_id}/preview")
    preview = Image.open(io.BytesIO(requests.get(ticket["url"], timeout=30).content))
    assert preview.format == "JPEG" and preview.size == (200, 400)
    exif = preview.getexif()
    assert not exif.get_ifd(0x8825) and 0x0112 not in exif
    # Left half was blue in the stored landscape: rotated, the top of the preview is blue.
    top = preview.convert("RGB").getpixel((100, 20))
    assert isinstance(top, tuple) and top[2] > 150 and top[0] < 100
    thumb_ticket = user.call("GET", f"/files/{uploaded.file_id}/preview?size=thumbnail")
    assert thumb_ticket["size"] == "thumbnail"

    note = wait_for("the notification", lambda: user.notified("file_processed"))
    assert note["file_id"] == uploaded.file_id and note["read"] is False
    bad = user.call("POST", "/notifications/ack", json={"notification_ids": ["n1"]}, status=400)
    assert bad["code"] == "validation_error"
    result = user.call(
        "POST", "/notifications/ack", json={"notification_ids": [note["notification_id"]]}
    )
    assert result == {"acknowledged": 1}
    assert user.notified("file_processed")["read"] is True  # type: ignore[index]
    assert execution_for(flow_stack, uploaded.file_id)["status"] == "SUCCEEDED"


def test_facade_and_cli_read_and_mark_notifications(
    flow_stack: RunningStack, user: User, tmp_path: Path
) -> None:
    uploaded = upload_bytes(user.svc, "holiday.jpg", photo())
    wait_for("the notification", lambda: user.notified("file_processed"))
    unread, cursor = user.svc.notifications()
    assert [(n.kind, n.file_id, n.read) for n in unread] == [
        ("file_processed", uploaded.file_id, False)
    ]
    assert cursor is not None
    assert user.svc.notifications(cursor) == ([], cursor)  # nothing new after the cursor

    home = tmp_path / "cli-home"
    login = run(["login", "-u", user.name, "--password-stdin"], home, flow_stack, user.password)
    assert login.returncode == 0, login.stderr
    listed = run(["notifications", "--json"], home, flow_stack)
    assert listed.returncode == 0, listed.stderr
    assert [n["notification_id"] for n in json.loads(listed.stdout)] == [unread[0].notification_id]
    marked = run(["notifications", "--mark-read"], home, flow_stack)
    assert marked.returncode == 0 and "holiday.jpg" in marked.stdout, marked.stdout
    assert user.svc.notifications() == ([], cursor)  # read now: the unread list is empty
    everything, _ = user.svc.notifications(unread_only=False)
    assert [n.read for n in everything] == [True]
    assert run(["notifications"], home, flow_stack).stdout.strip() == "(no notifications)"


def test_corrupt_image_is_marked_failed_and_kept(flow_stack: RunningStack, user: User) -> None:
    corrupt = photo()[:600] + secrets.token_bytes(3000)
    uploaded = upload_bytes(user.svc, "broken.jpg", corrupt)
    record = wait_for("processing", lambda: user.processed_file(uploaded.file_id))
    assert record["processing"]["status"] == "processing_failed"
    assert record["processing"]["reason"] == "CorruptFile"
    assert download_bytes(user.svc, uploaded.file_id) == corrupt  # the original is intact
    note = wait_for("the notification", lambda: user.notified("processing_failed"))
    assert note["file_id"] == uploaded.file_id
    user.call("GET", f"/files/{uploaded.file_id}/preview", status=404)
    execution = execution_for(flow_stack, uploaded.file_id)
    assert execution["status"] == "FAILED"


def test_step_failing_twice_is_retried_and_succeeds(flow_stack: RunningStack, user: User) -> None:
    """The object-created event comes before the client completes the upload: Validate fails
    (FileNotRecorded) until the upload is completed, then the execution succeeds."""
    data = photo(64, 32)
    ticket = user.svc.api.initiate_upload("retry.jpg", len(data))
    put = requests.put(ticket.parts[0].url, data=data, headers=OCTET, timeout=30)
    assert put.status_code == 200
    execution = execution_for(flow_stack, ticket.file_id, done=False)
    sfn = flow_stack.aws_client("stepfunctions")

    def failures() -> list[dict[str, Any]]:
        events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        return [e for e in events if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]

    failed = wait_for("two failed attempts", lambda: len(failures()) >= 2 and failures())
    assert all("FileNotRecorded" in json.dumps(e, default=str) for e in failed)
    user.svc.api.complete_upload(ticket.upload_id, None)
    final = wait_for(
        "the execution to end",
        lambda: (
            (d := sfn.describe_execution(executionArn=execution["executionArn"]))["status"]
            != "RUNNING"
            and d
        ),
    )
    assert final["status"] == "SUCCEEDED"
    assert len(failures()) >= 2
    assert user.processed_file(ticket.file_id)["processing"]["status"] == "ready"  # type: ignore[index]


def test_blocked_type_is_quarantined(flow_stack: RunningStack, user: User) -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + secrets.token_bytes(2000)
    uploaded = upload_bytes(user.svc, "tools/notes.txt", elf)
    record = wait_for("processing", lambda: user.processed_file(uploaded.file_id))
    assert record["processing"]["status"] == "quarantined"
    assert record["processing"]["detected_type"] == "application/x-executable"
    denied = user.call("GET", f"/files/{uploaded.file_id}/download", status=403)
    assert denied["code"] == "quarantined"
    share = user.call("POST", "/shares", json={"file_id": uploaded.file_id}, status=201)
    opened = requests.get(share["url"], allow_redirects=False, timeout=30)
    assert opened.status_code == 403 and opened.json()["code"] == "quarantined"
    wait_for("the notification", lambda: user.notified("file_quarantined"))


def test_expiry_reminder_and_first_open(flow_stack: RunningStack, user: User) -> None:
    uploaded = upload_bytes(user.svc, "doc.pdf", b"%PDF-1.4\n1 0 obj << /Type /Page >>\n")
    share = user.call(
        "POST", "/shares", json={"file_id": uploaded.file_id, "expires_in_seconds": 60}, status=201
    )
    reminder = wait_for(
        "the expiry reminder",
        lambda: user.notified("share_expiring", share_id=share["share_id"]),
        timeout=20,
    )
    assert "expires" in reminder["body"]
    assert user.notified("share_opened") is None
    for _ in range(2):
        assert requests.get(share["url"], allow_redirects=False, timeout=30).status_code == 302
    wait_for("the first-open notification", lambda: user.notified("share_opened"))
    opened = [n for n in user.inbox() if n["kind"] == "share_opened"]
    assert len(opened) == 1  # only the first open notifies
    lifecycle = executions(flow_stack, "ShareLifecycle")
    assert any(e["name"] == share["share_id"] for e in lifecycle)


def test_watermarked_share_serves_a_stamped_copy(flow_stack: RunningStack, user: User) -> None:
    image = Image.new("RGB", (320, 240), (40, 120, 40))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    original = buf.getvalue()
    uploaded = upload_bytes(user.svc, "art.png", original)
    wait_for("processing", lambda: user.processed_file(uploaded.file_id))
    share = user.call(
        "POST", "/shares", json={"file_id": uploaded.file_id, "watermark": True}, status=201
    )
    assert share["watermark"] is True
    served = requests.get(share["url"], timeout=30)
    assert served.status_code == 200, served.text
    stamped = Image.open(io.BytesIO(served.content)).convert("RGB")
    assert stamped.size == (320, 240)
    plain = Image.open(io.BytesIO(original)).convert("RGB")
    differing = sum(
        1
        for x in range(0, 320, 4)
        for y in range(0, 240, 4)
        if stamped.getpixel((x, y)) != plain.getpixel((x, y))
    )
    assert differing > 100  # stamped across the image
    assert download_bytes(user.svc, uploaded.file_id) == original  # the original is unchanged
    # A share without the watermark serves the original bytes.
    other = user.call("POST", "/shares", json={"file_id": uploaded.file_id}, status=201)
    assert requests.get(other["url"], timeout=30).content == original


def test_analytics_log_has_one_event_per_action(flow_stack: RunningStack, user: User) -> None:
    uploaded = upload_bytes(user.svc, "a.txt", b"analytics")
    download_bytes(user.svc, uploaded.file_id)
    share = user.call("POST", "/shares", json={"file_id": uploaded.file_id}, status=201)
    assert requests.get(share["url"], timeout=30).content == b"analytics"
    user.call("DELETE", f"/files/{uploaded.file_id}")
    s3 = flow_stack.aws_client("s3")
    bucket = next(
        b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("-analytics")
    )

    def mine() -> list[dict[str, Any]]:
        events = []
        listing = s3.list_objects_v2(Bucket=bucket, Prefix="analytics/events/")
        for obj in listing.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            events += [json.loads(line) for line in body.splitlines()]
        return [e for e in events if e["user_id"] == user.user_id]

    events = wait_for("four events", lambda: len(mine()) >= 4 and mine())
    assert sorted(e["action"] for e in events) == ["delete", "download", "share_access", "upload"]
    assert all(e["file_id"] == uploaded.file_id for e in events)
    assert len({e["event_id"] for e in events}) == 4
