"""Runs the real local stack (``filevault stack up``) in a subprocess for tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from backend.local import admin
from filevault_desktop.paths import AppPaths
from filevault_desktop.service import FileVaultService

READY_TIMEOUT_S = 60
MiB = 1024 * 1024


@dataclass
class RunningStack:
    data_dir: Path
    process: subprocess.Popen[str]
    profile: dict[str, Any]
    output: list[str] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return str(self.profile["api_url"])

    def add_user(self, username: str, password: str, *, admin_user: bool = False) -> dict[str, Any]:
        return admin.add_user(self.data_dir, username, password, admin=admin_user)

    def aws_client(self, service: str, **overrides: Any) -> Any:
        return admin.service_client(self.data_dir, service, **overrides)

    def credentials(self) -> dict[str, str]:
        return admin.service_credentials(self.data_dir)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")


def start_stack(
    data_dir: Path,
    *,
    min_part_size: int = MiB,
    single_put_max: int = 2 * MiB,
    quota: int = 2 * 1024 * MiB,
    extra_args: tuple[str, ...] = (),
) -> RunningStack:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "filevault_desktop",
        "stack",
        "up",
        "--data-dir",
        str(data_dir),
        "--port",
        "0",
        "--min-part-size",
        str(min_part_size),
        "--single-put-max",
        str(single_put_max),
        "--quota",
        str(quota),
        *extra_args,
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("FileVault local stack ready"):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready.wait(0.2):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("local stack did not start:\n" + "".join(lines))
    profile = json.loads((data_dir / "profile.json").read_text())
    requests.get(profile["api_url"] + "/me", timeout=5)  # answers (401) once serving
    return RunningStack(data_dir, proc, profile, lines)


def client(stack: RunningStack, home: Path) -> FileVaultService:
    """A client with its own FILEVAULT_HOME, using the stack's profile."""
    paths = AppPaths(config_dir=home / "config", state_dir=home / "state", stack_dir=stack.data_dir)
    return FileVaultService(paths, "local")
