"""The map side of the API in the OpenAPI document: tiles, tile matrix sets, styles, glyphs and the map page
(pygeoapi's generator knows nothing of them: they are served by :mod:`landgeo.tiles.tileroutes`)."""

from __future__ import annotations

from landgeo.tiles.tilematrixsets import TILE_MATRIX_SETS
from landgeo.tiles.tilesets import MVT, STYLE_TYPE

_TAG = "Tiles"


def _param(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


_TMS = _param("tileMatrixSetId", "tile matrix set", {"type": "string", "enum": list(TILE_MATRIX_SETS)})
_ZYX = [_param("tileMatrix", "zoom level (0–22; WorldCRS84Quad 0–21)", {"type": "integer", "minimum": 0}),
        _param("tileRow", "row, from the top", {"type": "integer", "minimum": 0}),
        _param("tileCol", "column, from the left", {"type": "integer", "minimum": 0})]
_COLLECTION = _param("collectionId", "collection with tiles (every published collection)", {"type": "string"})
_ERRORS = {"400": {"description": "bad index or parameter (OGC exception)"},
           "404": {"description": "unknown collection or matrix set, tile outside the matrix (OGC exception)"}}


def _op(summary: str, media: str, params: list[dict], extra: dict | None = None) -> dict:
    responses = {"200": {"description": summary, "content": {media: {}}}, **_ERRORS, **(extra or {})}
    return {"get": {"tags": [_TAG], "summary": summary, "parameters": params, "responses": responses}}


def with_tiles(document: dict) -> dict:
    """``document`` plus the paths of the tiles, styles and map resources."""
    empty = {"204": {"description": "no feature in this tile"}}
    paths = {
        "/tileMatrixSets": _op("tile matrix sets", "application/json", []),
        "/tileMatrixSets/{tileMatrixSetId}": _op("a tile matrix set (OGC TMS 2.0)", "application/json", [_TMS]),
        "/tiles": _op("base map tilesets", "application/json", []),
        "/tiles/{tileMatrixSetId}": _op("base map tileset metadata (and TileJSON)", "application/json", [_TMS]),
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}":
            _op("base map tile: every collection's layer", MVT, [_TMS, *_ZYX], empty),
        "/collections/{collectionId}/tiles": _op("a collection's tilesets", "application/json", [_COLLECTION]),
        "/collections/{collectionId}/tiles/{tileMatrixSetId}":
            _op("a collection's tileset metadata (and TileJSON)", "application/json", [_COLLECTION, _TMS]),
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}":
            _op("a collection's vector tile", MVT, [_COLLECTION, _TMS, *_ZYX], empty),
        "/styles/{styleId}": _op("Mapbox GL style (basemap or a collection id)", STYLE_TYPE,
                                 [_param("styleId", "basemap or a collection id", {"type": "string"})]),
        "/map": _op("the web map page", "text/html", []),
    }
    document.setdefault("paths", {}).update(paths)
    tags = document.setdefault("tags", [])
    if not any(t.get("name") == _TAG for t in tags):
        tags.append({"name": _TAG, "description": "OGC API – Tiles (Mapbox Vector Tiles), styles and the web map"})
    return document
