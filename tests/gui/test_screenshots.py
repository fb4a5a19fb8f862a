"""Renders the main screens with QWidget.grab(): offscreen in `make test`, under Xvfb (the xcb
platform) in `make screenshots`.

Written to ``$FILEVAULT_SCREENSHOTS_DIR`` when set (``docs/screenshots`` for the README), else to
a temporary directory, so the test also checks that every screen renders.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.gui.sync_port import FolderState, SyncFolder
from tests.gui.conftest import SIGNAL_TIMEOUT_MS, AppFactory, User, sign_in
from tests.gui.fakes import FakeSync
from tests.integration.stack import RunningStack


def _save(widget: QWidget, out: Path, name: str) -> Path:
    path = out / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def _demo_files(root: Path) -> list[Path]:
    docs = root / "Documents"
    docs.mkdir()
    (docs / "budget-2026.xlsx").write_bytes(b"b" * 48_213)
    (docs / "minutes.md").write_bytes(b"m" * 3_911)
    photos = root / "Photos"
    photos.mkdir()
    (photos / "harbour.jpg").write_bytes(b"p" * 2_400_000)
    report = root / "quarterly-report.pdf"
    report.write_bytes(b"%PDF" * 60_000)
    notes = root / "notes.txt"
    notes.write_text("remember the milk\n")
    return [docs, photos, report, notes]


def test_screenshots(
    qtbot: QtBot, make_app: AppFactory, stack: RunningStack, user: User, tmp_path: Path
) -> None:
    out = Path(os.environ.get("FILEVAULT_SCREENSHOTS_DIR") or tmp_path / "screens")
    out.mkdir(parents=True, exist_ok=True)
    home = Path.home()
    sync = FakeSync(
        [
            SyncFolder("f1", home / "FileVault", "", FolderState.UP_TO_DATE, synced=1284),
            SyncFolder(
                "f2",
                home / "Projects" / "thesis",
                "thesis",
                FolderState.SYNCING,
                pending=12,
                synced=311,
            ),
        ]
    )
    app: FileVaultApp = make_app(sync=sync)
    app.start()
    qtbot.waitUntil(lambda: app.signin is not None, timeout=SIGNAL_TIMEOUT_MS)
    assert app.signin is not None
    app.signin.username.setText(user.username)
    _save(app.signin, out, "sign-in")
    sign_in(qtbot, app, user)

    sources = _demo_files(tmp_path)
    for source in sources:
        with qtbot.waitSignal(app.bridge.job_done, timeout=SIGNAL_TIMEOUT_MS):
            app.upload([source])
    with qtbot.waitSignal(app.bridge.share_created, timeout=SIGNAL_TIMEOUT_MS):
        app.copy_share_link("quarterly-report.pdf")
    with qtbot.waitSignal(app.bridge.listing_ready, timeout=SIGNAL_TIMEOUT_MS):
        app.window.browser.open_folder("")
    qtbot.waitUntil(lambda: len(app.window.browser.entries()) == 4, timeout=SIGNAL_TIMEOUT_MS)
    tree = app.window.browser.tree
    qtbot.waitUntil(  # the version counts follow the listing
        lambda: any(tree.topLevelItem(i).text(4) for i in range(tree.topLevelItemCount())),  # type: ignore[union-attr]
        timeout=SIGNAL_TIMEOUT_MS,
    )
    app.window.resize(980, 560)
    app.window.show()
    qtbot.waitExposed(app.window)
    _save(app.window, out, "main-window")
    app.window.tabs.setCurrentWidget(app.window.activity)
    _save(app.window, out, "activity")
    app.window.tabs.setCurrentWidget(app.window.folders)
    _save(app.window, out, "sync-folders")
    _trash_view(qtbot, app, tmp_path, out)
    app.window.tabs.setCurrentWidget(app.window.browser)

    with qtbot.waitSignal(app.bridge.shares_ready, timeout=SIGNAL_TIMEOUT_MS):
        share = app.open_share_dialog("quarterly-report.pdf")
    share.use_password.setChecked(True)
    share.password.setText("hunter22")
    with qtbot.waitSignal(app.bridge.share_created, timeout=SIGNAL_TIMEOUT_MS):
        share.create_button.click()
    qtbot.waitUntil(lambda: len(share.shares()) == 2, timeout=SIGNAL_TIMEOUT_MS)
    _save(share, out, "share-dialog")
    share.reject()

    with qtbot.waitSignal(app.bridge.account_changed, timeout=SIGNAL_TIMEOUT_MS):
        app.bridge.refresh_account()
    settings = app.open_settings()
    _save(settings, out, "settings")
    settings.tabs.setCurrentIndex(1)
    _save(settings, out, "settings-account")
    settings.tabs.setCurrentIndex(2)
    _save(settings, out, "settings-sync")
    settings.reject()

    app.tray.menu.aboutToShow.emit()
    app.tray.menu.popup(QPoint(0, 0))
    qtbot.waitExposed(app.tray.menu)
    _save(app.tray.menu, out, "tray-menu")
    app.tray.menu.hide()

    _admin_window(qtbot, app, stack, user, out)
    names = {p.name for p in out.glob("*.png")}
    assert {
        "main-window.png",
        "sign-in.png",
        "share-dialog.png",
        "settings.png",
        "tray-menu.png",
        "admin-window.png",
        "trash.png",
    } <= names


def _trash_view(qtbot: QtBot, app: FileVaultApp, tmp_path: Path, out: Path) -> None:
    """The Trash tab with a few files deleted from different folders, one selected."""
    svc = app.bridge.service
    assert svc is not None
    old = tmp_path / "trash-demo"
    (old / "Photos").mkdir(parents=True)
    (old / "Photos" / "IMG_2041.jpg").write_bytes(b"j" * 1_830_000)
    (old / "budget-2025-draft.xlsx").write_bytes(b"d" * 41_700)
    svc.upload([old / "Photos" / "IMG_2041.jpg"], "Photos")
    svc.upload([old / "budget-2025-draft.xlsx"], "Documents")
    for path in ("Documents/budget-2025-draft.xlsx", "Photos/IMG_2041.jpg", "notes.txt"):
        svc.remove(path)
    with qtbot.waitSignal(app.bridge.trash_ready, timeout=SIGNAL_TIMEOUT_MS):
        app.window.tabs.setCurrentWidget(app.window.trash)
    view = app.window.trash
    view.select("Photos/IMG_2041.jpg")
    # The footer's count is laid out on the next pass of the event loop.
    qtbot.waitUntil(lambda: view.summary.width() >= view.summary.sizeHint().width())
    _save(app.window, out, "trash")


def _admin_window(
    qtbot: QtBot, app: FileVaultApp, stack: RunningStack, user: User, out: Path
) -> None:
    """The admin window with a few users: one near their quota, one disabled."""
    suffix = secrets.token_hex(2)
    admin = User(f"ada-{suffix}", "Pw-" + secrets.token_hex(8))
    stack.add_user(admin.username, admin.password, admin_user=True)
    stack.add_user(f"maria-{suffix}", "Pw-" + secrets.token_hex(8))
    sign_in(qtbot, app, admin)
    svc = app.bridge.service
    assert svc is not None
    svc.set_user_quota(svc.admin_user(user.username).user_id, 4 * 1024**2)
    svc.set_user_enabled(svc.admin_user(f"maria-{suffix}").user_id, False)
    with qtbot.waitSignal(app.bridge.admin_users_ready, timeout=SIGNAL_TIMEOUT_MS):
        window = app.open_admin()
    assert window is not None
    window.resize(900, 560)
    window.users.select(svc.admin_user(user.username).user_id)
    qtbot.waitExposed(window)
    _save(window, out, "admin-window")
    window.reject()
