"""The demo data set's facts and containers: where it is (Hà Nội, VN-2000 / TM-3 105°), its two communes, and
the generated :class:`Layer` s gathered in :class:`DemoData` (see :mod:`landgeo.demo.synth`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import shapely

GENERATOR_VERSION = "4"
DEFAULT_SEED = 20240801
EPSG_TM3 = 5897  # VN-2000 / TM-3 zone 105° — Hà Nội's cadastral CRS (Circular 973/2001/TT-TCĐC)
PROVINCE_CODE = "01"
COMMUNES_VALID_FROM = "2025-07-01"  # the communes of the 2025 reorganisation (no districts any more)
ORIGIN = (570000.0, 2325000.0)  # south-west corner of the demo area, on the km grid of the sheets
AREA_SIZE = (3000.0, 2000.0)
GRID = 0.001  # coordinates rounded to the millimetre, as surveyed coordinates are stored


@dataclass(frozen=True)
class Commune:
    code: str
    name: str


COMMUNES = (Commune("09877", "An Khánh"), Commune("09871", "Sơn Đồng"))  # official codes (Hà Nội, from 2025-07-01)


@dataclass
class Layer:
    """A generated layer: geometries (TM-3 metres, local origin already added) and attribute rows."""

    name: str
    geometry_type: str
    geoms: list
    rows: list[dict]

    def __len__(self) -> int:
        return len(self.geoms)


@dataclass
class DemoData:
    seed: int
    parcels: dict[str, Layer]  # commune code -> parcels of that commune
    map_sheets: Layer
    admin_units: Layer
    themes: dict[str, Layer]  # target id -> layer
    place_names: Layer
    planted: list[dict] = field(default_factory=list)
    updates: Layer | None = None  # biến động: a later file for one commune (a split and a change of use)
    events: list[dict] = field(default_factory=list)

    def checksum(self) -> str:
        """SHA-256 of every geometry (WKB) and attribute, in a fixed order: same seed, same checksum."""
        h = hashlib.sha256(f"{GENERATOR_VERSION}:{self.seed}".encode())
        layers = [*self.parcels.values(), self.map_sheets, self.admin_units, *self.themes.values(), self.place_names,
                  *([self.updates] if self.updates else [])]
        for layer in layers:
            h.update(layer.name.encode())
            wkb = shapely.to_wkb(np.asarray(layer.geoms, dtype=object), byte_order=1)
            for blob, row in zip(wkb, layer.rows, strict=True):
                h.update(blob)
                h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        h.update(json.dumps([self.planted, self.events], sort_keys=True).encode())
        return h.hexdigest()
