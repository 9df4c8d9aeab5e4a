"""What a vector file (shapefile, GeoPackage, GeoJSON, CSV, ...) declares about its CRS, and its coordinates.

A CSV is read as points from columns named X/Y (also lon/lat, easting/northing, kinh_do/vi_do) or a WKT
column; it declares no CRS. Survey tables write X = northing: detection flags that as ``crs.swapped_xy``.

A shapefile's .prj is read as text and matched with ``from_wkt`` (ESRI WKT without EPSG id); other
formats give GDAL's CRS (an 'EPSG:nnnn' or a WKT). A GeoJSON without a ``crs`` member is WGS 84 lon/lat
(RFC 7946).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pyogrio
import shapely

from landgeo.crs.detect import Detection, detect
from landgeo.crs.flags import UNRECOGNISED_WKT, Flag
from landgeo.crs.parse import resolve
from landgeo.crs.registry import CRS
from landgeo.crs.wkt import from_wkt, read_prj
from landgeo.errors import UserError

MAX_FEATURES = 100_000
# CSV point tables (bảng tọa độ): GDAL finds the coordinate or WKT columns by these names (case-insensitive).
CSV_OPEN_OPTIONS = {
    "X_POSSIBLE_NAMES": "x,lon,long,longitude,easting,kinh_do,kinhdo,toa_do_x,toadox",
    "Y_POSSIBLE_NAMES": "y,lat,latitude,northing,vi_do,vido,toa_do_y,toadoy",
    "GEOM_POSSIBLE_NAMES": "wkt,geom,geometry,the_geom",
    "KEEP_GEOM_COLUMNS": "NO",
}


@dataclass(frozen=True)
class FileCRS:
    """``declared`` CRS (None if none or unrecognised), where it came from, its flags, and the coordinates read."""

    path: str
    layer: str | None
    feature_count: int
    declared: CRS | None
    declared_from: str
    declared_text: str | None
    wkt_flags: list[Flag] = field(default_factory=list)
    x: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    y: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)


def _prj_path(path: str) -> str | None:
    base, ext = os.path.splitext(path)
    if ext.lower() != ".shp":
        return None
    for candidate in (base + ".prj", base + ".PRJ"):
        if os.path.exists(candidate):
            return candidate
    return None


def read_file_crs(path: str, layer: str | None = None, max_features: int = MAX_FEATURES) -> FileCRS:
    """Open a vector file, read its declared CRS and up to ``max_features`` features' coordinates."""
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    options = CSV_OPEN_OPTIONS if path.lower().endswith(".csv") else {}
    try:
        info = pyogrio.read_info(path, layer=layer, **options)
        meta, _fids, geometry, _fields = pyogrio.raw.read(path, layer=layer, columns=[], max_features=max_features,
                                                          **options)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ... for unreadable files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: cannot read as a vector file: {reason}") from None
    geoms = shapely.from_wkb(geometry) if geometry is not None else np.empty(0, dtype=object)
    coords = shapely.get_coordinates(geoms) if len(geoms) else np.empty((0, 2))
    x, y = coords[:, 0].copy(), coords[:, 1].copy()

    declared: CRS | None = None
    flags: list[Flag] = []
    text: str | None = None
    prj = _prj_path(path)
    if prj:
        match = read_prj(prj)
        declared, flags, source = match.crs, list(match.flags), os.path.basename(prj)
        with open(prj, "rb") as fh:
            text = fh.read().decode("utf-8", "replace").strip()
    elif meta.get("crs") or info.get("crs"):
        text = meta.get("crs") or info.get("crs")
        source = "layer CRS"
        if text.upper().startswith(("EPSG:", "OGC:")):
            try:
                declared = resolve(text)
            except UserError as exc:
                flags.append(Flag(UNRECOGNISED_WKT, "error", str(exc)))
        else:
            match = from_wkt(text)
            declared, flags = match.crs, list(match.flags)
    else:
        source = "nothing"
    if path.lower().endswith((".geojson", ".json")) and declared is not None and declared.epsg == 4326:
        source = "GeoJSON (RFC 7946: WGS 84 lon/lat unless a crs member says otherwise)"
    return FileCRS(path=path, layer=layer or info.get("layer_name"), feature_count=int(info.get("features") or 0),
                   declared=declared, declared_from=source, declared_text=text, wkt_flags=flags, x=x, y=y)


def detect_file(path: str, province: str | None = None, layer: str | None = None,
                declared: CRS | str | None = None) -> tuple[FileCRS, Detection]:
    """``read_file_crs`` then ``detect`` on its coordinates (``declared`` overrides what the file says)."""
    info = read_file_crs(path, layer)
    crs = resolve(declared) if declared is not None else info.declared
    return info, detect(info.x, info.y, crs, province)
