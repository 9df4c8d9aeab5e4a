"""The OGC API – Features server, end to end: `landgeo serve` (gunicorn + pygeoapi + our provider) on a free port
against a database filled here with SQL, used by GDAL (ogrinfo OAPIF), OWSLib and plain HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
import requests
from apiserver import serve

from landgeo.api import limits
from landgeo.db.scratch import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SECRET_NAME = "Nguyễn Văn Bí Mật"
SECRET_ID_NUMBER = "079188001234"

# 250 current parcels of commune 26734 (TP. Hồ Chí Minh), surveyed in VN-2000 / TM-3 105-45 (EPSG:9210):
# a 25 x 10 grid of 20 m x 30 m parcels starting at E 604 000, N 1 192 000.
GRID_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                           declared_area, address, source_srid, area_srid, valid_from, geom)
SELECT '79', '26734', 1 + i / 100, 1 + i % 100,
       CASE WHEN i % 3 = 0 THEN ARRAY['ONT'] WHEN i % 3 = 1 THEN ARRAY['CLN', 'ONT'] ELSE ARRAY['LUC'] END,
       600 + (i % 7), CASE WHEN i % 5 = 0 THEN NULL ELSE 'Số ' || i || ' đường Lê Lợi' END,
       9210, 9210, '2020-01-01T00:00:00Z',
       ST_Transform(ST_Multi(ST_MakeEnvelope(604000 + (i % 25) * 20.0, 1192000 + (i / 25) * 30.0,
                                             604020 + (i % 25) * 20.0, 1192030 + (i / 25) * 30.0, 9210)), 4756)
FROM generate_series(0, 249) AS i
"""

HISTORY_SQL = """
-- parcel 26734 / sheet 9 / number 1: ONT from 2010 until it was re-surveyed on 2020-06-01, then ODT.
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, declared_area,
                           source_srid, area_srid, valid_from, valid_to, geom)
VALUES ('79', '26734', 9, 1, ARRAY['ONT'], 150, 9210, 9210, '2010-01-01T00:00:00Z', '2020-06-01T00:00:00Z',
        ST_Transform(ST_Multi(ST_MakeEnvelope(605000, 1193000, 605010, 1193015, 9210)), 4756)),
       ('79', '26734', 9, 1, ARRAY['ODT'], 151.5, 9210, 9210, '2020-06-01T00:00:00Z', NULL,
        ST_Transform(ST_Multi(ST_MakeEnvelope(605000, 1193000, 605010.1, 1193015, 9210)), 4756));
-- one parcel in Hà Nội, surveyed in VN-2000 / TM-3 zone 482 (EPSG:5897, meridian 105°).
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, declared_area,
                           source_srid, area_srid, valid_from, geom)
VALUES ('01', '00004', 3, 77, ARRAY['ODT'], 88.2, 5897, 5897, '2019-03-01T00:00:00Z',
        ST_Transform(ST_Multi(ST_GeomFromText(
            'POLYGON((585123.456 2324567.891, 585131.002 2324567.120, 585130.500 2324578.333, 585123.456 2324567.891))',
            5897)), 4756));
INSERT INTO landdb.map_sheet (province_code, commune_code, sheet_number, scale, source_srid, geom)
VALUES ('79', '26734', 1, 1000, 9210,
        ST_Transform(ST_Multi(ST_MakeEnvelope(604000, 1192000, 604500, 1192300, 9210)), 4756));
-- admin units of both generations: Quận 1 (district, until the 2025 reform) and phường Sài Gòn (commune, after)
INSERT INTO landdb.admin_unit (code, name, level, parent_code, valid_from, valid_to, geom)
VALUES ('760', 'Quận 1', 'district', '79', '2004-01-01', '2025-06-30',
        ST_Transform(ST_Multi(ST_MakeEnvelope(603000, 1191000, 607000, 1195000, 9210)), 4756)),
       ('26734', 'Phường Sài Gòn', 'commune', '79', '2025-07-01', NULL,
        ST_Transform(ST_Multi(ST_MakeEnvelope(603500, 1191500, 606000, 1194000, 9210)), 4756));
INSERT INTO meta.validation_run (target) VALUES ('parcels');
INSERT INTO meta.validation_finding (run_id, check_code, severity, target, feature_id, province_code, commune_code,
                                     message_vi, message_en, geom)
SELECT id, 'area_mismatch', 'warning', 'parcels', '1', '79', '26734', 'Diện tích lệch', 'Area differs',
       ST_SetSRID(ST_MakePoint(106.7028, 10.7775), 4326)
FROM meta.validation_run;
"""

# personal data: must never be visible through the API
SECRET_SQL = """
INSERT INTO landdb_restricted.party (kind, full_name, id_number, birth_year, address, province_code, party_code)
VALUES ('person', %(name)s, %(idn)s, 1970, 'Số 0 đường Lê Lợi', '79', 'NSD-1')
"""
RIGHT_SQL = """
INSERT INTO landdb_restricted.land_right (parcel_id, party_id, right_type, share, valid_from, right_code)
SELECT 1, id, 'use', 1, '2020-01-01', 'Q-1' FROM landdb_restricted.party
"""



@pytest.fixture(scope="module")
def api_db(server_url: str, template_db: str):
    name = f"landgeo_test_api_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url) as conn:
        conn.execute(GRID_SQL)
        conn.execute(HISTORY_SQL)
        conn.execute(SECRET_SQL, {"name": SECRET_NAME, "idn": SECRET_ID_NUMBER})
        conn.execute(RIGHT_SQL)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="module")
def api(api_db: str, tmp_path_factory):
    """Base URL of a real `landgeo serve` (gunicorn, 2 workers) on a free port."""
    with serve(api_db, tmp_path_factory.mktemp("api") / "serve.log") as base:
        yield base


def _db_ids(url: str, where: str = "valid_to IS NULL", params=()) -> set[int]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(f"SELECT id FROM landdb.parcel WHERE {where}", params)}


def _items(api: str, collection: str = "parcels", **params) -> requests.Response:
    return requests.get(f"{api}/collections/{collection}/items", params=params, timeout=30)


def _all_pages(api: str, collection: str, **params) -> tuple[list[dict], int]:
    """Follow `next` links to the end: (features, pages)."""
    url = f"{api}/collections/{collection}/items"
    feats, pages, first = [], 0, True
    while url:
        r = requests.get(url, params=params if first else None, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        feats += body["features"]
        pages += 1
        first = False
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return feats, pages


# ---------------------------------------------------------------- GDAL

def _ogrinfo(*args: str) -> str:
    done = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_lists_collections(api):
    out = _ogrinfo(f"OAPIF:{api}")
    for name in ("parcels", "map-sheets", "admin-units", "roads", "validation-findings"):
        assert re.search(rf"^\d+: {re.escape(name)} ", out, re.M), out
    assert "restricted" not in out and "party" not in out


def test_gdal_counts_and_pages_through_every_feature(api, api_db):
    summary = _ogrinfo("-so", f"OAPIF:{api}", "parcels")
    expected = _db_ids(api_db)
    assert f"Feature Count: {len(expected)}" in summary
    out = _ogrinfo("-q", "-oo", "PAGE_SIZE=40", f"OAPIF:{api}", "parcels")
    ids = [int(m) for m in re.findall(r"^OGRFeature\(parcels\):(\d+)", out, re.M)]
    assert len(ids) == len(expected) > 40  # several pages followed through `next`
    assert "sheet_number (Integer) = " in out


def test_gdal_bbox_filter(api, api_db):
    # the first two rows of the grid (i < 50): lon/lat box around them in CRS84
    with psycopg.connect(api_db) as conn:
        xmin, ymin, xmax, ymax = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom_wgs84) e "
            "FROM landdb.parcel WHERE commune_code = '26734' AND sheet_number = 1 AND parcel_number <= 50) s"
        ).fetchone()
        expected = {r[0] for r in conn.execute(
            "SELECT id FROM landdb.parcel WHERE valid_to IS NULL AND ST_Intersects(geom_wgs84, "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326))", (xmin + 1e-6, ymin + 1e-6, xmax - 1e-6, ymax - 1e-6))}
    out = _ogrinfo("-q", "-spat", str(xmin + 1e-6), str(ymin + 1e-6), str(xmax - 1e-6), str(ymax - 1e-6),
                   f"OAPIF:{api}", "parcels")
    ids = {int(m) for m in re.findall(r"^OGRFeature\(parcels\):(\d+)", out, re.M)}
    assert ids == expected and 40 <= len(ids) < 250


# ---------------------------------------------------------------- OWSLib

def test_owslib_collections_count_pages_bbox(api, api_db):
    from owslib.ogcapi.features import Features

    w = Features(api)
    ids = {c["id"] for c in w.collections()["collections"]}
    assert {"parcels", "validation-findings", "buildings"} <= ids
    first = w.collection_items("parcels", limit=60)
    expected = _db_ids(api_db)
    assert first["numberMatched"] == len(expected)
    seen = [f["id"] for f in first["features"]]
    page = first
    while (nxt := next((link["href"] for link in page["links"] if link["rel"] == "next"), None)):
        cursor = parse_qs(urlsplit(nxt).query)["cursor"][0]
        page = w.collection_items("parcels", limit=60, cursor=cursor)
        seen += [f["id"] for f in page["features"]]
    assert len(seen) == len(set(seen)) and set(seen) == expected
    boxed = w.collection_items("parcels", bbox=[106.70270, 10.77740, 106.70300, 10.77775], limit=1000)
    assert 0 < boxed["numberReturned"] == boxed["numberMatched"] < 20


# ---------------------------------------------------------------- CRS (Part 2)

def test_tm3_returns_surveyed_coordinates(api, api_db):
    with psycopg.connect(api_db) as conn:
        (hn_id,) = conn.execute("SELECT id FROM landdb.parcel WHERE province_code = '01'").fetchone()
        (hcm_id,) = conn.execute("SELECT min(id) FROM landdb.parcel WHERE province_code = '79'").fetchone()
    r = requests.get(f"{api}/collections/parcels/items/{hn_id}", params={"crs": f"{EPSG}5897"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Crs"] == f"<{EPSG}5897>"
    ring = r.json()["geometry"]["coordinates"][0][0]
    surveyed = [(585123.456, 2324567.891), (585131.002, 2324567.120), (585130.500, 2324578.333)]
    for (x, y), (sx, sy) in zip(ring, surveyed, strict=False):
        assert abs(x - sx) <= 0.001 and abs(y - sy) <= 0.001
    r = _items(api, crs=f"{EPSG}9210", filter=f"id = {hcm_id}")
    assert r.headers["Content-Crs"] == f"<{EPSG}9210>"
    coords = r.json()["features"][0]["geometry"]["coordinates"][0][0]
    assert {(round(x, 3), round(y, 3)) for x, y in coords} == {
        (604000.0, 1192000.0), (604000.0, 1192030.0), (604020.0, 1192030.0), (604020.0, 1192000.0)}


def test_crs_axis_order_and_bbox_crs(api, api_db):
    lonlat = _items(api, limit=1).json()["features"][0]["geometry"]["coordinates"][0][0][0]
    latlon = _items(api, limit=1, crs=f"{EPSG}4326").json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert lonlat[0] > 100 and latlon == [lonlat[1], lonlat[0]]
    merc = _items(api, limit=1, crs=f"{EPSG}3857").json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 1.18e7 < merc[0] < 1.19e7
    # a bbox in the surveyed TM-3 plane: exactly the first 5 x 2 parcels of the grid (interior box)
    r = _items(api, bbox="604001,1192001,604099,1192059", **{"bbox-crs": f"{EPSG}9210"}, limit=100)
    assert r.status_code == 200 and r.json()["numberMatched"] == 10
    # the same as EPSG:4326 (lat, lon order) bbox
    r2 = _items(api, bbox="10.77740,106.70270,10.77775,106.70300", **{"bbox-crs": f"{EPSG}4326"}, limit=100)
    r3 = _items(api, bbox="106.70270,10.77740,106.70300,10.77775", limit=100)
    assert {f["id"] for f in r2.json()["features"]} == {f["id"] for f in r3.json()["features"]} != set()


def test_collection_metadata_crs_list(api):
    body = requests.get(f"{api}/collections/parcels", params={"f": "json"}, timeout=30).json()
    assert body["storageCrs"] == f"{EPSG}4756"
    assert body["crs"][0] == CRS84
    assert {f"{EPSG}{c}" for c in (4326, 3857, 4756, 5897, 5899, 9205, 9210, 9218)} <= set(body["crs"])
    findings = requests.get(f"{api}/collections/validation-findings", params={"f": "json"}, timeout=30).json()
    assert findings["storageCrs"] == CRS84


# ---------------------------------------------------------------- Part 3: conformance, queryables, CQL2

def test_conformance_declares_filter_and_transactions(api):
    classes = requests.get(f"{api}/conformance", timeout=30).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    # Part 4 is implemented on parcels only (landgeo.api.transactions): exactly these classes
    assert {c for c in classes if "features-4" in c} == {
        f"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/{k}"
        for k in ("create-replace-delete", "update", "optimistic-locking-etags", "features")}


def test_queryables(api):
    q = requests.get(f"{api}/collections/parcels/queryables", timeout=30).json()
    assert {"commune_code", "sheet_number", "parcel_number", "land_use_codes", "valid_from"} <= set(q["properties"])
    assert q["properties"]["sheet_number"]["type"] == "integer"


def test_land_office_lookup_and_property_filters(api, api_db):
    r = _items(api, commune_code="26734", sheet_number="2", parcel_number="5")
    body = r.json()
    assert body["numberMatched"] == 1 and body["features"][0]["properties"]["parcel_number"] == 5
    luc = _items(api, land_use_codes="LUC", limit=1000).json()
    assert luc["numberMatched"] == len(_db_ids(api_db, "valid_to IS NULL AND 'LUC' = ANY(land_use_codes)"))
    assert all("LUC" in f["properties"]["land_use_codes"] for f in luc["features"])
    sel = _items(api, limit=2, properties="parcel_number,land_use_codes", skipGeometry="true").json()
    assert sel["features"][0]["geometry"] is None
    assert set(sel["features"][0]["properties"]) == {"parcel_number", "land_use_codes"}


@pytest.mark.parametrize(("cql", "where"), [
    ("sheet_number = 2 AND parcel_number <= 10", "sheet_number = 2 AND parcel_number <= 10"),
    ("declared_area BETWEEN 601 AND 603", "declared_area BETWEEN 601 AND 603"),
    ("parcel_number IN (1, 2, 3) AND sheet_number = 1", "parcel_number IN (1, 2, 3) AND sheet_number = 1"),
    ("address LIKE 'Số 1%'", "address LIKE 'Số 1%%'"),
    ("CASEI(address) LIKE CASEI('%LÊ LỢI')", "lower(address) LIKE lower('%%LÊ LỢI')"),
    ("address IS NULL", "address IS NULL"),
    ("NOT (sheet_number = 1) OR parcel_number = 7", "NOT (sheet_number = 1) OR parcel_number = 7"),
    ("declared_area * 2 > 1210", "declared_area * 2 > 1210"),
    ("valid_from > TIMESTAMP('2019-12-31T00:00:00Z')", "valid_from > '2019-12-31T00:00:00Z'"),
])
def test_cql2_text(api, api_db, cql, where):
    r = _items(api, filter=cql, limit=1000)
    assert r.status_code == 200, r.text
    assert {f["id"] for f in r.json()["features"]} == _db_ids(api_db, f"valid_to IS NULL AND {where}")


def test_cql2_spatial_in_tm3_and_json(api, api_db):
    poly = "POLYGON((604001 1192001, 604099 1192001, 604099 1192059, 604001 1192059, 604001 1192001))"
    r = _items(api, filter=f"S_INTERSECTS(geometry, {poly})", **{"filter-crs": f"{EPSG}9210"}, limit=100)
    assert r.status_code == 200 and r.json()["numberMatched"] == 10
    js = {"op": "and", "args": [
        {"op": "=", "args": [{"property": "commune_code"}, "26734"]},
        {"op": "a_contains", "args": [{"property": "land_use_codes"}, ["CLN"]]},
    ]}
    expected = _db_ids(api_db, "valid_to IS NULL AND land_use_codes @> ARRAY['CLN']")
    get = _items(api, filter=json.dumps(js), **{"filter-lang": "cql2-json"}, limit=1000)
    assert {f["id"] for f in get.json()["features"]} == expected
    post = requests.post(f"{api}/collections/parcels/items", params={"limit": 1000}, data=json.dumps(js),
                         headers={"Content-Type": "application/query-cql-json"}, timeout=30)
    assert post.status_code == 200 and {f["id"] for f in post.json()["features"]} == expected


# ---------------------------------------------------------------- paging, sorting, counting

def test_keyset_paging_with_sortby_and_nulls(api, api_db):
    feats, pages = _all_pages(api, "parcels", limit=37, sortby="-address")
    ids = [f["id"] for f in feats]
    assert pages >= 7 and len(ids) == len(set(ids)) and set(ids) == _db_ids(api_db)
    addresses = [f["properties"]["address"] for f in feats]
    nulls = [a for a in addresses if a is None]
    assert addresses[: len(nulls)] == nulls  # DESC puts NULLs first, as PostgreSQL does
    rest = addresses[len(nulls):]
    assert rest == sorted(rest, reverse=True)
    # numberMatched stays on every page (carried in the cursor)
    first = _items(api, limit=100).json()
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert requests.get(nxt, timeout=30).json()["numberMatched"] == first["numberMatched"]


def test_sortby_id(api):
    ids = [f["id"] for f in _items(api, limit=5, sortby="parcel_number,id").json()["features"]]
    assert len(ids) == 5
    assert [f["id"] for f in _items(api, limit=5, sortby="id").json()["features"]] == sorted(
        f["id"] for f in _items(api, limit=5).json()["features"])
    assert _items(api, sortby="-id").status_code == 400


def test_offset_still_accepted(api):
    a = _items(api, limit=5, offset=10).json()["features"]
    b = _items(api, limit=15).json()["features"][10:]
    assert [f["id"] for f in a] == [f["id"] for f in b]


# ---------------------------------------------------------------- limits, offset pages and numberMatched

CQL_JSON = {"Content-Type": "application/query-cql-json"}


def _limit_refused(r: requests.Response, *names: str) -> None:
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    for name in names:
        assert name in body["description"], body["description"]


def test_query_string_longer_than_the_limit(api):
    text = "address = '" + "x" * (limits.MAX_QUERY_STRING + 20) + "'"  # below gunicorn's own request-line limit
    _limit_refused(_items(api, filter=text), "query string", str(limits.MAX_QUERY_STRING))
    # HTML pages too (pygeoapi's path): the wrapper refuses before pygeoapi sees it
    r = requests.get(f"{api}/collections/parcels/items", params={"f": "html", "filter": text}, timeout=30)
    assert r.status_code == 400 and str(limits.MAX_QUERY_STRING) in r.text
    # beyond gunicorn's request-line limit: gunicorn's own 414 URI Too Long (the app never runs); bounded either way
    assert _items(api, filter="address = '" + "x" * (limits.MAX_REQUEST_LINE + 100) + "'").status_code == 414
    # just under the limit is served
    ok = "address = '" + "x" * (limits.MAX_QUERY_STRING - 200) + "'"
    assert _items(api, filter=ok).status_code == 200


def test_posted_filter_longer_than_the_limit(api):
    body = json.dumps({"op": "=", "args": [{"property": "address"}, "x" * (limits.MAX_FILTER_BYTES + 10)]})
    r = requests.post(f"{api}/collections/parcels/items", data=body, headers=CQL_JSON, timeout=30)
    _limit_refused(r, "filter body", str(limits.MAX_FILTER_BYTES))


def test_geometry_literal_with_too_many_vertices(api):
    line = {"type": "LineString", "coordinates": [[i % 10, 0] for i in range(10_050)]}  # metres: 6 bytes a vertex
    body = json.dumps({"op": "s_intersects", "args": [{"property": "geometry"}, line]}, separators=(",", ":"))
    assert len(body) < limits.MAX_FILTER_BYTES  # the vertex limit, not the size limit, is what refuses it
    r = requests.post(f"{api}/collections/parcels/items", data=body, headers=CQL_JSON, timeout=30,
                      params={"filter-crs": f"{EPSG}9210"})
    _limit_refused(r, "vertices", str(limits.MAX_FILTER_VERTICES))
    small = {"type": "LineString", "coordinates": [[106.7, 10.7], [106.71, 10.71]]}
    r = requests.post(f"{api}/collections/parcels/items", headers=CQL_JSON, timeout=30,
                      data=json.dumps({"op": "s_intersects", "args": [{"property": "geometry"}, small]}))
    assert r.status_code == 200


def test_filter_with_too_many_terms(api):
    text = " OR ".join(f"parcel_number = {i}" for i in range(limits.MAX_FILTER_NODES // 2))
    r = requests.post(f"{api}/collections/parcels/items", data=text, timeout=30,
                      headers={"Content-Type": "application/json"}, params={"filter-lang": "cql2-text"})
    _limit_refused(r, "terms", str(limits.MAX_FILTER_NODES))


def test_limit_above_the_maximum_is_clamped_not_refused(api):
    r = _items(api, limit=str(limits.MAX_LIMIT * 1000))
    assert r.status_code == 200 and r.json()["numberReturned"] == r.json()["numberMatched"] > 250
    _limit_refused(_items(api, limit="0"), "limit")
    _limit_refused(_items(api, limit="ten"), "limit")


def test_offset_above_the_maximum(api):
    _limit_refused(_items(api, offset=str(limits.MAX_OFFSET + 1)), "offset", str(limits.MAX_OFFSET))


def test_bbox_sanity(api):
    _limit_refused(_items(api, bbox="106,10,200,11"), "bbox", "-180..180")
    _limit_refused(_items(api, bbox="106,10,107,11", **{"bbox-crs": f"{EPSG}4326"}),
             "latitude")
    _limit_refused(_items(api, bbox="107,10,106,11"), "lower bounds")
    _limit_refused(_items(api, bbox="106,10,inf,11"), "finite")
    _limit_refused(_items(api, bbox="0,0,1e12,1", **{"bbox-crs": f"{EPSG}9210"}),
             "metres")


def test_offset_pages_match_the_keyset_walk(api):
    """Any depth by offset returns the features the next links return there, in every sort order."""
    for params in ({}, {"sortby": "-parcel_number"}, {"sortby": "address", "land_use_codes": "LUC"}):
        walk = [f["id"] for f in _all_pages(api, "parcels", limit=40, **params)[0]]
        for offset in (0, 39, 40, 83, len(walk) - 1, len(walk)):
            body = _items(api, limit=9, offset=offset, **params).json()
            assert [f["id"] for f in body["features"]] == walk[offset: offset + 9], (params, offset)
            nxt = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
            assert (nxt is not None) == (offset + 9 < len(walk))
            if nxt:
                assert "offset=" not in nxt and "cursor=" in nxt
                after = requests.get(nxt, timeout=30).json()
                assert [f["id"] for f in after["features"]] == walk[offset + 9: offset + 18]


def test_number_matched_on_first_and_next_pages(api):
    """What QGIS reads: numberMatched on the first page of a collection or filter this size, the same figure on
    every next page (carried in the cursor), equal to what the pages hold."""
    for params in ({}, {"land_use_codes": "LUC"}, {"filter": "parcel_number > 40"}):
        first = _items(api, limit=30, **params).json()
        feats, pages = _all_pages(api, "parcels", limit=30, **params)
        assert first["numberMatched"] == len(feats) and pages > 1
        url = next(link["href"] for link in first["links"] if link["rel"] == "next")
        second = requests.get(url, timeout=30).json()
        assert second["numberMatched"] == first["numberMatched"]


# ---------------------------------------------------------------- history through datetime

def test_datetime_history(api, api_db):
    lookup = {"commune_code": "26734", "sheet_number": "9", "parcel_number": "1"}
    current = _items(api, **lookup).json()["features"]
    assert [f["properties"]["land_use_codes"] for f in current] == [["ODT"]]
    in_2015 = _items(api, **lookup, datetime="2015-05-01T00:00:00Z").json()["features"]
    assert [f["properties"]["land_use_codes"] for f in in_2015] == [["ONT"]]
    spring = _items(api, **lookup, datetime="2020-05-01/2020-07-01").json()["features"]  # both lived then
    assert sorted(f["properties"]["land_use_codes"][0] for f in spring) == ["ODT", "ONT"]
    day = _items(api, **lookup, datetime="2020-05-31").json()["features"]  # a date = that whole day
    assert [f["properties"]["land_use_codes"] for f in day] == [["ONT"]]
    everything = _items(api, **lookup, datetime="../..").json()["features"]
    assert sorted(f["properties"]["land_use_codes"][0] for f in everything) == ["ODT", "ONT"]
    before = _items(api, **lookup, datetime="../2009-12-31T00:00:00Z").json()
    assert before["numberMatched"] == 0
    old_id = in_2015[0]["id"]  # an old version stays reachable by its id, at a time it was alive (issue 17) …
    r = requests.get(f"{api}/collections/parcels/items/{old_id}", params={"datetime": "2015-05-01T00:00:00Z"},
                     timeout=30)
    assert r.status_code == 200 and r.json()["properties"]["valid_to"].startswith("2020-06-01")
    # … while without datetime one item is the feature as it is now: a closed version is not found
    assert requests.get(f"{api}/collections/parcels/items/{old_id}", timeout=30).status_code == 404
    assert requests.get(f"{api}/collections/parcels/items/{old_id}", params={"datetime": "2021-01-01T00:00:00Z"},
                        timeout=30).status_code == 404  # not alive then


# ---------------------------------------------------------------- errors and privacy

@pytest.mark.parametrize("params", [
    {"limit": "abc"}, {"limit": "0"}, {"offset": "-1"}, {"bbox": "1,2,3"}, {"bbox": "a,b,c,d"},
    {"bbox": "1,5,2,4"}, {"bbox-crs": f"{EPSG}4326"}, {"crs": f"{EPSG}2154"}, {"crs": "nonsense"},
    {"bbox": "1,2,3,4", "bbox-crs": "EPSG:99999"}, {"datetime": "yesterday"}, {"datetime": "2020-01-01/2019-01-01"},
    {"filter": "sheet_number ="}, {"filter": "nosuch = 1"}, {"filter": "sheet_number = 'abc'"},
    {"filter": "commune_code = 5"}, {"filter": "x'; DROP TABLE landdb.parcel; --"},
    {"filter": "{\"op\": \"=\"}", "filter-lang": "cql2-json"}, {"filter-lang": "sql"},
    {"filter": "S_INTERSECTS(geometry, POINT(1 2))", "filter-crs": f"{EPSG}2154"},
    {"sortby": "nosuch"}, {"sortby": "land_use_codes"}, {"properties": "nosuch"}, {"skipGeometry": "maybe"},
    {"cursor": "not-a-cursor"}, {"unknown_param": "1"}, {"sheet_number": "abc"}, {"resulttype": "everything"},
])
def test_bad_requests_are_400(api, params):
    r = _items(api, **params)
    assert r.status_code == 400, (params, r.status_code, r.text)
    body = r.json()
    assert body["code"] and body["description"]


def test_repeated_parameter_is_400(api):
    r = requests.get(f"{api}/collections/parcels/items?sheet_number=1&sheet_number=2", timeout=30)
    assert r.status_code == 400 and "sheet_number" in r.json()["description"]


def test_cursor_from_another_sort_is_400(api):
    first = _items(api, limit=5, sortby="parcel_number").json()
    cursor = parse_qs(urlsplit(next(x["href"] for x in first["links"] if x["rel"] == "next")).query)["cursor"][0]
    assert _items(api, limit=5, cursor=cursor).status_code == 400


@pytest.mark.parametrize("path", [
    "/collections/nope", "/collections/nope/items", "/collections/parcels/items/999999999",
    "/collections/parcels/items/abc", "/collections/party/items", "/collections/land_right/items",
])
def test_unknown_is_404(api, path):
    r = requests.get(f"{api}{path}", params={"f": "json"}, timeout=30)
    assert r.status_code == 404, (path, r.text)


def test_personal_data_never_published(api):
    seen = requests.get(f"{api}/collections", params={"f": "json"}, timeout=30).text
    for c in json.loads(seen)["collections"]:
        feats, _ = _all_pages(api, c["id"], limit=1000, datetime="../..")
        text = json.dumps(feats, ensure_ascii=False)
        assert SECRET_NAME not in text and SECRET_ID_NUMBER not in text
    assert SECRET_NAME not in seen
    assert "landdb_restricted" not in requests.get(f"{api}/openapi", params={"f": "json"}, timeout=30).text


def test_html_pages_from_pygeoapi(api):
    r = requests.get(f"{api}/collections/parcels/items", params={"f": "html", "limit": 3}, timeout=30)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    r = requests.get(f"{api}/collections/parcels/items/1", params={"f": "html"}, timeout=30)
    assert r.status_code == 200


def test_findings_collection(api):
    body = _items(api, "validation-findings").json()
    assert body["numberMatched"] == 1
    props = body["features"][0]["properties"]
    assert props["check_code"] == "area_mismatch" and body["features"][0]["geometry"]["type"] == "Point"
    tm3 = _items(api, "validation-findings", crs=f"{EPSG}9210").json()["features"][0]["geometry"]["coordinates"]
    assert 500_000 < tm3[0] < 700_000 and 1_100_000 < tm3[1] < 1_300_000


def test_pygeoapi_path_uses_the_same_provider(api, api_db):
    """JSON-LD items go through pygeoapi's own API layer into LandgeoProvider.query (bbox in storage CRS)."""
    box = "106.70270,10.77740,106.70300,10.77775"
    ours = {f["id"] for f in _items(api, bbox=box, limit=100).json()["features"]}
    r = requests.get(f"{api}/collections/parcels/items", params={"f": "jsonld", "bbox": box, "limit": 100},
                     timeout=30)
    assert r.status_code == 200, r.text
    text = r.text
    assert ours and all(f"/collections/parcels/items/{i}" in text for i in ours)
    hits = requests.get(f"{api}/collections/parcels/items", timeout=30,
                        params={"f": "jsonld", "commune_code": "26734", "sheet_number": "2", "parcel_number": "5"})
    assert hits.status_code == 200 and hits.text.count("/collections/parcels/items/") >= 1


@pytest.mark.parametrize("fmt", ["html", "jsonld"])
@pytest.mark.parametrize("params", [
    {"filter": "S_INTERSECTS(geometry, POINT(106.7028 10.7775))"}, {"filter": "sheet_number = 'x'"},
    {"filter": "garbage ("}, {"crs": f"{EPSG}9210"}, {"crs": "EPSG:1"}, {"bbox": "1,2,3"}, {"datetime": "../.."},
    {"datetime": "nonsense"}, {"sortby": "-parcel_number"}, {"sortby": "nosuch"}, {"limit": "-4"},
    {"properties": "parcel_number"}, {"skipGeometry": "true"}, {"offset": "5"}, {"land_use_codes": "ONT"},
])
def test_pygeoapi_pages_never_500(api, fmt, params):
    r = requests.get(f"{api}/collections/parcels/items", params={"f": fmt, **params}, timeout=30)
    assert r.status_code in (200, 400), (fmt, params, r.status_code, r.text[:500])


def test_conformance_html_lists_the_same_classes(api):
    r = requests.get(f"{api}/conformance", params={"f": "html"}, timeout=30)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    assert "ogcapi-features-3/1.0/conf/features-filter" in r.text
    assert "ogcapi-features-4/1.0/conf/create-replace-delete" in r.text


def test_admin_units_by_code_and_date(api):
    now = _items(api, "admin-units", parent_code="79").json()["features"]
    assert [f["properties"]["name"] for f in now] == ["Phường Sài Gòn"]
    in_2020 = _items(api, "admin-units", parent_code="79", datetime="2020-01-01T00:00:00Z").json()["features"]
    assert [(f["properties"]["code"], f["properties"]["level"]) for f in in_2020] == [("760", "district")]
    both = _items(api, "admin-units", datetime="../..", level="district").json()
    assert both["numberMatched"] == 1 and both["features"][0]["properties"]["valid_to"] == "2025-06-30"


QGIS_CHECK = r"""
import json, sys
from qgis.core import QgsApplication, QgsVectorLayer  # noqa
app = QgsApplication([], False)
app.initQgis()
layer = QgsVectorLayer(f"url='{sys.argv[1]}' typename='parcels' pagingEnabled='true'", "parcels", "OAPIF")
out = {"valid": layer.isValid(), "count": layer.featureCount(),
       "ids": sorted(int(f["parcel_number"]) * 1000 + int(f["sheet_number"]) for f in layer.getFeatures())}
layer.setSubsetString('"sheet_number" = 2')
out["subset"] = sum(1 for _ in layer.getFeatures())
print(json.dumps(out), flush=True)
import os
os._exit(0)  # QGIS 3.22 may crash in its own teardown; the report is out
"""


def test_qgis_reads_every_parcel(api, api_db, tmp_path):
    """QGIS's OAPIF provider (PyQGIS of the system, when installed) opens the layer and pages through it."""
    qgis_python = "/usr/bin/python3"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    probe = subprocess.run([qgis_python, "-c", "import qgis.core"], capture_output=True, env=env, timeout=120)
    if probe.returncode != 0:
        pytest.skip("PyQGIS is not installed")
    script = tmp_path / "qgis_check.py"
    script.write_text(QGIS_CHECK, encoding="utf-8")
    done = subprocess.run([qgis_python, str(script), api], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    expected = _db_ids(api_db)
    assert report["valid"] and report["count"] == len(expected)
    assert len(report["ids"]) == len(expected) == len(set(report["ids"]))  # every feature once, across pages
    assert report["subset"] == len(_db_ids(api_db, "valid_to IS NULL AND sheet_number = 2"))


def test_openapi_documents_the_cursor(api):
    doc = requests.get(f"{api}/openapi", params={"f": "json"}, timeout=30).json()
    params = doc["paths"]["/collections/parcels/items"]["get"]["parameters"]
    assert any(p.get("name") == "cursor" for p in params)
