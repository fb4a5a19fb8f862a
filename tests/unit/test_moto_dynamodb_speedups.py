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
from moto.dynamodb import comparisons, models
from moto.dynamodb.responses import DynamoHandler

from backend.local import moto_dynamodb_speedups

moto_dynamodb_speedups.install()


def test_a_condition_is_parsed_once_per_expression_names_and_values() -> None:
    calls: list[tuple[Any, ...]] = []

    def parse(expr: str | None, names: Any, values: Any) -> tuple[Any, ...]:
        calls.append((expr, names, values))
        if expr == "bad(":
            raise ValueError("bad expression")
        return (expr, names, values)

    cached = moto_dynamodb_speedups.cached_conditions(parse)
    names, values = {"#s": "state"}, {":a": {"S": "active"}}
    first = cached("#s = :a", names, values)
    assert cached("#s = :a", {"#s": "state"}, {":a": {"S": "active"}}) is first
    assert len(calls) == 1
    assert first == ("#s = :a", names, values)  # parsed from the same names and values
    # Another value, other names or another expression is another parse.
    cached("#s = :a", names, {":a": {"S": "trashed"}})
    cached("#s = :a", {"#s": "status"}, values)
    cached("attribute_not_exists(pk)", None, None)
    cached("attribute_not_exists(pk)", None, None)
    assert len(calls) == 4
    # A failed parse is not kept: it fails again.
    for _ in range(2):
        with pytest.raises(ValueError, match="bad expression"):
            cached("bad(", None, None)
    assert len(calls) == 6
    # Values that JSON cannot key (a blob's bytes) and no expression at all go straight through.
    cached("#b = :b", {"#b": "blob"}, {":b": {"B": b"\x00"}})
    cached("#b = :b", {"#b": "blob"}, {":b": {"B": b"\x00"}})
    cached(None, None, None)
    assert len(calls) == 9


def test_moto_uses_the_cached_parser() -> None:
    assert comparisons.get_filter_expression is models.get_filter_expression  # type: ignore[attr-defined]
    assert hasattr(comparisons.get_filter_expression, "cache_info")


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


def _workload(db: Any, seed: int) -> list[Any]:
    """A seeded run of conditional writes, transactions and reads; every answer or error."""
    rng = random.Random(seed)
    db.create_table(
        TableName="t",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
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


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )


@pytest.mark.parametrize("seed", range(6))
def test_answers_are_those_of_moto_without_the_fixes(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mock_aws():
        db = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        fast = _workload(db, seed)
    original = getattr(comparisons.get_filter_expression, "__wrapped__")  # noqa: B009
    monkeypatch.setattr(comparisons, "get_filter_expression", original)
    monkeypatch.setattr(models, "get_filter_expression", original)
    monkeypatch.delattr(DynamoHandler, "parse_parameters")  # BaseResponse's, moto's own
    with mock_aws():
        db = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        assert _workload(db, seed) == fast
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
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
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
