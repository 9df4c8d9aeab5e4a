"""Build ``qgis/landgeo-demo.qgs``: every landgeo collection as an OGC API – Features layer, styled.

Run with the system Python that has PyQGIS (``make qgis`` installs it), against a running ``landgeo serve``::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis/build_project.py --build-url http://127.0.0.1:5000

The layers are built against ``--build-url`` (so QGIS learns their fields and geometry types) and saved
pointing at ``--url`` (default http://127.0.0.1:5000, where ``make demo`` serves). Symbology:

* parcels (thửa đất): categorised by the first land-use code with the colours of Vietnamese land-use maps
  (hiện trạng sử dụng đất; see docs/demo.md for the source and how sure we are), labelled
  ``sheet/parcel`` (số tờ/số thửa) with the land-use code underneath, from 1:5 000 in;
* map sheets (tờ bản đồ) as frames labelled with their number, communes as thick boundaries;
* base geography in the usual topographic colours; validation findings in red on top.

The project CRS is VN-2000 / TM-3 105° (EPSG:5897, Hà Nội), and the WGS 84 -> VN-2000 display transformation
is pinned to the official one (EPSG:6960, Decision 05/2007/QĐ-BTNMT), not left to PROJ's choice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsFillSymbol,
    QgsLineSymbol,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsProject,
    QgsRendererCategory,
    QgsRuleBasedRenderer,
    QgsSingleSymbolRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor, QFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script by QGIS's own Python
from landdb.legend import LAND_USE_COLOURS  # noqa: E402  (one legend: the tile styles use it too)

# The official VN-2000 -> WGS 84 operation (EPSG:6960) as a PROJ pipeline, WGS 84 lon/lat -> TM-3 105°.
OFFICIAL_4326_TO_5897 = (
    "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=cart +ellps=WGS84 "
    "+step +inv +proj=helmert +x=-191.90441429 +y=-39.30318279 +z=-111.45032835 +rx=0.00928836 "
    "+ry=-0.01975479 +rz=0.00427372 +s=0.252906278 +convention=position_vector "
    "+step +inv +proj=cart +ellps=WGS84 "
    "+step +proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84"
)

# (collection id, layer name, visible)  — drawing order: first = top
LAYERS = (
    ("validation-findings", "Kết quả kiểm tra — validation findings", True),
    ("place-names", "Địa danh — place names", True),
    ("control-points", "Điểm khống chế — control points", True),
    ("spot-heights", "Điểm độ cao — spot heights", False),
    ("bridges", "Cầu — bridges", True),
    ("railways", "Đường sắt — railways", True),
    ("roads", "Đường bộ — roads", False),
    ("hydro-lines", "Thủy hệ (đường) — rivers and canals", False),
    ("contours", "Đường bình độ — contours", True),
    ("boundaries", "Địa giới hành chính — boundaries", True),
    ("buildings", "Nhà — buildings", True),
    ("map-sheets", "Tờ bản đồ — map sheets", True),
    ("parcels", "Thửa đất — parcels", True),
    ("hydro-areas", "Thủy hệ (vùng) — water areas", False),
    ("built-up-areas", "Khu dân cư — built-up areas", False),
    ("land-cover", "Phủ bề mặt — land cover", False),
    ("admin-units", "Đơn vị hành chính — communes", True),
)


def _labels(expression: str, size: float, color: str = "#000000", max_scale_denominator: float | None = None,
            placement=None, multiline: bool = False, fit_inside: bool = False) -> QgsVectorLayerSimpleLabeling:
    settings = QgsPalLayerSettings()
    settings.fitInPolygonOnly = fit_inside  # only where the label fits in its polygon (as the tiles' label points)
    settings.fieldName = expression
    settings.isExpression = True
    fmt = QgsTextFormat()
    fmt.setFont(QFont("DejaVu Sans"))
    fmt.setSize(size)
    fmt.setColor(QColor(color))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.7)
    buffer.setColor(QColor("#ffffff"))
    fmt.setBuffer(buffer)
    settings.setFormat(fmt)
    if multiline:
        settings.multilineAlign = QgsPalLayerSettings.MultiCenter
    if placement is not None:
        settings.placement = placement
    if max_scale_denominator:
        settings.scaleVisibility = True
        settings.minimumScale = max_scale_denominator  # QGIS: "minimum" scale = most zoomed-out
        settings.maximumScale = 0
    return QgsVectorLayerSimpleLabeling(settings)


def style_parcels(layer: QgsVectorLayer) -> None:
    categories = []
    for code, (colour, name) in LAND_USE_COLOURS.items():
        symbol = QgsFillSymbol.createSimple({"color": colour, "outline_color": "#c03030", "outline_width": "0.15"})
        categories.append(QgsRendererCategory(code, symbol, f"{code} — {name}"))
    other = QgsFillSymbol.createSimple({"color": "#f0f0f0", "outline_color": "#c03030", "outline_width": "0.15"})
    categories.append(QgsRendererCategory(None, other, "khác — other codes"))
    layer.setRenderer(QgsCategorizedSymbolRenderer('array_first("land_use_codes")', categories))
    layer.setLabeling(_labels(
        "concat(\"sheet_number\", '/', \"parcel_number\", '\\n', array_to_string(\"land_use_codes\", '+'))",
        7.0, max_scale_denominator=5000, multiline=True, fit_inside=True))
    layer.setLabelsEnabled(True)


def style_findings(layer: QgsVectorLayer) -> None:
    root = QgsRuleBasedRenderer.Rule(None)
    area = QgsFillSymbol.createSimple({"color": "255,0,0,90", "outline_color": "#e00000", "outline_width": "0.6"})
    point = QgsMarkerSymbol.createSimple({"name": "circle", "color": "255,0,0,120", "outline_color": "#e00000",
                                          "size": "4"})
    severe = "\"severity\" = 'error'"
    for symbol, geom_filter, label in ((area, "geometry_type($geometry) = 'Polygon'", "vùng lỗi — areas"),
                                       (point, "geometry_type($geometry) = 'Point'", "vị trí lỗi — points")):
        rule = QgsRuleBasedRenderer.Rule(symbol, filterExp=geom_filter, label=label)
        root.appendChild(rule)
    layer.setRenderer(QgsRuleBasedRenderer(root))
    layer.setLabeling(_labels(f"if({severe}, \"check_code\", '')", 8.0, "#b00000"))
    layer.setLabelsEnabled(True)


def style(layer: QgsVectorLayer, collection: str) -> None:
    simple_line = {
        "bridges": {"line_color": "#000000", "line_width": "1.6"},
        "railways": {"line_color": "#202020", "line_width": "0.8", "customdash": "3;2", "use_custom_dash": "1"},
        "roads": {"line_color": "#a05000", "line_width": "0.5"},
        "hydro-lines": {"line_color": "#0070c0", "line_width": "0.4"},
        "contours": {"line_color": "#a0522d", "line_width": "0.25"},
        "boundaries": {"line_color": "#7030a0", "line_width": "0.9", "customdash": "6;2;1;2", "use_custom_dash": "1"},
    }
    fills = {
        "buildings": {"color": "#606060", "outline_color": "#404040", "outline_width": "0.3",
                      "style": "b_diagonal"},
        "map-sheets": {"color": "255,255,255,0", "outline_color": "#00008b", "outline_width": "0.5",
                       "outline_style": "dash"},
        "hydro-areas": {"color": "#a0d8ff", "outline_color": "#0070c0", "outline_width": "0.2"},
        "built-up-areas": {"color": "255,200,220,80", "outline_color": "#c06080", "outline_width": "0.3"},
        "land-cover": {"color": "200,230,200,120", "outline_color": "#80a080", "outline_width": "0.1"},
        "admin-units": {"color": "255,255,255,0", "outline_color": "#7030a0", "outline_width": "1.4"},
    }
    points = {
        "control-points": {"name": "triangle", "color": "#ff0000", "outline_color": "#000000", "size": "3"},
        "spot-heights": {"name": "circle", "color": "#000000", "size": "0.8"},
        "place-names": {"name": "circle", "color": "0,0,0,0", "outline_color": "0,0,0,0", "size": "0.1"},
    }
    if collection == "parcels":
        style_parcels(layer)
        return
    if collection == "validation-findings":
        style_findings(layer)
        return
    if collection in simple_line:
        layer.setRenderer(QgsSingleSymbolRenderer(QgsLineSymbol.createSimple(simple_line[collection])))
    elif collection in fills:
        layer.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(fills[collection])))
    elif collection in points:
        layer.setRenderer(QgsSingleSymbolRenderer(QgsMarkerSymbol.createSimple(points[collection])))
    label = {
        "map-sheets": ("concat('Tờ ', \"sheet_number\", ' (1:', \"scale\", ')')", 10.0, "#00008b", None),
        "admin-units": ("\"name\"", 14.0, "#7030a0", None),
        "place-names": ("\"name\"", 9.0, "#202020", None),
        "contours": ("\"elevation\"", 6.5, "#a0522d", 10000),
        "spot-heights": ("format_number(\"elevation\", 1)", 6.0, "#000000", 5000),
        "control-points": ("\"point_number\"", 7.0, "#ff0000", None),
    }.get(collection)
    if label:
        expression, size, colour, scale = label
        layer.setLabeling(_labels(expression, size, colour, scale))
        layer.setLabelsEnabled(True)


def build(build_url: str, url: str, out: Path) -> list[str]:
    """Build and save the project; returns a line per layer (name, validity, feature count)."""
    project = QgsProject.instance()
    project.clear()
    project.setTitle("landgeo demo — xã Đông La và xã An Thượng (Hà Nội)")
    crs = QgsCoordinateReferenceSystem("EPSG:5897")
    project.setCrs(crs)
    context = project.transformContext()
    context.addCoordinateOperation(QgsCoordinateReferenceSystem("EPSG:4326"), crs, OFFICIAL_4326_TO_5897)
    project.setTransformContext(context)
    report = []
    root = project.layerTreeRoot()
    for collection, name, visible in LAYERS:
        uri = f"url='{build_url}' typename='{collection}' restrictToRequestBBOX='1' pagingEnabled='true'"
        layer = QgsVectorLayer(uri, name, "OAPIF")
        report.append(f"{collection}: valid={layer.isValid()} features={layer.featureCount()}")
        if not layer.isValid():
            continue
        style(layer, collection)
        project.addMapLayer(layer, False)
        node = root.addLayer(layer)
        node.setItemVisibilityChecked(visible)
    # open on the demo communes (the extent of the map sheets), not on the whole world
    sheets = next((lyr for lyr in project.mapLayers().values() if "typename='map-sheets'" in lyr.source()), None)
    if sheets is not None:
        from qgis.core import QgsCoordinateTransform, QgsRectangle, QgsReferencedRectangle

        extent = QgsRectangle()
        extent.setMinimal()
        for feature in sheets.getFeatures():
            if feature.hasGeometry():
                extent.combineExtentWith(feature.geometry().boundingBox())
        if not extent.isEmpty():
            wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")  # OAPIF layers come in CRS84
            view = QgsCoordinateTransform(wgs84, crs, project.transformContext()).transformBoundingBox(extent)
            view.scale(1.05)
            project.viewSettings().setDefaultViewExtent(QgsReferencedRectangle(view, crs))
    out.parent.mkdir(parents=True, exist_ok=True)
    if not project.write(str(out)):
        raise SystemExit(f"cannot write {out}")
    if build_url != url:
        # data sources, and the metadata links QGIS copied from the server's documents
        out.write_text(out.read_text(encoding="utf-8").replace(build_url, url), encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the landgeo demo QGIS project.")
    parser.add_argument("--build-url", default="http://127.0.0.1:5000", help="running server to build against")
    parser.add_argument("--url", default="http://127.0.0.1:5000", help="server URL saved in the project")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "landgeo-demo.qgs")
    ns = parser.parse_args(argv)
    app = QgsApplication([], False)
    app.initQgis()
    try:
        for line in build(ns.build_url.rstrip("/"), ns.url.rstrip("/"), ns.out):
            print(line)
    finally:
        app.exitQgis()
    print(f"wrote {ns.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
