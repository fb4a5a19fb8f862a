"""Runs a plan: each action committed to the index only once it succeeded.

Runs of independent transfers go together: consecutive uploads of different files are sent as
one batch when the remote can (two API calls per hundred small files instead of three per
file), and consecutive downloads of different files run a few at a time. Everything else runs
one action at a time, in plan order.

A failed action never stops the others, but it does stop the later actions of its own group
(one logical file). Outcomes other than DONE mean "plan again": the engine rescans, drains the
change feed and replans, which is how a server ``ConflictError`` (someone else wrote first)
turns into a conflicted copy instead of an overwrite.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from filevault_desktop.errors import ConflictError, FileVaultError, NetworkError, NotFoundError
from filevault_desktop.sync.errors import LocalChanged
from filevault_desktop.sync.index import SyncIndex
from filevault_desktop.sync.localfs import LocalFs
from filevault_desktop.sync.models import (
    Action,
    ActionResult,
    BaseEntry,
    CommitBase,
    ConflictCopy,
    Download,
    ForgetBase,
    LocalMove,
    LocalTrash,
    Outcome,
    Plan,
    RemoteEntry,
    RemoteMove,
    RemoteTrash,
    Upload,
)
from filevault_desktop.sync.ports import RemotePort
from filevault_desktop.sync.remote_root import RemoteRoot
from filevault_desktop.sync.scanner import sha256_file
from filevault_desktop.transfer.errors import FileChangedError


class Executor:
    def __init__(
        self,
        fs: LocalFs,
        remote: RemotePort,
        index: SyncIndex,
        root: RemoteRoot,
        *,
        on_result: Callable[[ActionResult], None] | None = None,
    ) -> None:
        self.fs = fs
        self.remote = remote
        self.index = index
        self.root = root
        self._on_result = on_result or (lambda result: None)

    def run(self, plan: Plan, cancel: threading.Event | None = None) -> tuple[ActionResult, ...]:
        failed_groups: set[int] = set()
        results: list[ActionResult] = []
        actions = plan.actions
        i = 0
        while i < len(actions):
            if cancel is not None and cancel.is_set():
                break
            end = _run_end(actions, i, failed_groups)
            if end - i >= 2:
                chunk = actions[i:end]
                done = (
                    self._upload_many(chunk)  # type: ignore[arg-type]
                    if isinstance(chunk[0], Upload)
                    else self._download_many(chunk)  # type: ignore[arg-type]
                )
            else:
                action = actions[i]
                end = i + 1
                done = [
                    ActionResult(action, Outcome.SKIPPED)
                    if action.group in failed_groups
                    else self._run_one(action)
                ]
            for result in done:
                if result.outcome not in (Outcome.DONE, Outcome.SKIPPED):
                    failed_groups.add(result.action.group)
                results.append(result)
                self._on_result(result)
            i = end
        return tuple(results)

    def _run_one(self, action: Action) -> ActionResult:
        try:
            sent = self._apply(action)
        except (FileVaultError, OSError) as exc:
            return _failure(action, exc)
        return ActionResult(action, Outcome.DONE, bytes=sent)

    def _upload_many(self, chunk: list[Upload]) -> list[ActionResult]:
        batch = getattr(self.remote, "upload_many", None)
        if batch is None:
            return [self._run_one(a) for a in chunk]
        results: dict[int, ActionResult] = {}
        ready: list[tuple[int, Upload]] = []
        for n, a in enumerate(chunk):
            if not a.fp.same_file(self.fs.stat(a.local_path)):
                results[n] = _failure(a, LocalChanged(f"'{a.local_path}' changed since scanned"))
                continue
            ready.append((n, a))
        answers = batch(
            [
                (self.fs.abs(a.local_path), self.root.full(a.remote_path), a.expected_version)
                for _, a in ready
            ]
        )
        for (n, a), answer in zip(ready, answers, strict=True):
            if isinstance(answer, RemoteEntry):
                results[n] = ActionResult(a, Outcome.DONE, bytes=self._commit_upload(a, answer))
            else:
                results[n] = _failure(a, answer)
        return [results[n] for n in range(len(chunk))]

    def _download_many(self, chunk: list[Download]) -> list[ActionResult]:
        results = self._download_batched(chunk)
        rest = [n for n in range(len(chunk)) if n not in results]
        with ThreadPoolExecutor(_PARALLEL_DOWNLOADS, thread_name_prefix="sync-download") as pool:
            done = pool.map(self._run_one, [chunk[n] for n in rest])
            results.update(zip(rest, done, strict=True))
        return [results[n] for n in range(len(chunk))]

    def _download_batched(self, chunk: list[Download]) -> dict[int, ActionResult]:
        """What the remote's batch download (small files, see ``ApiRemote.download_many``)
        settled, by index; the rest go one by one."""
        batch = getattr(self.remote, "download_many", None)
        if batch is None:
            return {}
        results: dict[int, ActionResult] = {}
        ready: list[tuple[int, Download, Path]] = []
        try:
            for n, a in enumerate(chunk):
                try:
                    self.fs.check_target(a.local_path, a.replace)  # before spending the transfer
                    ready.append((n, a, self.fs.temp_for(a.local_path)))
                except (FileVaultError, OSError) as exc:
                    results[n] = _failure(a, exc)
            try:
                answers = batch(
                    [(a.file_id, self.root.full(a.remote_path), a.size, t) for _, a, t in ready]
                )
            except (FileVaultError, OSError) as exc:
                results.update((n, _failure(a, exc)) for n, a, _ in ready)
                return results
            for (n, a, temp), answer in zip(ready, answers, strict=True):
                if isinstance(answer, RemoteEntry):
                    try:
                        results[n] = ActionResult(
                            a, Outcome.DONE, bytes=self._landed(a, temp, answer)
                        )
                    except (FileVaultError, OSError) as exc:
                        results[n] = _failure(a, exc)
                elif answer is not None:
                    results[n] = _failure(a, answer)
        finally:
            for _, _, temp in ready:
                with contextlib.suppress(OSError):
                    temp.unlink()
        return results

    def _apply(self, action: Action) -> int:
        """Performs ``action``; returns the bytes it transferred."""
        match action:
            case Upload():
                return self._upload(action)
            case Download():
                return self._download(action)
            case LocalMove():
                self.fs.move(action.src, action.dst, action.fp)
            case RemoteMove():
                moved = self.remote.move(
                    action.file_id, self.root.full(action.dst), action.expected_version
                )
                self.index.record(put_remote=self._mirrored(moved))
            case LocalTrash():
                self.fs.trash(action.local_path, action.fp)
                self.index.record(forget=[action.file_id])
            case RemoteTrash():
                if self.fs.stat(action.local_path) is not None:
                    raise LocalChanged(f"'{action.local_path}' is back")
                with contextlib.suppress(NotFoundError):  # already gone is what we wanted
                    self.remote.trash(action.file_id, action.expected_version)
                self.index.record(forget=[action.file_id], drop_remote=action.file_id)
            case ConflictCopy():
                # forget first: a crash after the rename but before a later commit would
                # otherwise make the renamed copy look like a user's move of the tracked file
                if not action.fp.same_file(self.fs.stat(action.src)):
                    raise LocalChanged(f"'{action.src}' changed since it was scanned")
                if action.forget_file_id is not None:
                    self.index.record(forget=[action.forget_file_id])
                self.fs.move(action.src, action.dst, action.fp)
            case CommitBase():
                self.index.record(put_base=action.entry)
            case ForgetBase():
                self.index.record(forget=[action.file_id])
        return 0

    def _upload(self, a: Upload) -> int:
        if not a.fp.same_file(self.fs.stat(a.local_path)):
            raise LocalChanged(f"'{a.local_path}' changed since it was scanned")
        entry = self.remote.upload(
            self.fs.abs(a.local_path), self.root.full(a.remote_path), a.expected_version
        )
        return self._commit_upload(a, entry)

    def _commit_upload(self, a: Upload, entry: RemoteEntry) -> int:
        # the server's hash is of the bytes it got, which may be newer than the scan's: then
        # the next scan sees a fingerprint change, hashes again, and uploads again if needed
        base = BaseEntry(
            entry.file_id,
            a.local_path,
            self.root.rel(entry.path) or a.remote_path,
            entry.version_id,
            entry.sha256 or a.sha256,
            a.fp,
        )
        forget = [a.replaces_file_id] if a.replaces_file_id else []
        self.index.record(put_base=base, forget=forget, put_remote=self._mirrored(entry))
        return entry.size

    def _mirrored(self, entry: RemoteEntry) -> RemoteEntry:
        # Its seq moves the cursor past its change (SyncIndex.record) only if reading that
        # change would leave this very row: not when it took the file out of this folder.
        if entry.change_seq is not None and self.root.rel(entry.path) is None:
            return replace(entry, change_seq=None)
        return entry

    def _download(self, a: Download) -> int:
        self.fs.check_target(a.local_path, a.replace)  # before spending the transfer
        temp = self.fs.temp_for(a.local_path)
        try:
            return self._landed(a, temp, self.remote.download(a.file_id, temp))
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()

    def _landed(self, a: Download, temp: Path, got: RemoteEntry) -> int:
        """Puts the downloaded ``temp`` in place if it is the version planned; records it."""
        sha = sha256_file(temp)
        if got.version_id != a.version_id or (a.sha256 is not None and sha != a.sha256):
            raise LocalChanged(f"'{a.remote_path}' changed on the server meanwhile")
        fp = self.fs.place(temp, a.local_path, a.replace)
        got = replace(got, sha256=got.sha256 or sha)
        base = BaseEntry(a.file_id, a.local_path, a.remote_path, got.version_id, sha, fp)
        self.index.record(put_base=base, put_remote=self._mirrored(got))
        return got.size


_PARALLEL_DOWNLOADS = 4
_MAX_RUN = 100  # the API's batch size


def _run_end(actions: tuple[Action, ...], start: int, failed: set[int]) -> int:
    """End of the run of same-kind transfers (uploads, or downloads) of distinct, healthy
    groups starting at ``start``; ``start + 1`` when there is no such run."""
    first = actions[start]
    if not isinstance(first, Upload | Download) or first.group in failed:
        return start + 1
    groups = {first.group}
    end = start + 1
    while end < len(actions) and end - start < _MAX_RUN:
        nxt = actions[end]
        if type(nxt) is not type(first) or nxt.group in groups or nxt.group in failed:
            break
        groups.add(nxt.group)
        end += 1
    return end


def _failure(action: Action, exc: BaseException) -> ActionResult:
    """The outcome of an action that raised: what the engine should do about it next."""
    if isinstance(exc, LocalChanged | FileChangedError):
        return ActionResult(action, Outcome.DEFERRED, exc.message)
    if isinstance(exc, ConflictError):
        return ActionResult(action, Outcome.CONFLICT, exc.message)
    if isinstance(exc, NotFoundError):
        return ActionResult(action, Outcome.GONE, exc.message)
    if isinstance(exc, NetworkError):
        return ActionResult(action, Outcome.RETRY, exc.message)
    if isinstance(exc, FileVaultError):
        return ActionResult(action, Outcome.FAILED, exc.message)
    if isinstance(exc, OSError):  # unreadable file, refused name, full disk: report, go on
        return ActionResult(action, Outcome.FAILED, f"{exc.strerror or exc}")
    raise exc
