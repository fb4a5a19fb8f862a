"""Property-based fuzzing of every operation in backend/api/openapi.yaml against the local stack.

Schemathesis generates requests from the spec, valid ones and invalid ones (coverage phase
plus a bounded, derandomized fuzzing phase), sends them with a real bearer token, and
checks that the API never answers 5xx and that every answer is documented: status, content
type, headers and body schema.

Random ids only ever reach "not found", so in the fuzzing phase the generated path
parameters (and the `file_id` of share bodies) are, more often than not, swapped for ids of
real files, versions, uploads and shares, seeded once per session.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st

from backend.api.http import FRAMED_BATCH_TYPE
from tests.integration.fuzzing import FUZZ_SETTINGS, call_and_validate, load_schema, session_token
from tests.integration.stack import RunningStack

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
schema = load_schema()


def _framed(files: list[tuple[str, bytes]]) -> bytes:
    items = [
        {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for path, data in files
    ]
    return b"".join([json.dumps({"files": items}).encode(), b"\n", *(d for _, d in files)])


# Framed batch bodies (openapi.yaml): well-framed ones with odd names and bytes, and garbage.
schemathesis.openapi.media_type(
    FRAMED_BATCH_TYPE,
    st.one_of(
        st.lists(st.tuples(st.text(max_size=40), st.binary(max_size=64)), max_size=4).map(_framed),
        st.binary(max_size=512),
    ),
)

# Ids of real resources, by path parameter name; filled by the `seeded` fixture before any
# case is drawn. Destructive operations get their own victims, so the others keep finding
# live resources whatever order the operations run in.
SEEDED: dict[str, list[str]] = {}
SEEDED_FOR: dict[tuple[str, str], list[str]] = {}


def _pool(label: str, name: str) -> list[str]:
    return SEEDED_FOR.get((label, name)) or SEEDED.get(name) or []


def _with_real_ids(label: str, params: Any) -> st.SearchStrategy[Any]:
    if not isinstance(params, dict):
        return st.just(params)
    real = {name: st.sampled_from(pool) for name in params if (pool := _pool(label, name))}
    if not real:
        return st.just(params)
    fixed = {name: st.just(value) for name, value in params.items() if name not in real}
    # Real ids first: Hypothesis favours earlier branches. The coverage phase (no hooks)
    # already sends plenty of ids that do not exist.
    return st.one_of(st.fixed_dictionaries({**fixed, **real}), st.just(params))


@schema.hook("before_generate_path_parameters")
def _real_path_ids(context: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    label = context.operation.label
    # flatmap defers reading SEEDED until a case is drawn, i.e. after the fixture ran.
    return strategy.flatmap(lambda params: _with_real_ids(label, params))


@schema.hook("before_generate_body")
def _real_share_file_ids(context: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    if context.operation.label == "POST /trash/empty":
        # Empty only what was trashed before the seeding (nothing), so the seeded trash
        # stays for the restore and purge cases; bodies of the wrong shape go as drawn.
        return strategy.map(
            lambda body: (
                {**body, "before": 1}
                if isinstance(body, dict) and isinstance(body.get("before", 0), int)
                else body
            )
        )
    if context.operation.label != "POST /shares":
        return strategy

    def maybe_real(body: Any) -> st.SearchStrategy[Any]:
        if not isinstance(body, dict) or "file_id" not in body or not SEEDED.get("file_id"):
            return st.just(body)
        real = st.sampled_from(SEEDED["file_id"]).map(lambda file_id: {**body, "file_id": file_id})
        return st.one_of(real, st.just(body))

    return strategy.flatmap(maybe_real)


class _Seeder:
    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, status: int, body: Any = None) -> Any:
        response = self.http.request(method, self.api_url + path, json=body, timeout=30)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def initiate(self, path: str, size: int) -> dict[str, Any]:
        ticket: dict[str, Any] = self.call("POST", "/uploads", 201, {"path": path, "size": size})
        return ticket

    def put(self, ticket: dict[str, Any], content: bytes) -> None:
        put = requests.put(
            ticket["parts"][0]["url"],
            data=content,
            headers={"Content-Type": "application/octet-stream"},
            timeout=30,
        )
        assert put.status_code == 200, put.text

    def upload(self, path: str, content: bytes) -> dict[str, Any]:
        ticket = self.initiate(path, len(content))
        self.put(ticket, content)
        file: dict[str, Any] = self.call("POST", f"/uploads/{ticket['upload_id']}/complete", 200)
        return file

    def share(self, file_id: str, **extra: Any) -> dict[str, Any]:
        share: dict[str, Any] = self.call("POST", "/shares", 201, {"file_id": file_id, **extra})
        return share


@pytest.fixture(scope="session")
def fuzz_token(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A session-wide user for the fuzzer."""
    return session_token(stack, tmp_path_factory, "fuzz", admin=False)


@pytest.fixture(scope="session")
def seeded(stack: RunningStack, fuzz_token: str) -> dict[str, list[str]]:
    """Real files (with versions), trashed files, pending uploads and shares for the fuzzer."""
    seed = _Seeder(stack.api_url, fuzz_token)
    first = seed.upload("seed/a.txt", b"first")
    second = seed.upload("seed/a.txt", b"second version")
    other = seed.upload("seed/dir/b.bin", b"\x00\x01\x02")
    victims = [seed.upload(f"seed/victim-{i}.txt", b"v")["file_id"] for i in range(3)]
    trashed, purgeable = [], []
    for i in range(4):
        file = seed.upload(f"seed/trashed-{i}.txt", b"t")
        seed.call("DELETE", f"/files/{file['file_id']}", 200)
        (trashed if i < 2 else purgeable).append(file["file_id"])

    with_bytes = seed.initiate("seed/pending-with-bytes.txt", 4)
    seed.put(with_bytes, b"data")
    no_bytes = seed.initiate("seed/pending-no-bytes.txt", 4)
    multipart = seed.initiate("seed/big.bin", 17 * MiB)
    assert multipart["mode"] == "multipart"
    abortable = [seed.initiate(f"seed/abort-{i}.txt", 1)["upload_id"] for i in range(2)]

    shares = [
        seed.share(first["file_id"]),
        seed.share(other["file_id"], password="secret-pw", max_downloads=3),
        seed.share(other["file_id"], max_downloads=1, expires_in_seconds=60),
    ]
    revocable = [seed.share(first["file_id"])["share_id"] for _ in range(2)]

    SEEDED.clear()
    SEEDED.update(
        {
            "file_id": [first["file_id"], other["file_id"]],
            "version_id": [first["version_id"], second["version_id"]],
            "upload_id": [with_bytes["upload_id"], no_bytes["upload_id"], multipart["upload_id"]],
            "share_id": [s["share_id"] for s in shares],
            "token": [s["url"].rsplit("/", 1)[1] for s in shares],
        }
    )
    SEEDED_FOR.clear()
    SEEDED_FOR.update(
        {
            ("DELETE /files/{file_id}", "file_id"): victims,
            ("POST /trash/{file_id}/restore", "file_id"): trashed,
            ("DELETE /trash/{file_id}", "file_id"): purgeable,
            ("DELETE /uploads/{upload_id}", "upload_id"): abortable,
            ("DELETE /shares/{share_id}", "share_id"): revocable,
        }
    )
    return SEEDED


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_never_fails_and_matches_spec(
    case: schemathesis.Case, stack: RunningStack, fuzz_token: str, seeded: dict[str, list[str]]
) -> None:
    call_and_validate(case, stack, fuzz_token)


# Inputs the generator is unlikely to produce, found by reading the handlers: each must get a
# 4xx (or a success), never a 5xx. Several were 500s once (non-ASCII digits passing isdigit(),
# json.loads raising ValueError/RecursionError, path index keys over DynamoDB's 1024 bytes).
_LONG_PATH = "/".join(["p" * 255] * 4)[:1023]
EDGE_CASES = [
    pytest.param("GET", "/files", {"limit": "01"}, None, id="limit-leading-zero"),
    pytest.param("GET", "/files", {"limit": "1.5"}, None, id="limit-decimal"),
    pytest.param("GET", "/files", {"limit": "1", "cursor": "UCMA"}, None, id="cursor-nul"),
    pytest.param("GET", "/files", {"prefix": "a" * 2000}, None, id="prefix-too-long"),
    pytest.param("GET", "/changes", {"cursor": "1" * 17}, None, id="changes-cursor-too-long"),
    pytest.param("POST", "/uploads", None, '{"path": "a", "size": NaN}', id="body-nan"),
    pytest.param("POST", "/uploads", None, '{"path": "a", "size": 1e400}', id="body-inf"),
    pytest.param("POST", "/uploads", None, '{"path": "a\\ud800", "size": 1}', id="body-surrogate"),
    pytest.param("POST", "/uploads", None, b"\xff\xfe{}", id="body-not-utf8"),
    pytest.param("POST", "/uploads", None, "[" * 500 + "]" * 500, id="body-nested-500"),
    pytest.param("GET", "/files", {"limit": "²"}, None, id="files-limit-superscript"),
    pytest.param("GET", "/trash", {"limit": "²"}, None, id="trash-limit-superscript"),
    pytest.param("GET", "/changes", {"limit": "²"}, None, id="changes-limit-superscript"),
    pytest.param("GET", "/changes", {"cursor": "²"}, None, id="changes-cursor-superscript"),
    pytest.param(
        "POST",
        "/uploads",
        None,
        '{"path": "a", "size": ' + "9" * 5000 + "}",
        id="body-int-over-4300-digits",
    ),
    pytest.param("POST", "/uploads", None, "[" * 100_000 + "]" * 100_000, id="body-nested-100k"),
    pytest.param("COMPLETE", _LONG_PATH, None, None, id="complete-1023-byte-path"),
    pytest.param("MOVE", _LONG_PATH, None, None, id="move-to-1023-byte-path"),
    pytest.param("RESTORE", _LONG_PATH, None, None, id="restore-to-1023-byte-path"),
]


@pytest.mark.parametrize(("method", "path", "query", "body"), EDGE_CASES)
def test_edge_inputs_are_never_server_errors(
    stack: RunningStack,
    fuzz_token: str,
    method: str,
    path: str,
    query: dict[str, str] | None,
    body: str | bytes | None,
) -> None:
    seed = _Seeder(stack.api_url, fuzz_token)
    if method in ("COMPLETE", "MOVE", "RESTORE"):
        # `path` is a valid (if long) file path, used where each operation takes one.
        assert len(path.encode()) == 1023
        if method == "COMPLETE":
            ticket = seed.initiate(path, 1)
            seed.put(ticket, b"x")
            response = seed.http.post(
                f"{stack.api_url}/uploads/{ticket['upload_id']}/complete", timeout=30
            )
        else:
            file = seed.upload(f"edge/{secrets.token_hex(4)}.txt", b"x")
            url = f"{stack.api_url}/files/{file['file_id']}"
            if method == "MOVE":
                response = seed.http.patch(url, json={"path": path}, timeout=30)
            else:
                seed.call("DELETE", f"/files/{file['file_id']}", 200)
                response = seed.http.post(
                    f"{stack.api_url}/trash/{file['file_id']}/restore",
                    json={"path": path},
                    timeout=30,
                )
    else:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        response = seed.http.request(
            method, stack.api_url + path, params=query, data=body, headers=headers, timeout=30
        )
    detail = f"{method} {path[:40]}: {response.status_code} {response.text}"
    assert response.status_code < 500, detail
    if response.status_code >= 400:
        error = response.json()
        assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str)
