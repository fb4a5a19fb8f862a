"""The transfer commands draw a bar per file on a terminal (rich, imported only then) and
none for JSON or a pipe."""

from __future__ import annotations

import io
import sys

import pytest

from filevault_desktop.cli import transfer_cmds
from filevault_desktop.transfer.events import (
    Direction,
    TransferFinished,
    TransferProgress,
    TransferStarted,
)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_follow_a_file_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", _Terminal())
    progress, bars = transfer_cmds._progress(as_json=False)
    assert bars is not None
    bars(TransferStarted("t1", Direction.UPLOAD, "a.bin", "fv/a.bin", 100, 0))
    (task,) = progress.tasks
    assert (task.description, task.total, task.completed) == ("fv/a.bin", 100, 0)
    bars(TransferProgress("t1", "a.bin", "fv/a.bin", 60, 100, 10.0, 4.0))
    assert progress.tasks[0].completed == 60
    bars(TransferFinished("t1", Direction.UPLOAD, "a.bin", "fv/a.bin", 100, "f", "v", 1.0))
    (done,) = progress.tasks
    assert (done.description, done.completed) == ("files done", 1)


@pytest.mark.parametrize("as_json", [True, False])
def test_no_bars_for_json_or_a_pipe(as_json: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO() if not as_json else _Terminal())
    _, bars = transfer_cmds._progress(as_json=as_json)
    assert bars is None


def test_a_transfer_command_loads_rich_only_to_draw() -> None:
    import subprocess

    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, filevault_desktop.cli.transfer_cmds; print('rich' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert loaded == "False"
