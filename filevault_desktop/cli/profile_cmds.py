"""``filevault profile ...``"""

from __future__ import annotations

import click

from filevault_desktop import profiles
from filevault_desktop.cli.main import handles_errors, json_option
from filevault_desktop.cli.output import emit
from filevault_desktop.paths import AppPaths


@click.group("profile")
def profile_group() -> None:
    """Backend profiles (the local stack, AWS deployments)."""


@profile_group.command("show")
@click.argument("name", default=profiles.LOCAL)
@json_option
@handles_errors
def show(name: str, as_json: bool) -> None:
    """Show a profile's endpoints and ids."""
    profile = profiles.load(AppPaths.from_env(), name)
    data = profile.to_dict()
    emit(
        data, as_json=as_json, text="\n".join(f"{k}: {v}" for k, v in data.items() if v is not None)
    )


@profile_group.command("list")
@json_option
@handles_errors
def list_profiles(as_json: bool) -> None:
    """List the known profiles."""
    found = profiles.names(AppPaths.from_env())
    emit(found, as_json=as_json, text="\n".join(found) or "(no profiles)")
