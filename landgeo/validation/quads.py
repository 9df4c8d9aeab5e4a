"""Validity of four-cornered parcels (thửa đất bốn góc) decided from their coordinates, without GEOS.

Most cadastral parcels are quadrilaterals: one ring of five coordinates (four corners and the closing one), no
hole, one part. Such a polygon is valid exactly when its ring does not cross or touch itself; when the ring turns
the same way, strictly, at each of its four corners it is a convex quadrilateral (four turns of the same sign
cannot wind twice), which is valid. :func:`known_valid` finds the features for which that is certain in floating
point — every edge vector computed exactly (both coordinates of the same sign and within a factor of two of each
other: Sterbenz), and every turn (cross product of consecutive edges) far enough from zero that its rounding cannot
change its sign — and leaves every other feature (concave, near-degenerate, with holes or several parts, …) to
``shapely.is_valid``. GEOS decides orientation exactly, so the verdicts are the same; only the cost differs
(tested against GEOS on random, degenerate and self-crossing quadrilaterals).
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
                counts: np.ndarray) -> np.ndarray:
    """True where the feature is certainly a valid convex quadrilateral (see the module docstring); False means
    "not decided here", not invalid. ``coords`` are ``shapely.get_coordinates`` of a set of geometries, feature
    i's at ``starts[i] : starts[i] + counts[i]``; ``geoms``, ``type_ids``, ``starts``, ``counts`` are per feature."""
    out = np.zeros(len(geoms), dtype=bool)
    five = np.flatnonzero((counts == _CORNERS + 1) & ((type_ids == _POLYGON) | (type_ids == _MULTIPOLYGON)))
    if not len(five):
        return out
    single = _one_ring(geoms[five], type_ids[five])
    five = five[single]
    if not len(five):
        return out
    ring = coords[starts[five][:, None] + np.arange(_CORNERS + 1)]  # (m, 5, 2)
    p, q = ring[:, :-1], ring[:, 1:]  # each edge from p to q; the ring is closed (GEOS keeps it so)
    closed = (ring[:, 0] == ring[:, -1]).all(axis=1)
    exact = _exact_difference(p, q).all(axis=(1, 2))
    edge = q - p  # (m, 4, 2)
    a, b = edge, np.roll(edge, -1, axis=1)  # consecutive edges, meeting at corners 1, 2, 3, 0
    ab, ba = a[..., 0] * b[..., 1], a[..., 1] * b[..., 0]
    cross = ab - ba
    size = np.abs(ab) + np.abs(ba)
    sure = (np.abs(cross) > _TURN_MARGIN * size) & (size > _TINY)  # and no product lost precision underflowing
    left, right = (cross > 0).all(axis=1), (cross < 0).all(axis=1)
    out[five] = closed & exact & sure.all(axis=1) & (left | right)
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


def _exact_difference(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Where ``q - p`` is computed without rounding: equal values, or the same sign and within a factor of two
    (Sterbenz's lemma)."""
    with np.errstate(invalid="ignore"):
        return (p == q) | ((p > 0) & (q > 0) | (p < 0) & (q < 0)) & (np.abs(q) <= 2 * np.abs(p)) \
            & (np.abs(p) <= 2 * np.abs(q))
