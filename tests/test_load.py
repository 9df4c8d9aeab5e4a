"""End-to-end loads through the real CLI into a fresh PostGIS: formats, field names, encodings, CRS, modes,
lineage, no-op reloads, history. Every input file is generated here (pyogrio/shapely/raw bytes)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import psycopg
import pyogrio
import pytest
import shapely
from pyogrio import raw
from vectorfiles import TM3, X0, Y0, grid, write

# Raw TCVN3 (ABC) bytes, as the .VnTime fonts store them (independent of the decoder under test).
TCVN3 = {
    "Thôn Đông": b"Th\xabn \xa7\xabng",
    "Xóm Người Mường": b"X\xe3m Ng\xad\xeai M\xad\xeang",
    "Nguyễn Văn Đức": b"Nguy\xd4n V\xa8n \xa7\xf8c",
}


def parcel_fields(n: int, commune: str = "00001", sheet: int = 1, codes=None, addresses=None) -> dict:
    return {
        "MaXa": np.array([commune] * n, dtype=object),
        "SoHieuToBanDo": np.array([sheet] * n, dtype=np.int32),
        "SoThuTuThua": np.arange(1, n + 1, dtype=np.int32),
        "KyHieuMucDichSuDung": np.array(codes or ["ONT+CLN"] * n, dtype=object),
        "DienTich": np.full(n, 500.0),
        "DiaChi": np.array(addresses or ["Thôn Đông"] * n, dtype=object),
    }


def tcvn3_shapefile(folder: Path, n: int = 3) -> Path:
    """A Shapefile whose DBF text is raw TCVN3 bytes, without .cpg, with 10-character DBF field names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = list(TCVN3)
    fields = {
        "MaXa": np.array(["00001"] * n, dtype=object),
        "SoHieuToBanDo": np.array([7] * n, dtype=np.int32),  # GDAL cuts it to SoHieuToBa
        "SoThuTuThua": np.arange(1, n + 1, dtype=np.int32),  # -> SoThuTuThu
        "KyHieuMucDichSuDung": np.array(["ONT"] * n, dtype=object),  # -> KyHieuMucD
        "DienTich": np.full(n, 500.0),
        "DiaChi": np.array([TCVN3[names[i % 3]].decode("latin1") for i in range(n)], dtype=object),
        "ChuSoHuu": np.array(["x"] * n, dtype=object),  # nothing maps it: reported as unused
    }
    shp = write(folder / "thua_dat.shp", grid(n), fields, encoding="latin1")
    for cpg in folder.glob("*.cpg"):
        cpg.unlink()
    return shp


def q(url: str, query: str, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_list_targets(run_cli):
    out = ok(run_cli("load", "--list-targets"))
    assert "parcels" in out and "landdb.parcel" in out and "roads" in out
    assert "sohieutobando" in out  # aliases are listed


def test_tcvn3_shapefile_lineage_and_exact_coordinates(tmp_path, run_cli, fresh_db):
    shp = tcvn3_shapefile(tmp_path / "src")
    assert {f for f in pyogrio.read_info(shp)["fields"]} >= {"SoHieuToBa", "SoThuTuThu", "KyHieuMucD"}
    out = ok(run_cli("load", str(shp), "--into", "parcels", "--province", "01", db_url=fresh_db))
    assert "TCVN3" in out and "inserted 3" in out
    # "Thôn Đông", "Xóm Người Mường", "Nguyễn Văn Đức": 8 accented words, all valid Vietnamese syllables
    assert "8/8 accented words are valid Vietnamese" in out
    rows = q(fresh_db, "SELECT parcel_number, sheet_number, address, land_use_codes, source_srid, area_srid, "
                       "province_code, ST_AsText(ST_Transform(geom, 5897)), computed_area FROM landdb.parcel "
                       "ORDER BY parcel_number")
    assert [r[2] for r in rows] == list(TCVN3)  # decoded to Unicode
    assert all(r[1] == 7 and r[3] == ["ONT"] and r[4] == 5897 and r[5] == 5897 and r[6] == "01" for r in rows)
    # surveyed coordinates survive the trip through VN-2000 geographic (projection inverse only): <= 1 mm
    for i, r in enumerate(rows):
        back = shapely.from_wkt(r[7])
        expected = shapely.get_coordinates(grid(3)[i])
        got = shapely.get_coordinates(back)
        assert np.abs(np.sort(got, axis=0) - np.sort(expected, axis=0)).max() < 0.001
        assert abs(float(r[8]) - 500.0) < 0.02
    (batch,) = q(fresh_db, "SELECT source_sha256, crs_in, crs_out, mode, counts, options, status, source_format "
                           "FROM meta.load_batch")
    digest = hashlib.sha256()
    for path in [shp, shp.with_suffix(".shx"), shp.with_suffix(".dbf"), shp.with_suffix(".prj")]:
        digest.update(path.read_bytes())
    assert batch[0] == digest.hexdigest()
    assert batch[1] == "EPSG:5897" and batch[2] == "EPSG:4756" and batch[3] == "append" and batch[6] == "committed"
    assert batch[4]["inserted"] == 3 and batch[4]["read"] == 3
    assert batch[5]["province"] == "01"
    assert "ChuSoHuu" in out  # unused source field reported
    # the same file again: a no-op that says so
    again = ok(run_cli("load", str(shp), "--into", "parcels", "--province", "01", db_url=fresh_db))
    assert "no-op" in again and "already loaded" in again
    assert q(fresh_db, "SELECT count(*) FROM landdb.parcel")[0][0] == 3
    assert q(fresh_db, "SELECT status FROM meta.load_batch ORDER BY id") == [("committed",), ("noop",)]


def test_vni_text_and_cpg(tmp_path, run_cli, fresh_db):
    vni = "Nguyeãn Vaên Ñöùc".encode("cp1252")
    fields = parcel_fields(2, addresses=[vni.decode("latin1")] * 2)
    shp = write(tmp_path / "vni.shp", grid(2), fields, encoding="latin1")
    (tmp_path / "vni.cpg").unlink()
    out = ok(run_cli("load", str(shp), "--into", "parcels", "--province", "01", db_url=fresh_db))
    assert "VNI" in out
    assert q(fresh_db, "SELECT DISTINCT address FROM landdb.parcel") == [("Nguyễn Văn Đức",)]


@pytest.mark.parametrize("fmt", ["geojson", "fgb", "gpkg", "zip", "csv-wkt", "csv-xy"])
def test_formats(fmt, tmp_path, run_cli, fresh_db):
    n = 4
    geoms, fields = grid(n), parcel_fields(n)
    extra: list[str] = []
    if fmt == "geojson":
        src = write(tmp_path / "p.geojson", geoms, fields, driver="GeoJSON")
    elif fmt == "fgb":
        src = write(tmp_path / "p.fgb", geoms, fields, driver="FlatGeobuf")
    elif fmt == "gpkg":
        src = write(tmp_path / "p.gpkg", geoms, fields, layer="thua_dat")
        raw.write(str(src), shapely.to_wkb(grid(1)), [np.array(["x"], dtype=object)], ["note"], layer="ghi_chu",
                  crs=TM3, geometry_type="Polygon", append=False)
        res = run_cli("load", str(src), "--into", "parcels", "--province", "01", db_url=fresh_db)
        assert res.returncode == 2 and "--layer" in res.stderr and "thua_dat" in res.stderr
        extra = ["--layer", "thua_dat"]
    elif fmt == "zip":
        (tmp_path / "z").mkdir()
        shp = write(tmp_path / "z" / "p.shp", geoms, fields)
        src = tmp_path / "p.zip"
        with zipfile.ZipFile(src, "w") as zf:
            for part in shp.parent.iterdir():
                zf.write(part, f"data/{part.name}")
    else:
        lines = []
        names = list(fields)
        for i in range(n):
            values = [str(fields[k][i]) for k in names]
            if fmt == "csv-wkt":
                lines.append(f'"{shapely.to_wkt(geoms[i])}",' + ",".join(values))
            else:
                c = shapely.centroid(geoms[i])
                lines.append(f"{c.x},{c.y}," + ",".join(values))
        head = ("wkt," if fmt == "csv-wkt" else "x,y,") + ",".join(names)
        src = tmp_path / "p.csv"
        src.write_text(head + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
        extra = ["--crs", "EPSG:5897"]
    target = "parcels" if fmt != "csv-xy" else "spot-heights"
    if fmt == "csv-xy":  # points: a base-geography theme; X/Y columns
        src.write_text("x,y,ma_dt,docao,ten\n" + "\n".join(
            f"{X0 + i * 10},{Y0 + i * 10},DH01,{12.5 + i},Điểm {i}" for i in range(n)) + "\n", encoding="utf-8")
    out = ok(run_cli("load", str(src), "--into", target, "--province", "01", *extra, db_url=fresh_db))
    assert f"inserted {n}" in out
    if target == "parcels":
        assert q(fresh_db, "SELECT count(*), min(parcel_number), max(parcel_number) FROM landdb.parcel") == [(n, 1, n)]
        assert q(fresh_db, "SELECT DISTINCT land_use_codes FROM landdb.parcel") == [(["ONT", "CLN"],)]
    else:
        rows = q(fresh_db, "SELECT feature_code, elevation, name, ST_SRID(geom) FROM geobase.spot_height "
                           "ORDER BY elevation")
        assert rows[0] == ("DH01", 12.5, "Điểm 0", 4756) and len(rows) == n


def test_mapping_file_and_theme_attributes(tmp_path, run_cli, fresh_db):
    lines = np.array([shapely.LineString([(X0, Y0 + i * 50), (X0 + 200, Y0 + i * 50 + 10)]) for i in range(3)],
                     dtype=object)
    fields = {"LOAI_DUONG": np.array(["QL", "TL", "HL"], dtype=object), "TEN_DUONG": np.array(["QL1A", "TL2", "x"],
                                                                                          dtype=object),
              "MAT": np.array(["nhựa", "bê tông", "đất"], dtype=object), "GHI_CHU": np.array(["a", "b", "c"],
                                                                                             dtype=object)}
    src = write(tmp_path / "roads.geojson", lines, fields, driver="GeoJSON", geometry_type="LineString")
    mapping = tmp_path / "roads.yml"
    mapping.write_text("fields: {road_class: LOAI_DUONG, name: TEN_DUONG, surface: MAT}\n"
                       "constants: {feature_code: GT01, source_scale: 10000}\n", encoding="utf-8")
    out = ok(run_cli("load", str(src), "--into", "roads", "--mapping", str(mapping), db_url=fresh_db))
    assert "inserted 3" in out and "GHI_CHU" in out
    rows = q(fresh_db, "SELECT feature_code, road_class, name, surface, source_scale, attributes, source_srid, "
                       "GeometryType(geom) FROM geobase.road ORDER BY name")
    assert rows[0][:5] == ("GT01", "QL", "QL1A", "nhựa", 10000)
    assert rows[0][5] == {"GHI_CHU": "a"} and rows[0][6] == 5897 and rows[0][7] == "MULTILINESTRING"
    bad = tmp_path / "bad.yml"
    bad.write_text("fields: {road_class: NO_SUCH_FIELD}\n", encoding="utf-8")
    res = run_cli("load", str(src), "--into", "roads", "--mapping", str(bad), db_url=fresh_db)
    assert res.returncode == 2 and "NO_SUCH_FIELD" in res.stderr and "Traceback" not in res.stderr


def test_upsert_closes_old_versions_and_links_history(tmp_path, run_cli, fresh_db):
    first = write(tmp_path / "v1.gpkg", grid(4), parcel_fields(4))
    ok(run_cli("load", str(first), "--into", "parcels", "--province", "01", db_url=fresh_db))
    geoms = grid(5)
    geoms[0] = shapely.box(X0, Y0, X0 + 20, Y0 + 30)  # parcel 1: geometry changed (overlaps nothing: row above)
    fields = parcel_fields(5)
    fields["KyHieuMucDichSuDung"][1] = "CLN"  # parcel 2: attribute changed
    second = write(tmp_path / "v2.gpkg", geoms, fields)  # parcel 5: new
    out = ok(run_cli("load", str(second), "--into", "parcels", "--province", "01", "--mode", "upsert",
                     db_url=fresh_db))
    assert "inserted 1" in out and "updated 2" in out and "unchanged 2" in out
    current = q(fresh_db, "SELECT parcel_number, land_use_codes FROM landdb.parcel WHERE valid_to IS NULL "
                          "ORDER BY 1")
    assert [r[0] for r in current] == [1, 2, 3, 4, 5] and current[1][1] == ["CLN"]
    closed = q(fresh_db, "SELECT parcel_number FROM landdb.parcel WHERE valid_to IS NOT NULL ORDER BY 1")
    assert closed == [(1,), (2,)]
    links = q(fresh_db, "SELECT o.parcel_number, h.event, o.valid_to = n.valid_from FROM landdb.parcel_history h "
                        "JOIN landdb.parcel o ON o.id = h.parent_id JOIN landdb.parcel n ON n.id = h.child_id "
                        "ORDER BY 1")
    assert links == [(1, "update", True), (2, "update", True)]
    # one feature id across versions: the new version of a changed parcel carries the old row's id (migration 0200)
    same = q(fresh_db, "SELECT o.parcel_number, n.feature_id = o.id, o.feature_id IS NULL FROM landdb.parcel_history "
                       "h JOIN landdb.parcel o ON o.id = h.parent_id JOIN landdb.parcel n ON n.id = h.child_id "
                       "ORDER BY 1")
    assert same == [(1, True, True), (2, True, True)]
    assert q(fresh_db, "SELECT count(*) FROM landdb.parcel WHERE valid_to IS NULL AND feature_id IS NOT NULL") == [(2,)]


def test_replace_is_scoped_to_the_communes_in_the_file(tmp_path, run_cli, fresh_db):
    a = write(tmp_path / "a.gpkg", grid(3), parcel_fields(3, commune="00001"))
    b = write(tmp_path / "b.gpkg", grid(2, y0=Y0 + 500), parcel_fields(2, commune="00002"))
    ok(run_cli("load", str(a), "--into", "parcels", "--province", "01", db_url=fresh_db))
    ok(run_cli("load", str(b), "--into", "parcels", "--province", "01", db_url=fresh_db))
    a2 = write(tmp_path / "a2.gpkg", grid(2), parcel_fields(2, commune="00001"))
    out = ok(run_cli("load", str(a2), "--into", "parcels", "--province", "01", "--mode", "replace", db_url=fresh_db))
    assert "closed 3" in out and "inserted 2" in out
    assert q(fresh_db, "SELECT commune_code, count(*) FROM landdb.parcel WHERE valid_to IS NULL GROUP BY 1 "
                       "ORDER BY 1") == [("00001", 2), ("00002", 2)]
    assert q(fresh_db, "SELECT count(*) FROM landdb.parcel WHERE valid_to IS NOT NULL")[0][0] == 3


def test_province_derived_from_admin_units(tmp_path, run_cli, fresh_db):
    # 00004 Phường Ba Đình (Hà Nội) is an official commune, seeded by migration 0050
    src = write(tmp_path / "p.gpkg", grid(2), parcel_fields(2, commune="00004"))
    ok(run_cli("load", str(src), "--into", "parcels", db_url=fresh_db))
    assert q(fresh_db, "SELECT DISTINCT province_code FROM landdb.parcel") == [("01",)]
    other = write(tmp_path / "q.gpkg", grid(2, y0=Y0 + 300), parcel_fields(2, commune="09999"))
    res = run_cli("load", str(other), "--into", "parcels", "--rejects", str(tmp_path / "r.geojson"), db_url=fresh_db)
    assert res.returncode == 2 and "all 2 features were rejected" in res.stderr


def test_rejects_report_is_a_gis_layer(tmp_path, run_cli, fresh_db):
    codes = ["ONT", "XYZ", "CLN", "ONT"]
    src = write(tmp_path / "p.gpkg", grid(4), parcel_fields(4, codes=codes))
    report = tmp_path / "rejects.geojson"
    out = ok(run_cli("load", str(src), "--into", "parcels", "--province", "01", "--rejects", str(report),
                     db_url=fresh_db))
    assert "inserted 3" in out and "rejected 1" in out and "attr.land_use_code_unknown 1" in out
    meta, table = pyogrio.read_arrow(report)
    assert table.num_rows == 1 and meta["crs"] and "5897" in meta["crs"]
    row = {k: table.column(k)[0].as_py() for k in ("feature", "check_code", "reason", "parcel_number")}
    assert row["feature"] == 2 and row["check_code"] == "attr.land_use_code_unknown" and "XYZ" in row["reason"]
    assert json.loads(json.dumps(row))["parcel_number"] == "2"


def _dxf(polygons, texts) -> str:
    """A minimal ASCII DXF (ENTITIES only): closed LWPOLYLINEs and TEXT labels, as CAD cadastral drawings hold."""
    out = ["0", "SECTION", "2", "ENTITIES"]
    for layer, ring in polygons:
        out += ["0", "LWPOLYLINE", "8", layer, "90", str(len(ring)), "70", "1"]
        for x, y in ring:
            out += ["10", f"{x:.3f}", "20", f"{y:.3f}"]
    for layer, (x, y), text in texts:
        out += ["0", "TEXT", "8", layer, "10", f"{x:.3f}", "20", f"{y:.3f}", "40", "1.5", "1", text]
    return "\n".join([*out, "0", "ENDSEC", "0", "EOF"]) + "\n"


def test_dxf_drawing_with_parcel_labels(tmp_path, run_cli, fresh_db):
    rings = [("THUA", [(X0 + i * 20, Y0), (X0 + i * 20 + 20, Y0), (X0 + i * 20 + 20, Y0 + 25), (X0 + i * 20, Y0 + 25)])
             for i in range(3)]
    labels = [("SO_THUA", (X0 + i * 20 + 10, Y0 + 15), str(i + 11)) for i in range(3)]
    labels += [("MDSD", (X0 + 10, Y0 + 8), "ONT+CLN"), ("MDSD", (X0 + 30, Y0 + 8), "LUC"),
               ("MDSD", (X0 + 50, Y0 + 8), "NTS"), ("DT", (X0 + 50, Y0 + 4), "500,0")]
    src = tmp_path / "to_ban_do_4.dxf"
    src.write_text(_dxf(rings, labels), encoding="ascii")
    mapping = tmp_path / "dxf.yml"
    mapping.write_text("constants: {commune_code: '00001', sheet_number: 4}\n", encoding="utf-8")
    out = ok(run_cli("load", str(src), "--into", "parcels", "--crs", "EPSG:5897", "--province", "01",
                     "--mapping", str(mapping), db_url=fresh_db))
    assert "inserted 3" in out and "text labels joined" in out
    rows = q(fresh_db, "SELECT parcel_number, land_use_codes, declared_area, sheet_number, source_srid "
                       "FROM landdb.parcel ORDER BY parcel_number")
    assert rows == [(11, ["ONT", "CLN"], None, 4, 5897), (12, ["LUC"], None, 4, 5897),
                    (13, ["NTS"], pytest.approx(500), 4, 5897)]


def test_wgs84_source_uses_the_official_transformation_and_the_province_zone(tmp_path, run_cli, fresh_db):
    from landgeo.crs import transform

    lon0, lat0 = 105.85, 21.03  # Hà Nội
    boxes = np.array([shapely.box(lon0 + i * 0.0002, lat0, lon0 + (i + 1) * 0.0002, lat0 + 0.0002)
                      for i in range(2)], dtype=object)
    src = write(tmp_path / "wgs84.geojson", boxes, parcel_fields(2), crs="EPSG:4326", driver="GeoJSON")
    ok(run_cli("load", str(src), "--into", "parcels", "--province", "01", db_url=fresh_db))
    rows = q(fresh_db, "SELECT source_srid, area_srid, ST_AsBinary(geom), ST_AsBinary(geom_wgs84) FROM landdb.parcel "
                       "ORDER BY parcel_number")
    for i, (source_srid, area_srid, geom, wgs) in enumerate(rows):
        assert source_srid == 4326 and area_srid == 5897  # Hà Nội's TM-3 zone, 105°00'
        expected = shapely.get_coordinates(boxes[i])
        x, y = transform(4326, 4756, expected[:, 0], expected[:, 1])
        stored = shapely.get_coordinates(shapely.from_wkb(bytes(geom)))
        assert np.abs(np.sort(stored, axis=0) - np.sort(np.column_stack([x, y]), axis=0)).max() < 1e-9
        # VN-2000 and WGS 84 differ by ~ 0.002° here, and the serving copy comes back to the source (< 1 cm)
        assert np.abs(stored - expected).max() > 1e-4
        back = shapely.get_coordinates(shapely.from_wkb(bytes(wgs)))
        assert np.abs(np.sort(back, axis=0) - np.sort(expected, axis=0)).max() < 1e-7


def test_same_file_twice_at_once_loads_once(tmp_path, fresh_db):
    import os
    import subprocess
    import sys

    src = write(tmp_path / "p.gpkg", grid(20), parcel_fields(20))
    env = {**os.environ, "LANDGEO_DATABASE_URL": fresh_db}
    cmd = [sys.executable, "-m", "landgeo", "load", str(src), "--into", "parcels", "--province", "01"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    texts = sorted(o[0] for o in outs)
    assert sum("no-op" in t for t in texts) == 1 and sum("inserted 20" in t for t in texts) == 1
    assert q(fresh_db, "SELECT count(*) FROM landdb.parcel")[0][0] == 20
    assert sorted(r[0] for r in q(fresh_db, "SELECT status FROM meta.load_batch")) == ["committed", "noop"]


def test_province_option_fills_a_theme_and_scopes_replace(tmp_path, run_cli, fresh_db):
    points = np.array([shapely.Point(X0 + i * 100, Y0) for i in range(3)], dtype=object)
    fields = {"MaDoiTuong": np.array(["DA01"] * 3, dtype=object), "Ten": np.array(["Thôn A", "Thôn B", "Xóm C"],
                                                                                 dtype=object)}
    src = write(tmp_path / "dia_danh.geojson", points, fields, driver="GeoJSON", geometry_type="Point")
    refused = run_cli("load", str(src), "--into", "place-names", "--mode", "replace", db_url=fresh_db)
    assert refused.returncode == 2 and "province_code" in refused.stderr
    assert q(fresh_db, "SELECT count(*) FROM geobase.place_name") == [(0,)]
    ok(run_cli("load", str(src), "--into", "place-names", "--mode", "replace", "--province", "01", db_url=fresh_db))
    assert q(fresh_db, "SELECT DISTINCT province_code FROM geobase.place_name") == [("01",)]


def test_geojson_arrays_and_objects_as_property_values(tmp_path, run_cli, fresh_db):
    """GeoJSON properties may be JSON arrays (land uses as ["LUC", "ONT"]) or objects: an array is a list of codes,
    an object in a text field is kept as its JSON text; neither is a traceback."""
    def feature(n: int, uses, address) -> dict:
        x = 105.85 + n * 0.0002
        ring = [[x, 21.03], [x + 0.0002, 21.03], [x + 0.0002, 21.0302], [x, 21.0302], [x, 21.03]]
        return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"MaXa": "00004", "SoTo": 1, "SoThua": n, "MucDich": uses, "DiaChi": address}}

    src = tmp_path / "arrays.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(1, ["LUC", "ONT"], {"thon": "Lai Xá", "so": 3}), feature(2, ["odt"], None)]}), encoding="utf-8")
    done = run_cli("load", str(src), "--into", "parcels", db_url=fresh_db)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    rows = q(fresh_db, "SELECT parcel_number, land_use_codes, address FROM landdb.parcel ORDER BY parcel_number")
    assert rows[0][1] == ["LUC", "ONT"] and rows[1][1] == ["ODT"]
    assert json.loads(rows[0][2]) == {"thon": "Lai Xá", "so": 3} and rows[1][2] is None
