"""Every response of a realistic session over HTTP conforms to backend/api/openapi.yaml.

The flow runs against the real local stack; each response (successes and errors) is
validated with openapi-core, so a view whose JSON shape drifts from the spec fails here.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.paths.exceptions import PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import ResponseValidationError

from backend.api.routes import ROUTES
from filevault_desktop.service import FileVaultService
from tests.integration.stack import RunningStack

pytestmark = pytest.mark.integration

SPEC_PATH = Path(__file__).resolve().parents[2] / "backend" / "api" / "openapi.yaml"
OCTET = {"Content-Type": "application/octet-stream"}
UNKNOWN_FILE = "f_" + "0" * 24
MiB = 1024 * 1024
MakeUser = Callable[..., tuple[FileVaultService, str, str]]


def load_openapi(api_url: str) -> OpenAPI:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    # The stack listens on a random port: point the spec's server at it.
    spec["servers"] = [{"url": api_url}]
    return OpenAPI.from_dict(spec)


@pytest.fixture(scope="module")
def openapi(stack: RunningStack) -> OpenAPI:
    return load_openapi(stack.api_url)


class Api:
    """A requests session that checks every response it gets against the spec."""

    def __init__(self, openapi: OpenAPI, base_url: str, token: str | None) -> None:
        self.openapi = openapi
        self.base_url = base_url
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"
        self.seen: set[tuple[str, int]] = set()

    def call(
        self,
        method: str,
        path: str,
        status: int,
        *,
        json_body: Any = None,
        data: str | bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        valid_request: bool = True,
    ) -> Any:
        kwargs: dict[str, Any] = {
            "params": params,
            "headers": headers,
            "timeout": 30,
            "allow_redirects": False,
        }
        if json_body is not None:
            kwargs["json"] = json_body
        elif data is not None:
            kwargs["data"] = data
            kwargs["headers"] = {"Content-Type": "application/json", **(headers or {})}
        response = self.http.request(method, self.base_url + path, **kwargs)
        detail = f"{method} {path} -> {response.status_code} {response.text[:500]}"
        assert response.status_code == status, detail
        request = RequestsOpenAPIRequest(response.request)
        if valid_request:
            # What we send in the happy path must be valid by the spec too.
            self.openapi.validate_request(request)
        try:
            self.openapi.validate_response(request, RequestsOpenAPIResponse(response))
        except Exception as exc:
            raise AssertionError(f"{detail}\ndoes not match the spec: {_explain(exc)}") from exc
        operation = _operation_id(method, path)
        self.seen.add((operation, status))
        if not response.content:
            return response
        return response.json()


def _explain(exc: BaseException) -> str:
    parts = [repr(exc)]
    for sub in getattr(exc, "schema_errors", None) or []:
        parts.append(f"  {list(sub.path)}: {sub.message}")
    cause = exc.__cause__
    while cause is not None:
        parts.append(f"  caused by {cause!r}")
        for sub in getattr(cause, "schema_errors", None) or []:
            parts.append(f"    {list(sub.path)}: {sub.message}")
        cause = cause.__cause__
    return "\n".join(parts)


def _operation_id(method: str, path: str) -> str:
    for route in ROUTES:
        if route.method == method and route.pattern().match(path.split("?")[0]):
            return route.operation
    raise AssertionError(f"no route for {method} {path}")


def _upload(api: Api, path: str, content: bytes, **extra: Any) -> dict[str, Any]:
    body = {"path": path, "size": len(content), **extra}
    ticket = api.call("POST", "/uploads", 201, json_body=body)
    assert ticket["mode"] == "single"
    assert [p["part_number"] for p in ticket["parts"]] == [1]
    put = requests.put(ticket["parts"][0]["url"], data=content, headers=OCTET, timeout=30)
    assert put.status_code == 200, put.text
    file = api.call("POST", f"/uploads/{ticket['upload_id']}/complete", 200, json_body={})
    assert file["file_id"] == ticket["file_id"]
    assert file["version_id"] == ticket["version_id"]
    return file


@pytest.fixture
def api(openapi: OpenAPI, stack: RunningStack, make_user: MakeUser) -> Api:
    svc, _, _ = make_user()
    return Api(openapi, stack.api_url, svc.access_token())


def test_full_session_conforms_to_spec(
    api: Api, openapi: OpenAPI, stack: RunningStack, make_user: MakeUser
) -> None:
    public = Api(openapi, stack.api_url, None)

    # --- upload, list, get, versions
    first = _upload(api, "docs/report.txt", b"hello world", content_type="text/plain")
    assert first["state"] == "active" and first["trashed_at"] is None
    second = _upload(
        api, "docs/report.txt", b"hello again, world", expected_version=first["version_id"]
    )
    assert second["file_id"] == first["file_id"]
    other = _upload(
        api, "photos/cat.jpg", b"\xff\xd8\xff", content_type="image/jpeg", expected_version=None
    )

    page = api.call("GET", "/files", 200)
    assert [f["path"] for f in page["items"]] == ["docs/report.txt", "photos/cat.jpg"]
    assert page["cursor"] is None
    page = api.call("GET", "/files", 200, params={"prefix": "docs/", "limit": "1"})
    assert [f["file_id"] for f in page["items"]] == [first["file_id"]]
    if page["cursor"] is not None:
        rest = api.call("GET", "/files", 200, params={"prefix": "docs/", "cursor": page["cursor"]})
        assert rest["items"] == []

    got = api.call("GET", f"/files/{first['file_id']}", 200)
    assert got["version_id"] == second["version_id"] and got["size"] == len(b"hello again, world")

    versions = api.call("GET", f"/files/{first['file_id']}/versions", 200)["items"]
    assert [v["version_id"] for v in versions] == [second["version_id"], first["version_id"]]
    assert [v["current"] for v in versions] == [True, False]

    restored = api.call(
        "POST", f"/files/{first['file_id']}/versions/{first['version_id']}/restore", 200
    )
    assert restored["size"] == len(b"hello world")
    assert restored["version_id"] not in (first["version_id"], second["version_id"])

    # --- move, download
    moved = api.call(
        "PATCH",
        f"/files/{first['file_id']}",
        200,
        json_body={"path": "archive/report.txt", "expected_version": restored["version_id"]},
    )
    assert moved["path"] == "archive/report.txt" and moved["name"] == "report.txt"
    download = api.call("GET", f"/files/{first['file_id']}/download", 200)
    assert download["file"]["file_id"] == first["file_id"]
    assert requests.get(download["url"], timeout=30).content == b"hello world"

    # --- shares: create, list, resolve (public), revoke
    share = api.call(
        "POST",
        "/shares",
        201,
        json_body={
            "file_id": first["file_id"],
            "expires_in_seconds": 3600,
            "password": "s3cret-pw",
            "max_downloads": 5,
        },
    )
    assert share["has_password"] and share["state"] == "active"
    assert share["path"] == "archive/report.txt"
    token = share["url"].rsplit("/", 1)[1]
    public.call("GET", f"/s/{token}", 401)
    public.call("GET", f"/s/{token}", 403, headers={"X-Share-Password": "wrong-password"})
    redirect = public.call("GET", f"/s/{token}", 302, headers={"X-Share-Password": "s3cret-pw"})
    assert requests.get(redirect.headers["Location"], timeout=30).content == b"hello world"
    public.call("GET", f"/s/{token}", 302, params={"password": "s3cret-pw"})

    once = api.call(
        "POST", "/shares", 201, json_body={"file_id": other["file_id"], "max_downloads": 1}
    )
    once_token = once["url"].rsplit("/", 1)[1]
    public.call("GET", f"/s/{once_token}", 302)
    public.call("GET", f"/s/{once_token}", 410)

    shares = api.call("GET", "/shares", 200)["items"]
    by_id = {s["share_id"]: s for s in shares}
    assert by_id[share["share_id"]]["downloads"] == 2
    assert by_id[once["share_id"]]["state"] == "exhausted"

    revoked = api.call("DELETE", f"/shares/{share['share_id']}", 200)
    assert revoked["state"] == "revoked" and revoked["revoked_at"] is not None
    public.call("GET", f"/s/{token}", 410, headers={"X-Share-Password": "s3cret-pw"})
    public.call("GET", "/s/" + "A" * 43, 404)

    # --- trash, list trash, restore
    trashed = api.call("DELETE", f"/files/{other['file_id']}", 200)
    assert trashed["state"] == "trashed" and trashed["trashed_at"] is not None
    api.call("GET", f"/files/{other['file_id']}/download", 404)
    public.call("GET", f"/s/{once_token}", 410)
    trash = api.call("GET", "/trash", 200, params={"limit": "10"})
    assert [f["file_id"] for f in trash["items"]] == [other["file_id"]]
    back = api.call(
        "POST",
        f"/trash/{other['file_id']}/restore",
        200,
        json_body={"path": "photos/cat-restored.jpg"},
    )
    assert back["state"] == "active" and back["path"] == "photos/cat-restored.jpg"
    assert api.call("GET", "/trash", 200)["items"] == []

    # --- a multipart upload: more part URLs, then abort
    big = api.call("POST", "/uploads", 201, json_body={"path": "big.bin", "size": 17 * MiB})
    assert big["mode"] == "multipart" and big["part_count"] > 1
    more = api.call(
        "POST", f"/uploads/{big['upload_id']}/parts", 200, json_body={"part_numbers": [2, 1, 2]}
    )
    assert [p["part_number"] for p in more["parts"]] == [1, 2]
    api.call("DELETE", f"/uploads/{big['upload_id']}", 204)

    # --- the change feed, and the account
    feed = api.call("GET", "/changes", 200)
    ops = [c["op"] for c in feed["changes"]]
    assert ops == ["upsert", "upsert", "upsert", "upsert", "move", "delete", "upsert"]
    assert [c["seq"] for c in feed["changes"]] == list(range(1, len(ops) + 1))
    assert feed["changes"][4]["old_path"] == "docs/report.txt"
    assert feed["has_more"] is False and feed["cursor"] == str(len(ops))
    api.call("GET", "/changes", 200, params={"cursor": "2", "limit": "2"})
    latest = api.call("GET", "/changes", 200, params={"cursor": "latest"})
    assert latest == {
        "changes": [],
        "cursor": feed["cursor"],
        "has_more": False,
        "epoch": feed["epoch"],
    }

    me = api.call("GET", "/me", 200)
    assert me["used_bytes"] == len(b"hello world") + len(b"hello again, world") + 3

    # --- delete forever: one trashed file, then a page of the trash
    gone = _upload(api, "tmp/gone.txt", b"gone")
    api.call("DELETE", f"/files/{gone['file_id']}", 200)
    purged = api.call("DELETE", f"/trash/{gone['file_id']}", 200)
    assert purged == {"file_id": gone["file_id"], "path": "tmp/gone.txt", "released_bytes": 4}
    assert api.call("DELETE", f"/trash/{gone['file_id']}", 404)["code"] == "not_found"
    assert api.call("DELETE", f"/trash/{first['file_id']}", 409)["code"] == "not_in_trash"
    also = _upload(api, "tmp/also.txt", b"also")
    api.call("DELETE", f"/files/{also['file_id']}", 200)
    emptied = api.call("POST", "/trash/empty", 200, json_body={})
    assert [p["file_id"] for p in emptied["purged"]] == [also["file_id"]]
    assert emptied["released_bytes"] == 4 and emptied["cursor"] is None
    api.call("POST", "/trash/empty", 200, json_body={"before": emptied["before"]})
    api.call("POST", "/trash/empty", 400, json_body={"before": "soon"}, valid_request=False)
    assert api.call("GET", "/me", 200)["used_bytes"] == me["used_bytes"]

    # --- previews (a text file has none), notifications and subscriptions
    api.call("GET", f"/files/{first['file_id']}/preview", 404)
    inbox = api.call("GET", "/notifications", 200, params={"limit": "10"})
    assert set(inbox) == {"items", "cursor", "has_more"}
    unknown = {"notification_ids": ["n" + "0" * 21]}
    assert api.call("POST", "/notifications/ack", 200, json_body=unknown) == {"acknowledged": 0}
    sub = api.call(
        "POST",
        "/notifications/subscriptions",
        201,
        json_body={"protocol": "email", "endpoint": "me@example.com"},
    )
    subs = api.call("GET", "/notifications/subscriptions", 200)["items"]
    assert [s["subscription_id"] for s in subs] == [sub["subscription_id"]]
    api.call("DELETE", f"/notifications/subscriptions/{sub['subscription_id']}", 204)

    # --- a batch of small uploads: one item fine, one refused on its own
    batch = api.call(
        "POST",
        "/upload-batches",
        200,
        json_body={"files": [{"path": "batch/a.txt", "size": 3}, {"path": "../x", "size": 1}]},
    )["items"]
    assert batch[1]["error"]["status"] == 400
    ticket = batch[0]["upload"]
    assert requests.put(ticket["parts"][0]["url"], data=b"abc", headers=OCTET, timeout=30).ok
    done = api.call(
        "POST",
        "/upload-batches/complete",
        200,
        json_body={"uploads": [{"upload_id": ticket["upload_id"]}, {"upload_id": "nope"}]},
    )["items"]
    assert done[0]["file"]["path"] == "batch/a.txt" and done[1]["error"]["status"] == 400
    urls = api.call(
        "POST", "/download-batches", 200, json_body={"file_ids": [done[0]["file"]["file_id"]]}
    )["items"]
    assert requests.get(urls[0]["download"]["url"], timeout=30).content == b"abc"
    inline = api.call(
        "POST",
        "/upload-batches/inline",
        200,
        json_body={
            "files": [
                {
                    "path": "batch/inline.txt",
                    "size": 3,
                    "sha256": hashlib.sha256(b"xyz").hexdigest(),
                    "content": base64.b64encode(b"xyz").decode("ascii"),
                },
                {"path": "batch/bad.txt", "size": 3, "sha256": "0" * 64, "content": "eHl6"},
            ]
        },
    )["items"]
    assert inline[0]["file"]["size"] == 3 and inline[1]["error"]["code"] == "checksum_mismatch"
    fetched = api.call(
        "POST",
        "/download-batches/inline",
        200,
        json_body={"file_ids": [inline[0]["file"]["file_id"], UNKNOWN_FILE]},
    )["items"]
    assert base64.b64decode(fetched[0]["download"]["content"]) == b"xyz"
    assert fetched[1]["error"]["status"] == 404

    # --- administration (an admin's token): list, set a quota, disable, enable
    admin_svc, _, _ = make_user(admin=True)
    admin = Api(openapi, stack.api_url, admin_svc.access_token())
    users = admin.call("GET", "/admin/users", 200)
    mine = api.call("GET", "/me", 200)
    (me,) = [u for u in users["items"] if u["user_id"] == mine["user_id"]]
    assert me["used_bytes"] == mine["used_bytes"] and me["groups"] == []
    page = admin.call("GET", "/admin/users", 200, params={"limit": "1"})
    assert len(page["items"]) == 1 and page["cursor"]
    admin.call("GET", "/admin/users", 200, params={"limit": "1", "cursor": page["cursor"]})
    user_path = f"/admin/users/{me['user_id']}"
    quota = admin.call("PUT", f"{user_path}/quota", 200, json_body={"quota_bytes": 10**9})
    assert quota["quota_bytes"] == 10**9 and quota["used_bytes"] == me["used_bytes"]
    assert admin.call("POST", f"{user_path}/disable", 200)["enabled"] is False
    assert admin.call("POST", f"{user_path}/enable", 200)["enabled"] is True

    # Every documented operation was exercised at least once.
    operations = {op for op, _ in api.seen | public.seen | admin.seen}
    assert operations == {r.operation for r in ROUTES}


def test_error_responses_conform_to_spec(
    api: Api, openapi: OpenAPI, stack: RunningStack, make_user: MakeUser
) -> None:
    anonymous = Api(openapi, stack.api_url, None)
    forged = Api(openapi, stack.api_url, "not.a.jwt")

    # 401 from the gateway: no token, or a bad one.
    for client in (anonymous, forged):
        client.call("GET", "/me", 401, valid_request=False)
        client.call("GET", "/files", 401, valid_request=False)
        client.call(
            "POST", "/uploads", 401, json_body={"path": "a", "size": 1}, valid_request=False
        )

    # 400: not JSON, not an object, unknown field, wrong type, bad path, bad query.
    bad_bodies: list[tuple[str, str]] = [
        ("{not json", "invalid_json"),
        ("[1, 2]", "validation_error"),
        (json.dumps({"path": "a.txt", "size": 1, "colour": "red"}), "validation_error"),
        (json.dumps({"path": "a.txt", "size": "1"}), "validation_error"),
        (json.dumps({"path": "a.txt", "size": True}), "validation_error"),
        (json.dumps({"path": "a.txt", "size": -1}), "validation_error"),
        (json.dumps({"path": "/etc/passwd", "size": 1}), "validation_error"),
        (json.dumps({"path": "a/../b", "size": 1}), "validation_error"),
        (json.dumps({"path": "a.txt", "size": 1, "content_type": "nope"}), "validation_error"),
        ("", "validation_error"),
    ]
    for body, code in bad_bodies:
        error = api.call("POST", "/uploads", 400, data=body, valid_request=False)
        assert error["code"] == code, (body, error)
    api.call(
        "POST",
        "/shares",
        400,
        json_body={"file_id": UNKNOWN_FILE, "expires_in_seconds": 5},
        valid_request=False,
    )
    api.call(
        "POST",
        "/uploads/u_" + "0" * 24 + "/parts",
        400,
        json_body={"part_numbers": []},
        valid_request=False,
    )
    api.call("GET", "/files", 400, params={"limit": "0"}, valid_request=False)
    api.call("GET", "/files", 400, params={"prefix": "/abs"}, valid_request=False)
    api.call("GET", "/files", 400, params={"cursor": "bm90LWEtY3Vyc29y"})
    api.call("GET", "/trash", 400, params={"limit": "many"}, valid_request=False)
    api.call("GET", "/changes", 400, params={"cursor": "yesterday"}, valid_request=False)

    # Administration: 403 for a user outside the admins group, whatever the request.
    user_id = api.call("GET", "/me", 200)["user_id"]
    assert api.call("GET", "/admin/users", 403)["code"] == "forbidden"
    api.call("GET", "/admin/users", 403, params={"limit": "0"}, valid_request=False)
    api.call("PUT", f"/admin/users/{user_id}/quota", 403, json_body={"quota_bytes": 1})
    api.call("POST", f"/admin/users/{user_id}/disable", 403)
    api.call("POST", f"/admin/users/{user_id}/enable", 403)
    # ... and for an admin: 400, 404, 409.
    admin_svc, _, _ = make_user(admin=True)
    admin = Api(openapi, stack.api_url, admin_svc.access_token())
    admin_id = admin.call("GET", "/me", 200)["user_id"]
    admin.call("GET", "/admin/users", 400, params={"limit": "0"}, valid_request=False)
    admin.call("GET", "/admin/users", 400, params={"cursor": "bm90LW91cnM"})
    for body in ({"quota_bytes": 0}, {"quota_bytes": "1"}, {"quota_bytes": 1, "x": 1}, {}):
        admin.call("PUT", f"/admin/users/{user_id}/quota", 400, json_body=body, valid_request=False)
    missing = "00000000-0000-4000-8000-000000000000"
    admin.call("PUT", f"/admin/users/{missing}/quota", 404, json_body={"quota_bytes": 1})
    admin.call("POST", f"/admin/users/{missing}/disable", 404)
    admin.call("POST", "/admin/users/not-a-user/enable", 404, valid_request=False)
    error = admin.call("POST", f"/admin/users/{admin_id}/disable", 409)
    assert error["code"] == "cannot_disable_self"

    # 404: unknown or malformed ids, for every kind of id.
    assert api.call("GET", f"/files/{UNKNOWN_FILE}", 404)["code"] == "not_found"
    api.call("GET", "/files/not-an-id", 404, valid_request=False)
    api.call("GET", f"/files/{UNKNOWN_FILE}/versions", 404)
    api.call("GET", f"/files/{UNKNOWN_FILE}/download", 404)
    api.call("PATCH", f"/files/{UNKNOWN_FILE}", 404, json_body={"path": "x.txt"})
    api.call("DELETE", f"/files/{UNKNOWN_FILE}", 404)
    api.call("POST", f"/files/{UNKNOWN_FILE}/versions/v{'0' * 21}/restore", 404)
    api.call("POST", f"/trash/{UNKNOWN_FILE}/restore", 404)
    api.call("POST", "/shares", 404, json_body={"file_id": UNKNOWN_FILE})
    api.call("DELETE", "/shares/s_" + "0" * 24, 404)
    api.call("POST", "/uploads/u_" + "0" * 24 + "/complete", 404)
    api.call("POST", "/uploads/u_" + "0" * 24 + "/parts", 404, json_body={"part_numbers": [1]})
    api.call("DELETE", "/uploads/u_" + "0" * 24, 404)

    # Upload errors: completing with no bytes, part numbers out of range, 409s.
    ticket = api.call("POST", "/uploads", 201, json_body={"path": "e/one.txt", "size": 3})
    api.call("POST", f"/uploads/{ticket['upload_id']}/parts", 400, json_body={"part_numbers": [2]})
    error = api.call("POST", f"/uploads/{ticket['upload_id']}/complete", 400)
    assert error["code"] == "not_uploaded"
    api.call("DELETE", f"/uploads/{ticket['upload_id']}", 204)
    api.call("DELETE", f"/uploads/{ticket['upload_id']}", 404)

    file = _upload(api, "e/one.txt", b"one")
    conflict = api.call(
        "POST",
        "/uploads",
        409,
        json_body={"path": "e/one.txt", "size": 1, "expected_version": None},
    )
    assert conflict["details"]["current_version"] == file["version_id"]
    api.call(
        "POST",
        "/uploads",
        409,
        json_body={"path": "e/one.txt", "size": 1, "expected_version": "v" + "0" * 21},
    )
    two = _upload(api, "e/two.txt", b"two")
    api.call("PATCH", f"/files/{two['file_id']}", 409, json_body={"path": "e/one.txt"})
    api.call(
        "PATCH",
        f"/files/{two['file_id']}",
        409,
        json_body={"path": "e/2.txt", "expected_version": file["version_id"]},
    )
    api.call("POST", f"/trash/{two['file_id']}/restore", 409)
    api.call("POST", "/uploads", 413, json_body={"path": "huge.bin", "size": 5 * 1024**4})

    # Trashed files: 404 in_trash where an active file is needed.
    api.call("DELETE", f"/files/{two['file_id']}", 200)
    assert api.call("DELETE", f"/files/{two['file_id']}", 404)["code"] == "in_trash"
    api.call("PATCH", f"/files/{two['file_id']}", 404, json_body={"path": "e/3.txt"})
    api.call("POST", "/shares", 404, json_body={"file_id": two["file_id"]})
    assert api.call("GET", f"/files/{two['file_id']}", 200)["state"] == "trashed"

    # A restored trash entry cannot take a path that is in use.
    _upload(api, "e/two.txt", b"new two")
    api.call("POST", f"/trash/{two['file_id']}/restore", 409)
    api.call("POST", f"/trash/{two['file_id']}/restore", 200, json_body={"path": "e/two (1).txt"})

    # Public link errors.
    anonymous.call("GET", "/s/short", 404, valid_request=False)
    anonymous.call("GET", "/s/" + "x" * 40, 404)


def test_validator_rejects_drifted_shapes(api: Api, openapi: OpenAPI) -> None:
    """The checks above are only worth something if openapi-core is strict about shapes."""
    file = _upload(api, "strict.txt", b"x")
    response = api.http.get(f"{api.base_url}/files/{file['file_id']}", timeout=30)
    request = RequestsOpenAPIRequest(response.request)
    openapi.validate_response(request, RequestsOpenAPIResponse(response))

    def drifted(change: Callable[[dict[str, Any]], None]) -> requests.Response:
        body = copy.deepcopy(response.json())
        change(body)
        fake = requests.Response()
        fake.status_code = response.status_code
        fake.headers.update(response.headers)
        fake._content = json.dumps(body).encode()
        fake.request = response.request
        return fake

    mutations: list[Callable[[dict[str, Any]], None]] = [
        lambda b: b.update(extra_field=1),
        lambda b: b.pop("etag"),
        lambda b: b.update(size="1"),
        lambda b: b.update(state="deleted"),
        lambda b: b.update(created_at=None),
    ]
    for mutate in mutations:
        with pytest.raises(ResponseValidationError):
            openapi.validate_response(request, RequestsOpenAPIResponse(drifted(mutate)))

    # An undocumented status is refused too.
    teapot = drifted(lambda b: None)
    teapot.status_code = 418
    with pytest.raises(ResponseNotFound):
        openapi.validate_response(request, RequestsOpenAPIResponse(teapot))
    # And so is a path the spec does not know.
    stray = requests.Request("GET", f"{api.base_url}/nowhere").prepare()
    with pytest.raises(PathNotFound):
        openapi.validate_response(RequestsOpenAPIRequest(stray), RequestsOpenAPIResponse(response))
