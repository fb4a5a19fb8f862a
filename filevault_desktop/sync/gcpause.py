"""Cyclic garbage collection held off while the sync builds large acyclic structures.

A rescan makes an object or two per file and the base index two per row, none of them in a
cycle, but allocating that many triggers collections that traverse every live object (the
base in memory, the last scan): a quarter of a no-change rescan, half of reading the base.
``GcPause`` holds collection off until released; it resumes once the last holder lets go
(holders in several threads share one pause), and a process that had it disabled keeps it
disabled. Hold it only around work that is bounded and allocation-heavy (a walk, a read),
never around work that may take long (hashing, the network).
"""

from __future__ import annotations

import gc
import threading


class GcPause:
    _lock = threading.Lock()
    _holders = 0
    _reenable = False

    def __init__(self) -> None:
        with GcPause._lock:
            if GcPause._holders == 0:
                GcPause._reenable = gc.isenabled()
                gc.disable()
            GcPause._holders += 1
        self._held = True

    def release(self) -> None:
        """Lets go of the pause (again: a no-op)."""
        if not self._held:
            return
        self._held = False
        with GcPause._lock:
            GcPause._holders -= 1
            if GcPause._holders == 0 and GcPause._reenable:
                gc.enable()

    def __enter__(self) -> GcPause:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
