"""Upload workflow step: `processing.quarantine` (upload_processing.asl.json)."""

from __future__ import annotations

from backend.logic import processing
from backend.workflows.runtime import step

handler = step(processing.quarantine)
