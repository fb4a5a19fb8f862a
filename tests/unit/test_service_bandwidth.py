"""Bandwidth limits set on the facade reach transfers already running and later ones."""

from __future__ import annotations

from pathlib import Path

from filevault_desktop.paths import AppPaths
from filevault_desktop.service import FileVaultService
from filevault_desktop.transfer import UploadEngine, UploadJournal
from filevault_desktop.transfer.download import DownloadEngine
from filevault_desktop.transfer.testing import FakeUploadServer


def _rate(engine: UploadEngine | DownloadEngine) -> float | None:
    bucket = engine._bucket
    return None if bucket is None else bucket.rate_bps


def test_limits_apply_to_running_and_new_engines(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "config", tmp_path / "state", tmp_path / "stack")
    svc = FileVaultService(paths, "local")
    server = FakeUploadServer()
    journal = UploadJournal(tmp_path / "j.sqlite3")
    up = svc.track(UploadEngine(server, server, journal))
    down = svc.track(DownloadEngine(server, server))  # type: ignore[arg-type]
    assert _rate(up) is None and _rate(down) is None
    svc.set_bandwidth_limits(200_000, 1_000_000)
    assert (_rate(up), _rate(down)) == (200_000, 1_000_000)
    later = svc.track(DownloadEngine(server, server))  # type: ignore[arg-type]
    assert _rate(later) == 1_000_000
    for engine in (up, down, later):
        engine.close()
    svc.set_bandwidth_limits(None, None)  # closed engines are no longer tracked
    assert _rate(up) == 200_000
    journal.close()
