"""The Lambda entry point: route the event to its operation and map errors to 4xx bodies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.api.http import ApiResponse, error_response, parse_event
from backend.api.operations import OPERATIONS
from backend.api.routes import ROUTES
from backend.errors import ApiError, NotFound, TooManyRequests
from backend.logic.context import Services

log = logging.getLogger("filevault.api")
LambdaHandler = Callable[[Mapping[str, Any], Any], dict[str, Any]]
_BY_KEY = {route.key: route for route in ROUTES}
_THROTTLED = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
}


def handle(
    services: Services,
    event: Mapping[str, Any],
    *,
    group: str | None = None,
    bytes_as_is: bool = False,
) -> dict[str, Any]:
    """The proxy result for ``event`` (``bytes_as_is``: see ``ApiResponse.to_proxy``)."""
    try:
        request = parse_event(event)
        route = _BY_KEY.get(request.route_key)
        if route is None or (group is not None and route.group != group):
            raise NotFound("no such route")
        if request.accelerate:
            services = services.accelerated()
        response = OPERATIONS[route.operation](services, request)
    except ApiError as exc:
        response = error_response(exc)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _THROTTLED:
            response = error_response(TooManyRequests("the service is busy; try again"))
        else:
            log.exception("AWS call failed")
            response = ApiResponse(500, {"code": "internal_error", "message": "internal error"})
    except (BotoCoreError, Exception):
        log.exception("unhandled error")
        response = ApiResponse(500, {"code": "internal_error", "message": "internal error"})
    return response.to_proxy(bytes_as_is=bytes_as_is)


def make_handler(services: Callable[[], Services], group: str | None = None) -> LambdaHandler:
    """A Lambda handler that builds its services on first use, not at import."""
    cache: list[Services] = []

    def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        if not cache:
            cache.append(services())
        return handle(cache[0], event, group=group)

    return handler
