"""The moto speed fixes answer exactly what moto answered before them."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from moto.core import serialize
from moto.core.utils import get_service_model
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from backend.local import moto_speedups

moto_speedups.install()

_VALUE = {"S": "x", "N": "12", "BOOL": True, "NULL": True}
_ITEM = {
    "pk": {"S": "USER#1"},
    "sk": {"S": "FILE#a"},
    "size": {"N": "4096"},
    "tags": {"SS": ["a", "b"]},
    "nums": {"NS": ["1", "2.5"]},
    "blob": {"B": "AAEC"},
    "flag": {"BOOL": False},
    "none": {"NULL": True},
    "meta": {"M": {"w": {"N": "1"}, "l": {"L": [{"S": "q"}, {"M": {"z": {"BOOL": True}}}]}}},
    "empty": {"S": ""},
}
_OUTPUTS: list[tuple[str, dict[str, Any]]] = [
    ("GetItem", {"Item": _ITEM}),
    ("GetItem", {}),
    ("GetItem", {"Item": _ITEM, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}),
    ("PutItem", {"Attributes": _ITEM, "unknown_key": 1}),
    ("UpdateItem", {"Attributes": {"seq": {"N": "3"}}}),
    (
        "Query",
        {"Items": [_ITEM, _ITEM], "Count": 2, "ScannedCount": "2", "LastEvaluatedKey": _VALUE},
    ),
    ("Scan", {"Items": [], "Count": 0, "ScannedCount": 0}),
    ("BatchGetItem", {"Responses": {"t": [_ITEM]}, "UnprocessedKeys": {}}),
    ("BatchWriteItem", {"UnprocessedItems": {}, "ConsumedCapacity": [{"TableName": "t"}]}),
    ("TransactWriteItems", {"ConsumedCapacity": [], "ItemCollectionMetrics": {}}),
    ("TransactGetItems", {"Responses": [{"Item": _ITEM}, {}]}),
    ("DeleteItem", {"Attributes": None}),
]


def _serialize(operation: str, result: Any) -> Any:
    model = get_service_model("dynamodb").operation_model(operation)
    cls = serialize.get_serializer_class("dynamodb", "json")
    serializer = cls(
        operation_model=model,
        pretty_print=False,
        value_picker=serialize.XFormedAttributePicker(response_transformers=None),
    )
    return serializer.serialize(result)


@pytest.mark.parametrize(("operation", "result"), _OUTPUTS)
def test_serialized_responses_are_unchanged(
    operation: str, result: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _serialize(operation, json.loads(json.dumps(result)))
    fast_again = _serialize(operation, json.loads(json.dumps(result)))  # from the memo
    for name in ("get_value", "_serialize_type_structure"):
        original = getattr(serialize.ResponseSerializer, name).__wrapped__
        monkeypatch.setattr(serialize.ResponseSerializer, name, original)
    assert fast == fast_again == _serialize(operation, json.loads(json.dumps(result)))


def _attrs(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(rng.randint(1, 12)):
        kind = rng.choice(["S", "N", "M", "L", "SS"])
        big = "é" * rng.choice([0, 10, 30000, 60000, 140000])
        value: Any = {
            "S": {"S": big},
            "N": {"N": str(rng.randint(0, 10**9))},
            "M": {"M": {"a": {"S": big}, "b": {"N": "1"}}},
            "L": {"L": [{"S": big}, {"BOOL": True}]},
            "SS": {"SS": [big + "1", big + "2"]},
        }[kind]
        out[f"attr{i}" + "k" * rng.choice([0, 3, 1000])] = value
    return out


def test_items_are_built_and_refused_as_before() -> None:
    original = Item.__init__.__wrapped__  # type: ignore[attr-defined]
    rng = random.Random(7)
    refused = 0
    for _ in range(300):
        attrs = _attrs(rng)
        key = DynamoType({"S": "h"})
        outcomes = []
        for init in (Item.__init__, original):
            item = Item.__new__(Item)
            try:
                init(item, key, None, attrs)
            except ItemSizeTooLarge:
                outcomes.append("too large")
            else:
                outcomes.append(item.to_json())
        assert outcomes[0] == outcomes[1]
        refused += outcomes[0] == "too large"
    assert 0 < refused < 300  # both sides of the limit were exercised


def test_method_names_are_listed_once_per_class() -> None:
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler

    first = responses.method_names_from_class(DynamoHandler)  # type: ignore[attr-defined]
    assert "get_item" in first and "transact_write_items" in first
    first.append("mutated by a caller")
    assert "mutated by a caller" not in responses.method_names_from_class(DynamoHandler)  # type: ignore[attr-defined]


def test_sns_messages_are_signed_with_one_certificate_per_key() -> None:
    import base64

    import boto3
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from moto import mock_aws
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    with mock_aws():
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic = sns.create_topic(Name="t")["TopicArn"]
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
        for text in ("one", "two"):
            sns.publish(TopicArn=topic, Message=text)
        bodies = [
            json.loads(m["Body"])
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        ]
        keys = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]._message_public_keys
        assert sorted(b["Message"] for b in bodies) == ["one", "two"]
        assert len({b["SigningCertURL"] for b in bodies}) == 1
        for body in bodies:
            assert set(body) >= {"Type", "MessageId", "TopicArn", "Timestamp", "Signature"}
            assert body["SignatureVersion"] == "2"
            pem = keys[body["SigningCertURL"].rsplit("/", 1)[1]]
            signed = "".join(
                f"{name}\n{body[name]}\n"
                for name in ("Message", "MessageId", "Timestamp", "TopicArn", "Type")
            )
            public = x509.load_pem_x509_certificate(pem).public_key()
            assert isinstance(public, rsa.RSAPublicKey)
            public.verify(
                base64.b64decode(body["Signature"]),
                signed.encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )


# ----- 8. queries on a table's key see only the partition's matching slice -----
def _query_table() -> Any:
    from moto.dynamodb.models import DynamoDBBackend

    backend = DynamoDBBackend("us-east-1", "123456789012")
    backend.create_table(
        "t",
        schema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        attr=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        throughput=None,
        billing_mode="PAY_PER_REQUEST",
        indexes=[],
        global_indexes=[],
        streams=None,
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    return backend


def _random_sk(rng: random.Random) -> str:
    return rng.choice(["file#", "path#", "path#a/", "change#", "v#", "", "z"]) + "".join(
        rng.choice("ab/é.0") for _ in range(rng.randint(0, 3))
    )


def _page(table: Any, query: Any, *args: Any, **kw: Any) -> tuple[list[Any], int, Any]:
    items, scanned, last = query(table, *args, **kw)
    return [i.to_json() for i in items], scanned, last


@pytest.mark.parametrize("seed", range(12))
def test_key_queries_answer_what_moto_answered(seed: int) -> None:
    from moto.dynamodb.models.table import Table

    rng = random.Random(seed)
    backend = _query_table()
    table = backend.get_table("t")
    original = Table.query.__wrapped__  # type: ignore[attr-defined]
    partitions = ["USER#1", "USER#2", "USER#3"]
    for step in range(300):
        pk = rng.choice(partitions)
        sk = _random_sk(rng)
        if rng.random() < 0.25:
            table.delete_item(DynamoType({"S": pk}), DynamoType({"S": sk}))
        else:
            table.put_item({"pk": {"S": pk}, "sk": {"S": sk}, "n": {"N": str(step)}})
        if step % 3:
            continue
        comparison = rng.choice([None, "=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"])
        objs = [DynamoType({"S": _random_sk(rng)})]
        if comparison == "BETWEEN":
            objs = sorted([objs[0], DynamoType({"S": _random_sk(rng)})], key=lambda o: o.value)
        queried = rng.choice([*partitions, "USER#none"])
        start = None
        if rng.random() < 0.4:
            start = {"pk": {"S": queried}, "sk": {"S": _random_sk(rng)}}
        kw = {
            "hash_key": DynamoType({"S": queried}),
            "range_comparison": comparison,
            "range_objs": objs if comparison else [],
            "limit": rng.choice([None, 1, 2, 5]),
            "exclusive_start_key": start,
            "scan_index_forward": rng.random() < 0.6,
            "projection_expressions": None,
        }
        assert _page(table, Table.query, **kw) == _page(table, original, **kw), kw


@pytest.mark.parametrize("seed", range(12))
def test_scans_answer_what_moto_answered(seed: int) -> None:
    from moto.dynamodb.models.table import Table

    rng = random.Random(seed)
    table = _query_table().get_table("t")
    original = Table.scan.__wrapped__  # type: ignore[attr-defined]
    partitions = ["USER#1", "USER#2", "USER#3", "TOKEN#x"]
    for step in range(300):
        pk, sk = rng.choice(partitions), _random_sk(rng)
        if rng.random() < 0.25:
            table.delete_item(DynamoType({"S": pk}), DynamoType({"S": sk}))
        else:
            table.put_item({"pk": {"S": pk}, "sk": {"S": sk}, "n": {"N": str(step % 17)}})
        if step % 3:
            continue
        start = None
        if rng.random() < 0.5:  # a real page boundary, or any key at all
            items = original(table, {}, None, None)[0]
            if items and rng.random() < 0.7:
                item = rng.choice(items)
                start = {"pk": item.hash_key.to_json(), "sk": item.range_key.to_json()}
            else:
                start = {"pk": {"S": rng.choice([*partitions, "A", "Z"])}, "sk": {"S": sk}}
        filters = {"n": ("GT", [DynamoType({"N": "8"})])} if rng.random() < 0.3 else {}
        args = (filters, rng.choice([None, 1, 2, 5, 1000]), start)
        assert _page(table, Table.scan, *args) == _page(table, original, *args), args


def test_a_whole_scan_pages_through_every_item_once() -> None:
    from moto.dynamodb.models.table import Table

    table = _query_table().get_table("t")
    for n in range(500):
        table.put_item({"pk": {"S": f"USER#{n % 7}"}, "sk": {"S": f"item#{n:04d}"}})
    seen: list[tuple[str, str]] = []
    start = None
    while True:
        items, _, start = Table.scan(table, {}, 64, start)
        seen += [(i.hash_key.value, i.range_key.value) for i in items]
        if start is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 500


def test_a_partition_with_non_string_sort_keys_takes_motos_path() -> None:
    from moto.dynamodb.models.table import Table

    backend = _query_table()
    table = backend.get_table("t")
    for sk in ("b", "a", "c"):
        table.put_item({"pk": {"S": "p"}, "sk": {"S": sk}})
    kw = {
        "hash_key": DynamoType({"S": "p"}),
        "range_comparison": ">",
        "range_objs": [DynamoType({"S": "a"})],
        "limit": None,
        "exclusive_start_key": None,
        "scan_index_forward": True,
        "projection_expressions": None,
    }
    items, _, _ = Table.query(table, **kw)
    assert [i.range_key.value for i in items] == ["b", "c"]
    table.delete_item(DynamoType({"S": "p"}), DynamoType({"S": "b"}))
    items, _, _ = Table.query(table, **kw)
    assert [i.range_key.value for i in items] == ["c"]


def test_overwritten_items_are_not_kept_alive() -> None:
    import gc

    import boto3
    from moto import mock_aws

    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for n in range(300):
            db.put_item(TableName="t", Item={"pk": {"S": "one"}, "n": {"N": str(n)}})
        gc.collect()
        alive = sum(1 for o in gc.get_objects() if type(o) is Item)
        assert db.get_item(TableName="t", Key={"pk": {"S": "one"}})["Item"]["n"] == {"N": "299"}
    # moto tracked every instance for its dashboard: 300 versions stayed in memory.
    assert alive < 20


def _attribute_value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL"] + (["M", "L"] if depth < 3 else [])
    kind = rng.choice(kinds)
    value: Any = {
        "S": lambda: "é" * rng.randint(0, 5),
        "N": lambda: str(rng.randint(-5, 10**6)),
        "B": lambda: rng.choice(["AAEC", "", "aGVsbG8="]),
        "SS": lambda: ["a", "b"],
        "NS": lambda: ["1", "2.5"],
        "BS": lambda: ["AAEC", "aGVsbG8="],
        "BOOL": lambda: rng.random() < 0.5,
        "NULL": lambda: True,
        "M": lambda: {f"k{i}": _attribute_value(rng, depth + 1) for i in range(rng.randint(0, 3))},
        "L": lambda: [_attribute_value(rng, depth + 1) for _ in range(rng.randint(0, 3))],
    }[kind]()
    out = {kind: value}
    if rng.random() < 0.1:
        out["Unknown"] = 1  # not in the shape: dropped
    if rng.random() < 0.1:
        out[rng.choice(["S", "N", "M"])] = None  # explicit null: dropped
    return out


def _item(rng: random.Random) -> dict[str, Any]:
    return {f"a{i}": _attribute_value(rng) for i in range(rng.randint(1, 6))}


def _request(rng: random.Random) -> tuple[str, dict[str, Any]]:
    condition = {
        "ConditionExpression": "#s = :v",
        "ExpressionAttributeNames": {"#s": "seq"},
        "ExpressionAttributeValues": {":v": _attribute_value(rng)},
    }
    operation = rng.choice(["TransactWriteItems", "PutItem", "Query", "BatchWriteItem", "GetItem"])
    if operation == "TransactWriteItems":
        entries: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 5)):
            entries.append(
                rng.choice(
                    [
                        {"Put": {"TableName": "t", "Item": _item(rng), **condition}},
                        {
                            "Update": {
                                "TableName": "t",
                                "Key": _item(rng),
                                "UpdateExpression": "SET a = :v",
                                **condition,
                            }
                        },
                        {"Delete": {"TableName": "t", "Key": _item(rng)}},
                        {"ConditionCheck": {"TableName": "t", "Key": _item(rng), **condition}},
                    ]
                )
            )
        return operation, {"TransactItems": entries, "ClientRequestToken": None}
    if operation == "PutItem":
        return operation, {"TableName": "t", "Item": _item(rng), "ReturnValues": "ALL_OLD"}
    if operation == "Query":
        return operation, {
            "TableName": "t",
            "KeyConditionExpression": "pk = :v",
            "ExpressionAttributeValues": {":v": _attribute_value(rng)},
            "ExclusiveStartKey": _item(rng),
            "Limit": rng.randint(1, 100),
            "ScanIndexForward": False,
        }
    if operation == "BatchWriteItem":
        return operation, {
            "RequestItems": {"t": [{"PutRequest": {"Item": _item(rng)}} for _ in range(3)]}
        }
    return operation, {"TableName": "t", "Key": _item(rng), "ConsistentRead": True}


@pytest.mark.parametrize("seed", range(40))
def test_json_requests_are_parsed_as_before(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.parse import BaseJSONParser, JSONParser

    rng = random.Random(seed)
    model = get_service_model("dynamodb")
    requests = [_request(rng) for _ in range(5)]

    def parse_all() -> list[Any]:
        out = []
        for operation, body in requests:
            parser = JSONParser(model.operation_model(operation), map_type=dict)
            parsed = parser.parse(
                {
                    "method": "POST",
                    "values": {},
                    "headers": {},
                    "body": json.dumps(body).encode(),
                    "url_path": "/",
                    "url_params": {},
                }
            )
            out.append(json.dumps(parsed, default=repr))  # key order included
        return out

    fast = parse_all()
    for name in ("_parse_structure", "_parse_shape", "_parse_map"):
        monkeypatch.setattr(BaseJSONParser, name, getattr(BaseJSONParser, name).__wrapped__)
    assert fast == parse_all()
