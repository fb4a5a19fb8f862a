"""Upload workflow step: `processing.mark_failed` (upload_processing.asl.json)."""

from __future__ import annotations

from backend.logic import processing
from backend.workflows.runtime import step

handler = step(processing.mark_failed)
