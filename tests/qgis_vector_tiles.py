"""Run by tests/test_tiles_qgis.py with Debian's PyQGIS (``/usr/bin/python3``, offscreen): add landgeo's parcels
as a QGIS vector tile layer with the served style URL, the way a user does in *Add Vector Tile Layer*, render it
and print what QGIS made of it as JSON. Arguments: tiles URL template, style URL, xmin ymin xmax ymax (EPSG:3857),
output PNG."""

import json
import sys

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsDataSourceUri,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def main() -> None:
    tiles, style, xmin, ymin, xmax, ymax, out = sys.argv[1:8]
    app = QgsApplication([], False)
    app.initQgis()
    uri = QgsDataSourceUri()
    uri.setParam("type", "xyz")
    uri.setParam("url", tiles)
    uri.setParam("zmin", "0")
    uri.setParam("zmax", "22")
    uri.setParam("styleUrl", style)
    layer = QgsVectorTileLayer(bytes(uri.encodedUri()).decode(), "parcels")
    result = {"valid": layer.isValid()}
    message, loaded = layer.loadDefaultStyle()
    result["style_loaded"] = bool(loaded)
    result["style_message"] = str(message)
    styles = layer.renderer().styles() if layer.renderer() else []
    result["styles"] = [{"name": s.styleName(), "layer": s.layerName(), "min_zoom": s.minZoomLevel(),
                         "geometry": int(s.geometryType())} for s in styles]
    labeling = layer.labeling()
    result["labels"] = [s.layerName() for s in labeling.styles()] if labeling is not None else []
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(QgsRectangle(float(xmin), float(ymin), float(xmax), float(ymax)))
    settings.setOutputSize(QSize(800, 600))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    result["saved"] = job.renderedImage().save(out, "PNG")
    print(json.dumps(result))
    app.exitQgis()


main()
