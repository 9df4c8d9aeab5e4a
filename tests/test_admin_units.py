"""Official administrative units (both generations), the 2025 crosswalk, and what uses them: the loader's province
from a commune code, `landgeo admin convert`, and the published collections (real database, real `landgeo serve`)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest
import requests
import shapely
from apiserver import serve
from vectorfiles import X0, Y0, grid, write

import landgeo.cli as cli
from landdb.official_units import render_sql
from landgeo.db.scratch import create_database, drop_database
from loaders.pipeline import LoadOptions, load

ROOT = Path(__file__).resolve().parent.parent
MIGRATION = ROOT / "schemas" / "migrations" / "0050_official_admin_units.sql"


def test_migration_is_what_the_package_gives():
    """The seeded lists are the installed vietnam-provinces' (regenerate with python -m landdb.official_units)."""
    assert MIGRATION.read_text(encoding="utf-8") == render_sql()


def test_both_generations_are_seeded_with_parents(db):
    counts = dict(((lvl, str(since)), n) for lvl, since, n in db.execute(
        "SELECT level, valid_from, count(*) FROM landdb.admin_unit GROUP BY 1, 2"))
    assert counts[("province", "2025-07-01")] == 34 and counts[("commune", "2025-07-01")] == 3321
    assert counts[("province", "2025-01-01")] == 63 and counts[("commune", "2025-01-01")] > 10_000
    assert 690 <= counts[("district", "2025-01-01")] <= 720 and ("district", "2025-07-01") not in counts
    orphans = db.execute("""
        SELECT c.level, c.code FROM landdb.admin_unit c WHERE c.parent_code IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM landdb.admin_unit p WHERE p.code = c.parent_code AND p.valid_from = c.valid_from
            AND p.level = CASE WHEN c.level = 'district' OR c.valid_to IS NULL THEN 'province' ELSE 'district' END)
        LIMIT 5""").fetchall()
    assert orphans == []
    assert db.execute("SELECT name, valid_to FROM landdb.admin_unit WHERE level = 'province' AND code = '02'"
                      ).fetchone() == ("Tỉnh Hà Giang", __import__("datetime").date(2025, 6, 30))


def test_crosswalk_pairs_and_partly_merged(db):
    rows = db.execute("SELECT old_name, new_code, new_name, partly_merged FROM landdb.admin_crosswalk_2025 "
                      "WHERE old_code = '00016' ORDER BY new_code").fetchall()
    assert rows == [("Phường Ngọc Hà", "00004", "Phường Ba Đình", True),
                    ("Phường Ngọc Hà", "00008", "Phường Ngọc Hà", True)]
    assert db.execute("SELECT new_code FROM landdb.admin_crosswalk_2025 WHERE old_code = '26734'"
                      ).fetchall() == [("26737",)]
    current = dict(db.execute("SELECT code, current_code FROM landdb.commune_current "
                              "WHERE code IN ('26734', '00016', '00004', '09895')"))
    assert current == {"26734": "26737", "00016": None, "00004": "00004", "09895": "09895"}


# ---------------------------------------------------------------- the loader

def _mixed_parcels(tmp_path: Path, communes: list[str]) -> Path:
    n = len(communes)
    fields = {"MaXa": np.array(communes, dtype=object), "SoTo": np.full(n, 3, dtype=np.int32),
              "SoThua": np.arange(1, n + 1, dtype=np.int32), "MucDich": np.array(["ONT"] * n, dtype=object),
              "DienTich": np.full(n, 500.0)}
    return write(tmp_path / f"mixed_{uuid.uuid4().hex[:6]}.gpkg", grid(n), fields)


def test_province_from_either_generation_and_unknown_code_named(tmp_path, fresh_db):
    """New code 00004 (Hà Nội), old code 26734 (Q.1, TP.HCM), old code 00016 split in 2025 (Hà Nội), old code
    01651 that the crosswalk lacks (Cao Bằng, through its old district and province): provinces from the official
    lists without --province; 99999 is no commune: rejected, the reason names it."""
    src = _mixed_parcels(tmp_path, ["00004", "26734", "00016", "01651", "99999"])
    rejects = tmp_path / "rejects.geojson"
    result = load(src, LoadOptions(target="parcels", database_url=fresh_db, rejects=rejects))
    assert result.counts["inserted"] == 4 and result.counts["rejected"] == 1
    with psycopg.connect(fresh_db) as conn:
        got = dict(conn.execute("SELECT commune_code, province_code FROM landdb.parcel"))
    assert got == {"00004": "01", "26734": "79", "00016": "01", "01651": "04"}
    reasons = [f["properties"]["reason"] for f in json.loads(rejects.read_text())["features"]]
    assert len(reasons) == 1 and "99999" in reasons[0]


def test_commune_codes_checked_against_the_official_lists(tmp_path, fresh_db):
    """With --province the codes decide nothing, but the set checks judge them: an old official code on a 2015
    parcel and a current one on a parcel of 2025-08 pass; 99999, and an old code on a parcel of 2025-08, are named."""
    communes = ["09892", "00004", "99999", "09892"]
    starts = ["2015-05-15", "2025-08-15", "2015-05-15", "2025-08-15"]
    fields = {"MaXa": np.array(communes, dtype=object), "SoTo": np.arange(1, 5, dtype=np.int32),
              "SoThua": np.full(4, 1, dtype=np.int32), "MucDich": np.array(["ONT"] * 4, dtype=object),
              "DienTich": np.full(4, 500.0), "ThoiDiemBatDau": np.array(starts, dtype=object)}
    src = write(tmp_path / "codes.gpkg", grid(4), fields)
    load(src, LoadOptions(target="parcels", province="01", database_url=fresh_db, set_checks="all"))
    with psycopg.connect(fresh_db) as conn:
        named = conn.execute(
            "SELECT f.details->>'commune_code', f.details->>'date' FROM meta.validation_finding f "
            "WHERE f.check_code = 'attr.commune_not_valid_at_time' ORDER BY 1").fetchall()
    assert [(code, day[:7]) for code, day in named] == [("09892", "2025-08"), ("99999", "2015-05")]


def test_seeded_unit_receives_its_boundary(tmp_path, fresh_db):
    """Loading a boundary of an official unit (upsert) gives the seeded row its geometry; no second version."""
    ring = shapely.box(X0, Y0, X0 + 500, Y0 + 400)
    fields = {"ma": np.array(["00004"], dtype=object), "ten": np.array(["Phường Ba Đình"], dtype=object),
              "cap": np.array(["commune"], dtype=object), "macaptren": np.array(["01"], dtype=object),
              "valid_from": np.array(["2025-07-01"], dtype=object)}
    src = write(tmp_path / "ranh_gioi.gpkg", [shapely.MultiPolygon([ring])], fields, geometry_type="MultiPolygon")
    result = load(src, LoadOptions(target="admin-units", mode="upsert", database_url=fresh_db))
    assert result.counts["updated"] == 1 and result.counts["inserted"] == 0
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("SELECT valid_to, geom IS NOT NULL, batch_id FROM landdb.admin_unit "
                            "WHERE level = 'commune' AND code = '00004' AND valid_from = '2025-07-01'").fetchall()
    assert rows == [(None, True, result.batch_id)]


# ---------------------------------------------------------------- landgeo admin convert

@pytest.mark.parametrize("args, lines", [
    (["26734"], ["26737 Phường Tân Định"]),  # old Phường Tân Định (Quận 1) went whole into the new one
    (["16"], ["00004 Phường Ba Đình (partly merged)", "00008 Phường Ngọc Hà (partly merged)"]),
    (["--reverse", "26740"], ["26737 Phường Đa Kao (partly merged)", "26740 Phường Bến Nghé",
                              "26746 Phường Nguyễn Thái Bình (partly merged)"]),  # new Phường Sài Gòn
])
def test_admin_convert(args, lines, shared_db, monkeypatch, capsys):
    """In-process through the `landgeo` entry point (the real command runs in the next test)."""
    monkeypatch.setenv("LANDGEO_DATABASE_URL", shared_db)
    cli.main(["admin", "convert", *args])
    out, err = capsys.readouterr()
    assert out.splitlines() == lines and err == ""


def test_admin_convert_reused_code_and_bad_codes(run_cli, shared_db):
    both = run_cli("admin", "convert", "09895", db_url=shared_db)
    assert both.stdout.splitlines() == ["09895 Xã Quốc Oai (partly merged)", "10003 Xã Tây Phương (partly merged)"]
    assert "Thị trấn Quốc Oai" in both.stderr and "--reverse" in both.stderr
    back = run_cli("admin", "convert", "--reverse", "09895", db_url=shared_db).stdout.splitlines()
    assert back[0] == "09895 Thị trấn Quốc Oai (partly merged)" and "09898 Xã Sài Sơn" in back
    unknown = run_cli("admin", "convert", "99999", db_url=shared_db)
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.splitlines() == ["error: 99999 is not an official commune code of either generation "
                                           "(before or after 2025-07-01)"]


@pytest.mark.parametrize("code, says", [("2673a", "'2673a'"), ("123456", "up to 5 digits"), ("", "''")])
def test_admin_convert_malformed_code(code, says, capsys):
    """Refused before the database is asked (in-process: the same entry point as the `landgeo` script)."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["admin", "convert", code])
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and says in err


# ---------------------------------------------------------------- the published collections


@pytest.fixture(scope="module")
def served(server_url: str, template_db: str, tmp_path_factory):
    """A real `landgeo serve` over a database with one loaded boundary and parcels under codes of both
    generations, loaded without --province."""
    name = f"landgeo_test_admin_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    tmp = tmp_path_factory.mktemp("admin")
    ring = shapely.MultiPolygon([shapely.box(X0, Y0 - 1000, X0 + 800, Y0 + 500)])
    fields = {"ma": np.array(["00004"], dtype=object), "ten": np.array(["Phường Ba Đình"], dtype=object),
              "cap": np.array(["commune"], dtype=object), "macaptren": np.array(["01"], dtype=object),
              "valid_from": np.array(["2025-07-01"], dtype=object)}
    load(write(tmp / "ranh_gioi.gpkg", [ring], fields, geometry_type="MultiPolygon"),
         LoadOptions(target="admin-units", mode="upsert", database_url=url))
    load(_mixed_parcels(tmp, ["00004", "26734", "00016"]), LoadOptions(target="parcels", database_url=url))
    with serve(url, tmp / "serve.log", workers=1) as base:
        yield base
    drop_database(server_url, name)


def _get(base: str, path: str, **params) -> requests.Response:
    return requests.get(f"{base}{path}", params=params, timeout=30)


def test_admin_units_serves_only_units_with_a_boundary(served):
    body = _get(served, "/collections/admin-units/items", limit=100).json()
    assert body["numberMatched"] == 1 and len(body["features"]) == 1
    feature = body["features"][0]
    assert feature["properties"]["code"] == "00004" and feature["geometry"]["type"] == "MultiPolygon"
    both = _get(served, "/collections/admin-units/items", datetime="../..", limit=100).json()
    assert all(f["geometry"] is not None for f in both["features"]) and both["numberMatched"] == 1


def test_code_list_is_a_non_spatial_collection(served):
    meta = _get(served, "/collections/admin-unit-codes", f="json").json()
    assert meta["id"] == "admin-unit-codes"
    now = _get(served, "/collections/admin-unit-codes/items", level="commune", limit=1).json()
    assert now["numberMatched"] == 3321 and now["features"][0]["geometry"] is None
    hcm = _get(served, "/collections/admin-unit-codes/items", code="26734", datetime="2025-03-01").json()
    props = [f["properties"] for f in hcm["features"]]
    assert [(p["name"], p["parent_code"], p["valid_to"]) for p in props] == [("Phường Tân Định", "760", "2025-06-30")]
    districts = _get(served, "/collections/admin-unit-codes/items", level="district", parent_code="79",
                     datetime="2025-03-01", limit=1).json()
    assert 20 <= districts["numberMatched"] <= 25  # the 22 districts of old TP.HCM
    bad = _get(served, "/collections/admin-unit-codes/items", bbox="105,20,106,21")
    assert bad.status_code == 400 and "no geometry" in bad.json()["description"]


def test_crosswalk_collection(served):
    r = _get(served, "/collections/admin-crosswalk-2025/items", old_code="00016").json()
    pairs = sorted((f["properties"]["new_code"], f["properties"]["partly_merged"]) for f in r["features"])
    assert pairs == [("00004", "true"), ("00008", "true")] and all(f["geometry"] is None for f in r["features"])
    came = _get(served, "/collections/admin-crosswalk-2025/items", new_code="26737", limit=50).json()
    assert "26734" in {f["properties"]["old_code"] for f in came["features"]}
    cql = _get(served, "/collections/admin-crosswalk-2025/items", filter="new_province_code = '79' AND "
               "partly_merged = 'false'", limit=1).json()
    assert cql["numberMatched"] > 50
    assert _get(served, "/collections/admin-crosswalk-2025/items",
                filter="S_INTERSECTS(geometry, POINT(106 10))").status_code == 400


def test_parcels_keep_their_code_and_expose_the_current_one(served):
    feats = _get(served, "/collections/parcels/items", limit=10).json()["features"]
    got = {f["properties"]["commune_code"]: f["properties"]["current_commune_code"] for f in feats}
    assert got == {"00004": "00004", "26734": "26737", "00016": None}
    one = _get(served, "/collections/parcels/items", current_commune_code="26737").json()
    assert [f["properties"]["commune_code"] for f in one["features"]] == ["26734"]
    q = _get(served, "/collections/parcels/queryables").json()
    assert "current_commune_code" in q["properties"]
