"""Validity of four-cornered parcels (thửa đất bốn góc) decided from their coordinates, without GEOS.

Most cadastral parcels are quadrilaterals: one ring of five coordinates (four corners and the closing one), no
hole, one part. Such a polygon is valid exactly when its ring does not cross or touch itself; when the ring turns
the same way, strictly, at each of its four corners it is a convex quadrilateral (four turns of the same sign
cannot wind twice), which is valid. :func:`known_valid` finds the features for which that is certain in floating
point — every edge vector computed exactly (all its coordinates of the same sign and within a factor of two of
each other, axis by axis: Sterbenz), and every turn (cross product of consecutive edges) far enough from zero that
its rounding cannot change its sign — and leaves every other feature (concave, near-degenerate, with holes or
several parts, …) to ``shapely.is_valid``. GEOS decides orientation exactly, so the verdicts are the same; only
the cost differs (tested against GEOS on random, degenerate and self-crossing quadrilaterals).
"""

from __future__ import annotations

import numpy as np
import shapely

_POLYGON, _MULTIPOLYGON = 3, 6
_CORNERS = 4  # distinct corners; the ring has one more coordinate, the closing one
# |cross| must exceed this share of |ax·by| + |ay·bx| for its sign to be certain: each product and the difference
# round by at most half an ulp (2**-53 relative), so a few ulps' margin suffices; this one is far larger.
_TURN_MARGIN = 1e-12
_TINY = 1e-290


def known_valid(geoms: np.ndarray, type_ids: np.ndarray, coords: np.ndarray, starts: np.ndarray,
                counts: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """True where the feature is certainly a valid convex quadrilateral (see the module docstring); False means
    "not decided here", not invalid. ``coords`` are ``shapely.get_coordinates`` of a set of geometries, feature
    i's at ``starts[i] : starts[i] + counts[i]``; ``geoms``, ``type_ids``, ``starts``, ``counts`` and ``bounds``
    (``shapely.bounds``) are per feature."""
    out = np.zeros(len(geoms), dtype=bool)
    five = (counts == _CORNERS + 1) & ((type_ids == _POLYGON) | (type_ids == _MULTIPOLYGON))
    five &= _exact_differences(bounds[:, 0], bounds[:, 2]) & _exact_differences(bounds[:, 1], bounds[:, 3])
    five = np.flatnonzero(five)
    if not len(five):
        return out
    five = five[_one_ring(geoms[five], type_ids[five])]
    if not len(five):
        return out
    at = starts[five]
    xs, ys = coords[:, 0], coords[:, 1]
    x = [xs[at + k] for k in range(_CORNERS + 1)]  # corner k of every ring, as contiguous arrays
    y = [ys[at + k] for k in range(_CORNERS + 1)]
    ok = (x[0] == x[-1]) & (y[0] == y[-1])  # closed (GEOS keeps rings so)
    ex = [x[k + 1] - x[k] for k in range(_CORNERS)]  # edge k, from corner k to k + 1: exact (bounds above)
    ey = [y[k + 1] - y[k] for k in range(_CORNERS)]
    left, right = ok.copy(), ok
    for k in range(_CORNERS):  # the turn at corner k + 1: edge k × edge k + 1
        n = (k + 1) % _CORNERS
        ab, ba = ex[k] * ey[n], ey[k] * ex[n]
        cross = ab - ba
        bound = (np.abs(ab) + np.abs(ba)) * _TURN_MARGIN + _TINY  # and no product lost precision underflowing
        left &= cross > bound
        right &= cross < -bound
    out[five] = left | right
    return out


def _one_ring(geoms: np.ndarray, type_ids: np.ndarray) -> np.ndarray:
    """Polygons without holes and multipolygons of one such polygon (an empty hole counts as a hole)."""
    polygon = type_ids == _POLYGON
    out = np.zeros(len(geoms), dtype=bool)
    out[polygon] = shapely.get_num_interior_rings(geoms[polygon]) == 0
    multi = np.flatnonzero(~polygon)
    if len(multi):
        one = shapely.get_num_geometries(geoms[multi]) == 1
        multi = multi[one]
        out[multi] = shapely.get_num_interior_rings(shapely.get_geometry(geoms[multi], 0)) == 0
    return out


def _exact_differences(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Where every difference of two values in ``[lo, hi]`` is computed without rounding: all of the same sign and
    within a factor of two of each other (Sterbenz's lemma)."""
    with np.errstate(invalid="ignore"):
        return ((lo > 0) & (hi <= 2 * lo)) | ((hi < 0) & (lo >= 2 * hi))
