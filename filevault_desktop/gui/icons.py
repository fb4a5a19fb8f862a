"""Loads the SVG icons of ``resources/icons`` as high-DPI QIcons tinted for the palette.

Monochrome parts of an icon are drawn in ``currentColor``; it becomes the palette's text
colour at load time, so icons stay visible on light and dark themes. Coloured badges (the
tray states) keep their own colours.
"""

from __future__ import annotations

import enum
from functools import cache
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

# Rendered once per size instead of scaled, so 16 px tray icons stay crisp at 200 % scaling.
_SIZES = (16, 20, 22, 24, 32, 40, 48, 64, 96, 128, 256)


class TrayState(enum.Enum):
    UP_TO_DATE = "up-to-date"
    SYNCING = "syncing"
    PAUSED = "paused"
    ERROR = "error"
    OFFLINE = "offline"


def icons_dir() -> Path:
    """The packaged icons; in a source checkout, the repository's ``resources/icons``."""
    packaged = Path(str(resources.files("filevault_desktop.gui") / "resources" / "icons"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources" / "icons"


def svg_text(name: str) -> str:
    return (icons_dir() / f"{name}.svg").read_text("utf-8")


def _ink() -> QColor:
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication):
        return app.palette().color(QPalette.ColorRole.WindowText)
    return QColor("#202124")


def render(name: str, px: int, ink: QColor | None = None) -> QImage:
    data = svg_text(name).replace("currentColor", (ink or _ink()).name())
    renderer = QSvgRenderer(QByteArray(data.encode("utf-8")))
    image = QImage(px, px, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, px, px))
    painter.end()
    return image


@cache
def _icon(name: str, ink_rgb: int) -> QIcon:
    icon = QIcon()
    ink = QColor.fromRgba(ink_rgb)
    for px in _SIZES:
        icon.addPixmap(QPixmap.fromImage(render(name, px, ink)))
    return icon


def icon(name: str) -> QIcon:
    """``icon("upload")``: the icon in the current palette's ink (cached per palette)."""
    return _icon(name, _ink().rgba())


def tray_icon(state: TrayState) -> QIcon:
    return icon(f"tray-{state.value}")


def app_icon() -> QIcon:
    return icon("filevault")


def clear_cache() -> None:
    """Forget rendered icons, e.g. after the palette switched between light and dark."""
    _icon.cache_clear()
