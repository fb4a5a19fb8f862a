"""``filevault trash empty`` asks before deleting on a terminal (the service is a fake here;
tests/integration/test_cli_trash.py runs the commands against the local stack)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from click.testing import CliRunner

from filevault_desktop.api.models import PurgedFile, RemoteFile
from filevault_desktop.cli import trash_cmds
from filevault_desktop.cli.main import cli
from filevault_desktop.service import EmptiedTrash


def _trashed(path: str) -> RemoteFile:
    return RemoteFile(
        file_id="f_" + "1" * 24,
        path=path,
        name=path.rsplit("/", 1)[-1],
        size=2048,
        content_type="text/plain",
        version_id="v" + "0" * 21,
        etag="e",
        created_at="2026-01-01T00:00:00.000Z",
        modified_at="2026-01-01T00:00:00.000Z",
        state="trashed",
        trashed_at="2026-02-01T00:00:00.000Z",
    )


@dataclass
class FakeService:
    in_trash: list[RemoteFile]
    emptied: int = 0
    purged: list[tuple[str, ...]] = field(default_factory=list)

    def trash(self) -> list[RemoteFile]:
        return list(self.in_trash)

    def empty_trash(self) -> EmptiedTrash:
        self.emptied += 1
        gone = [PurgedFile(f.file_id, f.path, f.size) for f in self.in_trash]
        self.in_trash = []
        return EmptiedTrash(gone, sum(p.released_bytes for p in gone))

    def purge_from_trash(self, *targets: str) -> list[PurgedFile]:
        self.purged.append(targets)
        return [PurgedFile("f_" + "2" * 24, t, 10) for t in targets]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeService:
    service = FakeService([_trashed("a/x.txt"), _trashed("b/y.txt")])
    monkeypatch.setattr(trash_cmds, "service", lambda profile: service)
    return service


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Any:
    def invoke(args: list[str], stdin: str = "", *, terminal: bool) -> Any:
        monkeypatch.setattr(trash_cmds, "interactive", lambda: terminal)
        return CliRunner().invoke(cli, args, input=stdin)

    return invoke


def test_a_terminal_is_asked_and_no_keeps_everything(fake: FakeService, run: Any) -> None:
    result = run(["trash", "empty"], "n\n", terminal=True)
    assert result.exit_code == 1
    assert "Delete 2 files in the trash for good? This cannot be undone." in result.output
    assert "nothing was deleted" in result.output
    assert fake.emptied == 0


def test_yes_at_the_prompt_empties_the_trash(fake: FakeService, run: Any) -> None:
    result = run(["trash", "empty"], "y\n", terminal=True)
    assert result.exit_code == 0, result.output
    assert fake.emptied == 1
    assert "deleted 2 files for good, 4 KiB freed" in result.output


def test_without_a_terminal_it_refuses_unless_yes(fake: FakeService, run: Any) -> None:
    result = run(["trash", "empty"], "y\n", terminal=False)
    assert result.exit_code == 2 and "pass --yes" in result.output
    assert fake.emptied == 0
    result = run(["trash", "empty", "--yes", "--json"], terminal=False)
    assert result.exit_code == 0
    assert json.loads(result.output)["released_bytes"] == 4096 and fake.emptied == 1


def test_an_empty_trash_asks_nothing(fake: FakeService, run: Any) -> None:
    fake.in_trash = []
    result = run(["trash", "empty"], terminal=True)
    assert result.exit_code == 0 and result.output.strip() == "(the trash is empty)"
    assert fake.emptied == 0


def test_purge_names_what_it_deleted_and_listing_still_works(fake: FakeService, run: Any) -> None:
    result = run(["trash", "purge", "a/x.txt", "f_" + "3" * 24], terminal=False)
    assert result.exit_code == 0, result.output
    assert fake.purged == [("a/x.txt", "f_" + "3" * 24)]
    assert "deleted a/x.txt for good (10 B freed)" in result.output
    listing = run(["trash"], terminal=False)
    assert listing.exit_code == 0 and "b/y.txt" in listing.output and "2 KiB" in listing.output
    assert run(["trash", "purge"], terminal=False).exit_code == 2  # a name is required
