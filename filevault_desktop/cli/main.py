"""The ``filevault`` command."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from filevault_desktop.cli.output import emit, fail
from filevault_desktop.errors import FileVaultError
from filevault_desktop.paths import AppPaths

if TYPE_CHECKING:
    from filevault_desktop.service import FileVaultService

F = TypeVar("F", bound=Callable[..., Any])
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
profile_option = click.option(
    "--profile",
    "profile",
    default=None,
    metavar="NAME",
    help="Which backend profile to use (default: the last one signed in, or 'local').",
)


def handles_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FileVaultError as exc:
            fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        return None

    return wrapper  # type: ignore[return-value]


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask for the password on; pass --password-stdin", 2)
    return str(click.prompt("Password", hide_input=True))


def service(profile: str | None) -> FileVaultService:
    from filevault_desktop.service import FileVaultService

    return FileVaultService(AppPaths.from_env(), profile)


# Commands defined in other modules, imported only when run (or listed by --help): each pulls
# in what it needs (transfers, sync, the local stack), and starting the CLI stays cheap.
LAZY_COMMANDS = {
    "upload": "filevault_desktop.cli.transfer_cmds:upload",
    "download": "filevault_desktop.cli.transfer_cmds:download",
    "ls": "filevault_desktop.cli.files_cmds:ls",
    "rm": "filevault_desktop.cli.files_cmds:rm",
    "mv": "filevault_desktop.cli.files_cmds:mv",
    "versions": "filevault_desktop.cli.files_cmds:versions",
    "restore": "filevault_desktop.cli.files_cmds:restore",
    "trash": "filevault_desktop.cli.trash_cmds:trash",
    "share": "filevault_desktop.cli.files_cmds:share",
    "notifications": "filevault_desktop.cli.files_cmds:notifications",
    "sync": "filevault_desktop.cli.sync_cmds:sync_group",
    "profile": "filevault_desktop.cli.profile_cmds:profile_group",
    "stack": "filevault_desktop.cli.stack_cmds:stack",
    "app": "filevault_desktop.cli.app_cmd:app",
    "admin": "filevault_desktop.cli.admin_cmds:admin",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, name = target.partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command), target
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="filevault-desktop")
def cli() -> None:
    """FileVault: upload, store, sync and share files on your own AWS account."""


@cli.command()
@profile_option
@click.option("--username", "-u", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
@handles_errors
def login(profile: str | None, username: str, password_stdin: bool, as_json: bool) -> None:
    """Sign in (SRP: the password never leaves this machine); keep the session in the keychain."""
    password = read_password(password_stdin)
    signed_in = service(profile).login(username, password)
    emit(
        signed_in,
        as_json=as_json,
        text=f"Signed in as {signed_in.account.username} on profile '{signed_in.profile}'.",
    )


@cli.command()
@profile_option
@handles_errors
def logout(profile: str | None) -> None:
    """Sign out and forget the stored session."""
    svc = service(profile)
    svc.logout()
    click.echo(f"Signed out of profile '{svc.profile_name}'.")


@cli.command()
@profile_option
@json_option
@handles_errors
def whoami(profile: str | None, as_json: bool) -> None:
    """Show who is signed in, their groups and storage use."""
    info = service(profile).whoami()
    a = info.account
    emit(
        info,
        as_json=as_json,
        text=f"{a.username} ({', '.join(a.groups) or 'no groups'}) on '{info.profile}': "
        f"{a.used_bytes:,} of {a.quota_bytes:,} bytes used",
    )


@cli.group()
def auth() -> None:
    """Session tokens."""


@auth.command("token")
@profile_option
@json_option
@handles_errors
def auth_token(profile: str | None, as_json: bool) -> None:
    """Print a current access token (refreshed when needed)."""
    token = service(profile).access_token()
    emit({"access_token": token}, as_json=as_json, text=token)


def main() -> None:
    cli(prog_name="filevault")


if __name__ == "__main__":
    main()
