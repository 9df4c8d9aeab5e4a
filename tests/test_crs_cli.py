"""``landgeo crs list|show|convert|detect`` through the real CLI (subprocess)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pyogrio
import pytest
import shapely

from landgeo.crs import provinces, transform

ESRI_HCMC_PRJ = ('PROJCS["VN_2000_TM3_105_45",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",'
                 '6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
                 'PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",'
                 '0.0],PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],PARAMETER['
                 '"Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')


def one_line_error(result):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_list_registry(run_cli):
    r = run_cli("crs", "list")
    assert r.returncode == 0, r.stderr
    codes = [line.split("\t")[0] for line in r.stdout.splitlines()]
    assert "EPSG:9210" in codes and "EPSG:4756" in codes and "EPSG:2044" in codes and "OGC:CRS84" in codes


def test_list_every_province_of_both_generations(run_cli):
    r = run_cli("crs", "list", "--province", "all", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 34 + 64
    by_key = {(p.code, p.generation): p for p in provinces()}
    for row in rows:
        p = by_key[(row["code"], row["generation"])]
        assert row["crs"] == p.crs.code and row["lon0"] == p.lon0
    r = run_cli("crs", "list", "-g", "2004")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 64


@pytest.mark.parametrize("province,expected", [("TP. Hà Nội", "EPSG:5897"), ("12", "EPSG:9208"),
                                               ("Lai Châu@2004", "EPSG:9205"), ("Yen Bai", "EPSG:9208")])
def test_list_one_province(run_cli, province, expected):
    r = run_cli("crs", "list", "--province", province)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1 and f"\t{expected}" in r.stdout


def test_show_answers_for_every_province_of_both_generations(run_cli):
    specs = [f"vn2000:{p.code}@{p.generation}" for p in provinces()]
    r = run_cli("crs", "show", *specs)
    assert r.returncode == 0, r.stderr
    blocks = r.stdout.strip().split("\n\n")
    assert len(blocks) == len(specs) == 98
    for p, block in zip(provinces(), blocks, strict=True):
        assert f"province: {p.code} {p.name} ({p.generation})" in block
        assert f"code: {p.crs.code}" in block and "central meridian" in block
    for spec in ("vn2000:Thừa Thiên Huế", "vn2000:Hà Tây", "vn2000:tp hcm"):
        r = run_cli("crs", "convert", "--from", "EPSG:4756", "--to", spec, "106", "16")
        assert r.returncode == 0, (spec, r.stderr)


def test_show(run_cli):
    r = run_cli("crs", "show", "http://www.opengis.net/def/crs/EPSG/0/9210", "--wkt")
    assert r.returncode == 0, r.stderr
    assert "code: EPSG:9210" in r.stdout and "79 Hồ Chí Minh" in r.stdout and "VN-2000 to WGS 84 (2)" in r.stdout
    assert 'PROJCS["VN-2000_TM-3_105-45"' in r.stdout or "PROJCS[" in r.stdout


def test_convert_arguments_full_precision(run_cli):
    r = run_cli("crs", "convert", "--from", "EPSG:4326", "--to", "vn2000:79", "106.7", "10.77", "105.85", "21.03")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    e, n = transform("EPSG:4326", "EPSG:9210", [106.7, 105.85], [10.77, 21.03])
    got = np.array([[float(v) for v in line.split()] for line in lines])
    assert np.array_equal(got[:, 0], e) and np.array_equal(got[:, 1], n)  # repr: round-trips exactly


def test_convert_stdin(run_cli):
    text = "# easting northing\n603701.1920813676 1191178.7481932167\n\n603701.19,1191178.75\n603701.19;1191178.75\n"
    r = run_cli("crs", "convert", "--from", "9210", "--to", "CRS84", input=text)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    lon, lat = map(float, lines[0].split())
    assert abs(lon - 106.7) < 1e-8 and abs(lat - 10.77) < 1e-8


def test_convert_northing_first(run_cli):
    r = run_cli("crs", "convert", "--from", "vn2000:79", "--to", "EPSG:4756", "--northing-first",
                input="1191178.7481932167 603701.1920813676\n")
    assert r.returncode == 0, r.stderr
    lon, lat = map(float, r.stdout.split())
    assert 106.69 < lon < 106.71 and 10.77 < lat < 10.78


@pytest.mark.parametrize("args,stdin", [
    (("--from", "EPSG:9210", "--to", "EPSG:4326", "1", "2", "3"), None),
    (("--from", "EPSG:9210", "--to", "EPSG:4326"), "603701 1191178\nabc def\n"),
    (("--from", "EPSG:9210", "--to", "EPSG:4326"), "603701 1191178 12\n"),
    (("--from", "EPSG:9210", "--to", "EPSG:4326"), ""),
    (("--from", "EPSG:4269", "--to", "EPSG:4326", "1", "2"), None),
    (("--from", "vn2000:Atlantis", "--to", "EPSG:4326", "1", "2"), None),
    (("--from", "EPSG:9210", "--to", "nonsense", "1", "2"), None),
    (("--from", "EPSG:9210", "--to", "EPSG:4326", "nan", "2"), None),
])
def test_convert_bad_input(run_cli, args, stdin):
    one_line_error(run_cli("crs", "convert", *args, input=stdin))


def test_show_and_list_bad_input(run_cli):
    one_line_error(run_cli("crs", "show", "EPSG:12345678"))
    one_line_error(run_cli("crs", "list", "--province", "Atlantis"))
    one_line_error(run_cli("crs", "list", "--generation", "1990"))


# ------------------------------------------------------------------ detect FILE

def _parcels(centre=(106.698, 10.7725), crs="EPSG:9210", n=5):
    lon = centre[0] + np.linspace(-0.01, 0.01, n)
    lat = centre[1] + np.linspace(-0.01, 0.01, n)
    x, y = transform("EPSG:4756", crs, lon, lat)
    w, h = (2e-4, 2e-4) if crs in ("EPSG:4756", "EPSG:4326") else (20.0, 25.0)
    return shapely.to_wkb(shapely.box(x, y, x + w, y + h))


def _write(path, wkb, crs=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "crs was not provided": on purpose for the no-.prj cases
        pyogrio.raw.write(str(path), wkb, [np.arange(len(wkb))], ["so_thua"], geometry_type="Polygon", crs=crs, **kw)


def test_detect_shapefile_with_esri_prj(run_cli, tmp_path):
    shp = tmp_path / "thua_dat.shp"
    _write(shp, _parcels(), crs="EPSG:9210", driver="ESRI Shapefile")
    (tmp_path / "thua_dat.prj").write_text(ESRI_HCMC_PRJ)  # what ArcGIS writes: no EPSG id
    r = run_cli("crs", "detect", str(shp), "--province", "79")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "declared: EPSG:9210 VN-2000 / TM-3 105-45 (from thua_dat.prj)" in r.stdout
    assert "suggests: EPSG:9210" in r.stdout and "result: ok" in r.stdout
    assert "located in (approximately, read as EPSG:9210): 79 Hồ Chí Minh" in r.stdout


def test_detect_shapefile_wrong_meridian(run_cli, tmp_path):
    shp = tmp_path / "hanoi.shp"
    _write(shp, _parcels((105.8522, 21.0285), "EPSG:5897"), crs="EPSG:9210", driver="ESRI Shapefile")
    (tmp_path / "hanoi.prj").write_text(ESRI_HCMC_PRJ)
    r = run_cli("crs", "detect", str(shp), "-p", "Hà Nội")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "error: crs.wrong_meridian" in r.stdout and "suggests: EPSG:5897" in r.stdout
    assert "result: errors found" in r.stdout
    r = run_cli("crs", "detect", str(shp), "-p", "Hà Nội", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["declared"] == "EPSG:9210" and out["candidates"][0] == "EPSG:5897" and out["ok"] is False
    assert [f["code"] for f in out["flags"]] == ["crs.wrong_meridian"] and out["province"] == "01@2025"


def test_detect_shapefile_without_prj(run_cli, tmp_path):
    shp = tmp_path / "no_prj.shp"
    _write(shp, _parcels(), driver="ESRI Shapefile")
    r = run_cli("crs", "detect", str(shp), "--province", "79")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "declared: nothing" in r.stdout and "warning: crs.undeclared" in r.stdout
    assert "suggests: EPSG:9210" in r.stdout


def test_detect_geopackage_layer(run_cli, tmp_path):
    gpkg = tmp_path / "dia_chinh.gpkg"
    _write(gpkg, _parcels(crs="EPSG:5899", centre=(107.0843, 10.346)), crs="EPSG:5899", driver="GPKG",
           layer="thua_dat")
    r = run_cli("crs", "detect", str(gpkg), "--layer", "thua_dat", "--province", "79")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "declared: EPSG:5899" in r.stdout and "(layer thua_dat)" in r.stdout and "result: ok" in r.stdout


def test_detect_geojson_swapped_and_override(run_cli, tmp_path):
    gj = tmp_path / "diem.geojson"
    lon, lat = np.array([106.69, 106.70]), np.array([10.77, 10.78])
    pyogrio.raw.write(str(gj), shapely.to_wkb(shapely.points(lat, lon)), [np.arange(2)], ["id"],
                      geometry_type="Point", crs="EPSG:4326", driver="GeoJSON")
    r = run_cli("crs", "detect", str(gj))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "GeoJSON (RFC 7946" in r.stdout and "error: crs.swapped_xy" in r.stdout
    r = run_cli("crs", "detect", str(gj), "--crs", "EPSG:9210")
    assert r.returncode == 1 and "declared: EPSG:9210" in r.stdout and "crs.units" in r.stdout


def test_detect_csv_survey_table_northing_first(run_cli, tmp_path):
    # a survey coordinate table (bảng tọa độ) as exported from a total-station package: X = northing
    csv = tmp_path / "toa_do_moc.csv"
    csv.write_text("so_hieu,X,Y\nGPS-01,1191178.748,603701.192\nGPS-02,1191310.105,603812.540\n"
                   "GPS-03,1190950.020,603640.900\n", encoding="utf-8")
    r = run_cli("crs", "detect", str(csv), "--province", "79", "--crs", "vn2000:79")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "features: 3" in r.stdout and "error: crs.swapped_xy" in r.stdout and "suggests: EPSG:9210" in r.stdout


def test_detect_bad_files(run_cli, tmp_path):
    one_line_error(run_cli("crs", "detect", str(tmp_path / "missing.shp")))
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a geopackage")
    one_line_error(run_cli("crs", "detect", str(junk)))
    shp = tmp_path / "p.shp"
    _write(shp, _parcels(), driver="ESRI Shapefile")
    one_line_error(run_cli("crs", "detect", str(shp), "--province", "Atlantis"))
