"""The metadata table on disk: a base file plus an append-only journal of what changed since.

Rewriting the whole table on every snapshot cost O(table) each second while anything changed:
29 MB a second at 10,000 files, and a shutdown snapshot that outlived the 30 s a stopping stack
is given at 100,000. Now each snapshot appends the items written since the last one (the table's
stream notes them, see ``moto_dynamodb.install``) and the base is rewritten only when the
journal has grown as large as the base (or on request), so the cost per change stays O(1)
amortized.

Files, one JSON document per line:

- ``dynamodb.jsonl``: ``{"base": GENERATION}``, then one item (DynamoDB JSON) per line.
  A base without that first line (written before the journal existed) has no generation.
- ``dynamodb.journal``: ``{"base": GENERATION}``, then ``{"put": ITEM}`` or
  ``{"delete": [HASH_KEY, RANGE_KEY]}`` per changed item, in the order written.

A journal is replayed only over the base it names: compaction renames the new base into place
before it replaces the journal, so a crash between the two leaves a journal of the old
generation, whose changes the new base already holds (and replaying it could undo later ones).
A torn last line (a crash mid-append) is cut off when the journal is read back.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.local.moto_dynamodb import (
    CHANGED_KEYS_ATTR,
    DYNAMODB_LOCK,
    find_item,
    unordered_items,
)
from filevault_desktop.persist import write_atomic

log = logging.getLogger(__name__)

BASE_NAME = "dynamodb.jsonl"
JOURNAL_NAME = "dynamodb.journal"
# The base is rewritten once the journal is this large and at least as large as the base.
MIN_COMPACTION_BYTES = 4 * 1024 * 1024

Key = str  # the JSON of [hash key, range key] in DynamoDB JSON


@dataclass(frozen=True)
class _Loaded:
    items: dict[Key, dict[str, Any]]
    generation: str | None
    base_bytes: int
    journal_bytes: int  # of the journal's good lines; 0 when it does not belong to this base


class TableJournal:
    """Keeps one moto table on disk (see the module docstring); ``write`` runs on one thread
    at a time (the stack's snapshotter)."""

    def __init__(
        self,
        account_id: str,
        region: str,
        table_name: str,
        state_dir: Path,
        *,
        min_compaction_bytes: int = MIN_COMPACTION_BYTES,
    ) -> None:
        self._where = (account_id, region, table_name)
        self.base = state_dir / BASE_NAME
        self.journal = state_dir / JOURNAL_NAME
        self._min_compaction = min_compaction_bytes
        self._table: Any = None  # the moto table, once the files are known to hold it
        self._base_bytes = 0
        self._journal_bytes = 0

    # ----- reading back ------------------------------------------------------------------------

    def restore(self) -> int:
        """Puts what the files hold into the (new, empty) table; later ``write`` calls append
        to the same journal. Returns the number of items restored.

        The items go straight into moto's table, not through the DynamoDB API: 50,000 items
        took 17.8 s of the stack's start as 25-item BatchWriteItem requests, 3.8 s this way.
        """
        with DYNAMODB_LOCK:
            table = self._moto_table()
            loaded = self._read(table.hash_key_attr, table.range_key_attr)
            stream, table.stream_shard = table.stream_shard, None  # restoring is not a change
            try:
                for item in loaded.items.values():
                    table.put_item(item)
            finally:
                table.stream_shard = stream
            setattr(table, CHANGED_KEYS_ATTR, set())
            if loaded.generation is not None and loaded.journal_bytes:
                self._table = table
                self._base_bytes = loaded.base_bytes
                self._journal_bytes = loaded.journal_bytes
        return len(loaded.items)

    def _read(self, hash_name: str, range_name: str | None) -> _Loaded:
        def key_of(item: dict[str, Any]) -> Key:
            return _key(item.get(hash_name), item.get(range_name) if range_name else None)

        items: dict[Key, dict[str, Any]] = {}
        generation: str | None = None
        base_bytes = 0
        if self.base.exists():
            raw = self.base.read_bytes()
            base_bytes = len(raw)
            for number, line in enumerate(raw.decode("utf-8").splitlines()):
                if not line.strip():
                    continue
                doc = json.loads(line)  # the base is written atomically: never torn
                if number == 0 and set(doc) == {"base"}:
                    generation = doc["base"]
                else:
                    items[key_of(doc)] = doc
        journal_bytes = 0
        if generation is not None and self.journal.exists():
            journal_bytes = self._replay(generation, items, key_of)
        return _Loaded(items, generation, base_bytes, journal_bytes)

    def _replay(self, generation: str, items: dict[Key, dict[str, Any]], key_of: Any) -> int:
        """Applies the journal if it belongs to ``generation``; cuts off a torn tail. Returns
        the size of its good part (0: not this base's journal)."""
        raw = self.journal.read_bytes()
        good = 0
        for number, line in enumerate(raw.splitlines(keepends=True)):
            try:
                if not line.endswith(b"\n"):
                    raise ValueError("no end of line")
                doc = json.loads(line)
            except ValueError:
                log.warning("%s: cut off a torn end (%d bytes)", self.journal, len(raw) - good)
                with self.journal.open("r+b") as f:
                    f.truncate(good)
                    os.fsync(f.fileno())
                break
            if number == 0:
                if doc != {"base": generation}:
                    return 0  # written for an older base, whose changes this base holds
            elif "put" in doc:
                items[key_of(doc["put"])] = doc["put"]
            else:
                items.pop(_key(*doc["delete"]), None)
            good += len(line)
        return good

    # ----- writing -----------------------------------------------------------------------------

    def write(self, *, compact: bool = False) -> None:
        """Appends what changed since the last call; rewrites the base instead on the first
        call, when asked, or when the journal has outgrown the base."""
        with DYNAMODB_LOCK:
            table = self._moto_table()
            changed: set[Any] = getattr(table, CHANGED_KEYS_ATTR, None) or set()
            setattr(table, CHANGED_KEYS_ATTR, set())
            rewrite = (
                compact
                or table is not self._table
                or table.stream_shard is None  # no notes of what changed: all of it may have
                or self._journal_bytes >= max(self._min_compaction, self._base_bytes)
            )
            if rewrite:
                lines = [_dumps(item.to_json()["Attributes"]) for item in unordered_items(table)]
            else:
                lines = [_change(table, key) for key in changed]
        if rewrite:
            log.info(
                "rewriting the table's base: %d items (journal %d bytes, base %d bytes)",
                len(lines),
                self._journal_bytes,
                self._base_bytes,
            )
            self._rewrite(lines)
            self._table = table
        elif lines:
            # The changes were taken from the table: until they are on disk, the next write
            # must rewrite the base (an append that failed may also have left a torn line,
            # after which a later append would never be read back).
            self._table = None
            data = ("\n".join(lines) + "\n").encode("utf-8")
            with self.journal.open("ab") as f:
                f.write(data)
                f.flush()
                os.fdatasync(f.fileno())
            self._journal_bytes += len(data)
            self._table = table

    def _rewrite(self, lines: list[str]) -> None:
        header = _dumps({"base": secrets.token_hex(6)})
        base = ("\n".join([header, *lines]) + "\n").encode("utf-8")
        write_atomic(self.base, base)
        journal = (header + "\n").encode("utf-8")
        write_atomic(self.journal, journal)
        self._base_bytes = len(base)
        self._journal_bytes = len(journal)

    def _moto_table(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        account_id, region, table_name = self._where
        return dynamodb_backends[account_id][region].get_table(table_name)


def _change(table: Any, key: tuple[Any, Any]) -> str:
    item = find_item(table, *key)
    if item is not None:
        return _dumps({"put": item.to_json()["Attributes"]})
    hash_key, range_key = key
    return _dumps(
        {"delete": [hash_key.to_json(), range_key.to_json() if range_key is not None else None]}
    )


def _key(hash_key: Any, range_key: Any) -> Key:
    """An item's key as the base's items and the journal's deletes both name it."""
    return json.dumps([hash_key, range_key], sort_keys=True)


def _dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))
