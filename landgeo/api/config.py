"""``pygeoapi-config.yml``: generated from the catalogue, committed at the repository root.

The file and :func:`build_config` must agree (a test checks it); regenerate after changing the catalogue with::

    python -m landgeo.api.config > pygeoapi-config.yml

The database is reached through ``${LANDGEO_DATABASE_URL}`` (``landgeo serve`` sets it from the configuration
or the embedded cluster): the file never holds a password. ``${LANDGEO_API_URL}`` is the public base URL.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from landgeo.api.collections import Collection, collections
from landgeo.api.limits import DEFAULT_LIMIT, MAX_LIMIT
from landgeo.settings import get_settings

PROVIDER = "landgeo.api.provider.LandgeoProvider"
VIETNAM_BBOX = [102.14, 6.0, 117.9, 23.4]  # mainland and islands, CRS84

HEADER = """\
# pygeoapi configuration of landgeo: GENERATED from the catalogue (landgeo.catalog.targets() + validation findings).
# Regenerate with: python -m landgeo.api.config > pygeoapi-config.yml   (tests/test_api_config.py checks they agree)
# Served by `landgeo serve`, which sets LANDGEO_DATABASE_URL (never a literal password here) and LANDGEO_API_URL.
"""


def _resource(c: Collection) -> dict:
    provider = {
        "type": "feature",
        "name": PROVIDER,
        "data": {"url": "${LANDGEO_DATABASE_URL}", "collection": c.id},
        "id_field": "id",
        "storage_crs": c.storage_crs,
        "crs": c.crs_uris,
    }
    if c.time_field:
        provider["time_field"] = c.time_field
    return {
        "type": "collection",
        "title": c.title,
        "description": c.description,
        "keywords": list(c.keywords),
        "links": [],
        "extents": {"spatial": {"bbox": VIETNAM_BBOX, "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "limits": {"default_items": DEFAULT_LIMIT, "max_items": MAX_LIMIT},
        "providers": [provider],
    }


def build_config() -> dict:
    """The pygeoapi configuration of every published collection."""
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": 5000},
            "url": "${LANDGEO_API_URL:-http://127.0.0.1:5000}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US", "vi-VN"],
            "limits": {"default_items": DEFAULT_LIMIT, "max_items": MAX_LIMIT},
            "pretty_print": False,
            "map": {
                # no remote tiles unless configured (closed networks): a blank local tile under the features
                "url": "${LANDGEO_MAP_TILES_URL:-/assets/landgeo/blank-tile.png}",
                "attribution": "${LANDGEO_MAP_ATTRIBUTION:-no base map (set LANDGEO_MAP_TILES_URL)}",
            },
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "landgeo — Vietnam land parcels and base geography",
                "description": "Cơ sở dữ liệu địa chính và nền địa lý quốc gia: OGC API – Features (Parts 1, 2, 3).",
                "keywords": ["địa chính", "cadastre", "VN-2000", "OGC API - Features"],
                "keywords_type": "theme",
                "terms_of_service": "https://creativecommons.org/licenses/by/4.0/",
                "url": "https://example.gov.vn/landgeo",
            },
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "landgeo", "url": "https://example.gov.vn/landgeo"},
            "contact": {"name": "landgeo operators", "email": "landgeo@example.gov.vn"},
        },
        "resources": {cid: _resource(c) for cid, c in collections().items()},
    }


def render() -> str:
    return HEADER + yaml.safe_dump(build_config(), sort_keys=False, allow_unicode=True, width=120)


def default_path() -> Path:
    return Path(get_settings().home) / "pygeoapi-config.yml"


if __name__ == "__main__":
    sys.stdout.write(render())
