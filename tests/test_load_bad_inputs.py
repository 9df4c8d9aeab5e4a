"""Bad inputs: each gives a clear one-line message, and a refused load leaves the database exactly as it was.

Files are generated here (pyogrio/shapely/raw bytes). Most cases call the loader in-process against one
module database and compare a snapshot of it before and after; the CLI itself is exercised for the one-line
``error:`` output, for Ctrl-C and for a killed process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pyogrio
import pytest
import shapely
import shapely.affinity
from vectorfiles import X0, Y0, cadastral_fields, grid, write

from landgeo.db.scratch import create_database, drop_database
from landgeo.errors import UserError
from loaders.pipeline import LoadOptions, load

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def module_db(server_url, template_db):
    name = f"landgeo_test_load_bad_{uuid.uuid4().hex[:8]}"
    yield create_database(server_url, name, template=template_db)
    drop_database(server_url, name)


def snapshot(url: str) -> dict:
    with psycopg.connect(url) as conn:
        return {
            "parcels": conn.execute("SELECT count(*), coalesce(sum(id), 0) FROM landdb.parcel").fetchone(),
            "batches": conn.execute("SELECT count(*) FROM meta.load_batch").fetchone()[0],
            "history": conn.execute("SELECT count(*) FROM landdb.parcel_history").fetchone()[0],
            "findings": conn.execute("SELECT count(*) FROM meta.validation_finding").fetchone()[0],
            "staging": conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'").fetchone()[0],
        }


def refused(src, url: str, match: str, **options) -> str:
    """Load must fail with a one-line UserError containing ``match``, leaving the database unchanged."""
    before = snapshot(url)
    with pytest.raises(UserError) as info:
        load(src, LoadOptions(target=options.pop("target", "parcels"), province=options.pop("province", "01"),
                              database_url=url, **options))
    message = str(info.value)
    assert match in message, message
    assert "\n" not in message
    assert snapshot(url) == before
    return message


def loaded(src, url: str, **options):
    return load(src, LoadOptions(target=options.pop("target", "parcels"), province="01", database_url=url,
                                 **options))


def test_truncated_shp(tmp_path, module_db):
    shp = write(tmp_path / "t.shp", grid(5), cadastral_fields(5))
    data = shp.read_bytes()
    shp.write_bytes(data[:-40])
    refused(shp, module_db, "t.shp is truncated")


def test_truncated_dbf(tmp_path, module_db):
    shp = write(tmp_path / "t.shp", grid(5), cadastral_fields(5))
    dbf = shp.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes()[:-30])
    refused(shp, module_db, "t.dbf is truncated")


@pytest.mark.parametrize("part", [".dbf", ".shx"])
def test_shp_without_part(part, tmp_path, module_db):
    shp = write(tmp_path / "p.shp", grid(2), cadastral_fields(2))
    shp.with_suffix(part).unlink()
    msg = refused(shp, module_db, f"the {part}")
    assert "missing" in msg


def test_empty_layer(tmp_path, module_db):
    src = tmp_path / "empty.geojson"
    src.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    refused(src, module_db, "has no features")


def test_not_a_gis_file(tmp_path, module_db, run_cli):
    pdf = tmp_path / "bien_ban.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
    refused(pdf, module_db, "is not a GIS file")
    fake = tmp_path / "thua.shp"
    fake.write_bytes(b"hello, this is not a shapefile" * 10)
    write(tmp_path / "ok.shp", grid(1), cadastral_fields(1))
    for ext in (".shx", ".dbf"):
        (tmp_path / f"thua{ext}").write_bytes((tmp_path / f"ok{ext}").read_bytes())
    refused(fake, module_db, "not a Shapefile .shp")
    res = run_cli("load", str(pdf), "--into", "parcels", db_url=module_db)
    assert res.returncode == 2
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_mixed_geometry_types(tmp_path, module_db):
    geoms = list(grid(3)) + [shapely.Point(X0, Y0 + 100), shapely.LineString([(X0, Y0 + 200), (X0 + 9, Y0 + 209)])]
    src = write(tmp_path / "mixed.gpkg", geoms, cadastral_fields(5), geometry_type="Unknown")
    report = tmp_path / "rejects.gpkg"
    result = loaded(src, module_db, rejects=report)
    assert result.counts["inserted"] == 3 and result.rejects_by_code == {"geom.wrong_type": 2}
    meta, table = pyogrio.read_arrow(report)
    assert table.column("feature").to_pylist() == [4, 5]
    assert "Point" in table.column("reason")[0].as_py()


def test_self_intersecting_polygon_reject_or_repair(tmp_path, module_db):
    bowtie = shapely.Polygon([(X0, Y0 + 500), (X0 + 20, Y0 + 525), (X0 + 20, Y0 + 500), (X0, Y0 + 525)])
    geoms = [*grid(2, y0=Y0 + 400), bowtie]
    src = write(tmp_path / "bowtie.gpkg", geoms, {**cadastral_fields(3), "MaXa": np.array(["00007"] * 3, dtype=object)})
    result = loaded(src, module_db, on_invalid="reject")
    assert result.counts["inserted"] == 2 and result.rejects_by_code == {"geom.invalid": 1}
    src2 = write(tmp_path / "bowtie2.gpkg", [*grid(2, y0=Y0 + 600), shapely.affinity.translate(bowtie, 0, 200)],
                 {**cadastral_fields(3), "MaXa": np.array(["00002"] * 3, dtype=object)})
    result = loaded(src2, module_db, on_invalid="repair")
    assert result.counts["inserted"] == 3 and result.counts["repaired"] == 1 and not result.rejects_by_code
    with psycopg.connect(module_db) as conn:
        valid, kind, area = conn.execute(
            "SELECT ST_IsValid(geom), GeometryType(geom), computed_area FROM landdb.parcel "
            "WHERE commune_code = '00002' AND parcel_number = 3").fetchone()
    assert valid and kind == "MULTIPOLYGON" and 240 < float(area) < 260  # two triangles of 125 m²


def test_nan_and_inf_coordinates(tmp_path, module_db):
    nan = shapely.polygons([[X0, Y0 + 900], [X0 + 20, np.nan], [X0 + 20, Y0 + 925], [X0, Y0 + 900]])
    inf = shapely.polygons([[X0, Y0 + 950], [np.inf, Y0 + 950], [X0 + 20, Y0 + 975], [X0, Y0 + 950]])
    src = write(tmp_path / "nan.gpkg", [*grid(1, y0=Y0 + 800), nan, inf],
                {**cadastral_fields(3), "MaXa": np.array(["00003"] * 3, dtype=object)})
    result = loaded(src, module_db, rejects=tmp_path / "r.gpkg")
    assert result.counts["inserted"] == 1 and result.rejects_by_code == {"geom.nonfinite": 2}


def test_wrong_crs_units_and_meridian(tmp_path, module_db):
    src = write(tmp_path / "deg.gpkg", grid(3), cadastral_fields(3), crs="EPSG:4756")  # metres declared as degrees
    msg = refused(src, module_db, "coordinates do not fit EPSG:4756")
    assert "--force-crs" in msg
    src = write(tmp_path / "cb.gpkg", grid(3), cadastral_fields(3), crs="EPSG:9210")  # Cao Bằng's meridian, Hà Nội data
    refused(src, module_db, "try --crs EPSG:5897")


def test_wrong_text_encoding(tmp_path, module_db):
    tcvn3 = b"Th\xabn \xa7\xabng".decode("latin1")  # "Thôn Đông" in TCVN3
    flds = {**cadastral_fields(2), "DiaChi": np.array([tcvn3, tcvn3], dtype=object)}
    shp = write(tmp_path / "enc.shp", grid(2), flds, encoding="latin1")
    shp.with_suffix(".cpg").write_text("UTF-8")
    msg = refused(shp, module_db, "not valid UTF-8 (.cpg)")
    assert "tcvn3" in msg
    shp.with_suffix(".cpg").unlink()
    refused(shp, module_db, "not valid UTF-8 (--encoding)", encoding="utf-8")


def test_unknown_land_use_code(tmp_path, module_db):
    src = write(tmp_path / "code.gpkg", grid(3, y0=Y0 + 1200), {**cadastral_fields(3, codes=["ONT", "QQQ", "LUC+ZZZ"]),
                                                                "MaXa": np.array(["00004"] * 3, dtype=object)})
    result = loaded(src, module_db)
    assert result.counts["inserted"] == 1 and result.rejects_by_code == {"attr.land_use_code_unknown": 2}


def test_duplicate_parcel_numbers_in_the_file(tmp_path, module_db):
    src = write(tmp_path / "dup.gpkg", grid(4, y0=Y0 + 1400), {**cadastral_fields(4, numbers=[1, 2, 2, 3]),
                                                               "MaXa": np.array(["00005"] * 4, dtype=object)})
    report = tmp_path / "dup.geojson"
    result = loaded(src, module_db, rejects=report)
    assert result.counts["inserted"] == 2 and result.rejects_by_code == {"attr.parcel_number_duplicate": 2}
    meta, table = pyogrio.read_arrow(report)
    assert sorted(table.column("feature").to_pylist()) == [2, 3]
    assert "5897" in meta["crs"]


def test_all_rejected_is_refused(tmp_path, module_db):
    """The refusal's first line says what; one line per reason follows (tests/test_load_rejected.py)."""
    src = write(tmp_path / "allbad.gpkg", grid(2), cadastral_fields(2, codes=["QQQ", "QQQ"]))
    before = snapshot(module_db)
    with pytest.raises(UserError) as info:
        load(src, LoadOptions(target="parcels", province="01", database_url=module_db))
    first, *reasons = str(info.value).splitlines()
    assert "all 2 features were rejected" in first
    assert reasons == ["  attr.land_use_code_unknown: 2 (e.g. feature 1: " + reasons[0].split("feature 1: ")[1]]
    assert snapshot(module_db) == before


def test_bad_row_found_by_the_database_rolls_back(tmp_path, module_db):
    # 1e15 m² passes the per-feature checks (a non-negative number) but overflows numeric(14, 2) at the merge
    flds = {**cadastral_fields(3), "MaXa": np.array(["00006"] * 3, dtype=object)}
    flds["DienTich"] = np.array([500.0, 1e15, 500.0])
    src = write(tmp_path / "overflow.gpkg", grid(3, y0=Y0 + 1600), flds)
    refused(src, module_db, "the database refused the load, nothing was written")


def _big_file(path: Path, n: int = 120_000) -> Path:
    sys.path.insert(0, str(ROOT))
    from bench.data import write as write_gpkg

    return write_gpkg(path, n)


def _wait_idle(url: str, timeout: float = 20.0) -> None:
    """Wait until no other session is connected to the database (the killed load's backend has gone)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            n = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND pid <> pg_backend_pid()").fetchone()[0]
            if n == 0:
                return
            time.sleep(0.2)
    raise AssertionError("the interrupted load's session is still there")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_load_leaves_the_database_unchanged(sig, tmp_path, module_db):
    src = _big_file(tmp_path / "big.gpkg")
    before = snapshot(module_db)
    proc = subprocess.Popen([sys.executable, "-m", "landgeo", "load", str(src), "--into", "parcels", "--province",
                             "01", "--batch-size", "2000"], cwd=ROOT, env={**os.environ,
                                                                           "LANDGEO_DATABASE_URL": module_db},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = 0
    for line in proc.stdout:
        if line.startswith("read "):
            seen += 1
            if seen == 3:  # mid-way: staging table created, rows copied, nothing merged yet
                proc.send_signal(sig)
                break
    out, err = proc.communicate(timeout=60)
    assert seen == 3
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    else:
        assert proc.returncode == -signal.SIGKILL
    _wait_idle(module_db)
    assert snapshot(module_db) == before


def test_modes_that_cannot_apply_are_refused(tmp_path, module_db):
    lines = [shapely.LineString([(X0, Y0 + 3000 + i * 30), (X0 + 100, Y0 + 3000 + i * 30)]) for i in range(2)]
    src = write(tmp_path / "roads.gpkg", lines, {"ma_dt": np.array(["GT01", "GT02"], dtype=object)},
                geometry_type="LineString")
    refused(src, module_db, "have no province_code", target="roads", mode="replace", province=None)
    refused(src, module_db, "needs a natural key", target="roads", mode="upsert")
    refused(src, module_db, "--mode 'merge'", target="roads", mode="merge")
