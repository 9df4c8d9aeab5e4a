"""Convex quadrilaterals decided valid from their coordinates give GEOS's verdict on every kind of quadrilateral
(landgeo.validation.quads, used by the per-feature checks of a load)."""

from __future__ import annotations

import numpy as np
import shapely

from landgeo.validation.features import _is_valid
from landgeo.validation.quads import known_valid


def _decide(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    type_ids = shapely.get_type_id(geoms)
    coords, cidx = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(cidx, minlength=len(geoms))
    bounds = shapely.bounds(geoms)
    known = known_valid(geoms, type_ids, coords, np.cumsum(counts) - counts, counts, bounds)
    return known, _is_valid(geoms, np.arange(len(geoms)), type_ids, coords, counts, bounds)


def _quads(rng: np.random.Generator, n: int, origin: tuple[float, float], size: float) -> np.ndarray:
    corners = np.array(origin) + rng.random((n, 4, 2)) * size
    snap = rng.random(n) < 0.3  # many on a coarse grid: collinear corners, repeated corners, touching edges
    corners[snap] = np.array(origin) + np.round(rng.random((int(snap.sum()), 4, 2)) * 3) * size / 3
    ring = np.concatenate([corners, corners[:, :1]], axis=1)
    return shapely.polygons(ring)


def test_random_quadrilaterals_get_geos_verdicts():
    rng = np.random.default_rng(11)
    geoms = np.concatenate([
        _quads(rng, 20_000, (600_000.0, 1_190_000.0), 30.0),  # TM-3 metres
        _quads(rng, 20_000, (105.75, 10.5), 3e-4),  # degrees
        _quads(rng, 5_000, (-1.0, -1.0), 2.0),  # around zero: edges not computed exactly
    ])
    known, valid = _decide(geoms)
    truth = shapely.is_valid(geoms)
    assert (valid == truth).all()
    assert truth[known].all()  # decided valid here: valid for GEOS too
    assert 0.1 < known.mean() < truth.mean()  # a real share is decided without GEOS, never an invalid one
    assert (~truth).sum() > 1000  # bow-ties, collapsed and repeated corners were in the sample


def test_near_degenerate_and_special_shapes_are_left_to_geos():
    x, y = 600_000.0, 1_190_000.0
    shapes = [
        [(x, y), (x + 10, y), (x + 20, y + 1e-11), (x + 10, y + 10), (x, y)],  # a corner turning by ~1e-12
        [(x, y), (x + 10, y), (x + 20, y), (x + 10, y + 10), (x, y)],  # collinear corners
        [(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10), (x, y)],  # bow-tie
        [(x, y), (x + 10, y), (x + 10, y), (x, y + 10), (x, y)],  # repeated corner (valid for GEOS)
        [(x, y), (x + 10, y), (x + 2, y + 2), (x, y + 10), (x, y)],  # concave dart (valid for GEOS)
        [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)],  # on the axes: not computed exactly
    ]
    geoms = shapely.polygons([np.array(s) for s in shapes])
    known, valid = _decide(geoms)
    assert not known.any()
    assert (valid == shapely.is_valid(geoms)).all()


def test_holes_parts_and_multipolygons():
    square = shapely.box(600_000, 1_190_000, 600_010, 1_190_010)
    hole = shapely.box(600_002, 1_190_002, 600_004, 1_190_004)
    geoms = np.array([
        square,
        shapely.multipolygons([square]),  # one part: decided here
        shapely.multipolygons([square, shapely.box(600_020, 1_190_000, 600_030, 1_190_010)]),
        shapely.Polygon(square.exterior.coords, [hole.exterior.coords]),
        shapely.multipolygons([shapely.Polygon(square.exterior.coords, [hole.exterior.coords])]),
        shapely.from_wkt("POLYGON EMPTY"),
    ], dtype=object)
    known, valid = _decide(geoms)
    assert known.tolist() == [True, True, False, False, False, False]
    assert (valid == shapely.is_valid(geoms)).all()


def test_keeping_freed_memory_is_harmless_to_call():
    from loaders.memory import keep_freed_memory

    assert keep_freed_memory() in (True, False)  # True on glibc (Linux), False elsewhere
    assert np.ones(1 << 20).sum() == 1 << 20
