"""Query building against a real database, in process: the numberMatched rule and CQL2 compilation limits."""

from __future__ import annotations

import psycopg
import pytest

from landgeo.api import query as q
from landgeo.api.collections import get_collection

FILL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, source_srid,
                           area_srid, geom)
SELECT '79', '26734', 1, i, ARRAY['ONT'], 9210, 9210,
       ST_Transform(ST_Multi(ST_MakeEnvelope(604000 + i * 20.0, 1192000, 604020 + i * 20.0, 1192030, 9210)), 4756)
FROM generate_series(1, 300) AS i
"""


@pytest.fixture
def parcels_db(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        conn.execute(FILL)
        conn.execute("ANALYZE landdb.parcel")
    return fresh_db


def test_number_matched_exact_when_cheap_estimate_otherwise(parcels_db, monkeypatch):
    c = get_collection("parcels")
    with psycopg.connect(parcels_db, autocommit=True) as conn:
        page = q.run_items(conn, q.parse_items(c, {"limit": "10"}))
        assert page.number_matched == 300 and page.estimate is None and page.next_cursor
        # the whole collection above the ceiling (pg_class): nothing counted, the estimate given
        monkeypatch.setattr(q, "ESTIMATE_CEILING", 100)
        page = q.run_items(conn, q.parse_items(c, {"limit": "10"}))
        assert page.number_matched is None and page.estimate == 300
        # a selective filter is counted exactly, whatever the size of the table
        page = q.run_items(conn, q.parse_items(c, {"filter": "parcel_number < 20"}))
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
        sql_text, params, _ = q.page_sql(query)
        plan = "\n".join(r[0] for r in conn.execute(psycopg.sql.SQL("EXPLAIN ") + sql_text, params))
        assert "id >" in plan and "Sort" not in plan.split("Limit")[1][:40]
        page = q.run_items(conn, query)
        assert len(page.features) == 10 and page.number_matched == 300


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
        assert conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0] == 300
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM landdb_restricted.party")
    get_pool(parcels_db).close()
