"""DynamoDB access for the metadata table (the key design is in keys.py)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from backend import naming
from backend.data import keys
from backend.data.records import (
    ChangeOp,
    ChangeRecord,
    DroppedUpload,
    FileRecord,
    FileState,
    Profile,
    PurgeRecord,
    ShareRecord,
    UploadMode,
    UploadRecord,
    UploadStatus,
    VersionRecord,
)
from backend.errors import Conflict, QuotaExceeded, TooManyRequests

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

R = TypeVar("R")
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
_ENUMS: dict[str, Callable[[Any], Any]] = {
    "state": FileState,
    "mode": UploadMode,
    "status": UploadStatus,
    "op": ChangeOp,
}
MAX_COMMIT_ATTEMPTS = 8


# DynamoDB numbers carry at most 38 significant digits; TypeSerializer refuses larger ones.
_N_LIMIT = 10**38


def _to_attr(value: Any) -> dict[str, Any]:
    """``TypeSerializer().serialize(value)``, with the types records are made of first:
    the SDK's serializer tries every type in turn and goes through ``Decimal`` for every
    number, which cost 5% of the local stack's CPU in an initial sync."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int and -_N_LIMIT < value < _N_LIMIT:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if kind is dict:
        return {"M": {k: _to_attr(v) for k, v in value.items()}}
    if kind is list:
        return {"L": [_to_attr(v) for v in value]}
    attr: dict[str, Any] = dict(_SERIALIZER.serialize(value))
    return attr


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    return value


def to_item(record: Any, **extra: Any) -> dict[str, Any]:
    data = {k: v for k, v in dataclasses.asdict(record).items() if v is not None}
    data.update(extra)
    return {k: _to_attr(v) for k, v in data.items()}


def from_item(cls: type[R], item: Mapping[str, Any]) -> R:
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = {f.name for f in fields}
    # None values are not stored, so an absent optional attribute reads back as None.
    values: dict[str, Any] = {
        f.name: None
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    for key, raw in item.items():
        if key not in names:
            continue
        value = _plain(_DESERIALIZER.deserialize(raw))
        values[key] = _ENUMS[key](value) if key in _ENUMS else value
    return cls(**values)


@dataclass
class Mutation:
    """What one committed change writes, besides the profile and change-feed items."""

    items: list[dict[str, Any]] = field(default_factory=list)
    change: ChangeRecord | None = None
    # More changes in the same transaction (a batch); each gets the next ``seq``.
    more_changes: list[ChangeRecord] = field(default_factory=list)
    used_delta: int = 0
    # Which transaction item (by index into ``items``) failing means what.
    conflict_messages: dict[int, str] = field(default_factory=dict)


class MetadataStore:
    """Typed reads and transactional writes of one user's metadata."""

    def __init__(self, client: DynamoDBClient, table_name: str, *, default_quota: int) -> None:
        self._db = client
        self._table = table_name
        self._default_quota = default_quota

    # ----- item builders used by the logic layer -----
    def put(
        self,
        key: keys.ItemKey,
        record: Any,
        *,
        condition: str | None = None,
        values: Mapping[str, Any] | None = None,
        ttl: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """``ttl``: seconds since the epoch after which DynamoDB may drop the item."""
        if ttl is not None:
            extra[naming.TTL_ATTRIBUTE] = ttl
        item = to_item(record, **extra)
        item.update(self._key(key))
        op: dict[str, Any] = {"TableName": self._table, "Item": item}
        self._add_condition(op, condition, values)
        return {"Put": op}

    def delete(
        self,
        key: keys.ItemKey,
        *,
        condition: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {"TableName": self._table, "Key": self._key(key)}
        self._add_condition(op, condition, values)
        return {"Delete": op}

    def condition_check(
        self, key: keys.ItemKey, *, condition: str, values: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """A transaction item that writes nothing: the transaction fails unless it holds."""
        op: dict[str, Any] = {"TableName": self._table, "Key": self._key(key)}
        self._add_condition(op, condition, values)
        return {"ConditionCheck": op}

    @staticmethod
    def _add_condition(
        op: dict[str, Any], condition: str | None, values: Mapping[str, Any] | None
    ) -> None:
        if condition:
            op["ConditionExpression"] = condition
            names = {f"#{n}": n for n in re.findall(r"#(\w+)", condition)}
            if names:
                op["ExpressionAttributeNames"] = names
            if values:
                op["ExpressionAttributeValues"] = {k: _to_attr(v) for k, v in values.items()}

    @staticmethod
    def _key(key: keys.ItemKey) -> dict[str, Any]:
        return {naming.PK: _to_attr(key.pk), naming.SK: _to_attr(key.sk)}

    # ----- reads -----
    def _get(self, key: keys.ItemKey) -> dict[str, Any] | None:
        out = self._db.get_item(TableName=self._table, Key=self._key(key), ConsistentRead=True)
        return out.get("Item")

    def get(self, cls: type[R], key: keys.ItemKey) -> R | None:
        """The record at ``key`` (a consistent read), or None."""
        item = self._get(key)
        return None if item is None else from_item(cls, item)

    def profile(self, user_id: str) -> Profile:
        item = self._get(keys.profile(user_id))
        if item is None:
            fresh = Profile(user_id=user_id, quota_bytes=self._default_quota, used_bytes=0, seq=0)
            try:
                self._db.put_item(
                    TableName=self._table,
                    Item=self.put(keys.profile(user_id), fresh)["Put"]["Item"],
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise
                item = self._get(keys.profile(user_id))
                assert item is not None
                return from_item(Profile, item)
            return fresh
        return from_item(Profile, item)

    def file(self, user_id: str, file_id: str) -> FileRecord | None:
        item = self._get(keys.file(user_id, file_id))
        return None if item is None else from_item(FileRecord, item)

    def file_at(self, user_id: str, path: str) -> FileRecord | None:
        item = self._get(keys.path(user_id, path))
        return None if item is None else from_item(FileRecord, item)

    def upload(self, user_id: str, upload_id: str) -> UploadRecord | None:
        item = self._get(keys.upload(user_id, upload_id))
        return None if item is None else from_item(UploadRecord, item)

    def version(self, user_id: str, file_id: str, version_id: str) -> VersionRecord | None:
        item = self._get(keys.version(user_id, file_id, version_id))
        return None if item is None else from_item(VersionRecord, item)

    def share(self, user_id: str, share_id: str) -> ShareRecord | None:
        item = self._get(keys.share(user_id, share_id))
        return None if item is None else from_item(ShareRecord, item)

    def share_by_token(self, token: str) -> ShareRecord | None:
        out = self._db.query(
            TableName=self._table,
            IndexName=naming.GSI_SHARE_TOKEN,
            KeyConditionExpression="#k = :k",
            ExpressionAttributeNames={"#k": naming.GSI1_PK},
            ExpressionAttributeValues={":k": _to_attr(keys.share_token_key(token))},
            Limit=1,
        )
        items = out.get("Items", [])
        return from_item(ShareRecord, items[0]) if items else None

    def page(
        self,
        cls: type[R],
        pk: str,
        sk_prefix: str,
        *,
        after: str | None,
        limit: int,
        sk_floor: str | None = None,
    ) -> tuple[list[R], str | None]:
        """One page of the partition's items whose sort key starts with ``sk_prefix``.

        Returns the records, in key order, and the sort key to continue after
        (None at the end).
        """
        values = {":pk": _to_attr(pk)}
        condition = "pk = :pk"
        if sk_prefix:  # DynamoDB refuses begins_with on an empty string
            condition += " AND begins_with(sk, :p)"
            values[":p"] = _to_attr(sk_prefix)
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "Limit": limit,
            "ConsistentRead": True,
        }
        start = after or sk_floor
        if start is not None:
            params["ExclusiveStartKey"] = self._key(keys.ItemKey(pk, start))
        out = self._db.query(**params)
        records = [from_item(cls, item) for item in out.get("Items", [])]
        last = out.get("LastEvaluatedKey")
        next_after = _DESERIALIZER.deserialize(last[naming.SK]) if last else None
        return records, next_after

    def iter_all(self, cls: type[R], pk: str, sk_prefix: str) -> Iterator[R]:
        after: str | None = None
        while True:
            records, after = self.page(cls, pk, sk_prefix, after=after, limit=500)
            yield from records
            if after is None:
                return

    def scan_expired(
        self, *, trashed_before: int, sessions_expired_before: int, page_size: int = 1000
    ) -> Iterator[tuple[str, FileRecord | PurgeRecord | UploadRecord | DroppedUpload]]:
        """What the daily job tidies, as (user id, record): every user's trash entries
        (``T#``) trashed before ``trashed_before``, every unfinished purge (``PURGE#``) or
        dropped upload (``DROP#``), and every upload session (``UP#``) still pending that
        expired before ``sessions_expired_before``. A scan of the whole table, filtered by
        DynamoDB (no index is kept for a daily job); each user's items come together, in key
        order."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": (
                "(begins_with(#sk, :trash) AND #state = :trashed AND #trashed_at < :before)"
                " OR (begins_with(#sk, :purge) AND attribute_exists(#purged_at))"
                " OR (begins_with(#sk, :drop) AND attribute_exists(#dropped_at))"
                " OR (begins_with(#sk, :upload) AND #status = :pending"
                " AND #expires_at < :expired)"
            ),
            "ExpressionAttributeNames": {
                "#sk": naming.SK,
                "#state": "state",
                "#trashed_at": "trashed_at",
                "#purged_at": "purged_at",
                "#dropped_at": "dropped_at",
                "#status": "status",
                "#expires_at": "expires_at",
            },
            "ExpressionAttributeValues": {
                ":trash": _to_attr("T#"),
                ":purge": _to_attr("PURGE#"),
                ":drop": _to_attr("DROP#"),
                ":upload": _to_attr("UP#"),
                ":trashed": _to_attr(FileState.TRASHED.value),
                ":before": _to_attr(trashed_before),
                ":pending": _to_attr(UploadStatus.PENDING.value),
                ":expired": _to_attr(sessions_expired_before),
            },
            "Limit": page_size,
        }
        while True:
            out = self._db.scan(**params)
            for item in out.get("Items", []):
                pk = str(_DESERIALIZER.deserialize(item[naming.PK]))
                sk = str(_DESERIALIZER.deserialize(item[naming.SK]))
                # Path index items (pk U#<sub>#P) have bare paths as sort keys, which may
                # look like anything: only the user's own partition counts.
                if not pk.startswith("U#") or pk.endswith("#P"):
                    continue
                user_id = pk[2:]
                if sk.startswith("T#"):
                    yield user_id, from_item(FileRecord, item)
                elif sk.startswith("PURGE#"):
                    yield user_id, from_item(PurgeRecord, item)
                elif sk.startswith("UP#"):
                    yield user_id, from_item(UploadRecord, item)
                elif sk.startswith("DROP#"):
                    yield user_id, from_item(DroppedUpload, item)
            last = out.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def write_together(self, items: list[dict[str, Any]]) -> bool:
        """One transaction of ``items`` (from :meth:`put`, :meth:`delete`, ...) outside the
        change feed; False when a condition did not hold (nothing was written)."""
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            reasons = _cancellation_reasons(exc)
            if reasons is not None and "ConditionalCheckFailed" in reasons:
                return False
            raise
        return True

    # ----- writes -----
    def put_plain(
        self, key: keys.ItemKey, record: Any, *, ttl: int | None = None, **extra: Any
    ) -> None:
        """An unconditional single-item write that is not part of the change feed."""
        item = self.put(key, record, ttl=ttl, **extra)["Put"]["Item"]
        self._db.put_item(TableName=self._table, Item=item)

    def put_new(self, key: keys.ItemKey, record: Any, *, ttl: int | None = None) -> bool:
        """Write the item unless it exists; False when it did (an idempotent redelivery)."""
        item = self.put(key, record, ttl=ttl)["Put"]["Item"]
        try:
            self._db.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_many(self, cls: type[R], item_keys: list[keys.ItemKey]) -> dict[keys.ItemKey, R]:
        """The records that exist among ``item_keys`` (consistent reads, 100 keys a call)."""
        return {key: from_item(cls, item) for key, item in self._get_items(item_keys).items()}

    def file_and_version(
        self, user_id: str, file_id: str, version_id: str
    ) -> tuple[FileRecord | None, VersionRecord | None]:
        """The file and one of its versions, read together (one round trip)."""
        file_key, version_key = (
            keys.file(user_id, file_id),
            keys.version(user_id, file_id, version_id),
        )
        found = self._get_items([file_key, version_key])
        file_item, version_item = found.get(file_key), found.get(version_key)
        return (
            None if file_item is None else from_item(FileRecord, file_item),
            None if version_item is None else from_item(VersionRecord, version_item),
        )

    def _get_items(self, item_keys: list[keys.ItemKey]) -> dict[keys.ItemKey, dict[str, Any]]:
        found: dict[keys.ItemKey, dict[str, Any]] = {}
        unique = list(dict.fromkeys(item_keys))
        for start in range(0, len(unique), 100):
            pending: Any = {
                self._table: {
                    "Keys": [self._key(k) for k in unique[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            for _ in range(MAX_COMMIT_ATTEMPTS):
                out = self._db.batch_get_item(RequestItems=pending)
                for item in out.get("Responses", {}).get(self._table, []):
                    key = keys.ItemKey(
                        _DESERIALIZER.deserialize(item[naming.PK]),
                        _DESERIALIZER.deserialize(item[naming.SK]),
                    )
                    found[key] = item
                pending = out.get("UnprocessedKeys")
                if not pending:
                    break
            else:
                raise TooManyRequests("the metadata store is busy; try again")
        return found

    def put_many_plain(self, entries: list[tuple[keys.ItemKey, Any, int | None]]) -> None:
        """Unconditional writes of (key, record, ttl) outside the change feed, 25 a call."""
        for start in range(0, len(entries), 25):
            pending: Any = {
                self._table: [
                    {"PutRequest": {"Item": self.put(key, record, ttl=ttl)["Put"]["Item"]}}
                    for key, record, ttl in entries[start : start + 25]
                ]
            }
            for _ in range(MAX_COMMIT_ATTEMPTS):
                pending = self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems")
                if not pending:
                    break
            else:
                raise TooManyRequests("the metadata store is busy; try again")

    def delete_plain(self, key: keys.ItemKey) -> None:
        self._db.delete_item(TableName=self._table, Key=self._key(key))

    def update_counter(
        self,
        key: keys.ItemKey,
        *,
        add: Mapping[str, int],
        set_values: Mapping[str, Any] | None = None,
        condition: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> bool:
        """Atomically add to counters; returns False when the condition did not hold."""
        names = {f"#{n}": n for n in [*add, *(set_values or {})]}
        attr_values = {f":{n}": _to_attr(v) for n, v in [*add.items(), *(set_values or {}).items()]}
        clauses = []
        if add:
            clauses.append("ADD " + ", ".join(f"#{n} :{n}" for n in add))
        if set_values:
            clauses.append("SET " + ", ".join(f"#{n} = :{n}" for n in set_values))
        expr = " ".join(clauses)
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(key),
            "UpdateExpression": expr,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": attr_values,
        }
        cond = "attribute_exists(pk)" + (f" AND ({condition})" if condition else "")
        params["ConditionExpression"] = cond
        for name in re.findall(r"#(\w+)", cond):
            names[f"#{name}"] = name
        if values:
            attr_values.update({k: _to_attr(v) for k, v in values.items()})
        try:
            self._db.update_item(**params)
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def write_outside_feed(self, items: list[dict[str, Any]]) -> bool:
        """Writes ``items`` together, outside the user's change sequence: for what changes no
        listing and no usage (a processing result), so it neither reads the profile nor
        contends with the user's uploads for its ``seq``. False when an item's condition
        failed (the caller re-reads and decides)."""
        for _ in range(MAX_COMMIT_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
            except ClientError as exc:
                reasons = _cancellation_reasons(exc)
                if reasons is None:
                    raise
                if "ConditionalCheckFailed" in reasons:
                    return False
                if "TransactionConflict" in reasons:
                    continue
                raise
            return True
        raise Conflict("the file is being changed concurrently; try again")

    def commit(self, user_id: str, build: Callable[[Profile], Mutation]) -> Profile:
        """Run ``build`` against the current profile and commit the result atomically.

        The profile's ``seq`` is the per-user serialization point: if another
        writer committed in between, the transaction is rebuilt and retried.
        Returns the profile as committed (its ``seq`` is the change's cursor).
        """
        for _ in range(MAX_COMMIT_ATTEMPTS):
            profile = self.profile(user_id)
            mutation = build(profile)
            changes = ([mutation.change] if mutation.change else []) + mutation.more_changes
            seq = profile.seq + len(changes)
            update: dict[str, Any] = {
                "TableName": self._table,
                "Key": self._key(keys.profile(user_id)),
                "UpdateExpression": "SET #seq = :new, #used = #used + :delta",
                "ConditionExpression": "#seq = :old AND #used <= :max",
                "ExpressionAttributeNames": {"#seq": "seq", "#used": "used_bytes"},
                "ExpressionAttributeValues": {
                    ":new": _to_attr(seq),
                    ":old": _to_attr(profile.seq),
                    ":delta": _to_attr(mutation.used_delta),
                    ":max": _to_attr(
                        profile.quota_bytes - mutation.used_delta
                        if mutation.used_delta > 0
                        else max(profile.used_bytes, profile.quota_bytes)
                    ),
                },
            }
            items = list(mutation.items)
            for n, change in enumerate(changes, start=profile.seq + 1):
                items.append(self.put(keys.change(user_id, n), dataclasses.replace(change, seq=n)))
            items.append({"Update": update})
            try:
                self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
            except ClientError as exc:
                reasons = _cancellation_reasons(exc)
                if reasons is None:
                    raise
                if reasons[-1] == "ConditionalCheckFailed":
                    current = self.profile(user_id)
                    if current.seq == profile.seq:
                        raise QuotaExceeded(
                            "storage quota exceeded",
                            quota_bytes=current.quota_bytes,
                            used_bytes=current.used_bytes,
                        ) from None
                    continue  # another writer got in first: rebuild on the new state
                for index, reason in enumerate(reasons[: len(mutation.items)]):
                    if reason == "ConditionalCheckFailed":
                        raise Conflict(
                            mutation.conflict_messages.get(index, "the file changed concurrently")
                        ) from None
                if "TransactionConflict" in reasons:
                    continue
                raise
            return dataclasses.replace(
                profile, seq=seq, used_bytes=profile.used_bytes + mutation.used_delta
            )
        raise TooManyRequests("too many concurrent changes; try again")


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _cancellation_reasons(exc: ClientError) -> list[str] | None:
    if _error_code(exc) != "TransactionCanceledException":
        return None
    reasons = exc.response.get("CancellationReasons")
    if reasons:
        return [str(r.get("Code", "None")) for r in reasons]
    # Some endpoints only list the reasons in the message: "... [None, ConditionalCheckFailed]".
    message = str(exc.response.get("Error", {}).get("Message", ""))
    match = re.search(r"\[([^\]]*)\]", message)
    if not match:
        return []
    return [part.strip() for part in match.group(1).split(",")]
