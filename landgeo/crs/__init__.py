"""VN-2000 coordinate reference systems: registry, provinces, official transformation, WKT and detection.

One module, one truth for loaders, validation and the API::

    from landgeo.crs import CRS, resolve, province_zone, find_province, provinces, from_wkt, transform, detect
"""

from __future__ import annotations

from landgeo.crs.detect import Detection, Reference, detect, locate
from landgeo.crs.flags import Flag
from landgeo.crs.parse import resolve
from landgeo.crs.provinces import Province, find_province, province_zone, provinces
from landgeo.crs.registry import CRS, CRS84, OFFICIAL_TOWGS84, from_epsg, registry
from landgeo.crs.transform import transform
from landgeo.crs.wkt import WktMatch, from_wkt, read_prj

__all__ = [
    "CRS", "CRS84", "Detection", "Flag", "OFFICIAL_TOWGS84", "Province", "Reference", "WktMatch", "detect",
    "find_province", "from_epsg", "locate", "from_wkt", "province_zone", "provinces", "read_prj", "registry", "resolve",
    "transform",
]
