"""The admin operations fuzzed with an administrator's token (``test_fuzz_api.py`` fuzzes every
operation with an ordinary user's, which only ever reaches the 403): never a 5xx, and every
answer documented. Generated user ids are random, so nobody real is disabled."""

from __future__ import annotations

import pytest
import schemathesis

from tests.integration.fuzzing import FUZZ_SETTINGS, call_and_validate, load_schema, session_token
from tests.integration.stack import RunningStack

pytestmark = pytest.mark.integration

schema = load_schema().include(tag="admin")


@pytest.fixture(scope="session")
def admin_token(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    return session_token(stack, tmp_path_factory, "fuzz-admin", admin=True)


@schema.parametrize()
@FUZZ_SETTINGS
def test_admin_api_never_fails_and_matches_spec(
    case: schemathesis.Case, stack: RunningStack, admin_token: str
) -> None:
    call_and_validate(case, stack, admin_token)
