"""Start at login, one module per platform.

- Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/filevault.desktop``.
- macOS: a LaunchAgent ``~/Library/LaunchAgents/org.filevault.desktop.plist`` with
  ``RunAtLoad`` (``SMAppService.mainApp`` once the app ships as a signed .app bundle).
- Windows: a ``FileVault`` value under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.
"""

from __future__ import annotations

import shlex
import sys
from typing import Protocol


class Autostart(Protocol):
    def enabled(self) -> bool: ...
    def set_enabled(self, on: bool) -> None: ...


def launch_command() -> list[str]:
    """How to start the app again the way it is installed now."""
    return [sys.executable, "-m", "filevault_desktop.gui", "--minimized"]


def command_line() -> str:
    return shlex.join(launch_command())


def for_platform(platform: str | None = None) -> Autostart:
    platform = platform or sys.platform
    if platform == "darwin":
        from filevault_desktop.gui.autostart.macos import LaunchAgent

        return LaunchAgent()
    if platform == "win32":
        from filevault_desktop.gui.autostart.windows import RunKey

        return RunKey()
    from filevault_desktop.gui.autostart.xdg import XdgAutostart

    return XdgAutostart()
