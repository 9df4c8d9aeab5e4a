"""Render the demo QGIS project to a PNG (what docs/img/demo-overview.png shows), headless, with PyQGIS.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis/render_preview.py qgis/landgeo-demo.qgs out.png [WIDTH]

The server the project points at must be running (``make demo``). The picture covers the project's default
view (the two demo communes), with the layers that are switched on.
"""

from __future__ import annotations

import sys

from qgis.core import QgsApplication, QgsMapRendererParallelJob, QgsMapSettings, QgsProject
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def render(project_path: str, out: str, width: int = 1200) -> None:
    project = QgsProject.instance()
    if not project.read(project_path):
        raise SystemExit(f"cannot read {project_path}")
    layers = [node.layer() for node in project.layerTreeRoot().findLayers() if node.isVisible()]
    extent = project.viewSettings().defaultViewExtent()
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(project.crs())
    settings.setTransformContext(project.transformContext())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(width, int(width * extent.height() / extent.width())))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    if not job.renderedImage().save(out):
        raise SystemExit(f"cannot write {out}")


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    try:
        render(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1200)
    finally:
        app.exitQgis()
