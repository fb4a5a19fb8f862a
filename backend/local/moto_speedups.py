"""Pure speed fixes to moto for the local stack: same answers, less CPU per request (and,
for the last, less memory).

Each replaces a computation moto repeats on every request with one done once:

1. SQS ``ReceiveMessage`` checks each message's retention by computing *every* queue
   attribute (among them the approximate message counts, a scan of the whole queue calling
   ``utcnow`` per message), so a receive cost O(queue²). The replacement reads the one
   attribute it needs. With the inbox poller draining a backlog of notifications, this was
   a sixth of the stack's CPU during uploads.
2. Step Functions builds a new JSONPath parser (a PLY LALR table) for every ``$.path`` it
   evaluates. Parsed JSONPath expressions are immutable (``find``/``update`` never change
   them), so they are cached per path string.
3. moto's dispatcher lists its package directory (``os.listdir`` + ``isdir`` per entry) on
   every request to recognise a service name; the directory does not change while running.
4. Every response is serialized by walking the operation's output shape, and for every member
   of every structure (each DynamoDB attribute value is a structure of ten members) moto
   instantiates six alias providers to list the keys the value may be found under. For a
   plain ``dict`` value that list depends only on the member's shape (stable: moto caches
   its service models) and the key, so it is computed once per shape and key; the lookup
   itself is the same (first key present wins; absent is ``None``). Other values (model
   objects, which may carry their own aliases) and pickers with response transformers take
   moto's path. A structure's members, with their keys, are listed once per shape, so a
   plain dict is serialized without a call per absent member (an attribute value is a
   structure of which one member is present).
5. Each request lists the handler class's methods with ``inspect.getmembers`` to check the
   action name; a class's methods do not change while running, so the list is kept per class.
6. A DynamoDB item is built attribute by attribute into a dict that re-sums the size of every
   attribute already in it at each insert (to refuse items over 400 KB): O(attributes²) per
   item written or restored. The replacement keeps the running sum: the same check (sum of
   the attributes so far plus the new one over the limit) at the same point, in linear time.
7. SNS signs each message it delivers, and moto builds and signs a new x509 certificate
   for every message (and keeps every certificate's PEM for as long as it runs). AWS signs
   many messages with one certificate; here each subscription's key gets one certificate,
   made at its first message, and the messages carry its URL. The message signature is
   computed per message as before.
8. A DynamoDB query on a table's key lists *every item of the table*, sorts them all, keeps
   those of the queried partition, and then tests each of the partition's items against the
   sort-key condition: O(table log table) per query, however few items it returns. Listing a
   folder, polling ``/changes`` and most handlers' reads are queries, so every request grew
   slower as the stack held more files. Each partition's sort keys are now kept in order
   (updated as items are put and deleted) and the query is handed only the slice that can
   match: the sort-key range (and past the start key, and at most ``Limit`` + 1 items), plus
   the partition's next item beyond it, which moto's loop reaches to decide on
   ``LastEvaluatedKey``. moto then runs its own checks on that slice. Partitions whose sort
   keys are not all strings, and index queries, take moto's path. (One answer can differ: a
   page that ends exactly at the 1 MB response limit on the partition's second item past
   the range, which no item of ours comes near.) A scan of the table likewise sorted every
   item, then compared each with the start key to find where the page begins: each page
   cost O(table log table), a whole scan O(table² / page). The trash purge's daily scan
   took 41% of the stack's CPU while 10,000 files were being uploaded. A scan is now handed
   the items past its start key, in the same order (partitions by hash key, each in its
   kept sort-key order), at most ``Limit`` + 1 of them.
9. Every JSON request (each DynamoDB call) is parsed a second time against the operation's
   input shape, and for every structure moto asks the value for each member the shape has
   (an attribute value has ten, of which one is present) and finds each node's parser
   method by formatting its name. The replacement walks the keys the value has, keeps those
   the shape names (in the shape's order, as before), looks each parser method up once per
   parser class and type, and takes strings and booleans as they are without a call (what
   moto's handler for them does). Blobs, timestamps and numbers are converted as before.
10. Every instance of every moto model (each DynamoDB item version, stream record, SQS message,
   SNS subscription...) is appended to its class's ``instances_tracked`` list, for moto's web
   dashboard, and never removed: every version of every item ever written stayed in memory
   (16 item objects per uploaded file, about 130 KB a file with its workflow's records).
   Nothing here serves that dashboard, so models are no longer tracked; each lives as long as
   moto's backends refer to it.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

_INSTALLED: list[bool] = []
_PATH_CACHE_SIZE = 4096


def install() -> None:
    """Apply the fixes (idempotent; affects this process only)."""
    if _INSTALLED:
        return
    _sqs_retention_check()
    _cache_jsonpath()
    _cache_moto_modules()
    _memoize_serializer_keys()
    _cache_method_names()
    _linear_item_size_check()
    _one_sns_certificate_per_key()
    _partition_queries()
    _json_request_parsing()
    _untracked_models()
    _INSTALLED.append(True)


def _sqs_retention_check() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(
        self: Any, queue_name: str, message: Any
    ) -> bool:
        queue = self.get_queue(queue_name)
        retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
        return bool(retain_until > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )


def _cache_jsonpath() -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):
        parse = getattr(module, "parse")  # noqa: B009 - a module attribute moto imported
        if not hasattr(parse, "cache_info"):
            setattr(module, "parse", functools.lru_cache(maxsize=_PATH_CACHE_SIZE)(parse))  # noqa: B010


def _cache_moto_modules() -> None:
    import moto.backends

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules


def _memoize_serializer_keys() -> None:
    from moto.core import serialize
    from moto.core.constants import MISSING

    generic = serialize.ResponseSerializer.get_value
    picker_type = serialize.XFormedAttributePicker
    default_providers = serialize.DEFAULT_ALIAS_PROVIDERS
    # (id(shape), key) -> (shape, keys); the shape is kept so that its id is never reused.
    known: dict[tuple[int, str], tuple[Any, tuple[str, ...]]] = {}

    def possible_keys(serializer: Any, shape: Any, key: str, value: dict[str, Any]) -> Any:
        entry = known.get((id(shape), key))
        if entry is not None and entry[0] is shape:
            return entry[1]
        context = serialize.AttributePickerContext(
            obj=value,
            key=key,
            shape=shape,
            operation_model=serializer.operation_model,
            service_model=serializer.operation_model.service_model,
            key_path="",
        )
        keys = tuple(serializer._value_picker.get_possible_keys(context))
        if any("." in k for k in keys):
            return None  # a dotted key is a path: moto's lookup
        known[(id(shape), key)] = (shape, keys)
        return keys

    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            type(value) is dict
            and type(picker) is picker_type
            and not picker.response_transformers
            and picker.alias_providers is default_providers
        ):
            keys = possible_keys(self, shape, key, value)
            if keys is not None:
                for candidate in keys:
                    found = value.get(candidate, MISSING)
                    if found is not MISSING:
                        return found
                return None
        return generic(self, value, key, shape)

    base_structure = serialize.ResponseSerializer._serialize_type_structure
    base_member = serialize.ResponseSerializer._serialize_structure_member
    # id(shape) -> (shape, its members with their possible keys, or None: moto's path)
    plans: dict[int, tuple[Any, tuple[tuple[str, Any, tuple[str, ...]], ...] | None]] = {}

    def plan_of(serializer: Any, shape: Any, value: dict[str, Any]) -> Any:
        entry = plans.get(id(shape))
        if entry is not None and entry[0] is shape:
            return entry[1]
        members: list[tuple[str, Any, tuple[str, ...]]] = []
        for member_key, member_shape in shape.members.items():
            member_shape.parent = shape  # as moto sets it before picking the member
            keys = possible_keys(serializer, member_shape, member_key, value)
            if keys is None:
                plans[id(shape)] = (shape, None)
                return None
            members.append((member_key, member_shape, keys))
        plans[id(shape)] = (shape, tuple(members))
        return plans[id(shape)][1]

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        # moto's ResponseSerializer._serialize_type_structure, picking each member of a
        # plain dict as get_value below does, without a call per member.
        if value is None:
            return
        picker = self._value_picker
        if (
            type(value) is dict
            and type(self)._serialize_structure_member is base_member
            and type(self).get_value is get_value
            and type(picker) is picker_type
            and not picker.response_transformers
            and picker.alias_providers is default_providers
        ):
            plan = plan_of(self, shape, value)
            if plan is not None:
                wrapper = self.MAP_TYPE() if key else serialized
                for member_key, member_shape, keys in plan:
                    member_shape.parent = shape
                    for candidate in keys:
                        found = value.get(candidate, MISSING)
                        if found is not MISSING:
                            break
                    else:
                        found = None
                    if found is not None:
                        self._serialize(wrapper, found, member_shape, member_key)
                if key:
                    self._default_serialize(serialized, wrapper, shape, key)
                return
        base_structure(self, serialized, value, shape, key)

    # Tests compare these with moto's own.
    get_value.__wrapped__ = generic  # type: ignore[attr-defined]
    serialize_structure.__wrapped__ = base_structure  # type: ignore[attr-defined]
    serialize.ResponseSerializer.get_value = get_value  # type: ignore[method-assign]
    serialize.ResponseSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]


def _cache_method_names() -> None:
    from moto.core import responses

    original = getattr(responses, "method_names_from_class")  # noqa: B009 - imported by moto
    names: dict[type, list[str]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        found = names.get(clazz)
        if found is None:
            found = names[clazz] = original(clazz)
        return list(found)

    setattr(responses, "method_names_from_class", method_names_from_class)  # noqa: B010


def _linear_item_size_check() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    DynamoType, LimitedSizeDict = dynamo_type.DynamoType, dynamo_type.LimitedSizeDict
    limit = 405000  # moto's (LimitedSizeDict.__setitem__)
    store = dict.__setitem__

    def item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = LimitedSizeDict()
        total = 0  # what LimitedSizeDict.__setitem__ sums over the attributes already set
        for key, value in attrs.items():
            typed = DynamoType(value)
            size = bytesize(key) + typed.size()
            if total + size > limit:
                raise ItemSizeTooLarge
            total += size
            store(self.attrs, key, typed)

    item_init.__wrapped__ = dynamo_type.Item.__init__  # type: ignore[attr-defined]  # for tests
    dynamo_type.Item.__init__ = item_init  # type: ignore[method-assign]


def _one_sns_certificate_per_key() -> None:
    import base64
    import threading
    from datetime import timedelta

    import cryptography.x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.x509 import Name, NameAttribute
    from cryptography.x509.oid import NameOID
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.core.utils import iso_8601_datetime_with_milliseconds, utcnow
    from moto.moto_api._internal import mock_random
    from moto.sns import models

    certificates: dict[int, tuple[Any, str, bytes]] = {}  # id(key) -> (key, name, PEM)
    lock = threading.Lock()

    def certificate(key: Any) -> tuple[str, bytes]:
        with lock:
            known = certificates.get(id(key))
            if known is None or known[0] is not key:
                # As moto builds it for each message (SignatureVersion "2": SHA256).
                cert = (
                    cryptography.x509.CertificateBuilder()
                    .subject_name(Name([NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")]))
                    .issuer_name(
                        Name(
                            [
                                NameAttribute(NameOID.COUNTRY_NAME, "US"),
                                NameAttribute(NameOID.ORGANIZATION_NAME, "Amazon"),
                                NameAttribute(NameOID.COMMON_NAME, "Amazon RSA 2048 M01"),
                            ]
                        )
                    )
                    .public_key(key.public_key())
                    .serial_number(cryptography.x509.random_serial_number())
                    .not_valid_before(utcnow())
                    .not_valid_after(utcnow() + timedelta(days=365))
                    .sign(key, hashes.SHA256())
                )
                name = f"SimpleNotificationService-{str(mock_random.uuid4()).replace('-', '')}.pem"
                known = certificates[id(key)] = (
                    key,
                    name,
                    cert.public_bytes(serialization.Encoding.PEM),
                )
            return known[1], known[2]

    def get_post_data(
        self: Any,
        message: str,
        message_id: str,
        subject: str | None,
        message_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        # moto's Subscription.get_post_data (moto 5.2), but with one certificate per key.
        key = self.private_key()
        key_name, pem = certificate(key)
        signature_version = "2"
        timestamp = iso_8601_datetime_with_milliseconds()
        string_to_sign = (
            f"Message\n{message}\nMessageId\n{message_id}\nTimestamp\n{timestamp}\n"
            f"TopicArn\n{self.topic.arn}\nType\nNotification\n"
        )
        signature = key.sign(string_to_sign.encode("UTF-8"), padding.PKCS1v15(), hashes.SHA256())
        region = self.topic.sns_backend.region_name
        default_sns_backend = models.sns_backends[DEFAULT_ACCOUNT_ID][region]
        default_sns_backend._message_public_keys[key_name] = pem
        post_data: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": self.topic.arn,
            "Message": message,
            "Timestamp": timestamp,
            "SignatureVersion": signature_version,
            "Signature": base64.b64encode(signature).decode("utf-8"),
            "SigningCertURL": f"https://sns.{region}.amazonaws.com/{key_name}",
            "UnsubscribeURL": (
                "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
                f"arn:aws:sns:us-east-1:{self.account_id}:{self.topic.name}:"
                "2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"
            ),
        }
        if subject:
            post_data["Subject"] = subject
        if message_attributes:
            post_data["MessageAttributes"] = message_attributes
        return post_data

    models.Subscription.get_post_data = get_post_data  # type: ignore[method-assign]


def _partition_queries() -> None:
    import bisect
    import contextvars

    from moto.dynamodb.models.table import Table

    scope: contextvars.ContextVar[tuple[Any, list[Any]] | None] = contextvars.ContextVar(
        "filevault_query_scope", default=None
    )
    original_query, original_all_items = Table.query, Table.all_items
    original_put, original_delete = Table.put_item, Table.delete_item

    def value(key: Any) -> Any:
        return key.value

    def sorted_keys(table: Any, hash_key: Any) -> list[Any] | None:
        """The partition's sort keys in order, kept up to date; None unless all strings."""
        partitions = table.__dict__.setdefault("_filevault_sorted_keys", {})
        keys: list[Any] | None = partitions.get(hash_key)
        if keys is None:
            part = table.items.get(hash_key)
            if not isinstance(part, dict):
                return None
            if any(key.type != "S" for key in part):
                return None
            keys = partitions[hash_key] = sorted(part, key=value)
        return keys

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = original_put(self, *args, **kwargs)
        partitions = self.__dict__.get("_filevault_sorted_keys")
        if partitions and item.range_key is not None and item.hash_key in partitions:
            keys = partitions[item.hash_key]
            if item.range_key.type != "S":
                del partitions[item.hash_key]
            else:
                i = bisect.bisect_left(keys, item.range_key.value, key=value)
                if i == len(keys) or keys[i].value != item.range_key.value:
                    keys.insert(i, item.range_key)
        return item

    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        item = original_delete(self, hash_key, range_key)
        partitions = self.__dict__.get("_filevault_sorted_keys")
        if item is not None and partitions and range_key is not None and hash_key in partitions:
            keys = partitions[hash_key]
            i = bisect.bisect_left(keys, range_key.value, key=value)
            if i < len(keys) and keys[i].value == range_key.value:
                del keys[i]
        return item

    def span(keys: list[Any], comparison: str | None, objs: list[Any]) -> tuple[int, int]:
        n = len(keys)
        if not comparison or not objs or any(o.type != "S" for o in objs):
            return 0, n
        op, first = comparison.upper(), objs[0].value

        def left(v: str) -> int:
            return bisect.bisect_left(keys, v, key=value)

        def right(v: str) -> int:
            return bisect.bisect_right(keys, v, key=value)

        if op in ("=", "EQ"):
            return left(first), right(first)
        if op in ("<", "LT"):
            return 0, left(first)
        if op in ("<=", "LE"):
            return 0, right(first)
        if op in (">", "GT"):
            return right(first), n
        if op in (">=", "GE"):
            return left(first), n
        if op == "BETWEEN" and len(objs) == 2:
            return left(first), right(objs[1].value)
        if op == "BEGINS_WITH":
            lo = hi = left(first)
            while hi < n and keys[hi].value.startswith(first):
                hi += 1
            return lo, hi
        return 0, n

    def candidates(table: Any, hash_key: Any, bound: Any) -> list[Any] | None:
        keys = sorted_keys(table, hash_key)
        if keys is None:
            return None
        lo, hi = span(keys, bound.arguments["range_comparison"], bound.arguments["range_objs"])
        forward = bound.arguments["scan_index_forward"] is not False
        start = bound.arguments["exclusive_start_key"] or {}
        if start and start.get(table.hash_key_attr) != hash_key.to_json():
            return None  # a start key of another partition (DynamoDB would refuse it)
        after = start.get(table.range_key_attr)
        if isinstance(after, dict) and isinstance(after.get("S"), str):
            if forward:
                lo = max(lo, bisect.bisect_right(keys, after["S"], key=value))
            else:
                hi = min(hi, bisect.bisect_left(keys, after["S"], key=value))
        limit = bound.arguments["limit"]
        if isinstance(limit, int) and limit > 0 and not bound.arguments["filter_kwargs"]:
            if forward:
                hi = min(hi, lo + limit + 1)
            else:
                lo = max(lo, hi - limit - 1)
        # moto's loop reaches the partition's next item past the range: keep it.
        lo, hi = (lo, min(hi + 1, len(keys))) if forward else (max(lo - 1, 0), hi)
        part = table.items[hash_key]
        return [part[key] for key in keys[lo:hi]] if lo < hi else []

    signature = inspect.signature(original_query)

    @functools.wraps(original_query)
    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        hash_key = bound.arguments.get("hash_key")
        conditions = bound.arguments.get("range_key_conditions") or []
        if (
            bound.arguments.get("index_name")
            or hash_key is None
            or not self.range_key_attr
            or len(conditions) > 1
        ):
            return original_query(self, *args, **kwargs)
        bound.apply_defaults()
        found = candidates(self, hash_key, bound)
        if found is None:
            return original_query(self, *args, **kwargs)
        token = scope.set((self, found))
        try:
            return original_query(self, *args, **kwargs)
        finally:
            scope.reset(token)

    def all_items(self: Any) -> list[Any]:
        scoped = scope.get()
        if scoped is not None and scoped[0] is self:
            return scoped[1]
        return original_all_items(self)

    def ordered_after(table: Any, start: Any, enough: int | None) -> list[Any] | None:
        """The table's items in moto's scan order (hash key, then sort key) strictly after the
        start key, ``enough`` of them at most; None unless every key is a string."""
        hashes = list(table.items)
        if any(h.type != "S" for h in hashes):
            return None
        hashes.sort(key=value)
        after: tuple[str, str] | None = None
        if start:
            h, r = start.get(table.hash_key_attr), start.get(table.range_key_attr)
            if not (isinstance(h, dict) and isinstance(r, dict)):
                return None
            if not (isinstance(h.get("S"), str) and isinstance(r.get("S"), str)):
                return None
            after = (h["S"], r["S"])
        first = bisect.bisect_left(hashes, after[0], key=value) if after else 0
        out: list[Any] = []
        for hash_key in hashes[first:]:
            keys = sorted_keys(table, hash_key)
            if keys is None:
                return None
            lo = 0
            if after is not None and hash_key.value == after[0]:
                lo = bisect.bisect_right(keys, after[1], key=value)
            part = table.items[hash_key]
            for key in keys[lo:]:
                out.append(part[key])
                if enough is not None and len(out) >= enough:
                    return out
        return out

    original_scan = Table.scan
    scan_signature = inspect.signature(original_scan)

    @functools.wraps(original_scan)
    def scan(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = scan_signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = bound.arguments
        if (
            arguments["index_name"]
            or not self.range_key_attr
            or tuple(arguments["segments"] or (None, None)) != (None, None)
        ):
            return original_scan(self, *args, **kwargs)
        limit = arguments["limit"]
        # moto's loop takes ``Limit`` items (before the filter expression; the legacy
        # ``ScanFilter`` counts only matches) and looks at one more to decide it stopped.
        enough = limit + 1 if isinstance(limit, int) and not arguments["filters"] else None
        found = ordered_after(self, arguments["exclusive_start_key"], enough)
        if found is None:
            return original_scan(self, *args, **kwargs)
        arguments["exclusive_start_key"] = None  # ``found`` already starts past it
        token = scope.set((self, found))
        try:
            return original_scan(*bound.args, **bound.kwargs)
        finally:
            scope.reset(token)

    Table.query = query  # type: ignore[method-assign]
    Table.scan = scan  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]


def _json_request_parsing() -> None:
    from moto.core.parse import BaseJSONParser

    plans: dict[tuple[type, int], tuple[Any, dict[str, tuple[int, str, Any, bool]]]] = {}
    handlers: dict[tuple[type, str], Any] = {}
    parse_structure = BaseJSONParser._parse_structure
    parse_shape = BaseJSONParser._parse_shape
    parse_map = BaseJSONParser._parse_map

    def handler_of(parser: Any, type_name: str) -> Any:
        handler = handlers.get((parser, type_name))
        if handler is None:
            handler = getattr(parser, f"_parse_{type_name}", None) or parser._default_handle
            handlers[(parser, type_name)] = handler
        return handler

    def members_of(parser: Any, shape: Any) -> dict[str, tuple[int, str, Any, bool]]:
        # Per member: its order, name, shape, and whether its value is taken as it is.
        entry = plans.get((parser, id(shape)))
        if entry is None or entry[0] is not shape:
            as_is = parser._default_handle
            named = {
                member.serialization.get("name", name): (
                    index,
                    name,
                    member,
                    handler_of(parser, member.type_name) is as_is,
                )
                for index, (name, member) in enumerate(shape.members.items())
            }
            entry = plans[(parser, id(shape))] = (shape, named)
        return entry[1]

    @functools.wraps(parse_structure)
    def fast_parse_structure(self: Any, shape: Any, value: Any) -> Any:
        if shape.is_document_type:
            return value
        if value is None:
            return None
        named = members_of(type(self), shape)
        found = []
        for key, raw in value.items():
            member = named.get(key)
            if member is not None and raw is not None:
                found.append((*member, raw))
        if len(found) > 1:
            found.sort(key=lambda item: item[0])
        final = self.MAP_TYPE()
        for _, name, member_shape, as_is, raw in found:
            final[name] = raw if as_is else self._parse_shape(member_shape, raw)
        return final

    @functools.wraps(parse_map)
    def fast_parse_map(self: Any, shape: Any, value: Any) -> Any:
        parser = type(self)
        key_shape, value_shape = shape.key, shape.value
        key_as_is = handler_of(parser, key_shape.type_name) is parser._default_handle
        parse_value = handler_of(parser, value_shape.type_name)
        value_as_is = parse_value is parser._default_handle
        parsed = self.MAP_TYPE()
        for key, raw in value.items():
            name = key if key_as_is else self._parse_shape(key_shape, key)
            parsed[name] = raw if value_as_is else parse_value(self, value_shape, raw)
        return parsed

    @functools.wraps(parse_shape)
    def fast_parse_shape(self: Any, shape: Any, node: Any) -> Any:
        return handler_of(type(self), shape.type_name)(self, shape, node)

    BaseJSONParser._parse_structure = fast_parse_structure  # type: ignore[method-assign]
    BaseJSONParser._parse_shape = fast_parse_shape  # type: ignore[method-assign]
    BaseJSONParser._parse_map = fast_parse_map  # type: ignore[method-assign]


def _untracked_models() -> None:
    from moto.core.common_models import BaseModel

    def untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)

    BaseModel.__new__ = staticmethod(untracked_new)  # type: ignore[method-assign]
