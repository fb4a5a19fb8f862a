"""The app's own settings, a small JSON file in the platformdirs config dir (atomic writes).

Kept apart from the facade's ``settings.json`` (which remembers the profile) so the two
writers never race over one file.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from filevault_desktop.persist import write_atomic

log = logging.getLogger(__name__)
FILE_NAME = "gui-settings.json"


@dataclass(frozen=True)
class GuiSettings:
    notifications: bool = True
    start_at_login: bool = False
    upload_limit_kbps: int = 0  # 0: unlimited
    download_limit_kbps: int = 0
    recent_files: int = 5  # how many the tray menu lists
    share_expiry_s: int = 7 * 86400  # the tray's one-click links

    def with_changes(self, **changes: Any) -> GuiSettings:
        return replace(self, **changes)


class SettingsStore:
    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / FILE_NAME

    def load(self) -> GuiSettings:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return GuiSettings()
        except (OSError, ValueError) as exc:
            # A damaged file must not keep the app from starting; defaults are safe.
            log.warning("ignoring unreadable settings %s: %s", self.path, exc)
            return GuiSettings()
        defaults = GuiSettings()
        values: dict[str, Any] = {}
        for f in fields(GuiSettings):
            value = raw.get(f.name, getattr(defaults, f.name)) if isinstance(raw, dict) else None
            wanted = type(getattr(defaults, f.name))
            values[f.name] = value if type(value) is wanted else getattr(defaults, f.name)
        return GuiSettings(**values)

    def save(self, settings: GuiSettings) -> None:
        data = json.dumps(asdict(settings), indent=2, sort_keys=True).encode("utf-8")
        write_atomic(self.path, data)
