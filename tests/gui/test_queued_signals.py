"""Signals emitted from Python, on the UI thread and on workers, as the bridge's are.

When a worker emits again while the UI thread is still in the slots of its first emission
(the app's own, connected before qtbot's), the second emission is queued for qtbot's blocker
too, and is delivered after the wait ended. PySide runs it even when the blocker has been freed
meanwhile: the segfault the qtbot tests guard against (conftest keeps qtbot's slots alive).
"""

from __future__ import annotations

import gc
import sys
import threading

from PySide6.QtCore import QObject, Signal, SignalInstance
from pytestqt.qtbot import QtBot

ROUNDS = 30
EMISSIONS = 1_000


def _emit_from_a_thread(signal: SignalInstance, value: int) -> None:
    thread = threading.Thread(target=signal.emit, args=(value,))
    thread.start()
    thread.join()  # queued for every receiver on the UI thread before this returns


class _Worker(QObject):
    progress = Signal(int)
    done = Signal(int)


class _App(QObject):
    """Connected first, so its slot runs before qtbot's: the worker emits again while the UI
    thread is in it, as the bridge sends a second listing while the browser shows the first."""

    def __init__(self, trigger: SignalInstance, *again: SignalInstance) -> None:
        super().__init__()
        trigger.connect(self.on_emitted)
        self._again = again

    def on_emitted(self, value: int) -> None:
        if value == 1:
            for signal in self._again:
                _emit_from_a_thread(signal, 2)


def _reuse_freed_memory() -> None:
    gc.collect()
    junk = [type("Blocker", (), {"x": i})() for i in range(200)]
    del junk


def test_a_wait_survives_an_emission_queued_while_it_ended(qtbot: QtBot) -> None:
    worker = _Worker()
    _app = _App(worker.done, worker.done)
    for _ in range(ROUNDS):
        with qtbot.waitSignal(worker.done, timeout=5_000) as blocker:
            _emit_from_a_thread(worker.done, 1)
        assert blocker.args == [1]
        del blocker
        _reuse_freed_memory()
    qtbot.wait(20)  # delivers the last round's second emission


def test_a_wait_on_several_signals_ignores_their_late_emissions(qtbot: QtBot) -> None:
    worker = _Worker()
    _app = _App(worker.done, worker.progress, worker.done)
    for _ in range(ROUNDS):
        with qtbot.waitSignals([worker.progress, worker.done], timeout=5_000) as blocker:
            _emit_from_a_thread(worker.progress, 1)
            _emit_from_a_thread(worker.done, 1)
        assert blocker.signal_triggered
        del blocker
        _reuse_freed_memory()
    qtbot.wait(20)  # a late call that raised would fail this test (pytest-qt reports it)


def test_emitting_keeps_the_refcounts_of_what_emit_returns(qtbot: QtBot) -> None:
    """PySide6 6.12.0's ``emit()`` returned True without a reference of its own: each emission
    took one from True, and the app crashed once they ran out (pyproject excludes it)."""
    worker = _Worker()
    receiver = _App(worker.done)
    before = sys.getrefcount(True)
    for value in range(EMISSIONS):
        worker.progress.emit(value)
    thread = threading.Thread(target=lambda: [worker.done.emit(v) for v in range(EMISSIONS)])
    thread.start()
    thread.join()
    qtbot.wait(20)  # the queued calls run, and release what they held
    assert abs(sys.getrefcount(True) - before) < EMISSIONS // 10
    del receiver
