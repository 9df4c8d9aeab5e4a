"""Detection of the classic CRS errors, each triggered by a realistic case and silent on good data."""

from __future__ import annotations

import numpy as np
import pytest

from landgeo.crs import Reference, detect, transform
from landgeo.errors import UserError

RNG = np.random.default_rng(2025)

# Commune centres (VN-2000 lon/lat) and a few hundred parcel corners within ~1.5 km of each.
HANOI = (105.8522, 21.0285)        # Hoàn Kiếm, meridian 105°00' (EPSG:5897)
HCMC = (106.6980, 10.7725)         # Bến Thành, meridian 105°45' (EPSG:9210)
VUNG_TAU = (107.0843, 10.3460)     # former Bà Rịa - Vũng Tàu (107°45', EPSG:5899), now in HCMC (79)
CAN_THO = (105.7469, 10.0452)


def corners(centre, n=300, spread=0.015):
    lon = centre[0] + RNG.uniform(-spread, spread, n)
    lat = centre[1] + RNG.uniform(-spread, spread, n)
    return lon, lat


def plane(centre, crs, n=300):
    return transform("EPSG:4756", crs, *corners(centre, n))


def codes(d):
    return [f.code for f in d.flags]


# ------------------------------------------------------------------ good data: nothing flagged

@pytest.mark.parametrize("centre,crs,province", [
    (HCMC, "EPSG:9210", "79"), (HANOI, "EPSG:5897", "01"), (HANOI, "EPSG:5897", "Hà Nội"),
    (VUNG_TAU, "EPSG:5899", "79"),            # legacy meridian of a merged province: fine
    (VUNG_TAU, "EPSG:5899", "77@2004"),       # the same data against the former province
    (CAN_THO, "EPSG:4756", "92"), (HCMC, "EPSG:3405", "79"), (HCMC, "EPSG:32648", "79"),
    (CAN_THO, "EPSG:5897", "TP. Cần Thơ"),
])
def test_good_data_is_not_flagged(centre, crs, province):
    x, y = plane(centre, crs)
    d = detect(x, y, crs, province)
    assert d.flags == [] and d.ok, d.flags
    assert d.candidates[0].code == crs


def test_good_data_of_an_old_province_generation():
    x, y = plane(VUNG_TAU, "EPSG:5899")
    from landgeo.crs import find_province

    p = find_province("77", "2004")
    d = detect(x, y, "EPSG:5899", p.name)
    assert d.flags == [] and d.province.code == "77"


def test_good_wgs84_data_with_reference_is_not_flagged():
    lon, lat = corners(HCMC, 50)
    wlon, wlat = transform("EPSG:4756", "EPSG:4326", lon, lat)
    ref = Reference(*transform("EPSG:4756", "EPSG:9210", lon, lat), "EPSG:9210")
    d = detect(wlon, wlat, "EPSG:4326", "79", reference=ref)
    assert d.flags == [] and d.candidates[0].epsg == 4326


# ------------------------------------------------------------------ each flag on a realistic case

def test_vn2000_lonlat_declared_as_wgs84_flagged_with_reference():
    # a GeoJSON export of cadastral corners: VN-2000 lon/lat written as if WGS 84 (RFC 7946)
    lon, lat = corners(HCMC, 50)
    control = Reference(*transform("EPSG:4756", "EPSG:9210", lon, lat), "EPSG:9210")  # surveyed control points
    d = detect(lon, lat, "EPSG:4326", "79", reference=control)
    assert codes(d) == ["crs.wgs84_vs_vn2000"] and not d.ok
    assert d.candidates[0].epsg == 4756
    assert 150 < d.flags[0].details["declared_residual_m"] < 300  # the ~225 m datum shift


def test_undeclared_lonlat_warns_about_the_datum():
    d = detect(*corners(HCMC), None, "79")
    assert set(codes(d)) == {"crs.undeclared", "crs.wgs84_vs_vn2000"} and d.ok
    assert {c.epsg for c in d.candidates[:2]} == {4756, 4326}


def test_wrong_meridian_flagged():
    # Hà Nội parcels surveyed on 105°00' delivered with the HCMC meridian's .prj
    x, y = plane(HANOI, "EPSG:5897")
    d = detect(x, y, "EPSG:9210", "01")
    assert codes(d) == ["crs.wrong_meridian"] and not d.ok
    assert d.candidates[0].epsg == 5897 and d.flags[0].details["suggested"] == 5897


def test_plausible_but_foreign_meridian_is_a_warning():
    # HCMC data declared on 106°00': the points still land in the (large) province, but that is not its meridian
    x, y = plane(HCMC, "EPSG:9211")
    d = detect(x, y, "EPSG:9211", "79")
    assert codes(d) == ["crs.wrong_meridian"] and d.flags[0].severity == "warning" and d.ok


def test_swapped_xy_northing_first():
    # Vietnamese survey tables: X = northing, Y = easting
    e, n = plane(HCMC, "EPSG:9210")
    d = detect(n, e, "EPSG:9210", "79")
    assert codes(d) == ["crs.swapped_xy"] and d.layout == "en" and d.candidates[0].epsg == 9210


def test_swapped_lat_lon():
    lon, lat = corners(HANOI)
    d = detect(lat, lon, "EPSG:4756", "01")
    assert codes(d) == ["crs.swapped_xy"]


def test_utm_taken_for_tm3_flagged():
    # a 1:10 000 topographic extract in VN-2000 / UTM 48N labelled with the province's TM-3 .prj
    # (pre-2025 HCMC: the 2025 province also spans Vũng Tàu, wide enough to hide a 75 km shift east)
    x, y = plane(HCMC, "EPSG:3405")
    d = detect(x, y, "EPSG:9210", "79@2004")
    assert codes(d) == ["crs.utm_vs_tm3"] and d.candidates[0].epsg == 3405


def test_utm_vs_tm3_on_the_same_meridian_needs_reference():
    # Hà Nội: UTM 48N and TM-3 105°00' share the meridian; only the scale differs (~700 m in northing)
    lon, lat = corners(HANOI, 40)
    x, y = transform("EPSG:4756", "EPSG:3405", lon, lat)
    assert detect(x, y, "EPSG:5897", "01").flags == []  # cannot be told from extents
    control = Reference(lon, lat, "EPSG:4756")
    d = detect(x, y, "EPSG:5897", "01", reference=control)
    assert codes(d) == ["crs.utm_vs_tm3"] and d.candidates[0].epsg == 3405


def test_metres_declared_as_degrees_and_the_reverse():
    x, y = plane(HCMC, "EPSG:9210")
    d = detect(x, y, "EPSG:4756", "79")
    assert codes(d) == ["crs.units"] and d.candidates[0].epsg == 9210
    lon, lat = corners(HCMC)
    d = detect(lon, lat, "EPSG:9210", "79")
    assert codes(d) == ["crs.units"]


def test_outside_declared_province():
    # correct Hà Nội data, but loaded with --province 79
    x, y = plane(HANOI, "EPSG:5897")
    d = detect(x, y, "EPSG:5897", "79")
    assert codes(d) == ["crs.outside_province"] and not d.ok


def test_outside_vietnam():
    # Web Mercator metres declared as WGS 84 lon/lat
    mx, my = transform("EPSG:4756", "EPSG:3857", *corners(HCMC))
    d = detect(mx, my, "EPSG:4326")
    assert "crs.outside_vietnam" in codes(d) and not d.ok
    # and lon/lat of somewhere else entirely
    d = detect([2.35, 2.36], [48.85, 48.86], "EPSG:4326")
    assert codes(d) == ["crs.outside_vietnam"]


def test_hn72_gauss_kruger_with_zone_prefix_declared_as_tm3():
    x, y = transform("EPSG:4756", "EPSG:2044", *corners(HANOI))
    d = detect(x, y, "EPSG:5897", "01")
    assert codes(d) == ["crs.hn72_vs_vn2000"] and d.candidates[0].epsg == 2044


def test_undeclared_plane_coordinates_ranked_by_province():
    x, y = plane(HCMC, "EPSG:9210")
    d = detect(x, y, None, "79")
    assert codes(d) == ["crs.undeclared"] and d.candidates[0].epsg == 9210
    x, y = plane(VUNG_TAU, "EPSG:5899")
    assert detect(x, y, None, "79").candidates[0].epsg == 5899


def test_nan_and_empty_input():
    d = detect([np.nan], [np.nan], "EPSG:9210")
    assert not d.ok
    x, y = plane(HCMC, "EPSG:9210", n=3)
    with pytest.raises(UserError):
        detect(x, y, "EPSG:9210", reference=Reference([1.0], [2.0], "EPSG:9210"))


def test_after_the_2025_merger_the_new_meridian_is_a_wrong_meridian_for_old_data():
    # Bắc Ninh (24, 2025) = Bắc Ninh (105°30') + Bắc Giang (107°00'); its new meridian is 107°00'.
    # Parcels of the former Bắc Ninh surveyed on 105°30' but labelled with the new province's CRS:
    x, y = plane((106.076, 21.186), "EPSG:9209")
    d = detect(x, y, "EPSG:9214", "24")
    assert codes(d) == ["crs.wrong_meridian"] and d.candidates[0].epsg == 9209
    # the same data correctly labelled: nothing (the legacy meridian is one of the province's)
    assert detect(x, y, "EPSG:9209", "Bắc Ninh").flags == []
    # and Bắc Giang parcels on 107°00' labelled with the old Bắc Ninh meridian
    x, y = plane((106.194, 21.273), "EPSG:9214")
    d = detect(x, y, "EPSG:9209", "24")
    assert codes(d) == ["crs.wrong_meridian"] and d.candidates[0].epsg == 9214


@pytest.mark.parametrize("centre,crs,where", [
    (HCMC, "EPSG:9210", "79"), (HANOI, "EPSG:5897", "01"), (VUNG_TAU, "EPSG:5899", "79"),
    ((106.757, 21.853), "EPSG:9215", "20"),   # Lạng Sơn, 107°15'
    ((103.913, 21.327), "EPSG:9206", "14"),   # Sơn La, 104°00'
    ((108.80, 15.12), "EPSG:5898", "51"),     # Quảng Ngãi, 108°00'
])
def test_undeclared_plane_coordinates_without_province(centre, crs, where):
    # no .prj, no province: TM-3 readings that land in a province using that very meridian come first; a
    # neighbour with another meridian can be just as consistent (Hà Nội on 105°00' vs Hải Dương on 105°30'),
    # which the warning spells out (data near their meridian, like Sơn La's, fit many zones)
    x, y = plane(centre, crs)
    d = detect(x, y)
    assert crs in [c.code for c in d.candidates]
    assert codes(d) == ["crs.undeclared"] and d.ok
    if d.candidates[0].code != crs:
        assert crs in d.flags[0].message and "declare the CRS or the province" in d.flags[0].message
    # with the province, the answer is exact
    d = detect(x, y, None, where)
    assert d.candidates[0].code == crs and where in [p.code for p in d.located_in]
