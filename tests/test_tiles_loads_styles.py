"""Tiles after loads (the bulk partition swap and the incremental merge), the served styles and glyphs, and the map
page's assets: everything from this server, the land-use colours those of the demo's QGIS project."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import mapbox_vector_tile
import psycopg
import pytest
import requests
from tileserver import serve
from vectorfiles import X0, Y0, cadastral_fields, grid, write

from landdb.legend import LAND_USE_COLOURS
from landgeo.tiles.glyphs import glyph_range
from landgeo.tiles.tilematrixsets import WEB_MERCATOR_QUAD
from loaders.pipeline import LoadOptions, load

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def loaded(server_url: str, template_db: str, tmp_path_factory):
    """A server on an empty database (module scope: loads happen inside the tests, in order)."""
    import uuid

    from landgeo.db.scratch import create_database, drop_database

    name = f"landgeo_test_tileload_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    tmp = tmp_path_factory.mktemp("tileload")
    with serve(url, tmp / "cache", tmp / "serve.log") as base:
        yield base, url, tmp
    drop_database(server_url, name)


def _lonlat(url: str, where: str) -> tuple[float, float]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom_wgs84)::geometry) c "
                            f"FROM landdb.parcel WHERE {where}) s").fetchone()


def _fetch(base: str, z: int, lon: float, lat: float) -> requests.Response:
    ((row, col),) = WEB_MERCATOR_QUAD.tiles_covering(z, lon, lat, lon, lat)
    return requests.get(f"{base}/collections/parcels/tiles/WebMercatorQuad/{z}/{row}/{col}", timeout=60)


def _expected(url: str, z: int, lon: float, lat: float) -> set[int]:
    """Current parcels whose WGS 84 copy meets the tile (the database's own answer)."""
    ((row, col),) = WEB_MERCATOR_QUAD.tiles_covering(z, lon, lat, lon, lat)
    x1, y1, x2, y2 = WEB_MERCATOR_QUAD.envelope(z, row, col)
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT id FROM landdb.parcel WHERE valid_to IS NULL AND ST_Intersects(geom_wgs84, "
            "ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 3857), 4326))", (x1, y1, x2, y2))}


def _ids(r: requests.Response) -> set[int]:
    if r.status_code == 204:
        return set()
    return {f["id"] for f in mapbox_vector_tile.decode(r.content).get("parcels", {"features": []})["features"]}


def test_loads_redraw_the_tiles_of_their_parcels(loaded):
    base, url, tmp = loaded
    # the tile where the first load's parcels will be, fetched (and cached) while it is empty
    from landgeo.crs import transform

    lon, lat = (float(v[0]) for v in transform("EPSG:5897", "CRS84", [X0 + 30], [Y0 + 12]))
    assert _fetch(base, 16, lon, lat).status_code == 204
    assert _fetch(base, 16, lon, lat).headers["X-Tile-Cache"] == "hit"
    overview = _fetch(base, 9, lon, lat)
    assert overview.status_code == 204
    # first load of province 01: the partition is built aside and swapped in (no row trigger fires)
    first = load(write(tmp / "first.gpkg", grid(6), cadastral_fields(6)),
                 LoadOptions(target="parcels", province="01", database_url=url))
    assert any("first load of province 01" in n for n in first.notes)
    r = _fetch(base, 16, lon, lat)
    assert r.headers["X-Tile-Cache"] == "draw" and _ids(r) == _expected(url, 16, lon, lat) and len(_ids(r)) >= 3
    summary = mapbox_vector_tile.decode(_fetch(base, 9, lon, lat).content)["parcel-summary"]["features"]
    assert [f["properties"]["parcels"] for f in summary] == [6]
    # an incremental load elsewhere: the first tile stays cached, the new one is drawn
    far_lon, far_lat = (float(v[0]) for v in transform("EPSG:5897", "CRS84", [X0 + 30], [Y0 + 3012]))
    assert _fetch(base, 16, far_lon, far_lat).status_code == 204
    load(write(tmp / "second.gpkg", grid(3, y0=Y0 + 3000), cadastral_fields(3, commune="00002")),
         LoadOptions(target="parcels", province="01", database_url=url))
    assert _fetch(base, 16, lon, lat).headers["X-Tile-Cache"] == "hit"
    far = _ids(_fetch(base, 16, far_lon, far_lat))
    assert far and far == _expected(url, 16, far_lon, far_lat)
    # a reload that changes land use (new versions): the tile shows the new codes
    load(write(tmp / "third.gpkg", grid(6), cadastral_fields(6, codes=["CLN"] * 6)),
         LoadOptions(target="parcels", province="01", mode="upsert", database_url=url))
    r = _fetch(base, 16, lon, lat)
    feats = mapbox_vector_tile.decode(r.content)["parcels"]["features"]
    assert r.headers["X-Tile-Cache"] == "draw" and {f["properties"]["land_use"] for f in feats} == {"CLN"}


def _qgis_colours() -> dict[str, str]:
    """Land-use code -> fill colour of the parcels layer in the shipped QGIS project."""
    root = ET.parse(ROOT / "qgis" / "landgeo-demo.qgs").getroot()
    layer = next(m for m in root.iter("maplayer") if "typename='parcels'" in (m.findtext("datasource") or ""))
    renderer = layer.find("renderer-v2")
    symbols = {s.get("name"): s for s in renderer.find("symbols")}
    out = {}
    for cat in renderer.find("categories"):
        if not cat.get("value"):
            continue
        sym = symbols[cat.get("symbol")]
        colour = next(o.get("value") for o in sym.iter("Option") if o.get("name") == "color")
        r, g, b = (int(v) for v in colour.split(",")[:3])
        out[cat.get("value")] = f"#{r:02x}{g:02x}{b:02x}"
    return out


def test_style_colours_are_the_qgis_projects(loaded):
    base, _url, _tmp = loaded
    qgis = _qgis_colours()
    assert qgis and {code: colour for code, (colour, _) in LAND_USE_COLOURS.items() if code in qgis} == qgis
    r = requests.get(f"{base}/styles/parcels?f=mapbox", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/vnd.mapbox.style+json")
    style = r.json()
    served = {code: layer["paint"]["fill-color"] for layer in style["layers"]
              if layer["id"].startswith("parcels-fill-") and layer["filter"][0] == "in" for code in layer["filter"][2:]}
    assert {code: served[code] for code in qgis} == qgis
    other = next(layer for layer in style["layers"] if layer["id"] == "parcels-fill-other")
    assert set(other["filter"][2:]) == set(served)  # every other code: one grey
    label = next(layer for layer in style["layers"] if layer["id"] == "parcels-label")
    assert label["source-layer"] == "parcels-labels" and label["layout"]["text-field"] == ["get", "label"]


def test_styles_name_only_this_server(loaded):
    base, _url, _tmp = loaded
    for sid in ("basemap", "parcels", "map-sheets", "admin-units", "validation-findings", "roads"):
        style = requests.get(f"{base}/styles/{sid}", timeout=30).json()
        urls = re.findall(r"https?://[^\"' ]+", json.dumps(style))
        assert urls and all(u.startswith(base) for u in urls), urls
        assert style["glyphs"] == f"{base}/fonts/{{fontstack}}/{{range}}.pbf"
    layers = {layer["id"] for layer in requests.get(f"{base}/styles/basemap", timeout=30).json()["layers"]}
    assert {"parcels-fill-0", "parcels-fill-other", "parcel-summary", "map-sheets-label", "findings-point",
            "roads-line"} <= layers


def test_glyph_ranges_cover_vietnamese(loaded):
    base, _url, _tmp = loaded
    r = requests.get(f"{base}/fonts/DejaVu%20Sans%20Book/7680-7935.pbf", timeout=120)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-protobuf"
    assert r.content == glyph_range("DejaVu Sans Book", 7680)
    # 'ạ' (U+1EA1) is in the range: glyph id field (1) as a varint inside the PBF
    assert bytes([0x08, 0xA1, 0x3D]) in r.content


def test_map_page_loads_nothing_from_another_host(loaded):
    base, _url, _tmp = loaded
    html = requests.get(f"{base}/map", timeout=30)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    refs = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert refs and all(ref.startswith("/map/") for ref in refs), refs
    js = requests.get(f"{base}/map/map.js", timeout=30).text
    assert "http://" not in js and "https://" not in js
    for ref in refs:
        if "vendor/" in ref and not (ROOT / "landgeo/tiles/static/vendor").is_dir():
            pytest.skip("MapLibre GL JS not installed (make map-assets needs npm)")
        assert requests.get(f"{base}{ref}", timeout=30).status_code == 200, ref
