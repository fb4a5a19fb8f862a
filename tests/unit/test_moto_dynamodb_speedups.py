"""moto's DynamoDB answers the same with the condition cache and the plain JSON bodies."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.parse import JSONParser
from moto.dynamodb import comparisons, models, responses
from moto.dynamodb.responses import DynamoHandler

from backend.local import moto_dynamodb_speedups
from backend.local.moto_dynamodb import unordered_items

moto_dynamodb_speedups.install()


class _CountingParser:
    """A stand-in for moto's parser: counts parses, fails on "bad(", finds names "#..."."""

    made: list[tuple[Any, ...]] = []

    def __init__(self, expr: str | None, names: Any, values: Any) -> None:
        self.args = (expr, names, values)
        self.expr_attr_names_found: list[str] = []
        self.expr_attr_values_found: list[str] = []

    def parse(self) -> tuple[Any, ...]:
        _CountingParser.made.append(self.args)
        if self.args[0] == "bad(":
            raise ValueError("bad expression")
        self.expr_attr_names_found.extend(sorted(self.args[1] or {}))
        self.expr_attr_values_found.extend(sorted(self.args[2] or {}))
        return self.args


def test_a_condition_is_parsed_once_per_expression_names_and_values() -> None:
    made = _CountingParser.made
    made.clear()
    create = moto_dynamodb_speedups.cached_parsers(_CountingParser)

    def parse(expr: str | None, names: Any, values: Any) -> Any:
        return create(expr, names, values).parse()

    names, values = {"#s": "state"}, {":a": {"S": "active"}}
    first = parse("#s = :a", names, values)
    assert parse("#s = :a", {"#s": "state"}, {":a": {"S": "active"}}) is first
    assert len(made) == 1
    assert first == ("#s = :a", names, values)  # parsed from the same names and values
    # Another value, other names or another expression is another parse.
    parse("#s = :a", names, {":a": {"S": "trashed"}})
    parse("#s = :a", {"#s": "status"}, values)
    parse("attribute_not_exists(pk)", None, None)
    parse("attribute_not_exists(pk)", None, None)
    assert len(made) == 4
    # A failed parse is not kept: it fails again, when parse is called (as moto's does).
    parser = create("bad(", None, None)
    assert len(made) == 4
    for _ in range(2):
        with pytest.raises(ValueError, match="bad expression"):
            parser.parse()
    assert len(made) == 6
    # Values that JSON cannot key (a blob's bytes) go straight through.
    parse("#b = :b", {"#b": "blob"}, {":b": {"B": b"\x00"}})
    parse("#b = :b", {"#b": "blob"}, {":b": {"B": b"\x00"}})
    assert len(made) == 8


def test_each_parser_has_the_names_and_values_found_in_lists_of_its_own() -> None:
    create = moto_dynamodb_speedups.cached_parsers(_CountingParser)
    for _ in range(2):
        parser = create("#a = :v", {"#a": "a", "#b": "b"}, {":v": {"S": "x"}})
        assert parser.expr_attr_names_found == []
        parser.parse()
        assert parser.expr_attr_names_found == ["#a", "#b"]
        assert parser.expr_attr_values_found == [":v"]
        parser.expr_attr_names_found.append("#projection")  # moto's callers extend them


def test_moto_uses_the_cached_parser() -> None:
    create = comparisons.create_condition_expression_parser
    assert create is responses.create_condition_expression_parser
    assert hasattr(create, "cache_info")


def _value(rng: random.Random) -> dict[str, Any]:
    # A small domain, so that conditions on values hold about as often as they fail.
    return rng.choice(
        [
            {"S": rng.choice(["active", "trashed"])},
            {"S": rng.choice(["active", "trashed"])},
            {"N": str(rng.randint(0, 1))},
            {"N": str(rng.randint(0, 1))},
            {"B": rng.choice([b"\x00\x01", b"hi"])},
            {"BOOL": rng.random() < 0.5},
            {"M": {"n": {"N": str(rng.randint(0, 1))}, "s": {"SS": ["a", "b"]}}},
            {"L": [{"S": "q"}, {"N": "1"}]},
        ]
    )


def _condition(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        [
            {"ConditionExpression": "attribute_not_exists(pk)"},
            {"ConditionExpression": "attribute_exists(pk)"},
            {
                "ConditionExpression": "attribute_not_exists(pk) OR #a = :v",
                "ExpressionAttributeNames": {"#a": "a0"},
                "ExpressionAttributeValues": {":v": _value(rng)},
            },
            {
                "ConditionExpression": "#a = :v AND #a <> :n",
                "ExpressionAttributeNames": {"#a": "a1"},
                "ExpressionAttributeValues": {":v": _value(rng), ":n": {"N": "5"}},
            },
            {
                "ConditionExpression": "NOT (#a IN (:v, :w))",
                "ExpressionAttributeNames": {"#a": "a2"},
                "ExpressionAttributeValues": {":v": _value(rng), ":w": _value(rng)},
            },
        ]
    )


def _create_table(db: Any, *, range_key: bool) -> None:
    """Table "t": hash key pk, and sort key sk when ``range_key`` (both strings)."""
    keys = [("pk", "HASH"), ("sk", "RANGE")] if range_key else [("pk", "HASH")]
    db.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in keys],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )


def _workload(db: Any, seed: int) -> list[Any]:
    """A seeded run of conditional writes, transactions and reads; every answer or error."""
    rng = random.Random(seed)
    _create_table(db, range_key=True)
    out: list[Any] = []

    def key() -> dict[str, Any]:
        return {"pk": {"S": f"p{rng.randint(0, 1)}"}, "sk": {"S": f"s{rng.randint(0, 2)}"}}

    def item() -> dict[str, Any]:
        return {**key(), **{f"a{i}": _value(rng) for i in range(3) if rng.random() < 0.8}}

    for _ in range(120):
        op = rng.choice(["put", "update", "transact", "query", "get", "scan"])
        try:
            if op == "put":
                answer = db.put_item(
                    TableName="t", Item=item(), ReturnValues="ALL_OLD", **_condition(rng)
                )
            elif op == "update":
                answer = db.update_item(
                    TableName="t",
                    Key=key(),
                    UpdateExpression="SET #a = :new",
                    **_merged(_condition(rng), {"#a": "a0"}, {":new": _value(rng)}),
                    ReturnValues="ALL_NEW",
                )
            elif op == "transact":
                entries = []
                for k in {json.dumps(key(), sort_keys=True) for _ in range(rng.randint(1, 4))}:
                    entries.append(
                        {
                            "Put": {
                                "TableName": "t",
                                "Item": {**json.loads(k), "a0": _value(rng)},
                                **_condition(rng),
                            }
                        }
                    )
                answer = db.transact_write_items(TransactItems=entries)
            elif op == "query":
                answer = db.query(
                    TableName="t",
                    KeyConditionExpression="pk = :p",
                    FilterExpression="attribute_exists(a0) OR attribute_exists(a1)",
                    ExpressionAttributeValues={":p": {"S": f"p{rng.randint(0, 2)}"}},
                )
            elif op == "get":
                answer = db.get_item(TableName="t", Key=key(), ConsistentRead=True)
            else:
                answer = db.scan(TableName="t")
            answer.pop("ResponseMetadata", None)
            out.append((op, answer))
        except ClientError as exc:
            out.append((op, exc.response["Error"]["Code"]))
    return out


def _merged(
    condition: dict[str, Any], names: dict[str, str], values: dict[str, Any]
) -> dict[str, Any]:
    merged = dict(condition)
    merged["ExpressionAttributeNames"] = {**condition.get("ExpressionAttributeNames", {}), **names}
    merged["ExpressionAttributeValues"] = {
        **condition.get("ExpressionAttributeValues", {}),
        **values,
    }
    return merged


def _client() -> Any:
    """A DynamoDB client for moto's in-process mock (inside ``mock_aws``)."""
    return boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield _client()


@pytest.mark.parametrize("seed", range(6))
def test_answers_are_those_of_moto_without_the_fixes(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mock_aws():
        fast = _workload(_client(), seed)
    original = comparisons.ConditionExpressionParser  # what moto's function makes
    monkeypatch.setattr(comparisons, "create_condition_expression_parser", original)
    monkeypatch.setattr(responses, "create_condition_expression_parser", original)
    monkeypatch.delattr(DynamoHandler, "parse_parameters")  # BaseResponse's, moto's own
    with mock_aws():
        assert _workload(_client(), seed) == fast
    failed = sum(answer == "ConditionalCheckFailedException" for op, answer in fast if op == "put")
    written = sum(isinstance(answer, dict) for op, answer in fast if op == "put")
    assert failed >= 3 and written >= 3, (failed, written)


def test_only_bodies_with_blobs_or_nulls_are_walked(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[str] = []
    parse = JSONParser.parse

    def counting(self: Any, request: Any) -> Any:
        walked.append(self.operation_model.name)
        return parse(self, request)

    monkeypatch.setattr(JSONParser, "parse", counting)
    _create_table(dynamodb, range_key=False)
    walked.clear()
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    assert walked == []
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "b"}, "data": {"B": b"\x00\xff"}})
    assert walked == ["PutItem"]
    # The blob came back as the bytes sent, decoded by the walk.
    assert dynamodb.get_item(TableName="t", Key={"pk": {"S": "b"}})["Item"]["data"] == {
        "B": b"\x00\xff"
    }
    assert walked == ["PutItem"]  # the read had neither


@pytest.mark.parametrize("range_key", [True, False])
def test_unordered_items_are_all_the_items_of_a_table(dynamodb: Any, range_key: bool) -> None:
    _create_table(dynamodb, range_key=range_key)
    for i in range(30):
        item = {"pk": {"S": f"p{i % 7}"}, "v": {"N": str(i)}}
        if range_key:
            item["sk"] = {"S": f"s{i}"}
        dynamodb.put_item(TableName="t", Item=item)
    table = models.dynamodb_backends["123456789012"]["us-east-1"].get_table("t")

    def dumped(items: list[Any]) -> list[str]:
        return sorted(json.dumps(i.to_json()["Attributes"], sort_keys=True) for i in items)

    assert len(dumped(table.all_items())) == (30 if range_key else 7)
    assert dumped(unordered_items(table)) == dumped(table.all_items())
