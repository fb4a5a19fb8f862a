"""Share lifecycle step: `notifications.share_reminder` (share_lifecycle.asl.json)."""

from __future__ import annotations

from backend.logic import notifications
from backend.workflows.runtime import step

handler = step(notifications.share_reminder)
