"""Durability: users, metadata, shares and bytes survive a restart; a crash changes the epoch."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import requests

from filevault_desktop.errors import AuthError
from tests.integration.helpers import download_bytes, upload_bytes
from tests.integration.stack import client, start_stack


def test_state_survives_restart_and_crash_bumps_epoch(tmp_path: Path) -> None:
    data_dir = tmp_path / "stack"
    stack = start_stack(data_dir)
    try:
        stack.add_user("frank", "Correct-horse1", admin_user=True)
        svc = client(stack, tmp_path / "frank")
        svc.login("frank", "Correct-horse1")
        f = upload_bytes(svc, "keep/me.txt", b"durable bytes")
        share = svc.api.create_share(f.file_id)
        epoch = svc.api.changes(None).epoch
    finally:
        assert stack.stop() == 0

    stack = start_stack(data_dir)
    try:
        svc = client(stack, tmp_path / "frank")  # same home: the stored session is reused
        assert svc.whoami().account.groups == ["admins"]
        assert [x.path for x in svc.api.list_files()] == ["keep/me.txt"]
        assert download_bytes(svc, f.file_id) == b"durable bytes"
        new_share_url = share.url.replace(share.url.split("/s/")[0], stack.api_url)
        assert requests.get(new_share_url, timeout=10).content == b"durable bytes"
        assert svc.api.changes(None).epoch == epoch
        fresh = client(stack, tmp_path / "frank2")
        fresh.login("frank", "Correct-horse1")
        with pytest.raises(AuthError):
            client(stack, tmp_path / "frank3").login("frank", "wrong-password1")
        # No plaintext password is kept on disk.
        assert b"Correct-horse1" not in (data_dir / "state" / "cognito.json").read_bytes()
    finally:
        stack.stop(signal.SIGKILL)

    stack = start_stack(data_dir)
    try:
        svc = client(stack, tmp_path / "frank")
        assert svc.api.changes(None).epoch != epoch, "a crash must announce a new epoch"
        assert [x.path for x in svc.api.list_files()] == ["keep/me.txt"]
    finally:
        stack.stop()


def test_second_stack_on_same_data_dir_is_refused(tmp_path: Path) -> None:
    stack = start_stack(tmp_path / "stack")
    try:
        with pytest.raises(RuntimeError, match="already running"):
            start_stack(tmp_path / "stack")
        # The refused start leaves the running stack alone: its marker and its service.
        assert (tmp_path / "stack" / "running.pid").read_text() == str(stack.process.pid)
        assert requests.get(stack.api_url + "/me", timeout=10).status_code == 401
    finally:
        assert stack.stop() == 0
    assert not (tmp_path / "stack" / "running.pid").exists()
