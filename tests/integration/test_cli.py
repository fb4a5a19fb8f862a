"""The ``filevault`` command as a script would use it: exit codes, --json, FILEVAULT_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.integration.stack import RunningStack


def run(
    args: list[str], home: Path, stack: RunningStack, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "FILEVAULT_HOME": str(home),
        "FILEVAULT_STACK_DIR": str(stack.data_dir),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "filevault_desktop", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=environ,
        timeout=60,
        check=False,
    )


def test_login_whoami_token_logout(stack: RunningStack, tmp_path: Path) -> None:
    stack.add_user("gina", "Correct-horse1", admin_user=True)
    home = tmp_path / "gina"
    out = run(
        ["login", "--profile", "local", "--username", "gina", "--password-stdin", "--json"],
        home,
        stack,
        "Correct-horse1\n",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["account"]["groups"] == ["admins"]
    who = run(["whoami", "--json"], home, stack)
    assert who.returncode == 0 and json.loads(who.stdout)["account"]["username"] == "gina"
    token = run(["auth", "token", "--json"], home, stack)
    access = json.loads(token.stdout)["access_token"]
    me = requests.get(
        stack.api_url + "/me", headers={"Authorization": f"Bearer {access}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["username"] == "gina"
    assert run(["logout"], home, stack).returncode == 0
    after = run(["whoami"], home, stack)
    assert after.returncode == 4 and "not signed in" in after.stderr


def test_wrong_password_exit_code(stack: RunningStack, tmp_path: Path) -> None:
    stack.add_user("hank", "Correct-horse1")
    out = run(["login", "--username", "hank", "--password-stdin"], tmp_path, stack, "nope-nope1\n")
    assert out.returncode == 4 and "wrong username or password" in out.stderr
    assert "Traceback" not in out.stderr


def test_homes_are_independent(stack: RunningStack, tmp_path: Path) -> None:
    stack.add_user("ivy", "Correct-horse1")
    stack.add_user("jon", "Correct-horse1")
    assert (
        run(
            ["login", "-u", "ivy", "--password-stdin"], tmp_path / "a", stack, "Correct-horse1\n"
        ).returncode
        == 0
    )
    assert (
        run(
            ["login", "-u", "jon", "--password-stdin"], tmp_path / "b", stack, "Correct-horse1\n"
        ).returncode
        == 0
    )
    a = json.loads(run(["whoami", "--json"], tmp_path / "a", stack).stdout)
    b = json.loads(run(["whoami", "--json"], tmp_path / "b", stack).stdout)
    assert (a["account"]["username"], b["account"]["username"]) == ("ivy", "jon")


def test_no_keychain_is_a_clear_error(stack: RunningStack, tmp_path: Path) -> None:
    stack.add_user("kim", "Correct-horse1")
    out = run(
        ["login", "-u", "kim", "--password-stdin"],
        tmp_path,
        stack,
        "Correct-horse1\n",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    assert out.returncode == 3
    assert "PYTHON_KEYRING_BACKEND" in out.stderr and "Traceback" not in out.stderr


def test_profile_show_json(stack: RunningStack, tmp_path: Path) -> None:
    out = run(["profile", "show", "local", "--json"], tmp_path, stack)
    profile = json.loads(out.stdout)
    for key in ("api_url", "region", "user_pool_id", "client_id", "aws_endpoint_url"):
        assert profile[key] == stack.profile[key]
    missing = run(["profile", "show", "nope", "--json"], tmp_path, stack)
    assert missing.returncode == 3 and "no profile named" in missing.stderr


def test_add_user_cli_and_duplicates(stack: RunningStack, tmp_path: Path) -> None:
    args = [
        "stack",
        "add-user",
        "lee",
        "--password-stdin",
        "--data-dir",
        str(stack.data_dir),
        "--json",
    ]
    first = run(args, tmp_path, stack, "Correct-horse1\n")
    assert first.returncode == 0 and json.loads(first.stdout)["username"] == "lee"
    again = run(args, tmp_path, stack, "Correct-horse1\n")
    assert again.returncode != 0 and "already exists" in again.stderr
    weak = run(
        ["stack", "add-user", "weak", "--password-stdin", "--data-dir", str(stack.data_dir)],
        tmp_path,
        stack,
        "short\n",
    )
    assert weak.returncode != 0 and "Traceback" not in weak.stderr


def test_stack_not_running(tmp_path: Path, stack: RunningStack) -> None:
    out = run(
        ["stack", "add-user", "x", "--password-stdin", "--data-dir", str(tmp_path / "none")],
        tmp_path,
        stack,
        "Correct-horse1\n",
    )
    assert out.returncode == 3 and "no local stack is running" in out.stderr


def test_demo_user_of_make_run(tmp_path: Path) -> None:
    from tests.integration.stack import client, start_stack

    demo_stack = start_stack(tmp_path / "stack", extra_args=("--demo-user",))
    try:
        creds = json.loads((tmp_path / "stack" / "demo-credentials.json").read_text())
        svc = client(demo_stack, tmp_path / "home")
        assert svc.login(creds["username"], creds["password"]).account.groups == ["admins"]
    finally:
        demo_stack.stop()
