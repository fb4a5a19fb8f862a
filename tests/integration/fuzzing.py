"""What the schemathesis fuzz tests share: the spec and how cases are generated from it, the
Hypothesis settings, the checks every answer must pass, and a session-wide user to send them as.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.stack import RunningStack, client

SPEC_PATH = Path(__file__).resolve().parents[2] / "backend" / "api" / "openapi.yaml"
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            # Valid and invalid data; the same cases on every run.
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        # No OpenAPI links to chain operations with (test_fuzz_api seeds real ids instead).
        "phases": {"stateful": {"enabled": False}},
        "request-timeout": 30,
    }
)

# For the test under `@schema.parametrize()`: bounded, derandomized, no example database.
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def load_schema() -> Any:
    """The spec, loaded at import, with the stack's URL and token given per call:
    schemathesis's lazy `schemathesis.pytest.from_fixture` loader breaks on the installed
    pytest (it sets `request.node._nodeid`, which pytest 9 no longer has)."""
    return schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)


def session_token(
    stack: RunningStack, tmp_path_factory: pytest.TempPathFactory, prefix: str, *, admin: bool
) -> str:
    """The access token of a new user named `prefix-…`, for a session-scoped fixture
    (make_user is function-scoped)."""
    username = f"{prefix}-{secrets.token_hex(3)}"
    password = "Pw-" + secrets.token_hex(8)
    stack.add_user(username, password, admin_user=admin)
    svc = client(stack, tmp_path_factory.mktemp(f"{prefix}-home"))
    svc.login(username, password)
    return svc.access_token()


def call_and_validate(case: schemathesis.Case, stack: RunningStack, token: str) -> None:
    """Sends the case to the stack as the token's user and runs every check on the answer."""
    case.call_and_validate(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )
