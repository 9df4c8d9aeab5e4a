"""Transform stage (chuyển đổi đỉnh): the vertices of one batch in VN-2000 geographic and WGS 84, each PROJ call
made on as few points as give the same result.

The same PROJ operation on the same input gives the same output, so a point that repeats need not be transformed
twice. Two kinds of repetition, found at different costs:

* a ring's closing vertex is its first one (a polygon ring is closed: exactly equal coordinates) — known from the
  ring offsets for nothing: a fifth of the coordinates of four-cornered parcels;
* neighbouring parcels share corners on digitised cadastral maps (a grid of thửa đất: one distinct corner for each
  four ring vertices) — found by hashing the 16 bytes of each point (Arrow's dictionary encoding), which costs
  more per point than it saves when few points repeat (separate parcels with strips between them, as on scanned
  old maps: measured 0.25 µs a point to hash vs 0.4 µs to transform to both CRSs). So the batch's first sixteenth
  is hashed as a sample, and the whole batch is (closing vertices included) only when at most
  :data:`SHARE_WORTH_HASHING` of the sample's points are distinct; otherwise only the closing vertices are left
  out.

Results are bit for bit those of :meth:`~loaders.source_crs.CrsPlan.vertices` on every coordinate (tested).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from landgeo.db import ewkb
from loaders.source_crs import CrsPlan

SAMPLE = 16  # the first 1/SAMPLE of a batch's points is hashed to decide
SHARE_WORTH_HASHING = 0.6  # distinct share of the sample below which the whole batch is hashed
MIN_POINTS = 1024  # smaller batches are transformed as they are


def vertices(plan: CrsPlan, parts: ewkb.Parts, wgs84: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """:meth:`CrsPlan.vertices` of a batch's coordinates (``parts.coords``), same result, fewer points
    transformed (see the module docstring)."""
    xy = np.ascontiguousarray(parts.coords, dtype=np.float64)
    if len(xy) < MIN_POINTS:
        return plan.vertices(xy, wgs84=wgs84)
    sample = xy[: max(MIN_POINTS, len(xy) // SAMPLE)]
    if len(_encode(sample).dictionary) <= SHARE_WORTH_HASHING * len(sample):
        encoded = _encode(xy)  # closing vertices are among the repeated points
        distinct = np.frombuffer(encoded.dictionary.buffers()[1], dtype=np.float64).reshape(-1, 2)
        index = encoded.indices.to_numpy()
        return tuple(None if arr is None else arr[index] for arr in plan.vertices(distinct, wgs84=wgs84))
    closing, first = _closing_vertices(parts, xy)
    if not len(closing):
        return plan.vertices(xy, wgs84=wgs84)
    keep = np.ones(len(xy), dtype=bool)
    keep[closing] = False
    source = _source_rows(keep, closing, first)
    return tuple(None if arr is None else np.take(arr, source, axis=0)
                 for arr in plan.vertices(xy[keep], wgs84=wgs84))


def _closing_vertices(parts: ewkb.Parts, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ring-closing coordinates equal to their ring's first one, and of those first ones."""
    if parts.geometry_type != "MultiPolygon":
        return np.empty(0, np.int64), np.empty(0, np.int64)
    offsets = parts.offsets[-1]
    starts, ends = offsets[:-1], offsets[1:] - 1
    ring = ends - starts >= 3  # rings of at least four coordinates (an empty polygon has no ring)
    starts, ends = starts[ring], ends[ring]
    same = (xy[starts] == xy[ends]).all(axis=1)
    return ends[same], starts[same]


def _source_rows(keep: np.ndarray, closing: np.ndarray, first: np.ndarray) -> np.ndarray:
    """For every coordinate, its row among the transformed (kept) ones: a ring's closing vertex takes its first
    vertex's row (one gather per output array instead of a masked scatter)."""
    kept = np.flatnonzero(keep)
    source = np.empty(len(keep), dtype=np.int64)
    source[kept] = np.arange(len(kept), dtype=np.int64)
    source[closing] = source[first]  # a ring's first vertex comes before its closing one and is kept
    return source


def _encode(xy: np.ndarray) -> pa.DictionaryArray:
    xy = np.ascontiguousarray(xy)
    points = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(xy), [None, pa.py_buffer(xy)])
    return points.dictionary_encode()
