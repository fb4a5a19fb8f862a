"""A local stand-in for API Gateway's HTTP API: JWT authorizer + Lambda proxy integration.

It verifies the Cognito access token as API Gateway's JWT authorizer does
(signature against the pool's JWKS, issuer, expiry, client id) and calls the
same handler code with the same payload v2.0 event shape.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import jwt
from werkzeug.wrappers import Request, Response

from backend.api.routes import match, path_exists

log = logging.getLogger("filevault.local.gateway")
Handler = Callable[[Mapping[str, Any]], dict[str, Any]]
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
_LEEWAY_S = 5


def _json(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        f'{{"message":"{message}"}}',
        status=status,
        mimetype="application/json",
        headers=dict(headers or {}),
    )


class JwtAuthorizer:
    def __init__(self, jwks: Mapping[str, Any], *, issuer: str, audience: str) -> None:
        self._keys = jwt.PyJWKSet.from_dict(dict(jwks))
        self._issuer = issuer
        self._audience = audience

    def claims(self, authorization: str | None) -> dict[str, Any] | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = authorization[len("Bearer ") :].strip()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next((k for k in self._keys.keys if k.key_id == kid), None)
            if key is None:
                return None
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "iss"], "verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        # Access tokens carry client_id, ID tokens aud: either must be our app client.
        use = claims.get("token_use")
        client = claims.get("client_id") if use == "access" else claims.get("aud")
        if use not in ("access", "id") or client != self._audience:
            return None
        return claims


class ApiGateway:
    def __init__(
        self,
        handler: Handler,
        authorizer: JwtAuthorizer,
        on_request: Callable[[str], None] = lambda method: None,
    ) -> None:
        """``handler`` runs in this process: request bodies reach it as bytes (which
        ``parse_event`` takes), not as the text or base64 API Gateway would make of them only
        for the handler to undo; a binary answer may come back as bytes too."""
        self._handler = handler
        self._authorizer = authorizer
        self._on_request = on_request

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        try:
            response = self._respond(request)
        except Exception:
            log.exception("gateway failure")
            response = _json(500, "Internal Server Error")
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        path = request.path
        found = match(request.method, path)
        if found is None:
            if path_exists(path):
                return _json(405, "Method Not Allowed")
            return _json(404, "Not Found")
        route, params = found
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _json(413, "Request Entity Too Large")
        body = request.get_data(cache=False)
        if len(body) > MAX_BODY:
            return _json(413, "Request Entity Too Large")
        claims = None
        if not route.public:
            claims = self._authorizer.claims(request.headers.get("Authorization"))
            if claims is None:
                return _json(401, "Unauthorized", {"www-authenticate": "Bearer"})
        event = self._event(request, route.key, params, body, claims)
        self._on_request(request.method)
        out = self._handler(event)
        payload = out.get("body") or ""
        if isinstance(payload, bytes):  # an in-process handler's binary body, not encoded
            data = payload
        elif out.get("isBase64Encoded"):
            data = base64.b64decode(payload)
        else:
            data = payload.encode("utf-8")
        return Response(data, status=int(out["statusCode"]), headers=dict(out.get("headers") or {}))

    @staticmethod
    def _event(
        request: Request,
        route_key: str,
        params: dict[str, str],
        body: bytes,
        claims: dict[str, Any] | None,
    ) -> dict[str, Any]:
        query: dict[str, str] = {}
        raw_query = request.query_string.decode("latin-1")
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            # API Gateway joins repeated parameters with commas.
            query[key] = f"{query[key]},{value}" if key in query else value
        context: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
        }
        if claims is not None:
            context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
        return {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": request.path,
            "rawQueryString": raw_query,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "queryStringParameters": query or None,
            "pathParameters": params or None,
            "requestContext": context,
            "body": body or None,
            "isBase64Encoded": False,
        }
