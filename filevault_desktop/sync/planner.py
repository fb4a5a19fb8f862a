"""The planner: a pure function from the three trees to an ordered list of actions.

It never touches the disk or the network, so every hard case (moves on both sides, conflicts,
case and Unicode variants, mass deletes) is a plain unit test. Rules, in order of importance:

* never lose content: a file changed on one side is never deleted or overwritten because of
  the other side; when both changed, both are kept (a conflicted copy);
* the server owns a name: when a local-only file and a remote file want the same path, the
  local one is renamed to a conflicted copy;
* moves are moves: a file found under a new path (same ``file_id`` remotely; same inode, same
  spelling modulo case/Unicode, or the same unique hash locally) is renamed, not re-sent;
* identical content is adopted without a transfer (initial sync, crash recovery);
* deletes go to a trash, and more than ``mass_delete_threshold`` of them wait for consent.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from filevault_desktop.sync.models import (
    Action,
    BaseEntry,
    CommitBase,
    ConflictCopy,
    Download,
    Fingerprint,
    ForgetBase,
    Issue,
    IssueKind,
    LocalFile,
    LocalMove,
    LocalTrash,
    LocalTree,
    PathRules,
    Plan,
    RemoteEntry,
    RemoteMove,
    RemoteTrash,
    Upload,
    Verdict,
)


@dataclass(frozen=True)
class PlanOptions:
    now: datetime
    device: str = "this device"
    rules: PathRules = field(default_factory=PathRules)
    mass_delete_threshold: int = 100
    allow_mass_delete: bool = False
    # ignored names and excluded (selective sync) folders, applied to remote and base paths;
    # the scanner has already applied it to local ones
    is_ignored: Callable[[str], bool] = lambda path: False


def conflict_name(path: str, device: str, now: datetime, taken: Callable[[str], bool]) -> str:
    """``dir/name (conflicted copy <device> <YYYY-MM-DD HHMMSS>).ext``, unique under ``taken``."""
    folder, name = posixpath.split(path)
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    label = f"conflicted copy {device} {now:%Y-%m-%d %H%M%S}"
    n = 1
    while True:
        suffix = f" {n}" if n > 1 else ""
        candidate = posixpath.join(folder, f"{stem} ({label}{suffix}){ext}")
        if not taken(candidate):
            return candidate
        n += 1


@dataclass
class _Item:
    group: int
    base: BaseEntry | None
    local: LocalFile | None
    remote: RemoteEntry | None


@dataclass
class _Decision:
    final: str | None  # local path the file ends at; None when it is deleted
    remote_owned: bool  # the remote file already sits at ``final`` (wins a name clash)
    actions: list[Action]


_PHASE = {
    ConflictCopy: 0,
    RemoteMove: 1,
    LocalMove: 1,
    RemoteTrash: 2,
    LocalTrash: 2,
    CommitBase: 2,
    ForgetBase: 2,
    Download: 3,
    Upload: 4,
}


class _Planner:
    def __init__(
        self,
        local: LocalTree,
        remote: Iterable[RemoteEntry],
        base: Iterable[BaseEntry],
        options: PlanOptions,
    ) -> None:
        self.o = options
        self.key = options.rules.key
        self.issues: list[Issue] = []
        unknown = {self.key(p) for p in local.unknown}

        def skip(path: str) -> bool:
            if options.is_ignored(path):
                return True
            key = self.key(path)
            return bool(unknown) and any(
                key == u or key.startswith(u + "/") or u == "" for u in unknown
            )

        self.base = [b for b in base if not skip(b.remote_path) and not skip(b.local_path)]
        base_ids = {b.file_id for b in self.base}
        # strictly by path: a file moved into an excluded folder is gone as far as we know
        self.remote = self._unclash_remote([r for r in remote if not skip(r.path)], base_ids)
        self.local_files = self._unclash_local(local.files, {b.local_path for b in self.base})
        self.local_dirs = {self.key(d) for d in local.dirs}
        self.taken: set[str] = {self.key(p) for p in self.local_files}
        self.taken.update(self.key(r.path) for r in self.remote)

    # ---- name clashes on one side (NFC/NFD twins, or case twins on a case-insensitive FS) -----

    def _unclash_remote(self, remote: list[RemoteEntry], base_ids: set[str]) -> list[RemoteEntry]:
        groups: dict[str, list[RemoteEntry]] = defaultdict(list)
        for r in remote:
            groups[self.key(r.path)].append(r)
        kept = []
        for members in groups.values():
            members.sort(key=lambda r: (r.file_id not in base_ids, r.path, r.file_id))
            kept.append(members[0])
            for r in members[1:]:
                self.issues.append(
                    Issue(IssueKind.NAME_CLASH, r.path, f"same name as '{members[0].path}' here")
                )
        return kept

    def _unclash_local(
        self, files: dict[str, LocalFile], base_paths: set[str]
    ) -> dict[str, LocalFile]:
        groups: dict[str, list[LocalFile]] = defaultdict(list)
        for f in files.values():
            groups[self.key(f.path)].append(f)
        kept = {}
        for members in groups.values():
            members.sort(key=lambda f: (f.path not in base_paths, f.path))
            kept[members[0].path] = members[0]
            for f in members[1:]:
                self.issues.append(
                    Issue(IssueKind.NAME_CLASH, f.path, f"same name as '{members[0].path}'")
                )
        return kept

    # ---- matching the three trees into items --------------------------------------------------

    def _items(self) -> list[_Item]:
        remote_by_id = {r.file_id: r for r in self.remote}
        matched: dict[str, LocalFile] = {}  # file_id -> local file
        claimed: set[str] = set()

        def claim(b: BaseEntry, path: str) -> None:
            matched[b.file_id] = self.local_files[path]
            claimed.add(path)

        for b in self.base:  # 1. same path
            if b.local_path in self.local_files:
                claim(b, b.local_path)
        by_key = {self.key(p): p for p in self.local_files}
        for b in self.base:  # 2. same name modulo case / Unicode spelling
            p = by_key.get(self.key(b.local_path))
            if b.file_id not in matched and p is not None and p not in claimed:
                claim(b, p)
        by_inode = _unique(
            (f.fp.inode, f.path) for f in self.local_files.values() if f.path not in claimed
        )
        for b in self.base:  # 3. same inode: a local rename or move (maybe edited too)
            p = by_inode.get(b.fp.inode)
            if b.file_id not in matched and p is not None and p not in claimed:
                # a freed inode is soon reused by an unrelated new file: an edited file only
                # counts as moved when it kept its name (its folder was moved or renamed)
                f = self.local_files[p]
                if f.sha256 == b.sha256 or self.key(_name(p)) == self.key(_name(b.local_path)):
                    claim(b, p)
        by_hash = _unique(
            (f.sha256, f.path) for f in self.local_files.values() if f.path not in claimed
        )
        orphan_hashes = _unique(
            (b.sha256, b.file_id) for b in self.base if b.file_id not in matched and b.sha256
        )
        for sha, file_id in orphan_hashes.items():  # 4. same unique content (copy + delete)
            p = by_hash.get(sha)
            if p is not None and p not in claimed:
                claim(next(b for b in self.base if b.file_id == file_id), p)

        items = [
            _Item(0, b, matched.get(b.file_id), remote_by_id.get(b.file_id)) for b in self.base
        ]
        base_ids = {b.file_id for b in self.base}
        new_remote = {self.key(r.path): r for r in self.remote if r.file_id not in base_ids}
        for path in sorted(self.local_files):
            if path not in claimed:
                items.append(
                    _Item(0, None, self.local_files[path], new_remote.pop(self.key(path), None))
                )
        items.extend(_Item(0, None, None, r) for r in sorted(new_remote.values(), key=_path))
        for n, item in enumerate(items):
            item.group = n
        return items

    # ---- what to do with one file -------------------------------------------------------------

    def _decide(self, item: _Item) -> _Decision:
        b, lf, r, g = item.base, item.local, item.remote, item.group
        if b is None:
            if lf is not None and r is not None:
                if lf.sha256 == r.sha256:
                    entry = BaseEntry(r.file_id, lf.path, r.path, r.version_id, lf.sha256, lf.fp)
                    return _Decision(lf.path, True, [CommitBase(g, entry)])
                return self._conflict(item, lf, r, r.path, forget=None)
            if lf is not None:
                return _Decision(lf.path, False, [_upload(g, lf, lf.path, None)])
            assert r is not None
            return _Decision(r.path, True, [_download(g, r, r.path, None)])

        same = self.o.rules.same_spelling
        l_moved = lf is not None and not same(lf.path, b.local_path)
        r_moved = r is not None and not same(r.path, b.remote_path)
        l_changed = lf is not None and lf.sha256 != b.sha256
        r_changed = r is not None and r.version_id != b.version_id and r.sha256 != b.sha256

        if lf is None and r is None:
            return _Decision(None, False, [ForgetBase(g, b.file_id)])
        if lf is None:
            assert r is not None
            if r_changed or r_moved:  # edit (or move) vs. delete: keep the edit
                return _Decision(r.path, True, [_download(g, r, r.path, None)])
            return _Decision(
                None, False, [RemoteTrash(g, b.file_id, r.path, b.local_path, r.version_id)]
            )
        if r is None:
            if l_changed or l_moved:
                return _Decision(lf.path, False, [_upload(g, lf, lf.path, None, b.file_id)])
            return _Decision(None, False, [LocalTrash(g, b.file_id, lf.path, lf.fp)])

        if l_changed and r_changed and lf.sha256 != r.sha256:
            if r_moved or not l_moved:
                return self._conflict(item, lf, r, r.path, forget=b.file_id)
            # local move wins the name (the remote did not move); then resolve the content
            move = RemoteMove(g, b.file_id, r.path, lf.path, r.version_id)
            moved = replace(r, path=lf.path)
            decision = self._conflict(item, lf, moved, lf.path, forget=b.file_id)
            return _Decision(decision.final, False, [move, *decision.actions])

        actions: list[Action] = []
        if r_moved:  # remote wins when both moved
            final, remote_path, owned = r.path, r.path, True
            if not same(lf.path, r.path):
                actions.append(LocalMove(g, b.file_id, lf.path, r.path, lf.fp))
        elif l_moved:
            final, remote_path, owned = lf.path, lf.path, False
            actions.append(RemoteMove(g, b.file_id, r.path, lf.path, r.version_id))
        else:
            final, remote_path, owned = lf.path, r.path, True
        placed = replace(lf, path=final)
        if l_changed and not (r_changed and lf.sha256 == r.sha256):
            expected = r.version_id
            actions.append(_upload(g, placed, remote_path, expected))
        elif r_changed and lf.sha256 != r.sha256:
            actions.append(_download(g, replace(r, path=remote_path), final, lf.fp))
        else:
            entry = BaseEntry(b.file_id, final, remote_path, r.version_id, lf.sha256, lf.fp)
            if actions or entry != b:
                actions.append(CommitBase(g, entry))
        return _Decision(final, owned, actions)

    def _conflict(
        self, item: _Item, lf: LocalFile, r: RemoteEntry, final: str, forget: str | None
    ) -> _Decision:
        """Both sides changed: the local version steps aside, the remote one takes the name."""
        g = item.group
        copy = self._copy_name(final)
        return _Decision(
            final,
            True,
            [
                ConflictCopy(g, lf.path, copy, lf.fp, forget),
                _download(g, r, final, None),
                _upload(g, replace(lf, path=copy), copy, None),
            ],
        )

    def _copy_name(self, path: str) -> str:
        name = conflict_name(path, self.o.device, self.o.now, lambda p: self.key(p) in self.taken)
        self.taken.add(self.key(name))
        return name

    # ---- the whole plan -----------------------------------------------------------------------

    def plan(self) -> Plan:
        items = self._items()
        decisions = {item.group: self._decide(item) for item in items}
        self._resolve_name_clashes(items, decisions)
        actions = [a for d in decisions.values() for a in d.actions]
        actions.sort(key=lambda a: (_PHASE[type(a)], a.group))
        deletes = sum(isinstance(a, LocalTrash | RemoteTrash) for a in actions)
        if deletes > self.o.mass_delete_threshold and not self.o.allow_mass_delete:
            held = tuple(a for a in actions if isinstance(a, LocalTrash | RemoteTrash))
            actions = [a for a in actions if not isinstance(a, LocalTrash | RemoteTrash)]
            return Plan(tuple(actions), Verdict.MASS_DELETE, deletes, tuple(self.issues), held)
        return Plan(tuple(actions), Verdict.OK, 0, tuple(self.issues))

    def _resolve_name_clashes(self, items: list[_Item], decisions: dict[int, _Decision]) -> None:
        """Two files ending at one name (or a file where a folder must be): the local one moves
        aside to a conflicted copy, the one the server already has keeps the name."""
        by_final: dict[str, list[int]] = defaultdict(list)
        for g, d in decisions.items():
            if d.final is not None:
                by_final[self.key(d.final)].append(g)
        remote_dirs = {
            self.key(parent)
            for g, d in decisions.items()
            if d.final is not None and d.remote_owned
            for parent in _parents(d.final)
        }
        for item in items:
            d = decisions[item.group]
            if d.final is None or item.local is None or d.remote_owned:
                continue
            key = self.key(d.final)
            owners = [g for g in by_final[key] if decisions[g].remote_owned]
            if not owners and key not in remote_dirs:
                continue
            # this file's local copy sits at the contested name: rename it and plan it again
            copy = self._copy_name(item.local.path)
            moved = _Item(item.group, item.base, replace(item.local, path=copy), item.remote)
            again = self._decide(moved)
            step = ConflictCopy(item.group, item.local.path, copy, item.local.fp)
            decisions[item.group] = _Decision(again.final, False, [step, *again.actions])
        # A remote file whose name is a local folder that keeps content cannot come down yet
        # (an emptied folder is removed by the executor).
        occupied = {
            self.key(parent)
            for d in decisions.values()
            if d.final is not None
            for parent in _parents(d.final)
        }
        for item in items:
            d = decisions[item.group]
            if d.final is None or self.key(d.final) not in occupied:
                continue
            if self.key(d.final) in self.local_dirs and any(
                isinstance(a, Download) for a in d.actions
            ):
                self.issues.append(
                    Issue(IssueKind.NAME_CLASH, d.final, "a local folder has this name")
                )
                decisions[item.group] = _Decision(None, False, [])


def _upload(
    g: int, lf: LocalFile, remote_path: str, expected: str | None, replaces: str | None = None
) -> Upload:
    return Upload(g, lf.path, remote_path, expected, lf.fp, lf.sha256, replaces)


def _download(g: int, r: RemoteEntry, local_path: str, replace_fp: Fingerprint | None) -> Download:
    return Download(g, r.file_id, r.path, local_path, r.version_id, r.sha256, r.size, replace_fp)


def _unique(pairs: Iterable[tuple[object, str]]) -> dict[object, str]:
    seen: dict[object, str] = {}
    dup: set[object] = set()
    for k, v in pairs:
        if k in seen:
            dup.add(k)
        seen[k] = v
    return {k: v for k, v in seen.items() if k not in dup}


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _name(path: str) -> str:
    return path.rpartition("/")[2]


def _path(r: RemoteEntry) -> str:
    return r.path


def plan(
    local: LocalTree,
    remote: Iterable[RemoteEntry],
    base: Iterable[BaseEntry],
    options: PlanOptions,
) -> Plan:
    """The actions that bring local, remote and base into agreement (see module docstring)."""
    return _Planner(local, remote, base, options).plan()
