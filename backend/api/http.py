"""API Gateway HTTP API (payload v2.0) events in, Lambda proxy responses out."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from backend import naming
from backend.errors import ApiError, BadRequest, PayloadTooLarge, Unauthorized, ValidationFailed
from backend.logic.context import Caller

MAX_BODY_BYTES = 1024 * 1024
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ApiRequest:
    route_key: str
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    claims: Mapping[str, Any] | None = None

    def caller(self) -> Caller:
        if not self.claims or not self.claims.get("sub"):
            raise Unauthorized("not signed in")
        claims = self.claims
        username = str(claims.get("username") or claims.get("cognito:username") or claims["sub"])
        return Caller(
            str(claims["sub"]), username, frozenset(_groups(claims.get("cognito:groups")))
        )

    @property
    def accelerate(self) -> bool:
        """Whether the client asked for S3 Transfer Acceleration URLs (``1``/``0``)."""
        raw = str(self.headers.get(naming.ACCELERATE_HEADER, "")).strip().lower()
        if raw in ("", "0", "false"):
            return False
        if raw in ("1", "true"):
            return True
        raise ValidationFailed(f"the {naming.ACCELERATE_HEADER} header must be 1 or 0")

    def json_body(self, model: type[M], *, limit: int = MAX_BODY_BYTES) -> M:
        if len(self.body) > limit:
            raise PayloadTooLarge("request body too large")
        return _validated(model, self.body, "the body")

    def framed_body(self, model: type[M], *, limit: int) -> tuple[M, bytes]:
        """A ``FRAMED_BATCH_TYPE`` body: its JSON line as ``model``, and the bytes after it."""
        if len(self.body) > limit:
            raise PayloadTooLarge("request body too large")
        line, newline, rest = self.body.partition(b"\n")
        if not newline:
            raise ValidationFailed("the body must start with a line of JSON")
        return _validated(model, line, "the first line of the body"), rest


def _validated(model: type[M], text: bytes, what: str) -> M:
    if not text.strip():
        raw: Any = {}
    else:
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError):  # includes JSONDecodeError, bad UTF-8, huge ints
            raise BadRequest(f"{what} is not valid JSON", code="invalid_json") from None
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{what} must be a JSON object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _validation_error(exc) from None


def parse_item(model: type[M], raw: Any) -> M | ApiError:
    """One item of a batch body: the validated model, or the error that item alone gets."""
    if not isinstance(raw, dict):
        return ValidationFailed("each item must be a JSON object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        return _validation_error(exc)


def _validation_error(exc: ValidationError) -> ApiError:
    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"]) or "body"
        cause = err.get("ctx", {}).get("error")
        msg = str(cause) if isinstance(cause, ValueError) else err["msg"]
        problems.append(f"{where}: {msg}")
    return ValidationFailed("; ".join(problems), errors=problems)


def _groups(value: Any) -> list[str]:
    """Cognito groups arrive as a list locally and as "[a b]" through API Gateway."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value).strip().strip("[]")
    return [part for part in text.replace(",", " ").split() if part]


FRAMED_BATCH_TYPE = "application/vnd.filevault.batch"
"""A batch of files with their bytes as they are: one line of JSON (the items), a newline,
then the files' bytes one after another in the items' order (openapi.yaml, the inline routes).
"""


@dataclass(frozen=True)
class EncodedJson:
    """A body already in JSON, sent as it is (see ``views.inline_batch_json``)."""

    text: str


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_proxy(self, *, bytes_as_is: bool = False) -> dict[str, Any]:
        """The Lambda proxy result; a bytes body is base64 in it, as API Gateway wants, unless
        ``bytes_as_is`` (an in-process gateway, which would only decode it again)."""
        headers = {"cache-control": "no-store", **self.headers}
        if self.body is None:
            return {"statusCode": self.status, "headers": headers, "body": ""}
        if isinstance(self.body, bytes):
            headers.setdefault("content-type", "application/octet-stream")
            return {
                "statusCode": self.status,
                "headers": headers,
                "body": self.body if bytes_as_is else base64.b64encode(self.body).decode("ascii"),
                "isBase64Encoded": not bytes_as_is,
            }
        headers.setdefault("content-type", "application/json")
        return {
            "statusCode": self.status,
            "headers": headers,
            "body": self.body.text
            if isinstance(self.body, EncodedJson)
            else json.dumps(self.body, ensure_ascii=False),
            "isBase64Encoded": False,
        }


def parse_event(event: Mapping[str, Any]) -> ApiRequest:
    body_text = event.get("body") or ""
    if isinstance(body_text, bytes):  # from the local stack's in-process gateway
        body = body_text
    elif event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body_text)
        except (binascii.Error, ValueError):
            raise BadRequest("the body is not valid base64") from None
    else:
        body = body_text.encode("utf-8")
    authorizer = event.get("requestContext", {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims")
    return ApiRequest(
        route_key=str(event.get("routeKey", "")),
        path_params=dict(event.get("pathParameters") or {}),
        query=dict(event.get("queryStringParameters") or {}),
        headers={k.lower(): v for k, v in (event.get("headers") or {}).items()},
        body=body,
        claims=claims,
    )


def error_response(error: ApiError) -> ApiResponse:
    # Only a missing or refused session is a Bearer challenge (not a share's password).
    headers = {"www-authenticate": "Bearer"} if error.code == "unauthorized" else {}
    return ApiResponse(error.status, error.body(), headers)
