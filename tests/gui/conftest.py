"""GUI tests run offscreen against the real local stack (started once per session)."""

from __future__ import annotations

import os

# Before anything imports Qt: no display on CI machines, and none needed.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # `make screenshots` sets xcb (Xvfb)
os.environ.setdefault("QT_QUICK_BACKEND", "software")

import itertools
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytestqt.wait_signal
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.gui.autostart.xdg import XdgAutostart
from filevault_desktop.gui.events import SignedInInfo
from filevault_desktop.gui.sync_port import SyncPort
from filevault_desktop.paths import AppPaths
from filevault_desktop.service import FileVaultService
from tests.integration.conftest import stack  # noqa: F401  (the session fixture)
from tests.integration.stack import RunningStack

_users = itertools.count()
SIGNAL_TIMEOUT_MS = 30_000
# Every slot qtbot ever disconnected; see ``_slots_outlive_their_queued_calls``.
_DISCONNECTED_SLOTS: list[object] = []


@pytest.fixture(autouse=True, scope="session")
def _slots_outlive_their_queued_calls() -> Iterator[None]:
    """Keeps every slot qtbot disconnects alive until the end of the session.

    The bridge emits from worker threads, so its signals reach the UI thread as queued calls.
    PySide delivers a call queued before a disconnect even when the slot's Python object has
    since been freed, and runs it on the freed memory (a segfault in CI: a waitSignal's blocker
    was gone when the bridge's second ``listing_ready`` of the same folder arrived). qtbot's
    slots are bound methods and partials of its blockers, dropped right after the wait; kept
    here, a late call lands on a finished blocker, which ignores it (a ``waitSignals`` blocker
    would count it against maps it emptied when the wait ended, hence the second patch).
    """
    wait_signal = pytestqt.wait_signal
    disconnect = wait_signal._silent_disconnect
    count_emission = wait_signal.MultiSignalBlocker._unique_signal_emitted

    def disconnect_and_keep(signal: object, slot: object) -> None:
        _DISCONNECTED_SLOTS.append(slot)
        disconnect(signal, slot)

    def count_while_waiting(blocker: Any, signal: object, *args: object) -> None:
        if signal in blocker._signals_map:  # emptied when the wait ended: nothing to count
            count_emission(blocker, signal, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wait_signal, "_silent_disconnect", disconnect_and_keep)
        patch.setattr(wait_signal.MultiSignalBlocker, "_unique_signal_emitted", count_while_waiting)
        yield


@dataclass(frozen=True)
class User:
    username: str
    password: str


@pytest.fixture
def user(stack: RunningStack) -> User:  # noqa: F811
    name = f"gui{next(_users)}-{secrets.token_hex(3)}"
    password = "Pw-" + secrets.token_hex(8)
    stack.add_user(name, password)
    return User(name, password)


@pytest.fixture
def app_paths(stack: RunningStack, tmp_path: Path) -> AppPaths:  # noqa: F811
    home = tmp_path / "home"
    return AppPaths(config_dir=home / "config", state_dir=home / "state", stack_dir=stack.data_dir)


AppFactory = Callable[..., FileVaultApp]


@pytest.fixture
def make_app(qtbot: QtBot, app_paths: AppPaths, tmp_path: Path) -> Iterator[AppFactory]:
    """Builds the app as ``main`` does, with a private config dir and autostart dir."""
    apps: list[FileVaultApp] = []

    def make(sync: SyncPort | None = None, paths: AppPaths | None = None) -> FileVaultApp:
        app = FileVaultApp(
            paths or app_paths,
            sync=sync,
            autostart=XdgAutostart(tmp_path / "autostart"),
        )
        qtbot.addWidget(app.window)
        apps.append(app)
        return app

    yield make
    for app in apps:
        if app.signin is not None:
            app.signin.reject()
        app.bridge.shutdown(wait=True)
        app.shutdown()


def sign_in(qtbot: QtBot, app: FileVaultApp, user: User) -> SignedInInfo:
    with qtbot.waitSignal(app.bridge.signed_in, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        app.bridge.sign_in("local", user.username, user.password)
    info = blocker.args[0]
    assert isinstance(info, SignedInInfo)
    return info


@pytest.fixture
def signed_in_app(qtbot: QtBot, make_app: AppFactory, user: User) -> FileVaultApp:
    app = make_app()
    app.start()
    # No stored session yet: the app asks; sign in the way the dialog would.
    qtbot.waitUntil(lambda: app.signin is not None, timeout=SIGNAL_TIMEOUT_MS)
    sign_in(qtbot, app, user)
    qtbot.waitUntil(
        lambda: app.window.browser.status.text() != "Loading…", timeout=SIGNAL_TIMEOUT_MS
    )
    return app


def service_for(app_paths: AppPaths) -> FileVaultService:
    """A second client of the same home (shares the stored session)."""
    return FileVaultService(app_paths, "local")
