from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from filevault_desktop.service import FileVaultService
from tests.integration.stack import RunningStack, client, start_stack

_counter = itertools.count()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()


@pytest.fixture
def make_user(stack: RunningStack, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Creates a user on the shared stack and returns a signed-in client for them."""

    def make(admin: bool = False) -> tuple[FileVaultService, str, str]:
        username = f"user{next(_counter)}-{secrets.token_hex(3)}"
        password = "Pw-" + secrets.token_hex(8)
        stack.add_user(username, password, admin_user=admin)
        svc = client(stack, tmp_path / username)
        svc.login(username, password)
        return svc, username, password

    return make
