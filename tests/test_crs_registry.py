"""Registry, resolve, and the provinces of both generations with their central meridians."""

from __future__ import annotations

import csv

import pytest

from landgeo.crs import CRS, find_province, from_epsg, province_zone, provinces, registry, resolve
from landgeo.errors import UserError
from landgeo.settings import get_settings

REF = get_settings().reference_dir


def _rows(name):
    with (REF / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_registry_has_every_crs_users_meet():
    codes = {c.epsg for c in registry()}
    assert {4756, 3405, 3406, 5896, 5897, 5898, 5899, 4147, 2044, 2045, 2093, 4326, 32648, 32649} <= codes
    assert set(range(9205, 9219)) <= codes
    for c in registry():
        assert c.srid == c.epsg
        assert c.kind in ("geographic", "projected") and c.datum in ("VN-2000", "WGS 84", "HN-72")
        if c.is_tm3:
            assert c.k0 == 0.9999 and c.false_easting == 500000.0


def test_tm3_parameters_match_the_reference_table():
    for row in _rows("epsg_vn2000_crs.csv"):
        if row["deprecated"] == "True" or not row["lon0"]:
            continue
        c = from_epsg(int(row["epsg"]))
        assert c.lon0 == float(row["lon0"]) and c.k0 == float(row["k0"]), row["epsg"]


@pytest.mark.parametrize("spec", [
    "EPSG:9210", "epsg:9210", "9210", 9210, " EPSG:9210 ", "http://www.opengis.net/def/crs/EPSG/0/9210",
    "https://www.opengis.net/def/crs/EPSG/0/9210", "urn:ogc:def:crs:EPSG::9210", "urn:ogc:def:crs:EPSG:9.8:9210",
    "vn2000:79", "vn2000:Hồ Chí Minh", "vn2000:TP. Hồ Chí Minh", "vn2000:thanh pho ho chi minh", "vn2000:HCM",
    "vn2000:Cao Bang", "VN2000:31",
])
def test_resolve_spellings_of_9210(spec):
    assert resolve(spec).epsg == 9210


def test_resolve_uris_and_crs84():
    c = resolve("CRS84")
    assert c.uri == "http://www.opengis.net/def/crs/OGC/1.3/CRS84" and c.srid == 4326 and c.kind == "geographic"
    assert resolve("http://www.opengis.net/def/crs/OGC/1.3/CRS84") == c
    assert resolve("urn:ogc:def:crs:OGC:1.3:CRS84") == c
    assert resolve(9210).uri == "http://www.opengis.net/def/crs/EPSG/0/9210"
    assert resolve("EPSG:4326") != c and resolve("EPSG:4326").srid == 4326
    p = resolve(9210).to_pyproj()
    assert p.to_epsg() == 9210


def test_deprecated_codes_resolve_to_their_replacement():
    assert resolve("EPSG:6956").epsg == 5896 and resolve(6959).epsg == 5899


@pytest.mark.parametrize("spec", ["EPSG:4269", "EPSG:999999", "vn2000:Atlantis", "vn2000:99", "foo", "",
                                  "+proj=longlat",
                                  "vn2000:01@1999", "EPSG:"])
def test_resolve_unknown_is_one_line_user_error(spec):
    with pytest.raises(UserError) as err:
        resolve(spec)
    assert "\n" not in str(err.value) and str(err.value)


def test_generation_counts_and_codes():
    new, old = provinces("2025"), provinces("2004")
    assert len(new) == 34 and len({p.code for p in new}) == 34
    assert len(old) == 64 and len({p.code for p in old}) == 64  # 63 + Hà Tây
    assert [p.code for p in new] == [r["province_code"] for r in _rows("province_codes_2025.csv")]
    assert find_province("28", "2004").name == "Hà Tây"
    assert find_province("96", "2004").name == "Cà Mau" and find_province("01", "2004").name == "Hà Nội"


def test_every_province_of_both_generations_resolves_and_has_a_crs():
    for p in provinces():
        assert isinstance(p.crs, CRS) and p.crs.is_tm3 and p.crs.lon0 == p.lon0
        assert find_province(p.code, p.generation) == p
        assert find_province(p.name, p.generation) == p
        assert resolve(f"vn2000:{p.code}@{p.generation}") == p.crs
        assert province_zone(p.code, p.generation) == p.crs
        assert p.source


def test_old_meridians_are_the_circular_973_values():
    by_en = {r["province_en"]: float(r["lon0_deg"]) for r in _rows("central_meridians_old_63.csv")}
    for p in provinces("2004"):
        assert p.lon0 == by_en[p.name_en], p


def test_every_old_province_has_one_successor_and_every_new_one_predecessors():
    new_codes = {p.code for p in provinces("2025")}
    for p in provinces("2004"):
        assert p.successor in new_codes, p
    for p in provinces("2025"):
        assert p.predecessors, p
        assert p.lon0 in [c.lon0 for c in p.candidate_crs]
        assert set(p.legacy_lon0s) == {find_province(c, "2004").lon0 for c in p.predecessors}
    assert set(find_province("79").predecessors) == {"74", "77", "79"}
    assert set(find_province("25").predecessors) == {"17", "25", "26"}


def test_generation_matters_where_the_meridian_changed():
    # Lai Châu: 103°00' in Circular 973/2001, 104°45' in the 2025 appendix
    assert find_province("12", "2004").crs.epsg == 9205
    assert find_province("12", "2025").crs.epsg == 9208
    assert find_province("12").generation == "2025"
    # code 44 is Quảng Bình before 2025 and Quảng Trị after
    assert find_province("44", "2004").name == "Quảng Bình" and find_province("44").name == "Quảng Trị"
    # names of provinces merged away resolve to their old record
    assert find_province("Yên Bái").generation == "2004" and find_province("Yên Bái").lon0 == 104.75


@pytest.mark.parametrize("text", ["Hà Nội", "ha noi", "HA NOI", "Hanoi", "TP. Hà Nội", "TP Hà Nội", "Thành phố Hà Nội",
                                  "thanh pho ha noi", "Ha Noi City", "1", "01"])
def test_name_variants(text):
    assert find_province(text).code == "01"


@pytest.mark.parametrize("text,code,gen", [
    ("Thừa Thiên Huế", "46", "2025"), ("Thua Thien-Hue", "46", "2025"), ("Huế", "46", "2025"),
    ("Tỉnh Đắk Lắk", "66", "2025"), ("dak lak", "66", "2025"), ("Bà Rịa - Vũng Tàu", "77", "2004"),
    ("Ba Ria-Vung Tau", "77", "2004"), ("tp hcm", "79", "2025"), ("Sài Gòn", "79", "2025"),
    ("Hòa Bình", "17", "2004"), ("Hoà Bình", "17", "2004"), ("Thanh Hoá", "38", "2025"),
])
def test_name_variants_with_diacritics_and_prefixes(text, code, gen):
    p = find_province(text)
    assert (p.code, p.generation) == (code, gen)


def test_uncertain_meridians_are_marked_and_configurable(monkeypatch):
    # Sources disagree for Quảng Trị (44) and Tây Ninh (80) in 2025: the value must not pretend certainty
    for code in ("44", "80"):
        assert find_province(code, "2025").conflicting_lon0
    default = find_province("44", "2025").lon0
    assert default in (106.0, 106.25)
    monkeypatch.setenv("LANDGEO_CRS_MERIDIANS", "44@2025=106.25, 80@2025=105.5")
    p = find_province("44", "2025")
    assert p.lon0 == 106.25 and p.crs.epsg == 9212 and p.lon0_overridden
    assert find_province("80").crs.epsg == 9209
    monkeypatch.setenv("LANDGEO_CRS_MERIDIANS", "44=abc")
    with pytest.raises(UserError):
        find_province("44")


def test_province_extents_are_inside_the_epsg_area_of_their_crs():
    # the approximate boxes are cross-checked against EPSG usage areas (0.15 deg tolerance)
    for p in provinces("2004"):
        area = p.crs.to_pyproj().area_of_use
        assert p.extents
        w, s, e, n = p.extent
        assert w < e and s < n
        assert w >= area.west - 0.15 and e <= area.east + 0.15 and s >= area.south - 0.15 and n <= area.north + 0.15, p
        assert w - 1.6 <= p.lon0 <= e + 1.6, p  # TM-3: the meridian runs through or near the province


def test_bad_generation_and_empty_lookup():
    with pytest.raises(UserError):
        provinces("1999")
    with pytest.raises(UserError):
        find_province("  ")
    with pytest.raises(UserError):
        find_province("Yên Bái", "2025")


def test_postgis_has_every_crs_and_province_table_matches(db):
    for c in registry():
        row = db.execute("SELECT auth_srid, proj4text FROM spatial_ref_sys WHERE srid = %s", (c.srid,)).fetchone()
        assert row is not None, c
        if c.is_tm3:
            assert f"+lon_0={c.lon0:g}" in row[1] and "+k=0.9999" in row[1], (c, row)
    rows = db.execute("SELECT province_code, generation, lon0, srid FROM meta.province_crs").fetchall()
    assert len(rows) == 98
    for code, gen, lon0, srid in rows:
        p = find_province(code, gen)
        assert (p.lon0, p.crs.srid) == (lon0, srid)
    for p in provinces("2025"):
        assert db.execute("SELECT meta.vn2000_srid(%s)", (p.code,)).fetchone()[0] == p.crs.srid
    assert db.execute("SELECT meta.vn2000_srid('12', '2004')").fetchone()[0] == 9205
    assert db.execute("SELECT meta.vn2000_srid('02')").fetchone()[0] is None
    assert db.execute("SELECT meta.vn2000_srid('1')").fetchone()[0] == 5897


# Provincial capitals (VN-2000 lon/lat, rounded): each must lie inside its province's approximate extent,
# unpadded, for both generations (a 2025 extent is the union of its predecessors').
CAPITALS = {
    "01": (105.85, 21.03), "02": (104.98, 22.82), "04": (106.26, 22.67), "06": (105.83, 22.15), "08": (105.22, 21.82),
    "10": (103.97, 22.49), "11": (103.02, 21.39), "12": (103.46, 22.40), "14": (103.91, 21.33), "15": (104.87, 21.72),
    "17": (105.34, 20.82), "19": (105.84, 21.59), "20": (106.76, 21.85), "22": (107.08, 20.95), "24": (106.19, 21.27),
    "25": (105.40, 21.32), "26": (105.60, 21.31), "27": (106.08, 21.18), "28": (105.78, 20.97), "30": (106.33, 20.94),
    "31": (106.68, 20.86), "33": (106.05, 20.65), "34": (106.34, 20.45), "35": (105.92, 20.54), "36": (106.17, 20.42),
    "37": (105.97, 20.25), "38": (105.78, 19.81), "40": (105.68, 18.67), "42": (105.90, 18.34), "44": (106.60, 17.47),
    "45": (107.10, 16.82), "46": (107.59, 16.46), "48": (108.22, 16.05), "49": (108.47, 15.57), "51": (108.80, 15.12),
    "52": (109.22, 13.78), "54": (109.30, 13.09), "56": (109.19, 12.24), "58": (108.99, 11.57), "60": (108.10, 10.93),
    "62": (108.00, 14.35), "64": (108.00, 13.98), "66": (108.04, 12.67), "67": (107.69, 12.00), "68": (108.44, 11.94),
    "70": (106.90, 11.54), "72": (106.10, 11.31), "74": (106.65, 10.98), "75": (106.82, 10.95), "77": (107.08, 10.35),
    "79": (106.70, 10.78), "80": (106.41, 10.54), "82": (106.36, 10.36), "83": (106.38, 10.24), "84": (106.34, 9.93),
    "86": (105.97, 10.25), "87": (105.63, 10.46), "89": (105.43, 10.38), "91": (105.08, 10.01), "92": (105.78, 10.03),
    "93": (105.47, 9.78), "94": (105.97, 9.60), "95": (105.72, 9.29), "96": (105.15, 9.18),
}


def test_capitals_inside_their_province_and_detect_is_silent_there():
    from landgeo.crs import detect, transform

    assert len(CAPITALS) == 64
    for p in provinces("2004"):
        lon, lat = CAPITALS[p.code]
        assert any(w <= lon <= e and s <= lat <= n for w, s, e, n in p.extents), p
        successor = find_province(p.successor, "2025")
        assert set(p.extents) <= set(successor.extents)
        # a small survey around the capital, in the province's own plane (old meridian) and checked against
        # both the old province and its 2025 successor: nothing flagged
        x, y = transform("EPSG:4756", p.crs, [lon - 0.005, lon, lon + 0.005], [lat - 0.005, lat, lat + 0.005])
        assert detect(x, y, p.crs, f"{p.code}@2004").flags == [], p
        assert detect(x, y, p.crs, f"{successor.code}@2025").flags == [], (p, successor)


def test_old_codes_and_successors_agree_with_the_2025_merger_table():
    # independent check of provinces_2004.csv (secondary transcription) against the 2025 meridian table's
    # "merged_from" column and the 2025 codes: a 2025 province keeps the code of one of its predecessors
    from landgeo.crs.names import normalise_name

    for row in _rows("central_meridians_new_34_2025.csv"):
        p = find_province(row["province_code_2025"], "2025")
        merged = {normalise_name(part) for part in row["merged_from"].split("+")}
        preds = {find_province(c, "2004") for c in p.predecessors}
        assert merged == {normalise_name(q.name) for q in preds} - ({"hatay"} if p.code == "01" else set()), p
        assert p.code in p.predecessors, p
        assert normalise_name(p.name) in {normalise_name(q.name) for q in preds} | {"hue"}, p
        # the meridians of the predecessors are the table's "legacy" ones
        legacy = {part.strip() for part in row["legacy_lon0_of_merged_units"].split(";")}
        assert {f"{int(v)}°{round(v % 1 * 60):02d}'" for v in p.legacy_lon0s} == legacy, p
