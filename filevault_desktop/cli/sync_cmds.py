"""``filevault sync``: two-way sync of local folders with remote folders."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from filevault_desktop.cli.main import handles_errors, json_option, profile_option, service
from filevault_desktop.cli.output import emit
from filevault_desktop.sync import ActionResult, SyncEvent, SyncStatus
from filevault_desktop.sync_folders import SyncFolder
from filevault_desktop.sync_service import FolderReport, FolderState

# Exit code of `sync run --once` when something could not be synced (see the README).
INCOMPLETE = 10


@click.group("sync")
def sync_group() -> None:
    """Keep local folders and remote folders the same, both ways."""


@sync_group.command("add")
@click.argument("local", type=click.Path(path_type=Path, file_okay=False))
@click.option("--remote", default="", metavar="REMOTE_DIR", help="Remote folder (default: all).")
@profile_option
@json_option
@handles_errors
def add(local: Path, remote: str, profile: str | None, as_json: bool) -> None:
    """Sync LOCAL (created if missing) with REMOTE_DIR. Nothing moves until `sync run`."""
    folder = service(profile).sync.add(local, remote)
    emit(
        folder,
        as_json=as_json,
        text=f"{folder.local} <-> {folder.remote or '(everything)'} [{folder.folder_id}]",
    )


def _state_text(s: FolderState) -> str:
    state = "paused" if s.paused else s.state
    line = f"[{s.folder.folder_id}] {s.folder.local} <-> {s.folder.remote or '(everything)'}"
    line += f"  {state}, {s.files} files"
    if s.held_deletes:
        line += (
            f", {s.held_deletes} deletions held "
            "(sync run --allow-mass-delete, or --keep-deleted to undo them)"
        )
    if s.last_error:
        line += f"\n    error: {s.last_error}"
    for issue in s.issues:
        line += f"\n    {issue.get('kind')}: {issue.get('path')}: {issue.get('detail')}"
    return line


@sync_group.command("ls")
@profile_option
@json_option
@handles_errors
def ls(profile: str | None, as_json: bool) -> None:
    """The sync folders."""
    states = service(profile).sync.states()
    text = "\n".join(_state_text(s) for s in states) or "(no sync folders; add one: sync add)"
    emit(states, as_json=as_json, text=text)


@sync_group.command("status")
@profile_option
@json_option
@handles_errors
def status(profile: str | None, as_json: bool) -> None:
    """Each folder's state as its last sync left it: files, issues, held deletions."""
    states = service(profile).sync.states()
    text = "\n".join(_state_text(s) for s in states) or "(no sync folders)"
    emit(states, as_json=as_json, text=text)


@sync_group.command("remove")
@click.argument("folder")
@profile_option
@json_option
@handles_errors
def remove(folder: str, profile: str | None, as_json: bool) -> None:
    """Stop syncing FOLDER (its id or path). No file is deleted, locally or remotely."""
    gone = service(profile).sync.remove(folder)
    emit(gone, as_json=as_json, text=f"no longer syncing {gone.local} (its files stay)")


def _pause_command(paused: bool) -> click.Command:
    verb = "pause" if paused else "resume"

    @click.command(verb)
    @click.argument("folder", required=False)
    @profile_option
    @json_option
    @handles_errors
    def command(folder: str | None, profile: str | None, as_json: bool) -> None:
        chosen = service(profile).sync.set_paused(folder, paused)
        done = "paused" if paused else "resumed"
        emit(chosen, as_json=as_json, text="\n".join(f"{done} {f.local}" for f in chosen))

    command.help = f"{verb.capitalize()} FOLDER (its id or path), or every folder."
    return command


sync_group.add_command(_pause_command(True))
sync_group.add_command(_pause_command(False))


def _printer(as_json: bool) -> Any:
    def show(folder: SyncFolder, event: SyncEvent) -> None:
        if as_json or not isinstance(event, ActionResult):
            return
        action = type(event.action).__name__.lower()
        where = getattr(event.action, "local_path", "") or getattr(event.action, "src", "")
        detail = f" ({event.detail})" if event.detail else ""
        click.echo(f"{folder.local}: {action} {where}: {event.outcome.value}{detail}", err=True)

    return show


def _report_json(r: FolderReport) -> dict[str, Any]:
    report = r.report
    return {
        "folder": r.folder,
        "ok": r.ok,
        "error": r.error,
        "quiet": report.quiet if report else False,
        "held_deletes": report.held_deletes if report else 0,
        "issues": list(report.issues) if report else [],
        "failures": [
            {"action": type(f.action).__name__, "outcome": f.outcome, "detail": f.detail}
            for f in (report.failures if report else ())
        ],
    }


@sync_group.command("run")
@click.option("--once", is_flag=True, help="Sync until quiet, then exit (non-zero if incomplete).")
@click.option(
    "--allow-mass-delete",
    is_flag=True,
    help="Carry out deletions the mass-delete guard is holding back.",
)
@click.option(
    "--keep-deleted",
    is_flag=True,
    help="Undo the deletions the mass-delete guard is holding back: the files come back "
    "where they were deleted.",
)
@profile_option
@json_option
@handles_errors
def run(
    once: bool, allow_mass_delete: bool, keep_deleted: bool, profile: str | None, as_json: bool
) -> None:
    """Sync every folder: in the foreground until Ctrl-C, or with --once until quiet."""
    if allow_mass_delete and keep_deleted:
        raise click.UsageError("--allow-mass-delete and --keep-deleted exclude each other")
    svc = service(profile).sync
    guard = {"allow_mass_delete": allow_mass_delete, "keep_held_deletes": keep_deleted}
    if once:
        reports = svc.run_once(**guard, on_event=_printer(as_json))
        lines = []
        for r in reports:
            if r.ok:
                lines.append(f"{r.folder.local}: up to date")
            elif r.error:
                lines.append(f"{r.folder.local}: FAILED: {r.error}")
            else:
                assert r.report is not None
                why = []
                if r.report.held_deletes:
                    why.append(
                        f"{r.report.held_deletes} deletions held by the mass-delete guard "
                        "(re-run with --allow-mass-delete to carry them out, "
                        "or --keep-deleted to bring the files back)"
                    )
                why += [f"{i.kind.value}: {i.path}: {i.detail}" for i in r.report.issues]
                why += [f"{f.outcome.value}: {f.detail}" for f in r.report.failures]
                if not r.report.quiet:
                    why.append("still changing; run again")
                lines.append(f"{r.folder.local}: INCOMPLETE\n    " + "\n    ".join(why))
        emit([_report_json(r) for r in reports], as_json=as_json, text="\n".join(lines))
        if not all(r.ok for r in reports):
            sys.exit(INCOMPLETE)
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def show(folder: SyncFolder, event: SyncEvent) -> None:
        if isinstance(event, SyncStatus):
            click.echo(f"{folder.local}: {event.state.value}", err=True)
        else:
            _printer(as_json)(folder, event)

    svc.run(stop, on_event=show, **guard)
