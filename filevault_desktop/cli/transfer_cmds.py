"""``filevault upload``: files and folders, with progress bars on a terminal."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from filevault_desktop.cli.main import handles_errors, json_option, profile_option, service
from filevault_desktop.cli.output import emit
from filevault_desktop.transfer import TransferEvent, TransferProgress, TransferStarted

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class _Bars:
    """Turns transfer events into a bar per file in flight and a count of files done."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}
        self._files: TaskID | None = None
        self._finished = 0

    def __call__(self, event: TransferEvent) -> None:
        if isinstance(event, TransferStarted):
            if event.transfer_id in self._tasks:  # started over: same bar, from zero
                self._progress.update(self._tasks[event.transfer_id], completed=0)
                return
            self._tasks[event.transfer_id] = self._progress.add_task(
                event.remote_path, total=event.total, completed=event.resumed_bytes
            )
        elif isinstance(event, TransferProgress) and event.transfer_id in self._tasks:
            self._progress.update(self._tasks[event.transfer_id], completed=event.bytes_done)
        elif event.transfer_id in self._tasks:  # finished or failed: make room for the next
            self._progress.remove_task(self._tasks.pop(event.transfer_id))
            self._finished += 1
            if self._files is None:
                self._files = self._progress.add_task("files done", total=None)
            self._progress.update(self._files, completed=self._finished)


def _progress(as_json: bool) -> tuple[Any, _Bars | None]:
    """Progress bars on a terminal; nothing when output is JSON or not a terminal."""
    if as_json or not sys.stderr.isatty():
        return nullcontext(), None
    # Imported here: 27 ms of the start of every transfer that draws no bars (JSON, pipes).
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    return progress, _Bars(progress)


@click.command("upload")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--to", "to", default="", metavar="REMOTE_DIR", help="Remote folder (default: top).")
@click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True)
@profile_option
@json_option
@handles_errors
def upload(
    paths: tuple[Path, ...], to: str, workers: int, profile: str | None, as_json: bool
) -> None:
    """Upload files and folders (recursively). Interrupted uploads resume when run again."""
    svc = service(profile)
    context, bars = _progress(as_json)
    with context:
        outcomes = svc.upload(list(paths), to, workers=workers, on_event=bars)
    failed = [o for o in outcomes if o.error]
    lines = [
        f"uploaded {o.remote}" if not o.error else f"FAILED {o.local}: {o.error}" for o in outcomes
    ]
    emit(outcomes, as_json=as_json, text="\n".join(lines) or "(nothing to upload)")
    if failed:
        click.echo(f"error: {len(failed)} of {len(outcomes)} file(s) failed", err=True)
        sys.exit(1)


@click.command("download")
@click.argument("remote")
@click.argument("local", required=False, type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True)
@profile_option
@json_option
@handles_errors
def download(
    remote: str, local: Path | None, workers: int, profile: str | None, as_json: bool
) -> None:
    """Download a remote file or folder (into LOCAL, a file or folder; default: here).

    Interrupted downloads resume when run again; an existing file is replaced only by
    complete, verified bytes."""
    svc = service(profile)
    context, bars = _progress(as_json)
    with context:
        outcomes = svc.download(remote, local, workers=workers, on_event=bars)
    failed = [o for o in outcomes if o.error]
    lines = [
        f"saved {o.local}" if not o.error else f"FAILED {o.remote}: {o.error}" for o in outcomes
    ]
    emit(outcomes, as_json=as_json, text="\n".join(lines))
    if failed:
        click.echo(f"error: {len(failed)} of {len(outcomes)} file(s) failed", err=True)
        sys.exit(1)
