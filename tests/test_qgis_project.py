"""The shipped QGIS project (qgis/landgeo-demo.qgs): its content, and real PyQGIS opening it against a server.

The PyQGIS test runs Debian's python3-qgis (``/usr/bin/python3``, headless) and is skipped with the reason
when it is not installed (``make qgis`` installs it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from landgeo.demo.__main__ import available_commands

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "qgis" / "landgeo-demo.qgs"
QGIS_PYTHON = "/usr/bin/python3"
OFFSCREEN = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": "/tmp"}


def _pyqgis_missing() -> str | None:
    if not os.path.exists(QGIS_PYTHON):
        return f"{QGIS_PYTHON} not found"
    done = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, env=OFFSCREEN, timeout=120)
    return None if done.returncode == 0 else "python3-qgis is not installed (run `make qgis`)"


def _layers() -> list[ET.Element]:
    return ET.parse(PROJECT).getroot().findall(".//projectlayers/maplayer")


def _typename(layer: ET.Element) -> str:
    source = layer.findtext("datasource")
    return source.split("typename='")[1].split("'")[0]


def test_project_has_every_published_collection_as_an_oapif_layer():
    from landgeo.api.collections import collections

    layers = _layers()
    assert {layer.findtext("provider") for layer in layers} == {"OAPIF"}
    # every public collection with a geometry (the code lists admin-unit-codes and admin-crosswalk-2025 are tables;
    # the register's collections need an officer's token)
    assert {_typename(layer) for layer in layers} == {cid for cid, c in collections().items()
                                                     if c.has_geometry and not c.restricted}
    for layer in layers:
        assert "url='http://127.0.0.1:5000'" in layer.findtext("datasource"), "points where `make demo` serves"
    crs = ET.parse(PROJECT).getroot().find("./projectCrs/spatialrefsys/authid")
    assert crs is not None and crs.text == "EPSG:5897"


def test_parcels_are_coloured_by_land_use_and_labelled_sheet_slash_parcel():
    parcels = next(layer for layer in _layers() if _typename(layer) == "parcels")
    renderer = parcels.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol"
    assert renderer.get("attr") == 'array_first("land_use_codes")'
    categories = {c.get("value"): c.get("symbol") for c in renderer.findall("./categories/category")}
    for code in ("LUC", "LUK", "HNK", "CLN", "NTS", "ONT", "DGT", "DTL", "SON"):
        assert code in categories, code
    symbols = {s.get("name"): s for s in renderer.findall("./symbols/symbol")}

    def fill(code: str) -> str:
        layer = symbols[categories[code]].find("layer")
        options = {o.get("name"): o.get("value") for o in layer.iter("Option")}
        values = options.get("color") or {p.get("k"): p.get("v") for p in layer.iter("prop")}.get("color")
        return ",".join(values.split(",")[:3])

    assert fill("LUC") == "255,252,140"  # paddy: yellow
    assert fill("ONT") == "255,208,255"  # rural residential: pink
    assert fill("SON") == "160,255,255"  # rivers: blue
    labeling = parcels.find("labeling/settings/text-style")
    assert "sheet_number" in labeling.get("fieldName") and "parcel_number" in labeling.get("fieldName")
    # labels only where they fit in the parcel, as the tiles send label points (landgeo.tiles.tiles.LABEL_FIT_PX)
    assert parcels.find("labeling/settings/placement").get("fitInPolygonOnly") == "1"


missing_cli = {"load", "validate", "serve"} - available_commands()


@pytest.mark.skipif(bool(missing_cli), reason=f"landgeo CLI has no {sorted(missing_cli)} command(s) yet")
def test_pyqgis_opens_the_project_every_layer_valid_with_features(fresh_db, tmp_path):
    reason = _pyqgis_missing()
    if reason:
        pytest.skip(reason)
    env = {**os.environ, "LANDGEO_DATABASE_URL": fresh_db}
    demo = subprocess.run([sys.executable, "-m", "landgeo.demo", "--no-serve", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers", "1"],
        env={**env, "LANDGEO_API_NO_ACCESS_LOG": "1"}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/collections?f=json", timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.5)
        api_ids = {c["id"] for c in requests.get(f"{base}/collections?f=json", timeout=30).json()["collections"]}
        project = tmp_path / "demo.qgs"
        project.write_text(PROJECT.read_text(encoding="utf-8").replace("http://127.0.0.1:5000", base),
                           encoding="utf-8")
        checker = tmp_path / "check.py"
        checker.write_text(CHECKER, encoding="utf-8")
        done = subprocess.run([QGIS_PYTHON, str(checker), str(project)], capture_output=True, text=True,
                              env=OFFSCREEN, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # our own server's process group only
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
    assert report["crs"] == "EPSG:5897"
    layers = {layer["typename"]: layer for layer in report["layers"]}
    from landgeo.api.collections import collections

    spatial = {cid for cid, c in collections().items() if c.has_geometry}  # code lists are tables, not map layers
    assert set(layers) == api_ids & spatial and api_ids - spatial == {"admin-unit-codes", "admin-crosswalk-2025"}
    for typename, layer in layers.items():
        assert layer["valid"], typename
        assert layer["features"] > 0, f"{typename} has no features in QGIS"
    assert layers["parcels"]["renderer"] == "categorizedSymbol" and layers["parcels"]["labels"]
    assert layers["parcels"]["categories_used"] >= 8, "parcels fall into the land-use categories, not 'other'"


CHECKER = r'''
import json, sys
from qgis.core import QgsApplication, QgsProject, QgsFeatureRequest
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
assert project.read(sys.argv[1]), "QGIS could not read the project"
out = {"crs": project.crs().authid(), "layers": []}
for layer in project.mapLayers().values():
    source = layer.source()
    entry = {"typename": source.split("typename='")[1].split("'")[0], "valid": layer.isValid(),
             "features": layer.featureCount(), "renderer": layer.renderer().type() if layer.renderer() else None,
             "labels": layer.labelsEnabled()}
    if entry["typename"] == "parcels" and layer.isValid():
        renderer = layer.renderer()
        expression = renderer.classAttribute()
        from qgis.core import QgsExpression, QgsExpressionContext, QgsExpressionContextUtils
        expr = QgsExpression(expression)
        context = QgsExpressionContext()
        context.appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
        known = {c.value() for c in renderer.categories() if c.value() is not None}
        used = set()
        for feature in layer.getFeatures(QgsFeatureRequest().setLimit(3000)):
            context.setFeature(feature)
            value = expr.evaluate(context)
            if value in known:
                used.add(value)
        entry["categories_used"] = len(used)
    out["layers"].append(entry)
print(json.dumps(out))
app.exitQgis()
'''
