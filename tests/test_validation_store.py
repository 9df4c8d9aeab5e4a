"""meta.validation_finding has ONE writer (landgeo.validation.store): `landgeo validate` and the set-based checks
of a load record findings the same way — details as JSON with Vietnamese text kept and numpy values made plain, an
absent or empty geometry stored as NULL, a VN-2000 geometry stored in WGS 84 by the official operation."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import shapely

from landgeo.validation.check_codes import CHECKS
from landgeo.validation.store import record_load_findings, write_findings

ROOT = Path(__file__).resolve().parent.parent


def _finding(code: str, geometry, **details):
    f = CHECKS[code].finding(details, geometry=geometry)
    f.target = "parcels"
    return f


def test_one_writer_records_json_and_geometries_the_same_way(db):
    run_id = db.execute("INSERT INTO meta.validation_run (target) VALUES ('parcels') RETURNING id").fetchone()[0]
    point = shapely.Point(105.70, 21.03)  # VN-2000 geographic
    findings = [
        _finding("attr.domain", shapely.Polygon(), field="address", value="Thôn Đông", rule_en="x", rule_vi="ý",
                 count=np.int64(3), ratio=np.float32(0.5), codes=("ONT", "CLN")),
        _finding("attr.domain", None, field="sheet_number", value=None, rule_en="x", rule_vi="y"),
        _finding("attr.domain", point, field="parcel_number", value=7, rule_en="x", rule_vi="y"),
    ]
    assert write_findings(db, run_id, findings) == 3
    rows = db.execute("SELECT details, geom IS NULL, ST_SRID(geom), ST_X(geom), ST_Y(geom) FROM "
                      "meta.validation_finding WHERE run_id = %s ORDER BY id", (run_id,)).fetchall()
    details, empty_is_null = rows[0][0], rows[0][1]
    assert empty_is_null, "an EMPTY geometry is stored as NULL, not as an empty geometry"
    assert details["value"] == "Thôn Đông" and details["count"] == 3 and details["ratio"] == 0.5
    assert details["codes"] == ["ONT", "CLN"]
    assert rows[1][1]
    _, _, srid, lon, lat = rows[2]
    assert srid == 4326
    official = db.execute("SELECT ST_X(g), ST_Y(g) FROM meta.vn2000_to_wgs84(ST_SetSRID(ST_MakePoint(105.70, 21.03),"
                          " 4756)) g").fetchone()
    assert (lon, lat) == official and (lon, lat) != (105.70, 21.03)


def test_load_findings_are_a_run_of_their_batch(db):
    batch = db.execute("INSERT INTO meta.load_batch (target, source_path, source_sha256, source_format, crs_in, "
                       "crs_out, mode, status, started_at) VALUES ('parcels', '/x.gpkg', repeat('a', 64), 'GPKG', "
                       "'EPSG:5897', 'EPSG:4756', 'append', 'committed', now()) RETURNING id").fetchone()[0]
    f = CHECKS["attr.domain"].finding({"field": "address", "value": "x", "rule_en": "x", "rule_vi": "y"})
    run_id = record_load_findings(db, "parcels", batch, [f])
    scope, counts = db.execute("SELECT scope, counts FROM meta.validation_run WHERE id = %s", (run_id,)).fetchone()
    assert scope == {"batch_id": batch, "stage": "load"} and counts == {"attr.domain": 1}
    assert db.execute("SELECT target, batch_id FROM meta.validation_finding WHERE run_id = %s", (run_id,)
                      ).fetchall() == [("parcels", batch)]
    assert record_load_findings(db, "parcels", batch, []) is None


def test_no_other_module_writes_findings():
    writers = []
    for path in [*ROOT.glob("landgeo/**/*.py"), *ROOT.glob("loaders/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and "INSERT INTO meta.validation_finding" in " ".join(node.value.split()):
                writers.append(path.relative_to(ROOT).as_posix())
    assert writers == ["landgeo/validation/store.py"]
