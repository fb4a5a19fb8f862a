"""The admin operations fuzzed with an administrator's token (``test_fuzz_api.py`` fuzzes every
operation with an ordinary user's, which only ever reaches the 403): never a 5xx, and every
answer documented. Generated user ids are random, so nobody real is disabled."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.integration.stack import RunningStack, client
from tests.integration.test_fuzz_api import CHECKS, CONFIG, MAX_EXAMPLES

pytestmark = pytest.mark.integration

SPEC_PATH = Path(__file__).resolve().parents[2] / "backend" / "api" / "openapi.yaml"
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG).include(tag="admin")


@pytest.fixture(scope="session")
def admin_token(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    username = f"fuzz-admin-{secrets.token_hex(3)}"
    password = "Pw-" + secrets.token_hex(8)
    stack.add_user(username, password, admin_user=True)
    svc = client(stack, tmp_path_factory.mktemp("fuzz-admin-home"))
    svc.login(username, password)
    return svc.access_token()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_admin_api_never_fails_and_matches_spec(
    case: schemathesis.Case, stack: RunningStack, admin_token: str
) -> None:
    case.call_and_validate(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS
    )
