"""``filevault profile ...``"""

from __future__ import annotations

from pathlib import Path

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


@profile_group.command("import-cdk-outputs")
@click.argument("outputs_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="Name of the profile to write.")
@click.option(
    "--stack-prefix",
    default=None,
    help="Stack name prefix of the deployment, when the file holds several.",
)
@click.option(
    "--accelerate/--no-accelerate",
    default=False,
    help="Transfer through S3 Transfer Acceleration (faster far from the region; costs more).",
)
@json_option
@handles_errors
def import_cdk_outputs(
    outputs_file: Path, name: str, stack_prefix: str | None, accelerate: bool, as_json: bool
) -> None:
    """Write an AWS profile from `cdk deploy --all --outputs-file OUTPUTS_FILE`."""
    profile = profiles.import_cdk_outputs(
        AppPaths.from_env(), outputs_file, name, stack_prefix=stack_prefix, accelerate=accelerate
    )
    emit(
        profile.to_dict(),
        as_json=as_json,
        text=f"Wrote profile '{profile.name}' ({profile.api_url}, {profile.region}). "
        f"Use it with --profile {profile.name}.",
    )
