"""Findings to files analysts open in QGIS: GeoPackage, GeoJSON (WGS 84) or CSV (geometry as WKT)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio

from landgeo.errors import UserError

DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".csv": "CSV"}
COLUMNS = ("id", "run_id", "check_code", "severity", "target", "feature_id", "province_code", "commune_code",
           "message_vi", "message_en", "details", "found_at")


def output_driver(path: str | Path) -> str:
    """The OGR driver for an output file name; a one-line error for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in DRIVERS:
        raise UserError(f"output {path}: unsupported format {suffix or '(none)'}; use .gpkg, .geojson or .csv")
    return DRIVERS[suffix]


def check_output(path: str | Path) -> str:
    """Refuse an output path before any work is done: known suffix, existing directory."""
    driver = output_driver(path)
    parent = Path(path).parent
    if not parent.exists():
        raise UserError(f"output {path}: directory {parent} does not exist")
    return driver


def write_run_findings(conn, run_id: int, path: str | Path) -> int:
    """Write the findings of run ``run_id`` to ``path`` (format from its suffix); returns the number written."""
    path = Path(path)
    driver = output_driver(path)
    if not path.parent.exists():
        raise UserError(f"output {path}: directory {path.parent} does not exist")
    rows = conn.execute(
        """SELECT id, run_id, check_code, severity, target, feature_id, province_code, commune_code, message_vi,
                  message_en, details, found_at, ST_AsBinary(geom)
           FROM meta.validation_finding WHERE run_id = %s ORDER BY id""", (run_id,)).fetchall()
    columns = {name: [r[i] for r in rows] for i, name in enumerate(COLUMNS)}
    columns["details"] = [json.dumps(d, ensure_ascii=False) for d in columns["details"]]
    columns["found_at"] = [t.isoformat() for t in columns["found_at"]]
    field_data = [
        np.array(columns[name], dtype=np.int64) if name in ("id", "run_id") else np.array(columns[name], dtype=object)
        for name in COLUMNS
    ]
    geometry = np.array([bytes(r[-1]) if r[-1] is not None else None for r in rows], dtype=object)
    if path.exists():
        path.unlink()
    options = {"layer_options": {"GEOMETRY": "AS_WKT"}} if driver == "CSV" else {}
    try:
        pyogrio.raw.write(str(path), geometry, field_data, list(COLUMNS), driver=driver, crs="EPSG:4326",
                          geometry_type="Unknown", layer="validation_finding", encoding="UTF-8", **options)
    except Exception as exc:  # noqa: BLE001 - a write failure is the user's path/permission problem
        raise UserError(f"cannot write {path}: {str(exc).splitlines()[0] if str(exc) else exc}") from exc
    return len(rows)
