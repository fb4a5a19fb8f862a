"""``filevault app``: the desktop app on the local stack, starting the stack when needed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import requests

from filevault_desktop.cli.main import handles_errors
from filevault_desktop.cli.output import fail
from filevault_desktop.paths import AppPaths

STACK_NICE = 10
STARTUP_TIMEOUT_S = 60


def _serving(stack_dir: Path) -> bool:
    try:
        profile = json.loads((stack_dir / "profile.json").read_text("utf-8"))
        requests.get(f"{profile['api_url']}/me", timeout=2)  # any answer (401) means serving
    except (OSError, ValueError, KeyError, requests.RequestException):
        return False
    return (stack_dir / "running.pid").exists()


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or (
        os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal", "vnc")
    )


@click.command("app")
@click.option("--demo-user/--no-demo-user", default=True, show_default=True)
@handles_errors
def app(demo_user: bool) -> None:
    """Open the desktop app on the local stack, starting the stack (and the demo user) first
    if it is not running. A stack started here stops when the app quits."""
    paths = AppPaths.from_env()
    stack_dir = paths.stack_dir
    started: subprocess.Popen[bytes] | None = None
    if not _serving(stack_dir):
        stack_dir.mkdir(parents=True, exist_ok=True)
        log = (stack_dir / "stack.log").open("ab")
        # Lower priority: the stack stands in for servers, and the window must stay responsive.
        args = [sys.executable, "-m", "filevault_desktop", "stack", "up", "--nice", str(STACK_NICE)]
        # Our own interpreter and module, no shell, no user input in the arguments.
        started = subprocess.Popen(  # noqa: S603
            [*args, *(["--demo-user"] if demo_user else [])], stdout=log, stderr=log
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _serving(stack_dir):
            if started.poll() is not None or time.monotonic() > deadline:
                fail(f"the local stack did not start; see {stack_dir / 'stack.log'}", 3)
            time.sleep(0.2)
        click.echo(f"local stack started (log: {stack_dir / 'stack.log'})")
    creds = stack_dir / "demo-credentials.json"
    if started is not None and demo_user:
        deadline = time.monotonic() + 10  # the stack creates the demo user once it serves
        while not creds.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    if demo_user and creds.exists():
        demo = json.loads(creds.read_text("utf-8"))
        click.echo(f"Sign in as '{demo['username']}' with password: {demo['password']}")
    # A plain kill (SIGTERM) must also stop the stack started here, not orphan it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if not _has_display():
            click.echo(
                "No display here, so no window: the local stack keeps running for the CLI "
                "(filevault --help). Stop it with Ctrl-C."
            )
            if started is not None:
                started.wait()
            return
        from filevault_desktop.gui.app import main as gui_main

        code = gui_main([])
        if code:
            sys.exit(code)
    except KeyboardInterrupt:
        pass
    finally:
        if started is not None and started.poll() is None:
            started.terminate()
            started.wait(timeout=60)
