"""Which CRS can coordinates be in, and the classic errors (phát hiện sai hệ tọa độ).

``detect(x, y, declared, province, reference=...)`` looks at the numbers, the declared CRS (from a .prj
or the user) and the declared province, and says which CRSs the coordinates can be in (best first) and
flags the classic errors:

- ``crs.units``: metres declared as degrees, or degrees declared as metres;
- ``crs.swapped_xy``: northing first (Vietnamese survey tables write X = northing, Y = easting), or lat/lon;
- ``crs.outside_vietnam``: the declared CRS puts the points outside Vietnam;
- ``crs.outside_province``: ... outside the declared province (approximate extents, padded);
- ``crs.wrong_meridian``: TM-3 with another central meridian puts them inside the province (tens of km);
- ``crs.utm_vs_tm3``: UTM (k0 0.9996) taken for TM-3 (k0 0.9999) or the reverse;
- ``crs.wgs84_vs_vn2000``: VN-2000 taken as WGS 84 or the reverse (~225 m);
- ``crs.hn72_vs_vn2000``: HN-72 (Gauss-Krüger, Krassovsky) taken as VN-2000 or the reverse;
- ``crs.undeclared``: no CRS declared; candidates only.

Province extents only tell shifts of tens of kilometres. Shifts of hundreds of metres (VN-2000 vs WGS 84,
UTM vs TM-3 on the same meridian) need ``reference``: the same points with trusted coordinates (control
points, or the stored version of the same parcels), from which every hypothesis is scored by its residual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

import landgeo.crs.flags as F
from landgeo.crs.flags import Flag
from landgeo.crs.parse import resolve
from landgeo.crs.provinces import Province, find_province, provinces
from landgeo.crs.registry import CRS, from_epsg, registry, tm3_crs_for_meridian
from landgeo.crs.srids import HN72_GEOGRAPHIC, VN2000_GEOGRAPHIC, WGS84
from landgeo.crs.transform import transform
from landgeo.errors import UserError

# Vietnam incl. offshore islands, degrees (EPSG area 1252 extended east to the Trường Sa), padded.
VIETNAM_EXTENT = (101.9, 5.4, 117.9, 23.6)
PROVINCE_PAD_DEG = 0.1
SAMPLE = 2000
INSIDE_OK = 0.9
# Plane coordinate ranges of Vietnam in a TM-3/UTM CRS (false easting 500 km).
EASTING = (100_000.0, 900_000.0)
NORTHING = (580_000.0, 2_650_000.0)
VN_TWIN = {WGS84: VN2000_GEOGRAPHIC, VN2000_GEOGRAPHIC: WGS84, 32648: 3405, 3405: 32648, 32649: 3406, 3406: 32649}


@dataclass(frozen=True)
class Detection:
    """Result of ``detect``: ``candidates`` (best first), ``flags``, ``ok`` (no error flag)."""

    candidates: list[CRS]
    flags: list[Flag] = field(default_factory=list)
    layout: str = "unknown"  # lonlat | latlon | en | ne | unknown: what the raw numbers look like
    declared: CRS | None = None
    province: Province | None = None
    located_in: list[Province] = field(default_factory=list)  # 2025 provinces the points fall in (approximate)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.flags)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.flags]


@dataclass(frozen=True)
class Reference:
    """Trusted coordinates of the same points (same order as the data), in ``crs``."""

    x: ArrayLike
    y: ArrayLike
    crs: CRS | str | int


def _sample(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ok = np.isfinite(x) & np.isfinite(y)
    idx = np.flatnonzero(ok)
    if idx.size > SAMPLE:
        idx = idx[np.linspace(0, idx.size - 1, SAMPLE).astype(int)]
    return x[idx], y[idx], idx


def _in_range(v: np.ndarray, lo: float, hi: float) -> float:
    return float(np.mean((v >= lo) & (v <= hi))) if v.size else 0.0


def layout_of(x: np.ndarray, y: np.ndarray) -> str:
    """What the raw numbers look like: 'lonlat', 'latlon', 'en' (east, north), 'ne' or 'unknown'."""
    if not x.size:
        return "unknown"
    lon, lat = VIETNAM_EXTENT[0], VIETNAM_EXTENT[1]
    checks = {
        "lonlat": min(_in_range(x, lon, VIETNAM_EXTENT[2]), _in_range(y, lat, VIETNAM_EXTENT[3])),
        "latlon": min(_in_range(y, lon, VIETNAM_EXTENT[2]), _in_range(x, lat, VIETNAM_EXTENT[3])),
        "en": min(_in_range(x, *EASTING), _in_range(y, *NORTHING)),
        "ne": min(_in_range(y, *EASTING), _in_range(x, *NORTHING)),
    }
    # Plane ranges overlap between 580 and 900 km (far south): prefer east/north when both fit.
    best = max(checks, key=lambda k: (checks[k], k == "en"))
    return best if checks[best] >= 0.9 else "unknown"


Boxes = tuple[tuple[float, float, float, float], ...]


def _fraction_inside(lon: np.ndarray, lat: np.ndarray, boxes: Boxes, pad: float = 0.0) -> float:
    """Fraction of the points inside any of the (padded) boxes."""
    if not lon.size:
        return 0.0
    inside = np.zeros(lon.shape, dtype=bool)
    for w, s, e, n in boxes:
        inside |= (lon >= w - pad) & (lon <= e + pad) & (lat >= s - pad) & (lat <= n + pad)
    return float(np.mean(inside))


def _to_lonlat(crs: CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in VN-2000 lon/lat (the frame of the province extents)."""
    if crs.kind == "geographic" and crs.datum in ("VN-2000", "WGS 84"):
        return x, y  # VN-2000 and WGS 84 differ by ~0.002 deg: irrelevant against padded extents
    with np.errstate(all="ignore"):
        return transform(crs, from_epsg(VN2000_GEOGRAPHIC), x, y)


def _plane_candidates() -> list[CRS]:
    """VN-2000 UTM and TM-3 CRSs, one per central meridian (the per-province EPSG codes)."""
    tm3 = {c.lon0: tm3_crs_for_meridian(c.lon0) for c in registry() if c.is_tm3 and c.lon0 is not None}
    utm = [c for c in registry() if c.datum == "VN-2000" and c.is_utm]
    return list(tm3.values()) + utm


def locate(lon: np.ndarray, lat: np.ndarray, generation: str = "2025") -> list[Province]:
    """Provinces whose (approximate, padded) extents hold at least 90 % of the points, most likely first.

    Boxes overlap, so the order is: larger share of points inside the unpadded boxes, then the median point
    nearer the middle of its box (relative to the box size).
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if not lon.size:
        return []
    mx, my = float(np.nanmedian(lon)), float(np.nanmedian(lat))
    hits = []
    for p in provinces(generation):
        if not p.extents or _fraction_inside(lon, lat, p.extents, PROVINCE_PAD_DEG) < INSIDE_OK:
            continue
        centrality = min(max(abs(mx - (w + e) / 2) / max((e - w) / 2, 1e-6),
                             abs(my - (s + n) / 2) / max((n - s) / 2, 1e-6)) for w, s, e, n in p.extents)
        hits.append((-_fraction_inside(lon, lat, p.extents), centrality, p.code, p))
    return [t[-1] for t in sorted(hits, key=lambda t: t[:3])]


def _consistency(crs: CRS, lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """How well a TM-3 reading lands in a province that uses that very meridian: per generation (2004 first:
    existing cadastral data keep the former provinces' meridians), the best fraction of points inside the
    unpadded extents of such a province (0 when none)."""
    if not crs.is_tm3:
        return 0.0, 0.0
    scores = []
    for generation in ("2004", "2025"):
        best = 0.0
        for p in locate(lon, lat, generation):
            if crs.epsg in [c.epsg for c in p.candidate_crs]:
                best = max(best, _fraction_inside(lon, lat, p.extents))
        scores.append(best)
    return scores[0], scores[1]


def _undeclared_message(candidates: list[CRS], x: np.ndarray, y: np.ndarray, province: Province | None) -> str:
    """'no CRS declared' with the readings that land where their meridian is used (the real ambiguity)."""
    text = "no CRS declared; candidates are inferred from the coordinates"
    if province is not None or not candidates or not candidates[0].is_tm3:
        return text
    readings = []
    for crs in candidates[:10]:
        if not crs.is_tm3:
            continue
        with np.errstate(all="ignore"):
            lon, lat = _to_lonlat(crs, x, y)
        users = [p for p in locate(lon, lat, "2004") if crs.epsg in [c.epsg for c in p.candidate_crs]]
        if users:
            readings.append(f"{crs.code} (in {', '.join(p.name for p in users[:2])})")
    if len(readings) > 1:
        text += "; several TM-3 meridians put the points in a province that uses them: " + ", ".join(readings) \
            + ": declare the CRS or the province"
    return text


def _relation_code(declared: CRS, best: CRS) -> str:
    """Which classic error turns ``declared`` into ``best``."""
    if declared.datum != best.datum:
        return F.HN72_VS_VN2000 if "HN-72" in (declared.datum, best.datum) else F.WGS84_VS_VN2000
    if declared.kind != best.kind:
        return F.UNITS
    if (declared.k0 or 0) != (best.k0 or 0):
        return F.UTM_VS_TM3
    return F.WRONG_MERIDIAN


def _rank(candidates: list[CRS], x: np.ndarray, y: np.ndarray, province: Province | None,
          regions: Boxes, datum: str = "VN-2000") -> list[tuple[CRS, float]]:
    """Candidates that put the points inside ``regions`` (padded), best first, with the fraction inside.

    Order: the province's own and legacy TM-3 CRSs, then CRSs on ``datum`` (the declared one; extents cannot
    tell datums apart), UTM before other meridians, then by fraction inside and closeness to the centre.
    """
    preferred = [c.epsg for c in province.candidate_crs] if province else []
    scored = []  # (crs, fraction inside, distance to the centre, self-consistent)
    cx = (min(b[0] for b in regions) + max(b[2] for b in regions)) / 2
    cy = (min(b[1] for b in regions) + max(b[3] for b in regions)) / 2
    for crs in candidates:
        lon, lat = _to_lonlat(crs, x, y)
        inside = _fraction_inside(lon, lat, regions, PROVINCE_PAD_DEG if province else 0.0)
        if inside >= INSIDE_OK:
            centre = float(np.hypot(np.nanmedian(lon) - cx, np.nanmedian(lat) - cy))
            consistency = _consistency(crs, lon, lat) if province is None else (0.0, 0.0)
            scored.append((crs, inside, centre, consistency))
    # without a province, a TM-3 reading that lands in a province using that very meridian comes first
    scored.sort(key=lambda t: (t[0].epsg not in preferred,
                               preferred.index(t[0].epsg) if t[0].epsg in preferred else 0,
                               -t[3][0], -t[3][1], t[0].datum != datum, not t[0].is_utm, -t[1], t[2]))
    return [(c, f) for c, f, _, _ in scored]


def _residuals(hypotheses: list[CRS], x: np.ndarray, y: np.ndarray, ref: Reference) -> list[tuple[CRS, float]]:
    """Median distance (m) between the data read in each hypothesis and the reference, in the TM-3/UTM plane."""
    ref_crs = resolve(ref.crs)
    rx, ry = np.asarray(ref.x, dtype=float), np.asarray(ref.y, dtype=float)
    lon_r, lat_r = transform(ref_crs, from_epsg(4326), rx, ry)
    out = []
    for crs in hypotheses:
        with np.errstate(all="ignore"):
            lon, lat = transform(crs, from_epsg(4326), x, y)
        # local equirectangular metres: good to < 0.1 % over the few km between hypotheses
        k = np.cos(np.radians(np.nanmedian(lat_r)))
        d = np.hypot((lon - lon_r) * 111_320.0 * k, (lat - lat_r) * 110_574.0)
        med = float(np.nanmedian(d)) if np.isfinite(d).any() else float("inf")
        out.append((crs, med))
    out.sort(key=lambda t: t[1])
    return out


def _hypotheses(declared: CRS | None, layout: str) -> list[CRS]:
    if layout in ("lonlat", "latlon"):
        return [from_epsg(VN2000_GEOGRAPHIC), from_epsg(WGS84), from_epsg(HN72_GEOGRAPHIC)]
    hyps = _plane_candidates() + [from_epsg(c) for c in (32648, 32649, 2044, 2045, 2093)]
    if declared is not None and declared not in hyps:
        hyps.append(declared)
    return hyps


def detect(x: ArrayLike, y: ArrayLike, declared: CRS | str | int | None = None, province: str | None = None,
           *, reference: Reference | None = None) -> Detection:
    """Say which CRSs coordinates ``x``, ``y`` (as written in the source, first column = x) can be in.

    ``declared``: the CRS the source claims (.prj, user option); ``province``: code or name of the
    province the data belong to (2025 preferred, e.g. '79' or 'Hồ Chí Minh'); ``reference``: the same
    points with trusted coordinates. See the module docstring for the flags.
    """
    decl = resolve(declared) if declared is not None else None
    prov = find_province(province) if province else None
    xs_all = np.asarray(x, dtype=float).ravel()
    ys_all = np.asarray(y, dtype=float).ravel()
    xs, ys, idx = _sample(xs_all, ys_all)
    flags: list[Flag] = []
    layout = layout_of(xs, ys)
    if not xs.size:
        return Detection([decl] if decl else [], [Flag(F.OUTSIDE_VIETNAM, "error", "no finite coordinates")],
                         layout, decl, prov)

    # 1. Axis order and units, from the numbers alone.
    if layout in ("ne", "latlon"):
        flags.append(Flag(F.SWAPPED_XY, "error",
                          "coordinates are northing first (X = northing, Y = easting as in Vietnamese survey tables)"
                          if layout == "ne" else "coordinates are latitude first (lat, lon)",
                          {"layout": layout}))
        xs, ys = ys, xs
        layout = "en" if layout == "ne" else "lonlat"
    if decl is not None and layout != "unknown":
        geographic_numbers = layout == "lonlat"
        if decl.kind == "geographic" and not geographic_numbers:
            flags.append(Flag(F.UNITS, "error", f"{decl.code} is in degrees but the coordinates are metres "
                              f"(e.g. {xs[0]:.1f}, {ys[0]:.1f})"))
            decl_eff = None
        elif decl.kind == "projected" and geographic_numbers:
            flags.append(Flag(F.UNITS, "error", f"{decl.code} is in metres but the coordinates are degrees "
                              f"(e.g. {xs[0]:.6f}, {ys[0]:.6f})"))
            decl_eff = None
        else:
            decl_eff = decl
    else:
        decl_eff = decl
    undeclared_at = len(flags)

    regions: Boxes = prov.extents if prov and prov.extents else (VIETNAM_EXTENT,)
    candidates: list[CRS] = []

    # 2. Where does the declared CRS put the points?
    if decl_eff is not None:
        lon, lat = _to_lonlat(decl_eff, xs, ys)
        in_vn = _fraction_inside(lon, lat, (VIETNAM_EXTENT,))
        in_prov = _fraction_inside(lon, lat, regions, PROVINCE_PAD_DEG) if prov else in_vn
        if in_vn < INSIDE_OK or in_prov < INSIDE_OK:
            ranked = _rank(_hypotheses(decl_eff, layout), xs, ys, prov, regions,
                           datum="VN-2000" if decl_eff.datum == "HN-72" else decl_eff.datum)
            alternatives = [(c, f) for c, f in ranked if c != decl_eff]
            if alternatives and (in_prov < 0.5 or in_vn < 0.5):
                best = alternatives[0][0]
                code = _relation_code(decl_eff, best)
                where = f"province {prov.code} {prov.name}" if prov else "Vietnam"
                flags.append(Flag(code, "error",
                                  f"{decl_eff.code} puts {100 * (1 - in_prov):.0f}% of the points outside {where}; "
                                  f"{best.code} ({best.name}) puts them inside",
                                  {"declared": decl_eff.epsg, "suggested": best.epsg,
                                   "alternatives": [c.epsg for c, _ in alternatives[:5]]}))
                candidates = [c for c, _ in alternatives]
            elif in_vn < INSIDE_OK:
                flags.append(Flag(F.OUTSIDE_VIETNAM, "error" if in_vn < 0.5 else "warning",
                                  f"{decl_eff.code} puts {100 * (1 - in_vn):.0f}% of the points outside Vietnam",
                                  {"fraction_outside": 1 - in_vn}))
            elif prov and in_prov < INSIDE_OK:
                flags.append(Flag(F.OUTSIDE_PROVINCE, "error" if in_prov < 0.5 else "warning",
                                  f"{decl_eff.code} puts {100 * (1 - in_prov):.0f}% of the points outside province "
                                  f"{prov.code} {prov.name} (approximate extent, padded {PROVINCE_PAD_DEG} deg)",
                                  {"fraction_outside": 1 - in_prov, "province": prov.code}))
        else:
            candidates = [decl_eff]
        if prov and decl_eff.is_tm3 and decl_eff.epsg not in [c.epsg for c in prov.candidate_crs] and not any(
                f.severity == "error" for f in flags):
            flags.append(Flag(F.WRONG_MERIDIAN, "warning",
                              f"{decl_eff.code} (central meridian {decl_eff.lon0}) is not the meridian of province "
                              f"{prov.code} {prov.name} ({', '.join(str(c.lon0) for c in prov.candidate_crs)}); "
                              "the points are plausible, check the source", {"declared": decl_eff.epsg}))
    else:
        ranked = _rank(_hypotheses(None, layout), xs, ys, prov, regions) if layout != "unknown" else []
        candidates = [c for c, _ in ranked]
        if decl is None:
            flags.insert(undeclared_at, Flag(F.UNDECLARED, "warning", _undeclared_message(candidates, xs, ys, prov),
                                             {"candidates": [c.epsg for c in candidates[:5]]}))
        if layout == "unknown" or not candidates:
            flags.append(Flag(F.OUTSIDE_VIETNAM, "error",
                              "the coordinates fit no CRS landgeo knows inside "
                              + (f"province {prov.code} {prov.name}" if prov else "Vietnam")))

    # 3. Reference points: score every hypothesis by its residual (tells 225 m and 700 m shifts apart).
    if reference is not None and layout != "unknown":
        sub = np.asarray(reference.x, dtype=float).ravel()
        if sub.size != xs_all.size:
            raise UserError(f"reference has {sub.size} points, the data {xs_all.size}: they must match one to one")
        else:
            rx = np.asarray(reference.x, dtype=float).ravel()[idx]
            ry = np.asarray(reference.y, dtype=float).ravel()[idx]
            hyps = _hypotheses(decl_eff, layout)
            if decl_eff is not None and decl_eff.epsg in VN_TWIN:
                hyps.append(from_epsg(VN_TWIN[decl_eff.epsg]))
            scores = _residuals(list(dict.fromkeys(hyps)), xs, ys, Reference(rx, ry, reference.crs))
            best, best_res = scores[0]
            declared_res = next((r for c, r in scores if c == decl_eff), None)
            if decl_eff is not None and declared_res is not None and best != decl_eff \
                    and declared_res > max(1.0, 5 * best_res):
                code = _relation_code(decl_eff, best)
                if code not in [f.code for f in flags if f.severity == "error"]:
                    flags.append(Flag(code, "error",
                                      f"read as {decl_eff.code} the points are {declared_res:.1f} m from the "
                                      "reference; "
                                      f"read as {best.code} ({best.name}) {best_res:.2f} m",
                                      {"declared": decl_eff.epsg, "suggested": best.epsg,
                                       "declared_residual_m": declared_res, "best_residual_m": best_res}))
                candidates = [best] + [c for c in candidates if c != best]
            elif decl_eff is None:
                candidates = [c for c, r in scores if r <= max(1.0, 5 * best_res)]

    # Undeclared lon/lat: the datum cannot be told from the numbers.
    if decl is None and layout == "lonlat" and reference is None:
        flags.append(Flag(F.WGS84_VS_VN2000, "warning",
                          "lon/lat without a declared datum: VN-2000 and WGS 84 differ by about 225 m and cannot be "
                          "told apart from the coordinates; declare the CRS"))
    if not candidates and decl_eff is not None and not any(f.severity == "error" for f in flags):
        candidates = [decl_eff]
    located: list[Province] = []
    if candidates:
        with np.errstate(all="ignore"):
            lon, lat = _to_lonlat(candidates[0], xs, ys)
        located = locate(lon, lat)
    return Detection(candidates, flags, layout, decl, prov, located)
