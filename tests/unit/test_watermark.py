"""The S3 Object Lambda watermark handler on real images (its input fetched by URL)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from backend.workflows.steps import watermark


class Responder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def write_get_object_response(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.fixture
def responder() -> Any:
    fake = Responder()
    watermark.configure(fake)
    yield fake
    watermark.configure(None)


def _event(path: Path) -> dict[str, Any]:
    return {
        "getObjectContext": {
            "inputS3Url": path.as_uri(),
            "outputRoute": "io-1",
            "outputToken": "tok",
        },
        "configuration": {"payload": '{"text": "CONFIDENTIAL"}'},
        "userRequest": {"url": "https://example/x", "headers": {}},
    }


def test_stamps_the_image_and_leaves_the_original(tmp_path: Path, responder: Responder) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (400, 300), (10, 90, 200)).save(source)
    before = source.read_bytes()
    assert watermark.handler(_event(source), None) == {"status_code": 200}
    assert source.read_bytes() == before
    (call,) = responder.calls
    assert (call["RequestRoute"], call["RequestToken"]) == ("io-1", "tok")
    assert call["ContentType"] == "image/jpeg"
    stamped = Image.open(io.BytesIO(call["Body"])).convert("RGB")
    assert stamped.size == (400, 300)
    colours = {stamped.getpixel((x, y)) for x in range(0, 400, 5) for y in range(0, 300, 5)}
    assert len(colours) > 20  # text drawn over a flat colour


def test_refuses_what_is_not_an_image(tmp_path: Path, responder: Responder) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"%PDF-1.4 not an image")
    assert watermark.handler(_event(source), None) == {"status_code": 415}
    assert responder.calls[0]["StatusCode"] == 415 and "Body" not in responder.calls[0]
