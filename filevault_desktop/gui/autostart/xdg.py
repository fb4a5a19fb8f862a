"""XDG autostart (freedesktop.org Desktop Application Autostart Specification)."""

from __future__ import annotations

import os
from pathlib import Path

from filevault_desktop.gui.autostart import command_line
from filevault_desktop.persist import write_atomic

ENTRY = "filevault.desktop"


def autostart_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart"


class XdgAutostart:
    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or autostart_dir()) / ENTRY

    def enabled(self) -> bool:
        return self.path.exists()

    def set_enabled(self, on: bool) -> None:
        if not on:
            self.path.unlink(missing_ok=True)
            return
        entry = (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=FileVault\n"
            "Comment=Keep your files in sync with your own AWS account\n"
            f"Exec={command_line()}\n"
            "Icon=filevault\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        )
        write_atomic(self.path, entry.encode("utf-8"), mode=0o644)
