"""The user directory (Cognito user pool) behind a small port, for the admin API.

``UserDirectory`` is what the logic layer sees; ``CognitoDirectory`` is the boto3 adapter.
SDK errors are translated here, at the edge: an unknown user is ``NotFound``, a pagination
token Cognito refuses is ``BadRequest(invalid_cursor)``, throttling is ``TooManyRequests``;
anything else (a missing permission, a pool that does not exist) is a ``DirectoryFailure``,
which the API answers with a logged 500.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from botocore.exceptions import ClientError

from backend.errors import BadRequest, NotFound, TooManyRequests

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_cognito_idp.type_defs import UserTypeTypeDef

T = TypeVar("T")
# Cognito answers at most 60 users (and groups) per List* call.
COGNITO_PAGE = 60
_THROTTLED = {"TooManyRequestsException", "LimitExceededException", "ThrottlingException"}
# What a pagination token Cognito did not issue (or that expired) gets; InvalidToken locally.
_BAD_TOKEN = {"InvalidParameterException", "InvalidToken"}
# A user's ``sub`` as Cognito issues it (a lowercase UUID).
USER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class DirectoryFailure(Exception):
    """The directory refused or failed a call for a reason the caller cannot fix."""


@dataclass(frozen=True)
class DirectoryUser:
    user_id: str  # the user's ``sub``: the id every other record is keyed by
    username: str
    email: str | None
    enabled: bool
    # Cognito's UserStatus: CONFIRMED, FORCE_CHANGE_PASSWORD, RESET_REQUIRED, UNCONFIRMED, ...
    status: str
    created_at: int  # ms since the epoch
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserPage:
    users: list[DirectoryUser]
    # Pass back to continue; None at the end.
    next_token: str | None


class UserDirectory(Protocol):
    def list_users(self, *, limit: int, token: str | None) -> UserPage:
        """Up to ``limit`` users (with their groups) after ``token``."""
        ...

    def find_user(self, user_id: str) -> DirectoryUser | None:
        """The user whose ``sub`` is ``user_id`` (with their groups), or None."""
        ...

    def set_enabled(self, username: str, enabled: bool) -> None: ...

    def sign_out_everywhere(self, username: str) -> None:
        """Revokes every refresh token of the user (their sessions end at the next refresh)."""
        ...


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class CognitoDirectory:
    """One Cognito user pool. Groups come from the pool's group memberships (one listing per
    group and page of users): FileVault's groups are roles with few members, not teams."""

    def __init__(self, client: CognitoIdentityProviderClient, user_pool_id: str) -> None:
        self._idp = client
        self.user_pool_id = user_pool_id

    # ----- the port -----
    def list_users(self, *, limit: int, token: str | None) -> UserPage:
        users: list[UserTypeTypeDef] = []
        while True:
            params: dict[str, Any] = {
                "UserPoolId": self.user_pool_id,
                "Limit": min(COGNITO_PAGE, limit - len(users)),
            }
            if token:
                params["PaginationToken"] = token
            try:
                out = self._call(functools.partial(self._idp.list_users, **params))
            except _Refused as exc:
                if token and exc.code in _BAD_TOKEN:
                    raise BadRequest("invalid cursor", code="invalid_cursor") from None
                raise DirectoryFailure(str(exc)) from None
            users.extend(out.get("Users", []))
            token = out.get("PaginationToken") or None
            if token is None or len(users) >= limit:
                break
        members = self._memberships()
        return UserPage([_user(u, members) for u in users if u.get("Username")], token)

    def find_user(self, user_id: str) -> DirectoryUser | None:
        if not USER_ID.match(user_id):
            return None  # never put anything else into a filter expression
        found = self._checked(
            lambda: self._idp.list_users(
                UserPoolId=self.user_pool_id, Filter=f'sub = "{user_id}"', Limit=1
            )
        ).get("Users", [])
        if not found or not found[0].get("Username"):
            return None
        username = str(found[0]["Username"])
        groups = [
            str(g["GroupName"])
            for g in self._pages(self._idp.admin_list_groups_for_user, "Groups", Username=username)
            if g.get("GroupName")
        ]
        return _user(found[0], {username: groups})

    def set_enabled(self, username: str, enabled: bool) -> None:
        if enabled:
            self._checked(
                lambda: self._idp.admin_enable_user(UserPoolId=self.user_pool_id, Username=username)
            )
        else:
            self._checked(
                lambda: self._idp.admin_disable_user(
                    UserPoolId=self.user_pool_id, Username=username
                )
            )

    def sign_out_everywhere(self, username: str) -> None:
        self._checked(
            lambda: self._idp.admin_user_global_sign_out(
                UserPoolId=self.user_pool_id, Username=username
            )
        )

    # ----- plumbing -----
    def _memberships(self) -> dict[str, list[str]]:
        """username -> the groups they are in (sorted)."""
        members: dict[str, list[str]] = {}
        groups = self._pages(self._idp.list_groups, "Groups", Limit=COGNITO_PAGE)
        for group in sorted(str(g["GroupName"]) for g in groups if g.get("GroupName")):
            in_group = self._pages(
                self._idp.list_users_in_group, "Users", GroupName=group, Limit=COGNITO_PAGE
            )
            for user in in_group:
                if user.get("Username"):
                    members.setdefault(str(user["Username"]), []).append(group)
        return members

    def _pages(self, method: Callable[..., Any], key: str, **params: Any) -> Iterator[Any]:
        """Every item under ``key`` of a NextToken-paginated call on this pool."""
        params["UserPoolId"] = self.user_pool_id
        while True:
            out = self._checked(functools.partial(method, **params))
            yield from out.get(key, [])
            if not out.get("NextToken"):
                return
            params["NextToken"] = str(out["NextToken"])

    def _checked(self, call: Callable[[], T]) -> T:
        try:
            return self._call(call)
        except _Refused as exc:
            raise DirectoryFailure(str(exc)) from None

    @staticmethod
    def _call(call: Callable[[], T]) -> T:
        try:
            return call()
        except ClientError as exc:
            code = _code(exc)
            if code == "UserNotFoundException":
                raise NotFound("no such user") from None
            if code in _THROTTLED:
                raise TooManyRequests("the user directory is busy; try again") from None
            message = str(exc.response.get("Error", {}).get("Message", ""))
            raise _Refused(code, f"Cognito refused the call: {code}: {message}") from None


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _user(raw: UserTypeTypeDef, members: dict[str, list[str]]) -> DirectoryUser:
    attributes = {str(a["Name"]): str(a.get("Value", "")) for a in raw.get("Attributes", [])}
    username = str(raw.get("Username", ""))
    created = raw.get("UserCreateDate")
    return DirectoryUser(
        user_id=attributes.get("sub", ""),
        username=username,
        email=attributes.get("email") or None,
        enabled=bool(raw.get("Enabled", True)),
        status=str(raw.get("UserStatus", "UNKNOWN")),
        created_at=int(created.timestamp() * 1000) if isinstance(created, datetime) else 0,
        groups=tuple(sorted(members.get(username, []))),
    )
