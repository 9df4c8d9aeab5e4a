"""The coordinate reference systems users meet in Vietnam (hệ tọa độ); :mod:`landgeo.crs.parse` names one.

Registry: VN-2000 geographic (EPSG:4756), VN-2000 / UTM 48N, 49N (3405, 3406), every VN-2000 TM-3 CRS
(k0 = 0.9999: 5896–5899 and the per-meridian 9205–9218; the deprecated 6956–6959 resolve to their
replacements), HN-72 (4147 and its Gauss–Krüger CRSs 2044, 2045, 2093), and WGS 84 (4326, CRS84,
UTM 32648/32649, Web Mercator 3857). Any other EPSG CRS on one of these three datums resolves too.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

import pyproj

from landgeo.errors import UserError
from landgeo.settings import get_settings

Datum = Literal["VN-2000", "WGS 84", "HN-72"]
Kind = Literal["geographic", "projected"]

OGC_EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

# EPSG codes withdrawn because their definition was wrong (false easting and northing swapped), with the
# code that replaced each; a .prj or a table that still says 6956 means the replacement.
# The official VN-2000 -> WGS 84 parameters (EPSG:6960) as a PROJ towgs84 (position-vector convention), for SQL
# and .prj output.
OFFICIAL_TOWGS84 = (-191.90441429, -39.30318279, -111.45032835, 0.00928836, -0.01975479, 0.00427372, 0.252906278)
DEPRECATED = {6956: 5896, 6957: 5897, 6958: 5898, 6959: 5899}

_DATUM_BY_PROJ_NAME = {
    "Vietnam 2000": "VN-2000",
    "Hanoi 1972": "HN-72",
}


@dataclass(frozen=True)
class CRS:
    """A coordinate reference system landgeo knows.

    ``srid`` is the PostGIS SRID (equal to ``epsg``); ``lon0``/``k0`` are the central meridian
    (kinh tuyến trục) and scale factor of a Transverse Mercator projection, None for geographic CRSs.
    ``authority`` is 'EPSG', or 'OGC' for CRS84 (WGS 84 with longitude first, epsg/srid 4326).
    """

    epsg: int
    srid: int
    name: str
    kind: Kind
    datum: Datum
    lon0: float | None = None
    k0: float | None = None
    authority: str = "EPSG"
    false_easting: float | None = None
    false_northing: float | None = None

    @property
    def uri(self) -> str:
        """OGC URI, as OGC API – Features and GML use it."""
        if self.authority == "OGC":
            return CRS84_URI
        return OGC_EPSG_URI.format(self.epsg)

    @property
    def code(self) -> str:
        """'EPSG:9210' or 'OGC:CRS84'."""
        return "OGC:CRS84" if self.authority == "OGC" else f"EPSG:{self.epsg}"

    @property
    def is_tm3(self) -> bool:
        """A VN-2000 TM-3 (k0 = 0.9999) CRS, the cadastral projection."""
        return self.datum == "VN-2000" and self.kind == "projected" and self.k0 == 0.9999

    @property
    def is_utm(self) -> bool:
        return self.kind == "projected" and self.k0 == 0.9996

    def to_pyproj(self) -> pyproj.CRS:
        """The pyproj CRS (PROJ's EPSG definition; axis order as EPSG says, use always_xy to transform)."""
        return _pyproj_crs(self.authority, self.epsg)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


@cache
def _pyproj_crs(authority: str, epsg: int) -> pyproj.CRS:
    if authority == "OGC":
        return pyproj.CRS("OGC:CRS84")
    return pyproj.CRS.from_epsg(epsg)


def _datum_of(crs: pyproj.CRS) -> str | None:
    geodetic = crs.geodetic_crs
    if geodetic is None or geodetic.datum is None:
        return None
    name = geodetic.datum.name
    if name.startswith("World Geodetic System 1984"):
        return "WGS 84"
    return _DATUM_BY_PROJ_NAME.get(name)


def _tm_parameters(crs: pyproj.CRS) -> tuple[float | None, float | None, float | None, float | None]:
    """(lon0, k0, false easting, false northing) of a Transverse Mercator CRS, else Nones."""
    op = crs.coordinate_operation
    if op is None or "Transverse Mercator" not in (op.method_name or ""):
        return None, None, None, None
    values = {p.name: p.value for p in op.params}
    return (values.get("Longitude of natural origin"), values.get("Scale factor at natural origin"),
            values.get("False easting"), values.get("False northing"))


def _build(epsg: int) -> CRS:
    crs = _pyproj_crs("EPSG", epsg)
    datum = _datum_of(crs)
    if datum is None:
        raise UserError(f"EPSG:{epsg} ({crs.name}) is not on a datum landgeo supports (VN-2000, WGS 84, HN-72)")
    kind: Kind = "geographic" if crs.is_geographic else "projected"
    if crs.is_projected:
        lon0, k0, fe, fn = _tm_parameters(crs)
        if crs.axis_info and crs.axis_info[0].unit_name not in ("metre", "meter"):
            raise UserError(f"EPSG:{epsg} ({crs.name}) is not in metres; landgeo supports metre-based projections")
    elif crs.is_geographic and len(crs.axis_info) == 2:
        lon0 = k0 = fe = fn = None
    else:
        raise UserError(f"EPSG:{epsg} ({crs.name}) is neither a 2D geographic nor a projected CRS")
    return CRS(epsg=epsg, srid=epsg, name=crs.name, kind=kind, datum=datum,  # type: ignore[arg-type]
               lon0=lon0, k0=k0, false_easting=fe, false_northing=fn)


CRS84 = CRS(epsg=4326, srid=4326, name="WGS 84 (CRS84)", kind="geographic", datum="WGS 84", authority="OGC")

# Codes of the registry (beyond these, any EPSG CRS on a supported datum resolves on demand).
HN72_CODES = (4147, 2044, 2045, 2093)
WGS84_CODES = (4326, 32648, 32649, 3857)


@lru_cache(maxsize=1)
def _vn2000_codes() -> tuple[int, ...]:
    path = get_settings().reference_dir / "epsg_vn2000_crs.csv"
    with path.open(encoding="utf-8") as fh:
        codes = [int(row["epsg"]) for row in csv.DictReader(fh) if row["deprecated"] != "True"]
    return tuple(codes)


@cache
def from_epsg(epsg: int) -> CRS:
    """The CRS of an EPSG code (deprecated VN-2000 TM-3 codes give their replacement)."""
    epsg = DEPRECATED.get(epsg, epsg)
    try:
        return _build(epsg)
    except pyproj.exceptions.CRSError:
        raise UserError(f"unknown EPSG code {epsg}") from None


def registry() -> list[CRS]:
    """Every CRS of the registry, VN-2000 first (geographic, UTM, TM-3 by meridian), then HN-72, then WGS 84."""
    vn = [from_epsg(c) for c in _vn2000_codes()]
    vn.sort(key=lambda c: (c.kind != "geographic", not c.is_utm, c.lon0 or 0, c.epsg))
    return vn + [from_epsg(c) for c in HN72_CODES] + [from_epsg(c) for c in WGS84_CODES] + [CRS84]


def tm3_crs_for_meridian(lon0: float) -> CRS:
    """The EPSG VN-2000 TM-3 CRS of a central meridian (the per-province codes 9205–9218, 5897–5899)."""
    for crs in registry():
        if crs.is_tm3 and crs.lon0 is not None and abs(crs.lon0 - lon0) < 1e-9 and (
                crs.epsg >= 9205 or crs.epsg in (5897, 5898, 5899)):
            return crs
    for crs in registry():
        if crs.is_tm3 and crs.lon0 is not None and abs(crs.lon0 - lon0) < 1e-9:
            return crs
    raise UserError(f"no EPSG VN-2000 TM-3 CRS has central meridian {lon0}")
