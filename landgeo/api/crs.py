"""Coordinate reference systems offered by the API (OGC API – Features Part 2), and the SQL that produces them.

Every collection offers CRS84 (default), EPSG:4326, EPSG:3857, VN-2000 geographic (EPSG:4756) and the VN-2000
TM-3 CRSs (hệ tọa độ VN-2000 múi chiếu 3°) of the provinces it covers. National collections cover every
province, so they offer every TM-3 CRS of the EPSG dataset: the per-meridian codes of the provincial cadastral
zones (5899, 9205–9218) and the zone codes 5896–5898.

Output geometry is never datum-shifted per request: CRS84/4326/3857 are made from the WGS 84 serving copy
(``geom_wgs84``, computed with the official EPSG:6960 operation when stored); VN-2000 output is made from the
canonical VN-2000 geometry by projection only (exact, no datum shift). EPSG:4326 and EPSG:4756 have latitude
first (their EPSG axis order), CRS84 and the projected CRSs easting/longitude first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"

#: VN-2000 TM-3 CRSs (k0 = 0.9999, false easting 500 000) with their central meridian, from the EPSG dataset.
TM3_MERIDIANS: dict[int, float] = {
    5896: 102.0, 5897: 105.0, 5898: 108.0, 5899: 107.75,
    9205: 103.0, 9206: 104.0, 9207: 104.5, 9208: 104.75, 9209: 105.5, 9210: 105.75, 9211: 106.0,
    9212: 106.25, 9213: 106.5, 9214: 107.0, 9215: 107.25, 9216: 107.5, 9217: 108.25, 9218: 108.5,
}

VN2000_GEOGRAPHIC = 4756


@dataclass(frozen=True)
class ApiCrs:
    """One CRS the API can write or read coordinates in."""

    uri: str
    srid: int  # 4326 for CRS84
    family: str  # 'wgs84' (served from the WGS 84 copy) or 'vn2000' (from the canonical VN-2000 geometry)
    lat_first: bool  # EPSG axis order latitude, longitude
    decimals: int  # digits written by ST_AsGeoJSON (9 for degrees ≈ 0.1 mm; 4 for metres = 0.1 mm)

    @property
    def projected(self) -> bool:
        return self.srid not in (4326, VN2000_GEOGRAPHIC)


def epsg_uri(code: int) -> str:
    return f"{EPSG_PREFIX}{code}"


def _make(code: int | None) -> ApiCrs:
    if code is None:
        return ApiCrs(CRS84, 4326, "wgs84", False, 9)
    if code == 4326:
        return ApiCrs(epsg_uri(4326), 4326, "wgs84", True, 9)
    if code == 3857:
        return ApiCrs(epsg_uri(3857), 3857, "wgs84", False, 4)
    if code == VN2000_GEOGRAPHIC:
        return ApiCrs(epsg_uri(code), code, "vn2000", True, 9)
    if code in TM3_MERIDIANS:
        return ApiCrs(epsg_uri(code), code, "vn2000", False, 4)
    raise KeyError(code)


def national_crs_uris() -> list[str]:
    """The CRS list of a collection that covers the whole country (first = default)."""
    codes = [4326, 3857, VN2000_GEOGRAPHIC, *sorted(TM3_MERIDIANS)]
    return [CRS84, *(epsg_uri(c) for c in codes)]


_EPSG_FORMS = (
    re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/(\d+)$"),
    re.compile(r"^urn:ogc:def:crs:EPSG:[\d.]*:(\d+)$", re.IGNORECASE),
    re.compile(r"^EPSG:(\d+)$", re.IGNORECASE),
    re.compile(r"^\[EPSG:(\d+)\]$", re.IGNORECASE),
)
_CRS84_FORMS = {
    CRS84, "https://www.opengis.net/def/crs/OGC/1.3/CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84", "CRS84", "OGC:CRS84", "[OGC:CRS84]",
}


def parse_crs(value: str, allowed: list[str]) -> ApiCrs:
    """The :class:`ApiCrs` named by a ``crs``/``bbox-crs``/``filter-crs`` value; ``ValueError`` if not offered."""
    text = value.strip()
    code: int | None = None
    if text in _CRS84_FORMS:
        crs = _make(None)
    else:
        for pattern in _EPSG_FORMS:
            match = pattern.match(text)
            if match:
                code = int(match.group(1))
                break
        else:
            raise ValueError(f"unknown CRS {value!r}; use a URI such as {CRS84} or {EPSG_PREFIX}4326")
        try:
            crs = _make(code)
        except KeyError:
            crs = None
    if crs is None or crs.uri not in allowed:
        raise ValueError(f"CRS {value!r} is not offered by this collection; offered: {', '.join(allowed)}")
    return crs
