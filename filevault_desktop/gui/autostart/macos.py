"""macOS: a per-user LaunchAgent that runs the app at login (untested on this Linux machine)."""

from __future__ import annotations

import plistlib
from pathlib import Path

from filevault_desktop.gui.autostart import launch_command
from filevault_desktop.persist import write_atomic

LABEL = "org.filevault.desktop"


class LaunchAgent:
    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or Path.home() / "Library" / "LaunchAgents") / f"{LABEL}.plist"

    def enabled(self) -> bool:
        return self.path.exists()

    def set_enabled(self, on: bool) -> None:
        if not on:
            self.path.unlink(missing_ok=True)
            return
        plist = {"Label": LABEL, "ProgramArguments": launch_command(), "RunAtLoad": True}
        write_atomic(self.path, plistlib.dumps(plist), mode=0o644)
