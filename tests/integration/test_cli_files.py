"""File and share commands of the CLI against the local stack."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from filevault_desktop.service import FileVaultService
from tests.integration.helpers import upload_bytes
from tests.integration.stack import RunningStack, client
from tests.integration.test_cli import run


def signed_in_cli(stack: RunningStack, tmp_path: Path, name: str) -> tuple[Path, FileVaultService]:
    """A new user signed in both in a CLI home and in an in-process client."""
    home = tmp_path / "home"
    stack.add_user(name, "Correct-horse1")
    login = run(["login", "-u", name, "--password-stdin"], home, stack, "Correct-horse1\n")
    assert login.returncode == 0, login.stderr
    svc = client(stack, tmp_path / "svc")
    svc.login(name, "Correct-horse1")
    return home, svc


def test_ls_mv_rm_restore_versions(stack: RunningStack, tmp_path: Path) -> None:
    home, svc = signed_in_cli(stack, tmp_path, "mia")
    first = upload_bytes(svc, "docs/report.txt", b"v1")
    upload_bytes(svc, "docs/report.txt", b"version 2", expected_version=first.version_id)
    upload_bytes(svc, "docs/img/cat.jpg", b"meow")

    top = json.loads(run(["ls", "--json"], home, stack).stdout)
    assert [(e["kind"], e["path"]) for e in top] == [("folder", "docs")]
    docs = json.loads(run(["ls", "docs", "--json"], home, stack).stdout)
    assert [(e["kind"], e["path"]) for e in docs] == [
        ("folder", "docs/img"),
        ("file", "docs/report.txt"),
    ]
    assert "docs/report.txt" in run(["ls", "docs"], home, stack).stdout

    versions = json.loads(run(["versions", "docs/report.txt", "--json"], home, stack).stdout)
    assert [v["current"] for v in versions] == [True, False]
    old = versions[1]["version_id"]
    out = run(["restore", "docs/report.txt", "--version", old, "--json"], home, stack)
    assert out.returncode == 0 and json.loads(out.stdout)["size"] == 2

    out = run(["mv", "docs/report.txt", "archive/report-2026.txt"], home, stack)
    assert out.returncode == 0, out.stderr
    assert run(["rm", "archive/report-2026.txt"], home, stack).returncode == 0
    trashed = json.loads(run(["trash", "--json"], home, stack).stdout)
    assert [f["path"] for f in trashed] == ["archive/report-2026.txt"]
    out = run(
        ["restore", "archive/report-2026.txt", "--to", "back/report.txt", "--json"], home, stack
    )
    assert json.loads(out.stdout)["path"] == "back/report.txt"

    missing = run(["rm", "no/such/file"], home, stack)
    assert missing.returncode == 7 and "no file at 'no/such/file'" in missing.stderr


def test_share_commands(stack: RunningStack, tmp_path: Path) -> None:
    home, svc = signed_in_cli(stack, tmp_path, "noa")
    upload_bytes(svc, "share/me.txt", b"shared bytes")

    out = run(["share", "create", "share/me.txt", "--expires", "2h"], home, stack)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert requests.get(url, timeout=10).content == b"shared bytes"

    out = run(
        ["share", "create", "share/me.txt", "--password-stdin", "--max-downloads", "1", "--json"],
        home,
        stack,
        "pass phrase\n",
    )
    protected = json.loads(out.stdout)
    assert protected["has_password"] and protected["max_downloads"] == 1
    assert requests.get(protected["url"], timeout=10).status_code == 401

    listed = json.loads(run(["share", "ls", "--json"], home, stack).stdout)
    assert len(listed) == 2
    revoked = run(["share", "revoke", listed[-1]["share_id"], "--json"], home, stack)
    assert json.loads(revoked.stdout)["state"] == "revoked"
    assert requests.get(url, timeout=10).status_code == 410
    bad = run(["share", "create", "share/me.txt", "--expires", "30d"], home, stack)
    assert bad.returncode == 6 and "Traceback" not in bad.stderr
    bad = run(["share", "create", "share/me.txt", "--expires", "soon"], home, stack)
    assert bad.returncode == 2 and "not a duration" in bad.stderr


def test_a_command_with_a_fresh_token_loads_no_sdk(stack: RunningStack, tmp_path: Path) -> None:
    """Start-up cost: ``ls`` with a stored, fresh token needs neither the AWS SDK (pycognito's
    boto3, only for sign-in and refresh) nor the transfer or sync engines."""
    home, _ = signed_in_cli(stack, tmp_path, "quick")
    out = run(["ls"], home, stack, PYTHONPROFILEIMPORTTIME="1")
    assert out.returncode == 0, out.stderr
    loaded = {
        line.rsplit("|", 1)[1].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "requests" in loaded  # the report is there at all
    heavy = {
        "boto3",
        "botocore",
        "pycognito",
        "filevault_desktop.sync",
        "filevault_desktop.transfer",
    }
    assert not heavy & loaded
