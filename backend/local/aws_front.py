"""The local stack's AWS endpoint: one loopback port in front of S3 and moto.

Every request must be signed with the stack's service credential (SigV4 in a
header, or a pre-signed URL for S3) except Cognito's public user operations,
which AWS too accepts unsigned. S3 goes to our file-backed S3; everything else
to moto, running in-process (it has no port of its own). Cognito's SRP sign-in
is checked here, because moto accepts any password in that flow.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from backend.local import srp
from backend.local.cognito import LocalCognito
from backend.local.inprocess import IN_PROCESS_ENVIRON, UNSIGNED_MARK
from backend.local.moto_dynamodb import DYNAMODB_LOCK
from backend.local.s3 import CHUNK_VALIDATOR_ENVIRON
from backend.local.sigv4 import SignatureError, SigV4Verifier, VerifiedRequest

log = logging.getLogger("filevault.local.aws")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
COGNITO_TARGET = "AWSCognitoIdentityProviderService."
DYNAMODB_TARGET = "DynamoDB_20120810."
# What a signed-out client may call, as in AWS (self sign-up is off).
PUBLIC_COGNITO_ACTIONS = frozenset(
    {
        "InitiateAuth",
        "RespondToAuthChallenge",
        "GetUser",
        "GlobalSignOut",
        "RevokeToken",
        "ChangePassword",
    }
)
READ_PREFIXES = (
    "Get",
    "Describe",
    "List",
    "Query",
    "Scan",
    "BatchGet",
    "InitiateAuth",
    "RespondToAuthChallenge",
    "Receive",
)
CHALLENGE_TTL_S = 300


@dataclass(frozen=True)
class _Pending:
    challenge: srp.Challenge
    moto_session: str
    username: str
    created: float


def _json_error(
    start_response: Callable[..., Any], status: int, kind: str, message: str
) -> list[bytes]:
    body = json.dumps({"__type": kind, "message": message}).encode()
    start_response(
        f"{status} Error",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _xml_error(
    start_response: Callable[..., Any], status: int, code: str, message: str
) -> list[bytes]:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()
    start_response(
        f"{status} Error", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    out = {
        k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        out["content-type"] = str(environ["CONTENT_TYPE"])
    if environ.get("CONTENT_LENGTH"):
        out["content-length"] = str(environ["CONTENT_LENGTH"])
    return out


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


class AwsFront:
    def __init__(
        self,
        *,
        s3_app: WsgiApp,
        moto_app: WsgiApp,
        verifier: SigV4Verifier,
        cognito: LocalCognito,
        jwks: dict[str, Any],
        on_mutation: Callable[[], None] = lambda: None,
        lambda_invoke: Callable[[dict[str, Any], Callable[..., Any], bytes], Iterable[bytes]]
        | None = None,
    ) -> None:
        # Lambda Invoke is answered in-process (backend/local/workflows.py); moto's Lambda
        # runs code only in Docker. ``object_lambda`` (set once the endpoint's URL is known)
        # serves the watermark access point alias.
        self._lambda = lambda_invoke
        self.object_lambda: Any = None
        self._s3 = s3_app
        self._moto = moto_app
        self._verifier = verifier
        self._cognito = cognito
        self._jwks = json.dumps(jwks).encode()
        self._on_mutation = on_mutation
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        headers = _headers(environ)
        if path.startswith("/moto-api"):
            return _xml_error(start_response, 404, "NotFound", "not available")
        if environ["REQUEST_METHOD"] == "GET" and path.endswith("/.well-known/jwks.json"):
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(self._jwks)))],
            )
            return [self._jwks]
        target = headers.get("x-amz-target", "")
        if target.startswith(COGNITO_TARGET):
            return self._cognito_call(
                environ, start_response, headers, target[len(COGNITO_TARGET) :]
            )
        raw_query = str(environ.get("QUERY_STRING", ""))
        if not SigV4Verifier.is_signed(headers, raw_query):
            return _xml_error(start_response, 403, "AccessDenied", "Request is not signed")
        service = self._service_of(headers, raw_query)
        body = None if service == "s3" else _read_body(environ)
        try:
            verified = self._verify(
                environ,
                headers,
                str(environ.get("RAW_URI", "").split("?", 1)[0] or path),
                raw_query,
                body,
            )
        except SignatureError as exc:
            return _xml_error(start_response, exc.status, exc.code, exc.message)
        if service in ("s3", "s3-object-lambda") and self.object_lambda is not None:
            if body is not None:  # read for the signature check
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
            answered = self.object_lambda.maybe_handle(environ, start_response)
            if answered is not None:
                return answered  # type: ignore[no-any-return]
        if service == "lambda" and self._lambda is not None:
            assert body is not None
            return self._lambda(environ, start_response, body)
        if service == "s3":
            # A signed streaming body carries a signature per chunk: the S3 app checks them.
            environ[CHUNK_VALIDATOR_ENVIRON] = verified.chunk_signatures
            return self._s3(environ, start_response)
        assert body is not None
        result = self._forward(environ, start_response, body)
        # Marked after the write is applied, so a snapshot taken next includes it.
        if not target.split(".")[-1].startswith(READ_PREFIXES):
            self._on_mutation()
        return result

    def _verify(
        self,
        environ: Mapping[str, Any],
        headers: Mapping[str, str],
        raw_path: str,
        raw_query: str,
        body: bytes | None,
    ) -> VerifiedRequest:
        # Only a request made in this process carries the environ mark (see inprocess.py).
        if environ.get(IN_PROCESS_ENVIRON) and headers.get("authorization", "").endswith(
            f"Signature={UNSIGNED_MARK}"
        ):
            return self._verifier.unsigned_from_this_process(headers)
        return self._verifier.verify(
            method=str(environ["REQUEST_METHOD"]),
            host=headers.get("host", ""),
            raw_path=raw_path,
            raw_query=raw_query,
            headers=headers,
            body=body,
        )

    @staticmethod
    def _service_of(headers: Mapping[str, str], raw_query: str) -> str:
        auth = headers.get("authorization", "")
        credential = ""
        if "Credential=" in auth:
            credential = auth.split("Credential=", 1)[1].split(",", 1)[0]
        else:
            for part in raw_query.split("&"):
                if part.startswith("X-Amz-Credential="):
                    credential = unquote(part.split("=", 1)[1])
        pieces = credential.split("/")
        return pieces[3] if len(pieces) >= 5 else ""

    def _forward(
        self, environ: dict[str, Any], start_response: Callable[..., Any], body: bytes
    ) -> Iterable[bytes]:
        environ = dict(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(DYNAMODB_TARGET):
            with DYNAMODB_LOCK:  # moto is not thread-safe; DynamoDB writes must be atomic
                return list(self._moto(environ, start_response))
        return self._moto(environ, start_response)

    def _call_moto(
        self, environ: dict[str, Any], body: bytes
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        environ = dict(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        chunks = self._moto(environ, start)
        data = b"".join(chunks)
        close = getattr(chunks, "close", None)
        if close:
            close()
        return captured["status"], captured["headers"], data

    # ----- Cognito -----
    def _cognito_call(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        headers: Mapping[str, str],
        action: str,
    ) -> Iterable[bytes]:
        body = _read_body(environ)
        if action not in PUBLIC_COGNITO_ACTIONS:
            raw_query = str(environ.get("QUERY_STRING", ""))
            if not SigV4Verifier.is_signed(headers, raw_query):
                return _json_error(
                    start_response, 400, "NotAuthorizedException", "Request is not signed"
                )
            try:
                self._verify(environ, headers, str(environ.get("PATH_INFO", "/")), raw_query, body)
            except SignatureError as exc:
                return _json_error(start_response, 400, "NotAuthorizedException", exc.message)
            result = self._forward(environ, start_response, body)
            if not action.startswith(READ_PREFIXES):
                self._on_mutation()
            return result
        try:
            request = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return _json_error(start_response, 400, "SerializationException", "invalid JSON")
        if action == "InitiateAuth":
            flow = request.get("AuthFlow")
            if flow == "USER_SRP_AUTH":
                return self._srp_start(environ, start_response, body, request)
            if flow not in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
                return _json_error(
                    start_response,
                    400,
                    "InvalidParameterException",
                    f"{flow} flow not enabled for this client",
                )
        if (
            action == "RespondToAuthChallenge"
            and request.get("ChallengeName") == "PASSWORD_VERIFIER"
        ):
            return self._srp_finish(environ, start_response, request)
        if action == "RespondToAuthChallenge":
            return _json_error(
                start_response, 400, "NotAuthorizedException", "unsupported challenge"
            )
        result = self._forward(environ, start_response, body)
        if action == "ChangePassword":
            self._on_mutation()  # the SRP verifier to persist has changed
        return result

    def _srp_start(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        body: bytes,
        request: dict[str, Any],
    ) -> Iterable[bytes]:
        params = request.get("AuthParameters") or {}
        username, srp_a = str(params.get("USERNAME", "")), str(params.get("SRP_A", ""))
        status, headers, data = self._call_moto(environ, body)
        if not status.startswith("200"):
            start_response(status, headers)
            return [data]
        pool_id = self._cognito.pool_of_client(str(request.get("ClientId", "")))
        user = self._cognito.srp_user(pool_id, username) if pool_id else None
        if pool_id is None or user is None:
            return _json_error(
                start_response, 400, "NotAuthorizedException", "Incorrect username or password."
            )
        try:
            challenge = srp.start(pool_id, user.user_id, srp_a, user.verifier)
        except (srp.SrpError, ValueError):
            return _json_error(start_response, 400, "InvalidParameterException", "invalid SRP_A")
        answer = json.loads(data)
        moto_session = answer["ChallengeParameters"]["SECRET_BLOCK"]
        answer["ChallengeParameters"].update(
            {
                "SALT": user.verifier.salt_hex,
                "SRP_B": challenge.srp_b_hex,
                "SECRET_BLOCK": challenge.secret_block_b64,
            }
        )
        now = time.monotonic()
        with self._lock:
            for key in [k for k, p in self._pending.items() if now - p.created > CHALLENGE_TTL_S]:
                del self._pending[key]
            self._pending[challenge.secret_block_b64] = _Pending(
                challenge, moto_session, username, now
            )
        out = json.dumps(answer).encode()
        start_response(
            "200 OK",
            [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(out)))],
        )
        return [out]

    def _srp_finish(
        self, environ: dict[str, Any], start_response: Callable[..., Any], request: dict[str, Any]
    ) -> Iterable[bytes]:
        responses = dict(request.get("ChallengeResponses") or {})
        block = str(responses.get("PASSWORD_CLAIM_SECRET_BLOCK", ""))
        with self._lock:
            pending = self._pending.pop(block, None)
        wrong = _json_error
        if pending is None or time.monotonic() - pending.created > CHALLENGE_TTL_S:
            return wrong(
                start_response, 400, "NotAuthorizedException", "Incorrect username or password."
            )
        ok = srp.check(
            pending.challenge,
            str(responses.get("TIMESTAMP", "")),
            str(responses.get("PASSWORD_CLAIM_SIGNATURE", "")),
        )
        if not ok:
            return wrong(
                start_response, 400, "NotAuthorizedException", "Incorrect username or password."
            )
        if responses.get("USERNAME") not in (pending.username, pending.challenge.user_id_for_srp):
            return wrong(
                start_response, 400, "NotAuthorizedException", "Incorrect username or password."
            )
        # moto signs in whoever USERNAME names: pin it to the user whose password was proven.
        responses["USERNAME"] = pending.username
        responses["PASSWORD_CLAIM_SECRET_BLOCK"] = pending.moto_session
        request["ChallengeResponses"] = responses
        return self._forward(environ, start_response, json.dumps(request).encode())
