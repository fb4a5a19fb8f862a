"""``filevault trash [purge REMOTE_OR_ID... | empty [--yes]]``: the server's trash."""

from __future__ import annotations

import sys

import click

from filevault_desktop.cli.main import handles_errors, json_option, profile_option, service
from filevault_desktop.cli.output import emit, fail
from filevault_desktop.sizes import format_size


def interactive() -> bool:
    """Whether someone can answer a question (tests replace this)."""
    return sys.stdin.isatty()


def _freed(count: int, released: int) -> str:
    files = "1 file" if count == 1 else f"{count} files"
    return f"deleted {files} for good, {format_size(released)} freed"


@click.group("trash", invoke_without_command=True)
@profile_option
@json_option
@click.pass_context
@handles_errors
def trash(ctx: click.Context, profile: str | None, as_json: bool) -> None:
    """List the files in the trash; 'purge' and 'empty' delete them for good."""
    if ctx.invoked_subcommand is not None:
        return
    found = service(profile).trash()
    lines = [f"{(f.trashed_at or '')[:19]:20}  {format_size(f.size):>10}  {f.path}" for f in found]
    emit(found, as_json=as_json, text="\n".join(lines) or "(the trash is empty)")


@trash.command("purge")
@click.argument("remote_or_id", nargs=-1, required=True)
@profile_option
@json_option
@handles_errors
def purge(remote_or_id: tuple[str, ...], profile: str | None, as_json: bool) -> None:
    """Delete files in the trash for good: their versions, share links and bytes.

    Each REMOTE_OR_ID is the path a trashed file had (every trashed file with that path) or a
    file id. Nothing is deleted unless each one is found in the trash.
    """
    purged = service(profile).purge_from_trash(*remote_or_id)
    lines = [f"deleted {p.path} for good ({format_size(p.released_bytes)} freed)" for p in purged]
    emit(purged, as_json=as_json, text="\n".join(lines))


@trash.command("empty")
@click.option("--yes", "-y", is_flag=True, help="Do not ask; required without a terminal.")
@profile_option
@json_option
@handles_errors
def empty(yes: bool, profile: str | None, as_json: bool) -> None:
    """Delete everything in the trash for good (asks first unless --yes).

    Files moved to the trash while this runs (by sync, say) are kept.
    """
    svc = service(profile)
    if not yes:
        if not interactive():
            fail("emptying the trash cannot be undone: pass --yes to confirm", 2)
        count = sum(1 for _ in svc.trash())
        if count == 0:
            emit({"purged": [], "released_bytes": 0}, as_json=as_json, text="(the trash is empty)")
            return
        files = "1 file" if count == 1 else f"{count} files"
        question = f"Delete {files} in the trash for good? This cannot be undone."
        if not click.confirm(question, default=False, err=True):
            fail("nothing was deleted", 1)
    emptied = svc.empty_trash()
    emit(emptied, as_json=as_json, text=_freed(len(emptied.purged), emptied.released_bytes))
