"""Downloads are atomic: the target is replaced only by complete, verified bytes."""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.errors import NetworkError
from filevault_desktop.transfer.download import download_file
from filevault_desktop.transfer.errors import TransferError
from filevault_desktop.transfer.events import TransferFailed, TransferFinished

DATA = b"0123456789" * 100_000


def _remote(data: bytes = DATA, etag: str | None = None) -> RemoteFile:
    md5 = etag or hashlib.md5(data).hexdigest()
    return RemoteFile("f_1", "docs/a.bin", "a.bin", len(data), "x/y", "v1", md5, "t", "t", "active")


class Api:
    def download_url(self, file_id: str) -> str:
        return f"https://example.invalid/{file_id}"


class Fetcher:
    def __init__(self, chunks: list[bytes], fail: Exception | None = None) -> None:
        self.chunks, self.fail = chunks, fail

    def fetch(self, url: str) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail:
            raise self.fail


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_download_replaces_target_when_verified(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    events: list[object] = []
    chunks = [DATA[i : i + 65536] for i in range(0, len(DATA), 65536)]
    download_file(Api(), Fetcher(chunks), _remote(), target, on_event=events.append)
    assert target.read_bytes() == DATA
    assert _leftovers(tmp_path) == []
    assert isinstance(events[-1], TransferFinished) and events[-1].total == len(DATA)


@pytest.mark.parametrize(
    ("fetcher", "message"),
    [
        (Fetcher([DATA[:1000]]), "stopped at 1000"),
        (Fetcher([DATA[:-1] + b"!"]), "corrupted"),
        (Fetcher([DATA[:5000]], NetworkError("connection reset")), "connection reset"),
    ],
)
def test_failed_download_keeps_the_original(tmp_path: Path, fetcher: Fetcher, message: str) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"precious original")
    events: list[object] = []
    with pytest.raises((TransferError, NetworkError), match=message):
        download_file(Api(), fetcher, _remote(), target, on_event=events.append)
    assert target.read_bytes() == b"precious original"
    assert _leftovers(tmp_path) == []
    assert isinstance(events[-1], TransferFailed)


def test_full_disk_keeps_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"precious original")
    real_open = Path.open

    class FullDisk:
        def __init__(self, f: object) -> None:
            self._f = f

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self._f.close()  # type: ignore[attr-defined]

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    def fake_open(self: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        f = real_open(self, mode, *args, **kwargs)  # type: ignore[arg-type]
        return FullDisk(f) if self.name.endswith(".part") else f

    monkeypatch.setattr(Path, "open", fake_open)
    with pytest.raises(TransferError, match=r"No space left on device.*untouched"):
        download_file(Api(), Fetcher([DATA]), _remote(), target)
    monkeypatch.undo()
    assert target.read_bytes() == b"precious original"
    assert _leftovers(tmp_path) == []


def test_multipart_etag_is_not_mistaken_for_md5(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    download_file(Api(), Fetcher([DATA]), _remote(etag="0" * 32 + "-3"), target)
    assert target.read_bytes() == DATA
