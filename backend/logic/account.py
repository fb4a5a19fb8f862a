"""The signed-in user's account: identity, groups, quota and usage."""

from __future__ import annotations

from dataclasses import dataclass

from backend.logic.context import Caller, Services


@dataclass(frozen=True)
class Account:
    user_id: str
    username: str
    groups: list[str]
    quota_bytes: int
    used_bytes: int


def me(svc: Services, caller: Caller) -> Account:
    profile = svc.store.profile(caller.user_id)
    return Account(
        caller.user_id,
        caller.username,
        sorted(caller.groups),
        profile.quota_bytes,
        profile.used_bytes,
    )
