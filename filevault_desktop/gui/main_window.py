"""The main window: files, sync folders, activity, issues and the trash; drops upload anywhere
on it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QTabWidget, QToolBar, QWidget

from filevault_desktop.gui.activity import ActivityView
from filevault_desktop.gui.browser import RemoteBrowser
from filevault_desktop.gui.events import SignedInInfo
from filevault_desktop.gui.file_drops import FileDrops
from filevault_desktop.gui.folders import FoldersView
from filevault_desktop.gui.icons import TrayState, app_icon, icon, tray_icon
from filevault_desktop.gui.issues import IssuesView
from filevault_desktop.gui.settings_dialog import quota_text
from filevault_desktop.gui.state import STATE_LABEL
from filevault_desktop.gui.trash_view import TrashView


class MainWindow(FileDrops, QMainWindow):
    upload_requested = Signal(list)  # list[Path], into the folder the browser shows
    settings_requested = Signal()
    admin_requested = Signal()
    pause_requested = Signal()
    resume_requested = Signal()

    def __init__(self, *, sync_configured: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("FileVault")
        self.setWindowIcon(app_icon())
        self.resize(960, 600)
        self.setAcceptDrops(True)
        # Set by the app when a tray icon exists: closing then hides instead of quitting.
        self.keep_running_in_tray = False
        self.quitting = False

        self.browser = RemoteBrowser(self)
        self.browser.upload_requested.connect(self.upload_requested)
        self.folders = FoldersView(sync_configured, self)
        self.activity = ActivityView(self)
        self.issues = IssuesView(self)
        self.trash = TrashView(self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.browser, icon("folder"), "Files")
        self.tabs.addTab(self.folders, icon("sync"), "Sync folders")
        self.tabs.addTab(self.activity, icon("upload"), "Activity")
        self.tabs.addTab(self.issues, icon("warning"), "Issues")
        self.tabs.addTab(self.trash, icon("trash"), "Trash")
        self.issues.count_changed.connect(self._issues_count)
        self.setCentralWidget(self.tabs)

        bar = QToolBar("Main", self)
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.upload_files_action = bar.addAction(icon("upload"), "Upload files…", self._pick_files)
        self.upload_files_action.setToolTip("Upload files into the folder shown (Ctrl+U)")
        self.upload_files_action.setShortcut("Ctrl+U")
        self.upload_folder_action = bar.addAction(
            icon("folder"), "Upload folder…", self._pick_folder
        )
        self.upload_folder_action.setToolTip("Upload a folder and everything in it")
        bar.addSeparator()
        self.pause_action = QAction(icon("pause"), "Pause syncing", self)
        self.pause_action.triggered.connect(self._toggle_pause)
        self.pause_action.setEnabled(sync_configured)
        if not sync_configured:
            self.pause_action.setToolTip("Sync is not set up in this version yet")
        bar.addAction(self.pause_action)
        self.settings_action = bar.addAction(
            icon("settings"), "Settings", self.settings_requested.emit
        )
        self.settings_action.setShortcut("Ctrl+,")
        self.admin_action = bar.addAction(icon("admin"), "Admin", self.admin_requested.emit)
        self.admin_action.setToolTip("Administration (admins group)")
        self.admin_action.setVisible(False)
        self.addToolBar(bar)
        self.paused = False

        self.state_label = QLabel(self)
        self.quota_label = QLabel(self)
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.quota_label)
        self.set_state(TrayState.OFFLINE, "Not signed in")

    # ----- state -----------------------------------------------------------------------------

    def set_account(self, info: SignedInInfo | None) -> None:
        if info is None:
            self.quota_label.setText("")
            self.admin_action.setVisible(False)
            self.setWindowTitle("FileVault")
            return
        a = info.account
        self.setWindowTitle(f"FileVault — {a.username}")
        self.quota_label.setText(f"{a.username} · {quota_text(a.used_bytes, a.quota_bytes)}")
        self.admin_action.setVisible(info.is_admin)

    def set_state(self, state: TrayState, text: str) -> None:
        self.state_label.setText(text or STATE_LABEL[state])
        self.statusBar().setToolTip(STATE_LABEL[state])
        self.setWindowIcon(tray_icon(state) if state is not TrayState.UP_TO_DATE else app_icon())

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.pause_action.setText("Resume syncing" if paused else "Pause syncing")
        self.pause_action.setIcon(icon("resume" if paused else "pause"))

    def _toggle_pause(self) -> None:
        (self.resume_requested if self.paused else self.pause_requested).emit()

    def _issues_count(self, n: int) -> None:
        self.tabs.setTabText(3, f"Issues ({n})" if n else "Issues")

    # ----- uploads ---------------------------------------------------------------------------

    def _pick_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Upload files")
        if files:
            self.upload_requested.emit([Path(f) for f in files])

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Upload a folder")
        if folder:
            self.upload_requested.emit([Path(folder)])

    def files_dropped(self, paths: list[Path]) -> None:
        self.upload_requested.emit(paths)

    # ----- closing ---------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.keep_running_in_tray and not self.quitting:
            event.ignore()
            self.hide()
            return
        super().closeEvent(event)
