"""Profiles: where a backend is (API URL, region, Cognito pool and client)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from backend.infra import outputs as cdk_outputs
from filevault_desktop.errors import ConfigError
from filevault_desktop.paths import AppPaths
from filevault_desktop.persist import write_atomic

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
    # Ask the API for S3 Transfer Acceleration URLs (faster over long distances, extra cost
    # per GB); a deployment without acceleration refuses every request while this is on.
    accelerate: bool = False

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


def save(paths: AppPaths, profile: Profile) -> Path:
    """Write ``profile`` to the profiles dir (no secrets are in a profile)."""
    check_name(profile.name)
    if profile.name == LOCAL:
        raise ConfigError("'local' is the local stack's profile; choose another name")
    target = paths.profiles_dir / f"{profile.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, json.dumps(profile.to_dict(), indent=2).encode(), mode=0o644)
    return target


def from_cdk_outputs(
    raw: Mapping[str, Any],
    name: str,
    *,
    stack_prefix: str | None = None,
    accelerate: bool = False,
) -> Profile:
    """An ``aws`` profile from the file ``cdk deploy --outputs-file`` writes
    (``{stack name: {output key: value}}``). ``stack_prefix`` picks one deployment when the
    file holds several."""
    check_name(name)
    found: dict[str, str] = {}
    for stack, values in raw.items():
        if stack_prefix and not str(stack).startswith(f"{stack_prefix}-"):
            continue
        if not isinstance(values, Mapping):
            raise ConfigError(f"unexpected CDK outputs for stack {stack!r}")
        for key, value in values.items():
            if key in found and found[key] != value:
                raise ConfigError(
                    f"the outputs hold more than one deployment ({key} differs); "
                    "pick one with --stack-prefix"
                )
            found[str(key)] = str(value)
    missing = [key for key in cdk_outputs.REQUIRED if not found.get(key)]
    if missing:
        raise ConfigError(
            f"the CDK outputs lack {', '.join(missing)}; deploy every stack "
            "('cdk deploy --all --outputs-file ...') and try again"
        )
    return Profile(
        name=name,
        kind="aws",
        api_url=found[cdk_outputs.API_URL].rstrip("/"),
        region=found[cdk_outputs.REGION],
        user_pool_id=found[cdk_outputs.USER_POOL_ID],
        client_id=found[cdk_outputs.USER_POOL_CLIENT_ID],
        upload_bucket=found.get(cdk_outputs.UPLOAD_BUCKET),
        accelerate=accelerate,
    )


def import_cdk_outputs(
    paths: AppPaths,
    outputs_file: Path,
    name: str,
    *,
    stack_prefix: str | None = None,
    accelerate: bool = False,
) -> Profile:
    try:
        raw = json.loads(outputs_file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read CDK outputs {outputs_file}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{outputs_file} is not a CDK outputs file")
    profile = from_cdk_outputs(raw, name, stack_prefix=stack_prefix, accelerate=accelerate)
    save(paths, profile)
    return profile
