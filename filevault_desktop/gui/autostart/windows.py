"""Windows: the per-user Run key (untested on this Linux machine)."""

from __future__ import annotations

import contextlib
import sys

from filevault_desktop.gui.autostart import command_line

KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
VALUE = "FileVault"


class RunKey:
    def enabled(self) -> bool:
        if sys.platform != "win32":
            return False
        import winreg

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, KEY) as key:
            try:
                winreg.QueryValueEx(key, VALUE)
            except FileNotFoundError:
                return False
            return True

    def set_enabled(self, on: bool) -> None:
        if sys.platform != "win32":
            raise OSError("the Run key exists only on Windows")
        import winreg

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, KEY, 0, winreg.KEY_SET_VALUE) as key:
            if on:
                winreg.SetValueEx(key, VALUE, 0, winreg.REG_SZ, command_line())
            else:
                with contextlib.suppress(FileNotFoundError):
                    winreg.DeleteValue(key, VALUE)
