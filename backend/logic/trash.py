"""Deleting trashed files for good: one file (``DELETE /trash/{file_id}``), the caller's whole
trash a page at a time (``POST /trash/empty``), and every user's files that stayed in the
trash longer than the retention period (the scheduled job, :func:`purge_expired`).

A purge is a transaction per file (or per group of files) that deletes the file's records --
``F#``, ``T#``, every ``V#`` and the file's share links -- gives the bytes the file counted back
to the quota, and writes a ``PURGE#`` marker; then every S3 version under the file's prefixes
(its blobs, its previews) is deleted, and the marker after them. The transaction holds only if
the file is still in the trash as it was read (same version, same trash time), so a restore
that gets in first wins and nothing is deleted. Should the byte deletion fail, the marker
stays: purging the file again, emptying the trash or the next scheduled run finishes it.

Quota: an upload adds its size; trash, restore and moves change nothing; a restored version
shares an older version's bytes and adds nothing (``uploads.version_mutation``,
``files.restore_version``). A file therefore counts the sizes of its versions that own their
bytes (their blob key is made from their own version id), and that is what a purge releases.

The change feed gets no entry: trashing the file already wrote its ``delete``, and a purge
changes nothing a client mirrors (files are listed from the path index, the trash from ``T#``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.data import keys
from backend.data.metadata import Mutation
from backend.data.records import (
    DroppedUpload,
    FileRecord,
    FileState,
    Profile,
    PurgeRecord,
    ShareRecord,
    UploadRecord,
    VersionRecord,
)
from backend.errors import Conflict, NotFound
from backend.logic.context import Caller, Services
from backend.logic.files import decode_cursor, encode_cursor
from backend.logic.uploads import finish_drop, sweep_abandoned

log = logging.getLogger("filevault.trash")
DAY_MS = 24 * 3600 * 1000
# DynamoDB allows 100 items per transaction; MetadataStore.commit adds the profile update.
MAX_TRANSACTION_ITEMS = 99
# Trash entries one POST /trash/empty looks at (the client calls again with the cursor).
EMPTY_PAGE = 100
# Files the scheduled job purges per user and transaction round.
JOB_BATCH = 100
# Reads and S3 deletions of a batch's files run side by side: they are round trips, not work.
_CONCURRENCY = 8
_TRASH_PREFIX = "T#"


@dataclass(frozen=True)
class Purged:
    file_id: str
    path: str
    released_bytes: int


@dataclass(frozen=True)
class EmptyTrashPage:
    purged: list[Purged]
    # Continue after this trash entry (None: the whole trash was looked at).
    cursor: str | None
    # Only files trashed at or before this time (ms) are purged, on every page.
    before: int

    @property
    def released_bytes(self) -> int:
        return sum(p.released_bytes for p in self.purged)


@dataclass
class PurgeRun:
    """What one run of the scheduled purge did."""

    cutoff: int
    purged: int = 0
    released_bytes: int = 0
    users: int = 0
    failed: int = 0
    # Upload sessions that expired while pending, deleted with their bytes.
    abandoned_uploads: int = 0
    # False when the run stopped early (its time ran out); the next run goes on.
    complete: bool = True


@dataclass
class _Plan:
    """What purging one trashed file deletes and releases."""

    record: FileRecord
    # Deletes of V# and S# items with the bytes each releases (a share releases none).
    children: list[tuple[keys.ItemKey, int]] = field(default_factory=list)
    # Bytes already released by transactions that deleted surplus children (_trim).
    trimmed: int = 0

    @property
    def released(self) -> int:
        """What the final commit releases (the children still to delete)."""
        return sum(size for _, size in self.children)

    @property
    def size(self) -> int:
        """Transaction items of the final commit: F#, T#, PURGE# and the children."""
        return 3 + len(self.children)


# ------------------------------------------------------------------ operations
def purge_file(svc: Services, caller: Caller, file_id: str) -> Purged:
    """Delete one trashed file for good. A purge whose bytes were left behind is finished
    (and answers 0 bytes released); anything else not in the trash is refused."""
    store, user = svc.store, caller.user_id
    record = store.file(user, file_id)
    if record is None:
        pending = store.get(PurgeRecord, keys.purge(user, file_id))
        if pending is None:
            raise NotFound("no such file in the trash")
        _delete_bytes(svc, user, [pending.file_id])
        return Purged(pending.file_id, pending.path, 0)
    if record.state is not FileState.TRASHED:
        raise Conflict(
            f"'{record.path}' is not in the trash; delete it first (it goes to the trash), "
            "then delete it forever from there",
            code="not_in_trash",
        )
    (outcome,) = _purge(svc, user, [record])
    if isinstance(outcome, Conflict):
        raise outcome
    return outcome


def empty_trash(
    svc: Services,
    caller: Caller,
    *,
    before: int | None,
    cursor: str | None,
    limit: int = EMPTY_PAGE,
) -> EmptyTrashPage:
    """Purge one page of the caller's trash: the files trashed at or before ``before``
    (default: now). Call again with the returned cursor and ``before`` until the cursor is
    None; files trashed after the first call are left alone."""
    store, user = svc.store, caller.user_id
    cutoff = svc.now_ms() if before is None else before
    after = decode_cursor(cursor, _TRASH_PREFIX)
    if after is None:  # the first page also finishes earlier purges that left bytes behind
        pending = [p.file_id for p in store.iter_all(PurgeRecord, keys.user_pk(user), "PURGE#")]
        _delete_bytes(svc, user, pending)
    records, next_after = store.page(
        FileRecord, keys.user_pk(user), _TRASH_PREFIX, after=after, limit=limit
    )
    due = [r for r in records if r.trashed_at is None or r.trashed_at <= cutoff]
    # A file restored meanwhile (a conflict) is simply no longer in the trash.
    purged = [o for o in _purge(svc, user, due) if isinstance(o, Purged)]
    return EmptyTrashPage(purged, encode_cursor(next_after), cutoff)


def purge_expired(
    svc: Services,
    *,
    retention_days: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> PurgeRun:
    """The scheduled job: purge every user's files trashed longer than the retention period
    ago (strictly older than ``now - retention``), finish purges that left bytes behind, and
    delete upload sessions abandoned before their expiry with the bytes sent for them.

    ``should_stop`` is asked between batches (a Lambda's remaining time); what is left is
    purged by the next run. A user whose purge fails is logged and skipped.
    """
    days = svc.config.trash_retention_days if retention_days is None else retention_days
    now = svc.now_ms()
    run = PurgeRun(cutoff=now - days * DAY_MS)
    users: set[str] = set()
    current: str | None = None
    records: list[FileRecord] = []
    pending: list[str] = []
    sessions: list[UploadRecord] = []
    drops: list[DroppedUpload] = []

    def flush() -> None:
        if current is None or not (records or pending or sessions or drops):
            return
        users.add(current)
        try:
            _delete_bytes(svc, current, pending)
            for outcome in _purge(svc, current, records):
                if isinstance(outcome, Purged):
                    run.purged += 1
                    run.released_bytes += outcome.released_bytes
        except Exception:  # one user's trouble must not stop everyone else's purge
            run.failed += len(records)
            log.exception("could not purge the expired trash of user %s", current)
        for drop in drops:  # dropped earlier, their bytes not yet deleted
            try:
                finish_drop(svc, current, drop)
            except Exception:  # its marker stays for the next run; the others go on
                log.exception(
                    "could not delete the bytes of dropped upload %s of user %s",
                    drop.upload_id,
                    current,
                )
        try:
            run.abandoned_uploads += sweep_abandoned(svc, current, sessions)
        except Exception:
            log.exception("could not delete the abandoned uploads of user %s", current)
        records.clear()
        pending.clear()
        sessions.clear()
        drops.clear()

    # A scan returns each user's items together (one partition), in key order.
    found = svc.store.scan_expired(trashed_before=run.cutoff, sessions_expired_before=now)
    for user, entry in found:
        if user != current or len(records) + len(pending) + len(sessions) + len(drops) >= JOB_BATCH:
            flush()
            if should_stop():
                run.complete = False
                break
            current = user
        if isinstance(entry, PurgeRecord):
            pending.append(entry.file_id)
        elif isinstance(entry, UploadRecord):
            sessions.append(entry)
        elif isinstance(entry, DroppedUpload):
            drops.append(entry)
        else:
            records.append(entry)
    else:
        flush()
    run.users = len(users)
    return run


# ------------------------------------------------------------------ the purge
def _purge(svc: Services, user: str, records: list[FileRecord]) -> list[Purged | Conflict]:
    """Purge the records (all trashed files of ``user``), in as few transactions as fit.
    Each file's outcome, in order: Purged, or Conflict when it left the trash meanwhile."""
    if not records:
        return []
    plans = _plans(svc, user, records)
    outcomes: dict[str, Purged | Conflict] = {}
    committed: list[str] = []
    try:
        ready: list[_Plan] = []
        for plan in plans:
            try:
                _trim(svc, user, plan)
            except Conflict:
                outcomes[plan.record.file_id] = _left_the_trash()
            else:
                ready.append(plan)
        for group in _groups(ready):
            for plan, outcome in _commit_group(svc, user, group):
                outcomes[plan.record.file_id] = outcome
                if isinstance(outcome, Purged):
                    committed.append(plan.record.file_id)
    finally:
        _delete_bytes(svc, user, committed)
    return [outcomes[r.file_id] for r in records]


def _plans(svc: Services, user: str, records: list[FileRecord]) -> list[_Plan]:
    shares: dict[str, list[ShareRecord]] = defaultdict(list)
    for share in svc.store.iter_all(ShareRecord, keys.user_pk(user), "S#"):
        shares[share.file_id].append(share)

    def plan_of(record: FileRecord) -> _Plan:
        versions = svc.store.iter_all(VersionRecord, keys.user_pk(user), f"V#{record.file_id}#")
        children = [
            (keys.version(user, v.file_id, v.version_id), _owned_bytes(user, v)) for v in versions
        ]
        children += [(keys.share(user, s.share_id), 0) for s in shares[record.file_id]]
        return _Plan(record, children)

    if len(records) == 1:
        return [plan_of(records[0])]
    with ThreadPoolExecutor(min(_CONCURRENCY, len(records))) as pool:
        return list(pool.map(plan_of, records))


def _owned_bytes(user: str, version: VersionRecord) -> int:
    """What the version counted against the quota: its size if it has bytes of its own."""
    own = keys.blob_key(user, version.file_id, version.version_id)
    return version.size if version.blob_key == own else 0


def _still_trashed(record: FileRecord) -> dict[str, Any]:
    """Condition arguments: the file is in the trash exactly as it was read."""
    values: dict[str, Any] = {":trashed": FileState.TRASHED.value, ":v": record.version_id}
    if record.trashed_at is None:  # (every trash writes one; never fail on a record without)
        when = "attribute_not_exists(#trashed_at)"
    else:
        when, values[":t"] = "#trashed_at = :t", record.trashed_at
    return {"condition": f"#state = :trashed AND #version_id = :v AND {when}", "values": values}


def _trim(svc: Services, user: str, plan: _Plan) -> None:
    """A file with more versions and links than one transaction holds loses the surplus
    first, in transactions that each release exactly what they delete (and hold only while
    the file is still in the trash)."""
    store = svc.store
    while plan.size > MAX_TRANSACTION_ITEMS:
        take = min(MAX_TRANSACTION_ITEMS - 1, plan.size - MAX_TRANSACTION_ITEMS)
        chunk, plan.children = plan.children[:take], plan.children[take:]
        check = store.condition_check(
            keys.file(user, plan.record.file_id), **_still_trashed(plan.record)
        )
        items = [check, *(store.delete(key) for key, _ in chunk)]
        released = sum(size for _, size in chunk)
        store.commit(user, partial(_releasing, items, released))
        plan.trimmed += released


def _releasing(items: list[dict[str, Any]], released: int, profile: Profile) -> Mutation:
    """A mutation that gives ``released`` bytes back (never below zero used)."""
    return Mutation(items=items, used_delta=-min(released, profile.used_bytes))


def _left_the_trash() -> Conflict:
    return Conflict("the file left the trash while it was being deleted", code="not_in_trash")


def _final_items(svc: Services, user: str, plan: _Plan, now: int) -> list[dict[str, Any]]:
    store, record = svc.store, plan.record
    return [
        store.delete(keys.file(user, record.file_id), **_still_trashed(record)),
        store.delete(keys.trash(user, record.file_id)),
        *(store.delete(key) for key, _ in plan.children),
        store.put(keys.purge(user, record.file_id), PurgeRecord(record.file_id, record.path, now)),
    ]


def _groups(plans: list[_Plan]) -> Iterable[list[_Plan]]:
    group: list[_Plan] = []
    size = 0
    for plan in plans:
        if group and size + plan.size > MAX_TRANSACTION_ITEMS:
            yield group
            group, size = [], 0
        group.append(plan)
        size += plan.size
    if group:
        yield group


def _commit_group(
    svc: Services, user: str, group: list[_Plan]
) -> list[tuple[_Plan, Purged | Conflict]]:
    """One transaction for the group; if a file in it left the trash, one per file, so only
    that file is left out."""

    def commit(plans: list[_Plan]) -> None:
        now = svc.now_ms()
        items = [item for p in plans for item in _final_items(svc, user, p, now)]
        svc.store.commit(user, partial(_releasing, items, sum(p.released for p in plans)))

    def purged(plan: _Plan) -> Purged:
        return Purged(plan.record.file_id, plan.record.path, plan.trimmed + plan.released)

    if len(group) > 1:
        try:
            commit(group)
        except Conflict:
            pass
        else:
            return [(plan, purged(plan)) for plan in group]
    out: list[tuple[_Plan, Purged | Conflict]] = []
    for plan in group:
        try:
            commit([plan])
        except Conflict:
            out.append((plan, _left_the_trash()))
        else:
            out.append((plan, purged(plan)))
    return out


def _delete_bytes(svc: Services, user: str, file_ids: list[str]) -> None:
    """Every S3 version of the files' blobs and previews, then their ``PURGE#`` markers.
    A file whose bytes could not all be deleted keeps its marker (and is logged)."""
    if not file_ids:
        return

    def delete(file_id: str) -> None:
        try:
            svc.uploads.delete_everything_under(keys.blob_prefix(user, file_id))
            if svc.processed is not None:
                svc.processed.delete_everything_under(keys.preview_prefix(user, file_id))
        except (BotoCoreError, ClientError):
            log.exception("could not delete the bytes of purged file %s; will retry", file_id)
            return
        svc.store.delete_plain(keys.purge(user, file_id))

    if len(file_ids) == 1:
        delete(file_ids[0])
        return
    with ThreadPoolExecutor(min(_CONCURRENCY, len(file_ids))) as pool:
        list(pool.map(delete, file_ids))
