"""The activity list: one row per transfer with progress, speed, ETA and cancel."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from filevault_desktop.gui import formatting
from filevault_desktop.gui.events import JobDone, JobEvent, JobQueued
from filevault_desktop.gui.icons import icon
from filevault_desktop.transfer.events import (
    Direction,
    FailureReason,
    TransferFailed,
    TransferFinished,
    TransferProgress,
    TransferStarted,
)

# Finished rows beyond this many are dropped, oldest first, so a long session stays light.
KEEP_FINISHED = 2000
ModelIndex = QModelIndex | QPersistentModelIndex


class Status(enum.Enum):
    QUEUED = "Queued"
    RUNNING = "Transferring"
    DONE = "Done"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def active(self) -> bool:
        return self in (Status.QUEUED, Status.RUNNING)


class Column(enum.IntEnum):
    NAME = 0
    PROGRESS = 1
    SPEED = 2
    ETA = 3
    STATUS = 4
    CANCEL = 5


_HEADERS = {
    Column.NAME: "File",
    Column.PROGRESS: "Progress",
    Column.SPEED: "Speed",
    Column.ETA: "Time left",
    Column.STATUS: "Status",
    Column.CANCEL: "",
}


@dataclass(frozen=True)
class Row:
    key: str  # "job:<id>" until the job's first transfer starts, then the transfer id
    job_id: int
    direction: Direction
    name: str
    detail: str  # where from / to
    status: Status
    done: int = 0
    total: int = 0
    rate: float = 0.0
    eta: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)


class ActivityModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self._where: dict[str, int] = {}

    # ----- Qt model --------------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[Column(section)]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column is Column.CANCEL:
                return "Cancel this transfer" if row.status.active else None
            return row.message or row.detail
        if role == Qt.ItemDataRole.DecorationRole:
            if column is Column.NAME:
                return icon("upload" if row.direction is Direction.UPLOAD else "download")
            if column is Column.CANCEL and row.status.active:
                return icon("cancel")
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def _text(self, row: Row, column: Column) -> str:
        if column is Column.NAME:
            return row.name
        if column is Column.PROGRESS:
            return f"{formatting.size(row.done)} of {formatting.size(row.total)}"
        if column is Column.SPEED:
            return formatting.rate(row.rate) if row.status is Status.RUNNING else ""
        if column is Column.ETA:
            return formatting.duration(row.eta) if row.status is Status.RUNNING else ""
        if column is Column.STATUS:
            return row.message if row.status is Status.FAILED and row.message else row.status.value
        return ""

    # ----- updates ---------------------------------------------------------------------------

    def row(self, i: int) -> Row:
        return self._rows[i]

    def rows(self) -> list[Row]:
        return list(self._rows)

    def find(self, key: str) -> Row | None:
        i = self._where.get(key)
        return None if i is None else self._rows[i]

    def add_job(self, queued: JobQueued) -> None:
        source = PurePath(queued.source).name or queued.source
        detail = f"to {queued.target or 'the top folder'}"
        self._append([Row(f"job:{queued.job_id}", queued.job_id, queued.direction, source,
                          detail, Status.QUEUED)])  # fmt: skip

    def apply(self, events: tuple[JobEvent, ...]) -> None:
        """Applies a batch of events with one insert and one change notification."""
        new: dict[str, Row] = {}
        changed: set[int] = set()
        gone: list[str] = []
        pending: dict[str, Row] = {}
        for item in events:
            event = item.event
            key = event.transfer_id
            current = pending.get(key) or self.find(key)
            if isinstance(event, TransferStarted):
                if current is None:
                    name = PurePath(event.remote_path).name
                    row = Row(key, item.job_id, event.direction, name, event.remote_path,
                              Status.RUNNING, event.resumed_bytes, event.total)  # fmt: skip
                    new[key] = row
                    pending[key] = row
                    gone.append(f"job:{item.job_id}")
                    continue
                updated = replace(current, status=Status.RUNNING, done=event.resumed_bytes)
            elif current is None:
                continue
            elif isinstance(event, TransferProgress):
                updated = replace(current, done=event.bytes_done, total=event.total,
                                  rate=event.rate_bps, eta=event.eta_s)  # fmt: skip
            elif isinstance(event, TransferFinished):
                updated = replace(current, status=Status.DONE, done=event.total, total=event.total,
                                  rate=0.0, eta=None)  # fmt: skip
            elif isinstance(event, TransferFailed):
                cancelled = event.reason is FailureReason.CANCELLED
                updated = replace(current, status=Status.CANCELLED if cancelled else Status.FAILED,
                                  message="" if cancelled else event.message)  # fmt: skip
            else:
                continue
            pending[key] = updated
        for key, row in pending.items():
            i = self._where.get(key)
            if i is not None:
                self._rows[i] = row
                changed.add(i)
            else:
                new[key] = row
        self._notify(changed)
        self._append(list(new.values()))
        self._remove_keys(gone)
        self._trim()

    def finish_job(self, done: JobDone) -> None:
        """A job that ended before any transfer started keeps one row saying how it ended."""
        key = f"job:{done.job_id}"
        i = self._where.get(key)
        if i is None:
            return
        row = self._rows[i]
        if done.cancelled:
            status, message = Status.CANCELLED, ""
        elif done.failed:
            status, message = Status.FAILED, done.failed[0][1]
        else:
            status, message = Status.DONE, "" if done.done else "nothing to transfer"
        self._rows[i] = replace(row, status=status, message=message)
        self._notify({i})

    def clear_finished(self) -> None:
        self.beginResetModel()
        self._rows = [r for r in self._rows if r.status.active]
        self._reindex()
        self.endResetModel()

    def active_count(self) -> int:
        return sum(1 for r in self._rows if r.status.active)

    def _notify(self, changed: set[int]) -> None:
        if changed:
            top, bottom = min(changed), max(changed)
            self.dataChanged.emit(self.index(top, 0), self.index(bottom, len(Column) - 1))

    def _append(self, rows: list[Row]) -> None:
        if not rows:
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        for offset, row in enumerate(rows):
            self._rows.append(row)
            self._where[row.key] = start + offset
        self.endInsertRows()

    def _remove_keys(self, keys: list[str]) -> None:
        for key in dict.fromkeys(keys):
            i = self._where.get(key)
            if i is None:
                continue
            self.beginRemoveRows(QModelIndex(), i, i)
            del self._rows[i]
            self._reindex()
            self.endRemoveRows()

    def _trim(self) -> None:
        finished = [r.key for r in self._rows if not r.status.active]
        excess = len(finished) - KEEP_FINISHED
        if excess > 0:
            drop = set(finished[:excess])
            self.beginResetModel()
            self._rows = [r for r in self._rows if r.key not in drop]
            self._reindex()
            self.endResetModel()

    def _reindex(self) -> None:
        self._where = {r.key: i for i, r in enumerate(self._rows)}


class ProgressDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        row = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(row, Row):
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        rect: QRect = option.rect
        bar.rect = rect.adjusted(2, 3, -2, -3)
        bar.minimum = 0
        bar.maximum = 1000
        bar.progress = round(row.fraction * 1000)
        bar.text = f"{row.fraction:.0%}"
        bar.textVisible = True
        bar.state = option.state
        style = QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class ActivityView(QWidget):
    """The activity tab: the table, and buttons that work from the keyboard as well."""

    cancel_requested = Signal(int)  # job id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ActivityModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(Column.PROGRESS, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setAccessibleName("Transfers")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((Column.PROGRESS, 150), (Column.SPEED, 90), (Column.ETA, 90),
                              (Column.STATUS, 110), (Column.CANCEL, 32)):  # fmt: skip
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, width)
        self.table.clicked.connect(self._clicked)
        self.empty = QLabel("No transfers yet. Drop files on the window to upload them.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)

        self.summary = QLabel(self)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel selected", self)
        self.cancel_button.setToolTip("Cancel the selected transfers (Delete)")
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.clear_button = QPushButton("Clear finished", self)
        self.clear_button.setToolTip("Remove finished, failed and cancelled transfers")
        self.clear_button.clicked.connect(self.model.clear_finished)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table, self.cancel_selected)

        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(buttons)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset,
                       self.model.dataChanged):  # fmt: skip
            signal.connect(self._refresh_summary)
        # Progress changes arrive ~10 times a second; the summary need not follow each one.
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(250)
        self._summary_timer.timeout.connect(self._update_summary)
        self._update_summary()

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() == Column.CANCEL:
            row = self.model.row(index.row())
            if row.status.active:
                self.cancel_requested.emit(row.job_id)

    def cancel_selected(self) -> None:
        jobs = {
            self.model.row(i.row()).job_id
            for i in self.table.selectionModel().selectedRows()
            if self.model.row(i.row()).status.active
        }
        for job_id in sorted(jobs):
            self.cancel_requested.emit(job_id)

    def _refresh_summary(self, *_: object) -> None:
        if not self._summary_timer.isActive():
            self._summary_timer.start()

    def _update_summary(self) -> None:
        rows = self.model.rowCount()
        self.table.setVisible(rows > 0)
        self.empty.setVisible(rows == 0)
        active = self.model.active_count()
        self.summary.setText(f"{active} in progress, {rows - active} finished" if rows else "")
