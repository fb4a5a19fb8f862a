"""``filevault stack ...``: the embedded local stack."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from filevault_desktop.cli.main import handles_errors, json_option, read_password
from filevault_desktop.cli.output import emit, fail
from filevault_desktop.paths import AppPaths

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the stack keeps its state (default: FILEVAULT_STACK_DIR or the user data dir).",
)


def _data_dir(value: Path | None) -> Path:
    return (value or AppPaths.from_env().stack_dir).expanduser().resolve()


@click.group()
def stack() -> None:
    """The local stack: the whole backend on this machine, no AWS account needed."""


@stack.command()
@data_dir_option
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="API port on 127.0.0.1 (0: any free port). The AWS endpoint takes the next one.",
)
@click.option(
    "--aws-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port of the AWS endpoint (default: --port + 1, or any free port with --port 0).",
)
@click.option("--min-part-size", type=click.IntRange(1024), default=5 * 1024 * 1024, hidden=True)
@click.option("--single-put-max", type=click.IntRange(0), default=16 * 1024 * 1024, hidden=True)
@click.option(
    "--quota",
    type=click.IntRange(0),
    default=100 * 1024**3,
    hidden=True,
    help="Default per-user storage quota in bytes.",
)
@click.option(
    "--demo-user",
    is_flag=True,
    help="On first run, create a user 'demo' with a generated password and print it.",
)
@click.option(
    "--fast-workflows",
    is_flag=True,
    envvar="FILEVAULT_LOCAL_FAST_WORKFLOWS",
    hidden=True,
    help="Workflow retries 1 s apart instead of backing off (tests, demos).",
)
@click.option(
    "--share-reminder-lead",
    type=click.IntRange(1),
    default=24 * 3600,
    envvar="FILEVAULT_SHARE_REMINDER_LEAD_SECONDS",
    hidden=True,
    help="Seconds before a share expires that its owner is reminded.",
)
@click.option(
    "--job-interval",
    type=click.FloatRange(min=0.1),
    default=None,
    envvar="FILEVAULT_LOCAL_JOB_INTERVAL_SECONDS",
    hidden=True,
    help="Run the scheduled jobs (the trash purge) every this many seconds, not daily.",
)
@click.option(
    "--nice",
    type=click.IntRange(0, 19),
    default=0,
    show_default=True,
    help="Lower the stack's CPU priority by this much (POSIX), so the desktop app it serves "
    "stays responsive: it stands in for servers that would not share this machine.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every request.")
def up(
    data_dir: Path | None,
    port: int,
    aws_port: int | None,
    min_part_size: int,
    single_put_max: int,
    quota: int,
    demo_user: bool,
    fast_workflows: bool,
    share_reminder_lead: int,
    job_interval: float | None,
    nice: int,
    verbose: bool,
) -> None:
    """Run the local stack in the foreground until Ctrl-C (or SIGTERM)."""
    if nice and hasattr(os, "nice"):
        os.nice(nice)  # before any thread starts: every thread of the stack inherits it
    from backend.local.gc_tuning import tune_for_long_lived_heap
    from backend.local.stack import LocalStack

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    directory = _data_dir(data_dir)
    local = LocalStack(
        directory,
        api_port=port,
        aws_port=aws_port,
        min_part_size=min_part_size,
        single_put_max=single_put_max,
        default_quota=quota,
        fast_workflows=fast_workflows,
        share_reminder_lead_s=share_reminder_lead,
        job_interval_s=job_interval,
    )
    try:
        profile = local.start()
    except (RuntimeError, OSError) as exc:
        fail(f"cannot start the local stack: {exc}", 3)
        return
    tune_for_long_lived_heap()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    demo = _demo_user(directory) if demo_user else None
    click.echo(
        f"FileVault local stack ready: api {profile.api_url}, aws {profile.aws_endpoint_url}, "
        f"data {directory}, epoch {profile.epoch}"
    )
    if demo is not None:
        username, password, saved = demo
        click.echo(
            f"Demo user:  {username}  password: {password}  (kept in {saved})\n"
            f"Sign in:    filevault login --profile local --username {username}\n"
            "Stop:       Ctrl-C"
        )
    elif not demo_user:
        click.echo(
            "Create a user:  filevault stack add-user NAME --password-stdin\n"
            "Then sign in:   filevault login --profile local --username NAME"
        )
    sys.stdout.flush()
    while not stop.wait(1.0):
        pass
    click.echo("stopping...")
    local.stop()
    click.echo("stopped")


def _demo_user(directory: Path) -> tuple[str, str, Path] | None:
    """The demo user's credentials, creating the user on the first run."""
    import json
    import secrets

    from backend.local.admin import AdminError, add_user
    from filevault_desktop.persist import write_atomic

    saved = directory / "demo-credentials.json"
    if saved.exists():
        creds = json.loads(saved.read_text("utf-8"))
    else:
        # Always within the pool's policy: lower case ("emo") and digits, whatever the token.
        password = f"Demo-{secrets.token_urlsafe(9)}-{secrets.randbelow(900) + 100}"
        creds = {"username": "demo", "password": password}
        try:
            add_user(directory, creds["username"], creds["password"], admin=True)
        except AdminError as exc:
            click.echo(f"could not create the demo user: {exc}", err=True)
            return None
        write_atomic(saved, json.dumps(creds).encode(), mode=0o600)
    return str(creds["username"]), str(creds["password"]), saved


@stack.command("add-user")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Put the user in the admins group.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
@json_option
@handles_errors
def add_user(
    username: str, admin: bool, password_stdin: bool, data_dir: Path | None, as_json: bool
) -> None:
    """Create a confirmed user in the running local stack."""
    from backend.local.admin import AdminError, StackNotRunning
    from backend.local.admin import add_user as create

    password = read_password(password_stdin)
    try:
        user = create(_data_dir(data_dir), username, password, admin=admin)
    except StackNotRunning as exc:
        fail(str(exc), 3)
        return
    except AdminError as exc:
        fail(str(exc), 6)
        return
    emit(user, as_json=as_json, text=f"Created user {username}" + (" (admin)" if admin else ""))


@stack.command("credentials")
@data_dir_option
@json_option
@handles_errors
def credentials(data_dir: Path | None, as_json: bool) -> None:
    """Print the stack's service credential (for benchmarking other S3 clients against it)."""
    from backend.local.admin import StackNotRunning, service_credentials

    try:
        creds = service_credentials(_data_dir(data_dir))
    except StackNotRunning as exc:
        fail(str(exc), 3)
        return
    emit(creds, as_json=as_json, text="\n".join(f"{k}={v}" for k, v in creds.items()))
