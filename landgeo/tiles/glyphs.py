"""Glyphs for the map's labels (phông chữ): signed-distance-field glyph ranges in the Mapbox GL PBF format.

MapLibre draws text from SDF glyphs fetched per range of 256 code points (``/fonts/{fontstack}/{start}-{end}.pbf``).
They are made here from a TrueType font installed on the machine (DejaVu Sans, Debian's ``fonts-dejavu-core``:
Vietnamese letters are in 0–255, 256–511 and 7680–7935), with Pillow rasterising each glyph at 24 px and a
numpy distance transform (3 px buffer, radius 8, cutoff 0.25 — the values MapLibre's shaders expect), encoded
as protobuf by hand (five message fields). A range is made once and kept in memory and on disk.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIZE = 24
BUFFER = 3
RADIUS = 8.0
CUTOFF = 0.25
TOP_ADJUST = 26  # MapLibre places glyph tops relative to a 24 px em box

#: fontstack name -> font files tried in order
FONTS = {
    "DejaVu Sans Book": ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                         "/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    "DejaVu Sans Bold": ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                         "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
}
_LOCK = threading.Lock()


class FontNotFound(Exception):
    pass


def font_path(name: str) -> Path:
    for candidate in FONTS.get(name, ()):
        if Path(candidate).is_file():
            return Path(candidate)
    if name not in FONTS:
        raise FontNotFound(f"font {name!r} not served: {', '.join(FONTS)}")
    raise FontNotFound(f"font {name!r}: its file is not installed (Debian package fonts-dejavu-core)")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: int | bytes, signed: bool = False) -> bytes:
    if isinstance(value, bytes):
        return _varint(number << 3 | 2) + _varint(len(value)) + value
    if signed:
        value = (value << 1) ^ (value >> 63)
    return _varint(number << 3) + _varint(value)


def sdf(mask: np.ndarray) -> np.ndarray:
    """The SDF bytes of a coverage mask (values 0–255) already padded by :data:`BUFFER`."""
    inside = mask > 127
    h, w = mask.shape
    ys, xs = np.mgrid[0:h, 0:w]
    pts = np.stack([ys.ravel(), xs.ravel()], axis=1).astype(np.float32)
    inner = pts[inside.ravel()]
    outer = pts[~inside.ravel()]

    def nearest(targets: np.ndarray) -> np.ndarray:
        if not len(targets):
            return np.full(len(pts), 1e3, dtype=np.float32)
        best = np.full(len(pts), np.inf, dtype=np.float32)
        for k in range(0, len(targets), 512):
            d = ((pts[:, None, :] - targets[None, k:k + 512, :]) ** 2).sum(axis=2)
            best = np.minimum(best, d.min(axis=1))
        return np.sqrt(best)

    # distance to the nearest pixel of the other kind, half a pixel being the edge
    outside_d = np.where(inside.ravel(), 0.0, nearest(inner) - 0.5)
    inside_d = np.where(inside.ravel(), nearest(outer) - 0.5, 0.0)
    d = outside_d - inside_d
    values = np.clip(np.round(255 - 255 * (d / RADIUS + CUTOFF)), 0, 255)
    return values.astype(np.uint8).reshape(h, w)


def _glyph(font: ImageFont.FreeTypeFont, code: int) -> bytes | None:
    if code < 0x20 or 0x7F <= code < 0xA0:  # control characters have no glyph
        return None
    ch = chr(code)
    advance = int(round(font.getlength(ch)))
    x0, y0, x1, y1 = font.getbbox(ch, anchor="ls")
    width, height = max(x1 - x0, 0), max(y1 - y0, 0)
    body = _field(1, code)
    if width and height:
        img = Image.new("L", (width + 2 * BUFFER, height + 2 * BUFFER), 0)
        ImageDraw.Draw(img).text((BUFFER - x0, BUFFER - y0), ch, font=font, fill=255, anchor="ls")
        body += _field(2, sdf(np.asarray(img)).tobytes())
    body += _field(3, width) + _field(4, height) + _field(5, int(x0), signed=True)
    body += _field(6, int(-y0) - TOP_ADJUST, signed=True) + _field(7, advance)
    return body


@lru_cache(maxsize=64)
def _make(name: str, start: int) -> bytes:
    font = ImageFont.truetype(str(font_path(name)), SIZE)
    glyphs = b"".join(_field(3, g) for code in range(start, start + 256) if (g := _glyph(font, code)) is not None)
    stack = _field(1, name.encode()) + _field(2, f"{start}-{start + 255}".encode()) + glyphs
    return _field(1, stack)


def glyph_range(fontstack: str, start: int, cache_dir: Path | None = None) -> bytes:
    """The PBF of code points ``start`` … ``start + 255`` of the first served font of ``fontstack``
    (a comma-separated list, as MapLibre sends it)."""
    names = [n.strip() for n in fontstack.split(",") if n.strip()]
    name = next((n for n in names if n in FONTS), None)
    if name is None:
        raise FontNotFound(f"font {fontstack!r} not served: {', '.join(FONTS)}")
    font_path(name)
    if cache_dir is not None:
        path = cache_dir / name / f"{start}-{start + 255}.pbf"
        if path.is_file():
            return path.read_bytes()
    with _LOCK:
        data = _make(name, start)
    if cache_dir is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError:
            pass
    return data
