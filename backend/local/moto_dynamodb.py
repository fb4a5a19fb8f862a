"""Two fixes to moto's DynamoDB that the local stack needs to hold real workloads.

1. ``TransactWriteItems`` in moto deep-copies every table a transaction touches,
   so each write costs O(table size) in time and memory: 200 uploads grew the
   stack to 5 GB. The replacement checks every condition first and then applies
   the writes; it backs up only the items it touches, to undo a write that fails
   part-way. It runs under the stack's DynamoDB lock, so check-then-apply is
   atomic, as in DynamoDB.
2. moto serves requests on many threads with no locking; DynamoDB requests go
   through ``DYNAMODB_LOCK`` in the AWS front, which also gives snapshots a
   consistent view (``dump_items``, ``TableJournal``).
3. Writes note the keys they touch (on the table's stream), so a snapshot
   appends only the items changed since the last one (``table_journal.TableJournal``).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

DYNAMODB_LOCK = threading.RLock()
_INSTALLED: list[bool] = []


def _key_of(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    plan: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = []
    errors: list[tuple[str | None, str | None, Any]] = []
    with DYNAMODB_LOCK:
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException()
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                errors.append(("ValidationError", "Unsupported transaction operation", None))
                continue
            table = self.get_table(op["TableName"])
            key = _key_of(table, op_type, op)
            marker = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            current = self.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(
                    condition,
                    op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues"),
                )
                if not check.expr(current):
                    errors.append(
                        ("ConditionalCheckFailed", "The conditional request failed", None)
                    )
                    continue
            errors.append((None, None, None))
            plan.append((op_type, op, key, current))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        undo: list[tuple[str, dict[str, Any], Any]] = []
        try:
            for op_type, op, key, current in plan:
                if op_type == "ConditionCheck":
                    continue
                undo.append((op["TableName"], key, copy.deepcopy(current)))
                names, values = (
                    op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues"),
                )
                if op_type == "Put":
                    self.put_item(
                        op["TableName"],
                        op["Item"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        op["TableName"],
                        key,
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                else:
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
        except Exception:
            for table_name, key, before in reversed(undo):
                if before is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before.to_json()["Attributes"])
            raise


def install() -> None:
    """Replace moto's TransactWriteItems and note which items change (idempotent; affects
    this process only)."""
    if _INSTALLED:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard

    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    add = StreamShard.add

    def add_noting_change(self: Any, old: Any, new: Any) -> None:
        # Every write to a table with a stream (put, update, delete, batch, transaction)
        # reports itself here; TableJournal appends only those items.
        changed: set[Any] | None = getattr(self.table, CHANGED_KEYS_ATTR, None)
        if changed is not None:
            for item in (old, new):
                if item is not None:
                    changed.add((item.hash_key, item.range_key))
        add(self, old, new)

    StreamShard.add = add_noting_change  # type: ignore[method-assign]
    _INSTALLED.append(True)


CHANGED_KEYS_ATTR = "_filevault_changed_keys"


def dump_items(account_id: str, region: str, table_name: str) -> list[dict[str, Any]]:
    """Every item of a table in DynamoDB JSON, read at one consistent point."""
    from moto.dynamodb.models import dynamodb_backends

    with DYNAMODB_LOCK:
        table = dynamodb_backends[account_id][region].get_table(table_name)
        return [item.to_json()["Attributes"] for item in table.all_items()]


def unordered_items(table: Any) -> list[Any]:
    """Every item of a moto table, in no particular order. moto's ``all_items`` sorts them by
    key, O(n log n) comparisons of its typed values, which a snapshot has no use for: at
    10,000 files the sort was 44% of writing the table's base."""
    if table.range_key_attr is None:
        return list(table.items.values())
    return [item for partition in table.items.values() for item in partition.values()]


def find_item(table: Any, hash_key: Any, range_key: Any) -> Any:
    if range_key is None:
        return table.items.get(hash_key)
    return table.items.get(hash_key, {}).get(range_key)
