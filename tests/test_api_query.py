"""Items queries against a real database, in process: the numberMatched rule, offset pages against keyset pages,
the one builder and CRS parser, and the limits of a request."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from landgeo.api import limits
from landgeo.api import query as q
from landgeo.api.collections import get_collection
from landgeo.api.crs import CRS84, parse_crs
from landgeo.api.parameters import decode_cursor
from landgeo.api.statements import page_sql, position_sql
from landgeo.db.scratch import create_database, drop_database

FILL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, source_srid,
                           area_srid, geom)
SELECT '79', '26734', 1, i, ARRAY['ONT'], 9210, 9210,
       ST_Transform(ST_Multi(ST_MakeEnvelope(604000 + i * 20.0, 1192000, 604020 + i * 20.0, 1192030, 9210)), 4756)
FROM generate_series(1, 300) AS i
"""

# Separate rectangles (1.5 m strips: no shared vertex) in Hà Nội (TM-3 105°00', EPSG:5897), mixed land uses with
# the legacy code LUA, addresses with NULLs, and closed versions among them: the other shape of data.
FILL_GAPS = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, address,
                           source_srid, area_srid, valid_from, valid_to, geom)
SELECT '01', '00004', 1 + i / 50, 1 + i % 50,
       CASE i % 4 WHEN 0 THEN ARRAY['LUC'] WHEN 1 THEN ARRAY['LUA'] WHEN 2 THEN ARRAY['ODT', 'LUC']
                  ELSE ARRAY['CLN'] END,
       CASE WHEN i % 6 = 0 THEN NULL ELSE 'Thôn ' || (i % 9) END, 5897, 5897, '2018-01-01T00:00:00Z',
       CASE WHEN i % 10 = 7 THEN '2021-01-01T00:00:00Z'::timestamptz END,
       ST_Transform(ST_Multi(ST_MakeEnvelope(585000 + (i % 20) * 20.0, 2324000 + (i / 20) * 30.0,
                                             585018.5 + (i % 20) * 20.0, 2324028.5 + (i / 20) * 30.0, 5897)), 4756)
FROM generate_series(0, 199) AS i
"""


@pytest.fixture(scope="module")
def parcels_db(server_url, template_db):
    """One database for the module (its tests only read): the grid and the unshared rectangles."""
    name = f"landgeo_test_query_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url) as conn:
        conn.execute(FILL)
        conn.execute(FILL_GAPS)
        conn.execute("ANALYZE landdb.parcel")
    yield url
    drop_database(server_url, name)


def _ids(page) -> list[int]:
    return [json.loads(f)["id"] for f in page.features]


def _keyset_ids(conn, c, params: dict) -> list[int]:
    """Every feature id of a request, following next cursors (pages of 7)."""
    ids, cursor = [], None
    while True:
        page = q.run_items(conn, q.parse_items(c, {**params, "limit": "7", **({"cursor": cursor} if cursor else {})}))
        ids += _ids(page)
        cursor = page.next_cursor
        if cursor is None:
            return ids


def test_number_matched_exact_when_cheap_estimate_otherwise(parcels_db, monkeypatch):
    c = get_collection("parcels")
    with psycopg.connect(parcels_db, autocommit=True) as conn:
        page = q.run_items(conn, q.parse_items(c, {"limit": "10"}))
        assert page.number_matched == 480 and page.estimate is None and page.next_cursor  # 20 closed versions
        # the whole collection above the ceiling (pg_class): nothing counted, the estimate given
        monkeypatch.setattr(q, "ESTIMATE_CEILING", 100)
        page = q.run_items(conn, q.parse_items(c, {"limit": "10"}))
        assert page.number_matched is None and page.estimate == 500
        # a selective filter is counted exactly, whatever the size of the table
        page = q.run_items(conn, q.parse_items(c, {"filter": "parcel_number < 20 AND province_code = '79'"}))
        assert page.number_matched == 19
        # a filter matching more than the exact-count bound: counted up to the bound only, then omitted
        monkeypatch.setattr(q, "EXACT_COUNT_LIMIT", 50)
        page = q.run_items(conn, q.parse_items(c, {"filter": "parcel_number > 10"}))
        assert page.number_matched is None and page.estimate >= 51
        assert len(page.features) == 10 and page.next_cursor


def test_deep_page_is_a_keyset_range_scan(parcels_db):
    c = get_collection("parcels")
    with psycopg.connect(parcels_db, autocommit=True) as conn:
        first = q.run_items(conn, q.parse_items(c, {"limit": "250"}))
        query = q.parse_items(c, {"limit": "10", "cursor": first.next_cursor})
        sql_text, params, _ = page_sql(query)
        plan = "\n".join(r[0] for r in conn.execute(psycopg.sql.SQL("EXPLAIN ") + sql_text, params))
        assert "id >" in plan and "Sort" not in plan.split("Limit")[1][:40]
        page = q.run_items(conn, query)
        assert len(page.features) == 10 and page.number_matched == 480


@pytest.mark.parametrize("params", [
    {}, {"sortby": "-parcel_number"}, {"sortby": "address,-sheet_number"}, {"land_use_codes": "LUC"},
    {"filter": "land_use_codes IS NOT NULL AND province_code = '01'", "sortby": "-address"},
    {"datetime": "../..", "commune_code": "00004"},
])
def test_offset_pages_equal_keyset_pages_at_every_depth(parcels_db, params):
    """An offset page is the slice of the keyset walk at that depth, with the same next link behaviour."""
    c = get_collection("parcels")
    with psycopg.connect(parcels_db, autocommit=True) as conn:
        walk = _keyset_ids(conn, c, params)
        assert len(walk) == len(set(walk)) and len(walk) > 40
        for offset in (0, 6, 41, len(walk) - 3, len(walk), len(walk) + 5):
            page = q.run_items(conn, q.parse_items(c, {**params, "limit": "5", "offset": str(offset)}))
            assert _ids(page) == walk[offset: offset + 5], (params, offset)
            if page.next_cursor:  # the next link of an offset page continues the keyset walk
                after = q.run_items(conn, q.parse_items(c, {**params, "limit": "5", "cursor": page.next_cursor}))
                assert _ids(after) == walk[offset + 5: offset + 10]
            else:
                assert offset + 5 >= len(walk)


def test_offset_skips_by_keys_only(parcels_db):
    """The rows before an offset page are read as keys (the statement selects no feature, no geometry)."""
    c = get_collection("parcels")
    query = q.parse_items(c, {"limit": "5", "offset": "250"})
    with psycopg.connect(parcels_db, autocommit=True) as conn:
        text = position_sql(query)[0].as_string(conn)
        assert "ST_AsGeoJSON" not in text and "json_build_object" not in text and "OFFSET %s LIMIT 1" in text
        assert "ST_AsGeoJSON" in page_sql(query, after=[1])[0].as_string(conn)
        assert "OFFSET" not in page_sql(query, after=[1])[0].as_string(conn)


def test_number_matched_counted_once_on_costly_filters(parcels_db, monkeypatch):
    """Above FIRST_PAGE_COUNT expected matches, the first page gives an estimate only; the first next page counts
    (bounded) and the cursor carries the count to every later page."""
    c = get_collection("parcels")
    monkeypatch.setattr(q, "FIRST_PAGE_COUNT", 10)
    params = {"land_use_codes": "LUC", "limit": "40"}
    with psycopg.connect(parcels_db, autocommit=True) as conn:
        exact = conn.execute("SELECT count(*) FROM landdb.parcel WHERE valid_to IS NULL "
                             "AND land_use_codes @> ARRAY['LUC']").fetchone()[0]
        first = q.run_items(conn, q.parse_items(c, params))
        assert first.number_matched is None and first.estimate and first.estimate > 10
        second = q.run_items(conn, q.parse_items(c, {**params, "cursor": first.next_cursor}))
        assert second.number_matched == exact and second.estimate is None
        calls = []
        monkeypatch.setattr(q, "_bounded_count", lambda *a: calls.append(a))
        third = q.run_items(conn, q.parse_items(c, {**params, "cursor": second.next_cursor}))
        assert third.number_matched == exact and not calls  # carried, not counted again
        assert decode_cursor(second.next_cursor, q.parse_items(c, params))["n"] == exact
        # resulttype=hits always counts (bounded)
        monkeypatch.undo()
        hits = q.run_items(conn, q.parse_items(c, {**params, "resulttype": "hits"}))
        assert hits.number_matched == exact and hits.features == []
        # a filter the planner expects to be small is counted on the first page and carried
        lua = conn.execute("SELECT count(*) FROM landdb.parcel WHERE valid_to IS NULL "
                           "AND land_use_codes @> ARRAY['LUA']").fetchone()[0]
        small = q.run_items(conn, q.parse_items(c, {"land_use_codes": "LUA", "limit": "10"}))
        assert small.number_matched == lua == 40  # the legacy code, 10 of its 50 versions closed
        nxt = q.run_items(conn, q.parse_items(c, {"land_use_codes": "LUA", "limit": "10", "cursor": small.next_cursor}))
        assert nxt.number_matched == lua


def test_provider_and_json_path_build_the_same_query(parcels_db):
    """The pygeoapi provider goes through the same builder: same rules, same 400s, same features."""
    from landgeo.api.parameters import ApiError, build_query

    c = get_collection("parcels")
    a = q.parse_items(c, {"limit": "20000", "sortby": "-parcel_number", "land_use_codes": "LUC"})
    b = build_query(c, limit=20000, sortby=[("parcel_number", False)], properties=[("land_use_codes", "LUC")])
    assert a.limit == b.limit == limits.MAX_LIMIT and a.sortby == b.sortby and a.properties == b.properties
    with pytest.raises(ApiError, match="sortby -id"):
        build_query(c, sortby=[("id", False)])
    with pytest.raises(ApiError, match="JSON property|unknown query parameter"):
        build_query(c, properties=[("nosuch", "1")])


def test_item_by_id_reads_the_partition_of_its_range(parcels_db, monkeypatch):
    """/items/{id} on the partitioned parcel table: the id's range names the partition; ids outside every range,
    and ranges that point to the wrong partition (rows loaded since), still find the feature."""
    from landgeo.api import locate

    c = get_collection("parcels")
    crs = parse_crs(CRS84, c.crs_uris)
    with psycopg.connect(parcels_db, autocommit=True) as conn:
        ranges = locate.id_ranges(conn, c)
        assert ranges.key == "province_code"
        by_province = dict(conn.execute("SELECT province_code, max(id) FROM landdb.parcel GROUP BY 1").fetchall())
        assert ranges.partition_of(by_province["01"]) == "01" and ranges.partition_of(by_province["79"]) == "79"
        for fid in by_province.values():
            assert json.loads(q.run_item(conn, c, str(fid), crs))["id"] == fid
        assert q.run_item(conn, c, "999999", crs) is None and q.run_item(conn, c, "12a", crs) is None
        wrong = locate.Ranges("province_code", (("01", 1, 10**9),))  # stale: says every id is in Hà Nội
        monkeypatch.setattr(locate, "_CACHE", {(conn.info.dbname, c.schema, c.table): (1e18, wrong)})
        assert json.loads(q.run_item(conn, c, str(by_province["79"]), crs))["id"] == by_province["79"]


@pytest.mark.parametrize("name", ["EPSG:9210", "urn:ogc:def:crs:EPSG::9210", "[EPSG:9210]", "vn2000:79",
                                  "http://www.opengis.net/def/crs/EPSG/0/9210", "epsg:9210"])
def test_crs_names_read_by_the_registry(name):
    c = get_collection("parcels")
    crs = parse_crs(name, c.crs_uris)
    assert crs.srid == 9210 and crs.family == "vn2000" and not crs.lat_first and crs.decimals == 4
    assert parse_crs("OGC:CRS84", c.crs_uris).uri == CRS84
    assert parse_crs("EPSG:4326", c.crs_uris).lat_first
    for refused in ("EPSG:32648", "EPSG:2154", "nonsense", "x" * 500):
        with pytest.raises(ValueError):
            parse_crs(refused, c.crs_uris)


@pytest.mark.parametrize("params, names", [
    ({"filter": "S_INTERSECTS(geometry, LINESTRING(" + ",".join(f"{i % 10} 0" for i in range(10_050)) + "))",
      "filter-crs": "EPSG:9210"}, "10000 vertices"),
    ({"filter": " OR ".join(f"parcel_number = {i}" for i in range(1500))}, "terms"),
    ({"filter": "address = '" + "x" * 70_000 + "'"}, "65536 bytes"),
    ({"offset": str(limits.MAX_OFFSET + 1)}, "limit of 100000000"),
    ({"bbox": "106,10,190,11"}, "-180..180"),
    ({"bbox": "106,10,107,11", "bbox-crs": "EPSG:4326"}, "latitude"),  # lat first: 106 is no latitude
    ({"bbox": "107,10,106,11"}, "lower bounds"),
    ({"bbox": "nan,10,106,11"}, "finite"),
    ({"bbox": "1e9,1,2e9,2", "bbox-crs": "EPSG:9210"}, "metres"),
])
def test_limits_are_400_naming_the_limit(params, names):
    with pytest.raises(q.ApiError) as err:
        q.parse_items(get_collection("parcels"), params)
    assert err.value.status == 400 and names in err.value.description, err.value.description


@pytest.mark.parametrize("text", [
    "S_INTERSECTS(sheet_number, POINT(1 2))", "geometry = 1", "UNKNOWNFN(address) = 'x'",
    "land_use_codes = 'ONT'", "BBOX(geometry, 'a', 'b', 'c', 'd')", "commune_code > 5",
    "parcel_number IN ('a', 'b')",
])
def test_filters_refused_with_400(db, text):
    c = get_collection("parcels")
    with pytest.raises(q.ApiError) as err:
        q.run_items(db, q.parse_items(c, {"filter": text}))
    assert err.value.status == 400 and err.value.description


def test_api_connections_cannot_read_personal_data(parcels_db):
    """The server's pooled connections read as landgeo_reader: landdb_restricted is out of reach."""
    from landgeo.api.pool import get_pool

    with get_pool(parcels_db).connection() as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "landgeo_reader"
        assert conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0] == 500
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM landdb_restricted.party")
    get_pool(parcels_db).close()
