"""Two-way sync of local folders with the user's FileVault space.

Three trees: **local** (scanned from disk), **remote** (a mirror kept current from the
server's change feed) and **base** (what both last agreed on, in a SQLite index). A pure
``planner`` turns them into actions, the ``executor`` carries them out and commits each to the
index only once it succeeded, and the ``engine`` loops over that. The core imports no HTTP
library, AWS SDK or Qt: the server is a ``RemotePort``; ``sync.testing.FakeRemote`` is an
in-memory one for tests.
"""

from filevault_desktop.sync.engine import SyncConfig, SyncEngine, SyncEvent
from filevault_desktop.sync.errors import CursorReset, LocalChanged, SyncError, SyncRootMissing
from filevault_desktop.sync.ignore import IgnoreRules
from filevault_desktop.sync.index import SyncIndex
from filevault_desktop.sync.localfs import FolderTrash, LocalFs, SelfWrites
from filevault_desktop.sync.models import (
    ActionResult,
    Issue,
    IssueKind,
    Outcome,
    PathRules,
    Plan,
    RemoteChange,
    RemoteEntry,
    SyncReport,
    SyncState,
    SyncStatus,
    Verdict,
)
from filevault_desktop.sync.planner import PlanOptions, plan
from filevault_desktop.sync.ports import LATEST_CURSOR, RemotePort, Send2Trash, Trash

__all__ = [
    "LATEST_CURSOR",
    "ActionResult",
    "CursorReset",
    "FolderTrash",
    "IgnoreRules",
    "Issue",
    "IssueKind",
    "LocalChanged",
    "LocalFs",
    "Outcome",
    "PathRules",
    "Plan",
    "PlanOptions",
    "RemoteChange",
    "RemoteEntry",
    "RemotePort",
    "SelfWrites",
    "Send2Trash",
    "SyncConfig",
    "SyncEngine",
    "SyncError",
    "SyncEvent",
    "SyncIndex",
    "SyncReport",
    "SyncRootMissing",
    "SyncState",
    "SyncStatus",
    "Trash",
    "Verdict",
    "plan",
]
