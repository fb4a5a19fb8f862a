"""The metadata store's fast attribute serializer says exactly what the SDK's would."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeSerializer
from hypothesis import example, given
from hypothesis import strategies as st

from backend.data.metadata import _to_attr
from backend.data.records import FileState

_SDK = TypeSerializer()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),  # around DynamoDB's 38 digits
    st.text(),
    st.sampled_from(list(FileState)),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.binary(max_size=8).map(Binary),
    st.floats(allow_nan=False),
    st.frozensets(st.text(min_size=1), min_size=1).map(set),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _outcome(serialize: Any, value: Any) -> Any:
    try:
        return serialize(value)
    except Exception as exc:  # the same refusal (type and message) counts as the same answer
        return type(exc), str(exc)


@given(values)
@example(10**38)  # 39 digits: refused
@example(-(10**38))
@example(10**38 - 1)  # 38 digits: taken
@example([True, 1, "1", None])
def test_every_value_is_serialized_as_the_sdk_does(value: Any) -> None:
    assert _outcome(_to_attr, value) == _outcome(_SDK.serialize, value)


def test_the_common_types_take_the_fast_path() -> None:
    assert _to_attr({"size": 5, "path": "a/b", "gone": None, "ok": True}) == {
        "M": {
            "size": {"N": "5"},
            "path": {"S": "a/b"},
            "gone": {"NULL": True},
            "ok": {"BOOL": True},
        }
    }
    assert _to_attr([Decimal("1.5"), FileState.ACTIVE]) == {
        "L": [{"N": "1.5"}, {"S": FileState.ACTIVE}]
    }
