"""The official VN-2000 → WGS 84 operation evaluated with numpy (landgeo.crs.geocentric) is PROJ's, to the last
bits of a double: the loader's serving copies are computed with it."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from landgeo.crs import resolve, transform
from landgeo.crs.geocentric import from_pipeline, official_to_wgs84
from landgeo.crs.transform import OFFICIAL_OPERATION
from loaders.source_crs import CrsPlan


def _grid(n: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)  # the whole of Vietnam and a margin around it
    return 100.0 + rng.random(n) * 20.0, 5.0 + rng.random(n) * 20.0


def test_numpy_helmert_is_proj_to_the_last_bits():
    official = official_to_wgs84()
    assert official is not None, "PROJ's definition of EPSG:6960 is no longer cart · helmert · inv cart"
    lon, lat = _grid()
    ours = official(lon, lat)
    theirs = transform(4756, 4326, lon, lat)
    for a, b in zip(ours, theirs, strict=True):
        assert np.abs(a - b).max() < 1e-11  # degrees: about a micrometre
    # and the operation moves points (≈ 0.4″ here): it is not the identity
    assert np.abs(ours[0] - lon).min() > 1e-5


def test_proj_cs2cs_agrees_on_known_points():
    """Against pyproj's own pipeline object, point by point (lat/lon order, as EPSG defines the operation)."""
    t = pyproj.Transformer.from_pipeline(OFFICIAL_OPERATION)
    official = official_to_wgs84()
    for lon, lat in [(105.8522, 21.0285), (106.6980, 10.7725), (109.1967, 12.2388), (103.0, 22.5)]:
        lat2, lon2 = t.transform(lat, lon)
        x, y = official(np.array([lon]), np.array([lat]))
        assert abs(x[0] - lon2) < 1e-12 and abs(y[0] - lat2) < 1e-12


def test_non_finite_input_stays_non_finite():
    x, y = official_to_wgs84()(np.array([np.nan, 105.0, np.inf]), np.array([10.0, np.nan, 10.0]))
    assert not np.isfinite(x[[0, 2]]).any() or not np.isfinite(y[[0, 2]]).any()
    assert not np.isfinite(y[1])


@pytest.mark.parametrize("definition", [
    "proj=pipeline step proj=cart ellps=WGS84 step proj=helmert x=1 convention=coordinate_frame",
    "proj=pipeline step proj=push v_3 step proj=cart ellps=bessel step proj=helmert x=1 "
    "convention=coordinate_frame step inv proj=cart ellps=WGS84 step proj=pop v_3",
    "proj=pipeline step proj=push v_3 step proj=cart ellps=WGS84 step proj=helmert x=1 exact "
    "convention=coordinate_frame step inv proj=cart ellps=WGS84 step proj=pop v_3",
    "proj=pipeline inv step proj=push v_3 step proj=cart ellps=WGS84 step proj=helmert x=1 "
    "convention=coordinate_frame step inv proj=cart ellps=WGS84 step proj=pop v_3",
    "proj=pipeline step proj=push v_3 step proj=cart ellps=WGS84 step proj=helmert x=1 t_epoch=2010 "
    "convention=position_vector step inv proj=cart ellps=WGS84 step proj=pop v_3",
])
def test_other_forms_are_left_to_proj(definition):
    assert from_pipeline(definition) is None


def test_position_vector_convention_matches_proj():
    definition = ("proj=pipeline step proj=axisswap order=2,1 step proj=unitconvert xy_in=deg xy_out=rad "
                  "step proj=push v_3 step proj=cart ellps=WGS84 step proj=helmert x=-191.9 y=-39.3 z=-111.45 "
                  "rx=0.9 ry=-1.97 rz=0.43 s=0.25 convention=position_vector step inv proj=cart ellps=WGS84 "
                  "step proj=pop v_3 step proj=unitconvert xy_in=rad xy_out=deg step proj=axisswap order=2,1")
    ours = from_pipeline(definition)
    lon, lat = _grid(10_000)
    lat2, lon2 = pyproj.Transformer.from_pipeline(definition).transform(lat, lon)
    x, y = ours(lon, lat)
    assert np.abs(x - lon2).max() < 1e-11 and np.abs(y - lat2).max() < 1e-11


def test_the_loader_serving_copy_is_the_official_transform():
    plan = CrsPlan(resolve("EPSG:9210"), "--crs")
    rng = np.random.default_rng(3)
    xy = np.column_stack([560_000 + rng.random(50_000) * 80_000, 1_150_000 + rng.random(50_000) * 80_000])
    canonical, wgs84 = plan.vertices(xy, wgs84=True)
    lon, lat = transform(4756, 4326, canonical[:, 0], canonical[:, 1])
    assert np.abs(wgs84[:, 0] - lon).max() < 1e-11 and np.abs(wgs84[:, 1] - lat).max() < 1e-11
