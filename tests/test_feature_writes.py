"""OGC API – Features Part 4 on the map sheets and the base-geography themes, against a real `landgeo serve` and
database (one server for the module): stable ids, ETag/If-Match, Content-Crs round trip, versions closed and
opened, DELETE retires (404 after, old state by datetime, history), scope in PostgreSQL (map sheets: officers in
their provinces/communes; base geography: admins only), bad input with the database unchanged, audit, feed.

Data: map sheets 1 (commune 26737, province 79, TM-3 105°45' EPSG:9210) and 3 (commune 00004, province 01,
TM-3 105° EPSG:5897), one road in province 79.
"""

from __future__ import annotations

import json
import threading
import uuid

import psycopg
import pytest
import requests
from apiserver import serve
from psycopg import errors
from register_env import _cli

from landgeo.access.identity import Identity
from landgeo.access.session import apply_identity
from landgeo.db.scratch import create_database, drop_database

TM3_79 = "http://www.opengis.net/def/crs/EPSG/0/9210"
X0, Y0 = 604000.0, 1192000.0

DATA_SQL = """
INSERT INTO landdb.map_sheet (province_code, commune_code, sheet_number, scale, source_srid, valid_from, geom)
VALUES ('79', '26737', 1, 1000, 9210, '2020-01-01T00:00:00Z',
        ST_Transform(ST_Multi(ST_MakeEnvelope(604000, 1192000, 604800, 1192500, 9210)), 4756)),
       ('79', '26737', 2, 1000, 9210, '2020-01-01T00:00:00Z',
        ST_Transform(ST_Multi(ST_MakeEnvelope(604800, 1192000, 605600, 1192500, 9210)), 4756)),
       ('01', '00004', 3, 500, 5897, '2019-03-01T00:00:00Z',
        ST_Transform(ST_Multi(ST_MakeEnvelope(585000, 2324400, 585400, 2324650, 5897)), 4756));
INSERT INTO geobase.road (feature_code, name, road_class, province_code, source_srid, valid_from, geom)
VALUES ('GA01', 'Đường Thử', 'QL', '79', 9210, '2020-01-01T00:00:00Z',
        ST_Transform(ST_Multi(ST_SetSRID(ST_MakeLine(ST_MakePoint(604000, 1192600), ST_MakePoint(605000, 1192700)),
                                         9210)), 4756));
SELECT setval(pg_get_serial_sequence('landdb.map_sheet', 'id'), 1000);
"""


@pytest.fixture(scope="module")
def env(server_url, template_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("feature_writes")
    name = f"landgeo_test_fwrites_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url) as conn:
        conn.execute(DATA_SQL)
    tokens = {}
    for user, args in {"off79": ["--role", "officer", "--province", "79"], "analyst": ["--role", "analyst"],
                       "admin": ["--role", "admin"]}.items():
        done = _cli(url, "users", "add", user, *args)
        assert done.returncode == 0, done.stderr
        tokens[user] = done.stdout.strip().splitlines()[-1]
    with serve(url, folder / "serve.log", env={"LANDGEO_API_POOL_SIZE": "4"}) as base:
        yield {"base": base, "db": url, "tokens": tokens}
    drop_database(server_url, name)


def _h(env, user: str | None, **extra) -> dict:
    h = dict(extra)
    if user:
        h["Authorization"] = f"Bearer {env['tokens'][user]}"
    return h


def _sheet_id(env, commune: str, sheet: int) -> int:
    return _one(env, "SELECT coalesce(feature_id, id) FROM landdb.map_sheet WHERE commune_code = %s "
                     "AND sheet_number = %s AND valid_to IS NULL", commune, sheet)


def _one(env, query: str, *args):
    with psycopg.connect(env["db"]) as conn:
        return conn.execute(query, args).fetchone()[0]


def _get(env, cid: str, fid: int, user: str | None = "off79", **params) -> requests.Response:
    return requests.get(f"{env['base']}/collections/{cid}/items/{fid}", params={"f": "json", **params},
                        headers=_h(env, user), timeout=30)


def _write(env, method: str, cid: str, fid: int | None, doc, user: str | None = "off79", etag: str | None = None,
           crs: str | None = TM3_79, ctype: str = "application/geo+json") -> requests.Response:
    headers = _h(env, user, **{"Content-Type": ctype})
    if etag is not None:
        headers["If-Match"] = etag
    if crs:
        headers["Content-Crs"] = f"<{crs}>"
    url = f"{env['base']}/collections/{cid}/items" + (f"/{fid}" if fid is not None else "")
    data = doc if isinstance(doc, bytes | str) else json.dumps(doc)
    return requests.request(method, url, data=data, headers=headers, timeout=60)


def _rect(x1, y1, x2, y2) -> dict:
    return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}


def _sheet(geometry, sheet: int = 9, commune: str = "26737", province: str = "79", **props) -> dict:
    return {"type": "Feature", "geometry": geometry,
            "properties": {"province_code": province, "commune_code": commune, "sheet_number": sheet,
                           "scale": 1000, **props}}


def _snapshot(env) -> tuple:
    return _one(env, "SELECT row(count(*), max(id), count(*) FILTER (WHERE valid_to IS NULL), "
                     "(SELECT count(*) FROM meta.feature_change), (SELECT count(*) FROM geobase.road), "
                     "(SELECT count(*) FROM access.audit_event WHERE action <> 'read'))::text FROM landdb.map_sheet")


# ---------------------------------------------------------------- what each user may do

def test_options_and_allow_follow_the_catalogue_and_the_user(env):
    sheets, roads = f"{env['base']}/collections/map-sheets/items", f"{env['base']}/collections/roads/items"
    assert "POST" not in requests.options(sheets, timeout=30).headers["Allow"]
    assert "POST" not in requests.options(sheets, headers=_h(env, "analyst"), timeout=30).headers["Allow"]
    assert "POST" in requests.options(sheets, headers=_h(env, "off79"), timeout=30).headers["Allow"]
    assert "POST" not in requests.options(roads, headers=_h(env, "off79"), timeout=30).headers["Allow"]
    assert "POST" in requests.options(roads, headers=_h(env, "admin"), timeout=30).headers["Allow"]
    mine, theirs = _sheet_id(env, "26737", 1), _sheet_id(env, "00004", 3)
    assert "PUT" in requests.options(f"{sheets}/{mine}", headers=_h(env, "off79"), timeout=30).headers["Allow"]
    assert "PUT" not in requests.options(f"{sheets}/{theirs}", headers=_h(env, "off79"), timeout=30).headers["Allow"]
    r = _get(env, "map-sheets", mine)
    assert r.headers["ETag"].startswith('"') and "DELETE" in r.headers["Allow"]
    assert any(link["rel"] == "version-history" for link in r.json()["links"])
    road = _one(env, "SELECT id FROM geobase.road LIMIT 1")
    assert "PUT" not in _get(env, "roads", road, user="off79").headers["Allow"]
    assert "PUT" in _get(env, "roads", road, user="admin").headers["Allow"]
    # a collection the catalogue does not make writable stays read-only
    r = requests.post(f"{env['base']}/collections/admin-units/items", data=json.dumps(_sheet(_rect(0, 0, 1, 1))),
                      headers=_h(env, "admin", **{"Content-Type": "application/geo+json"}), timeout=30)
    assert r.status_code == 405 and "POST" not in r.headers["Allow"]


# ---------------------------------------------------------------- versions

def test_put_keeps_the_id_closes_a_version_and_round_trips_tm3(env):
    fid = _sheet_id(env, "26737", 1)
    before = _get(env, "map-sheets", fid)
    etag = before.headers["ETag"]
    geom = _rect(X0, Y0, X0 + 800.1234, Y0 + 500.5678)  # a re-surveyed frame, 0.1 mm digits in TM-3 metres
    r = _write(env, "PUT", "map-sheets", fid, _sheet(geom, sheet=1, scale=500) | {"document": {
        "number": "123/QĐ-STNMT", "date": "2024-05-02"}}, etag=etag)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == fid and r.headers["ETag"] != etag and len(r.json()["closedVersions"]) == 1
    after = _get(env, "map-sheets", fid, crs=TM3_79)
    assert after.headers["ETag"] == r.headers["ETag"] and after.json()["properties"]["scale"] == 500
    xs = sorted({c[0] for c in after.json()["geometry"]["coordinates"][0][0]})
    ys = sorted({c[1] for c in after.json()["geometry"]["coordinates"][0][0]})
    assert abs(xs[-1] - (X0 + 800.1234)) <= 0.001 and abs(ys[-1] - (Y0 + 500.5678)) <= 0.001
    # the old state: by datetime on the listing and on the item, and in the history
    then = before.json()["properties"]["valid_from"]
    old = requests.get(f"{env['base']}/collections/map-sheets/items", timeout=30,
                       params={"f": "json", "datetime": then, "sheet_number": 1, "commune_code": "26737"}).json()
    assert [f["properties"]["scale"] for f in old["features"]] == [1000]
    assert _get(env, "map-sheets", fid, datetime=then).json()["properties"]["scale"] == 1000
    closed = r.json()["closedVersions"][0]
    assert closed == fid  # the loaded row was the sheet's first version: its row id is the feature id
    h = requests.get(f"{env['base']}/collections/map-sheets/items/{fid}/history", timeout=30).json()
    new = h["versions"][1]["versionId"]
    assert [v["versionId"] for v in h["versions"]] == [closed, new] and new != fid
    assert _get(env, "map-sheets", new).status_code == 404  # a later version's row id is no feature id
    assert h["changes"][-1]["op"] == "update" and h["changes"][-1]["document"]["number"] == "123/QĐ-STNMT"
    assert requests.get(h["versions"][0]["href"], timeout=30).json()["properties"]["scale"] == 1000
    # audited (feature id; versions closed and written), in the feed, one current row for the sheet
    assert _one(env, "SELECT count(*) FROM access.audit_event WHERE action = 'update' AND collection = 'map-sheets' "
                     "AND %s = ANY(item_ids) AND detail -> 'before' = to_jsonb(ARRAY[%s::bigint]) "
                     "AND detail -> 'after' = to_jsonb(ARRAY[%s::bigint])", fid, closed, new) == 1
    feed = requests.get(f"{env['base']}/collections/map-sheets/changes", params={"since": 0}, timeout=30).json()
    assert any(c["id"] == fid and c["op"] == "update" and c["closedVersion"] == closed for c in feed["changes"])
    assert _one(env, "SELECT count(*) FROM landdb.map_sheet WHERE commune_code = '26737' AND sheet_number = 1 "
                     "AND valid_to IS NULL") == 1


def test_patch_then_delete_retires_the_sheet(env):
    fid = _sheet_id(env, "26737", 2)
    r = _write(env, "PATCH", "map-sheets", fid, {"properties": {"scale": 2000}}, etag=_get(env, "map-sheets", fid)
               .headers["ETag"], ctype="application/merge-patch+json")
    assert r.status_code == 200, r.text
    patched = _get(env, "map-sheets", fid).json()
    assert patched["properties"]["scale"] == 2000 and patched["geometry"] is not None
    live = patched["properties"]["valid_from"]
    r = _write(env, "DELETE", "map-sheets", fid, b"", etag=r.headers["ETag"], crs=None)
    assert r.status_code == 204, r.text
    assert _get(env, "map-sheets", fid).status_code == 404  # retired: gone for Part 4 …
    assert _get(env, "map-sheets", fid, datetime=live).json()["properties"]["scale"] == 2000  # … but not forgotten
    listing = requests.get(f"{env['base']}/collections/map-sheets/items",
                           params={"f": "json", "commune_code": "26737"}, timeout=30).json()
    assert fid not in [f["id"] for f in listing["features"]]
    h = requests.get(f"{env['base']}/collections/map-sheets/items/{fid}/history", timeout=30).json()
    assert [c["op"] for c in h["changes"]] == ["update", "retire"] and h["versions"][-1]["validTo"] is not None
    # the rows are kept: the loaded one and the patched one (its last version, closed by the DELETE)
    assert _one(env, "SELECT count(*) FROM landdb.map_sheet WHERE coalesce(feature_id, id) = %s", fid) == 2
    for method in ("PUT", "PATCH", "DELETE"):  # a retired feature: 404 for writes too, as for GET, saying why
        again = _write(env, method, "map-sheets", fid, _sheet(_rect(X0, Y0, X0 + 5, Y0 + 5), sheet=2), etag='"x"',
                       ctype="application/merge-patch+json" if method == "PATCH" else "application/geo+json")
        assert again.status_code == 404 and "is retired" in again.json()["description"], again.text


def test_post_creates_with_location_and_a_duplicate_is_409(env):
    geom = _rect(X0 + 1600, Y0, X0 + 2400, Y0 + 500)
    r = _write(env, "POST", "map-sheets", None, _sheet(geom, sheet=7))
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    assert r.headers["Location"].endswith(f"/collections/map-sheets/items/{fid}")
    assert _get(env, "map-sheets", fid).headers["ETag"] == r.headers["ETag"]
    snap = _snapshot(env)
    dup = _write(env, "POST", "map-sheets", None, _sheet(geom, sheet=7))
    assert dup.status_code == 409 and "commune_code, sheet_number" in dup.json()["description"]
    assert _snapshot(env) == snap


def test_if_match_missing_or_stale(env):
    fid = _sheet_id(env, "00004", 3)
    doc = {"properties": {"scale": 1000}}
    snap = _snapshot(env)
    assert _write(env, "PATCH", "map-sheets", fid, doc, user="admin", ctype="application/merge-patch+json"
                  ).status_code == 428
    assert _write(env, "PATCH", "map-sheets", fid, doc, user="admin", etag='"1-1"',
                  ctype="application/merge-patch+json").status_code == 412
    assert _write(env, "DELETE", "map-sheets", fid, b"", user="admin", crs=None).status_code == 428
    assert _snapshot(env) == snap


def test_two_writers_one_sheet_exactly_one_wins(env):
    fid = _sheet_id(env, "00004", 3)
    etag = _get(env, "map-sheets", fid, user="admin").headers["ETag"]
    results = []

    def edit(scale: int) -> None:
        results.append(_write(env, "PATCH", "map-sheets", fid, {"properties": {"scale": scale}}, user="admin",
                              etag=etag, ctype="application/merge-patch+json").status_code)

    threads = [threading.Thread(target=edit, args=(s,)) for s in (1000, 2000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 412]
    assert _one(env, "SELECT count(*) FROM landdb.map_sheet WHERE commune_code = '00004' AND sheet_number = 3") == 2


def test_a_point_theme_in_latitude_first_wgs84(env):
    """Spot heights (Point, elevation required) sent in EPSG:4326 (latitude first): stored, read back the same."""
    doc = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.7769123, 106.7009456]},
           "properties": {"feature_code": "DB01", "elevation": -1.5, "province_code": "79"}}
    r = _write(env, "POST", "spot-heights", None, doc, user="admin", crs="http://www.opengis.net/def/crs/EPSG/0/4326")
    assert r.status_code == 201, r.text
    assert isinstance(r.json()["change"], int) and "mutation" not in r.json()
    back = _get(env, "spot-heights", r.json()["id"], user=None).json()
    lon, lat = back["geometry"]["coordinates"]
    assert abs(lon - 106.7009456) < 1e-7 and abs(lat - 10.7769123) < 1e-7
    assert back["properties"]["elevation"] == -1.5
    no_height = {**doc, "properties": {"feature_code": "DB01"}}
    assert _write(env, "POST", "spot-heights", None, no_height, user="admin").status_code == 400


# ---------------------------------------------------------------- scope

def test_scope_officers_in_their_province_base_geography_admins_only(env):
    theirs, road = _sheet_id(env, "00004", 3), _one(env, "SELECT id FROM geobase.road LIMIT 1")
    snap = _snapshot(env)
    etag = _get(env, "map-sheets", theirs).headers["ETag"]
    assert _write(env, "PATCH", "map-sheets", theirs, {"properties": {"scale": 1000}}, etag=etag,
                  ctype="application/merge-patch+json").status_code == 403
    elsewhere = _sheet(_rect(585000, 2324700, 585400, 2324950), sheet=4, commune="00004", province="01")
    assert _write(env, "POST", "map-sheets", None, elsewhere, crs="http://www.opengis.net/def/crs/EPSG/0/5897"
                  ).status_code == 403
    road_doc = {"type": "Feature", "properties": {"feature_code": "GA01", "name": "Mới", "province_code": "79"},
                "geometry": {"type": "LineString", "coordinates": [[X0, Y0 + 700], [X0 + 900, Y0 + 750]]}}
    r = _write(env, "POST", "roads", None, road_doc)
    assert r.status_code == 403 and "admins" in r.json()["description"]
    assert _write(env, "POST", "roads", None, road_doc, user="analyst").status_code == 403
    assert _write(env, "POST", "roads", None, road_doc, user=None).status_code == 401
    road_etag = _get(env, "roads", road, user="admin").headers["ETag"]
    assert _write(env, "DELETE", "roads", road, b"", etag=road_etag, crs=None).status_code == 403
    assert _snapshot(env) == snap
    # the national survey's admin writes base geography (a line, kept as MultiLineString)
    r = _write(env, "POST", "roads", None, road_doc, user="admin")
    assert r.status_code == 201, r.text
    new = _get(env, "roads", r.json()["id"], user=None, crs=TM3_79).json()
    assert new["geometry"]["type"] == "MultiLineString"
    assert abs(new["geometry"]["coordinates"][0][1][0] - (X0 + 900)) <= 0.001
    r = _write(env, "PATCH", "roads", road, {"properties": {"surface": "nhựa"}}, user="admin", etag=road_etag,
               ctype="application/merge-patch+json")
    assert r.status_code == 200, r.text
    assert _get(env, "roads", road, user=None).json()["properties"]["surface"] == "nhựa"
    feed = requests.get(f"{env['base']}/collections/roads/changes", timeout=30).json()["changes"]
    assert [c["op"] for c in feed] == ["create", "update"]


def test_the_database_itself_refuses_out_of_scope_writes(env):
    """As the API's register role with an identity set, plain SQL: RLS of migration 0160 decides."""
    with psycopg.connect(env["db"]) as conn:
        theirs, mine = _sheet_id(env, "00004", 3), _sheet_id(env, "26737", 1)
        with conn.transaction(force_rollback=True):
            apply_identity(conn, Identity("off79", "officer", provinces=("79",)))
            assert conn.execute("UPDATE landdb.map_sheet SET valid_to = now() WHERE id = %s", (theirs,)).rowcount == 0
            assert conn.execute("UPDATE landdb.map_sheet SET valid_to = now() WHERE id = %s", (mine,)).rowcount == 1
            assert conn.execute("UPDATE geobase.road SET valid_to = now()").rowcount == 0
        for sql_text in ("INSERT INTO geobase.road (feature_code, source_srid, geom) VALUES ('GA01', 4756, "
                         "ST_GeomFromText('MULTILINESTRING((106 10.8, 106.01 10.8))', 4756))",
                         "UPDATE landdb.map_sheet SET province_code = '01', commune_code = '00004' WHERE id = "
                         f"{mine}", f"UPDATE landdb.map_sheet SET scale = 500 WHERE id = {mine}",
                         "DELETE FROM landdb.map_sheet"):
            with pytest.raises(errors.InsufficientPrivilege), conn.transaction(force_rollback=True):
                apply_identity(conn, Identity("off79", "officer", provinces=("79",)))
                conn.execute(sql_text)
        with conn.transaction(force_rollback=True):
            apply_identity(conn, Identity("chief", "admin"))
            assert conn.execute("UPDATE geobase.road SET valid_to = now()").rowcount >= 1
        with pytest.raises(errors.InsufficientPrivilege), conn.transaction(force_rollback=True):
            apply_identity(conn, Identity("chief", "admin"))  # even an admin closes versions, never rewrites one
            conn.execute("UPDATE geobase.road SET name = 'x'")


# ---------------------------------------------------------------- bad input: one clear 4xx, nothing written

BAD_BODIES = [
    ("not JSON", b"{not json", 400, "not JSON"),
    ("not GeoJSON", json.dumps({"type": "FeatureCollection", "features": []}), 400, "not a GeoJSON Feature"),
    ("wrong geometry type", _sheet({"type": "Point", "coordinates": [X0, Y0]}), 400, "needs a Polygon"),
    ("invalid geometry", _sheet({"type": "Polygon", "coordinates": [[[X0, Y0], [X0 + 9, Y0 + 9], [X0 + 9, Y0],
                                                                     [X0, Y0 + 9], [X0, Y0]]]}), 422, "not a valid"),
    ("empty geometry", _sheet({"type": "Polygon", "coordinates": []}), 422, "empty"),
    ("outside the CRS area", _sheet(_rect(9_000_000, 9_000_000, 9_000_100, 9_000_100)), 422, None),
    ("unknown property", _sheet(_rect(X0, Y0, X0 + 9, Y0 + 9), owner="x"), 400, "unknown property 'owner'"),
    ("text for a number", _sheet(_rect(X0, Y0, X0 + 9, Y0 + 9), scale="big"), 400, "must be an integer"),
    ("scale not in the series", _sheet(_rect(X0 + 3000, Y0, X0 + 3009, Y0 + 9), sheet=8, scale=700), 422,
     "attr.domain"),
]


@pytest.mark.parametrize(("what", "doc", "status", "words"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_is_one_clear_4xx_and_nothing_is_written(env, what, doc, status, words):
    snap = _snapshot(env)
    r = _write(env, "POST", "map-sheets", None, doc)
    assert r.status_code == status, (what, r.status_code, r.text)
    body = r.json()
    assert body["code"] and "\n" not in body["description"] and "Traceback" not in r.text
    if words:
        assert words in body["description"], body
    if status == 422 and body["code"] == "ValidationFailed":
        assert body["findings"] and {"code", "message", "location"} <= set(body["findings"][0])
    assert _snapshot(env) == snap


def test_validation_findings_come_back_as_json(env):
    """A sheet whose coordinates are in the wrong CRS for its province: the loaders' check refuses it with 422."""
    snap = _snapshot(env)
    doc = _sheet(_rect(X0, Y0, X0 + 800, Y0 + 500), sheet=11, commune="00004", province="01")
    r = _write(env, "POST", "map-sheets", None, doc, user="admin")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "ValidationFailed" and r.json()["findings"][0]["severity"] == "error"
    assert _snapshot(env) == snap
