"""Vectorised EWKB of shapely geometries, without building output geometries (no Python loop per row).

The geometries are decomposed once (``decompose``: per-level counts/offsets and the (N, 2) coordinates, in
``shapely.get_coordinates`` order) and can then be encoded any number of times with other coordinates of
the same structure (``encode(parts, srid, coords=...)``), e.g. the same parcels in VN-2000 and in WGS 84.

Output: little-endian EWKB, 2D (Z/M are dropped), SRID flag 0x20000000 and SRID on the outer geometry only,
single parts promoted to the target multi type — byte for byte ``shapely.to_wkb(promoted, include_srid=True,
byte_order=1)`` of ``shapely.set_srid(promoted, srid)``::

    MultiPolygon     01 | uint32 6|flag | uint32 srid | uint32 npolygons | polygons
      polygon        01 | uint32 3 | uint32 nrings | rings: uint32 npoints | npoints × (float64 x, float64 y)
    MultiLineString  01 | uint32 5|flag | srid | uint32 nlines | lines: 01 | uint32 2 | uint32 npoints | points
    MultiPoint       01 | uint32 4|flag | srid | uint32 npoints | points: 01 | uint32 1 | x | y
    Point            01 | uint32 1|flag | srid | x | y        (POINT EMPTY: x = y = NaN)

Each nesting level is the row-wise concatenation (``copybin.concat_rows``) of a packed numpy header array
and spans of the level below: a few memcpys in C++ per level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely

from landgeo.db.copybin import (
    binary_array,
    concat_rows,
    cumulative,
    fixed_array,
    ragged_positions,
    spans,
    validity_bitmap,
)

SRID_FLAG = 0x20000000
WKB_CODES = {"Point": 1, "LineString": 2, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}
# shapely type ids accepted for each target type: (single part, multi part)
_ACCEPTS = {"MultiPolygon": (3, 6), "MultiLineString": (1, 5), "MultiPoint": (0, 4), "Point": (0, None)}
_SHAPELY_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
                  5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}

_OUTER = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("count", "<u4")])  # 13 bytes
_INNER = np.dtype([("order", "u1"), ("type", "<u4"), ("count", "<u4")])  # 9 bytes
_ONE_RING = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("polygons", "<u4"),  # 30 bytes
                      ("polygon_order", "u1"), ("polygon_type", "<u4"), ("rings", "<u4"), ("points", "<u4")])
_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("xy", "<f8", (2,))])  # 21 bytes
_SRID_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("xy", "<f8", (2,))])  # 25 bytes


@dataclass(frozen=True)
class Parts:
    """Ragged decomposition of a geometry array into ``geometry_type``.

    ``offsets``, outermost first, int64: MultiPolygon (rows→polygons, polygons→rings, rings→coordinates),
    MultiLineString (rows→lines, lines→coordinates), MultiPoint (rows→points), Point (none: one point per
    row). ``coords``: the (N, 2) coordinates, in ``shapely.get_coordinates`` order. ``empty_points``
    (MultiPoint: per point, Point: per row) marks empty points, which have no coordinates and are written
    as NaN NaN."""

    geometry_type: str
    valid: np.ndarray
    offsets: tuple[np.ndarray, ...]
    coords: np.ndarray
    empty_points: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.valid)


def ewkb(geoms: np.ndarray, srid: int, geometry_type: str, coords: np.ndarray | None = None) -> pa.Array:
    """EWKB (binary array, NULL where ``geoms`` is None) of ``geoms`` promoted to ``geometry_type``, with
    ``coords`` (in ``shapely.get_coordinates`` order) instead of the geometries' own when given."""
    return encode(decompose(geoms, geometry_type), srid, coords)


def decompose(geoms: np.ndarray, geometry_type: str) -> Parts:
    """Counts/offsets and 2D coordinates of ``geoms`` as ``geometry_type`` (ValueError for a geometry
    that does not fit, e.g. a LineString in a MultiPolygon column or a MultiPoint in a Point column)."""
    if geometry_type not in _ACCEPTS:
        raise ValueError(f"geometry type {geometry_type!r} not supported: one of {', '.join(_ACCEPTS)}")
    geoms = np.asarray(geoms, dtype=object)
    type_ids = shapely.get_type_id(geoms)
    _check_types(type_ids, geometry_type)
    valid = type_ids >= 0
    coords = shapely.get_coordinates(geoms)
    if geometry_type == "Point":
        return Parts(geometry_type, valid, (), coords, empty_points=~valid | shapely.is_empty(geoms))
    single, multi = _ACCEPTS[geometry_type]
    row_offsets, parts = _parts(geoms, type_ids, single, multi)
    if geometry_type == "MultiPoint":
        return Parts(geometry_type, valid, (row_offsets,), coords, empty_points=shapely.is_empty(parts))
    if geometry_type == "MultiLineString":
        return Parts(geometry_type, valid, (row_offsets, cumulative(shapely.get_num_coordinates(parts))), coords)
    ring_offsets, coord_offsets = _rings(parts)
    return Parts(geometry_type, valid, (row_offsets, ring_offsets, coord_offsets), coords)


def _check_types(type_ids: np.ndarray, geometry_type: str) -> None:
    accepted = [t for t in _ACCEPTS[geometry_type] if t is not None]
    bad = (type_ids >= 0) & ~np.isin(type_ids, accepted)
    if bad.any():
        found = sorted({_SHAPELY_NAMES.get(int(t), str(t)) for t in np.unique(type_ids[bad])})
        raise ValueError(f"{int(bad.sum())} geometries do not fit a {geometry_type} column "
                         f"(first at row {int(np.argmax(bad))}): {', '.join(found)}")


def _parts(geoms: np.ndarray, type_ids: np.ndarray, single: int, multi: int) -> tuple[np.ndarray, np.ndarray]:
    """Row offsets into the parts, and the parts (a single geometry is its own only part)."""
    is_single, is_multi = type_ids == single, type_ids == multi
    if not is_multi.any():
        return cumulative(is_single), geoms[is_single]
    multi_rows = np.flatnonzero(is_multi)
    counts = is_single.astype(np.int64)
    counts[multi_rows] = shapely.get_num_geometries(geoms[multi_rows])
    row_offsets = cumulative(counts)
    parts = np.empty(int(row_offsets[-1]), dtype=object)
    single_rows = np.flatnonzero(is_single)
    parts[row_offsets[single_rows]] = geoms[single_rows]
    parts[ragged_positions(row_offsets[multi_rows], counts[multi_rows])] = shapely.get_parts(geoms[multi_rows])
    return row_offsets, parts


def _rings(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygon offsets into rings and ring offsets into coordinates (rings are made only for polygons with
    holes: the exterior of a hole-free polygon has all its coordinates; an empty polygon has no ring)."""
    ncoords = shapely.get_num_coordinates(polygons)
    nrings = np.where(ncoords == 0, 0, shapely.get_num_interior_rings(polygons) + 1)
    ring_offsets = cumulative(nrings)
    simple = nrings == 1
    if simple.all():
        return ring_offsets, cumulative(ncoords)
    ring_sizes = np.zeros(int(ring_offsets[-1]), dtype=np.int64)
    ring_sizes[ring_offsets[:-1][simple]] = ncoords[simple]
    holed = np.flatnonzero(nrings > 1)
    rings = shapely.get_rings(polygons[holed])
    ring_sizes[ragged_positions(ring_offsets[holed], nrings[holed])] = shapely.get_num_coordinates(rings)
    return ring_offsets, cumulative(ring_sizes)


def encode(parts: Parts, srid: int, coords: np.ndarray | None = None) -> pa.Array:
    """EWKB of a decomposition, optionally with replacement ``coords`` (same shape as ``parts.coords``)."""
    coords = np.ascontiguousarray(_replacement(parts, coords), dtype="<f8")
    kind = parts.geometry_type
    if kind == "Point":
        return _points(parts, srid, coords)
    if kind == "MultiPoint":
        members = _point_records(parts.empty_points, coords, _POINT)
        members["order"], members["type"] = 1, WKB_CODES["Point"]
        body = binary_array(members, parts.offsets[0] * _POINT.itemsize)
    elif kind == "MultiLineString":
        row_offsets, coord_offsets = parts.offsets
        body = spans(_level(np.diff(coord_offsets), WKB_CODES["LineString"], _coord_spans(coords, coord_offsets)),
                     row_offsets)
    else:
        row_offsets, ring_offsets, coord_offsets = parts.offsets
        one_each = np.arange(len(parts) + 1)
        if parts.valid.all() and np.array_equal(row_offsets, one_each) and np.array_equal(ring_offsets, one_each):
            return _one_ring_rows(srid, coords, coord_offsets)
        rings = concat_rows([fixed_array(np.diff(coord_offsets).astype("<u4")), _coord_spans(coords, coord_offsets)])
        polygons = _level(np.diff(ring_offsets), WKB_CODES["Polygon"], spans(rings, ring_offsets))
        body = spans(polygons, row_offsets)
    return _with_outer(parts, srid, body)


def _replacement(parts: Parts, coords: np.ndarray | None) -> np.ndarray:
    """The coordinates to write, checked against the decomposition. Points also take the layout of
    ``shapely.to_ragged_array`` for a Point array (a NaN row for each empty or missing point)."""
    if coords is None:
        return parts.coords
    coords = np.asarray(coords)
    expected = parts.coords.shape
    if coords.shape != expected and parts.empty_points is not None and coords.shape == (len(parts.empty_points), 2):
        coords = coords[~parts.empty_points]
    if coords.shape != expected:
        raise ValueError(f"coords has shape {coords.shape}, the geometries have {expected}")
    return coords


def _coord_spans(coords: np.ndarray, coord_offsets: np.ndarray) -> pa.Array:
    """Element i = the coordinate bytes of run i (zero copy)."""
    return binary_array(coords, coord_offsets * 16)


def _level(counts: np.ndarray, wkb_type: int, members: pa.Array) -> pa.Array:
    """Inner geometries: 9-byte header (order, type, count) + their members (a span of the level below)."""
    head = np.empty(len(counts), dtype=_INNER)
    head["order"], head["type"], head["count"] = 1, wkb_type, counts
    return concat_rows([fixed_array(head), members])


def _with_outer(parts: Parts, srid: int, body: pa.Array) -> pa.Array:
    """Rows: 13-byte EWKB header (order, type|SRID flag, srid, part count) + body; NULL rows empty."""
    valid = parts.valid
    head = np.empty(int(valid.sum()), dtype=_OUTER)
    head["order"], head["type"] = 1, WKB_CODES[parts.geometry_type] | SRID_FLAG
    head["srid"], head["count"] = srid, np.diff(parts.offsets[0])[valid]
    out = concat_rows([binary_array(head, cumulative(valid * _OUTER.itemsize)), body])
    return _set_validity(out, valid)


def _one_ring_rows(srid: int, coords: np.ndarray, coord_offsets: np.ndarray) -> pa.Array:
    """MultiPolygon rows of one polygon of one ring each (most parcels): the three headers of a row are one
    30-byte record, and a row is that record and its coordinates — one concatenation instead of one per level."""
    head = np.empty(len(coord_offsets) - 1, dtype=_ONE_RING)
    head["order"], head["type"], head["srid"], head["polygons"] = 1, WKB_CODES["MultiPolygon"] | SRID_FLAG, srid, 1
    head["polygon_order"], head["polygon_type"], head["rings"] = 1, WKB_CODES["Polygon"], 1
    head["points"] = np.diff(coord_offsets)
    return concat_rows([fixed_array(head), _coord_spans(coords, coord_offsets)])


def _points(parts: Parts, srid: int, coords: np.ndarray) -> pa.Array:
    """Point rows: one 25-byte record per non-NULL row."""
    valid = parts.valid
    rec = _point_records(parts.empty_points, coords, _SRID_POINT)[valid]
    rec["order"], rec["type"], rec["srid"] = 1, WKB_CODES["Point"] | SRID_FLAG, srid
    return _set_validity(binary_array(rec, cumulative(valid * _SRID_POINT.itemsize)), valid)


def _point_records(empty: np.ndarray, coords: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Records with the coordinates of the non-empty points and NaN NaN for the empty ones."""
    rec = np.empty(len(empty), dtype=dtype)
    rec["xy"][empty] = np.nan
    rec["xy"][~empty] = coords
    return rec


def _set_validity(arr: pa.Array, valid: np.ndarray) -> pa.Array:
    """``arr`` (offset 0, its NULL rows already empty) with NULL where not ``valid``."""
    bitmap = validity_bitmap(valid)
    if bitmap is None:
        return arr
    return pa.Array.from_buffers(arr.type, len(arr), [bitmap, *arr.buffers()[1:]], null_count=int((~valid).sum()))
