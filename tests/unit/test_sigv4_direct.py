"""The direct SigV4 computation gives botocore's signer classes' answer, request for request."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.local.sigv4 import _Credential, _Signing, botocore_signature, direct_signature

SECRET = "local-secret-key"
# Characters that stress canonicalisation: reserved, percent signs, dots, spaces and tabs,
# latin-1 (NBSP, NEL: whitespace to str.split), other unicode.
_TEXT = st.text(
    alphabet=st.sampled_from(list("aZ09-_.~/?#&=+%:;@!$' \t,*()[]\xa0\x85é日")),
    max_size=12,
)
_HEADER_NAMES = st.sampled_from(
    ["x-amz-date", "content-type", "x-amz-target", "x-amz-content-sha256", "user-agent", "x-a"]
)


def _outcome(fn: Any, signing: _Signing) -> tuple[str, Any]:
    try:
        return "ok", fn(signing, SECRET)
    except Exception as exc:  # both must fail the same way
        return "error", type(exc)


@st.composite
def _signings(draw: Any) -> _Signing:
    service = draw(st.sampled_from(["s3", "dynamodb", "lambda", "states"]))
    headers: dict[str, str] = {
        "host": draw(st.sampled_from(["127.0.0.1:9", "h", "", "a?b", "[::1]:5"]))
    }
    for name in draw(st.lists(_HEADER_NAMES, max_size=4, unique=True)):
        headers[name] = draw(_TEXT)
    if draw(st.booleans()):
        headers["x-amz-content-sha256"] = draw(
            st.sampled_from([hashlib.sha256(b"").hexdigest(), "UNSIGNED-PAYLOAD", " x  y "])
        )
    timestamp = draw(st.sampled_from(["20260101T000000Z", "20261125T235959Z"]))
    return _Signing(
        method=draw(st.sampled_from(["GET", "put", "POST", "HEAD", "delete"])),
        host=draw(st.sampled_from(["127.0.0.1:9", "localhost", "", "a?b=c", "x#y", "h/p"])),
        raw_path=draw(
            st.one_of(
                _TEXT.map(lambda t: "/" + t),
                st.sampled_from(["", "/", "//a//b/", "/a/./b/../c", "/%2F%41%zz", "/a%20b+c"]),
            )
        ),
        params=draw(st.lists(st.tuples(_TEXT, _TEXT), max_size=4)),
        headers=headers,
        body=draw(st.one_of(st.none(), st.binary(max_size=40))),
        credential=_Credential("AKID", timestamp[:8], "us-east-1", service),
        timestamp=timestamp,
        presigned=draw(st.booleans()),
    )


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_signings())
def test_direct_signature_matches_botocore(signing: _Signing) -> None:
    direct = _outcome(direct_signature, signing)
    assert direct == _outcome(botocore_signature, signing)


def test_header_values_with_surrogates_are_left_to_botocore() -> None:
    signing = _Signing(
        method="GET",
        host="h",
        raw_path="/",
        params=[],
        headers={"host": "h", "x-a": "bad\udcff"},
        body=None,
        credential=_Credential("AKID", "20260101", "us-east-1", "s3"),
        timestamp="20260101T000000Z",
        presigned=False,
    )
    assert direct_signature(signing, SECRET) is None
