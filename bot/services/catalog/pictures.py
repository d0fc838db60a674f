"""A product's picture as bytes to upload once (then it is sent by Telegram's file id).

`products.image_path` is a file the shop shipped (a path), or — for the demo catalog — a picture
generated here, named "gen:<category>:<n>": a small PNG in the category's colour, made with zlib
alone, so nothing is stored in the repository or needs an imaging library."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

SIZE = 160
GENERATED = "gen:"
_COLOURS = {
    "audio": (52, 84, 209), "home": (232, 160, 52), "sports": (46, 160, 90), "clothing": (180, 70, 140),
    "toys": (235, 88, 76), "phones": (70, 70, 90), "beauty": (226, 120, 170), "power": (250, 200, 40),
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def generated(category: str, n: int) -> bytes:
    """A PNG: the category's colour, a lighter disc whose size follows `n` (the variant)."""
    base = _COLOURS.get(category, (120, 120, 120))
    light = tuple(min(255, c + 90) for c in base)
    radius = 30 + (n % 5) * 9
    centre = SIZE // 2
    rows = []
    for y in range(SIZE):
        row = bytearray(b"\x00")  # filter: none
        for x in range(SIZE):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= radius * radius
            row += bytes(light if inside else base)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _chunk(b"IEND", b""))


def picture_bytes(image_path: str | None) -> bytes | None:
    """The picture to upload, or None (no picture, or its file is gone)."""
    if not image_path:
        return None
    if image_path.startswith(GENERATED):
        _, category, n = [*image_path.split(":"), "", "0"][:3]
        return generated(category, int(n) if n.isdigit() else 0)
    path = Path(image_path)
    return path.read_bytes() if path.is_file() else None
