"""Recognise the CRS of a .prj / WKT text (tệp .prj), including EPSG-less ESRI WKT from ArcGIS and MicroStation.

Matching is by meaning, not by name: the datum (VN-2000, WGS 84, HN-72, or a WGS 84 ellipsoid bound to
WGS 84 by the VN-2000 parameters), then the projection parameters (Transverse Mercator central meridian,
scale factor, false easting/northing) against the registry. TOWGS84 clauses are compared with the
official parameters (EPSG:6960): the well-known wrong-sign copy (rotations with the printed signs of
Decision 05/2007, 0.5–1.3 m off) and other parameter sets are flagged; coordinates are always taken as
VN-2000 and transformed with the official operation anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyproj

import landgeo.crs.flags as F
from landgeo.crs.flags import Flag
from landgeo.crs.registry import CRS, DEPRECATED, OFFICIAL_TOWGS84, from_epsg, registry
from landgeo.crs.srids import HN72_GEOGRAPHIC, VN2000_GEOGRAPHIC, WGS84
from landgeo.errors import UserError

WRONG_SIGN_TOWGS84 = OFFICIAL_TOWGS84[:3] + tuple(-r for r in OFFICIAL_TOWGS84[3:6]) + OFFICIAL_TOWGS84[6:]

_VN_DATUM_NAMES = ("vietnam2000", "vn2000", "dvietnam2000", "dvn2000", "vietnam", "vn2000datum")
_WGS_DATUM_NAMES = ("worldgeodeticsystem1984", "wgs1984", "dwgs1984", "wgs84", "dwgs84")
_HN72_DATUM_NAMES = ("hanoi1972", "dhanoi1972", "hn72", "hn1972", "dhn72")


@dataclass(frozen=True)
class WktMatch:
    """What a WKT declares: the ``crs`` landgeo takes it as (None when it cannot tell), and ``flags``."""

    crs: CRS | None
    flags: list[Flag] = field(default_factory=list)
    towgs84: tuple[float, ...] | None = None

    @property
    def ok(self) -> bool:
        return self.crs is not None and not any(f.severity == "error" for f in self.flags)


def _key(name: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def _towgs84_from_text(text: str) -> tuple[float, ...] | None:
    m = re.search(r"TOWGS84\s*\[([^\]]*)\]", text, re.I)
    if not m:
        return None
    try:
        values = [float(v) for v in m.group(1).split(",") if v.strip()]
    except ValueError:
        return None
    return tuple(values + [0.0] * (7 - len(values)))[:7] if len(values) in (3, 7) else None


def _close(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(abs(x - y) <= max(1e-6, 1e-7 * abs(y)) for x, y in zip(a, b, strict=True))


def _towgs84_flags(values: tuple[float, ...]) -> tuple[str, list[Flag]]:
    """('vn2000' | 'wgs84' | 'other', flags) for a TOWGS84 clause on a WGS 84-ellipsoid datum."""
    if _close(values, OFFICIAL_TOWGS84):
        return "vn2000", []
    if _close(values, WRONG_SIGN_TOWGS84):
        return "vn2000", [Flag(F.WRONG_SIGN_TOWGS84, "warning",
                               "TOWGS84 has the rotation signs of Decision 05/2007 copied as printed (coordinate-frame "
                               "signs in a position-vector clause): software honouring this .prj is 0.5-1.3 m off; "
                               "landgeo uses the official EPSG:6960 operation", {"towgs84": list(values)})]
    if all(abs(v) < 1e-9 for v in values):
        return "wgs84", []
    return "vn2000", [Flag(F.UNOFFICIAL_TOWGS84, "warning",
                           "TOWGS84 is not the official VN-2000 set (EPSG:6960): coordinates are taken as VN-2000 and "
                           "transformed with the official operation", {"towgs84": list(values)})]


def _datum(crs: pyproj.CRS, text: str) -> tuple[str | None, tuple[float, ...] | None, list[Flag]]:
    """(datum, towgs84, flags) of a parsed WKT."""
    base = crs.source_crs if crs.is_bound else crs
    geodetic = base.geodetic_crs
    flags: list[Flag] = []
    towgs84 = _towgs84_from_text(text)
    datum_name = _key(geodetic.datum.name if geodetic and geodetic.datum else "")
    ellipsoid = geodetic.ellipsoid if geodetic else None
    names = _key(geodetic.name if geodetic else "") + "|" + datum_name
    wgs_ellipsoid = ellipsoid is not None and abs(ellipsoid.semi_major_metre - 6378137.0) < 0.01 and abs(
        ellipsoid.inverse_flattening - 298.257223563) < 1e-6
    krass = ellipsoid is not None and abs(ellipsoid.semi_major_metre - 6378245.0) < 0.01
    if datum_name in _HN72_DATUM_NAMES or (krass and "hanoi" in names):
        return "HN-72", towgs84, flags
    if datum_name in _VN_DATUM_NAMES or "vn2000" in names or "vietnam2000" in names:
        if towgs84 is not None:
            kind, tflags = _towgs84_flags(towgs84)
            flags += tflags
            if kind == "wgs84":
                flags.append(Flag(F.WGS84_VS_VN2000, "warning",
                                  "VN-2000 datum declared with a zero TOWGS84: software honouring this .prj treats "
                                  "VN-2000 as WGS 84 (about 225 m off); landgeo uses the official operation"))
        return "VN-2000", towgs84, flags
    if wgs_ellipsoid and towgs84 is not None:
        kind, tflags = _towgs84_flags(towgs84)
        flags += tflags
        return ("WGS 84" if kind == "wgs84" else "VN-2000"), towgs84, flags
    if datum_name in _WGS_DATUM_NAMES or "wgs84" in names or "wgs1984" in names:
        return "WGS 84", towgs84, flags
    if krass:
        return "HN-72", towgs84, flags
    return None, towgs84, flags


def _tm(crs: pyproj.CRS) -> dict[str, float] | None:
    op = crs.coordinate_operation
    if op is None or "transverse mercator" not in (op.method_name or "").lower():
        return None
    values = {p.name: p.value for p in op.params}
    return {
        "lon0": values.get("Longitude of natural origin", 0.0), "k0": values.get("Scale factor at natural origin", 1.0),
        "fe": values.get("False easting", 0.0), "fn": values.get("False northing", 0.0),
        "lat0": values.get("Latitude of natural origin", 0.0),
    }


def _declared_epsg(text: str) -> int | None:
    """The EPSG code of the outermost CRS, when the WKT carries one (AUTHORITY or ID at the end)."""
    m = re.search(r'(?:AUTHORITY|ID)\s*\[\s*"EPSG"\s*,\s*"?(\d+)"?\s*\]\s*\]\s*$', text.strip(), re.I)
    return int(m.group(1)) if m else None


def from_wkt(text: str) -> WktMatch:
    """Recognise a WKT (ESRI or OGC WKT1, WKT2) as a CRS of the registry; see the module docstring."""
    text = (text or "").strip().lstrip("\ufeff")
    if not text:
        return WktMatch(None, [Flag(F.UNRECOGNISED_WKT, "error", "empty .prj/WKT")])
    try:
        parsed = pyproj.CRS.from_wkt(text)
    except pyproj.exceptions.CRSError as exc:
        reason = str(exc).splitlines()[0][:120]
        return WktMatch(None, [Flag(F.UNRECOGNISED_WKT, "error", f"not a readable WKT: {reason}")])
    flags: list[Flag] = []
    if parsed.is_compound and parsed.sub_crs_list:
        # e.g. COMPD_CS[VN-2000 / TM-3 ..., Hon Dau 1992 height]: the horizontal part is what we place data with
        parsed = parsed.sub_crs_list[0]
        flags.append(Flag(F.VERTICAL_IGNORED, "info", "compound CRS: its vertical part is ignored"))
    declared = _declared_epsg(text)
    if declared in DEPRECATED:
        flags.append(Flag(F.DEPRECATED_CODE, "info",
                          f"EPSG:{declared} is deprecated (false easting/northing swapped); "
                          f"read as EPSG:{DEPRECATED[declared]}"))
    datum, towgs84, dflags = _datum(parsed, text)
    flags += dflags
    base = parsed.source_crs if parsed.is_bound else parsed
    if datum is None:
        name = base.geodetic_crs.datum.name if base.geodetic_crs else "?"
        flags.append(Flag(F.UNRECOGNISED_WKT, "error", f"datum {name} is not VN-2000, WGS 84 or HN-72"))
        return WktMatch(None, flags, towgs84)
    if base.is_geographic:
        unit = base.axis_info[0].unit_name if base.axis_info else "degree"
        if "degree" not in unit.lower():
            flags.append(Flag(F.UNRECOGNISED_WKT, "error", f"geographic CRS in {unit}, expected degrees"))
            return WktMatch(None, flags, towgs84)
        geographic = {"VN-2000": VN2000_GEOGRAPHIC, "WGS 84": WGS84, "HN-72": HN72_GEOGRAPHIC}[datum]
        return WktMatch(from_epsg(geographic), flags, towgs84)
    if not base.is_projected:
        flags.append(Flag(F.UNRECOGNISED_WKT, "error", f"{base.type_name} is not a 2D geographic or projected CRS"))
        return WktMatch(None, flags, towgs84)
    unit = base.axis_info[0].unit_name if base.axis_info else "metre"
    if unit.lower() not in ("metre", "meter"):
        flags.append(Flag(F.UNRECOGNISED_WKT, "error", f"projected CRS in {unit}, landgeo expects metres"))
        return WktMatch(None, flags, towgs84)
    tm = _tm(base)
    if tm is None:
        code = base.to_epsg(min_confidence=70)
        if code:
            try:
                crs = from_epsg(code)
            except UserError as exc:
                flags.append(Flag(F.UNRECOGNISED_WKT, "error", str(exc)))
                return WktMatch(None, flags, towgs84)
            return WktMatch(crs, flags, towgs84)
        flags.append(Flag(F.UNRECOGNISED_WKT, "error",
                          f"projection {base.coordinate_operation.method_name if base.coordinate_operation else '?'} "
                          "is not one landgeo knows"))
        return WktMatch(None, flags, towgs84)
    crs = _match_tm(datum, tm)
    if crs is None and datum == "WGS 84":
        vn = _match_tm("VN-2000", tm)
        if vn is not None and vn.is_tm3:
            flags.append(Flag(F.WGS84_VS_VN2000, "warning",
                              "datum declared WGS 84 but the projection is VN-2000 TM-3 (central meridian "
                              f"{tm['lon0']}, k0 0.9999): taken as {vn.code} "
                              "(if the data really are on WGS 84 they are ~225 m off)"))
            crs = vn
    if crs is None:
        hint = _dms_hint(datum, tm)
        if hint is not None:
            flags.append(Flag(F.NON_STANDARD_PARAMETERS, "error",
                              f"central meridian {tm['lon0']} looks like {hint.lon0} written in degrees.minutes "
                              f"({int(tm['lon0'])}°{round((tm['lon0'] % 1) * 100):02d}'): did you mean {hint.code} "
                              f"({hint.name})?", {**tm, "suggested": hint.epsg}))
            return WktMatch(None, flags, towgs84)
        flags.append(Flag(F.NON_STANDARD_PARAMETERS, "error",
                          f"{datum} Transverse Mercator with central meridian {tm['lon0']}, k0 {tm['k0']}, "
                          f"false easting {tm['fe']}, false northing {tm['fn']} matches no EPSG CRS landgeo knows", tm))
        return WktMatch(None, flags, towgs84)
    return WktMatch(crs, flags, towgs84)


def _match_tm(datum: str, tm: dict[str, float]) -> CRS | None:
    """The registry CRS with these Transverse Mercator parameters on this datum (per-meridian codes first)."""
    hits = [c for c in registry() if c.datum == datum and c.kind == "projected" and c.lon0 is not None
            and abs(c.lon0 - tm["lon0"]) < 1e-7 and abs((c.k0 or 0) - tm["k0"]) < 1e-9
            and abs((c.false_easting or 0) - tm["fe"]) < 1e-3 and abs((c.false_northing or 0) - tm["fn"]) < 1e-3
            and abs(tm["lat0"]) < 1e-9]
    hits.sort(key=lambda c: (c.epsg < 9205 and c.epsg not in (5897, 5898, 5899), c.epsg))
    return hits[0] if hits else None


def _dms_hint(datum: str, tm: dict[str, float]) -> CRS | None:
    """A TM-3 CRS whose meridian is ``tm['lon0']`` read as degrees.minutes (105.45 -> 105°45' = 105.75)."""
    lon0 = tm["lon0"]
    minutes = round((lon0 % 1) * 100, 6)
    if not minutes or minutes >= 60 or abs(minutes - round(minutes)) > 1e-6:
        return None
    return _match_tm("VN-2000" if datum == "WGS 84" else datum, {**tm, "lon0": int(lon0) + round(minutes) / 60})


def to_esri_wkt(crs: CRS) -> str:
    """The ESRI WKT of a CRS (for writing .prj files); VN-2000 ones carry the official TOWGS84 in WKT1_GDAL."""
    return crs.to_pyproj().to_wkt("WKT1_ESRI")


def read_prj(path: str) -> WktMatch:
    """``from_wkt`` on a .prj file (UTF-8 or Latin-1); an unreadable file is a ``UserError``."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return from_wkt(text)
