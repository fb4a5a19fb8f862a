"""``filevault admin`` users, quota, disable, enable as scripts use them (exit codes, --json)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from tests.integration.stack import RunningStack
from tests.integration.test_cli import run

pytestmark = pytest.mark.integration
GiB = 1024**3


def _login(stack: RunningStack, home: Path, *, admin: bool) -> tuple[str, str]:
    name = f"{'boss' if admin else 'staff'}-{secrets.token_hex(3)}"
    password = "Pw-" + secrets.token_hex(8)
    stack.add_user(name, password, admin_user=admin)
    out = run(["login", "-u", name, "--password-stdin"], home, stack, password + "\n")
    assert out.returncode == 0, out.stderr
    return name, password


def test_admin_commands(stack: RunningStack, tmp_path: Path) -> None:
    boss_home, staff_home = tmp_path / "boss", tmp_path / "staff"
    boss, _ = _login(stack, boss_home, admin=True)
    staff, password = _login(stack, staff_home, admin=False)

    listed = run(["admin", "users", "--json"], boss_home, stack)
    assert listed.returncode == 0, listed.stderr
    users = {u["username"]: u for u in json.loads(listed.stdout)}
    assert users[boss]["groups"] == ["admins"] and users[staff]["enabled"] is True
    table = run(["admin", "users"], boss_home, stack)
    assert table.returncode == 0 and "USERNAME" in table.stdout and staff in table.stdout

    quota = run(["admin", "quota", staff, "10GiB", "--json"], boss_home, stack)
    assert quota.returncode == 0, quota.stderr
    assert json.loads(quota.stdout)["quota_bytes"] == 10 * GiB
    by_id = run(["admin", "quota", users[staff]["user_id"], "500MB"], boss_home, stack)
    assert by_id.returncode == 0 and "quota 476.8 MiB" in by_id.stdout
    who = run(["whoami", "--json"], staff_home, stack)
    assert json.loads(who.stdout)["account"]["quota_bytes"] == 500 * 1000**2

    # Usage errors (2), unknown users (7), disabling oneself (8).
    assert run(["admin", "quota", staff, "lots"], boss_home, stack).returncode == 2
    assert run(["admin", "quota", staff, "0"], boss_home, stack).returncode == 2
    unknown = run(["admin", "disable", "nobody-at-all"], boss_home, stack)
    assert unknown.returncode == 7 and "no user 'nobody-at-all'" in unknown.stderr
    myself = run(["admin", "disable", boss], boss_home, stack)
    assert myself.returncode == 8 and "your own account" in myself.stderr

    disabled = run(["admin", "disable", staff], boss_home, stack)
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    login = run(["login", "-u", staff, "--password-stdin"], tmp_path / "x", stack, password + "\n")
    assert login.returncode == 4 and "disabled" in login.stderr
    enabled = run(["admin", "enable", staff, "--json"], boss_home, stack)
    assert enabled.returncode == 0 and json.loads(enabled.stdout)["enabled"] is True

    # Not an administrator: refused by the server (6), said plainly.
    refused = run(["admin", "users"], staff_home, stack)
    assert refused.returncode == 6
    assert "not a FileVault administrator" in refused.stderr and "Traceback" not in refused.stderr
