"""The sync engine's vocabulary: entries of the three trees, plan actions, outcomes, events.

Paths are relative POSIX strings ("Docs/a.txt"): local ones relative to the sync folder and
spelled as on disk, remote ones relative to the folder's remote root and spelled as on the
server. The two spellings of one file may differ only by Unicode normalization (or by case on
a case-insensitive file system); ``PathRules.key`` is what makes them comparable.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import Enum


@dataclass(frozen=True)
class PathRules:
    """How the local file system compares names (macOS/Windows: case-insensitive)."""

    case_sensitive: bool = True
    normalizes_unicode: bool = False

    def key(self, path: str) -> str:
        # NFC always: a name typed on macOS (NFD) and on Linux (NFC) is the same name to a user.
        # (An ASCII name is its own NFC; the check is cheap, and most names are ASCII.)
        nfc = path if path.isascii() else unicodedata.normalize("NFC", path)
        return nfc if self.case_sensitive else nfc.casefold()

    def same_spelling(self, a: str, b: str) -> bool:
        """True when ``a`` and ``b`` differ at most by Unicode normalization (not a rename)."""
        return a == b or unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a cheap rescan compares; ``ctime_ns`` catches content rewritten with the old mtime."""

    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int = 0

    # Fingerprint, LocalFile and BaseEntry are made once per file per scan or index read, and
    # the base is kept in memory: slots make them smaller, and their __init__ (the generated
    # one's signature) sets the slots directly, faster than the generated frozen one (an
    # object.__setattr__ call per field).
    def __init__(self, size: int, mtime_ns: int, inode: int, ctime_ns: int = 0) -> None:
        set_size, set_mtime_ns, set_inode, set_ctime_ns = _FINGERPRINT_SLOTS
        set_size(self, size)
        set_mtime_ns(self, mtime_ns)
        set_inode(self, inode)
        set_ctime_ns(self, ctime_ns)

    def same_file(self, other: Fingerprint | None) -> bool:
        # ctime is left out on purpose: a rename changes it, and executor preconditions
        # must survive our own renames (conflict copies).
        return (
            other is not None
            and self.size == other.size
            and self.mtime_ns == other.mtime_ns
            and self.inode == other.inode
        )

    def unchanged(self, other: Fingerprint | None) -> bool:
        return self.same_file(other) and other is not None and self.ctime_ns == other.ctime_ns


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: str
    fp: Fingerprint
    sha256: str

    def __init__(self, path: str, fp: Fingerprint, sha256: str) -> None:  # see Fingerprint
        set_path, set_fp, set_sha256 = _LOCAL_FILE_SLOTS
        set_path(self, path)
        set_fp(self, fp)
        set_sha256(self, sha256)


@dataclass(frozen=True)
class LocalTree:
    files: dict[str, LocalFile] = field(default_factory=dict)
    dirs: frozenset[str] = frozenset()
    # paths the scan could not read (or symlinks): their state is unknown, so the planner
    # must neither delete their remote counterpart nor download over them
    unknown: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RemoteEntry:
    file_id: str
    path: str
    version_id: str
    size: int
    sha256: str | None
    modified_at: str = ""
    # The feed seq of the change that made the live file what this entry says, when the
    # server's answer told it (None otherwise). Not part of the file's state: two entries
    # for the same file at the same version are equal whatever it says.
    change_seq: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class BaseEntry:
    """One file as it was when both sides last agreed (a row of the index)."""

    file_id: str
    local_path: str
    remote_path: str
    version_id: str
    sha256: str | None
    fp: Fingerprint

    def __init__(  # see Fingerprint
        self,
        file_id: str,
        local_path: str,
        remote_path: str,
        version_id: str,
        sha256: str | None,
        fp: Fingerprint,
    ) -> None:
        set_file_id, set_local_path, set_remote_path, set_version_id, set_sha256, set_fp = (
            _BASE_ENTRY_SLOTS
        )
        set_file_id(self, file_id)
        set_local_path(self, local_path)
        set_remote_path(self, remote_path)
        set_version_id(self, version_id)
        set_sha256(self, sha256)
        set_fp(self, fp)


def _slot_setters(cls: type) -> tuple[Callable[[object, object], None], ...]:
    """The ``__set__`` of each field's slot, in field order."""
    return tuple(getattr(cls, f.name).__set__ for f in fields(cls))


_FINGERPRINT_SLOTS = _slot_setters(Fingerprint)
_LOCAL_FILE_SLOTS = _slot_setters(LocalFile)
_BASE_ENTRY_SLOTS = _slot_setters(BaseEntry)


class ChangeOp(Enum):
    CREATED = "created"
    UPDATED = "updated"
    MOVED = "moved"
    TRASHED = "trashed"
    RESTORED = "restored"
    DELETED = "deleted"


@dataclass(frozen=True)
class RemoteChange:
    """One entry of the server's change feed; paths are full server paths."""

    seq: int
    op: ChangeOp
    file_id: str
    path: str
    old_path: str | None = None
    version_id: str | None = None
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class ChangePage:
    changes: tuple[RemoteChange, ...]
    cursor: str
    has_more: bool
    epoch: str


# ---- plan actions ------------------------------------------------------------------------------
# Each action belongs to a group (one logical file); when an action fails, the executor skips
# the rest of its group so that e.g. a download never runs after the conflict copy failed.


@dataclass(frozen=True)
class Upload:
    group: int
    local_path: str
    remote_path: str
    expected_version: str | None  # None: the remote path must be free
    fp: Fingerprint
    sha256: str
    replaces_file_id: str | None = None  # base row superseded by this upload


@dataclass(frozen=True)
class Download:
    group: int
    file_id: str
    remote_path: str
    local_path: str
    version_id: str
    sha256: str | None
    size: int
    replace: Fingerprint | None  # the local file we may overwrite; None: must not exist


@dataclass(frozen=True)
class LocalMove:
    group: int
    file_id: str
    src: str
    dst: str
    fp: Fingerprint


@dataclass(frozen=True)
class RemoteMove:
    group: int
    file_id: str
    src: str
    dst: str
    expected_version: str


@dataclass(frozen=True)
class LocalTrash:
    group: int
    file_id: str
    local_path: str
    fp: Fingerprint


@dataclass(frozen=True)
class RemoteTrash:
    group: int
    file_id: str
    remote_path: str
    local_path: str  # must still be absent locally when the trash is sent
    expected_version: str


@dataclass(frozen=True)
class ConflictCopy:
    """Renames the local file aside so the remote version can take its name (keep both)."""

    group: int
    src: str
    dst: str
    fp: Fingerprint
    forget_file_id: str | None = None


@dataclass(frozen=True)
class CommitBase:
    """Both sides already agree (identical content adopted, spelling or stat refreshed)."""

    group: int
    entry: BaseEntry


@dataclass(frozen=True)
class ForgetBase:
    group: int
    file_id: str


Action = (
    Upload
    | Download
    | LocalMove
    | RemoteMove
    | LocalTrash
    | RemoteTrash
    | ConflictCopy
    | CommitBase
    | ForgetBase
)


class Verdict(Enum):
    OK = "ok"
    MASS_DELETE = "mass_delete"  # deletes held back until the user allows them


class IssueKind(Enum):
    SYMLINK = "symlink"
    UNREADABLE = "unreadable"
    NAME_CLASH = "name_clash"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class Issue:
    kind: IssueKind
    path: str
    detail: str


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    verdict: Verdict = Verdict.OK
    held_deletes: int = 0
    issues: tuple[Issue, ...] = ()
    held: tuple[LocalTrash | RemoteTrash, ...] = ()  # the deletes the guard held back

    @property
    def deletes(self) -> int:
        return sum(isinstance(a, LocalTrash | RemoteTrash) for a in self.actions)


class Outcome(Enum):
    DONE = "done"
    SKIPPED = "skipped"  # an earlier action of its group did not succeed
    DEFERRED = "deferred"  # the file changed since it was scanned: plan again
    CONFLICT = "conflict"  # the server refused a stale write: plan again with fresh state
    GONE = "gone"  # the remote file vanished meanwhile
    RETRY = "retry"  # network trouble
    FAILED = "failed"


@dataclass(frozen=True)
class ActionResult:
    action: Action
    outcome: Outcome
    detail: str = ""
    bytes: int = 0


class SyncState(Enum):
    IDLE = "idle"
    SCANNING = "scanning"
    SYNCING = "syncing"
    PAUSED = "paused"
    NEEDS_CONFIRMATION = "needs_confirmation"  # mass-delete guard
    ERROR = "error"


@dataclass(frozen=True)
class SyncStatus:
    state: SyncState
    pending: int = 0
    issues: tuple[Issue, ...] = ()
    held_deletes: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class RoundReport:
    """One scan → plan → execute round."""

    plan: Plan
    results: tuple[ActionResult, ...]

    @property
    def progressed(self) -> bool:
        return any(r.outcome is Outcome.DONE for r in self.results)


@dataclass(frozen=True)
class SyncReport:
    """What ``run_until_quiet`` achieved."""

    rounds: int
    quiet: bool
    issues: tuple[Issue, ...]
    held_deletes: int
    failures: tuple[ActionResult, ...]

    @property
    def ok(self) -> bool:
        return self.quiet and not self.issues and not self.held_deletes and not self.failures
