"""Offline HTML pages: the scripts and styles pygeoapi's templates load from CDNs are served by landgeo.

pygeoapi's HTML templates name unpkg.com / cdnjs for Leaflet, its plugins, Bootstrap and Swagger UI. A closed
government network reaches none of them. The same files come from the npm registry at set-up
(``web/package.json``, installed by ``scripts/ensure-web-assets.sh`` into ``web/node_modules``) and landgeo serves
them under ``/assets/vendor/`` (ReDoc of ``/openapi?ui=redoc`` too, without its Google web fonts); each HTML
page's CDN addresses are rewritten to those — no template is copied or overridden. The base map has no remote
tiles unless ``LANDGEO_MAP_TILES_URL`` says so (pygeoapi configuration, ``server.map.url``); by default a blank
local tile is drawn under the features.

``leaflet-imageoverlay-ogcapi`` is not on the npm registry: it draws OGC API – Maps layers, which landgeo does
not publish, so a stub that adds no layer stands in for it.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

from landgeo.settings import get_settings

PREFIX = "/assets/"
PACKAGES = ("bootstrap", "html5shiv", "leaflet", "leaflet-draw", "leaflet.markercluster", "redoc", "swagger-ui-dist")
# CDN address (as written in pygeoapi 0.24's templates) -> path under /assets/
REWRITES = [
    ("https://unpkg.com/leaflet@1.3.1/", "vendor/leaflet/"),
    ("https://unpkg.com/leaflet.markercluster/", "vendor/leaflet.markercluster/"),
    ("https://unpkg.com/leaflet-draw@1.0.4/", "vendor/leaflet-draw/"),
    ("https://unpkg.com/bootstrap@5.1.3/", "vendor/bootstrap/"),
    ("https://cdnjs.cloudflare.com/ajax/libs/html5shiv/3.7.3/html5shiv.js", "vendor/html5shiv/dist/html5shiv.js"),
    ("https://unpkg.com/swagger-ui-dist/", "vendor/swagger-ui-dist/"),
    ("https://cdn.jsdelivr.net/npm/redoc@latest/bundles/", "vendor/redoc/bundles/"),  # /openapi?ui=redoc
    ("https://unpkg.com/leaflet-imageoverlay-ogcapi@0.1.0/Leaflet.ImageOverlay.OGCAPI.js",
     "landgeo/imageoverlay-ogcapi-stub.js"),
]
# markup dropped from a page: ReDoc's web fonts (it falls back to the system's sans-serif)
DROPS = ['<link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700" '
         'rel="stylesheet">']
# addresses of another host written inside a vendor file, replaced as it is served: ReDoc's side menu shows
# Redocly's logo from their CDN (an empty SVG stands in; the link to redocly.com stays, it loads nothing)
VENDOR_REWRITES = {
    "redoc/bundles/redoc.standalone.js": [
        (b"https://cdn.redoc.ly/redoc/logo-mini.svg",
         b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E")],
}
BLANK_TILE = base64.b64decode(  # 1 x 1 transparent PNG: Leaflet stretches it to the tile size
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
OWN = {
    "landgeo/blank-tile.png": (BLANK_TILE, "image/png"),
    "landgeo/imageoverlay-ogcapi-stub.js": (
        b"/* landgeo publishes no OGC API - Maps layer: no overlay */\n"
        b"if (window.L && L.imageOverlay) { L.imageOverlay.ogcapi = function () { return null; }; }\n",
        "text/javascript"),
}


def vendor_dir() -> Path:
    """``web/node_modules`` of the project (installed by ``scripts/ensure-web-assets.sh``)."""
    return get_settings().home / "web" / "node_modules"


def rewrite_html(body: bytes, base_url: str) -> bytes:
    """``body`` with every known CDN address replaced by landgeo's own ``/assets/`` address."""
    text = body.decode("utf-8", errors="surrogateescape")
    for remote, local in REWRITES:
        text = text.replace(remote, f"{base_url}{PREFIX}{local}")
    for markup in DROPS:
        text = text.replace(markup, "")
    return text.encode("utf-8", errors="surrogateescape")


def serve(path: str) -> tuple[int, dict[str, str], bytes]:
    """``(status, headers, body)`` of the asset at ``path`` (which starts with ``/assets/``)."""
    rel = path[len(PREFIX):]
    if rel in OWN:
        body, ctype = OWN[rel]
        return 200, {"Content-Type": ctype, "Cache-Control": "public, max-age=86400"}, body
    parts = rel.split("/")
    if len(parts) >= 3 and parts[0] == "vendor" and parts[1] in PACKAGES and ".." not in parts:
        root = (vendor_dir() / parts[1]).resolve()
        file = (root / "/".join(parts[2:])).resolve()
        if file.is_file() and file.is_relative_to(root):
            ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype.endswith("javascript"):
                ctype += "; charset=utf-8"
            payload = file.read_bytes()
            for remote, local in VENDOR_REWRITES.get("/".join(parts[1:]), ()):
                payload = payload.replace(remote, local)
            return 200, {"Content-Type": ctype, "Cache-Control": "public, max-age=86400"}, payload
    return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"no such asset\n"
