#!/usr/bin/env python3
"""Draw Studio's icon and write the icon set to resources/icons/.

    .venv/bin/python packaging/make_icons.py

The icon is drawn with Qt's QPainter at every size (not scaled down from one bitmap, so small sizes stay
sharp): a green rounded square with a white database cylinder. It writes

* `studio-<N>.png` for N in 16, 24, 32, 48, 64, 128, 256, 512 (Linux: the hicolor theme, the window icon);
* `studio.ico` (Windows: 16-256 px, PNG-compressed entries, which Windows Vista and later read);
* `studio.icns` (macOS: 16-1024 px, PNG entries, including the @2x ones).

The .ico and .icns containers are written here byte by byte, so no platform tool is needed. Re-run it
after changing the drawing and commit the results; the build uses the committed files.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# (type, pixel size) of the PNG entries an .icns may hold.
ICNS_ENTRIES = (("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256), ("ic09", 512),
                ("ic10", 1024), ("ic11", 32), ("ic12", 64), ("ic13", 256), ("ic14", 512))

TOP = QColor("#3ecf8e")
BOTTOM = QColor("#178a5c")


def draw(size: int) -> QImage:
    """The icon at `size` x `size` pixels (transparent around the rounded square)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 512, size / 512)  # drawn on a 512 grid

    # The tile: a rounded square with a soft vertical gradient (a small margin, as desktop icons have).
    gradient = QLinearGradient(QPointF(0, 24), QPointF(0, 488))
    gradient.setColorAt(0, TOP)
    gradient.setColorAt(1, BOTTOM)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(gradient))
    painter.drawRoundedRect(QRectF(24, 24, 464, 464), 104, 104)

    # The database: a white cylinder, two bands cut into it in the tile's colour.
    left, right, top, bottom, rim = 144.0, 368.0, 126.0, 386.0, 40.0
    body = QPainterPath()
    body.moveTo(left, top)
    body.lineTo(left, bottom)
    body.arcTo(QRectF(left, bottom - rim, right - left, 2 * rim), 180, 180)
    body.lineTo(right, top)
    body.arcTo(QRectF(left, top - rim, right - left, 2 * rim), 0, 180)
    painter.setBrush(QColor("white"))
    painter.drawPath(body)

    band = QPen(BOTTOM, 22 if size >= 32 else 30)
    band.setCapStyle(Qt.PenCapStyle.FlatCap)
    painter.setPen(band)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setClipPath(body)  # the bands stop at the cylinder's sides
    # The top rim (the cylinder's lid) and two bands, each the lower half of an ellipse.
    painter.drawArc(QRectF(left, top - rim, right - left, 2 * rim), 180 * 16, 180 * 16)
    for y in (top + (bottom - top) / 3, top + 2 * (bottom - top) / 3):
        painter.drawArc(QRectF(left, y - rim, right - left, 2 * rim), 180 * 16, 180 * 16)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    """`image` encoded as PNG."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding the given PNGs (size -> PNG bytes)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        data = pngs[size]
        edge = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(data), offset + len(images))
        images += data
    return header + entries + images


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding PNG entries of every size it names."""
    chunks = b""
    for kind, size in ICNS_ENTRIES:
        data = pngs[size]
        chunks += kind.encode("ascii") + struct.pack(">I", 8 + len(data)) + data
    return b"icns" + struct.pack(">I", 8 + len(chunks)) + chunks


def main() -> int:
    """Write the icon set."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    assert app is not None
    ICONS.mkdir(parents=True, exist_ok=True)
    pngs = {size: png_bytes(draw(size)) for size in sorted({*PNG_SIZES, *(s for _, s in ICNS_ENTRIES)})}
    for size in PNG_SIZES:
        (ICONS / f"studio-{size}.png").write_bytes(pngs[size])
    (ICONS / "studio.ico").write_bytes(ico({size: pngs[size] for size in ICO_SIZES}))
    (ICONS / "studio.icns").write_bytes(icns(pngs))
    print(f"Wrote {len(PNG_SIZES)} PNGs, studio.ico and studio.icns to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
