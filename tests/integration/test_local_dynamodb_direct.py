"""The local stack's DirectDynamoDB answers each call as boto3's client does against moto:
same items (blobs as bytes, numbers as strings), same pages, same errors (class, code,
message, status, cancellation reasons); every write calls the mutation hook, no read does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from backend import naming
from backend.local import inprocess
from backend.local.dynamodb_direct import DirectDynamoDB, metadata_client
from backend.local.moto_dynamodb import install as install_moto_fixes

REGION = "us-east-1"
BOTO3_TABLE, DIRECT_TABLE = "meta-boto3", "meta-direct"
Call = Callable[[Any, str], Any]


class Clients:
    """boto3 on one table, DirectDynamoDB on another: the same calls, compared."""

    def __init__(self) -> None:
        self.boto3 = boto3.client(
            "dynamodb", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s"
        )
        self.writes = 0
        self.direct = DirectDynamoDB(
            account_id=DEFAULT_ACCOUNT_ID, region=REGION, on_mutation=self._count
        )
        for table in (BOTO3_TABLE, DIRECT_TABLE):
            self.boto3.create_table(**naming.metadata_table_definition(table))

    def _count(self) -> None:
        self.writes += 1

    def same(self, call: Call) -> Any:
        """``call`` on both; their answers (or errors) must be equal. Returns boto3's."""
        expected = _outcome(call, self.boto3, BOTO3_TABLE)
        got = _renamed(_outcome(call, self.direct, DIRECT_TABLE))
        assert got == expected
        return expected


def _outcome(call: Call, client: Any, table: str) -> Any:
    try:
        answer = call(client, table)
    except ClientError as exc:
        response = exc.response
        return {
            "raised": type(exc).__name__,
            "operation": exc.operation_name,
            "error": response["Error"],
            "status": response["ResponseMetadata"]["HTTPStatusCode"],
            "reasons": response.get("CancellationReasons"),
        }
    answer = dict(answer)
    answer.pop("ResponseMetadata", None)
    return answer


def _renamed(value: Any) -> Any:
    """The direct table's answer with its name replaced by the other's, to compare them."""
    if isinstance(value, dict):
        return {_renamed(k): _renamed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v) for v in value]
    return BOTO3_TABLE if value == DIRECT_TABLE else value


@pytest.fixture
def clients() -> Iterator[Clients]:
    install_moto_fixes()  # the stack's TransactWriteItems, as in tests/backend
    with mock_aws():
        yield Clients()


def item(pk: str, sk: str, **attrs: Any) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **attrs}


def put(pk: str, sk: str, **attrs: Any) -> Call:
    return lambda c, t: c.put_item(TableName=t, Item=item(pk, sk, **attrs))


def test_items_come_back_as_boto3_returns_them(clients: Clients) -> None:
    every_type = {
        "s": {"S": "text é"},
        "n": {"N": "12345678901234567890"},
        "b": {"B": b"\x00\xffbytes"},
        "flag": {"BOOL": True},
        "none": {"NULL": True},
        "m": {"M": {"inner": {"L": [{"N": "1"}, {"S": "x"}, {"B": b"\x01"}]}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"\x02", b"\x03"]},
    }
    clients.same(put("u#1", "file#1", **every_type))
    got = clients.same(
        lambda c, t: c.get_item(
            TableName=t, Key={"pk": {"S": "u#1"}, "sk": {"S": "file#1"}}, ConsistentRead=True
        )
    )
    assert got["Item"]["b"] == {"B": b"\x00\xffbytes"}
    assert got["Item"]["m"]["M"]["inner"]["L"][2] == {"B": b"\x01"}
    missing = clients.same(
        lambda c, t: c.get_item(TableName=t, Key={"pk": {"S": "u#1"}, "sk": {"S": "nothing"}})
    )
    assert "Item" not in missing


def test_queries_page_alike(clients: Clients) -> None:
    for n in range(7):
        clients.same(put("u#1", f"file#{n}", length={"N": str(n)}))
    clients.same(put("u#2", "file#0"))
    start: dict[str, Any] | None = None
    pages = 0
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = clients.same(
            lambda c, t, extra=extra: c.query(
                TableName=t,
                KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                ExpressionAttributeValues={":p": {"S": "u#1"}, ":s": {"S": "file#"}},
                Limit=3,
                **extra,
            )
        )
        pages += 1
        assert page["Count"] == len(page["Items"])
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    assert pages == 3
    clients.same(
        lambda c, t: c.query(
            TableName=t,
            KeyConditionExpression="pk = :p",
            FilterExpression="length > :n",
            ExpressionAttributeValues={":p": {"S": "u#1"}, ":n": {"N": "4"}},
            ScanIndexForward=False,
        )
    )
    scanned = clients.same(lambda c, t: c.scan(TableName=t, Limit=5))
    assert scanned["Count"] == 5 and "LastEvaluatedKey" in scanned


def test_batches_answer_alike(clients: Clients) -> None:
    written = clients.same(
        lambda c, t: c.batch_write_item(
            RequestItems={t: [{"PutRequest": {"Item": item("u#1", f"k{n}")}} for n in range(5)]}
        )
    )
    assert written["UnprocessedItems"] == {}
    got = clients.same(
        lambda c, t: c.batch_get_item(
            RequestItems={
                t: {
                    "Keys": [{"pk": {"S": "u#1"}, "sk": {"S": f"k{n}"}} for n in (0, 3, 9)],
                    "ConsistentRead": True,
                }
            }
        )
    )
    assert len(got["Responses"][BOTO3_TABLE]) == 2


def test_updates_and_deletes_answer_alike(clients: Clients) -> None:
    clients.same(put("u#1", "profile", used={"N": "10"}))
    updated = clients.same(
        lambda c, t: c.update_item(
            TableName=t,
            Key={"pk": {"S": "u#1"}, "sk": {"S": "profile"}},
            UpdateExpression="ADD used :d",
            ExpressionAttributeValues={":d": {"N": "5"}},
            ReturnValues="UPDATED_NEW",
        )
    )
    assert updated["Attributes"] == {"used": {"N": "15"}}
    deleted = clients.same(
        lambda c, t: c.delete_item(
            TableName=t, Key={"pk": {"S": "u#1"}, "sk": {"S": "profile"}}, ReturnValues="ALL_OLD"
        )
    )
    assert deleted["Attributes"]["used"] == {"N": "15"}


def test_failures_raise_the_same_errors(clients: Clients) -> None:
    clients.same(put("u#1", "file#1"))
    conditional = clients.same(
        lambda c, t: c.put_item(
            TableName=t, Item=item("u#1", "file#1"), ConditionExpression="attribute_not_exists(pk)"
        )
    )
    assert conditional["error"]["Code"] == "ConditionalCheckFailedException"
    assert conditional["raised"] == "ConditionalCheckFailedException"
    cancelled = clients.same(
        lambda c, t: c.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": t, "Item": item("u#1", "file#2")}},
                {
                    "Put": {
                        "TableName": t,
                        "Item": item("u#1", "file#1"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    )
    assert cancelled["raised"] == "TransactionCanceledException"
    assert [r["Code"] for r in cancelled["reasons"]] == ["None", "ConditionalCheckFailed"]
    assert cancelled["status"] == 400
    # Nothing of the cancelled transaction was written, on either table.
    for client, table in ((clients.boto3, BOTO3_TABLE), (clients.direct, DIRECT_TABLE)):
        key = {"pk": {"S": "u#1"}, "sk": {"S": "file#2"}}
        assert "Item" not in client.get_item(TableName=table, Key=key)
    no_table = clients.same(lambda c, t: c.get_item(TableName=t + "-gone", Key={}))
    assert no_table["error"]["Code"] == "ResourceNotFoundException"
    invalid = clients.same(lambda c, t: c.put_item(TableName=t, Item=item("", "x")))
    assert invalid["error"]["Code"] == "ValidationException"
    assert invalid["raised"] == "ClientError"


def test_writes_call_the_mutation_hook_and_reads_do_not(clients: Clients) -> None:
    direct = clients.direct
    direct.put_item(TableName=DIRECT_TABLE, Item=item("u#1", "a"))
    direct.batch_write_item(
        RequestItems={DIRECT_TABLE: [{"PutRequest": {"Item": item("u#1", "b")}}]}
    )
    direct.update_item(
        TableName=DIRECT_TABLE,
        Key={"pk": {"S": "u#1"}, "sk": {"S": "a"}},
        UpdateExpression="SET x = :x",
        ExpressionAttributeValues={":x": {"S": "1"}},
    )
    direct.transact_write_items(
        TransactItems=[{"Put": {"TableName": DIRECT_TABLE, "Item": item("u", "c")}}]
    )
    direct.delete_item(TableName=DIRECT_TABLE, Key={"pk": {"S": "u#1"}, "sk": {"S": "b"}})
    assert clients.writes == 5
    direct.get_item(TableName=DIRECT_TABLE, Key={"pk": {"S": "u#1"}, "sk": {"S": "a"}})
    direct.query(
        TableName=DIRECT_TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "u#1"}},
    )
    direct.scan(TableName=DIRECT_TABLE)
    direct.batch_get_item(
        RequestItems={DIRECT_TABLE: {"Keys": [{"pk": {"S": "u"}, "sk": {"S": "c"}}]}}
    )
    assert clients.writes == 5


def test_internal_calls_over_http_keep_the_boto3_client(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    def chosen() -> Any:
        return metadata_client(
            clients.boto3, account_id=DEFAULT_ACCOUNT_ID, region=REGION, on_write=lambda: None
        )

    assert isinstance(chosen(), DirectDynamoDB)
    monkeypatch.setenv(inprocess.DISABLE_ENV, "1")
    assert chosen() is clients.boto3
