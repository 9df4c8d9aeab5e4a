"""The coordinate reference systems the API offers (OGC API – Features Part 2), as the API writes them.

CRS names are read by the one parser of the project, :func:`landgeo.crs.resolve` (the registry): OGC URIs, URNs,
``EPSG:n``, ``[EPSG:n]``, CRS84 — whatever the registry accepts. This module only adds what the API needs on top
of a registry :class:`~landgeo.crs.registry.CRS`: where the geometry comes from (the WGS 84 serving copy or the
canonical VN-2000 geometry), the axis order of the output, and how many decimals to write.

Every collection offers CRS84 (default), EPSG:4326, EPSG:3857, VN-2000 geographic (EPSG:4756) and the VN-2000
TM-3 CRSs (hệ tọa độ VN-2000 múi chiếu 3°) of the registry: national collections cover every province, so they
offer every TM-3 CRS of the EPSG dataset (per-meridian 9205–9218 and 5899, zone codes 5896–5898).

Output geometry is never datum-shifted per request: CRS84/4326/3857 are made from the WGS 84 serving copy
(``geom_wgs84``, computed with the official EPSG:6960 operation when stored); VN-2000 output is made from the
canonical VN-2000 geometry by projection only (exact, no datum shift). EPSG:4326 and EPSG:4756 have latitude
first (their EPSG axis order), CRS84 and the projected CRSs easting/longitude first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from landgeo.crs.parse import resolve
from landgeo.crs.registry import CRS84_URI, OGC_EPSG_URI, registry
from landgeo.errors import UserError

CRS84 = CRS84_URI
EPSG_PREFIX = OGC_EPSG_URI.format("")
VN2000_GEOGRAPHIC = 4756
WEB_MERCATOR = 3857


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
    return OGC_EPSG_URI.format(code)


@lru_cache(maxsize=1)
def tm3_codes() -> tuple[int, ...]:
    """EPSG codes of the VN-2000 TM-3 CRSs of the registry, in code order."""
    return tuple(sorted(c.epsg for c in registry() if c.is_tm3))


def national_crs_uris() -> list[str]:
    """The CRS list of a collection that covers the whole country (first = default)."""
    codes = [4326, WEB_MERCATOR, VN2000_GEOGRAPHIC, *tm3_codes()]
    return [CRS84, *(epsg_uri(c) for c in codes)]


@lru_cache(maxsize=512)
def _api_crs(text: str) -> ApiCrs | None:
    """The API view of the CRS the registry names ``text`` (None: a CRS the API does not serve)."""
    crs = resolve(text)
    if crs.authority == "OGC":
        return ApiCrs(CRS84, 4326, "wgs84", False, 9)
    geographic = crs.kind == "geographic"
    decimals = 9 if geographic else 4
    if crs.datum == "WGS 84" and crs.epsg in (4326, WEB_MERCATOR):
        return ApiCrs(crs.uri, crs.epsg, "wgs84", geographic, decimals)
    if crs.datum == "VN-2000" and (crs.epsg == VN2000_GEOGRAPHIC or crs.is_tm3):
        return ApiCrs(crs.uri, crs.epsg, "vn2000", geographic, decimals)
    return None


MAX_CRS_NAME = 200


def parse_crs(value: str, allowed: list[str]) -> ApiCrs:
    """The :class:`ApiCrs` named by a ``crs``/``bbox-crs``/``filter-crs`` value; ``ValueError`` if not offered."""
    text = value.strip()
    if len(text) > MAX_CRS_NAME:
        raise ValueError(f"CRS name longer than {MAX_CRS_NAME} characters; use a URI such as {CRS84}")
    try:
        crs = _api_crs(text)
    except UserError as exc:
        raise ValueError(f"unknown CRS {value[:80]!r} ({exc}); use a URI such as {CRS84} or {EPSG_PREFIX}4326") \
            from None
    if crs is None or crs.uri not in allowed:
        raise ValueError(f"CRS {value[:80]!r} is not offered by this collection; offered: {', '.join(allowed)}")
    return crs
