"""The one parser of CRS names (tên hệ tọa độ): what a user, a file or a request may call a CRS, resolved to the
registry's :class:`~landgeo.crs.registry.CRS` — EPSG codes, OGC URIs/URNs, CRS84, ``vn2000:<province>`` and WKT."""

from __future__ import annotations

import re

from landgeo.crs.provinces import province_zone
from landgeo.crs.registry import CRS, CRS84, from_epsg
from landgeo.crs.srids import HN72_GEOGRAPHIC, VN2000_GEOGRAPHIC, WGS84
from landgeo.crs.wkt import from_wkt
from landgeo.errors import UserError

_EPSG_PATTERNS = (
    re.compile(r"^(?:epsg\s*:\s*)?(\d{4,6})$", re.I),
    re.compile(r"^https?://www\.opengis\.net/def/crs/epsg/[^/]+/(\d+)$", re.I),
    re.compile(r"^urn:ogc:def:crs:epsg:[^:]*:(\d+)$", re.I),
    re.compile(r"^\[?epsg:(\d+)\]?$", re.I),
)
_CRS84_SPECS = {
    "crs84", "ogc:crs84", "http://www.opengis.net/def/crs/ogc/1.3/crs84", "https://www.opengis.net/def/crs/ogc/1.3/crs84",
    "urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84", "[ogc:crs84]",
}
_NAMED = {"wgs84": WGS84, "wgs 84": WGS84, "vn-2000": VN2000_GEOGRAPHIC, "vn2000": VN2000_GEOGRAPHIC,
          "hn-72": HN72_GEOGRAPHIC, "hn72": HN72_GEOGRAPHIC}


def resolve(spec: str | int | CRS) -> CRS:
    """Name a CRS: 'EPSG:9210', '9210', 9210, an OGC URI or URN, 'CRS84', 'vn2000:<province>' (code or
    name of a province; '@2004' or '@2025' picks the generation, e.g. 'vn2000:45@2004'), or a WKT text.

    Unknown or unsupported -> ``UserError`` (one line).
    """
    if isinstance(spec, CRS):
        return spec
    if isinstance(spec, int) and not isinstance(spec, bool):
        return from_epsg(spec)
    if not isinstance(spec, str):
        raise UserError(f"not a CRS: {spec!r}")
    text = spec.strip()
    if not text:
        raise UserError("empty CRS")
    lower = text.lower()
    if lower in _CRS84_SPECS:
        return CRS84
    if lower in _NAMED:
        return from_epsg(_NAMED[lower])
    for pattern in _EPSG_PATTERNS:
        m = pattern.match(text)
        if m:
            return from_epsg(int(m.group(1)))
    if lower.startswith(("vn2000:", "vn-2000:")):
        rest = text.split(":", 1)[1].strip()
        generation = None
        if "@" in rest:
            rest, generation = (part.strip() for part in rest.rsplit("@", 1))
        return province_zone(rest, generation)
    if re.match(r"^(PROJCS|GEOGCS|PROJCRS|GEOGCRS|GEODCRS|BOUNDCRS|COMPD_CS)\s*\[", text, re.I):
        match = from_wkt(text)
        if match.crs is None:
            reasons = "; ".join(f.message for f in match.flags)
            raise UserError(f"WKT not recognised as a CRS landgeo supports: {reasons}")
        return match.crs
    if lower.startswith("+proj="):
        raise UserError(f"PROJ strings are not accepted, name the CRS by EPSG code: {text[:60]}")
    raise UserError(f"unknown CRS {text[:80]!r} (use EPSG:<code>, an OGC URI, CRS84 or vn2000:<province>)")
