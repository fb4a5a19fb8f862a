"""Two speed fixes to moto's DynamoDB requests for the local stack: the same answers, less CPU
per write. Committing a batch of uploaded files was about half of the stack's CPU during an
initial sync, and these were two of its largest parts.

1. A condition expression is parsed anew for every item it guards: a transaction of 24 new
   files lexes the same two expressions 24 times each, substitutes their names and values and
   builds the same operator tree (16% of a commit's CPU). The tree moto builds is never
   changed once made (evaluating it only reads the item), so it is kept per expression, names
   and values (least recently used, 4,096 of them); a condition on a value that differs per
   item (a version id) is parsed anew, as before. A parse that fails is not kept: it raises
   each time, as before.
2. Every request body is decoded with ``json.loads`` and then walked again against the
   operation's input shape (9% of a commit). For the item operations below, that walk changes
   only blobs (base64 to bytes) and explicit nulls (dropped); a body that has neither (no
   ``"B"``, ``"BS"`` or ``null`` token anywhere in its text, a test that can only err towards
   the full walk) is taken as decoded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, Final

_INSTALLED: list[bool] = []
_CONDITION_CACHE_SIZE: Final = 4096
# Operations whose input shapes hold no timestamps, so only blobs and nulls change in the walk.
_PLAIN_JSON_OPERATIONS: Final = frozenset(
    {
        "BatchGetItem",
        "BatchWriteItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "TransactWriteItems",
        "UpdateItem",
    }
)
_WALK_NEEDED: Final = (b'"B"', b'"BS"', b"null")


def install() -> None:
    """Apply the fixes (idempotent; affects this process only)."""
    if _INSTALLED:
        return
    _cache_condition_expressions()
    _plain_json_bodies()
    _INSTALLED.append(True)


def cached_conditions(parse: Callable[..., Any]) -> Callable[..., Any]:
    """``parse`` (moto's ``get_filter_expression``) with its trees kept per arguments."""

    @functools.lru_cache(maxsize=_CONDITION_CACHE_SIZE)
    def parse_once(expr: str, names: str, values: str) -> Any:
        return parse(expr, json.loads(names), json.loads(values))

    @functools.wraps(parse)
    def get_filter_expression(
        expr: str | None, names: dict[str, str] | None, values: dict[str, Any] | None
    ) -> Any:
        if expr is None:
            return parse(expr, names, values)
        try:
            names_key = json.dumps(names, sort_keys=True)
            values_key = json.dumps(values, sort_keys=True)
        except (TypeError, ValueError):  # bytes of a blob value: not worth a key of their own
            return parse(expr, names, values)
        return parse_once(expr, names_key, values_key)

    get_filter_expression.cache_info = parse_once.cache_info  # type: ignore[attr-defined]
    return get_filter_expression


def _cache_condition_expressions() -> None:
    from moto.dynamodb import comparisons, models

    cached = cached_conditions(comparisons.get_filter_expression)
    # models imported the function by name: both names must see the cached one.
    comparisons.get_filter_expression = cached
    models.get_filter_expression = cached  # type: ignore[attr-defined]


def _plain_json_bodies() -> None:
    from moto.dynamodb.responses import DynamoHandler

    walk = DynamoHandler.parse_parameters

    @functools.wraps(walk)
    def parse_parameters(self: Any, request: Any) -> None:
        body = request.data
        if (
            body
            and not any(token in body for token in _WALK_NEEDED)
            and self._get_action() in _PLAIN_JSON_OPERATIONS
        ):
            self.params = json.loads(body)
            return
        walk(self, request)

    DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign]
