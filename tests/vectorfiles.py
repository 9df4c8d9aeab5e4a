"""Small vector files for the loader tests, written with pyogrio in VN-2000 / TM-3 105°00' (Hà Nội)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from pyogrio import raw

TM3 = "EPSG:5897"  # VN-2000 / TM-3 105°00' (Hà Nội)
X0, Y0 = 560_000.0, 2_300_000.0


def grid(n: int, x0: float = X0, y0: float = Y0, w: float = 20.0, h: float = 25.0) -> np.ndarray:
    """n adjacent rectangles (valid, non-overlapping) in TM-3 metres."""
    return np.array([shapely.box(x0 + i * w, y0, x0 + (i + 1) * w, y0 + h) for i in range(n)], dtype=object)


def write(path: Path, geoms, fields: dict, crs: str | None = TM3, geometry_type: str = "Polygon",
          encoding: str = "UTF-8", **kw) -> Path:
    """Write ``geoms`` (shapely) with ``fields`` ({name: array}); ``kw`` goes to pyogrio (driver, layer ...)."""
    raw.write(str(path), shapely.to_wkb(np.asarray(geoms, dtype=object)), list(fields.values()), list(fields),
              crs=crs, geometry_type=geometry_type, encoding=encoding, **kw)
    return path


def cadastral_fields(n: int, commune: str = "00001", codes=None, numbers=None, area: float = 500.0,
                     address: str | None = None) -> dict:
    """Attributes of ``n`` parcels under the short Vietnamese field names (MaXa, SoTo, SoThua, MucDich, DienTich;
    DiaChi when ``address`` is given): sheet 3, parcel numbers 1…n unless ``numbers``, land use ONT unless
    ``codes``."""
    out = {
        "MaXa": np.array([commune] * n, dtype=object),
        "SoTo": np.array([3] * n, dtype=np.int32),
        "SoThua": np.array(numbers or list(range(1, n + 1)), dtype=np.int32),
        "MucDich": np.array(codes or ["ONT"] * n, dtype=object),
        "DienTich": np.full(n, area),
    }
    if address is not None:
        out["DiaChi"] = np.array([address] * n, dtype=object)
    return out
