"""Offset pages from the exact current-version counts per id block (migration 0140, api.statements.block_position_sql).

Small multi-province data whose ids span several blocks of 2^14: every offset page must equal a plain
``ORDER BY id OFFSET`` of the current versions, and the counts must equal a recount, after real loads (the bulk
swap of a first load and the merge of a second), register-style writes (new versions, retirements, deletes, a
province change, statements addressed to one partition, a truncate) and concurrent writers.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from landgeo.api import query as q
from landgeo.api.collections import get_collection
from landgeo.api.statements import block_position_sql
from landgeo.db.scratch import create_database, drop_database
from loaders.pipeline import LoadOptions, load

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.national import provinces, write_province  # noqa: E402

BLOCK = 1 << 14
NEW_VERSION = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, declared_area,
                           source_srid, area_srid, geom)
SELECT province_code, commune_code, sheet_number + 1000, parcel_number, land_use_codes, declared_area, source_srid,
       area_srid, geom
FROM landdb.parcel WHERE id = ANY(%s)
"""


def _load(url: str, code: str, n: int, tmp: Path) -> None:
    p = next(p for p in provinces() if p.code == code)
    src = write_province(p, n, tmp / f"p{code}-{n}.gpkg")
    load(src, LoadOptions(target="parcels", province=code, database_url=url))


def _jump(conn: psycopg.Connection, to: int) -> None:
    """Move the id sequence on, so that the next ids start in another block."""
    conn.execute("SELECT setval(pg_get_serial_sequence('landdb.parcel', 'id'), %s)", (to,))


def _recount(conn: psycopg.Connection) -> dict:
    return dict(((p, b), n) for p, b, n in conn.execute(
        "SELECT province_code, id >> 14, count(*) FROM landdb.parcel WHERE valid_to IS NULL GROUP BY 1, 2"))


def _counts(conn: psycopg.Connection) -> dict:
    return dict(((p, b), n) for p, b, n in conn.execute(
        "SELECT province_code, block, sum(n) FROM landdb.parcel_current_count GROUP BY 1, 2 HAVING sum(n) <> 0"))


def _ids(page: q.Page) -> list[int]:
    return [json.loads(f)["id"] for f in page.features]


def _check(url: str, extra: dict[str, str] | None = None) -> int:
    """Counts equal a recount; offset pages (every block edge, the ends, past the end) equal ORDER BY id OFFSET."""
    c = get_collection("parcels")
    with psycopg.connect(url, autocommit=True) as conn:
        assert _counts(conn) == _recount(conn)
        ids = [r[0] for r in conn.execute("SELECT id FROM landdb.parcel WHERE valid_to IS NULL ORDER BY id")]
        edges = {0, 1, 2, len(ids) - 1, len(ids), len(ids) + 5}
        for k in range(1, len(ids)):  # the ranks where a block ends and the next begins
            if ids[k] >> 14 != ids[k - 1] >> 14:
                edges |= {k - 1, k, k + 1}
        edges |= set(range(3, len(ids), 37))
        for offset in sorted(e for e in edges if e >= 0):
            if 0 < offset <= len(ids):  # the position comes from the counts, not from a walk
                sql_text, params = block_position_sql(q.parse_items(c, {"offset": str(offset)}))
                assert conn.execute(sql_text, params).fetchone()[::2] == (True, ids[offset - 1]), offset
            page = q.run_items(conn, q.parse_items(c, {"limit": "4", "offset": str(offset), **(extra or {})}))
            assert _ids(page) == ids[offset: offset + 4], f"offset {offset}"
        return len(ids)


@pytest.fixture(scope="module")
def national(server_url: str, template_db: str, tmp_path_factory) -> str:
    """Provinces 01 (grid), 04 (separate rectangles) and 79 loaded with the real loader, ids over 4 blocks; the
    tests below write to it in turn (each checks the state the previous ones left)."""
    tmp_path = tmp_path_factory.mktemp("blocks")
    name = f"landgeo_test_blocks_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url, autocommit=True) as conn:
        _load(url, "01", 120, tmp_path)
        _jump(conn, 3 * BLOCK - 40)  # 04 straddles the edge of blocks 2 and 3
        _load(url, "04", 80, tmp_path)
        _jump(conn, 5 * BLOCK + 10)
        _load(url, "79", 90, tmp_path)
        _load(url, "01", 150, tmp_path)  # a second load of 01: the merge path (30 new parcels), not the swap
    yield url
    drop_database(server_url, name)


def test_offset_pages_after_loads(national):
    with psycopg.connect(national) as conn:
        blocks = {b for _p, b in _counts(conn)}
        assert len(blocks) >= 3, blocks
    assert _check(national) == 120 + 80 + 90 + 30
    with psycopg.connect(national) as conn:  # past the last row: no block
        sql_text, params = block_position_sql(q.parse_items(get_collection("parcels"), {"offset": "321"}))
        assert conn.execute(sql_text, params).fetchone()[:2] == (True, None)


def test_offset_pages_after_register_writes(national):
    with psycopg.connect(national, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM landdb.parcel WHERE valid_to IS NULL ORDER BY id")]
        with conn.transaction():  # a boundary correction: new versions, the old ones retired
            changed = ids[5:15] + ids[130:133]
            conn.execute(NEW_VERSION, (changed,))
            conn.execute("UPDATE landdb.parcel SET valid_to = now() WHERE id = ANY(%s)", (changed,))
        conn.execute("DELETE FROM landdb.parcel WHERE id = ANY(%s)", (ids[200:204],))
        conn.execute("UPDATE landdb.parcel SET valid_to = NULL WHERE id = %s", (ids[7],))  # a version revived
    _check(national)
    with psycopg.connect(national, autocommit=True) as conn:  # statements addressed to one partition
        conn.execute("DELETE FROM landdb.parcel_p04 WHERE id IN (SELECT id FROM landdb.parcel_p04 ORDER BY id "
                     "LIMIT 6)")
        conn.execute("UPDATE landdb.parcel_p79 SET valid_to = now() WHERE id IN (SELECT id FROM landdb.parcel_p79 "
                     "WHERE valid_to IS NULL ORDER BY id DESC LIMIT 3)")
        direct = NEW_VERSION.replace("INSERT INTO landdb.parcel (", "INSERT INTO landdb.parcel_p01 (id, ").replace(
            "SELECT province_code,", "SELECT nextval(pg_get_serial_sequence('landdb.parcel', 'id')), province_code,")
        assert conn.execute(direct, ([i for i in ids if i < BLOCK][:2],)).rowcount == 2
    _check(national)
    with psycopg.connect(national, autocommit=True) as conn:  # a row moved to another province's partition
        conn.execute("ALTER TABLE landdb.parcel DISABLE TRIGGER USER")  # only the row move: no register rules
        conn.execute("ALTER TABLE landdb.parcel ENABLE TRIGGER parcel_count_update")
        moved = conn.execute("UPDATE landdb.parcel SET province_code = '46' WHERE id IN (SELECT id FROM "
                             "landdb.parcel_p04 WHERE valid_to IS NULL ORDER BY id LIMIT 2)").rowcount
        conn.execute("ALTER TABLE landdb.parcel ENABLE TRIGGER USER")
        assert moved == 2
    _check(national)
    with psycopg.connect(national, autocommit=True) as conn:
        conn.execute("TRUNCATE landdb.parcel_p79 CASCADE")
    assert _check(national) > 0


def test_filtered_offset_pages_walk_and_stay_right(national):
    with psycopg.connect(national) as conn:
        commune, x, y = conn.execute(
            "SELECT commune_code, ST_X(ST_Centroid(geom_wgs84)), ST_Y(ST_Centroid(geom_wgs84)) FROM landdb.parcel "
            "WHERE province_code = '01' ORDER BY id LIMIT 1").fetchone()
        c = get_collection("parcels")
        expected = [r[0] for r in conn.execute(
            "SELECT id FROM landdb.parcel WHERE valid_to IS NULL AND commune_code = %s ORDER BY id", (commune,))]
        for offset in (0, 1, 3, len(expected) - 1):
            page = q.run_items(conn, q.parse_items(c, {"commune_code": commune, "offset": str(offset),
                                                       "limit": "2"}))
            assert _ids(page) == expected[offset: offset + 2]
        bbox = f"{x - 0.002},{y - 0.002},{x + 0.002},{y + 0.002}"
        inside = [r[0] for r in conn.execute(
            "SELECT id FROM landdb.parcel WHERE valid_to IS NULL AND ST_Intersects(geom_wgs84, "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326)) ORDER BY id", (x - 0.002, y - 0.002, x + 0.002, y + 0.002))]
        assert len(inside) > 3
        page = q.run_items(conn, q.parse_items(c, {"bbox": bbox, "offset": "2", "limit": "3"}))
        assert _ids(page) == inside[2:5]


def test_concurrent_writers_keep_counts_exact(national):
    """Eight writers at once, in one province and across provinces: new versions, retirements, deletes."""
    with psycopg.connect(national) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM landdb.parcel WHERE valid_to IS NULL ORDER BY id")]
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            with psycopg.connect(national, autocommit=True) as conn:
                for j in range(6):
                    fid = ids[(k * 29 + j * 7) % len(ids)]
                    with conn.transaction():
                        if j % 3 == 2:
                            conn.execute("DELETE FROM landdb.parcel WHERE id = %s AND valid_to IS NULL", (fid,))
                            continue
                        done = conn.execute("UPDATE landdb.parcel SET valid_to = now() WHERE id = %s AND "
                                            "valid_to IS NULL", (fid,)).rowcount
                        if done:
                            conn.execute(NEW_VERSION.replace("sheet_number + 1000", f"sheet_number + {2000 + k}"),
                                         ([fid],))
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    _check(national)
