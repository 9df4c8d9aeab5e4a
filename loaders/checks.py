"""Validate stage (kiểm tra khi nạp): per-feature checks from :mod:`landgeo.validation`, then repair or reject.

This module runs no check of its own: it calls :func:`landgeo.validation.check_features` on each batch (in
the source CRS) and acts on the findings: an ``error`` rejects the feature (one reason per feature in the
rejects report), except invalid geometry with ``--on-invalid repair``, which is repaired with
``shapely.make_valid`` (structure method) and kept if the repair leaves a geometry of the target's type.
Warnings are counted and reported, never rejected. Accepted geometries keep their type here; the EWKB
writer (:mod:`landgeo.db.ewkb`) promotes single parts to the target's multi-type.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import shapely

from landgeo.target import Target
from landgeo.validation.features import check_features

_MULTI = {"MultiPolygon": 6, "MultiLineString": 5, "MultiPoint": 4}
_SINGLE_OF = {"MultiPolygon": 3, "MultiLineString": 1, "MultiPoint": 0}


@dataclass
class Reject:
    """One rejected feature: where, why (the first error found for it), and what it looked like."""

    index: int
    code: str
    message: str


@dataclass
class BatchVerdict:
    geoms: np.ndarray  # accepted geometries (repaired where asked), None where rejected
    rejected: dict[int, Reject]  # batch row -> reason
    repaired: int = 0
    warnings: Counter = field(default_factory=Counter)


def check_batch(target: Target, geoms: np.ndarray, attrs: dict, *, crs, on_invalid: str, start: int,
                extra: dict[int, Reject] | None = None) -> BatchVerdict:
    """Run the per-feature checks on one batch and decide per feature: keep, repair or reject."""
    findings = check_features(target, geoms, attrs, crs=crs, detect=False)
    rejected: dict[int, Reject] = dict(extra or {})
    to_repair: list[int] = []
    warnings: Counter = Counter()
    for f in findings:
        if f.feature_index is None:
            if f.severity != "info":
                warnings[f.code] += 1
            continue
        i = f.feature_index
        if f.severity != "error":
            warnings[f.code] += 1
            continue
        if f.code == "geom.invalid" and on_invalid == "repair":
            to_repair.append(i)
            continue
        if i not in rejected:
            rejected[i] = Reject(start + i, f.code, f.message_en)
    geoms = geoms.copy()
    repaired = 0
    for i in to_repair:
        if i in rejected:
            continue
        fixed = _repair(geoms[i], target.geometry_type)
        if fixed is None:
            rejected[i] = Reject(start + i, "geom.invalid", "invalid geometry that repair (make_valid) could not "
                                 f"turn into a {target.geometry_type}")
        else:
            geoms[i] = fixed
            repaired += 1
    if rejected:
        geoms[list(rejected)] = None
    return BatchVerdict(geoms, rejected, repaired, warnings)


def _repair(geom, geometry_type: str):
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    wanted = _SINGLE_OF.get(geometry_type)
    if wanted is None:
        return fixed if shapely.is_valid(fixed) and not fixed.is_empty else None
    parts = [p for p in shapely.get_parts(fixed) if shapely.get_type_id(p) == wanted and not p.is_empty]
    for p in list(shapely.get_parts(fixed)):
        if shapely.get_type_id(p) == _MULTI[geometry_type]:
            parts.extend(shapely.get_parts(p))
    if not parts:
        return None
    out = {3: shapely.multipolygons, 1: shapely.multilinestrings, 0: shapely.multipoints}[wanted](parts)
    return out if shapely.is_valid(out) else None
