"""The two tile matrix sets of OGC API – Tiles that landgeo serves (OGC 17-083r4 / TMS 2.0 common definitions).

- ``WebMercatorQuad``: EPSG:3857, one 256-pixel tile at zoom 0, 2^z × 2^z tiles (what MapLibre, QGIS and most web
  maps ask for);
- ``WorldCRS84Quad``: CRS84 (longitude, latitude), two tiles at zoom 0, 2^(z+1) × 2^z tiles.

A :class:`TileMatrixSet` answers a tile's envelope in its own CRS and in CRS84, and writes the JSON definition
served at ``/tileMatrixSets/{id}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ORIGIN_3857 = 20037508.3427892
PIXEL_SIZE_M = 0.28e-3  # the standardised rendering pixel (0.28 mm), for scale denominators


@dataclass(frozen=True)
class TileMatrixSet:
    id: str
    title: str
    crs: str  # URI
    srid: int  # PostGIS SRID of the tiles' coordinates
    uri: str
    bbox: tuple[float, float, float, float]  # in the CRS, x/y order
    matrix_width0: int  # columns at zoom 0
    max_zoom: int

    def size(self, z: int) -> tuple[int, int]:
        """(columns, rows) of the matrix at zoom ``z``."""
        return self.matrix_width0 * 2**z, 2**z

    def cell(self, z: int) -> float:
        """Tile width in CRS units at zoom ``z``."""
        return (self.bbox[2] - self.bbox[0]) / self.size(z)[0]

    def envelope(self, z: int, row: int, col: int) -> tuple[float, float, float, float]:
        """Envelope (xmin, ymin, xmax, ymax) of tile (z, row, col) in the set's CRS (rows from the top)."""
        w = self.cell(z)
        xmin = self.bbox[0] + col * w
        ymax = self.bbox[3] - row * w
        return xmin, ymax - w, xmin + w, ymax

    def envelope_crs84(self, z: int, row: int, col: int) -> tuple[float, float, float, float]:
        x1, y1, x2, y2 = self.envelope(z, row, col)
        if self.srid == 4326:
            return x1, y1, x2, y2
        return (*mercator_to_lonlat(x1, y1), *mercator_to_lonlat(x2, y2))

    def tiles_covering(self, z: int, lon1: float, lat1: float, lon2: float, lat2: float) -> list[tuple[int, int]]:
        """(row, col) of the tiles at zoom ``z`` that a CRS84 box overlaps."""
        if self.srid == 4326:
            x1, y1, x2, y2 = lon1, lat1, lon2, lat2
        else:
            (x1, y1), (x2, y2) = lonlat_to_mercator(lon1, lat1), lonlat_to_mercator(lon2, lat2)
        w = self.cell(z)
        cols, rows = self.size(z)
        c1, c2 = int((x1 - self.bbox[0]) // w), int((x2 - self.bbox[0]) // w)
        r1, r2 = int((self.bbox[3] - y2) // w), int((self.bbox[3] - y1) // w)
        return [(r, c) for r in range(max(r1, 0), min(r2, rows - 1) + 1)
                for c in range(max(c1, 0), min(c2, cols - 1) + 1)]

    def scale_denominator(self, z: int) -> float:
        metres = self.cell(z) / 256
        if self.srid == 4326:
            metres *= 2 * math.pi * 6378137 / 360
        return metres / PIXEL_SIZE_M

    def document(self) -> dict:
        """The tile matrix set definition (OGC TMS 2.0 JSON)."""
        matrices = []
        for z in range(self.max_zoom + 1):
            cols, rows = self.size(z)
            matrices.append({
                "id": str(z), "scaleDenominator": self.scale_denominator(z),
                "cellSize": self.cell(z) / 256, "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [self.bbox[0], self.bbox[3]] if self.srid != 4326 else [-180.0, 90.0],
                "tileWidth": 256, "tileHeight": 256, "matrixWidth": cols, "matrixHeight": rows,
            })
        return {"id": self.id, "title": self.title, "uri": self.uri, "crs": self.crs,
                "orderedAxes": ["E", "N"] if self.srid != 4326 else ["Lon", "Lat"], "tileMatrices": matrices}


def mercator_to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon = x / ORIGIN_3857 * 180.0
    lat = math.degrees(2 * math.atan(math.exp(y / 6378137.0)) - math.pi / 2)
    return lon, lat


def lonlat_to_mercator(lon: float, lat: float) -> tuple[float, float]:
    lat = max(min(lat, 85.05112878), -85.05112878)
    return lon / 180.0 * ORIGIN_3857, 6378137.0 * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


WEB_MERCATOR_QUAD = TileMatrixSet(
    id="WebMercatorQuad", title="Google Maps Compatible for the World",
    crs="http://www.opengis.net/def/crs/EPSG/0/3857", srid=3857,
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
    bbox=(-ORIGIN_3857, -ORIGIN_3857, ORIGIN_3857, ORIGIN_3857), matrix_width0=1, max_zoom=22,
)
WORLD_CRS84_QUAD = TileMatrixSet(
    id="WorldCRS84Quad", title="CRS84 for the World",
    crs="http://www.opengis.net/def/crs/OGC/1.3/CRS84", srid=4326,
    uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad",
    bbox=(-180.0, -90.0, 180.0, 90.0), matrix_width0=2, max_zoom=21,
)
TILE_MATRIX_SETS = {t.id: t for t in (WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD)}
