"""Uploads of many small files: in batches of pre-signed PUTs, or with their bytes inline.

One request starts up to 100 single-PUT uploads (one quota read, one batched existence check,
batched session writes) and one request completes them (a handful of transactions instead of
one per file). Or one request carries the files' bytes (up to ``INLINE_BATCH_BYTES``) and
records them at once: no session, no URL, no second request, no HEAD per file. Each item
succeeds or fails on its own; an item's error is the error the one-file operation would have
answered.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from backend.data import keys
from backend.data.keys import ItemKey
from backend.data.metadata import Mutation
from backend.data.records import FileRecord, FileState, Profile, UploadRecord, UploadStatus
from backend.errors import ApiError, BadRequest, Conflict, NotFound, QuotaExceeded
from backend.logic.context import Caller, Services
from backend.logic.inputs import (
    INLINE_BATCH_BYTES,
    INLINE_FILE_MAX,
    CompleteUpload,
    InitiateUpload,
    InlineFile,
)
from backend.logic.uploads import (
    UploadTicket,
    after_conflict,
    already_completed,
    check_quota,
    new_upload,
    session_ttl,
    stored_etag,
    ticket_for,
    version_mutation,
)

log = logging.getLogger(__name__)
MAX_BATCH = 100
# A file's version takes five transaction items (file, path, version, session, change) and
# the profile one more: 19 files fill a transaction within DynamoDB's 100-item limit.
FILES_PER_TRANSACTION = 19
# An inline file has no session record: four items a file, 24 files a transaction.
INLINE_FILES_PER_TRANSACTION = 24
# S3 checks of a batch's objects run side by side: they are round trips, not work.
_S3_CONCURRENCY = 8
# Stands in for an inline file answered before any upload starts (the file already holds its
# bytes, or they failed their checks), so the batch's other files go on their way.
_ANSWERED = ApiError("answered")

T = TypeVar("T")


@dataclass(frozen=True)
class CompleteItem:
    upload_id: str
    body: CompleteUpload


def initiate_batch(
    svc: Services, caller: Caller, items: list[InitiateUpload | ApiError]
) -> list[UploadTicket | ApiError]:
    def check(item: InitiateUpload) -> None:
        if item.size > svc.config.single_put_max:
            raise BadRequest(
                f"'{item.path}' is too large for a batch; upload it on its own",
                code="too_large_for_batch",
            )

    started = _start_each(svc, caller, items, check)
    sessions = [s[0] for s in started if not isinstance(s, ApiError)]
    svc.store.put_many_plain(
        [(keys.upload(caller.user_id, u.upload_id), u, session_ttl(u)) for u in sessions]
    )
    return [
        s if isinstance(s, ApiError) else ticket_for(svc, s[0], s[0].created_at) for s in started
    ]


Item = TypeVar("Item", bound=InitiateUpload)


def _start_each(
    svc: Services,
    caller: Caller,
    items: Sequence[Item | ApiError],
    check: Callable[[Item], T],
    existing: dict[ItemKey, FileRecord] | None = None,
) -> list[tuple[UploadRecord, T] | ApiError]:
    """Each item's new upload (with what ``check`` made of it), or the item's own error: its
    ``check``, a path twice in the batch, the quota (the batch's earlier items count too),
    the expected version. ``existing``: the files at the items' paths, when already read."""
    store, user = svc.store, caller.user_id
    profile = store.profile(user)
    if existing is None:
        existing = _files_at(svc, caller, items)
    now = svc.now_ms()
    seen: set[str] = set()
    reserved = 0
    out: list[tuple[UploadRecord, T] | ApiError] = []
    for item in items:
        if isinstance(item, ApiError):
            out.append(item)
            continue
        try:
            checked = check(item)
            if item.path in seen:
                raise BadRequest(f"'{item.path}' appears twice in the batch", code="duplicate")
            check_quota(_with_used(profile, reserved), item.size)
            upload = new_upload(svc, caller, item, existing.get(keys.path(user, item.path)), now)
        except ApiError as exc:
            out.append(exc)
            continue
        seen.add(item.path)
        reserved += item.size
        out.append((upload, checked))
    return out


def _files_at(
    svc: Services, caller: Caller, items: Sequence[InitiateUpload | ApiError]
) -> dict[ItemKey, FileRecord]:
    wanted = [item.path for item in items if not isinstance(item, ApiError)]
    return svc.store.get_many(FileRecord, [keys.path(caller.user_id, path) for path in wanted])


def _holds(current: FileRecord, item: InlineFile) -> bool:
    """Whether the file already is these bytes (as after a retried request whose answer was
    lost): sending them again changes nothing, whatever version the sender expected."""
    return (
        current.state is FileState.ACTIVE
        and current.size == item.size
        and current.sha256 == item.sha256
    )


def _with_used(profile: Profile, extra: int) -> Profile:
    return Profile(profile.user_id, profile.quota_bytes, profile.used_bytes + extra, profile.seq)


def complete_batch(
    svc: Services, caller: Caller, items: list[CompleteItem | ApiError]
) -> list[FileRecord | ApiError]:
    store, user = svc.store, caller.user_id
    ids = [item.upload_id for item in items if isinstance(item, CompleteItem)]
    sessions = store.get_many(UploadRecord, [keys.upload(user, i) for i in ids])
    out: list[FileRecord | ApiError | None] = [None] * len(items)
    checks: list[tuple[int, UploadRecord, CompleteUpload]] = []
    for index, item in enumerate(items):
        if isinstance(item, ApiError):
            out[index] = item
            continue
        upload = sessions.get(keys.upload(user, item.upload_id))
        if upload is None:
            out[index] = NotFound("no such upload")
        elif upload.status is UploadStatus.COMPLETED:
            out[index] = _outcome(partial(already_completed, svc, caller, upload))
        else:
            checks.append((index, upload, item.body))

    def check(entry: tuple[int, UploadRecord, CompleteUpload]) -> str | ApiError:
        _, upload, body = entry
        return _outcome(lambda: stored_etag(svc, upload, body))

    with ThreadPoolExecutor(_S3_CONCURRENCY) as pool:
        etags = list(pool.map(check, checks))
    ready: list[tuple[int, UploadRecord, str, str | None]] = []
    for (index, upload, body), etag in zip(checks, etags, strict=True):
        if isinstance(etag, ApiError):
            out[index] = etag
        else:
            ready.append((index, upload, etag, body.sha256))
    return _commit_all(svc, caller, ready, out, with_session=True)


def _commit_all(
    svc: Services,
    caller: Caller,
    ready: list[tuple[int, UploadRecord, str, str | None]],
    out: list[FileRecord | ApiError | None],
    *,
    with_session: bool,
) -> list[FileRecord | ApiError]:
    """Commits ``ready`` into ``out`` a transaction's worth at a time; the batch's answers."""
    size = FILES_PER_TRANSACTION if with_session else INLINE_FILES_PER_TRANSACTION
    for start in range(0, len(ready), size):
        group = ready[start : start + size]
        for index, result in _commit_group(svc, caller, group, with_session=with_session):
            out[index] = result
    return [r if r is not None else ApiError("not processed") for r in out]


def _commit_group(
    svc: Services,
    caller: Caller,
    group: list[tuple[int, UploadRecord, str, str | None]],
    *,
    with_session: bool,
) -> list[tuple[int, FileRecord | ApiError]]:
    """Commits the group in one transaction; if any file in it conflicts (or the quota would
    overflow), commits them one by one so only the files at fault fail."""
    store, user = svc.store, caller.user_id
    records: list[FileRecord] = []

    def build(profile: Profile) -> Mutation:
        now = svc.now_ms()
        current = store.get_many(FileRecord, [keys.file(user, g[1].file_id) for g in group])
        combined = Mutation()
        records.clear()
        for _, upload, etag, sha in group:
            record, one = version_mutation(
                svc,
                caller,
                upload,
                etag,
                sha,
                now,
                current.get(keys.file(user, upload.file_id)),
                seq=profile.seq + 1 + len(combined.more_changes),
                read_current=False,
                with_session=with_session,
            )
            records.append(record)
            combined.items.extend(one.items)
            assert one.change is not None
            combined.more_changes.append(one.change)
            combined.used_delta += one.used_delta
        return combined

    if len(group) > 1:
        try:
            store.commit(user, build)
        except (Conflict, QuotaExceeded):
            pass
        else:
            return [(index, record) for (index, *_), record in zip(group, records, strict=True)]
    return [
        (index, _commit_one(svc, caller, upload, etag, sha, with_session=with_session))
        for index, upload, etag, sha in group
    ]


def _commit_one(
    svc: Services,
    caller: Caller,
    upload: UploadRecord,
    etag: str,
    sha256: str | None,
    *,
    with_session: bool,
) -> FileRecord | ApiError:
    single: list[FileRecord] = []

    def build(profile: Profile) -> Mutation:
        record, mutation = version_mutation(
            svc,
            caller,
            upload,
            etag,
            sha256,
            svc.now_ms(),
            seq=profile.seq + 1,
            with_session=with_session,
        )
        single[:] = [record]
        return mutation

    try:
        svc.store.commit(caller.user_id, build)
    except ApiError as exc:
        if with_session:
            if isinstance(exc, Conflict):
                return _outcome(partial(after_conflict, svc, caller, upload, exc))
            return exc
        # An inline file's bytes have no session to expire with: recorded now or never.
        _forget_bytes(svc, upload.blob_key)
        return exc
    return single[0]


def upload_inline(
    svc: Services,
    caller: Caller,
    items: list[InlineFile | ApiError],
    contents: Sequence[bytes | None],
) -> list[FileRecord | ApiError]:
    """Records small files whose bytes came with the request (``contents[i]`` for
    ``items[i]``), each on its own: checked (size, SHA-256, name, quota, expected version),
    stored in S3, then committed a few transactions for the lot. A file that already holds
    the bytes sent is answered as it is."""
    valid = [item for item in items if isinstance(item, InlineFile)]
    if sum(item.size for item in valid) > INLINE_BATCH_BYTES:
        raise BadRequest(
            f"an inline batch carries at most {INLINE_BATCH_BYTES} bytes; send fewer files",
            code="batch_too_large",
        )
    limit = min(INLINE_FILE_MAX, svc.config.single_put_max)
    checked = [
        _outcome(partial(_inline_bytes, item, data, limit))
        if isinstance(item, InlineFile)
        else item
        for item, data in zip(items, contents, strict=True)
    ]
    existing = _files_at(svc, caller, items)
    sent = Counter(item.path for item in valid)
    out: list[FileRecord | ApiError | None] = [None] * len(items)
    for index, item in enumerate(items):
        # A path sent twice goes the usual way, where the second is refused as a duplicate.
        if isinstance(item, InlineFile) and sent[item.path] == 1:
            current = existing.get(keys.path(caller.user_id, item.path))
            if current is not None and _holds(current, item):
                # The bytes must still be the ones declared, as for any other item.
                data = checked[index]
                out[index] = data if isinstance(data, ApiError) else current
    pending = [
        _ANSWERED if done is not None else (data if isinstance(data, ApiError) else item)
        for item, data, done in zip(items, checked, out, strict=True)
    ]
    started = _start_each(svc, caller, pending, lambda item: None, existing)
    accepted: list[tuple[int, UploadRecord, bytes, str]] = []
    for index, (item, start) in enumerate(zip(items, started, strict=True)):
        if start is _ANSWERED:
            continue
        if isinstance(start, ApiError):
            out[index] = start
        else:
            data = checked[index]
            assert isinstance(item, InlineFile) and isinstance(data, bytes)
            accepted.append((index, start[0], data, item.sha256))

    def store_bytes(entry: tuple[int, UploadRecord, bytes, str]) -> str | ApiError:
        _, upload, data, sha256 = entry
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        return _outcome(
            lambda: svc.uploads.put_bytes(
                upload.blob_key, data, sha256_b64=checksum, content_type=upload.content_type
            )
        )

    with ThreadPoolExecutor(_S3_CONCURRENCY) as pool:
        etags = list(pool.map(store_bytes, accepted))
    ready: list[tuple[int, UploadRecord, str, str | None]] = []
    for (index, upload, _, sha256), etag in zip(accepted, etags, strict=True):
        if isinstance(etag, ApiError):
            out[index] = etag
        else:
            ready.append((index, upload, etag, sha256))
    return _commit_all(svc, caller, ready, out, with_session=False)


def _inline_bytes(item: InlineFile, data: bytes | None, limit: int) -> bytes:
    if item.size > limit:
        raise BadRequest(
            f"'{item.path}' is too large to send inline; upload it on its own",
            code="too_large_for_batch",
        )
    if data is None or len(data) != item.size:
        sent = 0 if data is None else len(data)
        raise BadRequest(
            f"'{item.path}' declared {item.size} bytes but {sent} were sent",
            code="size_mismatch",
        )
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise BadRequest(
            f"the SHA-256 of '{item.path}' differs from the bytes that were sent; send it again",
            code="checksum_mismatch",
        )
    return data


def _forget_bytes(svc: Services, blob_key: str) -> None:
    """Deletes bytes nothing refers to, as a courtesy: failing to must not fail the batch,
    whose other files are recorded already."""
    try:
        svc.uploads.delete(blob_key)
    except (BotoCoreError, ClientError):
        log.warning("could not delete the unrecorded object %s", blob_key, exc_info=True)


def _outcome(call: Callable[[], T]) -> T | ApiError:
    try:
        return call()
    except ApiError as exc:
        return exc
