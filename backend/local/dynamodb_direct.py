"""The local stack's DynamoDB client for its API handlers: moto answers in the caller's thread.

Each metadata call a handler made (a batch of files committed, a folder listed) was serialized
by botocore, handed to the endpoint's WSGI app in-process (``inprocess.py``), routed by Flask,
parsed again by moto against the service model, answered, serialized by moto's response
serializer and parsed once more by botocore: four conversions around moto's own work. For
1,000 inline uploads of 64 KiB the stack's CPU was the whole of the wait, and a quarter of it
was that framing; for a download of the same files, the listing's.

:class:`DirectDynamoDB` has the client methods ``MetadataStore`` calls, takes the parameters
boto3's client takes and answers what it answers (blobs as bytes, numbers as strings; no
``ResponseMetadata``, which nothing reads). It hands the parameters to moto's own
``DynamoHandler`` method for the operation (what moto's parser would have produced from the
request), under the stack's DynamoDB lock, and calls the same mutation hook as a write through
the endpoint, so snapshots and the workflows see it. A failure raises the ``ClientError``
botocore builds from moto's error reply: same class name, code, message, status and
cancellation reasons.

The workflow steps, which run on the handlers' services, use it too. Everything else (the
analytics stream reader, provisioning, admin commands, the desktop app, peers) still goes
through the endpoint; so does all of it when the stack's internal calls are sent over HTTP
(``FILEVAULT_LOCAL_INTERNAL_HTTP=1``, see inprocess.py), to compare the two or capture them.
tests/backend runs every handler test on both clients, and
tests/integration/test_local_dynamodb_direct.py compares their answers call by call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import botocore.session
from botocore.errorfactory import ClientExceptionsFactory
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from werkzeug.exceptions import HTTPException

from backend.local import inprocess
from backend.local.moto_dynamodb import DYNAMODB_LOCK

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Answer = dict[str, Any]


class DirectDynamoDB:
    """Stands for boto3's DynamoDB client in ``MetadataStore`` (the methods below)."""

    def __init__(self, *, account_id: str, region: str, on_mutation: Callable[[], None]) -> None:
        from moto.dynamodb.responses import DynamoHandler  # moto loads slowly: only when used

        self._handler_class = DynamoHandler
        self._account = account_id
        self._region = region
        self._on_mutation = on_mutation
        self._model = botocore.session.get_session().get_service_model("dynamodb")
        self._errors = ClientExceptionsFactory().create_client_exceptions(self._model)
        self._parser = create_parser(self._model.protocol)
        self._members: dict[str, frozenset[str]] = {}

    def get_item(self, **params: Any) -> Answer:
        return self._call("get_item", params)

    def batch_get_item(self, **params: Any) -> Answer:
        return self._call("batch_get_item", params)

    def query(self, **params: Any) -> Answer:
        return self._call("query", params)

    def scan(self, **params: Any) -> Answer:
        return self._call("scan", params)

    def put_item(self, **params: Any) -> Answer:
        return self._call("put_item", params, writes=True)

    def delete_item(self, **params: Any) -> Answer:
        return self._call("delete_item", params, writes=True)

    def update_item(self, **params: Any) -> Answer:
        return self._call("update_item", params, writes=True)

    def batch_write_item(self, **params: Any) -> Answer:
        return self._call("batch_write_item", params, writes=True)

    def transact_write_items(self, **params: Any) -> Answer:
        return self._call("transact_write_items", params, writes=True)

    def _call(self, method: str, params: dict[str, Any], *, writes: bool = False) -> Answer:
        handler = self._handler_class()
        handler.current_account = self._account
        handler.region = self._region
        # What moto's request parser leaves for the action (automated_parameter_parsing).
        handler.params = handler.body = params
        handler.uri_match = {}
        try:
            with DYNAMODB_LOCK:
                result = getattr(handler, method)()
        except HTTPException as exc:
            raise self._client_error(method, exc) from None
        finally:
            # As through the endpoint, which marks every write request, failed or not.
            if writes:
                self._on_mutation()
        answer = result.result or {}
        # moto's serializer writes only the output shape's members that are not None.
        members = self._output_members(method)
        return {k: v for k, v in answer.items() if v is not None and k in members}

    def _output_members(self, method: str) -> frozenset[str]:
        members = self._members.get(method)
        if members is None:
            shape = self._model.operation_model(_operation_name(method)).output_shape
            members = self._members[method] = frozenset(shape.members if shape else ())
        return members

    def _client_error(self, method: str, exc: HTTPException) -> ClientError:
        """What botocore's endpoint and client make of moto's error reply."""
        operation = self._model.operation_model(_operation_name(method))
        description = exc.description or ""
        reply = {
            "status_code": exc.code or 400,
            "headers": {},
            "body": description.encode() if isinstance(description, str) else description,
        }
        assert operation.output_shape is not None  # every operation above answers a structure
        parsed: dict[str, Any] = self._parser.parse(reply, operation.output_shape)
        code = parsed.get("Error", {}).get("Code")
        error_shape = self._model.shape_for_error_code(code) if code else None
        if error_shape is not None:
            parsed.update(self._parser.parse(reply, error_shape))
        error_class: Any = self._errors.from_code(code)  # a subclass of ClientError
        return cast(ClientError, error_class(parsed, operation.name))


def _operation_name(method: str) -> str:
    return "".join(part.capitalize() for part in method.split("_"))


def metadata_client(
    client: DynamoDBClient, *, account_id: str, region: str, on_write: Callable[[], None]
) -> DynamoDBClient:
    """The stack's client for ``MetadataStore``: direct unless internal calls go over HTTP."""
    if inprocess.enabled():
        # It has only the methods MetadataStore calls; tests/backend runs it in the store.
        return cast(
            "DynamoDBClient",
            DirectDynamoDB(account_id=account_id, region=region, on_mutation=on_write),
        )
    return client
