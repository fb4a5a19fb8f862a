"""The Trash tab against the real local stack: listing, restore (in place and under another
path), delete forever and empty the trash with their confirmations, and the error paths."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from filevault_desktop.gui.app import FileVaultApp
from filevault_desktop.gui.events import Failure, Problem, RemoteChanged, TrashListing
from filevault_desktop.gui.trash_view import (
    DELETED,
    EMPTY_TEXT,
    LOCATION,
    NAME,
    SIGNED_OUT_TEXT,
    SIZE,
    TrashView,
)
from filevault_desktop.service import FileVaultService
from tests.gui.conftest import SIGNAL_TIMEOUT_MS, AppFactory, User, sign_in

SIZE_BYTES = 10


def _signed_in(
    qtbot: QtBot, make_app: AppFactory, user: User
) -> tuple[FileVaultApp, FileVaultService]:
    app = make_app()
    sign_in(qtbot, app, user)
    service = app.bridge.service
    assert service is not None
    return app, service


def _trash(service: FileVaultService, tmp_path: Path, *paths: str) -> None:
    """Uploads a small file at each path, then moves it to the trash."""
    for path in paths:
        local = tmp_path / "src" / path
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(b"x" * SIZE_BYTES)
        [outcome] = service.upload([local], path.rpartition("/")[0])
        assert outcome.file is not None, outcome.error
        service.remove(path)


def _open_trash(qtbot: QtBot, app: FileVaultApp) -> TrashView:
    view = app.window.trash
    app.window.show()
    with qtbot.waitSignal(app.bridge.trash_ready, timeout=SIGNAL_TIMEOUT_MS):
        app.window.tabs.setCurrentWidget(view)  # the tab loads the trash when shown
    return view


def _paths(view: TrashView) -> set[str]:
    return {f.path for f in view.files()}


def _trashed(service: FileVaultService) -> set[str]:
    return {f.path for f in service.trash()}


def _button(box: QMessageBox, text: str) -> QAbstractButton:
    return next(b for b in box.buttons() if b.text() == text)


def _row(view: TrashView, path: str) -> QTreeWidgetItem:
    items = (view.tree.topLevelItem(i) for i in range(view.tree.topLevelItemCount()))
    return next(
        i for i in items if i is not None and i.data(NAME, Qt.ItemDataRole.UserRole).path == path
    )


def test_lists_the_trash_and_restores_files(
    qtbot: QtBot, make_app: AppFactory, user: User, tmp_path: Path
) -> None:
    app, service = _signed_in(qtbot, make_app, user)
    _trash(service, tmp_path, "docs/a.txt", "docs/b.txt", "c.txt")
    view = _open_trash(qtbot, app)

    assert _paths(view) == {"docs/a.txt", "docs/b.txt", "c.txt"}
    assert view.pages.currentWidget() is view.tree
    row = _row(view, "c.txt")
    assert (row.text(NAME), row.text(LOCATION), row.text(SIZE)) == ("c.txt", "Files", "10 B")
    assert row.text(DELETED)  # the local time it was trashed
    assert _row(view, "docs/a.txt").text(LOCATION) == "Files › docs"  # noqa: RUF001
    assert view.summary.text() == "3 files, 30 B"
    # Nothing selected: nothing to restore or delete; the trash can be emptied.
    assert not view.restore_action.isEnabled() and not view.purge_action.isEnabled()
    assert view.empty_action.isEnabled()

    view.select("docs/a.txt")
    assert view.restore_action.isEnabled() and view.restore_to_action.isEnabled()
    stale: list[RemoteChanged] = []
    app.bridge.remote_changed.connect(stale.append)  # the Files tab reloads such a folder
    with qtbot.waitSignals(
        [app.bridge.trash_changed, app.bridge.trash_ready], timeout=SIGNAL_TIMEOUT_MS
    ):
        view.restore_button.click()
        assert view.busy and not view.restore_action.isEnabled()
    assert [c.folder for c in stale] == ["docs"]
    assert view.status.text() == "Restored docs/a.txt."
    assert _paths(view) == {"docs/b.txt", "c.txt"}
    assert "docs/a.txt" in {e.path for e in service.listing("docs")}

    # Several at once.
    view.select("docs/b.txt", "c.txt")
    assert not view.restore_to_action.isEnabled()  # restore to… takes one file
    with qtbot.waitSignal(app.bridge.trash_ready, timeout=SIGNAL_TIMEOUT_MS):
        view.restore_action.trigger()
    assert view.status.text() == "Restored 2 files."
    assert view.message.text() == EMPTY_TEXT and view.pages.currentIndex() == 0
    assert not view.empty_action.isEnabled()
    assert {"docs/b.txt", "c.txt"} <= {e.path for e in service.listing("", recursive=True)}

    # Signing out forgets the account's trash.
    with qtbot.waitSignal(app.bridge.signed_out, timeout=SIGNAL_TIMEOUT_MS):
        app.sign_out()
    assert view.files() == [] and view.message.text() == SIGNED_OUT_TEXT


def test_delete_forever_asks_first_naming_the_files(
    qtbot: QtBot, make_app: AppFactory, user: User, tmp_path: Path
) -> None:
    app, service = _signed_in(qtbot, make_app, user)
    _trash(service, tmp_path, "x.txt", "y.txt", "z.txt")
    view = _open_trash(qtbot, app)

    view.select("x.txt", "y.txt")
    view.purge_button.click()
    box = view.confirm_box
    assert box is not None and box.isVisible()
    assert "these 2 files for good" in box.text()
    assert "x.txt" in box.text() and "y.txt" in box.text() and "z.txt" not in box.text()
    # Cancel (the default button) keeps them.
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert view.confirm_box is None and not view.busy
    assert _trashed(service) == {"x.txt", "y.txt", "z.txt"}

    view.purge_button.click()
    box = view.confirm_box
    assert box is not None
    with qtbot.waitSignals(
        [app.bridge.trash_ready, app.bridge.account_changed], timeout=SIGNAL_TIMEOUT_MS
    ):
        _button(box, "Delete forever").click()
    assert view.status.text() == "Deleted 2 files for good, 20 B freed."
    assert _paths(view) == {"z.txt"}
    assert _trashed(service) == {"z.txt"}
    assert not view.error_bar.isVisibleTo(view)

    # The Delete key asks too.
    view.select("z.txt")
    app.window.activateWindow()
    qtbot.waitUntil(app.window.isActiveWindow, timeout=SIGNAL_TIMEOUT_MS)
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_Delete)
    box = view.confirm_box
    assert box is not None and "this file for good" in box.text() and "z.txt" in box.text()
    box.reject()
    assert view.confirm_box is None and _trashed(service) == {"z.txt"}


def test_empty_trash_asks_with_the_count(
    qtbot: QtBot, make_app: AppFactory, user: User, tmp_path: Path
) -> None:
    app, service = _signed_in(qtbot, make_app, user)
    _trash(service, tmp_path, "one.txt", "two/two.txt")
    view = _open_trash(qtbot, app)

    view.empty_button.click()
    box = view.confirm_box
    assert box is not None and "all 2 files in the trash" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert _trashed(service) == {"one.txt", "two/two.txt"} and len(view.files()) == 2

    view.empty_button.click()
    box = view.confirm_box
    assert box is not None
    with qtbot.waitSignal(app.bridge.trash_ready, timeout=SIGNAL_TIMEOUT_MS):
        _button(box, "Empty trash").click()
    assert view.status.text() == "Emptied the trash: 2 files deleted for good, 20 B freed."
    assert view.files() == [] and view.message.text() == EMPTY_TEXT
    assert not view.empty_action.isEnabled() and view.ask_empty() is None
    assert _trashed(service) == set()


def test_a_file_restored_elsewhere_meanwhile_is_reported_and_the_list_refreshed(
    qtbot: QtBot, make_app: AppFactory, user: User, tmp_path: Path
) -> None:
    app, service = _signed_in(qtbot, make_app, user)
    _trash(service, tmp_path, "gone.txt", "kept.txt", "other.txt")
    view = _open_trash(qtbot, app)
    service.restore_from_trash("gone.txt")  # another device got there first

    view.select("gone.txt")
    with qtbot.waitSignal(app.bridge.trash_ready, timeout=SIGNAL_TIMEOUT_MS):
        view.restore_button.click()
    assert view.error_bar.isVisibleTo(view)
    assert view.error.text() == (
        "Could not restore gone.txt: it is no longer in the trash (restored or deleted)."
    )
    assert view.status.text() == ""
    assert _paths(view) == {"kept.txt", "other.txt"}

    # Deleting for good: the others go, the one no longer in the trash is reported.
    service.restore_from_trash("other.txt")
    view.select("kept.txt", "other.txt")
    view.purge_button.click()
    box = view.confirm_box
    assert box is not None
    with qtbot.waitSignal(app.bridge.trash_ready, timeout=SIGNAL_TIMEOUT_MS):
        _button(box, "Delete forever").click()
    assert view.status.text() == "Deleted kept.txt for good, 10 B freed."
    assert view.error.text() == (
        "Could not delete forever other.txt: it is no longer in the trash (restored or deleted)."
    )
    assert view.files() == [] and _trashed(service) == set()
    assert {"gone.txt", "other.txt"} <= {e.path for e in service.listing("")}


def test_restore_to_another_path_when_the_old_one_is_taken(
    qtbot: QtBot, make_app: AppFactory, user: User, tmp_path: Path
) -> None:
    app, service = _signed_in(qtbot, make_app, user)
    _trash(service, tmp_path, "notes/plan.txt")
    newer = tmp_path / "plan.txt"
    newer.write_text("the new plan")
    service.upload([newer], "notes")  # a new file took the path meanwhile
    view = _open_trash(qtbot, app)

    view.select("notes/plan.txt")
    with qtbot.waitSignal(app.bridge.trash_ready, timeout=SIGNAL_TIMEOUT_MS):
        view.restore_button.click()
    assert "Could not restore notes/plan.txt" in view.error.text()
    assert "taken" in view.error.text()
    assert _paths(view) == {"notes/plan.txt"}

    dialog = view.ask_restore_to()
    assert dialog is not None and dialog.textValue() == "notes/plan.txt"
    dialog.setTextValue("/notes/plan (old).txt")
    with qtbot.waitSignal(app.bridge.trash_ready, timeout=SIGNAL_TIMEOUT_MS):
        dialog.accept()
    assert view.status.text() == "Restored notes/plan (old).txt."
    assert not view.error_bar.isVisibleTo(view)
    assert view.files() == []
    assert service.find("notes/plan (old).txt").size == SIZE_BYTES
    assert service.find("notes/plan.txt").size == len("the new plan")


def test_loading_empty_and_error_states(qtbot: QtBot) -> None:
    view = TrashView()
    qtbot.addWidget(view)
    assert view.message.text() == SIGNED_OUT_TEXT and view.retry.isHidden()
    with qtbot.waitSignal(view.refresh_requested, timeout=1000):
        view.refresh()
    assert view.message.text() == "Loading the trash…"

    view.show_error(Failure("list the trash", Problem.UNREACHABLE, "could not reach the server"))
    assert view.pages.currentIndex() == 0 and not view.retry.isHidden()
    assert view.message.text() == "Could not load the trash: could not reach the server."
    with qtbot.waitSignal(view.refresh_requested, timeout=1000):
        view.retry.click()

    view.show_trash(TrashListing((), seq=5))
    assert view.message.text() == EMPTY_TEXT and view.retry.isHidden()
    assert not view.empty_action.isEnabled() and view.ask_purge() is None
    view.show_trash(TrashListing((), seq=4))  # older than the one shown: ignored
    # Once loaded, a failed refresh keeps the list and says why above it.
    view.show_error(Failure("list the trash", Problem.UNREACHABLE, "could not reach the server"))
    assert view.message.text() == EMPTY_TEXT
    assert view.error.text() == "Could not list the trash: could not reach the server."
    view.show_error(Failure("list the trash", Problem.NOT_SIGNED_IN, "sign in to continue"))
    assert view.message.text() == SIGNED_OUT_TEXT and not view.loaded
