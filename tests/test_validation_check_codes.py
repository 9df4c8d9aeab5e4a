"""The check registry and the area tolerance: stable codes, bilingual messages, one formula in Python and SQL."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from landgeo.catalog import get_target
from landgeo.validation import CHECKS, DEFAULT, Check, Finding, area_tolerance, check_features, split_land_use_codes


def test_every_check_has_code_severity_and_two_languages():
    assert len(CHECKS) >= 30
    for code, check in CHECKS.items():
        assert isinstance(check, Check) and check.code == code
        assert code.split(".")[0] in ("geom", "topo", "attr", "net", "crs")
        assert check.severity in ("error", "warning", "info")
        assert check.title_vi and check.title_en and check.title_vi != check.title_en
    for code in ("geom.invalid", "topo.overlap", "topo.gap", "attr.parcel_number_duplicate", "attr.area_mismatch",
                 "net.dangle", "topo.wrong_sheet", "topo.outside_commune", "crs.outlier"):
        assert code in CHECKS
    assert CHECKS["geom.invalid"].repairable and not CHECKS["topo.overlap"].repairable


def test_messages_fill_from_details_and_never_crash():
    f = CHECKS["attr.area_mismatch"].finding({"declared_m2": 430.0, "computed_m2": 400.0, "diff_m2": 30.0,
                                              "tolerance_m2": 8.0, "scale": 1000}, feature_id="7")
    assert isinstance(f, Finding) and f.severity == "error" and f.feature_id == "7"
    assert "430.00" in f.message_vi and "1:1000" in f.message_en and "hạn sai" in f.message_vi
    for check in CHECKS.values():  # missing details show as '?', never an exception
        vi, en = check.messages({})
        assert vi and en


@pytest.mark.parametrize("area, scale, expected", [(400, 1000, 8.0), (1000, 2000, 0.8 * math.sqrt(1000)),
                                                   (100, 500, 2.0), (0, 1000, 0.0)])
def test_area_tolerance_formula(area, scale, expected):
    assert area_tolerance(area, scale) == pytest.approx(expected)
    assert area_tolerance(area, scale, DEFAULT.with_(area_coefficient=0.0002)) == pytest.approx(expected / 2)


def test_sql_area_tolerance_is_the_same_formula(db):
    for area, scale in ((400, 1000), (1234.5, 2000), (50, 200)):
        got = db.execute("SELECT meta.cadastral_area_tolerance(%s, %s)", (area, scale)).fetchone()[0]
        assert got == pytest.approx(area_tolerance(area, scale))


def test_land_use_code_lists_are_split():
    assert split_land_use_codes("ONT+CLN") == ["ONT", "CLN"]
    assert split_land_use_codes("ont, cln;lua") == ["ONT", "CLN", "LUA"]
    assert split_land_use_codes(["ONT"]) == ["ONT"]
    assert split_land_use_codes(None) == [] and split_land_use_codes("  ") == []


def test_numeric_columns_and_lists_judge_the_same():
    """Attributes as numpy columns (as pyogrio reads them) or as Python lists give the same findings."""
    t = get_target("parcels")
    geoms = np.array([shapely.box(585000 + 20 * i, 2325000, 585020 + 20 * i, 2325020) for i in range(6)])
    lists = {"province_code": ["01"] * 6, "commune_code": ["00004"] * 6, "sheet_number": [1, 1, 0, 1, 1, 1],
             "parcel_number": [1, 2, 3, float("nan"), 5.5, 6], "land_use_codes": ["ONT"] * 6,
             "declared_area": [400, -1, 400, 400, 400, None]}
    arrays = {**lists, "sheet_number": np.array(lists["sheet_number"]),
              "parcel_number": np.array(lists["parcel_number"], dtype=float),
              "declared_area": np.array([400, -1, 400, 400, 400, np.nan])}
    a = {(f.code, f.feature_index) for f in check_features(t, geoms, lists, crs=5897, detect=False)}
    b = {(f.code, f.feature_index) for f in check_features(t, geoms, arrays, crs=5897, detect=False)}
    assert a == b == {("attr.domain", 1), ("attr.domain", 2), ("attr.required_missing", 3), ("attr.domain", 4)}


def test_attribute_count_mismatch_is_a_programming_error():
    with pytest.raises(ValueError):
        check_features(get_target("parcels"), np.array([shapely.Point(0, 0)]), {"commune_code": []})


def test_every_flag_of_the_crs_module_has_a_check():
    from landgeo.crs import flags
    from landgeo.validation import CHECKS

    codes = {v for k, v in vars(flags).items() if k.isupper() and isinstance(v, str) and v.startswith("crs.")}
    assert len(codes) >= 15, codes
    assert codes - set(CHECKS) == set()
