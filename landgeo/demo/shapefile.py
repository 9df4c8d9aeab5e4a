"""A minimal ESRI Shapefile writer (polygons) with DBF text in any byte encoding, e.g. TCVN3.

GDAL can only write DBF text in encodings iconv knows, and TCVN3 is not one of them, so the demo writes the
.shp/.shx/.dbf itself — byte for byte deterministic (fixed DBF date), which also makes the demo data set's
files reproducible. No .cpg is written: legacy cadastral shapefiles have none, the loader must detect it.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

POLYGON = 5


@dataclass(frozen=True)
class DbfField:
    """One DBF column: ``C`` (text) or ``N`` (number, ``decimals`` after the point)."""

    name: str
    type: str
    length: int
    decimals: int = 0


def _rings(geom) -> list[np.ndarray]:
    """Rings of a (multi)polygon in shapefile order: outer clockwise, holes counter-clockwise."""
    geom = shapely.orient_polygons(geom, exterior_cw=True)
    parts = shapely.get_parts(geom)
    rings = []
    for poly in parts:
        rings.append(shapely.get_coordinates(poly.exterior))
        rings.extend(shapely.get_coordinates(hole) for hole in poly.interiors)
    return rings


def _polygon_record(geom) -> bytes:
    rings = _rings(geom)
    points = np.concatenate(rings) if rings else np.empty((0, 2))
    starts = np.cumsum([0] + [len(r) for r in rings[:-1]]).astype("<i4")
    xmin, ymin = points.min(axis=0)
    xmax, ymax = points.max(axis=0)
    head = struct.pack("<i4d2i", POLYGON, xmin, ymin, xmax, ymax, len(rings), len(points))
    return head + starts.tobytes() + points.astype("<f8").tobytes()


def _main_header(file_words: int, bounds: Sequence[float]) -> bytes:
    return struct.pack(">7i", 9994, 0, 0, 0, 0, 0, file_words) + struct.pack(
        "<2i8d", 1000, POLYGON, bounds[0], bounds[1], bounds[2], bounds[3], 0.0, 0.0, 0.0, 0.0
    )


def _dbf_value(field: DbfField, value, encode: Callable[[str], bytes]) -> bytes:
    if field.type == "C":
        raw = encode("" if value is None else str(value))
        if len(raw) > field.length:
            raise ValueError(f"value too long for {field.name} ({len(raw)} > {field.length} bytes)")
        return raw.ljust(field.length, b" ")
    if value is None:
        return b" " * field.length
    text = f"{value:.{field.decimals}f}" if field.decimals else str(int(value))
    if len(text) > field.length:
        raise ValueError(f"number {text} too wide for {field.name}")
    return text.rjust(field.length).encode("ascii")


def write_dbf(path: Path, fields: Sequence[DbfField], records: Sequence[Sequence], encode: Callable[[str], bytes],
              date: dt.date = dt.date(2024, 6, 15)) -> None:
    record_length = 1 + sum(f.length for f in fields)
    header_length = 32 + 32 * len(fields) + 1
    out = bytearray(struct.pack("<B3BIHH20x", 0x03, date.year - 1900, date.month, date.day, len(records),
                                header_length, record_length))
    for f in fields:
        name = f.name.encode("ascii")
        if len(name) > 10:
            raise ValueError(f"DBF field name {f.name!r} longer than 10 characters")
        out += struct.pack("<11sc4xBB14x", name, f.type.encode("ascii"), f.length, f.decimals)
    out += b"\x0d"
    for rec in records:
        out += b" " + b"".join(_dbf_value(f, v, encode) for f, v in zip(fields, rec, strict=True))
    out += b"\x1a"
    path.write_bytes(bytes(out))


def write_polygons(base: Path, geoms: Sequence, fields: Sequence[DbfField], records: Sequence[Sequence],
                   encode: Callable[[str], bytes], prj_wkt: str) -> list[Path]:
    """Write ``base``.shp/.shx/.dbf/.prj; returns the paths written."""
    base.parent.mkdir(parents=True, exist_ok=True)
    bodies = [_polygon_record(g) for g in geoms]
    bounds = shapely.total_bounds(np.asarray(geoms, dtype=object))
    shp = bytearray()
    shx = bytearray()
    offset = 50  # words: after the 100-byte header
    for number, body in enumerate(bodies, start=1):
        words = len(body) // 2
        shp += struct.pack(">2i", number, words) + body
        shx += struct.pack(">2i", offset, words)
        offset += 4 + words
    paths = [base.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj")]
    paths[0].write_bytes(_main_header(50 + len(shp) // 2, bounds) + bytes(shp))
    paths[1].write_bytes(_main_header(50 + len(shx) // 2, bounds) + bytes(shx))
    write_dbf(paths[2], fields, records, encode)
    paths[3].write_text(prj_wkt, encoding="ascii")
    return paths
