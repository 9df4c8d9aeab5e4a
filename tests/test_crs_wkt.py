"""Recognising .prj / WKT texts as users get them from ArcGIS, MicroStation, QGIS/GDAL and older tools."""

from __future__ import annotations

import pyproj
import pytest

from landgeo.crs import from_wkt, read_prj, resolve
from landgeo.errors import UserError

GCS_VN2000_ESRI = ('GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
                   'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')


def esri_tm(name: str, lon0: float, k0: float = 0.9999, fe: float = 500000.0, gcs: str = GCS_VN2000_ESRI) -> str:
    return (f'PROJCS["{name}",{gcs},PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",{fe}],'
            f'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",{lon0}],PARAMETER["Scale_Factor",{k0}],'
            'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')


OFFICIAL = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
WRONG_SIGN = "-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278"

# What ArcGIS writes for a user-defined "VN-2000 Hồ Chí Minh" CRS (no EPSG id anywhere).
ARCGIS_HCMC = esri_tm("VN_2000_TM3_105_45", 105.75)
# ArcGIS, custom name as provincial offices type it, Hà Nội meridian.
ARCGIS_HANOI_CUSTOM = esri_tm("VN2000_HaNoi_KTT105_mui3", 105.0)
# MicroStation / older GDAL export: WKT1 with TOWGS84 (official), multi-line, Windows line ends, no AUTHORITY.
MICROSTATION_DANANG = (
    'PROJCS["VN-2000 / TM-3 KTT 107-45",\r\n'
    '    GEOGCS["VN-2000",\r\n'
    '        DATUM["Vietnam_2000",\r\n'
    '            SPHEROID["WGS 84",6378137,298.257223563],\r\n'
    f'            TOWGS84[{OFFICIAL}]],\r\n'
    '        PRIMEM["Greenwich",0],\r\n'
    '        UNIT["degree",0.0174532925199433]],\r\n'
    '    PROJECTION["Transverse_Mercator"],\r\n'
    '    PARAMETER["latitude_of_origin",0],\r\n'
    '    PARAMETER["central_meridian",107.75],\r\n'
    '    PARAMETER["scale_factor",0.9999],\r\n'
    '    PARAMETER["false_easting",500000],\r\n'
    '    PARAMETER["false_northing",0],\r\n'
    '    UNIT["metre",1]]\r\n'
)
# The well-known wrong-sign copy: rotations typed with the signs printed in Decision 05/2007.
WRONG_SIGN_PRJ = MICROSTATION_DANANG.replace(OFFICIAL, WRONG_SIGN)
# A user-defined datum named WGS 84 but bound with the VN-2000 parameters (common in MapInfo/Mapinfo->SHP exports).
WGS_NAMED_BUT_VN = esri_tm(
    "TM3_KinhTuyen_10530", 105.5,
    gcs=('GEOGCS["GCS_User",DATUM["D_User",SPHEROID["WGS_1984",6378137.0,298.257223563],'
         f'TOWGS84[{OFFICIAL}]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'))
# TM-3 parameters on GCS_WGS_1984: VN-2000 TM-3 exported by someone who picked the wrong GCS.
TM3_ON_WGS84 = esri_tm(
    "VN2000_TM3_Can_Tho", 105.0,
    gcs=('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
         'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'))
# EPSG:5194's parameters (oil-company set for the Mekong delta): not the official ones.
EPSG5194_PRJ = MICROSTATION_DANANG.replace(OFFICIAL, "-192.873,-39.382,-111.202,-0.00205,-0.0005,0.00335,0.0188")
# Zero TOWGS84: VN-2000 treated as WGS 84 by whoever honours it.
ZERO_PRJ = MICROSTATION_DANANG.replace(OFFICIAL, "0,0,0,0,0,0,0")
GDAL_WITH_ID = resolve(9218).to_pyproj().to_wkt("WKT1_GDAL")
WKT2_WITH_ID = resolve(9213).to_pyproj().to_wkt("WKT2_2019")
ESRI_UTM48 = resolve(3405).to_pyproj().to_wkt("WKT1_ESRI")
ESRI_WGS_UTM48 = ('PROJCS["WGS_1984_UTM_Zone_48N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",'
                  '6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
                  'PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",'
                  '0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9996],PARAMETER['
                  '"Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
ESRI_HN72_GK18 = resolve(2044).to_pyproj().to_wkt("WKT1_ESRI")
DEPRECATED_6956 = ('PROJCS["VN-2000 / TM-3 zone 481",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,'
                   '298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION['
                   '"Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",102],'
                   'PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],'
                   'UNIT["metre",1],AUTHORITY["EPSG","6956"]]')


@pytest.mark.parametrize("text,epsg", [
    (ARCGIS_HCMC, 9210), (ARCGIS_HANOI_CUSTOM, 5897), (MICROSTATION_DANANG, 5899), (GDAL_WITH_ID, 9218),
    (WKT2_WITH_ID, 9213), (ESRI_UTM48, 3405), (ESRI_WGS_UTM48, 32648), (GCS_VN2000_ESRI, 4756),
    (ESRI_HN72_GK18, 2044), (WGS_NAMED_BUT_VN, 9209), (esri_tm("VN_2000_TM3_103", 103.0), 9205),
    (esri_tm("VN_2000_TM3_108", 108.0), 5898), (esri_tm("VN_2000_TM3_10830", 108.5), 9218),
])
def test_recognised_without_flags(text, epsg):
    m = from_wkt(text)
    assert m.crs is not None and m.crs.epsg == epsg
    assert [f for f in m.flags if f.severity != "info"] == []
    assert m.ok


def test_every_tm3_meridian_recognised_from_esri_wkt_without_id():
    for c in [resolve(e) for e in list(range(9205, 9219)) + [5897, 5898, 5899]]:
        assert from_wkt(esri_tm(f"custom_{c.lon0}", c.lon0)).crs == c


def test_wrong_sign_towgs84_is_recognised_and_flagged():
    m = from_wkt(WRONG_SIGN_PRJ)
    assert m.crs is not None and m.crs.epsg == 5899
    assert [f.code for f in m.flags] == ["crs.wrong_sign_towgs84"]
    assert m.flags[0].severity == "warning" and "0.5-1.3 m" in m.flags[0].message


def test_official_towgs84_is_not_flagged():
    m = from_wkt(MICROSTATION_DANANG)
    assert m.flags == [] and m.towgs84 is not None and abs(m.towgs84[3] - 0.00928836) < 1e-12


def test_unofficial_and_zero_towgs84_flagged():
    m = from_wkt(EPSG5194_PRJ)
    assert m.crs.epsg == 5899 and [f.code for f in m.flags] == ["crs.unofficial_towgs84"]
    m = from_wkt(ZERO_PRJ)
    assert m.crs.epsg == 5899 and [f.code for f in m.flags] == ["crs.wgs84_vs_vn2000"]


def test_tm3_on_wgs84_gcs_is_taken_as_vn2000_with_a_flag():
    m = from_wkt(TM3_ON_WGS84)
    assert m.crs.epsg == 5897
    assert [f.code for f in m.flags] == ["crs.wgs84_vs_vn2000"]


def test_deprecated_code_read_as_replacement():
    m = from_wkt(DEPRECATED_6956)
    assert m.crs.epsg == 5896 and [f.code for f in m.flags] == ["crs.deprecated_code"]


@pytest.mark.parametrize("text,code", [
    ("", "crs.unrecognised_wkt"), ("this is not a prj", "crs.unrecognised_wkt"),
    (esri_tm("VN2000_TM3_10645", 106.75), "crs.non_standard_parameters"),  # no such TM-3 meridian in EPSG
    (esri_tm("VN2000_wrong_FE", 105.75, fe=0.0), "crs.non_standard_parameters"),
    (pyproj.CRS.from_epsg(26948).to_wkt("WKT1_ESRI"), "crs.unrecognised_wkt"),  # NAD83 / Arizona: not ours
])
def test_unrecognised(text, code):
    m = from_wkt(text)
    assert m.crs is None and code in [f.code for f in m.flags] and not m.ok


def test_meridian_typed_as_degrees_minutes_gets_a_hint():
    # 105°45' typed as 105.45 (a classic hand-made .prj mistake): not accepted, but the right CRS is suggested
    m = from_wkt(esri_tm("VN2000_TPHCM", 105.45))
    assert m.crs is None and m.flags[0].code == "crs.non_standard_parameters"
    assert m.flags[0].details["suggested"] == 9210 and "EPSG:9210" in m.flags[0].message
    m = from_wkt(esri_tm("VN2000_x", 106.75))  # 106°75' is no angle: no hint
    assert m.crs is None and "suggested" not in m.flags[0].details


def test_compound_crs_with_height_uses_its_horizontal_part():
    wkt = ('COMPD_CS["VN-2000 / TM-3 105-45 + Hon Dau 1992 height",' + GDAL_WITH_ID
           + ',VERT_CS["Hon Dau 1992 height",VERT_DATUM["Hon Dau 1992",2005],UNIT["metre",1],AXIS["Up",UP]]]')
    m = from_wkt(wkt)
    assert m.crs is not None and m.crs.epsg == 9218 and m.ok
    assert [f.code for f in m.flags] == ["crs.vertical_ignored"]


def test_resolve_accepts_wkt_and_read_prj(tmp_path):
    assert resolve(ARCGIS_HCMC).epsg == 9210
    with pytest.raises(UserError):
        resolve(esri_tm("bad", 106.75))
    prj = tmp_path / "thua_dat.prj"
    prj.write_bytes(("\ufeff" + ARCGIS_HANOI_CUSTOM).encode("utf-8"))
    assert read_prj(str(prj)).crs.epsg == 5897
    with pytest.raises(UserError):
        read_prj(str(tmp_path / "missing.prj"))
