"""Mapbox GL styles (style.json, version 8) of the tilesets, with the colours of the demo's QGIS project.

Parcels are filled by their first land-use code with the official legend (``landdb.legend``) and labelled
``số tờ/số thửa`` from zoom 17 where the label fits (the tiles carry those label points only); map sheets are
dark-blue frames labelled ``Tờ N``; communes purple boundaries with their names; base geography in the QGIS
project's topographic colours; validation findings red on top. Below the parcels' zoom, the ``parcel-summary``
points are circles sized by parcel count, coloured by the land-use group with the largest area. Labels use the
glyphs served at ``/fonts`` (no other host is ever asked for anything).
"""

from __future__ import annotations

from landdb.legend import GROUP_COLOURS, LAND_USE_COLOURS, UNKNOWN_COLOUR
from landgeo.api.collections import collections
from landgeo.tiles.tiles import LABEL_RULES, PARCEL_MIN_ZOOM, SUMMARY_LAYER, label_layer, min_zoom
from landgeo.tiles.tilesets import BASEMAP_ID, basemap_collections

FONT = ["DejaVu Sans Book"]
LINES = {
    "bridges": ("#000000", 2.0, None), "railways": ("#202020", 1.2, [3, 2]), "roads": ("#a05000", 1.0, None),
    "hydro-lines": ("#0070c0", 0.8, None), "contours": ("#a0522d", 0.5, None),
    "boundaries": ("#7030a0", 1.4, [6, 2, 1, 2]),
}
FILLS = {
    "buildings": ("#606060", "#404040", 0.8), "hydro-areas": ("#a0d8ff", "#0070c0", 1.0),
    "built-up-areas": ("rgba(255,200,220,0.3)", "#c06080", 1.0),
    "land-cover": ("rgba(200,230,200,0.45)", "#80a080", 1.0),
}
POINTS = {"control-points": "#ff0000", "spot-heights": "#000000", "place-names": "rgba(0,0,0,0)"}
LABELS = {"place-names": ("name", "#202020", 12), "control-points": ("point_number", "#ff0000", 10),
          "spot-heights": ("elevation", "#000000", 9), "contours": ("elevation", "#a0522d", 9)}


def land_use_fills() -> list[tuple[str, list[str]]]:
    """(colour, land-use codes) of the legend, one entry per colour, in legend order."""
    by_colour: dict[str, list[str]] = {}
    for code, (colour, _name) in LAND_USE_COLOURS.items():
        by_colour.setdefault(colour, []).append(code)
    return list(by_colour.items())


def _parcel_fill_layers(base: dict) -> list[dict]:
    """One fill layer per legend colour, filtered on the first land-use code (legacy ``in`` filters: what both
    MapLibre and QGIS's style converter read), then light grey for codes not in the legend."""
    out = [{**base, "id": f"parcels-fill-{k}", "type": "fill", "filter": ["in", "land_use", *codes],
            "paint": {"fill-color": colour, "fill-opacity": 0.9}}
           for k, (colour, codes) in enumerate(land_use_fills())]
    out.append({**base, "id": "parcels-fill-other", "type": "fill", "filter": ["!in", "land_use", *LAND_USE_COLOURS],
                "paint": {"fill-color": UNKNOWN_COLOUR, "fill-opacity": 0.9}})
    return out


def _group_colour() -> list:
    expr: list = ["match", ["get", "main_group"]]
    for code, (colour, _name) in GROUP_COLOURS.items():
        expr += [code, colour]
    return [*expr, UNKNOWN_COLOUR]


def _text(field_expr, colour: str, size: float, **layout) -> tuple[dict, dict]:
    return ({"text-field": field_expr, "text-font": FONT, "text-size": size, **layout},
            {"text-color": colour, "text-halo-color": "#ffffff", "text-halo-width": 1.2})


def _label(cid: str, source: str, colour: str, size: float) -> dict:
    """Labels from the ``{id}-labels`` point layer of the tiles (one point per feature, no repeats at tile edges)."""
    layout, paint = _text(["get", "label"], colour, size)
    return {"id": f"{cid}-label", "type": "symbol", "source": source, "source-layer": label_layer(cid),
            "minzoom": LABEL_RULES[cid][0], "layout": layout, "paint": paint}


def _layers_for(cid: str, source: str) -> list[dict]:
    c = collections()[cid]
    base = {"source": source, "source-layer": cid}
    first = max(min_zoom(c), PARCEL_MIN_ZOOM if cid == "parcels" else 0)
    if first:
        base["minzoom"] = first
    out: list[dict] = []
    if cid == "parcels":
        out.append({"id": "parcel-summary", "type": "circle", "source": source, "source-layer": SUMMARY_LAYER,
                    "maxzoom": PARCEL_MIN_ZOOM,
                    "paint": {"circle-color": _group_colour(), "circle-stroke-color": "#c03030",
                              "circle-stroke-width": 1, "circle-opacity": 0.85,
                              "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "parcels"]],
                                                0, 2, 100, 10, 1000, 28]}})
        layout, paint = _text(["to-string", ["get", "parcels"]], "#602020", 10, **{"text-allow-overlap": False})
        out.append({"id": "parcel-summary-count", "type": "symbol", "source": source, "source-layer": SUMMARY_LAYER,
                    "minzoom": 8, "maxzoom": PARCEL_MIN_ZOOM, "layout": layout, "paint": paint})
        out += _parcel_fill_layers(base)
        out.append({**base, "id": "parcels-outline", "type": "line",
                    "paint": {"line-color": "#c03030", "line-width": ["interpolate", ["linear"], ["zoom"],
                                                                       15, 0.3, 19, 1.0]}})
        out.append(_label(cid, source, "#000000", 11))
    elif cid == "map-sheets":
        out.append({**base, "id": "map-sheets-frame", "type": "line",
                    "paint": {"line-color": "#00008b", "line-width": 1.5, "line-dasharray": [4, 2]}})
        out.append(_label(cid, source, "#00008b", 13))
    elif cid == "admin-units":
        out.append({**base, "id": "admin-units-boundary", "type": "line",
                    "paint": {"line-color": "#7030a0", "line-width": 2.2, "line-opacity": 0.8}})
        out.append(_label(cid, source, "#7030a0", 14))
    elif cid == "validation-findings":
        out.append({**base, "id": "findings-area", "type": "fill", "filter": ["==", ["geometry-type"], "Polygon"],
                    "paint": {"fill-color": "rgba(255,0,0,0.35)", "fill-outline-color": "#e00000"}})
        out.append({**base, "id": "findings-point", "type": "circle", "filter": ["==", ["geometry-type"], "Point"],
                    "paint": {"circle-color": "rgba(255,0,0,0.5)", "circle-stroke-color": "#e00000",
                              "circle-stroke-width": 1.5, "circle-radius": 6}})
        layout, paint = _text(["get", "check_code"], "#b00000", 10, **{"text-offset": [0, 1.2]})
        out.append({**base, "id": "findings-label", "type": "symbol", "minzoom": 16,
                    "filter": ["==", ["get", "severity"], "error"], "layout": layout, "paint": paint})
    elif cid in LINES:
        colour, width, dash = LINES[cid]
        paint = {"line-color": colour, "line-width": width, **({"line-dasharray": dash} if dash else {})}
        out.append({**base, "id": f"{cid}-line", "type": "line", "paint": paint})
    elif cid in FILLS:
        fill, outline, width = FILLS[cid]
        out.append({**base, "id": f"{cid}-fill", "type": "fill", "paint": {"fill-color": fill}})
        out.append({**base, "id": f"{cid}-outline", "type": "line",
                    "paint": {"line-color": outline, "line-width": width}})
    else:
        out.append({**base, "id": f"{cid}-point", "type": "circle",
                    "paint": {"circle-color": POINTS.get(cid, "#404040"), "circle-radius": 3}})
    if cid in LABELS:
        field, colour, size = LABELS[cid]
        layout, paint = _text(["to-string", ["get", field]], colour, size, **{"text-offset": [0, 0.9]})
        out.append({**base, "id": f"{cid}-label", "type": "symbol", "layout": layout, "paint": paint})
    return out


def style(base: str, cid: str | None) -> dict:
    """The style of the base map (``cid`` None) or of one collection's tileset, in WebMercatorQuad."""
    tiles = f"{base}/tiles/WebMercatorQuad" if cid is None else f"{base}/collections/{cid}/tiles/WebMercatorQuad"
    source = "landgeo"
    ids = [c.id for c in basemap_collections()] if cid is None else [cid]
    layers: list[dict] = [{"id": "background", "type": "background", "paint": {"background-color": "#f8f8f4"}}]
    for layer_cid in ids:
        layers += _layers_for(layer_cid, source)
    return {
        "version": 8,
        "name": f"landgeo — {cid or BASEMAP_ID}",
        "metadata": {"landgeo:legend": {code: {"colour": colour, "name": name}
                                        for code, (colour, name) in LAND_USE_COLOURS.items()}},
        "center": [105.85, 21.03], "zoom": 6,
        "glyphs": f"{base}/fonts/{{fontstack}}/{{range}}.pbf",
        "sources": {source: {"type": "vector", "tiles": [f"{tiles}/{{z}}/{{y}}/{{x}}"], "minzoom": 0, "maxzoom": 22,
                             "attribution": "landgeo — Tổng cục Quản lý đất đai"}},
        "layers": layers,
    }
