"""Content sniffing and previews (Pillow), on real generated images."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.workflows import imaging


def photo(width: int = 300, height: int = 100, orientation: int = 6) -> bytes:
    image = Image.new("RGB", (width, height), (250, 0, 0))
    image.paste((0, 0, 250), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 24.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"%PDF-1.7", "application/pdf"),
        (b"MZ\x90\x00", "application/x-msdownload"),
        (b"\x7fELF\x02", "application/x-executable"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic", "image/heic"),
        (b"hello world", None),
    ],
)
def test_detect_type(head: bytes, mime: str | None) -> None:
    assert imaging.detect_type(head) == mime


def test_previews_apply_orientation_and_strip_location() -> None:
    out = imaging.make_previews(photo(3000, 1000))
    assert (out.width, out.height) == (1000, 3000)
    for data, longest in ((out.thumbnail, 256), (out.preview, 1600)):
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG"
        assert max(image.size) == longest and image.size[1] > image.size[0]
        exif = image.getexif()
        assert not exif.get_ifd(0x8825) and 0x0112 not in exif
        # The blue left half of the stored image is on top once rotated for display.
        r, _, b = image.convert("RGB").getpixel((image.width // 2, 5))  # type: ignore[misc]
        assert b > 150 and r < 100


def test_image_size_is_as_displayed() -> None:
    assert imaging.image_size(photo(300, 100, orientation=1)) == (300, 100)
    assert imaging.image_size(photo(300, 100, orientation=8)) == (100, 300)


def test_corrupt_images_raise_corrupt_file() -> None:
    with pytest.raises(imaging.CorruptFile):
        imaging.make_previews(photo()[:300] + b"\x00" * 500)
    with pytest.raises(imaging.CorruptFile):
        imaging.image_size(b"\xff\xd8\xff" + b"garbage" * 10)


def test_pdf_page_count() -> None:
    pdf = b"%PDF-1.4\n<< /Type /Pages /Count 2 >>\n<< /Type /Page >>\n<< /Type/Page >>\n"
    assert imaging.pdf_page_count(pdf) == 2
    assert imaging.pdf_page_count(b"%PDF-1.4\n") is None
