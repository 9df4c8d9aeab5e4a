"""QGIS opens landgeo's parcels as a vector tile layer with the served style (PyQGIS, offscreen): the style loads,
its parcel fill and label rules are there, and the rendered map shows the land-use colours of the legend.

Skipped with the reason when Debian's python3-qgis is not installed (``make qgis`` installs it)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest
from PIL import Image
from test_api_server import GRID_SQL
from test_qgis_project import OFFSCREEN, QGIS_PYTHON, _pyqgis_missing
from tileserver import serve

from landdb.legend import LAND_USE_COLOURS
from landgeo.db.scratch import create_database, drop_database
from landgeo.tiles.tilematrixsets import lonlat_to_mercator

SCRIPT = Path(__file__).resolve().parent / "qgis_vector_tiles.py"
_MISSING = _pyqgis_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture(scope="module")
def site(server_url: str, template_db: str, tmp_path_factory):
    name = f"landgeo_test_qgistiles_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url) as conn:
        conn.execute(GRID_SQL)
        box = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
                           "ST_Extent(geom_wgs84) e FROM landdb.parcel) s").fetchone()
    tmp = tmp_path_factory.mktemp("qgistiles")
    with serve(url, tmp / "cache", tmp / "serve.log") as base:
        yield base, tmp, box
    drop_database(server_url, name)


def test_qgis_draws_the_parcels_vector_tiles_with_the_served_style(site):
    base, tmp, (x1, y1, x2, y2) = site
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    (mx1, my1), (mx2, my2) = lonlat_to_mercator(cx - 0.0012, cy - 0.0009), lonlat_to_mercator(cx + 0.0012, cy + 0.0009)
    png = tmp / "qgis-tiles.png"
    done = subprocess.run(
        [QGIS_PYTHON, str(SCRIPT), f"{base}/collections/parcels/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}",
         f"{base}/styles/parcels", str(mx1), str(my1), str(mx2), str(my2), str(png)],
        capture_output=True, text=True, env=OFFSCREEN, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["valid"] and result["style_loaded"], result
    layers = {s["layer"] for s in result["styles"]}
    assert {"parcels", "parcel-summary"} <= layers, result["styles"]
    assert "parcels-labels" in result["labels"], result
    assert result["saved"]
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16).reshape(-1, 3)
    legend = np.array([[int(LAND_USE_COLOURS[c][0][i:i + 2], 16) for i in (1, 3, 5)] for c in ("ONT", "CLN", "LUC")],
                      dtype=np.int16)
    near = (np.abs(pixels[:, None, :] - legend[None, :, :]).sum(axis=2) <= 30).any(axis=1).mean()
    assert near > 0.3, f"land-use colours on {near:.0%} of QGIS's rendering"
