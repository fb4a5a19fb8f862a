"""The inline download answer, written without the JSON encoder, is the JSON the encoder
would have written: every byte value, names that need escapes, errors in their places."""

from __future__ import annotations

import base64
import json

from backend.api.views import file_view, inline_batch_json
from backend.data.records import FileRecord
from backend.errors import ApiError, NotFound
from backend.logic.download_batches import InlineDownload


def record(path: str, size: int) -> FileRecord:
    return FileRecord(
        file_id="f_" + "0" * 24,
        path=path,
        size=size,
        content_type="application/octet-stream",
        version_id="v1",
        blob_key="k",
        etag="e",
        created_at=1_800_000_000_000,
        modified_at=1_800_000_000_000,
        processing={"status": "ready", "note": 'quote " and \\ and \n'},
    )


def test_the_text_decodes_to_the_answer_the_encoder_would_give() -> None:
    every_byte = bytes(range(256)) * 3
    results: list[InlineDownload | ApiError] = [
        InlineDownload(record('docs/naïve "quoted" \\ 日本.bin', len(every_byte)), every_byte),
        NotFound("no such file"),
        InlineDownload(record("empty.txt", 0), b""),
    ]
    text = inline_batch_json(results).text
    decoded = json.loads(text)
    assert decoded == {
        "items": [
            {
                "download": {
                    "file": file_view(results[0].file),  # type: ignore[union-attr]
                    "content": base64.b64encode(every_byte).decode(),
                }
            },
            {"error": {"status": 404, **results[1].body()}},  # type: ignore[union-attr]
            {"download": {"file": file_view(results[2].file), "content": ""}},  # type: ignore[union-attr]
        ]
    }
    assert base64.b64decode(decoded["items"][0]["download"]["content"]) == every_byte
    assert "日本" in text  # as the encoder writes it (ensure_ascii=False): UTF-8, not \u escapes
