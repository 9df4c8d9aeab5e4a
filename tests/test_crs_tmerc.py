"""The inverse Transverse Mercator evaluated with numpy (landgeo.crs.tmerc) is PROJ's, to the last bits of a double,
for every VN-2000 projected CRS: the loader's stored coordinates are computed with it."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from landgeo.crs import transform
from landgeo.crs.registry import from_epsg, registry
from landgeo.crs.tmerc import InverseTM, checked, from_pipeline
from landgeo.crs.transform import _ArrayStep, _steps

VN2000_PROJECTED = [c for c in registry() if c.kind == "projected" and c.datum == "VN-2000"]


def _zone_points(crs, n: int = 50_000) -> tuple[np.ndarray, np.ndarray]:
    """Easting/northing over the zone and 3.5° beyond its meridian either side, 7°–24° N."""
    rng = np.random.default_rng(crs.epsg)
    lon = crs.lon0 + rng.uniform(-3.5, 3.5, n)
    lat = rng.uniform(7.0, 24.0, n)
    forward = pyproj.Transformer.from_crs(from_epsg(4756).to_pyproj(), crs.to_pyproj(), always_xy=True)
    return forward.transform(lon, lat)


@pytest.mark.parametrize("crs", VN2000_PROJECTED, ids=lambda c: c.code)
def test_every_vn2000_zone_is_inverted_by_arrays_as_proj_does(crs):
    steps = _steps(crs, from_epsg(4756))
    assert len(steps) == 1 and isinstance(steps[0], _ArrayStep), f"{crs.code}: PROJ kept, arrays not used"
    x, y = _zone_points(crs)
    proj = pyproj.Transformer.from_crs(crs.to_pyproj(), from_epsg(4756).to_pyproj(), always_xy=True)
    want = proj.transform(x, y)
    got = transform(crs, 4756, x, y)
    for a, b in zip(got, want, strict=True):
        assert np.abs(a - np.asarray(b)).max() < 1e-11  # degrees: about a micrometre


def test_the_series_are_not_the_identity_nor_a_spherical_shortcut():
    """A point 150 km east of the meridian: a spherical TM or a skipped series term would be metres away."""
    crs = from_epsg(9210)  # Hồ Chí Minh City, TM-3 105°45'
    x, y = np.array([650_000.0, 500_000.0]), np.array([1_200_000.0, 1_200_000.0])
    lon, lat = transform(crs, 4756, x, y)
    proj = pyproj.Transformer.from_crs(crs.to_pyproj(), from_epsg(4756).to_pyproj(), always_xy=True)
    want_lon, want_lat = proj.transform(x, y)
    assert np.abs(lon - want_lon).max() < 1e-12 and np.abs(lat - want_lat).max() < 1e-12
    assert lon[1] == pytest.approx(105.75, abs=1e-12)  # on the central meridian
    assert lon[0] > 107.1 and 10.8 < lat[0] < 10.9


def test_origin_latitude_and_southern_utm_are_honoured():
    definitions = ["+proj=tmerc +lat_0=10.5 +lon_0=106 +k=0.9999 +x_0=500000 +y_0=300000 +ellps=WGS84 +units=m",
                   "+proj=utm +zone=48 +south +ellps=WGS84 +units=m"]
    for definition in definitions:
        t = pyproj.Transformer.from_crs(pyproj.CRS(definition), pyproj.CRS("EPSG:4326").geodetic_crs,
                                        always_xy=True)
        inverse = checked(t)
        assert inverse is not None, definition
        x = np.linspace(300_000, 700_000, 41)
        y = np.linspace(200_000, 9_900_000, 41) if "south" in definition else np.linspace(-500_000, 1_500_000, 41)
        want = t.transform(x, y)
        got = inverse(x, y)
        for a, b in zip(got, want, strict=True):
            assert np.abs(a - np.asarray(b)).max() < 1e-11


@pytest.mark.parametrize("definition", [
    "proj=pipeline step inv proj=tmerc approx lat_0=0 lon_0=105 k=0.9999 x_0=500000 y_0=0 ellps=WGS84 "
    "step proj=unitconvert xy_in=rad xy_out=deg",  # Evenden/Snyder: another algorithm
    "proj=pipeline step inv proj=tmerc lat_0=0 lon_0=105 k=1 x_0=500000 y_0=0 ellps=krass "
    "step proj=unitconvert xy_in=rad xy_out=deg",  # an ellipsoid this module does not know
    "proj=pipeline step inv proj=webmerc lat_0=0 lon_0=0 x_0=0 y_0=0 ellps=WGS84 "
    "step proj=unitconvert xy_in=rad xy_out=deg",
    "proj=pipeline step proj=tmerc lat_0=0 lon_0=105 k=0.9999 x_0=500000 y_0=0 ellps=WGS84",  # forward
    "proj=pipeline step inv proj=tmerc lat_0=0 lon_0=105 k=0.9999 x_0=500000 y_0=0 ellps=WGS84 "
    "step proj=unitconvert xy_in=rad xy_out=deg step proj=axisswap order=2,1",
    "proj=pipeline step inv proj=utm zone=61 ellps=WGS84 step proj=unitconvert xy_in=rad xy_out=deg",
])
def test_other_definitions_are_left_to_proj(definition):
    assert from_pipeline(definition) is None


def test_a_wrong_parameter_is_caught_by_the_check_against_proj():
    """`checked` compares with PROJ before use: a definition read wrongly would be refused, not used."""
    t = pyproj.Transformer.from_crs(from_epsg(5897).to_pyproj(), from_epsg(4756).to_pyproj(), always_xy=True)
    assert checked(t) is not None

    class Shifted:  # PROJ's definition with the meridian moved by 0.0001°
        definition = t.definition.replace("lon_0=105 ", "lon_0=105.0001 ")

        def transform(self, *args, **kwargs):
            return t.transform(*args, **kwargs)

    assert from_pipeline(Shifted.definition) is not None
    assert checked(Shifted()) is None


def test_points_proj_cannot_invert_and_non_finite_ones_are_nan():
    inverse = InverseTM(6378137.0, 1 / 298.257223563, 105.0, 0.0, 0.9999, 500000.0, 0.0)
    x = np.array([500_000.0, np.nan, np.inf, 500_000.0 + 2.7 * 6_367_000.0, 500_000.0])
    y = np.array([np.nan, 1_000_000.0, 1_000_000.0, 1_000_000.0, 1_000_000.0])
    lon, lat = inverse(x, y)
    assert np.isnan(lon[:4]).all() and np.isnan(lat[:4]).all()
    assert np.isfinite(lon[4]) and lon[4] == pytest.approx(105.0, abs=1e-12)
    # the whole transform says the same as PROJ does about points out of its domain
    t = pyproj.Transformer.from_crs(from_epsg(5897).to_pyproj(), from_epsg(4756).to_pyproj(), always_xy=True)
    assert not np.isfinite(t.transform(x[3:4], y[3:4], errcheck=False)[0]).any()
    assert np.isnan(transform(5897, 4756, x[3:4], y[3:4])[0]).all()
