"""``landgeo validate``: summary table, findings in the database and in files QGIS opens, one-line errors."""

from __future__ import annotations

import json

import psycopg
import pyogrio
import pytest
from test_validation_exactness import COMMUNE, build_plan, store, store_geobase


@pytest.fixture
def planted_db(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        store(conn, build_plan())
        store_geobase(conn)
        conn.commit()
    return fresh_db


def _db_findings(url: str, run_id: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT check_code, severity, feature_id FROM meta.validation_finding WHERE run_id = %s "
                            "ORDER BY id", (run_id,)).fetchall()


def _run_id(stdout: str) -> int:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("run "))
    return int(line.split()[1].rstrip(":"))


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".csv"])
def test_validate_commune_writes_summary_db_and_file(planted_db, run_cli, tmp_path, suffix):
    out = tmp_path / f"findings{suffix}"
    res = run_cli("validate", "parcels", "--commune", COMMUNE, "--output", str(out), db_url=planted_db)
    assert res.returncode == 0, res.stderr
    assert "topo.overlap" in res.stdout and "topo.gap" in res.stdout and "attr.area_mismatch" in res.stdout
    run_id = _run_id(res.stdout)
    rows = _db_findings(planted_db, run_id)
    # commune 00004 only: the parcel of the retired commune 00009 is outside the scope
    codes = sorted(r[0] for r in rows)
    expected = sorted(code for code, key in build_plan().expected if COMMUNE in key)
    assert codes == expected
    assert f"wrote {len(rows)} findings to {out}" in res.stdout
    meta, _fids, geometry, fields = pyogrio.raw.read(str(out))
    names = list(meta["fields"])
    got = sorted(fields[names.index("check_code")])
    assert got == codes
    if suffix != ".csv":
        assert meta["crs"] in ("EPSG:4326", "OGC:CRS84")
    assert sum(g is not None for g in geometry) == len(rows)  # every parcel finding is on the map
    details = json.loads(fields[names.index("details")][0])
    assert isinstance(details, dict)


def test_validate_all_targets_and_summary_counts(planted_db, run_cli):
    res = run_cli("validate", db_url=planted_db)
    assert res.returncode == 0, res.stderr
    run_id = _run_id(res.stdout)
    with psycopg.connect(planted_db) as conn:
        counts = conn.execute("SELECT counts FROM meta.validation_run WHERE id = %s", (run_id,)).fetchone()[0]
    assert {"parcels", "roads", "hydro-lines", "boundaries", "admin-units"} <= set(counts["targets"])
    for code, by_severity in counts["by_check"].items():
        for severity, n in by_severity.items():
            assert any(code in ln and severity in ln and f" {n} " in ln for ln in res.stdout.splitlines()), code
    assert "net.dangle" in res.stdout and "topo.admin_overlap" in res.stdout


def test_validate_batch_scope(planted_db, run_cli):
    with psycopg.connect(planted_db) as conn:
        batch = conn.execute("INSERT INTO meta.load_batch (target, source_path, source_sha256, mode, status, "
                             "started_at) VALUES ('roads', 'roads.gpkg', repeat('a', 64), 'append', 'committed', "
                             "now()) RETURNING id").fetchone()[0]
        conn.execute("UPDATE geobase.road SET batch_id = %s", (batch,))
        conn.commit()
    res = run_cli("validate", "--batch", str(batch), db_url=planted_db)
    assert res.returncode == 0, res.stderr
    rows = _db_findings(planted_db, _run_id(res.stdout))
    assert [r[0] for r in rows] == ["net.dangle"]
    with psycopg.connect(planted_db) as conn:
        assert conn.execute("SELECT DISTINCT batch_id FROM meta.validation_finding WHERE run_id = %s",
                            (_run_id(res.stdout),)).fetchall() == [(batch,)]


@pytest.mark.parametrize("args, message", [
    (("validate", "--province", "1"), "province code must be 2 digits"),
    (("validate", "--commune", "ABCDE"), "commune code must be 5 digits"),
    (("validate", "--province", "01", "--commune", "00004"), "at most one of"),
    (("validate", "nowhere"), "unknown target 'nowhere'"),
    (("validate", "--batch", "987654"), "no load batch 987654"),
    (("validate", "parcels", "--output", "findings.shp"), "unsupported format .shp"),
    (("validate", "parcels", "--output", "/no/such/dir/f.gpkg"), "does not exist"),
])
def test_bad_arguments_give_one_line_error(fresh_db, run_cli, args, message):
    res = run_cli(*args, db_url=fresh_db)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert "Traceback" not in res.stderr
