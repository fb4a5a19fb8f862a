"""The per-user change feed: an ordered, gapless sequence with an opaque cursor."""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.data import keys
from backend.data.records import ChangeRecord
from backend.errors import BadRequest, Gone
from backend.logic.context import Caller, Services


@dataclass(frozen=True)
class ChangesPage:
    changes: list[ChangeRecord]
    cursor: str
    has_more: bool
    epoch: str


def parse_cursor(cursor: str | None) -> int | None:
    """``None``/``""``/``"0"``: from the start; ``"latest"``: from now on."""
    if cursor in (None, ""):
        return 0
    if cursor == "latest":
        return None
    if not re.fullmatch(r"[0-9]{1,16}", cursor):
        raise BadRequest(
            "cursor must be a number from an earlier response, or 'latest'", code="invalid_cursor"
        )
    return int(cursor)


def changes_since(svc: Services, caller: Caller, cursor: str | None, limit: int) -> ChangesPage:
    start = parse_cursor(cursor)
    if start is None:
        profile = svc.store.profile(caller.user_id)
        return ChangesPage([], str(profile.seq), False, svc.config.epoch)
    records, after = svc.store.page(
        ChangeRecord,
        keys.user_pk(caller.user_id),
        "C#",
        after=None,
        limit=limit,
        sk_floor=keys.change(caller.user_id, start).sk,
    )
    if not records:
        # A cursor past the end means the client saw state this server no longer has
        # (a reset or restored backup): it must re-list rather than wait for seq to catch up.
        current = svc.store.profile(caller.user_id).seq
        if start > current:
            raise Gone(
                "the cursor is ahead of the server's change feed; list the files again",
                code="cursor_reset",
                current_cursor=str(current),
            )
    last = records[-1].seq if records else start
    return ChangesPage(records, str(last), after is not None, svc.config.epoch)
