"""Small files' bytes answered inline: one request downloads up to a hundred of them.

The mirror of the inline upload (ADR 006, ADR 007): for files of a few KiB the cost of the
pre-signed path is per file (a URL to sign, a GET, a connection), not per byte. Here the
handler reads each file's current version from the upload bucket and answers its bytes with
its record, at most ``INLINE_BATCH_BYTES`` of content in all (Lambda's 6 MB response limit,
with base64). Items fail on their own: a file the batch cannot carry (larger than
``INLINE_FILE_MAX``, or past the batch's budget because it grew since the client listed it)
answers ``too_large_for_batch`` and the client fetches it through its URL instead.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from backend.data.records import FileRecord
from backend.errors import ApiError, BadRequest, Gone
from backend.logic.context import Caller, Services
from backend.logic.files import record_downloads, servable_files
from backend.logic.inputs import INLINE_BATCH_BYTES, INLINE_FILE_MAX

_S3_CONCURRENCY = 8


@dataclass(frozen=True)
class InlineDownload:
    file: FileRecord
    content: bytes


def download_inline(
    svc: Services, caller: Caller, file_ids: list[str]
) -> list[InlineDownload | ApiError]:
    """Each file's current version with its bytes, or why it is not in this answer."""
    out: list[FileRecord | ApiError] = []
    budget = INLINE_BATCH_BYTES
    for found in servable_files(svc, caller, file_ids):
        if isinstance(found, FileRecord) and (found.size > INLINE_FILE_MAX or found.size > budget):
            found = BadRequest(
                f"'{found.path}' does not fit in this answer; download it on its own",
                code="too_large_for_batch",
            )
        elif isinstance(found, FileRecord):
            budget -= found.size
        out.append(found)

    def read(entry: FileRecord | ApiError) -> InlineDownload | ApiError:
        if isinstance(entry, ApiError):
            return entry
        data = svc.uploads.read_if_present(entry.blob_key) if entry.size else b""
        if data is None:
            return Gone(f"the bytes of '{entry.path}' are missing", code="content_missing")
        if len(data) != entry.size:
            return Gone(
                f"'{entry.path}' is stored with {len(data)} bytes, not {entry.size}",
                code="content_missing",
            )
        return InlineDownload(entry, data)

    with ThreadPoolExecutor(_S3_CONCURRENCY) as pool:
        answers = list(pool.map(read, out))
    record_downloads(
        svc, caller.user_id, [a.file for a in answers if isinstance(a, InlineDownload)]
    )
    return answers
