"""Where config and state live: platformdirs locations, or FILEVAULT_HOME when set."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "filevault"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    state_dir: Path
    # The default data dir of the embedded local stack (shared by clients on this machine).
    stack_dir: Path

    @property
    def profiles_dir(self) -> Path:
        return self.config_dir / "profiles"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppPaths:
        env = os.environ if env is None else env
        stack_override = env.get("FILEVAULT_STACK_DIR")
        home = env.get("FILEVAULT_HOME")
        if home:
            root = Path(home).expanduser().resolve()
            config, state = root / "config", root / "state"
        else:
            config = Path(platformdirs.user_config_dir(APP))
            state = Path(platformdirs.user_state_dir(APP))
        stack = (
            Path(stack_override).expanduser().resolve()
            if stack_override
            else Path(platformdirs.user_data_dir(APP)) / "local-stack"
        )
        return cls(config, state, stack)

    def identity(self) -> str:
        """Names this client's keychain entries apart from another FILEVAULT_HOME's."""
        return str(self.config_dir)
