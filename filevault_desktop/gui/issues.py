"""The issues list: what could not be done, why, and what the user can do about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.gui.events import Failure, Problem
from filevault_desktop.gui.icons import icon
from filevault_desktop.gui.qtutil import top_items
from filevault_desktop.gui.sync_port import SyncIssue
from filevault_desktop.transfer.events import FailureReason, TransferFailed

TRANSFER_ADVICE = {
    FailureReason.FILE_CHANGED: "The file changed while it was sent; drop it again when saved.",
    FailureReason.UNREADABLE: "Check that the file exists and that you may read it.",
    FailureReason.QUOTA: "Free up space (empty the trash or delete old versions).",
    FailureReason.CONFLICT: "Someone changed it meanwhile; refresh and try again.",
    FailureReason.AUTH: "Sign in again from the FileVault menu.",
    FailureReason.NETWORK: "Check your connection; transfers resume where they stopped.",
    FailureReason.NO_SPACE: "Free up disk space on this computer, then download again.",
    FailureReason.REFUSED: "The server refused it; see the message for the reason.",
    FailureReason.CANCELLED: "",
}
PROBLEM_ADVICE = {
    Problem.WRONG_CREDENTIALS: "Check your username and password.",
    Problem.NOT_SIGNED_IN: "Sign in again from the FileVault menu.",
    Problem.UNREACHABLE: "Check your connection (or start the local stack with 'make run').",
    Problem.NO_KEYCHAIN: "Unlock or install a keychain, or choose a keyring backend.",
    Problem.NO_PROFILE: "Pick another profile, or start the local stack with 'make run'.",
    Problem.NOT_FOUND: "It was moved or deleted meanwhile; refresh the folder.",
    Problem.CONFLICT: "Something with that name exists already; choose another name.",
    Problem.QUOTA: "Free up space (empty the trash or delete old versions).",
    Problem.REFUSED: "The server refused it; see the message for the reason.",
    Problem.SYNC_NOT_CONFIGURED: "Sync arrives with a later version of FileVault.",
    Problem.BUG: "This is a bug in FileVault; please report it with the message.",
}


@dataclass(frozen=True)
class IssueRow:
    at: datetime
    item: str
    problem: str
    advice: str


def from_failure(failure: Failure) -> IssueRow:
    return IssueRow(
        datetime.now(),
        failure.path or failure.operation,
        f"Could not {failure.operation}: {failure.message}",
        PROBLEM_ADVICE[failure.problem],
    )


def from_transfer(event: TransferFailed) -> IssueRow:
    return IssueRow(
        datetime.now(),
        event.local_path if event.direction.value == "upload" else event.remote_path,
        event.message,
        TRANSFER_ADVICE[event.reason],
    )


def from_sync(issue: SyncIssue) -> IssueRow:
    return IssueRow(datetime.now(), issue.path, issue.reason, issue.advice)


class IssuesView(QWidget):
    count_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["When", "File", "Problem", "What to do"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setWordWrap(True)
        self.tree.setAccessibleName("Issues")
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 220)
        self.empty = QLabel("No issues. Files that could not be transferred show up here.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setToolTip("Forget the issues listed here")
        self.clear_button.clicked.connect(self.clear)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(buttons)
        self._update()

    def add(self, row: IssueRow) -> None:
        item = QTreeWidgetItem([row.at.strftime("%H:%M:%S"), row.item, row.problem, row.advice])
        item.setIcon(0, icon("warning"))
        for column in range(4):
            item.setToolTip(column, f"{row.item}\n{row.problem}\n{row.advice}")
        self.tree.insertTopLevelItem(0, item)
        self._update()

    def rows(self) -> list[tuple[str, str, str]]:
        return [(item.text(1), item.text(2), item.text(3)) for item in top_items(self.tree)]

    def count(self) -> int:
        return self.tree.topLevelItemCount()

    def clear(self) -> None:
        self.tree.clear()
        self._update()

    def _update(self) -> None:
        n = self.count()
        self.tree.setVisible(n > 0)
        self.empty.setVisible(n == 0)
        self.clear_button.setEnabled(n > 0)
        self.count_changed.emit(n)
