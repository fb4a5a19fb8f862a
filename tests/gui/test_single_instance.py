"""A second launch brings the first one forward instead of starting again."""

from __future__ import annotations

import secrets

from pytestqt.qtbot import QtBot

from filevault_desktop.gui.single_instance import SingleInstance


def test_second_instance_activates_the_first(qtbot: QtBot) -> None:
    identity = f"test-{secrets.token_hex(4)}"
    first = SingleInstance(identity)
    assert first.claim()
    try:
        second = SingleInstance(identity)
        with qtbot.waitSignal(first.activated, timeout=5000):
            assert not second.claim()
    finally:
        first.release()
    # Once the first is gone (even without cleaning up), a new launch becomes the first.
    third = SingleInstance(identity)
    assert third.claim()
    third.release()
