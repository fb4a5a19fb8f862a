"""Server notifications reach the desktop as native notifications, and are marked read."""

from __future__ import annotations

import io

from PIL import Image
from pytestqt.qtbot import QtBot

from filevault_desktop.api.models import Notification
from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.gui.notifier import Notifier
from filevault_desktop.paths import AppPaths
from tests.gui.conftest import SIGNAL_TIMEOUT_MS, service_for
from tests.integration.helpers import upload_bytes

FAST_POLL_MS = 200


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def test_a_processed_upload_is_notified_once_and_marked_read(
    qtbot: QtBot, signed_in_app: FileVaultApp, app_paths: AppPaths
) -> None:
    app = signed_in_app
    app._inbox_timer.setInterval(FAST_POLL_MS)  # the app polls every 15 s
    shown: list[tuple[str, str]] = []
    app.notifier.shown.connect(lambda title, message: shown.append((title, message)))
    other_device = service_for(app_paths)
    upload_bytes(other_device, "trip/beach.jpg", jpeg())

    with qtbot.waitSignal(
        app.notifier.shown,
        timeout=SIGNAL_TIMEOUT_MS,
        check_params_cb=lambda title, _: title == "beach.jpg is ready",
    ) as blocker:
        pass
    assert blocker.args is not None and "trip/beach.jpg was processed" in blocker.args[1]
    qtbot.waitUntil(lambda: not other_device.notifications()[0], timeout=SIGNAL_TIMEOUT_MS)
    everything, _ = other_device.notifications(unread_only=False)
    assert [(n.kind, n.read) for n in everything] == [("file_processed", True)]
    # Later polls find nothing new: it is not shown again.
    for _ in range(3):
        with qtbot.waitSignal(app._inbox_timer.timeout, timeout=SIGNAL_TIMEOUT_MS):
            pass
    assert [t for t, _ in shown].count("beach.jpg is ready") == 1


def test_turned_off_the_inbox_is_left_unread(
    qtbot: QtBot, signed_in_app: FileVaultApp, app_paths: AppPaths
) -> None:
    app = signed_in_app
    app.apply_settings(app.settings.with_changes(notifications=False))
    assert not app._inbox_timer.isActive()
    other_device = service_for(app_paths)
    upload_bytes(other_device, "quiet.jpg", jpeg())
    qtbot.waitUntil(lambda: bool(other_device.notifications()[0]), timeout=SIGNAL_TIMEOUT_MS)
    assert [n.read for n in other_device.notifications(unread_only=False)[0]] == [False]


def note(kind: str, title: str, n: int = 0) -> Notification:
    return Notification(f"n{n:021x}", kind, title, f"body of {title}", None, None, "2026", False)


def test_many_notices_are_summed_up(qtbot: QtBot, signed_in_app: FileVaultApp) -> None:
    notifier: Notifier = signed_in_app.notifier
    shown: list[tuple[str, str]] = []
    notifier.shown.connect(lambda title, message: shown.append((title, message)))

    notifier.server(tuple(note("file_processed", f"f{i} is ready", i) for i in range(40)))
    assert shown == [("Processing finished", "40 files are ready.")]

    shown.clear()
    notifier.server((note("share_expiring", "Link expires soon"), note("share_opened", "Opened")))
    assert [t for t, _ in shown] == ["Link expires soon", "Opened"]

    shown.clear()
    notifier.server(
        (
            *(note("share_expiring", "x", i) for i in range(3)),
            note("file_quarantined", "q", 9),
            note("file_processed", "p is ready", 10),
        )
    )
    assert shown == [
        ("p is ready", "body of p is ready"),
        ("4 new notifications", "3 links expiring soon; 1 file quarantined."),
    ]
