"""A province's first load makes the tile cache's products — the changed boxes and the commune summaries — from the
groups its batches accumulated (loaders/write/summary.py, migration 0180), not from scans of the new partition.
They must be exactly what the per-row statements make from the rows: meta.tile_refresh_communes (0120) for the
summaries, meta.tile_record_sql's cells for the boxes; the offset-block counts too. And when a set-based check took
rows back out of the table, the swap scans the table instead, with the same result."""

from __future__ import annotations

import numpy as np
import psycopg
import shapely
from vectorfiles import X0, Y0, cadastral_fields, write

from loaders.pipeline import LoadOptions, load
from loaders.write import bulk

COMMUNES = ("00001", "00004", "00006")
CODES = ("ONT", "LUC", "CLN", "LUA", "ONT")  # LUA: a legacy code


def gapped(n_side: int, seed: int = 7) -> np.ndarray:
    """n_side² separate rectangles of jittered sizes (no shared vertex), over several 0.01° cells."""
    rng = np.random.default_rng(seed)
    i, j = np.divmod(np.arange(n_side * n_side), n_side)
    x0 = X0 + i * 23.7 + rng.uniform(0, 0.9, i.size)
    y0 = Y0 + j * 31.3 + rng.uniform(0, 0.9, i.size)
    return shapely.box(x0, y0, x0 + 20 + rng.uniform(0, 2, i.size), y0 + 25 + rng.uniform(0, 3, i.size))


def fields(n: int, numbers: list[int] | None = None) -> dict:
    out = cadastral_fields(n, codes=[CODES[k % len(CODES)] for k in range(n)], numbers=numbers)
    out["MaXa"] = np.array([COMMUNES[k * len(COMMUNES) // n] for k in range(n)], dtype=object)
    return out


def summaries(conn) -> list[tuple]:
    return conn.execute("SELECT commune_code, province_code, parcels, area_m2, area_by_group, main_group, "
                        "ST_AsEWKB(extent), ST_AsEWKB(label_point) FROM meta.tile_commune_summary "
                        "ORDER BY commune_code").fetchall()


def assert_products_of_the_rows(url: str, change_before: int) -> None:
    with psycopg.connect(url) as conn:
        made = summaries(conn)
        assert {r[0] for r in made} == set(COMMUNES)
        # the summaries as 0120 makes them from the rows (in this transaction, rolled back)
        conn.execute("SELECT meta.tile_refresh_communes(%s)", (list(COMMUNES),))
        assert summaries(conn) == made
        conn.rollback()
        recorded = conn.execute("SELECT ST_AsEWKB(box) FROM meta.tile_change WHERE id > %s AND layer = "
                                "'landdb.parcel' ORDER BY 1", (change_before,)).fetchall()
        n = conn.execute("SELECT count(*) FROM landdb.parcel_p01").fetchone()[0]
        conn.execute("CREATE TEMP TABLE expected (layer text, box geometry)")
        statement = conn.execute("SELECT meta.tile_record_sql('landdb.parcel', 'landdb.parcel_p01', 'geom_wgs84', "
                                 "%s)", (n,)).fetchone()[0]
        conn.execute(statement.replace("INSERT INTO meta.tile_change", "INSERT INTO pg_temp.expected", 1))
        expected = conn.execute("SELECT ST_AsEWKB(box) FROM pg_temp.expected ORDER BY 1").fetchall()
        assert recorded == expected
        assert len(recorded) > 1
        # every parcel lies in a recorded box (what the tile cache relies on)
        assert conn.execute("SELECT count(*) FROM landdb.parcel_p01 p WHERE NOT EXISTS (SELECT 1 FROM "
                            "meta.tile_change c WHERE c.id > %s AND c.layer = 'landdb.parcel' AND "
                            "ST_Covers(c.box, p.geom_wgs84))", (change_before,)).fetchone()[0] == 0
        counts = conn.execute("SELECT block, sum(n) FROM landdb.parcel_current_count WHERE province_code = '01' "
                              "GROUP BY 1 ORDER BY 1").fetchall()
        assert counts == conn.execute("SELECT id >> 14, count(*) FROM landdb.parcel_p01 WHERE valid_to IS NULL "
                                      "GROUP BY 1 ORDER BY 1").fetchall()


def last_change(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM meta.tile_change").fetchone()[0]


def test_first_load_products_from_the_batches_are_those_of_the_rows(tmp_path, fresh_db):
    n = 48 * 48  # over 2 000 rows: boxes per 0.01° cell
    src = write(tmp_path / "gaps.gpkg", gapped(48), fields(n))
    before = last_change(fresh_db)
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db, batch_size=500))
    assert result.counts["inserted"] == n
    assert "tile summaries from the batches" in result.timings
    assert "id-block counts from the ids" in result.timings  # not recounted from the rows
    assert_products_of_the_rows(fresh_db, before)


def test_first_load_with_rows_taken_out_scans_the_table(tmp_path, fresh_db):
    n = 48 * 48
    numbers = list(range(1, n + 1))
    numbers[100] = numbers[99]  # a duplicate parcel number: rejected by the set-based check after the COPY
    src = write(tmp_path / "dup.gpkg", gapped(48), fields(n, numbers))
    before = last_change(fresh_db)
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    assert result.counts["inserted"] == n - 2 and result.counts["rejected"] == 2
    assert "tile summaries by a scan" in result.timings
    assert "id-block counts from the ids" not in result.timings  # ids with a hole: recounted
    assert_products_of_the_rows(fresh_db, before)


def test_small_first_load_records_a_box_per_parcel(tmp_path, fresh_db):
    n = 15 * 15
    src = write(tmp_path / "small.gpkg", gapped(15, seed=3), fields(n))
    before = last_change(fresh_db)
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    assert "tile summaries from the batches" in result.timings
    assert_products_of_the_rows(fresh_db, before)
    with psycopg.connect(fresh_db) as conn:  # the event trigger did not record the partition a second time
        assert conn.execute("SELECT count(*) FROM meta.tile_change WHERE id > %s AND layer = 'landdb.parcel'",
                            (before,)).fetchone()[0] == n


def test_first_load_whose_ids_another_writer_interleaved_is_recounted(tmp_path, fresh_db, monkeypatch):
    n = 30 * 30
    src = write(tmp_path / "race.gpkg", gapped(30, seed=5), fields(n))
    real_write = bulk.FreshPartition.write

    def write_then_take_an_id(self, data, rows):  # another session takes an id between two batches
        real_write(self, data, rows)
        with psycopg.connect(fresh_db, autocommit=True) as other:
            other.execute("SELECT nextval(pg_get_serial_sequence('landdb.parcel', 'id'))")

    monkeypatch.setattr(bulk.FreshPartition, "write", write_then_take_an_id)
    before = last_change(fresh_db)
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db, batch_size=200))
    assert result.counts["inserted"] == n
    assert "id-block counts from the ids" not in result.timings
    assert_products_of_the_rows(fresh_db, before)
