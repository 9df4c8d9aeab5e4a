"""The demo data set generator: deterministic, a clean parcel coverage except the planted errors, and files
written the way provinces write them (TCVN3 DBF without .cpg, ESRI .prj, GeoPackage, CRS84 GeoJSON)."""

from __future__ import annotations

import csv
import json
from collections import Counter

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely

from landgeo.demo import files, synth, tcvn3
from landgeo.settings import get_settings


@pytest.fixture(scope="module")
def data() -> synth.DemoData:
    return synth.generate(synth.DEFAULT_SEED)


@pytest.fixture(scope="module")
def written(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    manifest = files.write(data, out)
    return out, manifest


def _all_parcels(data):
    geoms, rows = [], []
    for layer in data.parcels.values():
        geoms += layer.geoms
        rows += layer.rows
    return np.asarray(geoms, dtype=object), rows


def _key(row):
    return row["MaXa"], row["SoHieuToBa"], row["SoThuTuThu"]


def test_same_seed_same_checksum_other_seed_other_data(data):
    again = synth.generate(synth.DEFAULT_SEED)
    assert again.checksum() == data.checksum()
    other = synth.generate(synth.DEFAULT_SEED + 1)
    assert other.checksum() != data.checksum()


def test_a_few_thousand_parcels_on_numbered_sheets(data):
    geoms, rows = _all_parcels(data)
    assert 3000 <= len(rows) <= 12000
    assert len({_key(r) for r in rows}) == len(rows), "sheet + parcel number must be unique per commune"
    by_sheet = {}
    for r in rows:
        by_sheet.setdefault((r["MaXa"], r["SoHieuToBa"]), []).append(r["SoThuTuThu"])
    for numbers in by_sheet.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    sheets = {(r["MaXa"], r["SoHieuToBanDo"]) for r in data.map_sheets.rows}
    assert set(by_sheet) == sheets
    assert {r["TyLe"] for r in data.map_sheets.rows} <= {1000, 2000}
    assert shapely.is_valid(geoms).all()


def test_parcels_overlap_only_where_planted(data):
    geoms, rows = _all_parcels(data)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    area = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    overlapping = {frozenset((_key(rows[a]), _key(rows[b]))) for a, b in zip(i[area > 0.01], j[area > 0.01],
                                                                               strict=True)}
    planted = next(p for p in data.planted if p["kind"] == "overlap")
    expected = frozenset(((planted["commune"], planted["sheet"], planted["parcel"]),
                          (planted["commune"], planted["other_sheet"], planted["other_parcel"])))
    assert overlapping == {expected}
    assert area.max() == pytest.approx(planted["area_m2"], abs=0.1)


def test_parcels_cover_their_commune_except_the_planted_gap(data):
    planted = next(p for p in data.planted if p["kind"] == "gap")
    for commune, admin_geom in zip(data.parcels, data.admin_units.geoms, strict=True):
        layer = data.parcels[commune]
        union = shapely.union_all(np.asarray(layer.geoms, dtype=object))
        holes = [p for p in shapely.get_parts(shapely.difference(admin_geom, union)) if p.area > 0.01]
        assert shapely.difference(union, admin_geom).area < 0.01
        if commune == planted["commune"]:
            assert len(holes) == 1 and holes[0].area == pytest.approx(planted["area_m2"], abs=0.5)
            idx = next(k for k, r in enumerate(layer.rows)
                       if (r["SoHieuToBa"], r["SoThuTuThu"]) == (planted["sheet"], planted["parcel"]))
            assert layer.geoms[idx].distance(holes[0]) < 0.01
        else:
            assert holes == []


def test_land_use_codes_and_declared_areas_realistic_except_planted(data):
    reference = get_settings().reference_dir / "land_use_codes.csv"
    with open(reference, encoding="utf-8") as fh:
        current = {r["code"] for r in csv.DictReader(fh) if r["regime"].startswith("current")}
    geoms, rows = _all_parcels(data)
    wrong = {_key(r) for r in rows if not set(r["KyHieuMucD"].split("+")) <= current}
    code_error = next(p for p in data.planted if p["kind"] == "land_use_code")
    assert wrong == {(code_error["commune"], code_error["sheet"], code_error["parcel"])}
    counts = Counter(r["KyHieuMucD"].split("+")[0] for r in rows)
    for code in ("LUC", "ONT", "CLN", "NTS", "DGT", "DTL", "SON", "HNK"):
        assert counts[code] > 0, code
    assert counts["LUC"] + counts["LUK"] > 0.3 * len(rows), "a delta commune is mostly paddy"
    ratio = np.asarray([r["DienTich"] for r in rows]) / shapely.area(geoms)
    far = {_key(rows[k]) for k in np.flatnonzero(np.abs(ratio - 1) > 0.03)}
    area_error = next(p for p in data.planted if p["kind"] == "declared_area")
    assert far == {(area_error["commune"], area_error["sheet"], area_error["parcel"])}
    assert np.median(np.abs(ratio - 1)) > 0, "declared areas carry small realistic discrepancies"


def test_base_geography_agrees_with_parcels(data):
    for theme in ("boundaries", "roads", "bridges", "railways", "hydro-lines", "hydro-areas", "buildings",
                  "built-up-areas", "contours", "spot-heights", "control-points", "land-cover"):
        assert len(data.themes[theme]) > 0, theme
    extent = shapely.union_all(np.asarray(data.admin_units.geoms, dtype=object))
    buildings = np.asarray(data.themes["buildings"].geoms, dtype=object)
    assert shapely.within(buildings, extent.buffer(0.01)).all()
    geoms, rows = _all_parcels(data)
    residential = geoms[[("ONT" in r["KyHieuMucD"]) for r in rows]]
    tree = shapely.STRtree(residential)
    hits = tree.query(shapely.point_on_surface(buildings), predicate="within")
    assert len(set(hits[0])) > 0.9 * len(buildings), "houses stand on residential parcels"
    river = data.themes["hydro-areas"].geoms[0]
    son = geoms[[r["KyHieuMucD"] == "SON" for r in rows]]
    assert shapely.union_all(son).symmetric_difference(river).area < 0.001 * river.area, "river = SON parcels"


def test_the_update_file_splits_one_parcel_and_changes_one_use(data, written):
    out, manifest = written
    split, change = data.events
    assert manifest["updates"] == data.events
    base = {(r["SoHieuToBa"], r["SoThuTuThu"]): g for g, r in zip(data.parcels[split["commune"]].geoms,
                                                                  data.parcels[split["commune"]].rows, strict=True)}
    assert (split["sheet"], split["new_parcel"]) not in base, "the second half gets a new number"
    rows, geoms = data.updates.rows, data.updates.geoms
    assert [(r["SoHieuToBa"], r["SoThuTuThu"]) for r in rows] == [
        (split["sheet"], split["parcel"]), (split["sheet"], split["new_parcel"]), (change["sheet"], change["parcel"])]
    parent = base[(split["sheet"], split["parcel"])]
    assert shapely.union_all(geoms[:2]).symmetric_difference(parent).area < 0.01
    assert 0.3 < geoms[0].area / parent.area < 0.7
    assert rows[2]["KyHieuMucD"] == "ONT" and geoms[2].equals(base[(change["sheet"], change["parcel"])])
    assert files.update_file(out, split["commune"]).exists()


def test_shapefile_dbf_is_tcvn3_and_round_trips(data, written):
    from landgeo.vn_encodings import decode_tcvn3

    out, _ = written
    commune = next(iter(data.parcels))
    base = out / "thua_dat" / f"DC_{commune}"
    assert not base.with_suffix(".cpg").exists(), "legacy files carry no .cpg"
    raw_dbf = base.with_suffix(".dbf").read_bytes()
    name = data.parcels[commune].rows[0]["DiaChi"]
    assert tcvn3.encode(name) in raw_dbf and name.encode("utf-8") not in raw_dbf
    meta, _fids, geometry, fields = pyogrio.raw.read(str(base.with_suffix(".shp")), encoding="latin1")
    names = list(meta["fields"])
    assert names == ["MaXa", "SoHieuToBa", "SoThuTuThu", "DienTich", "KyHieuMucD", "DiaChi"]
    rows = data.parcels[commune].rows
    addresses = fields[names.index("DiaChi")]
    for k in (0, len(rows) // 2, len(rows) - 1):
        assert decode_tcvn3(addresses[k].encode("latin1")) == rows[k]["DiaChi"]
        assert tcvn3.decode(addresses[k].encode("latin1")) == rows[k]["DiaChi"]
        assert int(fields[names.index("SoThuTuThu")][k]) == rows[k]["SoThuTuThu"]
    geoms = shapely.from_wkb(geometry)
    assert len(geoms) == len(rows)
    original = np.asarray(data.parcels[commune].geoms, dtype=object)
    assert shapely.equals_exact(shapely.normalize(geoms), shapely.normalize(original), tolerance=1e-6).all()


def test_tcvn3_refuses_what_it_cannot_write():
    assert tcvn3.decode(tcvn3.encode("Xứ đồng Bãi Dài, xã Đông La")) == "Xứ đồng Bãi Dài, xã Đông La"
    with pytest.raises(ValueError):
        tcvn3.encode("Ấp")  # a capital with a tone mark has no TCVN3 byte
    assert tcvn3.encode("Ấp", fold_case=True) == tcvn3.encode("ấp")


def test_esri_prj_is_recognised_as_hanoi_tm3(written):
    from landgeo.crs import from_wkt

    out, _ = written
    prj = next((out / "thua_dat").glob("*.prj")).read_text()
    match = from_wkt(prj)
    assert match.crs is not None and match.crs.epsg == synth.EPSG_TM3


def test_geopackage_and_geojson_sources(data, written):
    from landgeo.crs import transform

    out, manifest = written
    layers = dict(pyogrio.list_layers(out / "nen_dia_ly.gpkg"))
    assert set(layers) == set(files.THEME_LAYERS.values())
    info = pyogrio.read_info(out / "to_ban_do.gpkg", layer="ToBanDo")
    assert info["crs"] == "EPSG:5897" and info["features"] == len(data.map_sheets)
    doc = json.loads((out / "don_vi_hanh_chinh.geojson").read_text(encoding="utf-8"))
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 105.6 < lon < 105.8 and 20.9 < lat < 21.1
    x, y = transform("OGC:CRS84", synth.EPSG_TM3, [lon], [lat])
    first = shapely.get_coordinates(data.admin_units.geoms[0])[0]
    assert abs(x[0] - first[0]) < 0.001 and abs(y[0] - first[1]) < 0.001, "CRS84 via the official EPSG:6960"
    assert manifest["checksum"] == data.checksum()
    assert manifest["counts"]["parcels"] == sum(len(v) for v in data.parcels.values())


def test_ensure_skips_when_already_generated(written):
    out, manifest = written
    again, generated = files.ensure(out, manifest["seed"])
    assert generated is False and again["checksum"] == manifest["checksum"]
