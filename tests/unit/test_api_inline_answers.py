"""The inline download answers: the JSON one, written without passing the contents through
the encoder, is the JSON the encoder would write; the client reads the framed one as the API
writes it, and an answer whose contents do not add up is a cut connection, not data."""

from __future__ import annotations

import base64
import json

import pytest

from backend.api.http import FRAMED_BATCH_TYPE
from backend.api.views import file_view, inline_batch_framed, inline_batch_json
from backend.data.records import FileRecord
from backend.errors import NotFound
from backend.logic.download_batches import InlineDownload
from filevault_desktop.api import client
from filevault_desktop.errors import ApiError, NetworkError


def record(n: int, size: int) -> FileRecord:
    return FileRecord(
        file_id=f"f_{n:024d}",
        path=f'docs/{n}\nnewline "quoted" é 日本.bin',
        size=size,
        content_type="application/octet-stream",
        version_id="v1",
        blob_key="k",
        etag="e",
        created_at=1_800_000_000_000,
        modified_at=1_800_000_000_000,
        processing={"status": "ready", "note": 'quote " and \\ and \n'},
    )


def answer() -> tuple[bytes, list[bytes]]:
    contents = [b"first\nwith a newline", b"", bytes(range(256))]
    results = [InlineDownload(record(n, len(c)), c) for n, c in enumerate(contents)]
    return inline_batch_framed([results[0], NotFound("no such file"), *results[1:]]), contents


def test_the_client_reads_what_the_api_writes() -> None:
    assert client.FRAMED_BATCH_TYPE == FRAMED_BATCH_TYPE
    body, contents = answer()
    first, missing, empty, every_byte = client._framed_downloads(body)
    assert isinstance(missing, ApiError) and missing.status == 404
    for got, n, data in ((first, 0, contents[0]), (empty, 1, b""), (every_byte, 2, contents[2])):
        assert not isinstance(got, ApiError)
        remote, content = got
        assert content == data
        assert remote.file_id == f"f_{n:024d}" and remote.path.startswith(f"docs/{n}\n")


@pytest.mark.parametrize(
    "damage",
    [
        lambda body: body[:-1],  # cut short
        lambda body: body + b"x",  # more than announced
        lambda body: body.split(b"\n", 1)[0],  # the contents never came
        lambda body: b"<html>proxy error</html>",
    ],
)
def test_an_answer_that_does_not_add_up_is_a_network_error(damage) -> None:  # type: ignore[no-untyped-def]
    body, _ = answer()
    with pytest.raises(NetworkError):
        client._framed_downloads(damage(body))


def test_the_text_decodes_to_the_answer_the_encoder_would_give() -> None:
    every_byte = bytes(range(256)) * 3
    results: list[InlineDownload | ApiError] = [
        InlineDownload(record(0, len(every_byte)), every_byte),
        NotFound("no such file"),
        InlineDownload(record(1, 0), b""),
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
