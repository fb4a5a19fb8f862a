"""The admin API: the real handlers against moto's Cognito and DynamoDB."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from backend import naming
from backend.api.app import handle
from backend.data import keys
from backend.data.directory import CognitoDirectory, DirectoryUser, UserPage
from backend.data.records import Profile
from backend.errors import Forbidden
from backend.logic import admin
from backend.logic.context import Caller, Services
from tests.backend.conftest import REGION, Api, upload_file

ADMIN_PW = "Admin-pass-1"
MISSING_ID = "00000000-0000-4000-8000-000000000000"


@dataclasses.dataclass
class Pool:
    idp: Any
    pool_id: str
    client_id: str

    def add(self, username: str, *, email: str | None = None, admin: bool = False) -> str:
        attrs = [{"Name": "email", "Value": email}] if email else []
        user = self.idp.admin_create_user(
            UserPoolId=self.pool_id,
            Username=username,
            UserAttributes=attrs,
            MessageAction="SUPPRESS",
        )["User"]
        self.idp.admin_set_user_password(
            UserPoolId=self.pool_id, Username=username, Password=ADMIN_PW, Permanent=True
        )
        if admin:
            self.idp.admin_add_user_to_group(
                UserPoolId=self.pool_id, Username=username, GroupName=naming.ADMINS_GROUP
            )
        return str(next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub"))

    def sign_in(self, username: str) -> dict[str, Any]:
        out = self.idp.admin_initiate_auth(
            UserPoolId=self.pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": ADMIN_PW},
        )
        return dict(out["AuthenticationResult"])

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        out = self.idp.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
        return dict(out["AuthenticationResult"])


@pytest.fixture
def pool(services: Services) -> Pool:
    idp = boto3.client("cognito-idp", region_name=REGION)
    pool_id = idp.create_user_pool(PoolName="filevault")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="desktop",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.create_group(UserPoolId=pool_id, GroupName=naming.ADMINS_GROUP)
    idp.create_group(UserPoolId=pool_id, GroupName="auditors")
    return Pool(idp, pool_id, client_id)


@dataclasses.dataclass
class World:
    services: Services
    pool: Pool
    root: Api  # an admin
    alice: Api  # a user
    ids: dict[str, str]

    def as_user(self, name: str, groups: list[str] | None = None) -> Api:
        return Api(self.services, self.ids[name], name, groups)


@pytest.fixture
def world(services: Services, pool: Pool) -> World:
    ids = {
        "root": pool.add("root", email="root@example.com", admin=True),
        "alice": pool.add("alice", email="alice@example.com"),
        "bob": pool.add("bob"),
    }
    pool.idp.admin_add_user_to_group(UserPoolId=pool.pool_id, Username="bob", GroupName="auditors")
    svc = dataclasses.replace(services, directory=CognitoDirectory(pool.idp, pool.pool_id))
    return World(
        svc,
        pool,
        Api(svc, ids["root"], "root", [naming.ADMINS_GROUP]),
        Api(svc, ids["alice"], "alice"),
        ids,
    )


def _quota(api: Api, user_id: str, body: Any = None, *, raw: str | None = None) -> Any:
    return api.call(
        "PUT",
        f"/admin/users/{user_id}/quota",
        body,
        raw_body=raw,
        route="/admin/users/{user_id}/quota",
        params={"user_id": user_id},
    )


def _toggle(api: Api, user_id: str, action: str) -> Any:
    return api.call(
        "POST",
        f"/admin/users/{user_id}/{action}",
        route="/admin/users/{user_id}/" + action,
        params={"user_id": user_id},
    )


def _users(api: Api, **query: str) -> Any:
    return api.call("GET", "/admin/users", query=query or None)


# ----------------------------------------------------------------------- authorization
def test_every_admin_route_is_forbidden_to_non_admins(world: World) -> None:
    bob = world.ids["bob"]
    # Other groups are not enough; nothing about the request is looked at first.
    for api in (world.alice, world.as_user("bob", ["auditors"])):
        answers = [
            _users(api),
            _users(api, limit="0", cursor="garbage"),
            _quota(api, bob, {"quota_bytes": 5}),
            _quota(api, bob, raw="{not json"),
            _quota(api, "not-a-user", {"quota_bytes": 5}),
            _toggle(api, bob, "disable"),
            _toggle(api, api.claims["sub"], "disable"),
            _toggle(api, bob, "enable"),
        ]
        for status, body, _ in answers:
            assert status == 403, body
            assert body["code"] == "forbidden" and "admins" in body["message"]
    status, body, _ = world.alice.call("GET", "/admin/users", auth=False)
    assert status == 401
    # Nothing was changed by the refused calls.
    assert world.services.store.get_many(Profile, [keys.profile(bob)]) == {}


# ----------------------------------------------------------------------- listing
def test_list_users_with_groups_status_and_default_usage(world: World) -> None:
    status, page, _ = _users(world.root)
    assert status == 200 and page["cursor"] is None
    by_name = {u["username"]: u for u in page["items"]}
    assert set(by_name) == {"root", "alice", "bob"}
    root, alice, bob = by_name["root"], by_name["alice"], by_name["bob"]
    assert root["groups"] == ["admins"] and bob["groups"] == ["auditors"] and alice["groups"] == []
    assert root["user_id"] == world.ids["root"] and alice["email"] == "alice@example.com"
    assert bob["email"] is None
    assert all(u["enabled"] and u["status"] == "CONFIRMED" for u in page["items"])
    assert alice["created_at"].endswith("Z")
    # No profile yet: the default quota and nothing used, and listing created none.
    default = world.services.config.default_quota_bytes
    assert (alice["quota_bytes"], alice["used_bytes"]) == (default, 0)
    profiles = [keys.profile(i) for i in world.ids.values()]
    assert world.services.store.get_many(Profile, profiles) == {}


def test_list_shows_usage_from_the_profile(world: World) -> None:
    upload_file(world.alice, "a.txt", b"x" * 1234)
    _, page, _ = _users(world.root)
    alice = next(u for u in page["items"] if u["username"] == "alice")
    assert alice["used_bytes"] == 1234


def test_list_pages_with_cursor_and_limit(world: World) -> None:
    for n in range(70):  # more than one Cognito page (60)
        world.pool.add(f"user{n:02d}")
    status, first, _ = _users(world.root, limit="65")
    assert status == 200 and len(first["items"]) == 65 and first["cursor"]
    status, rest, _ = _users(world.root, limit="65", cursor=first["cursor"])
    assert status == 200 and len(rest["items"]) == 8
    names = [u["username"] for u in first["items"] + rest["items"]]
    assert len(set(names)) == 73
    # One at a time reaches everyone too.
    seen, cursor = [], None
    while True:
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        _, page, _ = _users(world.root, **query)
        seen += [u["username"] for u in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(names)


def test_list_refuses_bad_queries(world: World) -> None:
    bad = [
        ({"limit": "0"}, "validation_error"),
        ({"limit": "1001"}, "validation_error"),
        ({"limit": "ten"}, "validation_error"),
        ({"cursor": "not-ours"}, "invalid_cursor"),
        ({"cursor": "YzE6Zm9v"}, "invalid_cursor"),  # a /files cursor ("c1:foo")
        ({"cursor": "YTE6bm9wZQ"}, "invalid_cursor"),  # ours in form, a token Cognito refuses
    ]
    for query, code in bad:
        status, body, _ = _users(world.root, **query)
        assert (status, body["code"]) == (400, code), (query, body)


# ----------------------------------------------------------------------- quotas
BAD_QUOTA_BODIES = [
    "",
    "{not json",
    "[1]",
    "{}",
    '{"quota_bytes": 0}',
    '{"quota_bytes": -5}',
    '{"quota_bytes": "1000"}',
    '{"quota_bytes": 1.5}',
    '{"quota_bytes": true}',
    '{"quota_bytes": null}',
    f'{{"quota_bytes": {admin.MAX_QUOTA_BYTES + 1}}}',
    '{"quota_bytes": 1000, "extra": 1}',
]


def test_bad_quota_bodies_are_refused(world: World) -> None:
    for raw in BAD_QUOTA_BODIES:
        status, body, _ = _quota(world.root, world.ids["alice"], raw=raw)
        assert status == 400 and body["code"] in ("validation_error", "invalid_json"), raw
    profile = world.services.store.get_many(Profile, [keys.profile(world.ids["alice"])])
    assert profile == {}


def test_quota_of_an_unknown_or_malformed_user_is_404(world: World) -> None:
    for user_id in (MISSING_ID, "alice", 'x" or sub ^= "', "A" * 36):
        status, body, _ = _quota(world.root, user_id, {"quota_bytes": 10})
        assert (status, body["code"]) == (404, "not_found"), user_id


def test_set_quota_then_uploads_over_it_are_refused(world: World) -> None:
    alice = world.ids["alice"]
    upload_file(world.alice, "first.bin", b"a" * 3000)
    status, user, _ = _quota(world.root, alice, {"quota_bytes": 5000})
    assert status == 200
    assert (user["username"], user["quota_bytes"], user["used_bytes"]) == ("alice", 5000, 3000)
    status, me, _ = world.alice.call("GET", "/me")
    assert me["quota_bytes"] == 5000
    status, err, _ = world.alice.call("POST", "/uploads", {"path": "big.bin", "size": 2001})
    assert (status, err["code"]) == (413, "quota_exceeded")
    upload_file(world.alice, "small.bin", b"b" * 2000)  # exactly up to the quota
    # Below what is used: allowed, and then nothing more fits.
    status, user, _ = _quota(world.root, alice, {"quota_bytes": 1000})
    assert status == 200 and user["quota_bytes"] == 1000 and user["used_bytes"] == 5000
    status, err, _ = world.alice.call("POST", "/uploads", {"path": "one.bin", "size": 1})
    assert (status, err["code"]) == (413, "quota_exceeded")


def test_quota_for_a_user_without_a_profile_creates_it(world: World) -> None:
    bob = world.ids["bob"]
    status, user, _ = _quota(world.root, bob, {"quota_bytes": admin.MAX_QUOTA_BYTES})
    assert status == 200 and (user["quota_bytes"], user["used_bytes"]) == (
        admin.MAX_QUOTA_BYTES,
        0,
    )
    assert world.services.store.profile(bob).quota_bytes == admin.MAX_QUOTA_BYTES
    _, page, _ = _users(world.root)
    listed = next(u for u in page["items"] if u["user_id"] == bob)
    assert listed["quota_bytes"] == admin.MAX_QUOTA_BYTES


# ----------------------------------------------------------------------- enable / disable
def test_an_admin_cannot_disable_themselves(world: World) -> None:
    status, body, _ = _toggle(world.root, world.ids["root"], "disable")
    assert (status, body["code"]) == (409, "cannot_disable_self")
    user = world.pool.idp.admin_get_user(UserPoolId=world.pool.pool_id, Username="root")
    assert user["Enabled"] is True
    status, body, _ = _toggle(world.root, world.ids["root"], "enable")  # harmless
    assert status == 200 and body["enabled"] is True


def test_disable_signs_out_and_enable_restores(world: World) -> None:
    pool = world.pool
    session = pool.sign_in("alice")
    status, body, _ = _toggle(world.root, world.ids["alice"], "disable")
    assert status == 200 and body["enabled"] is False and body["username"] == "alice"
    assert pool.idp.admin_get_user(UserPoolId=pool.pool_id, Username="alice")["Enabled"] is False
    with pytest.raises(ClientError) as refused:
        pool.sign_in("alice")
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    with pytest.raises(ClientError):  # the global sign-out revoked the refresh token
        pool.refresh(session["RefreshToken"])
    _, page, _ = _users(world.root)
    assert next(u for u in page["items"] if u["username"] == "alice")["enabled"] is False
    # Idempotent.
    assert _toggle(world.root, world.ids["alice"], "disable")[0] == 200

    status, body, _ = _toggle(world.root, world.ids["alice"], "enable")
    assert status == 200 and body["enabled"] is True
    assert pool.sign_in("alice")["AccessToken"]


def test_disable_or_enable_an_unknown_user_is_404(world: World) -> None:
    for action in ("disable", "enable"):
        status, body, _ = _toggle(world.root, MISSING_ID, action)
        assert (status, body["code"]) == (404, "not_found")


# ----------------------------------------------------------------------- the logic alone
class FakeDirectory:
    def __init__(self, users: list[DirectoryUser]) -> None:
        self.users = {u.user_id: u for u in users}
        self.calls: list[tuple[str, str]] = []

    def list_users(self, *, limit: int, token: str | None) -> UserPage:
        ordered = sorted(self.users.values(), key=lambda u: u.username)
        start = int(token or 0)
        end = start + limit
        return UserPage(ordered[start:end], str(end) if end < len(ordered) else None)

    def find_user(self, user_id: str) -> DirectoryUser | None:
        return self.users.get(user_id)

    def set_enabled(self, username: str, enabled: bool) -> None:
        self.calls.append(("enable" if enabled else "disable", username))

    def sign_out_everywhere(self, username: str) -> None:
        self.calls.append(("sign_out", username))


def _dir_user(n: int) -> DirectoryUser:
    return DirectoryUser(
        f"{n:08d}-0000-4000-8000-000000000000", f"u{n}", None, True, "CONFIRMED", 0
    )


@pytest.fixture
def fake(services: Services) -> Iterator[tuple[Services, FakeDirectory]]:
    directory = FakeDirectory([_dir_user(n) for n in range(5)])
    yield dataclasses.replace(services, directory=directory), directory


def test_logic_disables_then_signs_out(fake: tuple[Services, FakeDirectory]) -> None:
    svc, directory = fake
    me = Caller(_dir_user(0).user_id, "u0", frozenset({naming.ADMINS_GROUP}))
    out = admin.set_enabled(svc, me, _dir_user(3).user_id, enabled=False)
    assert out.user.enabled is False
    assert directory.calls == [("disable", "u3"), ("sign_out", "u3")]
    admin.set_enabled(svc, me, _dir_user(3).user_id, enabled=True)
    assert directory.calls[-1] == ("enable", "u3")
    with pytest.raises(Forbidden):
        admin.set_enabled(svc, Caller("x", "x"), _dir_user(3).user_id, enabled=False)


def test_logic_pages_through_the_directory(fake: tuple[Services, FakeDirectory]) -> None:
    svc, _ = fake
    me = Caller("x", "x", frozenset({naming.ADMINS_GROUP}))
    first = admin.list_users(svc, me, cursor=None, limit=3)
    assert [a.user.username for a in first.items] == ["u0", "u1", "u2"] and first.cursor
    rest = admin.list_users(svc, me, cursor=first.cursor, limit=3)
    assert [a.user.username for a in rest.items] == ["u3", "u4"] and rest.cursor is None


def test_an_api_without_a_directory_answers_500(services: Services) -> None:
    status, body, _ = Api(services, "sub-root", "root", [naming.ADMINS_GROUP]).call(
        "GET", "/admin/users"
    )
    assert (status, body["code"]) == (500, "internal_error")


# ----------------------------------------------------------------------- SDK errors at the edge
class _FailingIdp:
    def __init__(self, code: str) -> None:
        self.code = code

    def __getattr__(self, name: str) -> Any:
        def fail(**kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, name)

        return fail


@pytest.mark.parametrize(
    ("code", "status", "error", "with_cursor"),
    [
        ("TooManyRequestsException", 429, "too_many_requests", False),
        ("InvalidParameterException", 400, "invalid_cursor", True),
        ("InvalidParameterException", 500, "internal_error", False),
        ("AccessDeniedException", 500, "internal_error", False),
        ("ResourceNotFoundException", 500, "internal_error", False),
    ],
)
def test_directory_errors_are_translated(
    services: Services, code: str, status: int, error: str, with_cursor: bool
) -> None:
    svc = dataclasses.replace(services, directory=CognitoDirectory(_FailingIdp(code), "pool"))  # type: ignore[arg-type]
    root = Api(svc, "sub-root", "root", [naming.ADMINS_GROUP])
    query = {"cursor": admin.encode_cursor("token") or ""} if with_cursor else None
    got, body, _ = root.call("GET", "/admin/users", query=query)
    assert (got, body["code"]) == (status, error), body


def test_unknown_user_from_the_sdk_is_404(services: Services) -> None:
    svc = dataclasses.replace(
        services,
        directory=CognitoDirectory(_FailingIdp("UserNotFoundException"), "pool"),  # type: ignore[arg-type]
    )
    event_body = json.dumps({"quota_bytes": 10})
    out = handle(
        svc,
        {
            "routeKey": "PUT /admin/users/{user_id}/quota",
            "pathParameters": {"user_id": MISSING_ID},
            "body": event_body,
            "requestContext": {
                "authorizer": {"jwt": {"claims": {"sub": "s", "cognito:groups": "[admins]"}}}
            },
        },
    )
    assert out["statusCode"] == 404 and json.loads(out["body"])["code"] == "not_found"
