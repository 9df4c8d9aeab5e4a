"""Per-feature checks (kiểm tra từng đối tượng) on arrays of shapely 2 geometries and their attributes.

One implementation for everything that can be judged feature by feature: the loaders call it on incoming
files (in the file's CRS), :func:`landgeo.validation.run_validation` on stored rows. Geometry work is done
with shapely's array functions; only the findings themselves become Python objects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import shapely

from landgeo.catalog import Target
from landgeo.validation import reference
from landgeo.validation.config import DEFAULT, Tolerances
from landgeo.validation.registry import CHECKS, Finding

# shapely type ids
_POINT, _LINE, _RING, _POLY, _MPOINT, _MLINE, _MPOLY, _GC = range(8)
_ALLOWED = {"MultiPolygon": {_POLY, _MPOLY}, "Polygon": {_POLY}, "MultiLineString": {_LINE, _MLINE},
            "LineString": {_LINE}, "Point": {_POINT}, "MultiPoint": {_POINT, _MPOINT}}
_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
               "GeometryCollection")
_WHERE = re.compile(r"\[\s*([-+0-9.eE]+|nan|inf)\s+([-+0-9.eE]+|nan|inf)\s*\]")

# metres per degree (VN-2000 ellipsoid = WGS 84 axes): good to 0.5 % for the local lengths checked here
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0

# plausible coordinates in Vietnam (mainland + islands): geographic degrees, and VN-2000 TM-3/UTM metres
_GEO_RANGE = (101.0, 6.0, 118.5, 24.0)
_TM_RANGE = (0.0, 600_000.0, 1_100_000.0, 2_700_000.0)


def check_features(
    target: Target,
    geoms: np.ndarray | Sequence[Any],
    attrs: Mapping[str, Sequence[Any]],
    *,
    crs: Any = None,
    land_use_codes: Collection[str] | None = None,
    province_codes: Collection[str] | None = None,
    declared_crs: Any = None,
    province: str | None = None,
    detect: bool = True,
    tolerances: Tolerances = DEFAULT,
) -> list[Finding]:
    """Every per-feature finding for ``geoms`` (shapely 2 geometries in the input CRS) and ``attrs``.

    ``attrs`` maps target field names to one value per geometry. ``crs`` (EPSG code, pyproj CRS, WKT ...) says
    whether lengths are degrees or metres; without it the coordinates decide (all within ±180/±90 =
    geographic). ``land_use_codes``/``province_codes`` are the code domains (default: the reference lists
    shipped in ``schemas/reference/vn``, loaded once). ``declared_crs``/``province`` are passed to
    :func:`landgeo.crs.detect` for the dataset-level coordinate checks (``detect=False`` skips them).
    Findings carry ``feature_index`` (row in the inputs); dataset-level ones have it ``None``.
    """
    geoms = np.asarray(geoms, dtype=object)
    if geoms.ndim != 1:
        geoms = geoms.reshape(-1)
    n = len(geoms)
    for name, values in attrs.items():
        if len(values) != n:
            raise ValueError(f"attribute {name!r} has {len(values)} values for {n} geometries")
    out: list[Finding] = []
    if n == 0:
        return out
    geographic = _is_geographic(crs, geoms)

    missing = shapely.is_missing(geoms)
    empty = missing | np.asarray(shapely.is_empty(np.where(missing, None, geoms)), dtype=bool)
    type_ids = shapely.get_type_id(geoms)
    allowed = _ALLOWED.get(target.geometry_type, set())
    wrong_type = ~empty & ~np.isin(type_ids, list(allowed)) if allowed else np.zeros(n, bool)

    coords, cidx = shapely.get_coordinates(geoms, return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    nonfinite_count = np.bincount(cidx[~finite], minlength=n)
    nonfinite = nonfinite_count > 0

    for i in np.flatnonzero(empty):
        out.append(_f("geom.empty", i, None, {}))
    for i in np.flatnonzero(wrong_type):
        out.append(_f("geom.wrong_type", i, geoms[i], {"found": _TYPE_NAMES[type_ids[i]],
                                                        "expected": target.geometry_type}))
    for i in np.flatnonzero(nonfinite):
        out.append(_f("geom.nonfinite", i, None, {"count": int(nonfinite_count[i])}))

    usable = ~empty & ~wrong_type & ~nonfinite
    out += _range_findings(geoms, usable, crs, geographic)
    out += _vertex_findings(geoms, usable, type_ids, geographic, tolerances)
    out += _validity_findings(geoms, usable)
    if target.geometry_type in ("MultiPolygon", "Polygon"):
        out += _sliver_findings(geoms, usable, geographic, tolerances)
    out += _outlier_findings(geoms, usable, attrs, geographic, tolerances)
    if detect and finite.any():
        out += _detection_findings(coords[finite], crs if declared_crs is None else declared_crs, province)
    out += _attribute_findings(target, geoms, attrs, land_use_codes, province_codes)
    for f in out:
        f.target = target.id
    out.sort(key=lambda f: (-1 if f.feature_index is None else f.feature_index, f.code))
    return out


# -- helpers --------------------------------------------------------------------------------------------------


def _f(code: str, index: int | None, geometry: Any, details: dict[str, Any]) -> Finding:
    return CHECKS[code].finding(details, feature_index=None if index is None else int(index), geometry=geometry)


def _crs_object(crs: Any):
    if crs is None:
        return None
    from pyproj import CRS

    try:
        return CRS.from_user_input(crs)
    except Exception:  # noqa: BLE001 - an unreadable CRS leaves the decision to the coordinates
        return None


def _is_geographic(crs: Any, geoms: np.ndarray) -> bool:
    obj = _crs_object(crs)
    if obj is not None:
        return bool(obj.is_geographic)
    bounds = shapely.total_bounds(geoms[~shapely.is_missing(geoms)])
    if not np.all(np.isfinite(bounds)):
        coords = shapely.get_coordinates(geoms)
        coords = coords[np.isfinite(coords).all(axis=1)]
        if len(coords) == 0:
            return False
        bounds = np.array([*coords.min(axis=0), *coords.max(axis=0)])
    return bool(bounds[0] >= -180 and bounds[2] <= 180 and bounds[1] >= -90 and bounds[3] <= 90)


def _to_metres(xy: np.ndarray, geographic: bool) -> np.ndarray:
    """Local metric coordinates: degrees scaled by the length of a degree at each point's latitude."""
    if not geographic:
        return xy
    out = np.empty_like(xy, dtype=float)
    out[:, 0] = xy[:, 0] * _M_PER_DEG_LON * np.cos(np.radians(xy[:, 1]))
    out[:, 1] = xy[:, 1] * _M_PER_DEG_LAT
    return out


def _metric_geoms(geoms: np.ndarray, geographic: bool) -> np.ndarray:
    if not geographic:
        return geoms
    return shapely.transform(geoms, lambda xy: _to_metres(xy, True))


def _range_findings(geoms: np.ndarray, usable: np.ndarray, crs: Any, geographic: bool) -> list[Finding]:
    if geographic:
        lo_x, lo_y, hi_x, hi_y = _GEO_RANGE
        kind = "VN-2000/WGS 84 kinh vĩ độ (lon/lat)"
    else:
        obj = _crs_object(crs)
        if obj is not None and not _is_transverse_mercator_500k(obj):
            return []
        lo_x, lo_y, hi_x, hi_y = _TM_RANGE
        kind = "TM-3/UTM (E, N)"
    idx = np.flatnonzero(usable)
    if len(idx) == 0:
        return []
    b = shapely.bounds(geoms[idx])
    bad = (b[:, 0] < lo_x) | (b[:, 1] < lo_y) | (b[:, 2] > hi_x) | (b[:, 3] > hi_y)
    out = []
    for j in np.flatnonzero(bad):
        x = b[j, 0] if b[j, 0] < lo_x else b[j, 2] if b[j, 2] > hi_x else b[j, 0]
        y = b[j, 1] if b[j, 1] < lo_y else b[j, 3] if b[j, 3] > hi_y else b[j, 1]
        out.append(_f("geom.coordinate_range", idx[j], shapely.points(x, y),
                      {"x": float(x), "y": float(y), "crs_kind": kind}))
    return out


def _is_transverse_mercator_500k(obj) -> bool:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params = obj.to_dict()
    except Exception:  # noqa: BLE001
        return False
    if params.get("proj") == "utm":
        return True
    return params.get("proj") == "tmerc" and abs(float(params.get("x_0", 0)) - 500_000) < 1


def _paths(geoms: np.ndarray, indices: np.ndarray, type_ids: np.ndarray):
    """Rings of polygons and lines of line features, with the feature index of each and whether it is a ring."""
    polys = indices[np.isin(type_ids[indices], (_POLY, _MPOLY))]
    lines = indices[np.isin(type_ids[indices], (_LINE, _MLINE))]
    parts, pidx = shapely.get_parts(geoms[polys], return_index=True)
    rings, ridx = shapely.get_rings(parts, return_index=True)
    ring_feature = polys[pidx[ridx]] if len(rings) else np.empty(0, int)
    lparts, lidx = shapely.get_parts(geoms[lines], return_index=True)
    line_feature = lines[lidx] if len(lparts) else np.empty(0, int)
    paths = np.concatenate([rings, lparts]).astype(object)
    feature = np.concatenate([ring_feature, line_feature]).astype(int)
    is_ring = np.concatenate([np.ones(len(rings), bool), np.zeros(len(lparts), bool)])
    return paths, feature, is_ring


def _vertex_findings(geoms, usable, type_ids, geographic, tol: Tolerances) -> list[Finding]:
    """Too few vertices, repeated vertices and spikes, over all rings/lines at once."""
    paths, feature, is_ring = _paths(geoms, np.flatnonzero(usable), type_ids)
    if len(paths) == 0:
        return []
    xy, pid = shapely.get_coordinates(paths, return_index=True)
    counts = np.bincount(pid, minlength=len(paths))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # drop the closing vertex of each ring: rings become cyclic sequences
    keep = np.ones(len(xy), bool)
    closing = (starts + counts - 1)[is_ring & (counts > 0)]
    keep[closing] = False
    xy, pid = xy[keep], pid[keep]
    counts = np.bincount(pid, minlength=len(paths))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    m = _to_metres(xy, geographic)
    pos = np.arange(len(xy)) - starts[pid]
    # next vertex: cyclic for rings, none past the end of a line
    nxt = np.arange(len(xy)) + 1
    last = pos == counts[pid] - 1
    nxt[last] = starts[pid[last]]
    has_next = ~last | is_ring[pid]
    d = m[nxt] - m
    seg = np.hypot(d[:, 0], d[:, 1])
    repeated = has_next & (seg < tol.repeated_vertex_m) & (counts[pid] > 1)
    rep_count = np.bincount(pid[repeated], minlength=len(paths))
    distinct = counts - rep_count
    out: list[Finding] = []
    # too few distinct vertices
    minimum = np.where(is_ring, 3, 2)
    few = distinct < minimum
    reported_few = set()
    for p in np.flatnonzero(few):
        fi = int(feature[p])
        if fi in reported_few:
            continue
        reported_few.add(fi)
        out.append(_f("geom.too_few_vertices", fi, geoms[fi], {"distinct": int(distinct[p]),
                                                                "minimum": int(minimum[p])}))
    # repeated vertices, one finding per feature located at the first repetition
    rep_feature = np.bincount(feature[pid[repeated]], minlength=len(geoms)) if repeated.any() else None
    if rep_feature is not None:
        first_at = {}
        for v in np.flatnonzero(repeated):
            first_at.setdefault(int(feature[pid[v]]), v)
        for fi, v in first_at.items():
            if fi in reported_few:
                continue
            out.append(_f("geom.repeated_vertex", fi, shapely.points(xy[v]), {"count": int(rep_feature[fi])}))
    # spikes: on the sequence without repeated vertices
    ok_path = ~few
    sel = ~repeated & ok_path[pid]
    xy2, pid2, m2 = xy[sel], pid[sel], m[sel]
    counts2 = np.bincount(pid2, minlength=len(paths))
    starts2 = np.concatenate([[0], np.cumsum(counts2)[:-1]])
    pos2 = np.arange(len(xy2)) - starts2[pid2]
    first2, last2 = pos2 == 0, pos2 == counts2[pid2] - 1
    nxt2 = np.arange(len(xy2)) + 1
    prv2 = np.arange(len(xy2)) - 1
    nxt2[last2] = starts2[pid2[last2]]
    prv2[first2] = (starts2 + counts2 - 1)[pid2[first2]]
    interior = is_ring[pid2] | (~first2 & ~last2)
    if len(xy2):
        a = m2[prv2] - m2
        b = m2[nxt2] - m2
        na, nb = np.hypot(a[:, 0], a[:, 1]), np.hypot(b[:, 0], b[:, 1])
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = np.clip((a * b).sum(axis=1) / (na * nb), -1.0, 1.0)
        angle = np.degrees(np.arccos(cos))
        spike = interior & (na > 0) & (nb > 0) & (angle < tol.spike_angle_deg)
        seen = set()
        for v in np.flatnonzero(spike):
            fi = int(feature[pid2[v]])
            if fi in seen or fi in reported_few:
                continue
            seen.add(fi)
            out.append(_f("geom.spike", fi, shapely.points(xy2[v]), {"angle_deg": round(float(angle[v]), 3)}))
    return out


def _validity_findings(geoms: np.ndarray, usable: np.ndarray) -> list[Finding]:
    idx = np.flatnonzero(usable)
    if len(idx) == 0:
        return []
    valid = shapely.is_valid(geoms[idx])
    bad = idx[~valid]
    if len(bad) == 0:
        return []
    reasons = shapely.is_valid_reason(geoms[bad])
    out = []
    for i, reason in zip(bad, reasons, strict=True):
        reason = str(reason)
        where = _WHERE.search(reason)
        location = shapely.points(float(where.group(1)), float(where.group(2))) if where else geoms[i]
        out.append(_f("geom.invalid", i, location, {"reason": reason}))
    return out


def _sliver_findings(geoms, usable, geographic, tol: Tolerances) -> list[Finding]:
    idx = np.flatnonzero(usable & shapely.is_valid(geoms))
    if len(idx) == 0:
        return []
    metric = _metric_geoms(geoms[idx], geographic)
    area = shapely.area(metric)
    perimeter = shapely.length(metric)
    with np.errstate(invalid="ignore", divide="ignore"):
        width = np.where(perimeter > 0, 2 * area / perimeter, 0.0)
    bad = (area > 0) & (width < tol.sliver_width_m)
    return [_f("geom.sliver", idx[j], geoms[idx[j]], {"mean_width_m": round(float(width[j]), 3),
                                                       "area_m2": round(float(area[j]), 2)})
            for j in np.flatnonzero(bad)]


def _outlier_findings(geoms, usable, attrs, geographic, tol: Tolerances) -> list[Finding]:
    """Features far from the median centre of their commune (or of the whole dataset without communes)."""
    idx = np.flatnonzero(usable)
    if len(idx) < tol.outlier_min_group:
        return []
    b = shapely.bounds(geoms[idx])  # box centre: defined for invalid geometries too (centroids are not)
    centre = np.column_stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2])
    ok = np.isfinite(centre).all(axis=1)
    idx, centre = idx[ok], centre[ok]
    if "commune_code" in attrs:
        groups = np.array([str(v) if v is not None else "" for v in attrs["commune_code"]], dtype=object)[idx]
    else:
        groups = np.full(len(idx), "", dtype=object)
    out = []
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        if len(members) < tol.outlier_min_group:
            continue
        c = centre[members]
        med = np.median(c, axis=0)
        if geographic:
            scale = np.array([_M_PER_DEG_LON * math.cos(math.radians(med[1])), _M_PER_DEG_LAT])
        else:
            scale = np.array([1.0, 1.0])
        dxy = (c - med) * scale
        d = np.hypot(dxy[:, 0], dxy[:, 1])
        threshold = max(tol.outlier_factor * float(np.median(d)), tol.outlier_min_m)
        label = f"xã/commune {group}" if group else "tập dữ liệu/dataset"
        for j in np.flatnonzero(d > threshold):
            fi = idx[members[j]]
            out.append(_f("crs.outlier", fi, geoms[fi], {"distance_m": round(float(d[j]), 1),
                                                           "threshold_m": round(threshold, 1), "group": label}))
    return out


def _detection_findings(coords: np.ndarray, declared: Any, province: str | None) -> list[Finding]:
    """The dataset-level flags of :func:`landgeo.crs.detect` as findings (one implementation of detection)."""
    try:
        from landgeo.crs import detect
    except ImportError:  # the CRS package not installed in this checkout: nothing to report from it
        return []
    if len(coords) > 20_000:  # a deterministic, evenly spread sample is enough to characterise a dataset
        coords = coords[np.linspace(0, len(coords) - 1, 20_000).astype(int)]
    detection = detect(coords[:, 0], coords[:, 1], declared, province)
    out = []
    for flag in getattr(detection, "flags", ()) or ():
        code = str(getattr(flag, "code", ""))
        check = CHECKS.get(code, CHECKS["crs.detection"])
        details = {"flag": code, "message": str(getattr(flag, "message", "")),
                   **_jsonable_details(getattr(flag, "details", {}) or {})}
        vi, en = check.messages(details)
        severity = getattr(flag, "severity", check.severity)
        out.append(Finding(check.code, severity if severity in ("error", "warning", "info") else check.severity,
                           vi, en, details=details))
    return out


def _jsonable_details(details: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): (v if isinstance(v, str | int | float | bool) or v is None else str(v))
            for k, v in details.items() if k not in ("flag", "message")}


# -- attributes -------------------------------------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    if isinstance(value, list | tuple | np.ndarray) and len(value) == 0:
        return True
    return False


def _int_or_none(value: Any) -> int | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f) or f != int(f):
        return None
    return int(f)


def _number_or_none(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


_RULES: dict[str, tuple[Any, str, str]] = {}


def _rule(name: str, ok, vi: str, en: str) -> None:
    _RULES[name] = (ok, vi, en)


_rule("commune_code", lambda v: bool(re.fullmatch(r"\d{5}", str(v).strip())), "mã xã phải gồm 5 chữ số",
      "a commune code has 5 digits")
_rule("sheet_number", lambda v: (_int_or_none(v) or 0) > 0, "số tờ phải là số nguyên dương",
      "a sheet number is a positive integer")
_rule("parcel_number", lambda v: (_int_or_none(v) or 0) > 0, "số thửa phải là số nguyên dương",
      "a parcel number is a positive integer")
_rule("declared_area", lambda v: (_number_or_none(v) if _number_or_none(v) is not None else -1) >= 0,
      "diện tích phải là số không âm", "an area is a non-negative number")
_rule("scale", lambda v: _int_or_none(v) in (200, 500, 1000, 2000, 5000, 10000, 25000),
      "tỷ lệ phải là 200, 500, 1000, 2000, 5000, 10000 hoặc 25000",
      "the scale is one of 200, 500, 1000, 2000, 5000, 10000, 25000")
_rule("source_scale", lambda v: (_int_or_none(v) or 0) > 0, "tỷ lệ nguồn phải là số nguyên dương",
      "a source scale is a positive integer")
_rule("elevation", lambda v: _number_or_none(v) is not None and -200 <= float(v) <= 3200,
      "độ cao phải trong khoảng -200..3200 m", "an elevation lies within -200..3200 m")
_rule("floors", lambda v: _int_or_none(v) is not None and 0 <= _int_or_none(v) <= 200,
      "số tầng phải là số nguyên 0..200", "floors is an integer 0..200")


def _province_ok(codes: Collection[str]):
    return lambda v: str(v).strip() in codes


def _level_rule(target: Target):
    levels = ("province", "district", "commune") if target.id == "admin-units" else \
        ("national", "province", "district", "commune")
    return (lambda v: str(v).strip() in levels, f"cấp phải là một trong {', '.join(levels)}",
            f"level is one of {', '.join(levels)}")


def split_land_use_codes(value: Any) -> list[str]:
    """``'ONT+CLN'``, ``'ONT, CLN'``, ``['ONT', 'CLN']`` -> ``['ONT', 'CLN']`` (upper case, no blanks)."""
    if _is_blank(value):
        return []
    items = value if isinstance(value, list | tuple | np.ndarray) else re.split(r"[+,;/\s]+", str(value))
    return [str(c).strip().upper() for c in items if str(c).strip()]


def _memo_flags(values: Sequence[Any], fn) -> np.ndarray:
    """``fn(value)`` for every value, evaluated once per distinct value (attribute columns repeat a lot)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iufb":
        uniq, inverse = np.unique(values, return_inverse=True)
        return np.array([bool(fn(v.item())) for v in uniq], dtype=bool)[inverse] if len(uniq) else \
            np.zeros(0, bool)
    arr = values if isinstance(values, np.ndarray) else np.fromiter(values, dtype=object, count=len(values))
    if arr.dtype == object and len(arr):
        try:  # all of one orderable kind (strings): sort once, judge each distinct value once
            uniq, inverse = np.unique(arr, return_inverse=True)
            return np.array([bool(fn(v)) for v in uniq], dtype=bool)[inverse.reshape(-1)]
        except TypeError:
            pass
    cache: dict[Any, bool] = {}
    out = np.empty(len(values), dtype=bool)
    for i, v in enumerate(values):
        key = tuple(v) if isinstance(v, list | np.ndarray) else v
        try:
            hit = cache.get(key)
        except TypeError:  # unhashable: no memo
            out[i] = bool(fn(v))
            continue
        if hit is None:
            hit = cache[key] = bool(fn(v))
        out[i] = hit
    return out


def _whole(a: np.ndarray) -> np.ndarray:
    return np.floor(a) == a


# the same rules as _RULES, on numeric columns at once (NaN = blank, judged by the required-field check)
_NUMERIC_RULES = {
    "sheet_number": lambda a: (a > 0) & _whole(a),
    "parcel_number": lambda a: (a > 0) & _whole(a),
    "source_scale": lambda a: (a > 0) & _whole(a),
    "declared_area": lambda a: np.isfinite(a) & (a >= 0),
    "scale": lambda a: np.isin(a, (200, 500, 1000, 2000, 5000, 10000, 25000)),
    "elevation": lambda a: (a >= -200) & (a <= 3200),
    "floors": lambda a: (a >= 0) & (a <= 200) & _whole(a),
}


def _numeric(values: Sequence[Any]) -> np.ndarray | None:
    """The column as float64 if it is numeric (ints, floats, NaN for missing), else None."""
    arr = values if isinstance(values, np.ndarray) else None
    if arr is None:
        try:
            arr = np.asarray(values)
        except (ValueError, TypeError):
            return None
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64, copy=False)
    return None


def _blank_flags(values: Sequence[Any]) -> np.ndarray:
    numeric = _numeric(values) if not (isinstance(values, np.ndarray) and values.dtype == object) else None
    if numeric is not None:
        return np.isnan(numeric)
    return _memo_flags(values, _is_blank)


def _attribute_findings(target, geoms, attrs, land_use_codes, province_codes) -> list[Finding]:
    """Required fields, value domains and land-use codes; each rule evaluated once per distinct value."""
    out: list[Finding] = []
    blank: dict[str, np.ndarray] = {}
    for name in target.required_fields:
        if name not in attrs:
            out.append(_f("attr.required_missing", None, None, {"field": name}))
            continue
        blank[name] = _blank_flags(attrs[name])
        for i in np.flatnonzero(blank[name]):
            out.append(_f("attr.required_missing", i, geoms[i], {"field": name}))
    rules = dict(_RULES)
    if "province_code" in attrs:
        codes = province_codes if province_codes is not None else reference.province_codes()
        rules["province_code"] = (_province_ok(set(codes)), "mã tỉnh không có trong danh mục 34 tỉnh (2025)",
                                  "province code not in the list of the 34 provinces (2025)")
    if target.id in ("admin-units", "boundaries"):
        rules["level"] = _level_rule(target)
    if target.id == "admin-units":
        rules["code"] = (lambda v: bool(re.fullmatch(r"\d{2,5}", str(v).strip())), "mã ĐVHC gồm 2-5 chữ số",
                         "an admin code has 2-5 digits")
    field_names = {f.name for f in target.fields}
    for name, (ok, vi, en) in rules.items():
        if name not in attrs or name not in field_names:
            continue
        values = attrs[name]
        numeric = _numeric(values) if name in _NUMERIC_RULES else None
        if numeric is not None:
            with np.errstate(invalid="ignore"):
                bad = ~np.isnan(numeric) & ~_NUMERIC_RULES[name](numeric)
        else:
            bad = ~_memo_flags(values, lambda v, ok=ok: _is_blank(v) or ok(v))
        for i in np.flatnonzero(bad):
            out.append(_f("attr.domain", i, geoms[i], {"field": name, "value": _plain(values[i]), "rule_vi": vi,
                                                       "rule_en": en}))
    if "land_use_codes" in attrs and "land_use_codes" in field_names:
        known = set(land_use_codes) if land_use_codes is not None else reference.land_use_codes()
        values = attrs["land_use_codes"]
        bad = _memo_flags(values, lambda v: any(c not in known for c in split_land_use_codes(v)))
        for i in np.flatnonzero(bad):
            unknown = [c for c in split_land_use_codes(values[i]) if c not in known]
            out.append(_f("attr.land_use_code_unknown", i, geoms[i], {"codes": unknown}))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
