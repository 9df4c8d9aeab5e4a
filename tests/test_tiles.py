"""OGC API – Tiles end to end: a real `landgeo serve` on a database filled here, tiles decoded and compared with
the database; generalisation by zoom; the cache redrawing exactly the tiles a write touches; bad input."""

from __future__ import annotations

import dataclasses
import random
import uuid

import mapbox_vector_tile
import psycopg
import pytest
import requests
from test_api_server import GRID_SQL, HISTORY_SQL
from tileserver import serve

from landgeo.api.collections import collections
from landgeo.api.pool import get_pool
from landgeo.api.statements import vn2000_cover
from landgeo.db.scratch import create_database, drop_database
from landgeo.tiles.tilematrixsets import WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD, lonlat_to_mercator, mercator_to_lonlat
from landgeo.tiles.tiles import CONNECTION_OPTIONS, LINEAR_ZOOM, explain, render, tile_box

# Hà Nội (TM-3 105°, EPSG:5897): a legacy 2018 code (TSC), a code in no list (XYZ), two communes
HANOI_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, declared_area,
                           source_srid, area_srid, geom)
SELECT '01', CASE WHEN i < 6 THEN '00007' ELSE '00010' END, 12, 1 + i,
       CASE WHEN i % 3 = 0 THEN ARRAY['TSC'] WHEN i % 3 = 1 THEN ARRAY['XYZ'] ELSE ARRAY['LUK'] END, 300, 5897, 5897,
       ST_Transform(ST_Multi(ST_MakeEnvelope(586000 + i * 15.0, 2325000, 586015 + i * 15.0, 2325020, 5897)), 4756)
FROM generate_series(0, 11) AS i
"""
HCM = (106.7028, 10.7775)  # inside the grid of commune 26734
HANOI = (105.8315, 21.0192)  # inside the Hà Nội parcels


@pytest.fixture(scope="module")
def tiles_db(server_url: str, template_db: str):
    name = f"landgeo_test_tiles_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url) as conn:
        conn.execute(GRID_SQL)
        conn.execute(HISTORY_SQL)
        conn.execute(HANOI_SQL)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="module")
def api(tiles_db: str, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiles")
    with serve(tiles_db, tmp / "cache", tmp / "serve.log") as base:
        yield base


def _tile_at(tms, z: int, lon: float, lat: float) -> tuple[int, int]:
    ((row, col),) = tms.tiles_covering(z, lon, lat, lon, lat)
    return row, col


def _get(api: str, path: str) -> requests.Response:
    return requests.get(f"{api}{path}", timeout=60)


def _decode(r: requests.Response) -> dict:
    if r.status_code == 204:
        return {}
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})


def _tile(api: str, cid: str | None, z: int, lonlat, tms=WEB_MERCATOR_QUAD) -> requests.Response:
    row, col = _tile_at(tms, z, *lonlat)
    prefix = f"/collections/{cid}" if cid else ""
    return _get(api, f"{prefix}/tiles/{tms.id}/{z}/{row}/{col}")


def _path(z: int, lonlat) -> str:
    row, col = _tile_at(WEB_MERCATOR_QUAD, z, *lonlat)
    return f"/collections/parcels/tiles/WebMercatorQuad/{z}/{row}/{col}"


def test_conformance_and_tileset_documents(api):
    conf = _get(api, "/conformance?f=json").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conf
    sets = _get(api, "/collections/parcels/tiles").json()["tilesets"]
    assert {s["tileMatrixSetURI"].rsplit("/", 1)[1] for s in sets} == {"WebMercatorQuad", "WorldCRS84Quad"}
    meta = _get(api, "/collections/parcels/tiles/WebMercatorQuad").json()
    assert meta["tiles"] == [f"{api}/collections/parcels/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"]
    assert {v["id"] for v in meta["vector_layers"]} == {"parcels", "parcels-labels", "parcel-summary"}
    assert any(link["rel"].endswith("styles") for link in meta["links"])
    base = _get(api, "/tiles/WorldCRS84Quad").json()
    assert {v["id"] for v in base["vector_layers"]} >= {"parcels", "map-sheets", "admin-units",
                                                        "validation-findings", "roads"}
    tms = _get(api, "/tileMatrixSets/WorldCRS84Quad").json()
    assert tms["tileMatrices"][0]["matrixWidth"] == 2 and tms["tileMatrices"][0]["matrixHeight"] == 1
    assert len(_get(api, "/tileMatrixSets").json()["tileMatrixSets"]) == 2
    paths = _get(api, "/openapi?f=json").json()["paths"]
    assert "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}" in paths
    assert "/styles/{styleId}" in paths and "/collections/parcels/items" in paths


def test_parcel_tile_is_where_the_survey_put_it(api, tiles_db):
    """Parcels at zoom 19: every current parcel of the tile, its properties, its corners within a tile unit of
    the WGS 84 copy (made from the canonical geometry by the official EPSG:6960 operation)."""
    z = 19
    row, col = _tile_at(WEB_MERCATOR_QUAD, z, *HCM)
    layers = _decode(_get(api, f"/collections/parcels/tiles/WebMercatorQuad/{z}/{row}/{col}"))
    feats = {f["id"]: f for f in layers["parcels"]["features"]}
    env = WEB_MERCATOR_QUAD.envelope(z, row, col)
    lon1, lat1 = mercator_to_lonlat(env[0], env[1])
    lon2, lat2 = mercator_to_lonlat(env[2], env[3])
    with psycopg.connect(tiles_db) as conn:
        expected = {r[0]: r[1:] for r in conn.execute(
            "SELECT id, sheet_number, parcel_number, land_use_codes, ST_XMin(geom_wgs84), ST_YMax(geom_wgs84) "
            "FROM landdb.parcel WHERE valid_to IS NULL AND geom_wgs84 && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
            (lon1, lat1, lon2, lat2))}
        official = conn.execute("SELECT ST_Equals(geom_wgs84, meta.vn2000_to_wgs84(geom)) FROM landdb.parcel "
                                "WHERE id = %s", (next(iter(expected)),)).fetchone()[0]
    assert official and expected and set(feats) == set(expected)
    labels = {f["id"]: f["properties"]["label"] for f in layers["parcels-labels"]["features"]}
    assert labels and set(labels) <= set(expected)  # a 600 m² parcel is labelled at zoom 19
    assert all(labels[i] == f"{expected[i][0]}/{expected[i][1]}" for i in labels)
    unit = (env[2] - env[0]) / 4096
    for fid, (sheet, number, codes, xmin, ymax) in expected.items():
        props = feats[fid]["properties"]
        assert (props["sheet_number"], props["parcel_number"]) == (sheet, number)
        assert props["land_use_codes"] == "+".join(codes) and props["land_use"] == codes[0]
        assert "label" not in props  # the label text is on the label points only
        ring = feats[fid]["geometry"]["coordinates"][0]
        x = env[0] + min(p[0] for p in ring) * unit
        if min(p[0] for p in ring) > 0:  # not clipped at the tile's west edge: the surveyed corner
            assert abs(x - lonlat_to_mercator(xmin, ymax)[0]) <= 1.5 * unit


def test_crs84_tiles_and_the_base_map_carry_every_layer(api):
    layers = _decode(_tile(api, "parcels", 18, HCM, WORLD_CRS84_QUAD))
    assert layers["parcels"]["features"]
    base = _decode(_tile(api, None, 18, HCM))  # zoom 18: the 600 m² parcels are labelled
    assert {"parcels", "map-sheets", "admin-units", "validation-findings", "parcels-labels"} <= set(base)
    finding = base["validation-findings"]["features"][0]["properties"]
    assert finding["check_code"] == "area_mismatch"
    assert "full_name" not in str(base) and "Bí Mật" not in str(base)  # nothing from landdb_restricted


def test_below_the_parcels_zoom_communes_and_provinces_are_summarised(api, tiles_db):
    with psycopg.connect(tiles_db) as conn:
        (count, area), = conn.execute("SELECT count(*), sum(computed_area) FROM landdb.parcel "
                                      "WHERE commune_code = '26734' AND valid_to IS NULL").fetchall()
    communes = _decode(_tile(api, "parcels", 12, HCM))
    assert set(communes) == {"parcel-summary"}  # no single parcel at zoom 12
    (point,) = [f["properties"] for f in communes["parcel-summary"]["features"] if f["properties"]["code"] == "26734"]
    assert point["level"] == "commune" and point["parcels"] == count
    assert point["area_ha"] == pytest.approx(float(area) / 10000, abs=0.1)
    assert point["main_group"] == "NNP" and point["nnp_ha"] > 0 and point["pnn_ha"] > 0
    provinces = _decode(_tile(api, "parcels", 5, HANOI))["parcel-summary"]["features"]
    hanoi = [f["properties"] for f in provinces if f["properties"]["code"] == "01"]
    assert hanoi and hanoi[0]["level"] == "province" and hanoi[0]["parcels"] == 13  # 12 here + one in HISTORY_SQL
    hanoi_commune = _decode(_tile(api, "parcels", 10, HANOI))["parcel-summary"]["features"]
    groups = {f["properties"]["code"]: f["properties"]["main_group"] for f in hanoi_commune}
    assert groups["00007"] in {"PNN", "NNP", "?"} and "00010" in groups  # legacy and unknown codes summarised


def test_tile_connections_keep_generic_plans_and_the_api_pool_does_not(tiles_db):
    """The tile server's pool plans a tile query once (one round trip per tile); the other requests' pool keeps
    PostgreSQL's default, so a features query is planned for its own values."""
    tile_pool, api_pool = get_pool(tiles_db, CONNECTION_OPTIONS), get_pool(tiles_db)
    try:
        with tile_pool.connection() as conn:
            assert conn.execute("SHOW plan_cache_mode").fetchone()[0] == "force_generic_plan"
            assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"  # configured as the API's
            parcels = collections()["parcels"]
            # one composed query per zoom serves every tile of it: tiles differ by their parameters only
            hanoi_parcel = conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom_wgs84) p FROM "
                                        "landdb.parcel WHERE commune_code = '00010' LIMIT 1) s").fetchone()
            near, far = (tile_box(WEB_MERCATOR_QUAD, 17, *_tile_at(WEB_MERCATOR_QUAD, 17, *p)) for p in (HCM,
                                                                                                      hanoi_parcel))
            hcm, hanoi = mapbox_vector_tile.decode(render(conn, parcels, 17, near)[0]), mapbox_vector_tile.decode(
                render(conn, parcels, 17, far)[0])
            assert {f["properties"]["commune_code"] for f in hcm["parcels"]["features"]} == {"26734"}
            assert {f["properties"]["commune_code"] for f in hanoi["parcels"]["features"]} <= {"00007", "00010"}
            assert "parcels-labels" not in hcm  # 600 m² parcels: their labels do not fit at zoom 17 (607 m² there)
            z18 = tile_box(WEB_MERCATOR_QUAD, 18, *_tile_at(WEB_MERCATOR_QUAD, 18, *HCM))
            assert "parcels-labels" in mapbox_vector_tile.decode(render(conn, parcels, 18, z18)[0])
            z16 = tile_box(WEB_MERCATOR_QUAD, 16, *_tile_at(WEB_MERCATOR_QUAD, 16, *HCM))
            assert set(mapbox_vector_tile.decode(render(conn, parcels, 16, z16)[0])) == {"parcels"}  # no labels
        with api_pool.connection() as conn:
            assert conn.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"
    finally:
        tile_pool.close()
        api_pool.close()


def test_every_tile_request_goes_through_the_spatial_index(tiles_db):
    with psycopg.connect(tiles_db) as conn:
        conn.execute("""
            INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                                       source_srid, area_srid, geom)
            SELECT '01', '00099', 1 + i / 400, 1 + i % 400, ARRAY['ONT'], 5897, 5897,
                   ST_Transform(ST_Multi(ST_MakeEnvelope(590000 + (i % 100) * 20.0, 2330000 + (i / 100) * 25.0,
                                                         590020 + (i % 100) * 20.0, 2330025 + (i / 100) * 25.0,
                                                         5897)), 4756)
            FROM generate_series(0, 19999) AS i""")
        conn.execute("ANALYZE landdb.parcel")
        conn.execute("ANALYZE landdb.parcel_p01")
        lonlat = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom_wgs84)::geometry) c "
                              "FROM landdb.parcel WHERE commune_code = '00099') s").fetchone()
        for z in (15, 17, 19):
            for tms in (WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD):
                box = tile_box(tms, z, *_tile_at(tms, z, *lonlat))
                plan = explain(conn, collections()["parcels"], z, box)
                assert "parcel_p01_geom_idx" in plan, plan
                assert "Seq Scan on parcel_p01" not in plan, plan
        conn.rollback()


def test_a_register_write_redraws_exactly_the_tiles_it_touches(api, tiles_db):
    z = 18
    hcm, hanoi, summary = _path(z, HCM), _path(z, HANOI), _path(12, HCM)
    for path in (hcm, hanoi, summary):
        _get(api, path)
    for path in (hcm, hanoi, summary):
        assert _get(api, path).headers["X-Tile-Cache"] == "hit", path
    before = {f["id"]: f["properties"] for f in _decode(_get(api, hcm))["parcels"]["features"]}
    fid = min(before)
    # a register transaction: the version closes, a new one opens with another land use
    with psycopg.connect(tiles_db) as conn:
        conn.execute("""
            WITH old AS (UPDATE landdb.parcel SET valid_to = now() WHERE id = %s RETURNING *)
            INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                                       declared_area, source_srid, area_srid, geom)
            SELECT province_code, commune_code, sheet_number, parcel_number, ARRAY['ODT'], declared_area,
                   source_srid, area_srid, geom FROM old""", (fid,))
    r = _get(api, hcm)
    assert r.headers["X-Tile-Cache"] == "draw"
    after = {f["id"]: f["properties"] for f in _decode(r)["parcels"]["features"]}
    assert fid not in after  # the closed version is gone, the new one is there with its new land use
    (new_id,) = set(after) - set(before)
    assert after[new_id]["land_use"] == "ODT" and after[new_id]["parcel_number"] == before[fid]["parcel_number"]
    assert _get(api, hanoi).headers["X-Tile-Cache"] == "hit"  # untouched: still cached
    assert _get(api, summary).headers["X-Tile-Cache"] == "draw"  # the commune's summary changed with it


def test_moving_a_parcel_redraws_its_old_and_new_tiles(api, tiles_db):
    z = 19
    with psycopg.connect(tiles_db) as conn:
        fid, lon, lat = conn.execute(
            "SELECT id, ST_X(ST_Centroid(geom_wgs84)), ST_Y(ST_Centroid(geom_wgs84)) FROM landdb.parcel "
            "WHERE commune_code = '00010' AND valid_to IS NULL ORDER BY id LIMIT 1").fetchone()
    old, new = _path(z, (lon, lat)), _path(z, (lon + 0.01, lat + 0.01))
    assert fid in {f["id"] for f in _decode(_get(api, old))["parcels"]["features"]}
    assert _get(api, new).status_code == 204  # nothing there yet (and that empty answer is cached too)
    assert _get(api, new).headers["X-Tile-Cache"] == "hit"
    with psycopg.connect(tiles_db) as conn:
        conn.execute("UPDATE landdb.parcel SET geom = ST_Translate(geom, 0.01, 0.01) WHERE id = %s", (fid,))
    assert fid not in {f["id"] for f in _decode(_get(api, old)).get("parcels", {"features": []})["features"]}
    moved = _get(api, new)
    assert moved.headers["X-Tile-Cache"] == "draw" and fid in {f["id"] for f in _decode(moved)["parcels"]["features"]}


@pytest.mark.parametrize(("path", "status", "words"), [
    ("/collections/parcels/tiles/WebMercatorQuad/3/8/0", 404, "outside the WebMercatorQuad matrix"),
    ("/collections/parcels/tiles/WebMercatorQuad/3/0/8", 404, "outside"),
    ("/collections/parcels/tiles/WorldCRS84Quad/0/1/0", 404, "outside"),
    ("/collections/parcels/tiles/WebMercatorQuad/23/0/0", 404, "beyond WebMercatorQuad's limits"),
    ("/collections/parcels/tiles/GoogleQuad/3/0/0", 404, "tile matrix set 'GoogleQuad' not found"),
    ("/collections/parcels/tiles/GoogleQuad", 404, "not found"),
    ("/collections/no-such/tiles/WebMercatorQuad/3/0/0", 404, "collection 'no-such' not found"),
    ("/collections/no-such/tiles", 404, "not found"),
    ("/collections/parcels/tiles/WebMercatorQuad/x/0/0", 400, "tileMatrix 'x'"),
    ("/collections/parcels/tiles/WebMercatorQuad/3/-1/0", 400, "tileRow"),
    ("/collections/parcels/tiles/WebMercatorQuad/3/0/0?f=png", 400, "f=mvt"),
    ("/collections/parcels/tiles/WebMercatorQuad/3/0/0?bbox=1,2,3,4", 400, "unknown query parameter"),
    ("/tiles/WebMercatorQuad/3/0/0?collections=parcels,nope", 404, "nope"),
    ("/tileMatrixSets/Nope", 404, "not found"),
    ("/styles/nope", 404, "not found"),
    ("/fonts/Comic%20Sans/0-255.pbf", 404, "not served"),
    ("/fonts/DejaVu%20Sans%20Book/3-258.pbf", 404, "256 code points"),
])
def test_bad_tile_requests_get_a_clear_ogc_answer(api, path, status, words):
    r = _get(api, path)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] in ("NotFound", "InvalidParameterValue") and words in body["description"]


def test_post_to_a_tile_is_refused(api):
    r = requests.post(f"{api}/tiles/WebMercatorQuad/3/0/0", timeout=30)
    assert r.status_code == 405 and "not allowed" in r.json()["description"]


def test_a_label_point_is_sent_where_the_label_fits(tiles_db):
    """Zoom 17 and up: a parcel's label point only where its area is at least (LABEL_FIT_PX px)² on screen — a
    large field at zoom 17, the 600 m² grid parcels from zoom 18 (the label is ≈ 42 px wide)."""
    parcels = collections()["parcels"]
    with psycopg.connect(tiles_db) as conn:
        big = conn.execute("""
            INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                                       source_srid, area_srid, geom)
            VALUES ('79', '26734', 99, 1, ARRAY['LUC'], 9210, 9210,
                    ST_Transform(ST_Multi(ST_MakeEnvelope(604500, 1192000, 604560, 1192080, 9210)), 4756))
            RETURNING id, ST_X(ST_PointOnSurface(geom_wgs84)), ST_Y(ST_PointOnSurface(geom_wgs84)),
                      computed_area""").fetchone()
        fid, lon, lat, area = big
        small = conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom_wgs84) p FROM "
                             "landdb.parcel WHERE commune_code = '26734' AND valid_to IS NULL LIMIT 1) s").fetchone()
        for z, point, labelled in ((17, (lon, lat), {fid}), (17, small, set()), (16, (lon, lat), None)):
            box = tile_box(WEB_MERCATOR_QUAD, z, *_tile_at(WEB_MERCATOR_QUAD, z, *point))
            assert area >= box.label_area > 600  # ≈ 607 m² at Hồ Chí Minh City's latitude, zoom 17
            layers = mapbox_vector_tile.decode(render(conn, parcels, z, box)[0])
            got = {f["id"] for f in layers.get("parcels-labels", {"features": []})["features"]}
            assert got == (labelled or set()) and ("parcels-labels" in layers) == bool(labelled), (z, got)
        conn.rollback()


def test_high_zoom_tiles_map_lon_lat_linearly_as_the_mercator_would(tiles_db):
    """From LINEAR_ZOOM the tile units come from longitude and latitude without ST_Transform, and a polygon inside
    the tile skips ST_AsMVTGeom's clipper: every parcel corner within one tile unit of the Web-Mercator mapping
    through ST_AsMVTGeom, rings in the same orientation (the same features, properties and labels)."""
    parcels = collections()["parcels"]
    with psycopg.connect(tiles_db) as conn:
        for z in (LINEAR_ZOOM, 17, 19):
            box = tile_box(WEB_MERCATOR_QUAD, z, *_tile_at(WEB_MERCATOR_QUAD, z, *HCM))
            assert box.mvt_srid == 4326
            fast, exact = (mapbox_vector_tile.decode(render(conn, parcels, z, b)[0])
                           for b in (box, dataclasses.replace(box, mvt_srid=3857)))
            assert set(fast) == set(exact)
            for layer in fast:
                a = {f["id"]: f for f in fast[layer]["features"]}
                b = {f["id"]: f for f in exact[layer]["features"]}
                assert a and set(a) == set(b)
                for fid, f in a.items():
                    assert f["properties"] == b[fid]["properties"]
                    pa, pb = sorted(_points(f["geometry"])), sorted(_points(b[fid]["geometry"]))
                    assert len(pa) == len(pb) and all(abs(p[0] - q[0]) <= 1 and abs(p[1] - q[1]) <= 1
                                                      for p, q in zip(pa, pb, strict=True)), (z, fid)
                    assert _windings(f["geometry"]) == _windings(b[fid]["geometry"]), (z, fid)  # rings and holes
        below = tile_box(WEB_MERCATOR_QUAD, LINEAR_ZOOM - 1, *_tile_at(WEB_MERCATOR_QUAD, LINEAR_ZOOM - 1, *HCM))
        assert below.mvt_srid == 3857


def _windings(geometry: dict) -> list[bool]:
    """Per ring of a decoded polygon: is its signed area (shoelace) positive?"""
    if geometry["type"] not in ("Polygon", "MultiPolygon"):
        return []
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True)) > 0
            for polygon in polygons for ring in polygon]


def _points(geometry: dict) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()

    def walk(x) -> None:
        if isinstance(x[0], (int, float)):
            out.add((x[0], x[1]))
        else:
            for y in x:
                walk(y)
    walk(geometry["coordinates"])
    return out


def test_the_vn2000_cover_of_a_small_tile_holds_its_exact_cover():
    """Tiles up to 0.05° wide take the datum shift of their 0.1° cell (no PROJ call per tile): the cover must hold
    the densified exact one everywhere in Việt Nam, and be at most a few decimetres wider."""
    rng = random.Random(13)
    for _ in range(400):
        z = rng.choice((13, 15, 17, 19, 22))
        lon, lat = rng.uniform(102.1, 109.5), rng.uniform(8.3, 23.4)
        box = tile_box(WEB_MERCATOR_QUAD, z, *_tile_at(WEB_MERCATOR_QUAD, z, lon, lat))
        exact = vn2000_cover(*box.crs84, 4326, margin=0)
        got = box.vn2000
        assert got[0] <= exact[0] and got[1] <= exact[1] and got[2] >= exact[2] and got[3] >= exact[3], (z, lon, lat)
        assert max(exact[0] - got[0], exact[1] - got[1], got[2] - exact[2], got[3] - exact[3]) < 1e-5
