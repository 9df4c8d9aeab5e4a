"""OGC API – Tiles documents: tileset lists, tileset metadata (with TileJSON fields for MapLibre and QGIS), and the
list of tile matrix sets. No database access: the documents follow from the catalogue and the layer rules.
"""

from __future__ import annotations

from landgeo.api.collections import Collection, collections
from landgeo.tiles.tilematrixsets import TILE_MATRIX_SETS, TileMatrixSet
from landgeo.tiles.tiles import (
    LABEL_FIT_PX,
    LABEL_RULES,
    PARCEL_MIN_ZOOM,
    SUMMARY_LAYER,
    label_layer,
    min_zoom,
    tile_properties,
)

TILES_CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]

MVT = "application/vnd.mapbox-vector-tile"
STYLE_TYPE = "application/vnd.mapbox.style+json"
VIETNAM_CRS84 = (102.1, 8.3, 109.5, 23.4)  # a box around Việt Nam's land (the map's initial view)
BASEMAP_ID = "basemap"


def basemap_collections() -> list[Collection]:
    """The layers of the multi-layer base map, bottom to top (drawing order)."""
    order = ["land-cover", "hydro-areas", "built-up-areas", "admin-units", "parcels", "map-sheets", "buildings",
             "hydro-lines", "roads", "railways", "bridges", "boundaries", "contours", "control-points",
             "spot-heights", "place-names", "validation-findings"]
    found = {cid: c for cid, c in collections().items() if c.has_geometry}
    rest = [cid for cid in found if cid not in order]
    return [found[cid] for cid in [*order, *rest] if cid in found]


def _vector_layer(c: Collection) -> dict:
    fields = {n: c.field_map[n].description for n in tile_properties(c)}
    if c.tile_summaries:
        fields.update({"land_use": "first land-use code", "land_use_group": "NNP | PNN | CSD | ?"})
    return {"id": c.id, "description": c.title, "minzoom": max(min_zoom(c), PARCEL_MIN_ZOOM if c.tile_summaries
                                                               else 0), "maxzoom": 22,
            "fields": fields, "geometry_type": _geometry_type(c.geometry_type)}


def _geometry_type(t: str) -> str:
    t = t.lower().replace("multi", "")
    return {"polygon": "polygons", "linestring": "lines", "point": "points"}.get(t, "geometries")


def _summary_layer() -> dict:
    return {"id": SUMMARY_LAYER, "description": "Parcels per commune (zoom 8–14) and province (zoom 0–7)",
            "minzoom": 0, "maxzoom": PARCEL_MIN_ZOOM - 1, "geometry_type": "points",
            "fields": {"level": "commune | province", "code": "commune or province code", "parcels": "count",
                       "area_ha": "area (ha)", "main_group": "land-use group with the largest area",
                       "nnp_ha": "agricultural (ha)", "pnn_ha": "non-agricultural (ha)", "csd_ha": "unused (ha)"}}


def tileset_path(cid: str | None) -> str:
    return f"/collections/{cid}/tiles" if cid else "/tiles"


def tileset_list(base: str, cid: str | None) -> dict:
    """``/tiles`` or ``/collections/{id}/tiles``: one tileset per tile matrix set."""
    sets = []
    for tms in TILE_MATRIX_SETS.values():
        href = f"{base}{tileset_path(cid)}/{tms.id}"
        sets.append({"title": f"{cid or BASEMAP_ID} — {tms.id}", "dataType": "vector", "crs": tms.crs,
                     "tileMatrixSetURI": tms.uri,
                     "links": [{"rel": "self", "type": "application/json", "href": href},
                               {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                                "type": "application/json", "href": f"{base}/tileMatrixSets/{tms.id}"},
                               {"rel": "item", "type": MVT, "templated": True,
                                "href": f"{href}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"}]})
    return {"tilesets": sets, "links": [{"rel": "self", "type": "application/json",
                                         "href": f"{base}{tileset_path(cid)}"}]}


def tileset(base: str, cid: str | None, tms: TileMatrixSet) -> dict:
    """Tileset metadata (OGC API – Tiles) with the TileJSON 3 fields (``tiles``, ``vector_layers``, zooms)."""
    layers = basemap_collections() if cid is None else [collections()[cid]]
    vector_layers = [_vector_layer(c) for c in layers]
    vector_layers += [{"id": label_layer(c.id), "description": f"label points of {c.id}" + (
                           f" (a feature's label where it fits: area ≥ ({LABEL_FIT_PX} px)² at the zoom)"
                           if LABEL_RULES[c.id][2] else ""),
                       "minzoom": LABEL_RULES[c.id][0], "maxzoom": 22, "geometry_type": "points",
                       "fields": {"label": "label text"}}
                      for c in layers if c.id in LABEL_RULES]
    if any(c.tile_summaries for c in layers):
        vector_layers.append(_summary_layer())
    href = f"{base}{tileset_path(cid)}/{tms.id}"
    template = f"{href}/{{z}}/{{y}}/{{x}}"
    style_id = cid or BASEMAP_ID
    return {
        "title": f"{layers[0].title if cid else 'Bản đồ nền — landgeo base map'} ({tms.id})",
        "dataType": "vector", "crs": tms.crs, "tileMatrixSetURI": tms.uri,
        "tileMatrixSetLimits": [{"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": tms.size(z)[1] - 1,
                                 "minTileCol": 0, "maxTileCol": tms.size(z)[0] - 1}
                                for z in range(tms.max_zoom + 1)],
        "layers": [{"id": v["id"], "dataType": "vector", "geometryDimension": {"points": 0, "lines": 1,
                                                                              "polygons": 2}.get(v["geometry_type"]),
                    "minTileMatrix": str(v["minzoom"]), "maxTileMatrix": str(min(v["maxzoom"], tms.max_zoom)),
                    "propertiesSchema": {"type": "object", "properties": {k: {"description": d}
                                                                          for k, d in v["fields"].items()}}}
                   for v in vector_layers],
        "boundingBox": {"lowerLeft": list(VIETNAM_CRS84[:2]), "upperRight": list(VIETNAM_CRS84[2:]),
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        "links": [
            {"rel": "self", "type": "application/json", "href": href},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json",
             "href": f"{base}/tileMatrixSets/{tms.id}"},
            {"rel": "item", "type": MVT, "templated": True,
             "href": f"{href}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/styles", "type": STYLE_TYPE,
             "href": f"{base}/styles/{style_id}?f=mapbox"},
        ],
        # TileJSON 3.0.0: what MapLibre GL and QGIS read from a tileset URL
        "tilejson": "3.0.0", "tiles": [template], "scheme": "xyz", "minzoom": 0,
        "maxzoom": tms.max_zoom, "bounds": list(VIETNAM_CRS84), "vector_layers": vector_layers,
    }


def tile_matrix_sets(base: str) -> dict:
    return {"tileMatrixSets": [
        {"id": t.id, "title": t.title, "uri": t.uri, "crs": t.crs,
         "links": [{"rel": "self", "type": "application/json", "href": f"{base}/tileMatrixSets/{t.id}"}]}
        for t in TILE_MATRIX_SETS.values()]}
