"""Content sniffing and image transforms used by the workflow steps (pure: bytes in, bytes out)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

THUMBNAIL_PX: Final = 256
PREVIEW_PX: Final = 1600
SNIFF_BYTES: Final = 64
# Decompression bombs are corrupt input, not a reason to exhaust a Lambda's memory.
Image.MAX_IMAGE_PIXELS = 100_000_000

# (offset, magic, MIME type); the first match wins.
_MAGIC: Final[tuple[tuple[int, bytes, str], ...]] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"BM", "image/bmp"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"MZ", "application/x-msdownload"),
    (0, b"\x7fELF", "application/x-executable"),
    (0, b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (0, b"\xce\xfa\xed\xfe", "application/x-mach-binary"),
    (0, b"\xca\xfe\xba\xbe", "application/x-mach-binary"),
    (0, b"#!", "text/x-shellscript"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"ID3", "audio/mpeg"),
)
IMAGE_TYPES: Final = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/tiff", "image/bmp"}
)


class CorruptFile(Exception):
    """The bytes claim a format but cannot be decoded (not retried by the workflow)."""


def detect_type(head: bytes) -> str | None:
    """The MIME type the first bytes announce, or None when they announce nothing we know."""
    for offset, magic, mime in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "image/heic"
        return "video/mp4"
    return None


def pdf_page_count(data: bytes) -> int | None:
    """Pages of a PDF, counted cheaply from its page objects (None when there are none)."""
    count = len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
    return count or None


@dataclass(frozen=True)
class Previews:
    width: int  # of the image as displayed (EXIF orientation applied)
    height: int
    thumbnail: bytes  # JPEG, at most THUMBNAIL_PX on its longer side
    preview: bytes  # JPEG, at most PREVIEW_PX on its longer side


def _open(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptFile(f"the image cannot be decoded: {exc}") from None
    except Image.DecompressionBombError as exc:
        raise CorruptFile(str(exc)) from None
    return image


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height as displayed, i.e. after the EXIF orientation is applied."""
    image = _open(data)
    oriented = ImageOps.exif_transpose(image)
    return oriented.size


def _jpeg(image: Image.Image, longest: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif= argument: the derived JPEG carries no EXIF at all (no GPS, no orientation).
    copy.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def make_previews(data: bytes) -> Previews:
    image = _open(data)
    try:
        oriented = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptFile(f"the image cannot be decoded: {exc}") from None
    rgb = oriented.convert("RGB")
    return Previews(
        width=oriented.width,
        height=oriented.height,
        thumbnail=_jpeg(rgb, THUMBNAIL_PX),
        preview=_jpeg(rgb, PREVIEW_PX),
    )


def watermark(data: bytes, text: str) -> tuple[bytes, str]:
    """The image with ``text`` stamped across it (tiled, semi-transparent).

    Returns the new bytes and their content type; the orientation is applied and no EXIF is
    kept (a shared copy does not leak where the photo was taken).
    """
    image = ImageOps.exif_transpose(_open(data)).convert("RGBA")
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    size = max(12, min(image.size) // 12)
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    step_x = max(1, int(right - left) + size * 2)
    step_y = max(1, int(bottom - top) + size * 3)
    for row, y in enumerate(range(-step_y, image.height + step_y, step_y)):
        for x in range(-step_x + (row % 2) * step_x // 2, image.width + step_x, step_x):
            draw.text((x + 1, y + 1), text, font=font, fill=(0, 0, 0, 110))
            draw.text((x, y), text, font=font, fill=(255, 255, 255, 150))
    stamped = Image.alpha_composite(image, overlay).convert("RGB")
    out = io.BytesIO()
    stamped.save(out, "JPEG", quality=90)
    return out.getvalue(), "image/jpeg"
