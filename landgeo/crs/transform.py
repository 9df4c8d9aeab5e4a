"""Coordinate transformation (chuyển đổi tọa độ) with the official VN-2000 <-> WGS 84 operation pinned.

Across the VN-2000 / WGS 84 datum boundary the operation is always EPSG:6960 (Decision 05/2007/QĐ-BTNMT,
7-parameter coordinate-frame Helmert). PROJ's own choice is EPSG:5194 inside the Mekong delta and
Hồ Chí Minh City (about 0.8 m away), so ``transform`` never lets PROJ choose: it chains
  source -> its geographic CRS -> (official Helmert) -> WGS 84 -> target datum -> target,
each step unambiguous. HN-72 <-> WGS 84 uses PROJ's EPSG operation (Hanoi 1972 to WGS 84 (1));
HN-72 <-> VN-2000 goes through WGS 84.
"""

from __future__ import annotations

import threading

import numpy as np
import pyproj
from numpy.typing import ArrayLike
from pyproj.enums import TransformDirection

from landgeo.crs.parse import resolve
from landgeo.crs.registry import CRS, from_epsg
from landgeo.crs.srids import HN72_GEOGRAPHIC, VN2000_GEOGRAPHIC, WGS84
from landgeo.crs.tmerc import checked as tm_inverse
from landgeo.errors import UserError

OFFICIAL_OPERATION = "urn:ogc:def:coordinateOperation:EPSG::6960"
HN72_OPERATION = "urn:ogc:def:coordinateOperation:EPSG::1544"

_GEOGRAPHIC = {"VN-2000": VN2000_GEOGRAPHIC, "WGS 84": WGS84, "HN-72": HN72_GEOGRAPHIC}
_local = threading.local()


def _cache() -> dict:
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    return cache


class _Step:
    """One unambiguous pyproj step, in lon/lat (east/north) order on both sides."""

    def __init__(self, transformer: pyproj.Transformer, swap: bool = False,
                 direction: TransformDirection = TransformDirection.FORWARD):
        self.transformer = transformer
        self.swap = swap  # the operation is defined in lat/lon order (EPSG geographic axis order)
        self.direction = direction

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.swap:
            lat, lon = self.transformer.transform(y, x, direction=self.direction, errcheck=False)
            return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        a, b = self.transformer.transform(x, y, direction=self.direction, errcheck=False)
        return np.asarray(a, dtype=float), np.asarray(b, dtype=float)


class _ArrayStep(_Step):
    """A step PROJ defines and numpy evaluates, array by array (an inverse Transverse Mercator: landgeo.crs.tmerc)."""

    def __init__(self, transformer: pyproj.Transformer, evaluate):
        super().__init__(transformer)
        self.evaluate = evaluate

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.evaluate(x, y)


def _same_datum(src: CRS, dst: CRS) -> _Step:
    transformer = pyproj.Transformer.from_crs(src.to_pyproj(), dst.to_pyproj(), always_xy=True)
    inverse = tm_inverse(transformer) if src.kind == "projected" and dst.kind == "geographic" else None
    return _Step(transformer) if inverse is None else _ArrayStep(transformer, inverse)


def _datum_shift(src_datum: str, dst_datum: str) -> list[_Step]:
    """Geographic src datum -> geographic dst datum, lon/lat order, through WGS 84."""
    steps: list[_Step] = []
    if src_datum == "VN-2000":
        steps.append(_Step(pyproj.Transformer.from_pipeline(OFFICIAL_OPERATION), swap=True))
    elif src_datum == "HN-72":
        steps.append(_Step(pyproj.Transformer.from_pipeline(HN72_OPERATION), swap=True))
    if dst_datum == "VN-2000":
        steps.append(_Step(pyproj.Transformer.from_pipeline(OFFICIAL_OPERATION), swap=True,
                           direction=TransformDirection.INVERSE))
    elif dst_datum == "HN-72":
        steps.append(_Step(pyproj.Transformer.from_pipeline(HN72_OPERATION), swap=True,
                           direction=TransformDirection.INVERSE))
    return steps


def _steps(src: CRS, dst: CRS) -> list[_Step]:
    key = (src, dst)
    cache = _cache()
    if key not in cache:
        if src.datum == dst.datum:
            steps = [] if src == dst else [_same_datum(src, dst)]
        else:
            src_geo = from_epsg(_GEOGRAPHIC[src.datum])
            dst_geo = from_epsg(_GEOGRAPHIC[dst.datum])
            steps = []
            if src != src_geo:
                steps.append(_same_datum(src, src_geo))
            steps += _datum_shift(src.datum, dst.datum)
            if dst != dst_geo:
                steps.append(_same_datum(dst_geo, dst))
        cache[key] = steps
    return cache[key]


def transform(src: CRS | str | int, dst: CRS | str | int, x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates, vectorised, in east/north (projected) or lon/lat (geographic) order.

    VN-2000 <-> WGS 84 always uses the official EPSG:6960 operation. Returns float arrays of the
    input's shape; points that cannot be transformed become NaN (``UserError`` if shapes differ).
    """
    src, dst = resolve(src), resolve(dst)
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.shape != ys.shape:
        raise UserError(f"x and y have different shapes: {xs.shape} and {ys.shape}")
    shape = xs.shape
    xs, ys = xs.ravel().copy(), ys.ravel().copy()
    for step in _steps(src, dst):
        xs, ys = step(xs, ys)
    xs[~np.isfinite(xs) | ~np.isfinite(ys)] = np.nan
    ys[np.isnan(xs)] = np.nan
    return xs.reshape(shape), ys.reshape(shape)


def describe(src: CRS | str | int, dst: CRS | str | int) -> list[str]:
    """Human-readable names of the operations ``transform`` chains for this pair (for logs and docs)."""
    out = []
    for step in _steps(resolve(src), resolve(dst)):
        name = step.transformer.description or step.transformer.name
        if step.direction == TransformDirection.INVERSE:
            name = f"inverse of {name}"
        out.append(name)
    return out
