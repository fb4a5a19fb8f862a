"""Profiles: where a backend is (API URL, region, Cognito pool and client)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from filevault_desktop.errors import ConfigError
from filevault_desktop.paths import AppPaths

LOCAL = "local"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str  # "local" or "aws"
    api_url: str
    region: str
    user_pool_id: str
    client_id: str
    aws_endpoint_url: str | None = None
    upload_bucket: str | None = None
    epoch: str | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Profile:
        known = {f.name for f in fields(cls)}
        missing = {"name", "kind", "api_url", "region", "user_pool_id", "client_id"} - set(raw)
        if missing:
            raise ConfigError(f"profile is missing {', '.join(sorted(missing))}")
        return cls(**{k: v for k, v in raw.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(f"invalid profile name {name!r}")
    return name


def load(paths: AppPaths, name: str) -> Profile:
    """A saved profile; ``local`` comes from the running local stack's data dir."""
    check_name(name)
    saved = paths.profiles_dir / f"{name}.json"
    if saved.exists():
        return _read(saved)
    if name == LOCAL:
        stack_profile = paths.stack_dir / "profile.json"
        if stack_profile.exists():
            return _read(stack_profile)
        raise ConfigError(
            f"no local stack found at {paths.stack_dir}; "
            "start it with 'filevault stack up' (or 'make run')"
        )
    raise ConfigError(f"no profile named {name!r}")


def _read(path: Path) -> Profile:
    try:
        return Profile.from_dict(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read profile {path}: {exc}") from exc


def names(paths: AppPaths) -> list[str]:
    found = (
        {p.stem for p in paths.profiles_dir.glob("*.json")}
        if paths.profiles_dir.exists()
        else set()
    )
    if (paths.stack_dir / "profile.json").exists():
        found.add(LOCAL)
    return sorted(found)
