"""Two speed fixes to moto's DynamoDB requests for the local stack: the same answers, less CPU
per write. Committing a batch of uploaded files was about half of the stack's CPU during an
initial sync, and these were two of its largest parts.

1. A condition expression is parsed twice for every item it guards (once to validate the
   request, once to check the item): a transaction of 24 new files lexes the same two
   expressions 48 times each, substitutes their names and values and builds the same
   operator tree (a fifth of a commit's CPU). The tree moto builds is never changed once made
   (evaluating it only reads the item), so it is kept, with the names and values the parse
   found, per expression, names and values (least recently used, 4,096 of them); a condition
   on a value that differs per item (a version id) is parsed anew, as before. A parse that
   fails is not kept: it raises each time, as before.
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
# A parse: the tree, and the attribute names and values it found.
_Parse = tuple[Any, tuple[str, ...], tuple[str, ...]]


def install() -> None:
    """Apply the fixes (idempotent; affects this process only)."""
    if _INSTALLED:
        return
    _cache_condition_expressions()
    _plain_json_bodies()
    _INSTALLED.append(True)


class CachedConditionParser:
    """Stands for moto's ``ConditionExpressionParser``: ``parse`` answers the tree and fills
    the names and values found, as moto's does, from one parse per distinct arguments."""

    def __init__(
        self,
        expr: str | None,
        names: dict[str, str] | None,
        values: dict[str, Any] | None,
        *,
        parse_once: Callable[[str | None, str, str], _Parse],
        make: Callable[..., Any],
    ) -> None:
        self._args = (expr, names, values)
        self._parse_once = parse_once
        self._make = make
        # moto's callers extend these lists in place: each parser has lists of its own.
        self.expr_attr_names_found: list[str] = []
        self.expr_attr_values_found: list[str] = []

    def parse(self) -> Any:
        expr, names, values = self._args
        try:
            key = (expr, json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))
        except (TypeError, ValueError):  # bytes of a blob value: not worth a key of their own
            found = _parse(self._make, expr, names, values)
        else:
            found = self._parse_once(*key)
        tree, names_found, values_found = found
        self.expr_attr_names_found.extend(names_found)
        self.expr_attr_values_found.extend(values_found)
        return tree


def _parse(make: Callable[..., Any], expr: str | None, names: Any, values: Any) -> _Parse:
    parser = make(expr, names, values)
    tree = parser.parse()
    return tree, tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found)


def cached_parsers(make: Callable[..., Any]) -> Callable[..., CachedConditionParser]:
    """``make`` (moto's ``ConditionExpressionParser``) with its parses kept per arguments."""

    @functools.lru_cache(maxsize=_CONDITION_CACHE_SIZE)
    def parse_once(expr: str | None, names: str, values: str) -> _Parse:
        return _parse(make, expr, json.loads(names), json.loads(values))

    def create_condition_expression_parser(
        expr: str | None, names: dict[str, str] | None, values: dict[str, Any] | None
    ) -> CachedConditionParser:
        return CachedConditionParser(expr, names, values, parse_once=parse_once, make=make)

    create_condition_expression_parser.cache_info = parse_once.cache_info  # type: ignore[attr-defined]
    return create_condition_expression_parser


def _cache_condition_expressions() -> None:
    from moto.dynamodb import comparisons, responses

    create = cached_parsers(comparisons.ConditionExpressionParser)
    # get_filter_expression (the models' checks) looks the name up in comparisons; the
    # handlers' validation imported it by name: both must see the cached one.
    comparisons.create_condition_expression_parser = create  # type: ignore[assignment]
    responses.create_condition_expression_parser = create  # type: ignore[attr-defined,assignment]


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
