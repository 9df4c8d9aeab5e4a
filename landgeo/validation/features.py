"""Per-feature checks (kiểm tra từng đối tượng) on arrays of shapely 2 geometries and their attributes.

One implementation for everything that can be judged feature by feature: the loaders call it on incoming
files (in the file's CRS), :func:`landgeo.validation.run_validation` on stored rows. Geometry work is done
with shapely's array functions and numpy over all coordinates at once; only the findings themselves become
Python objects. Attribute rules run once per distinct value of a column (each column dictionary-encoded once).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import shapely

from landgeo.crs.detect import detect as detect_crs
from landgeo.target import Target
from landgeo.validation.attributes import Columns, attribute_findings
from landgeo.validation.check_codes import CHECKS, Finding
from landgeo.validation.quads import known_valid
from landgeo.validation.tolerances import DEFAULT, Tolerances

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
    empty = missing | shapely.is_empty(geoms)
    type_ids = shapely.get_type_id(geoms)
    allowed = _ALLOWED.get(target.geometry_type, set())
    wrong_type = ~empty & ~np.isin(type_ids, list(allowed)) if allowed else np.zeros(n, bool)

    coords, cidx = shapely.get_coordinates(geoms, return_index=True)
    coord_count = np.bincount(cidx, minlength=n)  # coordinates per feature (shared by the vertex and validity checks)
    finite = np.isfinite(coords[:, 0]) & np.isfinite(coords[:, 1])
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
    idx = np.flatnonzero(usable)
    bounds = shapely.bounds(geoms[idx])  # shared by the range and outlier checks
    valid = _is_valid(geoms, idx, type_ids, coords, coord_count, bounds)  # shared by the validity and sliver checks
    columns = Columns(attrs)
    out += _range_findings(idx, bounds, crs, geographic)
    out += _vertex_findings(geoms, idx, type_ids, coords, cidx, coord_count, geographic, tolerances)
    out += _validity_findings(geoms, idx[~valid])
    if target.geometry_type in ("MultiPolygon", "Polygon"):
        out += _sliver_findings(geoms, idx[valid], geographic, tolerances)
    out += _outlier_findings(geoms, idx, bounds, columns, geographic, tolerances)
    if detect and finite.any():
        out += detection_findings(coords[finite], crs if declared_crs is None else declared_crs, province)
    out += attribute_findings(target, geoms, columns, land_use_codes, province_codes)
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


def _range_findings(idx: np.ndarray, b: np.ndarray, crs: Any, geographic: bool) -> list[Finding]:
    """Features (rows ``idx`` with bounds ``b``) with coordinates outside Vietnam for the kind of CRS."""
    if geographic:
        lo_x, lo_y, hi_x, hi_y = _GEO_RANGE
        kind = "VN-2000/WGS 84 kinh vĩ độ (lon/lat)"
    else:
        obj = _crs_object(crs)
        if obj is not None and not _is_transverse_mercator_500k(obj):
            return []
        lo_x, lo_y, hi_x, hi_y = _TM_RANGE
        kind = "TM-3/UTM (E, N)"
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


class _Paths(NamedTuple):
    """Rings of polygons and lines of line features: per path its feature, number of coordinates and kind."""

    feature: np.ndarray
    size: np.ndarray
    is_ring: np.ndarray


def _paths(geoms: np.ndarray, indices: np.ndarray, type_ids: np.ndarray, coord_count: np.ndarray) -> _Paths:
    """The paths of the polygon and line features among ``indices``, in the order of their coordinates.

    Paths are sorted by feature and, within a feature, follow ``shapely.get_coordinates`` (part by part,
    exterior ring first): the coordinates of these features, concatenated, are those of their paths. Most
    features are one path (a polygon without holes, a line, a multi-geometry of one such part): only the
    others are taken apart. ``coord_count`` is the number of coordinates of each geometry.
    """
    kinds = type_ids[indices]
    keep = np.isin(kinds, (_POLY, _MPOLY, _LINE, _MLINE))
    indices, kinds = indices[keep], kinds[keep]
    polygonal = (kinds == _POLY) | (kinds == _MPOLY)
    part = geoms[indices]
    one = np.ones(len(indices), bool)
    multi = np.flatnonzero((kinds == _MPOLY) | (kinds == _MLINE))
    if len(multi):
        one[multi] = shapely.get_num_geometries(part[multi]) == 1
        multi = multi[one[multi]]
        part[multi] = shapely.get_geometry(part[multi], 0)
    one &= shapely.get_num_interior_rings(part) == 0  # 0 for lines

    polys, lines = indices[~one & polygonal], indices[~one & ~polygonal]
    parts, part_of = shapely.get_parts(geoms[polys], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    lparts, lpart_of = shapely.get_parts(geoms[lines], return_index=True)
    feature = np.concatenate([indices[one], polys[part_of[ring_of]], lines[lpart_of]])
    size = np.concatenate([coord_count[indices[one]], shapely.get_num_coordinates(rings),
                           shapely.get_num_coordinates(lparts)])
    is_ring = np.concatenate([polygonal[one], np.ones(len(rings), bool), np.zeros(len(lparts), bool)])
    order = np.argsort(feature, kind="stable")
    return _Paths(feature[order].astype(np.intp), size[order].astype(np.intp), is_ring[order])


class _Layout(NamedTuple):
    """Paths as consecutive coordinates, a ring ending with a copy of its first vertex (GEOS keeps rings
    closed), and the segment from each coordinate to the next (from a path's last coordinate: none)."""

    xy: np.ndarray  # input coordinates
    m: np.ndarray  # the same in metres
    size: np.ndarray  # coordinates per path
    is_ring: np.ndarray
    end: np.ndarray  # one past each path's last coordinate
    dx: np.ndarray  # segment vectors in metres, one per coordinate but the very last
    dy: np.ndarray
    rough: np.ndarray  # their lengths to within a few ulps (exact ones: np.hypot, as the checks use)

    @classmethod
    def of(cls, xy: np.ndarray, m: np.ndarray, size: np.ndarray, is_ring: np.ndarray) -> _Layout:
        dx, dy = np.diff(m[:, 0]), np.diff(m[:, 1])
        return cls(xy, m, size, is_ring, np.cumsum(size), dx, dy, _rough_length(dx, dy))

    def path_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.end, positions, side="right")


def _rough_length(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """``np.hypot(dx, dy)`` to within a few ulps, ten times faster: the root of the squared length, except where
    squaring under- or overflows. Used to pick candidates, with a margin; the checks use np.hypot."""
    q = dx * dx + dy * dy
    length = np.sqrt(q)
    odd = np.flatnonzero(~((q > 1e-290) & (q < 1e290)))
    length[odd] = np.hypot(dx[odd], dy[odd])
    return length


_MARGIN = 1e-9  # relative: candidates picked with rough lengths and cosines include every true hit


def _vertex_findings(geoms: np.ndarray, indices: np.ndarray, type_ids: np.ndarray, coords: np.ndarray,
                     coord_feature: np.ndarray, coord_count: np.ndarray, geographic: bool, tol: Tolerances
                     ) -> list[Finding]:
    """Too few vertices, repeated vertices and spikes, over all rings/lines of the features ``indices`` at once.

    ``coords``/``coord_feature`` are ``shapely.get_coordinates(geoms, return_index=True)``, ``coord_count`` the
    coordinates of each feature. A ring is a cyclic
    sequence of vertices (its closing coordinate is none of them); a vertex repeats when the next one is
    closer than the tolerance (the last vertex of a line has no next one).
    """
    paths = _paths(geoms, indices, type_ids, coord_count)
    if len(paths.feature) == 0:
        return []
    selected = np.zeros(len(geoms), bool)
    selected[paths.feature] = True
    xy = coords if selected.all() else coords[selected[coord_feature]]
    lay = _Layout.of(xy, _to_metres(xy, geographic), paths.size, paths.is_ring)
    count = paths.size - (paths.is_ring & (paths.size > 0))
    short = np.flatnonzero(lay.rough < tol.repeated_vertex_m * (1 + _MARGIN))
    short = short[np.hypot(lay.dx[short], lay.dy[short]) < tol.repeated_vertex_m]
    short_path = lay.path_of(short)
    repeated = short[(short < lay.end[short_path] - 1) & (count[short_path] > 1)]
    rep_path = lay.path_of(repeated)
    rep_in_path = np.bincount(rep_path, minlength=len(count))
    distinct = count - rep_in_path
    minimum = np.where(paths.is_ring, 3, 2)
    few = distinct < minimum
    out: list[Finding] = []
    # too few distinct vertices: reported for the first such path of a feature, instead of the other findings
    few_features, first_few = np.unique(paths.feature[few], return_index=True)
    for fi, p in zip(few_features, np.flatnonzero(few)[first_few], strict=True):
        out.append(_f("geom.too_few_vertices", fi, geoms[fi], {"distinct": int(distinct[p]),
                                                                "minimum": int(minimum[p])}))
    reported_few = np.zeros(len(geoms), bool)
    reported_few[few_features] = True
    # repeated vertices, one finding per feature located at the first repetition
    rep_feature = paths.feature[rep_path]
    rep_count = np.bincount(rep_feature, minlength=len(geoms))
    for fi, v in zip(*_first_per_feature(repeated, rep_feature), strict=True):
        if not reported_few[fi]:
            out.append(_f("geom.repeated_vertex", fi, shapely.points(xy[v]), {"count": int(rep_count[fi])}))
    # spikes, on the vertex sequences without the repeated vertices
    clean, dirty = ~few & (rep_in_path == 0), ~few & (rep_in_path > 0)
    found = [_spikes(lay, clean, tol)]
    if dirty.any():
        found.append(_spikes(_without(lay, repeated, dirty), dirty, tol))
    path, where, angle = (np.concatenate(a) for a in zip(*found, strict=True))
    order = np.argsort(path, kind="stable")  # a path's spikes stay in the order of its vertices
    for fi, k in zip(*_first_per_feature(order, paths.feature[path[order]]), strict=True):
        if not reported_few[fi]:
            out.append(_f("geom.spike", fi, shapely.points(where[k]), {"angle_deg": round(float(angle[k]), 3)}))
    return out


def _first_per_feature(items: np.ndarray, feature_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first of ``items`` of each feature (``feature_of`` each item, non-decreasing): (features, items)."""
    features, first = np.unique(feature_of, return_index=True)
    return features, items[first]


def _without(lay: _Layout, repeated: np.ndarray, keep: np.ndarray) -> _Layout:
    """The paths ``keep`` of ``lay`` without their ``repeated`` vertices (a ring closed again on its first
    remaining vertex); the other paths empty."""
    kept = np.repeat(keep, lay.size)
    kept[repeated] = False
    src = np.flatnonzero(kept)
    size = np.bincount(lay.path_of(src), minlength=len(lay.size))
    end = np.cumsum(size)
    rings = keep & lay.is_ring
    src[end[rings] - 1] = src[(end - size)[rings]]
    return _Layout.of(lay.xy[src], lay.m[src], size, lay.is_ring)


def _spikes(lay: _Layout, eligible: np.ndarray, tol: Tolerances) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of the ``eligible`` paths whose interior angle is below the tolerance: (path, xy, angle) of
    each, in coordinate order. Rings are cyclic; the ends of a line have no angle."""
    dx, dy, rough = lay.dx, lay.dy, lay.rough
    start = lay.end - lay.size
    rings = np.flatnonzero(eligible & lay.is_ring & (lay.size > 0))
    # candidates by a rough cosine: at coordinate v (1 .. n-2) the segments v-1 and v meet; at the first
    # vertex of a ring, the segment from its last vertex (the ring's last segment) and segment v
    lowest = math.cos(math.radians(min(tol.spike_angle_deg, 180.0))) - _MARGIN
    at = np.flatnonzero(~(_rough_cos(dx, dy, rough, slice(None, -1), slice(1, None)) <= lowest)) + 1
    p = lay.path_of(at)
    at = at[eligible[p] & (at > start[p]) & (at < lay.end[p] - 1)]
    last, first = lay.end[rings] - 2, start[rings]
    turn = ~(_rough_cos(dx, dy, rough, last, first) <= lowest)
    at, before = np.concatenate([at, first[turn]]), np.concatenate([at - 1, last[turn]])
    # the exact angle of the candidates (the formula the check has always used)
    a = -np.column_stack([dx[before], dy[before]])
    b = np.column_stack([dx[at], dy[at]])
    na, nb = np.hypot(a[:, 0], a[:, 1]), np.hypot(b[:, 0], b[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        angle = np.degrees(np.arccos(np.clip((a * b).sum(axis=1) / (na * nb), -1.0, 1.0)))
    hit = np.flatnonzero((na > 0) & (nb > 0) & (angle < tol.spike_angle_deg))
    hit = hit[np.argsort(at[hit], kind="stable")]
    return lay.path_of(at[hit]), lay.xy[at[hit]], angle[hit]


def _rough_cos(dx: np.ndarray, dy: np.ndarray, rough: np.ndarray, before, after) -> np.ndarray:
    """Cosine of the angle between the reversed segments ``before`` and the segments ``after`` (NaN, ±inf
    where a rough length is 0)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return -(dx[before] * dx[after] + dy[before] * dy[after]) / (rough[before] * rough[after])


def _is_valid(geoms: np.ndarray, idx: np.ndarray, type_ids: np.ndarray, coords: np.ndarray,
              coord_count: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``shapely.is_valid(geoms[idx])``, convex quadrilaterals decided from their coordinates
    (:mod:`landgeo.validation.quads`) and only the others by GEOS."""
    starts = np.cumsum(coord_count) - coord_count
    valid = known_valid(geoms[idx], type_ids[idx], coords, starts[idx], coord_count[idx], bounds)
    rest = np.flatnonzero(~valid)
    if len(rest):
        valid[rest] = shapely.is_valid(geoms[idx[rest]])
    return valid


def _validity_findings(geoms: np.ndarray, bad: np.ndarray) -> list[Finding]:
    """Invalid geometries (rows ``bad``), located where GEOS says why when it does."""
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


def _sliver_findings(geoms: np.ndarray, idx: np.ndarray, geographic: bool, tol: Tolerances) -> list[Finding]:
    """Valid polygons (rows ``idx``) whose mean width 2A/P is below the tolerance."""
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


def _outlier_findings(geoms: np.ndarray, idx: np.ndarray, b: np.ndarray, columns: Columns, geographic: bool,
                      tol: Tolerances) -> list[Finding]:
    """Features (rows ``idx`` with bounds ``b``) far from the median centre of their commune (or of the whole
    dataset without communes)."""
    if len(idx) < tol.outlier_min_group:
        return []
    # box centres: defined for invalid geometries too (centroids are not)
    centre = np.column_stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2])
    ok = np.isfinite(centre[:, 0]) & np.isfinite(centre[:, 1])
    idx, centre = idx[ok], centre[ok]
    if "commune_code" in columns:
        labels, group_of = columns.groups("commune_code")
        group_of = group_of[idx]
    else:
        labels, group_of = [""], np.zeros(len(idx), np.intp)
    order = np.argsort(group_of, kind="stable")
    out = []
    for members in np.split(order, np.flatnonzero(np.diff(group_of[order])) + 1):
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
        group = labels[group_of[members[0]]]
        label = f"xã/commune {group}" if group else "tập dữ liệu/dataset"
        for j in np.flatnonzero(d > threshold):
            fi = idx[members[j]]
            out.append(_f("crs.outlier", fi, geoms[fi], {"distance_m": round(float(d[j]), 1),
                                                           "threshold_m": round(threshold, 1), "group": label}))
    return out


def detection_findings(coords: np.ndarray, declared: Any, province: str | None) -> list[Finding]:
    """The dataset-level flags of :func:`landgeo.crs.detect` as findings (one implementation of detection)."""
    if len(coords) > 20_000:  # a deterministic, evenly spread sample is enough to characterise a dataset
        coords = coords[np.linspace(0, len(coords) - 1, 20_000).astype(int)]
    detection = detect_crs(coords[:, 0], coords[:, 1], declared, province)
    out = []
    for flag in detection.flags:
        check = CHECKS.get(flag.code, CHECKS["crs.detection"])
        details = {"flag": flag.code, "message": flag.message, **_jsonable_details(flag.details)}
        vi, en = check.messages(details)
        severity = flag.severity if flag.severity in ("error", "warning", "info") else check.severity
        out.append(Finding(check.code, severity, vi, en, details=details))
    return out


def _jsonable_details(details: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): (v if isinstance(v, str | int | float | bool) or v is None else str(v))
            for k, v in details.items() if k not in ("flag", "message")}
