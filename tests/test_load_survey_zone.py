"""The legal area of a parcel from a source outside TM-3 is measured in the zone of the province it was surveyed
under: cadastral data keep the central meridian of the former province after the 2025 merger (an old Bà Rịa–Vũng
Tàu commune now in Hồ Chí Minh City: 107°45', not Hồ Chí Minh City's 105°45')."""

from __future__ import annotations

import numpy as np
import psycopg
import shapely
from vectorfiles import write

from landdb.admin_units import survey_province_lookup
from landgeo.crs import province_zone

# (commune code, lon, lat): an old BRVT ward (Phường Thắng Tam, 2025: part of Phường Vũng Tàu, province 79); the
# new Phường Vũng Tàu, whose code is also an old BRVT ward's (both readings: BRVT); a current HCMC ward made of
# old HCMC wards (Phường Tân Định)
PARCELS = [("26508", 107.085, 10.345), ("26506", 107.075, 10.350), ("26737", 106.690, 10.790)]


def _fields(rows: list[tuple]) -> dict:
    n = len(rows)
    return {"MaXa": np.array([r[0] for r in rows], dtype=object), "SoHieuToBanDo": np.ones(n, dtype=np.int32),
            "SoThuTuThua": np.arange(1, n + 1, dtype=np.int32),
            "KyHieuMucDichSuDung": np.array(["ODT"] * n, dtype=object), "DienTich": np.full(n, 400.0),
            "DiaChi": np.array(["Phường"] * n, dtype=object)}


def test_survey_province_of_old_and_new_commune_codes(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        surveyed = survey_province_lookup(conn)
    assert surveyed["26508"] == "77" and surveyed["26506"] == "77"  # old BRVT wards / a new ward made of them
    assert surveyed["26737"] == "79"  # a current HCMC ward made of old HCMC wards
    assert surveyed["00004"] == "01"  # Ba Đình, Hà Nội (old ward code)


def test_wgs84_parcels_of_a_former_province_use_its_meridian(tmp_path, run_cli, fresh_db):
    boxes = np.array([shapely.box(lon, lat, lon + 0.0002, lat + 0.0002) for _c, lon, lat in PARCELS], dtype=object)
    src = write(tmp_path / "vung_tau.geojson", boxes, _fields(PARCELS), crs="EPSG:4326", driver="GeoJSON")
    result = run_cli("load", str(src), "--into", "parcels", db_url=fresh_db)
    assert result.returncode == 0, result.stderr
    brvt, hcmc = province_zone("77", "2004"), province_zone("79")
    assert brvt.srid != hcmc.srid
    with psycopg.connect(fresh_db) as conn:
        rows = dict((r[0], r[1:]) for r in conn.execute(
            "SELECT commune_code, province_code, area_srid, computed_area, "
            "round(ST_Area(ST_Transform(geom, area_srid))::numeric, 2), "
            "round(ST_Area(ST_Transform(geom, %s))::numeric, 2) FROM landdb.parcel", (hcmc.srid,)).fetchall())
    assert rows["26508"][:2] == ("79", brvt.srid) and rows["26506"][:2] == ("79", brvt.srid)
    assert rows["26737"][:2] == ("79", hcmc.srid)
    for code, (_province, _srid, stored, in_its_zone, _in_hcmc_zone) in rows.items():
        assert stored == in_its_zone, code  # what trigger parcel_derive stores for the same area_srid
    # two degrees from Hồ Chí Minh City's meridian the scale error is ~ 1e-3 of the area: it matters
    assert abs(rows["26508"][2] - rows["26508"][4]) > 0.1
