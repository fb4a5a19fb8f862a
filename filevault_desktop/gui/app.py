"""Wires the windows, the tray and the bridge together; ``main`` starts the app."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QMessageBox,
    QSystemTrayIcon,
)

from filevault_desktop import profiles
from filevault_desktop.gui import icons
from filevault_desktop.gui.admin import AdminWindow
from filevault_desktop.gui.admin_actions import AdminActions
from filevault_desktop.gui.autostart import Autostart, for_platform
from filevault_desktop.gui.bridge import Bridge, ServiceFactory
from filevault_desktop.gui.events import (
    Failure,
    JobDone,
    JobEvent,
    Problem,
    RecentFile,
    SignedInInfo,
    TrashChanged,
)
from filevault_desktop.gui.file_actions import FileActions
from filevault_desktop.gui.issues import from_failure, from_sync, from_transfer
from filevault_desktop.gui.main_window import MainWindow
from filevault_desktop.gui.notifier import Notifier
from filevault_desktop.gui.settings import GuiSettings, SettingsStore
from filevault_desktop.gui.settings_dialog import SettingsDialog
from filevault_desktop.gui.share_dialog import ShareDialog
from filevault_desktop.gui.signin import SignInDialog
from filevault_desktop.gui.single_instance import SingleInstance
from filevault_desktop.gui.state import STATE_LABEL, all_paused, tray_state
from filevault_desktop.gui.sync_port import (
    ConflictCopied,
    FolderState,
    MassDeletePrompt,
    NoSync,
    SyncFolder,
    SyncIssue,
    SyncNotice,
    SyncPort,
)
from filevault_desktop.gui.tray import Tray, TrayMenuState
from filevault_desktop.paths import AppPaths
from filevault_desktop.service import FileVaultService
from filevault_desktop.transfer.events import Direction, FailureReason, TransferFailed

log = logging.getLogger(__name__)
ACCOUNT_REFRESH_MS = 60_000
NOTIFICATION_POLL_MS = 15_000
# Periodic calls whose failure the offline state already says: not issues of their own.
QUIET_OPERATIONS = {"account", "notifications"}
SHARE_OPERATIONS = {"share links", "create share link", "revoke share link"}


class FileVaultApp(QObject):
    """The controller: reacts to the bridge's signals and to what the user asks for."""

    state_changed = Signal(object)  # TrayState

    def __init__(
        self,
        paths: AppPaths,
        *,
        sync: SyncPort | None = None,
        make_service: ServiceFactory | None = None,
        autostart: Autostart | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.store = SettingsStore(paths.config_dir)
        self.settings = self.store.load()
        self.autostart = autostart or for_platform()
        self.bridge = Bridge(
            make_service or (lambda p: FileVaultService(paths, p)), sync or NoSync(), self
        )
        self.sync_configured = self.bridge.sync.configured
        self.info: SignedInInfo | None = None
        self.online = True
        self.folders: dict[str, SyncFolder] = {}
        self.recent: list[RecentFile] = []
        self.signin: SignInDialog | None = None
        self.mass_delete_prompts: dict[str, QMessageBox] = {}

        self.window = MainWindow(sync_configured=self.sync_configured)
        self.tray = Tray(self._tray_snapshot, self)
        self.notifier = Notifier(self.tray.icon, enabled=self.settings.notifications, parent=self)
        self.window.keep_running_in_tray = QSystemTrayIcon.isSystemTrayAvailable()
        self.files = FileActions(
            self.bridge, self.window, self.notifier, lambda: self.settings.share_expiry_s, self
        )
        self.files.show_window.connect(self.show_window)
        self.admin = AdminActions(self.bridge, self.window, self)
        self._account_timer = QTimer(self)
        self._account_timer.setInterval(ACCOUNT_REFRESH_MS)
        self._account_timer.timeout.connect(self.bridge.refresh_account)
        self._inbox_timer = QTimer(self)
        self._inbox_timer.setInterval(NOTIFICATION_POLL_MS)
        self._inbox_timer.timeout.connect(self.bridge.poll_notifications)
        self._connect()
        self._update_state()

    # ----- wiring ----------------------------------------------------------------------------

    def _connect(self) -> None:
        b, w, t = self.bridge, self.window, self.tray
        b.signed_in.connect(self._on_signed_in)
        b.sign_in_failed.connect(self._on_sign_in_failed)
        b.signed_out.connect(self._on_signed_out)
        b.account_changed.connect(self._on_account)
        b.online_changed.connect(self._on_online)
        b.failed.connect(self._on_failure)
        b.listing_ready.connect(w.browser.show_listing)
        b.recent_ready.connect(self._on_recent)
        b.server_notifications.connect(self.notifier.server)
        b.job_queued.connect(w.activity.model.add_job)
        b.job_queued.connect(lambda _: self._update_state())
        b.transfer_events.connect(self._on_transfer_events)
        b.job_done.connect(self._on_job_done)
        b.sync_folders.connect(self._on_sync_folders)
        b.sync_notice.connect(self._on_sync_notice)
        b.trash_ready.connect(w.trash.show_trash)
        b.trash_changed.connect(self._on_trash_changed)
        b.trash_failed.connect(w.trash.show_error)

        w.browser.navigate.connect(b.list_folder)
        w.upload_requested.connect(self.upload)
        w.activity.cancel_requested.connect(b.cancel_job)
        w.issues.count_changed.connect(lambda _: self._update_state())
        w.settings_requested.connect(self.open_settings)
        w.admin_requested.connect(self.open_admin)
        w.pause_requested.connect(self.pause)
        w.resume_requested.connect(self.resume)
        w.trash.refresh_requested.connect(b.load_trash)
        w.trash.restore_requested.connect(b.restore_from_trash)
        w.trash.restore_to_requested.connect(lambda f, to: b.restore_from_trash([f], to))
        w.trash.purge_requested.connect(b.purge_from_trash)
        w.trash.empty_requested.connect(b.empty_trash)
        w.folders.add_requested.connect(
            lambda local, remote: b.sync_call(
                "add sync folder", lambda p: p.add_folder(local, remote)
            )
        )
        w.folders.remove_requested.connect(
            lambda fid: b.sync_call("remove sync folder", lambda p: p.remove_folder(fid))
        )
        w.folders.pause_requested.connect(lambda fid: b.sync_call("pause", lambda p: p.pause(fid)))
        w.folders.resume_requested.connect(
            lambda fid: b.sync_call("resume", lambda p: p.resume(fid))
        )
        w.folders.sync_now_requested.connect(
            lambda fid: b.sync_call("sync now", lambda p: p.sync_now(fid))
        )

        t.open_requested.connect(self.show_window)
        t.settings_requested.connect(self.open_settings)
        t.sign_in_requested.connect(self.ask_sign_in)
        t.pause_requested.connect(self.pause)
        t.resume_requested.connect(self.resume)
        t.sync_now_requested.connect(lambda: b.sync_call("sync now", lambda p: p.sync_now(None)))
        t.quit_requested.connect(self.quit)
        t.copy_link_requested.connect(self.copy_share_link)
        t.reveal_requested.connect(self.files.reveal)

        hints = QGuiApplication.styleHints()
        hints.colorSchemeChanged.connect(self._palette_changed)

    # ----- start, sign in, sign out ----------------------------------------------------------

    def start(self, *, minimized: bool = False) -> None:
        self.tray.show()
        if not minimized or not self.window.keep_running_in_tray:
            self.window.show()
        self.apply_settings(self.settings, save=False)
        self.bridge.refresh_sync()
        self.bridge.resume_session()

    def ask_sign_in(self, failure: Failure | None = None) -> SignInDialog:
        if self.signin is None:
            current = self.info.profile if self.info else None
            dialog = SignInDialog(profiles.names(self.paths), current, self.window)
            dialog.submitted.connect(self.bridge.sign_in)
            dialog.rejected.connect(self._sign_in_closed)
            self.signin = dialog
        if failure is not None and failure.problem is not Problem.NOT_SIGNED_IN:
            self.signin.show_failure(failure)
        self.signin.show()
        self.signin.raise_()
        self.signin.activateWindow()
        return self.signin

    def _sign_in_closed(self) -> None:
        self.signin = None

    def _on_signed_in(self, info: SignedInInfo) -> None:
        self.info = info
        self.admin.account_changed(info)
        self.online = True
        if self.signin is not None:
            dialog, self.signin = self.signin, None
            dialog.accept()
        self.window.set_account(info)
        self.window.browser.open_folder(self.window.browser.folder)
        self.window.trash.account_changed()
        self.bridge.load_recent(self.settings.recent_files)
        self.bridge.apply_bandwidth(
            self.settings.upload_limit_kbps, self.settings.download_limit_kbps
        )
        self._account_timer.start()
        self._watch_inbox()
        self._update_state()
        self.bridge.refresh_sync()  # starts syncing this account's folders
        # Signing in loaded the AWS SDK's models: hundreds of thousands of long-lived objects
        # that every full garbage collection would scan again (pauses of 100+ ms that freeze
        # the UI, whichever thread triggers them). Frozen, they are left out of collections.
        gc.freeze()

    def _on_sign_in_failed(self, failure: Failure) -> None:
        if self.signin is not None and self.signin.isVisible():
            self.signin.show_failure(failure)
        else:
            self.ask_sign_in(failure)

    def sign_out(self) -> None:
        self.bridge.sign_out()

    def _on_signed_out(self, _: object = None) -> None:
        self.info = None
        self.admin.account_changed(None)
        self.recent = []
        self._account_timer.stop()
        self._inbox_timer.stop()
        self.window.set_account(None)
        self.window.trash.clear()
        self._update_state()
        self.bridge.refresh_sync()  # stops syncing the signed-out account's folders
        self.ask_sign_in()

    def _on_account(self, info: SignedInInfo) -> None:
        self.info = info
        self.admin.account_changed(info)
        self.window.set_account(info)

    def _on_online(self, online: bool) -> None:
        self.online = online
        self._update_state()

    # ----- failures --------------------------------------------------------------------------

    def _on_failure(self, failure: Failure) -> None:
        if failure.problem is Problem.NOT_SIGNED_IN and self.info is not None:
            # The session could not be refreshed: ask again rather than fail every call.
            self.ask_sign_in(failure)
        dialog = self.share_dialogs.get(failure.path)
        if failure.operation in SHARE_OPERATIONS and dialog is not None:
            dialog.show_error(failure.message)
            return
        if failure.operation in QUIET_OPERATIONS:
            return  # periodic calls: the offline state says it already
        self.window.issues.add(from_failure(failure))
        self.notifier.error(f"Could not {failure.operation}", failure.message)

    # ----- remote files and sharing (file_actions.py) ----------------------------------------

    @property
    def share_dialogs(self) -> dict[str, ShareDialog]:
        return self.files.share_dialogs

    def open_share_dialog(self, path: str) -> ShareDialog:
        return self.files.open_share_dialog(path)

    def copy_share_link(self, path: str) -> None:
        self.files.copy_share_link(path)

    def _on_trash_changed(self, change: TrashChanged) -> None:
        self.window.trash.show_change(change)
        if change.freed_bytes:
            self.bridge.refresh_account()  # the quota shown counts the bytes freed

    # ----- transfers -------------------------------------------------------------------------

    def upload(self, sources: list[Path]) -> list[int]:
        if self.info is None:
            self.ask_sign_in()
            return []
        jobs = self.bridge.upload(sources, self.window.browser.folder)
        self.window.tabs.setTabText(2, "Activity •")
        return jobs

    def _on_transfer_events(self, events: tuple[JobEvent, ...]) -> None:
        self.window.activity.model.apply(events)
        for item in events:
            event = item.event
            if isinstance(event, TransferFailed) and event.reason is not FailureReason.CANCELLED:
                self.window.issues.add(from_transfer(event))

    def _on_job_done(self, done: JobDone) -> None:
        self.window.activity.model.finish_job(done)
        for path, message in done.failed:
            self.window.issues.add(
                from_failure(Failure(f"{done.direction.value}", Problem.REFUSED, message, path))
            )
        if done.direction is Direction.UPLOAD and done.done:
            self.notifier.uploaded(list(done.done))
            now = datetime.now(UTC).isoformat()
            fresh = [RecentFile(p, p.rpartition("/")[2], now) for p in reversed(done.done)]
            self._set_recent(fresh + self.recent)
            if done.target == self.window.browser.folder or any(
                p.startswith(self.window.browser.folder) for p in done.done[:1]
            ):
                self.bridge.list_folder(self.window.browser.folder)
            self.bridge.refresh_account()
        elif done.direction is Direction.DOWNLOAD and done.done:
            self.notifier.notify("Download finished", f"{done.source} is in {done.target}.")
        if self.bridge.active_jobs() == 0:
            self.window.tabs.setTabText(2, "Activity")
        self._update_state()

    def _on_recent(self, recent: tuple[RecentFile, ...]) -> None:
        self._set_recent(list(recent) + self.recent)

    def _set_recent(self, files: list[RecentFile]) -> None:
        seen: set[str] = set()
        out = []
        for f in files:
            if f.path not in seen:
                seen.add(f.path)
                out.append(f)
        self.recent = out[: self.settings.recent_files]

    # ----- sync ------------------------------------------------------------------------------

    def pause(self) -> None:
        self.bridge.sync_call("pause", lambda p: p.pause(None))

    def resume(self) -> None:
        self.bridge.sync_call("resume", lambda p: p.resume(None))

    def _on_sync_folders(self, folders: tuple[SyncFolder, ...]) -> None:
        self.folders = {f.folder_id: f for f in folders}
        self._show_folders()

    def _show_folders(self) -> None:
        folders = tuple(self.folders.values())
        self.window.folders.show_folders(folders)
        self.window.set_paused(all_paused(folders))
        self._update_state()

    def _on_sync_notice(self, notice: SyncNotice) -> None:
        if isinstance(notice, SyncFolder):
            self.folders[notice.folder_id] = notice
            self._show_folders()
        elif isinstance(notice, SyncIssue):
            self.window.issues.add(from_sync(notice))
            self.notifier.error("A file could not sync", f"{notice.path}: {notice.reason}")
        elif isinstance(notice, ConflictCopied):
            self.notifier.notify(
                "Conflict: both versions kept",
                f"Your version of {notice.path} is now {notice.copy_path}.",
            )
        elif isinstance(notice, MassDeletePrompt):
            self._ask_mass_delete(notice)

    def _ask_mass_delete(self, prompt: MassDeletePrompt) -> QMessageBox:
        old = self.mass_delete_prompts.pop(prompt.folder_id, None)
        if old is not None:
            old.close()
        sample = "\n".join(prompt.sample[:5])
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete many files?",
            f"{prompt.count} files were deleted in one go. Delete them everywhere?\n\n{sample}",
            QMessageBox.StandardButton.NoButton,
            self.window,
        )
        delete = box.addButton(
            f"Delete {prompt.count} files", QMessageBox.ButtonRole.DestructiveRole
        )
        box.addButton("Keep them", QMessageBox.ButtonRole.RejectRole)
        box.setInformativeText(
            "Delete: they go to the trash and can be restored from there.\n"
            "Keep them: the files come back where they were deleted."
        )

        def answered() -> None:
            allow = box.clickedButton() is delete
            self.mass_delete_prompts.pop(prompt.folder_id, None)
            self.bridge.sync_call(
                "answer the delete prompt", lambda p: p.answer_mass_delete(prompt.folder_id, allow)
            )

        box.finished.connect(lambda _: answered())
        self.mass_delete_prompts[prompt.folder_id] = box
        box.open()  # not exec(): the UI keeps running while the question is open
        self.notifier.error("Delete many files?", f"{prompt.count} files wait for your answer.")
        return box

    # ----- settings, admin -------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(
            self.settings,
            self.info,
            list(self.folders.values()),
            sync_configured=self.sync_configured,
            parent=self.window,
        )
        dialog.saved.connect(self.apply_settings)
        dialog.sign_out_requested.connect(self.sign_out)
        dialog.folder_configured.connect(
            lambda fid, excluded, ignore: self.bridge.sync_call(
                "sync settings",
                lambda p: p.configure(fid, excluded=excluded, ignore_patterns=ignore),
            )
        )
        dialog.setModal(True)
        dialog.show()
        return dialog

    def apply_settings(self, settings: GuiSettings, *, save: bool = True) -> None:
        if save:
            try:
                self.store.save(settings)
            except OSError as exc:
                self._on_failure(Failure("save settings", Problem.BUG, str(exc)))
        self.settings = settings
        self.notifier.enabled = settings.notifications
        self._watch_inbox()
        self.recent = self.recent[: settings.recent_files]
        try:
            if self.autostart.enabled() != settings.start_at_login:
                self.autostart.set_enabled(settings.start_at_login)
        except OSError as exc:
            self._on_failure(Failure("change start at login", Problem.REFUSED, str(exc)))
        if self.info is not None:
            self.bridge.apply_bandwidth(settings.upload_limit_kbps, settings.download_limit_kbps)

    def _watch_inbox(self) -> None:
        """Polls the server's inbox while signed in with notifications on; turned off, unread
        notifications stay unread on the server (for other devices, and for later)."""
        if self.info is not None and self.settings.notifications:
            if not self._inbox_timer.isActive():
                self._inbox_timer.start()
                self.bridge.poll_notifications()
        else:
            self._inbox_timer.stop()

    def open_admin(self) -> AdminWindow | None:
        if self.info is None or not self.info.is_admin:
            return None
        return self.admin.open(self.info)

    # ----- tray and window -------------------------------------------------------------------

    def _tray_snapshot(self) -> TrayMenuState:
        return TrayMenuState(
            state=self.current_state(),
            signed_in=self.info is not None,
            sync_configured=self.sync_configured,
            paused=all_paused(self.folders.values()),
            active_transfers=self.bridge.active_jobs(),
            issues=self.window.issues.count(),
            recent=tuple(self.recent),
            account=self.info.account.username if self.info else "",
        )

    def current_state(self) -> icons.TrayState:
        return tray_state(
            signed_in=self.info is not None,
            online=self.online,
            folders=self.folders.values(),
            active_transfers=self.bridge.active_jobs(),
            issues=self.window.issues.count(),
        )

    def _update_state(self) -> None:
        state = self.current_state()
        if self.info is None:
            text = "Not signed in"
        elif state is icons.TrayState.SYNCING and self.bridge.active_jobs():
            text = "Transferring files"
        elif state is icons.TrayState.ERROR and self.window.issues.count():
            text = f"{self.window.issues.count()} issues — see the Issues tab"
        elif any(f.state is FolderState.NEEDS_CONFIRMATION for f in self.folders.values()):
            text = "Waiting for you to confirm deletes"
        else:
            text = STATE_LABEL[state]
        changed = state is not self.tray.state
        self.tray.set_state(state, text)
        self.window.set_state(state, text)
        if changed:
            self.state_changed.emit(state)

    def show_window(self) -> None:
        self.window.show()
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def _palette_changed(self, *_: object) -> None:
        icons.clear_cache()
        state = self.tray.state
        self.tray.state = None
        if state is not None:
            self.tray.set_state(state, self.tray.icon.toolTip().removeprefix("FileVault — "))

    def quit(self) -> None:
        self.shutdown()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def shutdown(self) -> None:
        self._account_timer.stop()
        self._inbox_timer.stop()
        self.bridge.shutdown(wait=False)
        self.window.quitting = True
        self.window.close()
        self.tray.icon.hide()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="filevault-gui", description="The FileVault desktop app.")
    parser.add_argument("--minimized", action="store_true", help="Start in the tray only.")
    parser.add_argument("--profile", help="Sign in with this profile (default: the last one).")
    return parser.parse_args(argv)


def main(
    argv: list[str] | None = None, *, sync_factory: Callable[[], SyncPort] | None = None
) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Fractional scaling (125 %, 150 %) renders the SVG icons at their true size.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    qt_app = QApplication(sys.argv[:1])
    qt_app.setApplicationName("FileVault")
    qt_app.setOrganizationName("FileVault")
    qt_app.setDesktopFileName("filevault")
    qt_app.setWindowIcon(icons.app_icon())
    qt_app.setQuitOnLastWindowClosed(not QSystemTrayIcon.isSystemTrayAvailable())
    paths = AppPaths.from_env()
    instance = SingleInstance(str(paths.config_dir))
    if not instance.claim():
        print("FileVault is already running; brought it to the front.")
        return 0
    make_service: ServiceFactory = lambda p: FileVaultService(paths, p or args.profile)  # noqa: E731
    holder: list[FileVaultApp] = []
    if sync_factory is not None:
        sync: SyncPort = sync_factory()
    else:
        from filevault_desktop.sync_background import BackgroundSync

        # The folders of whoever is signed in, synced in the background by the facade.
        sync = BackgroundSync(lambda: holder[0].bridge.service if holder else None)
    app = FileVaultApp(paths, sync=sync, make_service=make_service)
    holder.append(app)
    instance.activated.connect(app.show_window)
    app.start(minimized=args.minimized)
    code = qt_app.exec()
    app.shutdown()
    close = getattr(sync, "close", None)
    if close is not None:
        close()
    instance.release()
    return int(code)
