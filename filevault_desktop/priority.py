"""Background work yields the CPU to the interactive thread."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

BACKGROUND_NICE = 10


def lower_this_thread() -> None:
    """Lowers the calling thread's CPU priority (Linux: per thread, inherited by the threads it
    starts), so hashing, HTTP and sync work queue behind the UI thread. Elsewhere a no-op."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        me = threading.get_native_id()
        setpriority(os.PRIO_PROCESS, me, max(os.getpriority(os.PRIO_PROCESS, me), BACKGROUND_NICE))
