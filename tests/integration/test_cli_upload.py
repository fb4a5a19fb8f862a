"""``filevault upload`` against the local stack: folders, symlinks, partial failure."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import download_bytes
from tests.integration.stack import RunningStack
from tests.integration.test_cli import run
from tests.integration.test_cli_files import signed_in_cli


def test_upload_files_and_folders(stack: RunningStack, tmp_path: Path) -> None:
    home, svc = signed_in_cli(stack, tmp_path, "olga")
    tree = tmp_path / "Photos"
    (tree / "2026" / "june").mkdir(parents=True)
    (tree / "2026" / "june" / "beach.jpg").write_bytes(b"\xff\xd8" + os.urandom(3 * 1024 * 1024))
    (tree / "notes.txt").write_text("hello")
    (tree / "empty.bin").write_bytes(b"")
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("do not upload me")
    (tree / "link-out.txt").symlink_to(secret)
    single = tmp_path / "report.pdf"
    single.write_bytes(b"%PDF-1.7")

    out = run(["upload", str(tree), str(single), "--to", "backup", "--json"], home, stack)
    assert out.returncode == 1, out.stderr  # the symlink out of the folder is refused
    outcomes = {o["remote"]: o for o in json.loads(out.stdout)}
    assert outcomes["backup/Photos/link-out.txt"]["error"]
    uploaded = {r for r, o in outcomes.items() if o["file"]}
    assert uploaded == {
        "backup/Photos/2026/june/beach.jpg",
        "backup/Photos/notes.txt",
        "backup/Photos/empty.bin",
        "backup/report.pdf",
    }
    assert outcomes["backup/report.pdf"]["file"]["content_type"] == "application/pdf"

    beach = svc.find("backup/Photos/2026/june/beach.jpg")
    assert download_bytes(svc, beach.file_id) == (tree / "2026" / "june" / "beach.jpg").read_bytes()
    assert all(f.path != "backup/Photos/link-out.txt" for f in svc.api.list_files("backup/"))

    again = run(["upload", str(single), "--to", "backup"], home, stack)
    assert again.returncode == 0 and "uploaded backup/report.pdf" in again.stdout
    assert len(svc.versions("backup/report.pdf")) == 1  # the same bytes: nothing new to keep
    single.write_bytes(b"%PDF-1.7 changed")
    changed = run(["upload", str(single), "--to", "backup"], home, stack)
    assert changed.returncode == 0 and "uploaded backup/report.pdf" in changed.stdout
    assert len(svc.versions("backup/report.pdf")) == 2


def test_download_round_trip(stack: RunningStack, tmp_path: Path) -> None:
    home, _ = signed_in_cli(stack, tmp_path, "pia")
    data = os.urandom(20 * 1024 * 1024 + 7)  # three 8 MiB ranges, fetched in parallel
    source = tmp_path / "src.bin"
    source.write_bytes(data)
    assert run(["upload", str(source), "--to", "dl"], home, stack).returncode == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "src.bin").write_bytes(b"old local copy")
    got = run(["download", "dl/src.bin", str(out_dir), "--json"], home, stack)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == [
        {"remote": "dl/src.bin", "local": str(out_dir / "src.bin"), "error": None}
    ]
    assert (out_dir / "src.bin").read_bytes() == data
    assert sorted(p.name for p in out_dir.iterdir()) == ["src.bin"]
    missing = run(["download", "dl/nope.bin", str(out_dir)], home, stack)
    assert missing.returncode == 7


def test_download_a_folder(stack: RunningStack, tmp_path: Path) -> None:
    home, _ = signed_in_cli(stack, tmp_path, "quinn")
    tree = tmp_path / "Docs"
    (tree / "sub").mkdir(parents=True)
    files = {"a.txt": b"alpha", "sub/b.bin": os.urandom(100_000), "sub/empty": b""}
    for name, data in files.items():
        (tree / name).write_bytes(data)
    assert run(["upload", str(tree)], home, stack).returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    got = run(["download", "Docs", str(out), "--json"], home, stack)
    assert got.returncode == 0, got.stderr
    assert len(json.loads(got.stdout)) == 3
    for name, data in files.items():
        assert (out / "Docs" / name).read_bytes() == data


def test_small_files_download_in_batches_and_large_ones_by_url(
    stack: RunningStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, svc = signed_in_cli(stack, tmp_path, "rosa")
    tree = tmp_path / "Many"
    tree.mkdir()
    files = {f"f{n:03d}.txt": os.urandom(n * 37) for n in range(130)}  # one of them empty
    files["big.bin"] = os.urandom(3 * 1024 * 1024 + 5)  # above the inline limit
    for name, data in files.items():
        (tree / name).write_bytes(data)
    assert all(o.error is None for o in svc.upload([tree], to=""))
    batches: list[int] = []
    urls: list[str] = []
    inline, one_url = svc.api.download_inline_batch, svc.api.download_url

    def counted_inline(ids: list[str]) -> Any:
        batches.append(len(ids))
        return inline(ids)

    def counted_url(file_id: str) -> str:
        urls.append(file_id)
        return one_url(file_id)

    monkeypatch.setattr(svc.api, "download_inline_batch", counted_inline)
    monkeypatch.setattr(svc.api, "download_url", counted_url)
    out = tmp_path / "out"
    out.mkdir()
    (out / "Many").mkdir()
    (out / "Many" / "f005.txt").write_bytes(b"an older local copy")
    outcomes = svc.download("Many", out)
    assert [o.error for o in outcomes] == [None] * len(files)
    # The 130 small files in two requests: the listing's short first page (big.bin and 99
    # small files), then the rest.
    assert batches == [99, 31]
    assert urls == [svc.find("Many/big.bin").file_id]  # the large one alone, ranged
    assert {p.name: p.read_bytes() for p in (out / "Many").iterdir()} == files
