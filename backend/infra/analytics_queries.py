"""The analytics event table's columns and the named Athena queries.

The events are written by ``backend.logic.analytics`` (JSON lines under ``ANALYTICS_PREFIX``,
``dt=YYYY-MM-DD`` partitions). Each query keeps to SQL that Athena (Trino) and DuckDB both run.
"""

from __future__ import annotations

from typing import Final

# The queries name this table literally (they are constant SQL, not built from input).
TABLE: Final = "events"

COLUMNS: Final = (
    ("event_id", "string"),
    ("user_id", "string"),
    ("action", "string"),
    ("file_id", "string"),
    ("version_id", "string"),
    ("share_id", "string"),
    ("size", "bigint"),
    ("content_type", "string"),
    ("at", "string"),
)
PARTITION: Final = ("dt", "string")

QUERIES: Final = {
    "storage-per-user": (
        "Bytes stored per user (uploads minus deletes)",
        """SELECT user_id,
       SUM(CASE WHEN action = 'upload' THEN size ELSE 0 END)
     - SUM(CASE WHEN action = 'delete' THEN size ELSE 0 END) AS stored_bytes
FROM events
GROUP BY user_id
ORDER BY stored_bytes DESC""",
    ),
    "downloads-per-day": (
        "Downloads (by owners and through share links) per day",
        """SELECT dt AS day, COUNT(*) AS downloads
FROM events
WHERE action IN ('download', 'share_access')
GROUP BY dt
ORDER BY day""",
    ),
    "most-shared-files": (
        "Files opened most often through share links",
        """SELECT file_id, COUNT(*) AS share_opens, COUNT(DISTINCT share_id) AS links
FROM events
WHERE action = 'share_access'
GROUP BY file_id
ORDER BY share_opens DESC
LIMIT 20""",
    ),
}
