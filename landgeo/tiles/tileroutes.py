"""HTTP routes of the map side of the API: OGC API – Tiles, styles, glyphs and the web map page.

``app.py`` sends a request here when :func:`handles` says so; :func:`dispatch` answers it whole (status, headers,
body) or with an OGC exception (``{"code", "description"}``, 400/404) — never a traceback.

- ``/tileMatrixSets``, ``/tileMatrixSets/{tms}``: the two tile matrix sets;
- ``/tiles``, ``/tiles/{tms}``, ``/tiles/{tms}/{z}/{y}/{x}``: the multi-layer base map;
- ``/collections/{id}/tiles[/{tms}[/{z}/{y}/{x}]]``: one collection;
- ``/styles``, ``/styles/{id}``: Mapbox GL styles (``basemap`` or a collection id);
- ``/fonts/{fontstack}/{start}-{end}.pbf``: SDF glyphs for the styles' labels;
- ``/map`` and ``/map/…``: the web map page and its assets (MapLibre GL JS served from here).
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
from pathlib import Path
from urllib.parse import parse_qsl

import psycopg
from psycopg_pool import PoolTimeout

from landgeo.api.collections import get_collection
from landgeo.api.pool import get_pool
from landgeo.api.query import ApiError, bad
from landgeo.settings import get_settings
from landgeo.tiles.glyphs import FontNotFound, glyph_range
from landgeo.tiles.styles import style
from landgeo.tiles.tilecache import TileCache
from landgeo.tiles.tilematrixsets import TILE_MATRIX_SETS, TileMatrixSet
from landgeo.tiles.tiles import CONNECTION_OPTIONS, tile_box
from landgeo.tiles.tilesets import MVT, STYLE_TYPE, basemap_collections, tile_matrix_sets, tileset, tileset_list

LOGGER = logging.getLogger("landgeo.tiles.tiles")
STATIC = Path(__file__).resolve().parent / "static"
MAX_TILE_BYTES = 500_000

_TILE = re.compile(r"^(?:/collections/([^/]+))?/tiles(?:/([^/]+)(?:/([^/]+)/([^/]+)/([^/]+))?)?/?$")
_TMS = re.compile(r"^/tile[mM]atrix[sS]ets(?:/([^/]+))?/?$")
_STYLE = re.compile(r"^/styles(?:/([^/]+))?/?$")
_FONT = re.compile(r"^/fonts/([^/]+)/(\d+)-(\d+)\.pbf$")
_MAP = re.compile(r"^/map(?:/([A-Za-z0-9_.\-/]+))?/?$")

_CACHE: TileCache | None = None


def handles(path: str) -> bool:
    return bool(_TILE.match(path) or _TMS.match(path) or _STYLE.match(path) or _FONT.match(path)
                or _MAP.match(path))


def cache() -> TileCache:
    global _CACHE
    if _CACHE is None:
        setting = get_settings().tile_cache
        root = None if setting == "off" else Path(setting) if setting else get_settings().state_dir / "tiles"
        _CACHE = TileCache(root)
    return _CACHE


def _send(start_response, status: int, content_type: str, body: bytes, extra: dict | None = None):
    reasons = {200: "OK", 204: "No Content", 304: "Not Modified", 400: "Bad Request", 404: "Not Found",
               405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))),
               ("Access-Control-Allow-Origin", "*"), *(extra or {}).items()]
    start_response(f"{status} {reasons.get(status, '')}", headers)
    return [body]


def _json(start_response, doc: dict, content_type: str = "application/json"):
    return _send(start_response, 200, content_type, json.dumps(doc, ensure_ascii=False).encode())


def dispatch(app, environ, start_response):
    """Answer one request of the map side (``app`` is the LandgeoApp: base URL and database URLs)."""
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    try:
        if method not in ("GET", "HEAD"):
            raise ApiError(405, "InvalidRequest", f"{method} is not allowed on {path}")
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        base = app.base_url
        if m := _TILE.match(path):
            cid, tms_id, z, y, x = m.groups()
            if cid is not None:
                _collection(app, cid)
            if tms_id is None:
                return _json(start_response, tileset_list(base, cid))
            tms = _tms(tms_id)
            if z is None:
                return _json(start_response, tileset(base, cid, tms))
            return _tile(app, start_response, cid, tms, z, y, x, params)
        if m := _TMS.match(path):
            if m.group(1) is None:
                return _json(start_response, tile_matrix_sets(base))
            return _json(start_response, _tms(m.group(1)).document())
        if m := _STYLE.match(path):
            sid = m.group(1)
            if sid is None:
                ids = ["basemap", *(c.id for c in basemap_collections())]
                return _json(start_response, {"styles": [
                    {"id": i, "links": [{"rel": "stylesheet", "type": STYLE_TYPE,
                                         "href": f"{base}/styles/{i}?f=mapbox"}]} for i in ids]})
            if sid != "basemap":
                _collection(app, sid)
            return _json(start_response, style(base, None if sid == "basemap" else sid), STYLE_TYPE)
        if m := _FONT.match(path):
            return _glyphs(start_response, m.group(1), int(m.group(2)), int(m.group(3)))
        if m := _MAP.match(path):
            return _static(start_response, m.group(1) or "index.html")
        raise ApiError(404, "NotFound", f"no resource at {path}")
    except ApiError as exc:
        return _send(start_response, exc.status, "application/json", exc.body())
    except (PoolTimeout, psycopg.OperationalError):
        LOGGER.exception("database unavailable for %s %s", method, path)
        err = ApiError(503, "ServiceUnavailable", "the database is not reachable; try again later")
        return _send(start_response, 503, "application/json", err.body())
    except Exception:  # a bug: log it, answer in OGC form
        LOGGER.exception("error in %s %s", method, path)
        err = ApiError(500, "NoApplicableCode", "internal error (logged)")
        return _send(start_response, 500, "application/json", err.body())


def _collection(app, cid: str):
    c = get_collection(cid)
    if c is None or cid not in app.db_urls:
        raise ApiError(404, "NotFound", f"collection {cid!r} not found")
    if not c.has_geometry:
        raise ApiError(404, "NotFound", f"collection {cid!r} has no geometry: it has no tiles")
    return c


def _tms(tms_id: str) -> TileMatrixSet:
    tms = TILE_MATRIX_SETS.get(tms_id)
    if tms is None:
        raise ApiError(404, "NotFound", f"tile matrix set {tms_id!r} not found: "
                                        f"{' or '.join(TILE_MATRIX_SETS)}")
    return tms


def _index(text: str, name: str) -> int:
    if not re.fullmatch(r"\d{1,9}", text):
        raise bad(f"{name} {text!r}: a non-negative integer expected")
    return int(text)


def _tile(app, start_response, cid: str | None, tms: TileMatrixSet, z_text: str, y_text: str, x_text: str,
          params: dict):
    z, row, col = _index(z_text, "tileMatrix"), _index(y_text, "tileRow"), _index(x_text.split(".")[0], "tileCol")
    unknown = [k for k in params if k not in ("f", "collections")]
    if unknown:
        raise bad(f"unknown query parameter(s) for a tile: {', '.join(unknown)}")
    if params.get("f", "mvt") not in ("mvt", MVT):
        raise bad(f"f={params['f']!r}: tiles are Mapbox Vector Tiles (f=mvt)")
    if z > tms.max_zoom:
        raise ApiError(404, "NotFound", f"tileMatrix {z} is beyond {tms.id}'s limits (0–{tms.max_zoom})")
    cols, rows = tms.size(z)
    if row >= rows or col >= cols:
        raise ApiError(404, "NotFound", f"tile {z}/{row}/{col} is outside the {tms.id} matrix {z} "
                                        f"({rows} rows × {cols} columns)")
    if cid is not None:
        layers = [_collection(app, cid)]
    else:
        layers = [c for c in basemap_collections() if c.id in app.db_urls]
        wanted = params.get("collections")
        if wanted:
            names = set(wanted.split(","))
            missing = names - {c.id for c in layers}
            if missing:
                raise ApiError(404, "NotFound", f"collection(s) not in the base map: {', '.join(sorted(missing))}")
            layers = [c for c in layers if c.id in names]
    box = tile_box(tms, z, row, col)
    parts, how = [], []
    url = app.db_urls[layers[0].id]
    with get_pool(url, CONNECTION_OPTIONS).connection() as conn:  # the tile server's own connections
        for c in layers:
            data, served = cache().get(conn, url, c, tms, z, row, col, box)
            parts.append(data)
            how.append(served)
    body = b"".join(parts)  # MVT layers concatenate: the base map is its layers' tiles one after the other
    if len(body) > MAX_TILE_BYTES:
        LOGGER.warning("tile %s %s/%s/%s is %d bytes (budget %d)", cid or "basemap", z, row, col, len(body),
                       MAX_TILE_BYTES)
    headers = {"X-Tile-Cache": ",".join(how), "Cache-Control": "no-cache"}
    if not body:
        start_response("204 No Content", [("Access-Control-Allow-Origin", "*"), *headers.items()])
        return [b""]
    return _send(start_response, 200, MVT, body, headers)


def _glyphs(start_response, fontstack: str, start: int, end: int):
    if start % 256 or end != start + 255 or start > 65280:
        raise ApiError(404, "NotFound", f"glyph range {start}-{end}: ranges are 256 code points (0-255, 256-511 …)")
    try:
        data = glyph_range(fontstack, start, get_settings().state_dir / "glyphs")
    except FontNotFound as exc:
        raise ApiError(404, "NotFound", str(exc)) from exc
    return _send(start_response, 200, "application/x-protobuf", data, {"Cache-Control": "max-age=86400"})


def _static(start_response, name: str):
    path = (STATIC / name).resolve()
    if STATIC.resolve() not in path.parents or not path.is_file():
        hint = " (run `make map-assets`)" if name.startswith("vendor/") else ""
        raise ApiError(404, "NotFound", f"/map/{name} not found{hint}")
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype.endswith("javascript"):
        ctype += "; charset=utf-8"
    return _send(start_response, 200, ctype, path.read_bytes())
