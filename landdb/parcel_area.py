"""The legal area of a parcel (diện tích pháp lý): measured in its province's VN-2000 TM-3 plane.

``area_srid`` is the TM-3 CRS of the plane (the source file's when it is one, else the province's zone);
``computed_area`` the area there in m², rounded to 2 decimals — what trigger ``landdb.parcel_derive`` stores for a
row written by any other writer. The loader computes both for the targets whose catalogue entry lists them in
``computed_columns``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely

from landgeo.crs import province_zone, transform
from landgeo.crs.srids import VN2000_GEOGRAPHIC
from landgeo.errors import UserError


def area_srids(source_tm3_srid: int | None, provinces: pa.Array | None, cache: dict,
               communes: pa.Array | None = None, surveyed: dict[str, str] | None = None) -> pa.Array:
    """The TM-3 SRID where each parcel's legal area is measured: the source's; else the zone of the province the
    parcel was surveyed under (``surveyed``: commune code -> province of the 63,
    :func:`landdb.admin_units.survey_province_lookup`) — the central meridian of the former province, which
    cadastral data keep after the 2025 merger; else its (current) province's zone."""
    if source_tm3_srid:
        return pa.array(np.full(len(provinces) if provinces is not None else 0, source_tm3_srid, dtype=np.int32))
    old = [surveyed.get(c) if c else None for c in communes.to_pylist()] if communes is not None and surveyed \
        else [None] * len(provinces)
    out = []
    for code, before in zip(provinces.to_pylist(), old, strict=True):
        key = (code, before)
        if key not in cache:
            cache[key] = _zone(before, "2004") or _zone(code, None)
        out.append(cache[key])
    return pa.array(out, pa.int32())


def _zone(province: str | None, generation: str | None) -> int | None:
    if not province:
        return None
    try:
        return province_zone(province, generation).srid
    except UserError:
        return None


def legal_area(source_tm3_srid: int | None, geoms: np.ndarray, area_srids: pa.Array, canonical: np.ndarray
               ) -> pa.Array:
    """Area in the TM-3 plane of each parcel's ``area_srid``, m² rounded to 2 decimals (what trigger
    landdb.parcel_derive would store): from the source coordinates when the file is in that plane, else from
    the VN-2000 coordinates projected into it."""
    srids = area_srids.to_numpy(zero_copy_only=False)
    if source_tm3_srid and (srids == source_tm3_srid).all():
        return pa.array(np.round(shapely.area(geoms), 2))
    planar = shapely.set_coordinates(geoms.copy(), canonical)  # new geometries; the caller's stay as they are
    area = np.full(len(geoms), np.nan)
    for srid in np.unique(srids[~np.isnan(srids.astype(float))]).astype(int):
        rows = np.flatnonzero(srids == srid)

        def to_plane(xy: np.ndarray, srid: int = int(srid)) -> np.ndarray:
            x, y = transform(VN2000_GEOGRAPHIC, srid, xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        area[rows] = shapely.area(shapely.transform(planar[rows], to_plane))
    return pa.array(np.round(area, 2), mask=np.isnan(area))
