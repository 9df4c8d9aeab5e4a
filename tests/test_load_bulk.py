"""A province's first load builds its partition as a new table and swaps it in (loaders/write/bulk.py); the loader
derives the WGS 84 copy and the computed area itself (migration 0041). Both must give exactly what the
incremental path and the database's own derivation give."""

from __future__ import annotations

import numpy as np
import psycopg
import pyogrio
import pytest
import shapely
from vectorfiles import X0, Y0, cadastral_fields, grid, write

from landgeo.errors import UserError
from loaders.pipeline import LoadOptions, load


def fields(n: int, **kw) -> dict:
    return cadastral_fields(n, address="Thôn Đông", **kw)  # with a Vietnamese address: text goes through NFC


def partition_shape(conn, name: str = "parcel_p01") -> dict:
    """What makes a partition a partition: its indexes, constraints, triggers, grants and bound."""
    oid = conn.execute("SELECT %s::regclass::oid", (f"landdb.{name}",)).fetchone()[0]
    return {
        "indexes": conn.execute("SELECT relname, regexp_replace(pg_get_indexdef(indexrelid), ' ON \\S+', ' ON') "
                                "FROM pg_index JOIN pg_class c ON c.oid = indexrelid WHERE indrelid = %s "
                                "ORDER BY 1", (oid,)).fetchall(),
        "attached_indexes": conn.execute("SELECT count(*) FROM pg_inherits i JOIN pg_index x ON x.indexrelid = "
                                         "i.inhrelid WHERE x.indrelid = %s", (oid,)).fetchone()[0],
        "constraints": conn.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE "
                                    "conrelid = %s ORDER BY 1", (oid,)).fetchall(),
        "triggers": conn.execute("SELECT regexp_replace(tgname, '_c_[0-9]+$', ''), tgfoid::regproc FROM pg_trigger "
                                 "WHERE tgrelid = %s ORDER BY 1, 2", (oid,)).fetchall(),
        "grants": conn.execute("SELECT grantee, privilege_type FROM information_schema.role_table_grants "
                               "WHERE table_schema = 'landdb' AND table_name = %s ORDER BY 1, 2", (name,)).fetchall(),
        "bound": conn.execute("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = %s",
                              (oid,)).fetchone()[0],
        "columns": conn.execute("SELECT attname, atttypid, attnotnull, pg_get_expr(d.adbin, d.adrelid) FROM "
                                "pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = "
                                "a.attnum WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                                (oid,)).fetchall(),
    }


def test_first_load_swaps_in_a_partition_identical_to_the_empty_one(tmp_path, fresh_db):
    with psycopg.connect(fresh_db) as conn:
        before = partition_shape(conn)
    src = write(tmp_path / "first.gpkg", grid(6), fields(6))
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    assert result.counts["inserted"] == 6
    assert any("first load of province 01" in n for n in result.notes)
    with psycopg.connect(fresh_db) as conn:
        after = partition_shape(conn)
        assert after == before
        # every index belongs to the parent's, but the keys each partition owns (migration 0091: foreign partitions)
        assert before["attached_indexes"] == len(before["indexes"]) - 2
        leftovers = conn.execute("SELECT relname FROM pg_class WHERE relname LIKE 'parcel_p01_load%'").fetchall()
        assert leftovers == []
        rows = conn.execute("SELECT id, parcel_number, batch_id, valid_from = (SELECT started_at FROM "
                            "meta.load_batch WHERE id = batch_id) FROM landdb.parcel ORDER BY id").fetchall()
    assert [r[1] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(r[2] == result.batch_id for r in rows)
    # the next load of the province goes through the parent (identity ids after the first load's)
    src2 = write(tmp_path / "second.gpkg", grid(2, y0=Y0 + 200), fields(2, commune="00002"))
    second = load(src2, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    assert not any("first load" in n for n in second.notes)
    with psycopg.connect(fresh_db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM landdb.parcel ORDER BY id").fetchall()]
        assert len(ids) == 8 and ids[6] > ids[5]
        assert partition_shape(conn) == before
    # the API's role reads the new partition through the parent
    with psycopg.connect(fresh_db) as conn:
        conn.execute("SET ROLE landgeo_reader")
        assert conn.execute("SELECT count(*) FROM landdb.parcel WHERE province_code = '01'").fetchone()[0] == 8


@pytest.mark.parametrize("province", ["01", None])
def test_derived_copies_equal_the_databases_own(province, tmp_path, fresh_db):
    """geom_wgs84 and computed_area written by the loader (bulk with --province, incremental without) are what
    trigger landdb.parcel_derive computes with meta.vn2000_to_wgs84 and ST_Area in the TM-3 plane."""
    with psycopg.connect(fresh_db) as conn:  # commune 00001 -> province 01, for the load without --province
        conn.execute("INSERT INTO landdb.admin_unit (code, name, level, parent_code, valid_from) VALUES "
                     "('00001', 'Xã Một', 'commune', '01', '2025-07-01')")
    rng = np.random.default_rng(7)
    geoms = [shapely.Polygon(np.column_stack([X0 + 37.1 * i + rng.random(7) * 30, Y0 + rng.random(7) * 30]))
             .convex_hull for i in range(40)]
    src = write(tmp_path / "odd.gpkg", geoms, fields(40))
    load(src, LoadOptions(target="parcels", province=province, database_url=fresh_db))
    with psycopg.connect(fresh_db) as conn:
        worst = conn.execute(
            "SELECT max(ST_HausdorffDistance(geom_wgs84, meta.vn2000_to_wgs84(geom))), "
            "max(abs(computed_area - round(ST_Area(ST_Transform(geom, area_srid))::numeric, 2))), count(*) "
            "FROM landdb.parcel").fetchone()
    assert worst[2] == 40
    assert worst[0] < 1e-10  # degrees (≈ 10 µm)
    assert worst[1] <= 0.01


def test_trigger_derives_both_copies_for_other_writers(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        fid, area, same = conn.execute(
            "INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, "
            "source_srid, area_srid, geom) VALUES ('01', '00001', 1, 1, '{ONT}', 5897, 5897, ST_Multi(ST_Transform("
            "ST_MakeEnvelope(%s, %s, %s, %s, 5897), 4756))) "
            "RETURNING id, computed_area, ST_Equals(geom_wgs84, meta.vn2000_to_wgs84(geom))",
            (X0, Y0, X0 + 20, Y0 + 25)).fetchone()
        assert float(area) == 500.0 and same
        # a new geometry, or a stale copy written by hand, is derived again
        area, same = conn.execute(
            "UPDATE landdb.parcel SET geom = ST_Multi(ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 5897), 4756)) "
            "WHERE id = %s RETURNING computed_area, ST_Equals(geom_wgs84, meta.vn2000_to_wgs84(geom))",
            (X0, Y0, X0 + 40, Y0 + 25, fid)).fetchone()
        assert float(area) == 1000.0 and same
        area, same = conn.execute(
            "UPDATE landdb.parcel SET computed_area = 1, geom_wgs84 = ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)) "
            "WHERE id = %s RETURNING computed_area, ST_Equals(geom_wgs84, meta.vn2000_to_wgs84(geom))",
            (fid,)).fetchone()
        assert float(area) == 1000.0 and same


def test_first_load_with_duplicates_rejects_every_copy(tmp_path, fresh_db):
    src = write(tmp_path / "dup.gpkg", grid(5), fields(5, numbers=[1, 2, 2, 3, 2]))
    report = tmp_path / "dup.geojson"
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db, rejects=report))
    assert result.counts["inserted"] == 2 and result.rejects_by_code == {"attr.parcel_number_duplicate": 3}
    _meta, table = pyogrio.read_arrow(report)
    assert sorted(table.column("feature").to_pylist()) == [2, 3, 5]  # 1-based feature numbers of the file
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT array_agg(parcel_number ORDER BY parcel_number) FROM landdb.parcel"
                            ).fetchone()[0] == [1, 3]
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'parcel_p01'").fetchone()[0] >= 6


@pytest.mark.parametrize("province", ["01", None])
def test_all_set_checks_name_the_features_of_the_file(province, tmp_path, fresh_db):
    """The same findings, naming the same features of the file, whether the province's partition is built
    (--province, empty) or the file is merged through staging (province from the admin units)."""
    with psycopg.connect(fresh_db) as conn:
        conn.execute("INSERT INTO landdb.admin_unit (code, name, level, parent_code, valid_from) VALUES "
                     "('00001', 'Xã Một', 'commune', '01', '2025-07-01')")
    geoms = list(grid(4))
    geoms[2] = shapely.box(X0 + 30, Y0, X0 + 60, Y0 + 25)  # overlaps feature 2 by 10 m × 25 m; 750 m², 500 declared
    src = write(tmp_path / "overlap.gpkg", geoms, fields(4))
    result = load(src, LoadOptions(target="parcels", province=province, database_url=fresh_db, set_checks="all"))
    assert result.counts["inserted"] == 4
    assert result.findings_by_code == {"topo.overlap": 1, "attr.area_mismatch": 1}
    with psycopg.connect(fresh_db) as conn:
        found = conn.execute("SELECT check_code, (details->>'source_feature')::int FROM meta.validation_finding "
                             "WHERE batch_id = %s ORDER BY 1", (result.batch_id,)).fetchall()
    assert found[0] == ("attr.area_mismatch", 3)
    assert found[1][0] == "topo.overlap" and found[1][1] in (2, 3)


def test_failed_first_load_leaves_the_empty_partition(tmp_path, fresh_db):
    flds = fields(3)
    flds["DienTich"] = np.array([500.0, 1e15, 500.0])  # overflows numeric(14, 2) in the database
    src = write(tmp_path / "overflow.gpkg", grid(3), flds)
    with psycopg.connect(fresh_db) as conn:
        before = partition_shape(conn)
        oid = conn.execute("SELECT 'landdb.parcel_p01'::regclass::oid").fetchone()[0]
    with pytest.raises(UserError, match="the database refused the load, nothing was written"):
        load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    with psycopg.connect(fresh_db) as conn:
        assert partition_shape(conn) == before
        assert conn.execute("SELECT 'landdb.parcel_p01'::regclass::oid").fetchone()[0] == oid
        assert conn.execute("SELECT count(*) FROM meta.load_batch").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'parcel_p01_load%'").fetchone()[0] == 0


def test_vertices_transform_each_distinct_point_once_with_the_same_result():
    """The loader transforms each distinct vertex of a batch once (loaders.batches.vertices): the coordinates it
    writes are exactly those of transforming every coordinate."""
    from landgeo.db import ewkb
    from loaders.batches import vertices as _vertices
    from loaders.source_crs import source_crs

    plan = source_crs("EPSG:5897", None, None, "test")
    holed = shapely.Polygon([(X0, Y0), (X0 + 5, Y0), (X0, Y0 + 7)],
                            holes=[[(X0 + 1, Y0 + 1), (X0 + 2, Y0 + 1), (X0 + 1, Y0 + 2)]])
    geoms = np.concatenate([grid(300), [holed]])
    parts = ewkb.decompose(geoms, "MultiPolygon")
    canonical, wgs84 = _vertices(plan, parts, True)
    every_canonical, every_wgs84 = plan.vertices(parts.coords, wgs84=True)
    assert len(np.unique(parts.coords, axis=0)) < len(parts.coords) / 2  # shared corners: the point of it
    assert np.array_equal(canonical, every_canonical) and np.array_equal(wgs84, every_wgs84)


def test_vertices_of_parcels_sharing_no_corner_leave_out_only_the_closing_ones():
    """Separate parcels (no shared corner: the sample decides against hashing) transform every vertex but each
    ring's closing one, which takes its first vertex's result — rings of holes and of second parts included."""
    from landgeo.db import ewkb
    from loaders.source_crs import source_crs
    from loaders.vertices import vertices as _vertices

    plan = source_crs("EPSG:5897", None, None, "test")
    boxes = [shapely.box(X0 + 12.0 * i + 0.37, Y0 + 0.11 * i, X0 + 12.0 * i + 10.0, Y0 + 0.11 * i + 17.5)
             for i in range(2000)]
    holed = shapely.Polygon([(X0, Y0 - 50), (X0 + 30, Y0 - 50), (X0 + 30, Y0 - 20), (X0, Y0 - 50)],
                            holes=[[(X0 + 20, Y0 - 45), (X0 + 25, Y0 - 45), (X0 + 25, Y0 - 40), (X0 + 20, Y0 - 45)]])
    two = shapely.MultiPolygon([shapely.box(X0 - 40, Y0, X0 - 30, Y0 + 9), shapely.box(X0 - 25, Y0, X0 - 21, Y0 + 3)])
    geoms = np.array([*boxes[:700], holed, *boxes[700:], two], dtype=object)
    parts = ewkb.decompose(geoms, "MultiPolygon")
    assert len(np.unique(parts.coords, axis=0)) > 0.75 * len(parts.coords)  # nothing shared but closing vertices
    canonical, wgs84 = _vertices(plan, parts, True)
    every_canonical, every_wgs84 = plan.vertices(parts.coords, wgs84=True)
    assert np.array_equal(canonical, every_canonical) and np.array_equal(wgs84, every_wgs84)
    canonical_only, none = _vertices(plan, parts, False)
    assert none is None and np.array_equal(canonical_only, every_canonical)


def test_python_values_equal_arrows_own_conversion():
    import pyarrow as pa

    from loaders.batches import python_values as _python_values

    lists = pa.array([["ONT", "CLN"], None, [], [""], ["LUC"], ["ONT", "CLN"], [None, "X"], ["A\x1fB"]],
                     pa.list_(pa.string()))
    texts = pa.array(["Thôn Đông", None, "", "Thôn Đông", "x"])
    for arr in (lists, lists.slice(0, 6), texts, pa.array([], pa.string()), pa.array([None, None], pa.string())):
        assert list(_python_values(arr)) == arr.to_pylist()
    values = _python_values(texts)
    assert values[0] is values[3]  # one Python object per distinct value
    assert np.isnan(_python_values(pa.array([1.5, None]))[1])


def test_first_load_of_a_dated_file_keeps_its_dates(tmp_path, fresh_db):
    flds = fields(3)
    flds["ThoiDiemBatDau"] = np.array(["2019-05-02", None, "2021-01-15"], dtype=object)  # Vietnam time
    src = write(tmp_path / "dated.gpkg", grid(3), flds)
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    assert any("first load of province 01" in n for n in result.notes)
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute(
            "SELECT (p.valid_from AT TIME ZONE 'Asia/Ho_Chi_Minh')::date::text, "
            "p.valid_from BETWEEN b.started_at AND b.finished_at, "
            "p.valid_to, p.source_srid, p.province_code FROM landdb.parcel p "
            "JOIN meta.load_batch b ON b.id = p.batch_id ORDER BY p.parcel_number").fetchall()
    assert [rows[0][0], rows[2][0]] == ["2019-05-02", "2021-01-15"]
    assert rows[1][1], "an undated parcel of a dated file starts with the load"
    assert all(r[2] is None for r in rows)
    assert {(r[3], r[4]) for r in rows} == {(5897, "01")}


def test_swap_behind_a_long_transaction_gives_up_cleanly(tmp_path, fresh_db, monkeypatch):
    """The swap needs landdb.parcel to itself for a moment; behind a transaction that keeps reading it, the load
    waits a bounded time, then fails with one line and changes nothing."""
    from loaders.write import bulk

    monkeypatch.setattr(bulk, "SWAP_LOCK_TIMEOUT", 0.5)
    src = write(tmp_path / "blocked.gpkg", grid(3), fields(3))
    with psycopg.connect(fresh_db) as reader:
        reader.execute("SELECT count(*) FROM landdb.parcel").fetchone()  # holds its lock until the transaction ends
        with pytest.raises(UserError, match="stayed busy for 0.5 s"):
            load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
        reader.rollback()
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM meta.load_batch").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'parcel_p01_load%'").fetchone()[0] == 0
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    assert result.counts["inserted"] == 3


def test_first_load_indexes_the_committed_table_on_two_sessions_unreadable_until_the_swap(tmp_path, fresh_db,
                                                                                          monkeypatch):
    """The new table is committed before its indexes are built (two sessions build them at once): nobody may
    read it then, and the swap gives it the partition's grants."""
    from loaders.write import bulk

    seen = {}
    real_publish = bulk.FreshPartition.publish

    def publish_then_look(self):
        real_publish(self)
        with psycopg.connect(fresh_db) as other:  # another session sees the committed, unattached table
            seen["visible"] = other.execute("SELECT to_regclass(%s) IS NOT NULL",
                                            (f"landdb.{self.name}",)).fetchone()[0]
            seen["reader"] = other.execute("SELECT has_table_privilege('landgeo_reader', %s, 'SELECT')",
                                           (f"landdb.{self.name}",)).fetchone()[0]

    monkeypatch.setattr(bulk.FreshPartition, "publish", publish_then_look)
    src = write(tmp_path / "two.gpkg", grid(6), fields(6))
    with psycopg.connect(fresh_db) as conn:
        before = partition_shape(conn)
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    assert seen == {"visible": True, "reader": False}
    assert result.counts["inserted"] == 6
    with psycopg.connect(fresh_db) as conn:
        assert partition_shape(conn) == before


def test_a_table_left_by_a_killed_first_load_is_dropped_by_the_next(tmp_path, fresh_db):
    with psycopg.connect(fresh_db) as conn:  # what a load killed between committing its table and the swap leaves
        conn.execute("CREATE TABLE landdb.parcel_p01_load999 (LIKE landdb.parcel)")
        conn.execute("CREATE TABLE landdb.parcel_p02_load999 (LIKE landdb.parcel)")  # another province's: kept
    src = write(tmp_path / "after.gpkg", grid(4), fields(4))
    result = load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    assert result.counts["inserted"] == 4
    with psycopg.connect(fresh_db) as conn:
        left = conn.execute("SELECT relname FROM pg_class WHERE relname LIKE 'parcel_p0%%_load%%'").fetchall()
    assert left == [("parcel_p02_load999",)]


def test_first_load_writes_its_rows_frozen_and_all_visible(tmp_path, fresh_db):
    """The builder COPies with FREEZE into the table it created: rows are written once, already visible to all —
    an index-only scan reads no heap page right after the load, and no later scan rewrites the pages to set hint
    bits or freeze them."""
    src = write(tmp_path / "frozen.gpkg", grid(400), fields(400))
    load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db))
    with psycopg.connect(fresh_db) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM landdb.parcel_p01 WHERE id > 0"
                            ).fetchone()[0][0]["Plan"]
        scans = [p for p in _plan_nodes(plan) if p["Node Type"] == "Index Only Scan"]
        assert scans and scans[0]["Actual Rows"] == 400
        assert scans[0]["Heap Fetches"] == 0


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)
