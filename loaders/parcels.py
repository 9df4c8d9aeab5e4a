"""Parcel helpers of the load (thửa đất): the province of each row (from the file, ``--province`` or its commune
in ``landdb.admin_unit``), and the legal area measured in the province's VN-2000 TM-3 plane. Used for the targets
whose catalogue entry asks for them (``province_from_commune``, ``computed_columns``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from landgeo.crs import province_zone, transform
from landgeo.crs.srids import VN2000_GEOGRAPHIC
from landgeo.errors import UserError
from loaders.checks import Reject
from loaders.source_crs import CrsPlan


def province_lookup(conn) -> dict[str, str]:
    """Commune code -> province code from landdb.admin_unit (current units; via the district before 2025)."""
    rows = conn.execute("""
        SELECT c.code, CASE WHEN p.level = 'province' THEN p.code ELSE p.parent_code END
        FROM landdb.admin_unit c
        LEFT JOIN landdb.admin_unit p ON p.code = c.parent_code AND p.level IN ('province', 'district')
             AND p.valid_to IS NULL
        WHERE c.level = 'commune' AND c.valid_to IS NULL AND c.parent_code IS NOT NULL""").fetchall()
    return {code: prov for code, prov in rows if prov}


def most_common(arr: pa.Array | None) -> str | None:
    if arr is None or arr.null_count == len(arr):
        return None
    counts = pc.value_counts(arr.drop_null())
    best = max(counts.to_pylist(), key=lambda d: d["counts"])
    return best["values"]


def province_or_option(cols: dict, n: int, option: str | None) -> pa.Array:
    """province_code from the file/mapping, its gaps filled with --province when given."""
    current = cols.get("province_code")
    if current is None:
        current = pa.nulls(n, pa.string())
    return pc.fill_null(current, option) if option else current


def fill_province(cols: dict, n: int, option: str | None, provinces_of: dict[str, str], extra: dict,
                   start: int) -> pa.Array:
    """province_code from the file/mapping, else --province, else the commune's province in admin_unit."""
    current = province_or_option(cols, n, option)
    if current.null_count == 0:
        return current
    communes = cols.get("commune_code")
    values = current.to_pylist()
    commune_values = communes.to_pylist() if communes is not None else [None] * n
    for i, v in enumerate(values):
        if v is None:
            found = provinces_of.get(commune_values[i]) if commune_values[i] else None
            values[i] = found
            if found is None and i not in extra:
                extra[i] = Reject(start + i, "attr.required_missing",
                                  f"no province for commune {commune_values[i]}: it is not in landdb.admin_unit; "
                                  "pass --province, a province_code constant, or load admin-units first")
    return pa.array(values, pa.string())


def area_srids(plan: CrsPlan, provinces: pa.Array | None, cache: dict) -> pa.Array:
    """The TM-3 SRID where each parcel's legal area is measured: the source's, or its province's zone."""
    if plan.tm3_srid:
        return pa.array(np.full(len(provinces) if provinces is not None else 0, plan.tm3_srid, dtype=np.int32))
    out = []
    for code in provinces.to_pylist():
        if code not in cache:
            try:
                cache[code] = province_zone(code).srid
            except UserError:
                cache[code] = None
        out.append(cache[code])
    return pa.array(out, pa.int32())


def legal_area(plan: CrsPlan, geoms: np.ndarray, area_srids: pa.Array, canonical: np.ndarray) -> pa.Array:
    """Area in the TM-3 plane of each parcel's ``area_srid``, m² rounded to 2 decimals (what trigger
    landdb.parcel_derive would store): from the source coordinates when the file is in that plane, else from
    the VN-2000 coordinates projected into it."""
    srids = area_srids.to_numpy(zero_copy_only=False)
    if plan.tm3_srid and (srids == plan.tm3_srid).all():
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
