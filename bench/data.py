"""Generate a cadastral GeoPackage of N parcels (thửa đất), in one of two shapes.

``grid`` (default): VN-2000 / TM-3 105°00' (EPSG:5897, Hà Nội); cells of a jittered grid (neighbours share
their jittered corners: no overlaps, no gaps), 20 m × 25 m. ``gaps``: Hồ Chí Minh City, VN-2000 / TM-3 105°45'
(EPSG:9210); separate rectangles 18.4 m × 23.4 m in 20 m × 25 m cells, so a 1.6 m strip lies between
neighbours and no two parcels share a vertex (the shape of digitised old maps), land uses mixed by a hash of
the row (12 % LUC, 8 % the legacy code LUA, then ODT, ONT, CLN+ONT, BHK, TMD, DGT). Both carry the Vietnamese
field names of real data (MaXa, SoHieuToBanDo, SoThuTuThua, KyHieuMucDichSuDung, DienTich, DiaChi), 10 000
parcels per commune, 400 per map sheet. Province: pass ``--province 01`` (grid) or ``79`` (gaps) when loading.

Vectorised (numpy + shapely 2 array functions; no Python loop per parcel), written in chunks, so 1 000 000
parcels take seconds and bounded memory.

    python bench/data.py OUT.gpkg [N] [grid|gaps]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import shapely
from pyogrio import raw

CRS = "EPSG:5897"
ORIGIN = (560_000.0, 2_300_000.0)  # TM-3 105°00' metres, south-east Hà Nội
CELL = (20.0, 25.0)
GAPS_CRS = "EPSG:9210"
GAPS_ORIGIN = (600_000.0, 1_190_000.0)  # TM-3 105°45' metres, Hồ Chí Minh City
STRIP = 1.6  # metres between neighbouring parcels of the gaps shape
# (code, share in thousandths) of the gaps shape, LUA being the legacy code (valid until 2024-07-31)
GAPS_CODES = (("LUC", 120), ("LUA", 80), ("ODT", 250), ("ONT", 150), ("CLN+ONT", 100), ("BHK", 100),
              ("TMD", 100), ("DGT", 100))
PER_COMMUNE = 10_000
PER_SHEET = 400
CODES = np.array(["ONT", "CLN", "LUC", "ONT+CLN", "HNK", "NTS", "DGT", "ODT"], dtype=object)
STREETS = np.array(["Thôn Đông", "Thôn Đoài", "Xóm Chùa", "Đường Nguyễn Trãi", "Phố Hàng Bạc"], dtype=object)


def _gaps_codes(idx: np.ndarray) -> np.ndarray:
    h = (idx.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(1000)
    bounds = np.cumsum([share for _c, share in GAPS_CODES])
    return np.array([c for c, _s in GAPS_CODES], dtype=object)[np.searchsorted(bounds, h, side="right")]


def parcels(n: int, seed: int = 20261128, start: int = 0, count: int | None = None, shape: str = "grid",
            communes: list[str] | None = None):
    """Geometries (WKB) and fields of parcels ``start`` … ``start + count`` of an ``n``-parcel dataset.

    ``communes``: official commune codes to give the communes (10 000 parcels each, in turn) instead of
    00001, 00002 … (so a file loads without ``--province`` and its codes are valid)."""
    if shape not in ("grid", "gaps"):
        raise ValueError(f"unknown shape {shape!r} (grid or gaps)")
    count = n - start if count is None else count
    side = int(np.ceil(np.sqrt(n)))
    idx = np.arange(start, start + count)
    i, j = idx % side, idx // side
    if shape == "gaps":
        x0, y0 = GAPS_ORIGIN[0] + i * CELL[0], GAPS_ORIGIN[1] + j * CELL[1]
        geoms = shapely.box(x0, y0, x0 + CELL[0] - STRIP, y0 + CELL[1] - STRIP)
        return shapely.to_wkb(geoms), _fields(idx, geoms, _gaps_codes(idx), communes)

    def corner(ci: np.ndarray, cj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # deterministic jitter per grid node (hash of its index), |jitter| < 3 m < half a cell
        node = (cj.astype(np.int64) * (side + 1) + ci).astype(np.uint64)
        h = (node * np.uint64(2654435761) + np.uint64(seed)) % np.uint64(1_000_003)
        jx = (h % np.uint64(1000)).astype(float) / 1000 * 6 - 3
        jy = ((h // np.uint64(1000)) % np.uint64(1000)).astype(float) / 1000 * 6 - 3
        return ORIGIN[0] + ci * CELL[0] + jx, ORIGIN[1] + cj * CELL[1] + jy

    corners = [corner(i, j), corner(i + 1, j), corner(i + 1, j + 1), corner(i, j + 1)]
    coords = np.empty((count, 5, 2))
    for k, (x, y) in enumerate(corners + corners[:1]):
        coords[:, k, 0] = x
        coords[:, k, 1] = y
    geoms = shapely.polygons(coords)
    return shapely.to_wkb(geoms), _fields(idx, geoms, CODES[idx % len(CODES)], communes)


def _fields(idx: np.ndarray, geoms: np.ndarray, codes: np.ndarray, communes: list[str] | None = None) -> dict:
    area = shapely.area(geoms)
    commune = idx // PER_COMMUNE
    within = idx % PER_COMMUNE
    return {
        "MaXa": (np.array(communes, dtype=object)[commune % len(communes)] if communes
                 else np.char.zfill((commune + 1).astype(str), 5).astype(object)),
        "SoHieuToBanDo": (within // PER_SHEET + 1).astype(np.int32),
        "SoThuTuThua": (within % PER_SHEET + 1).astype(np.int32),
        "KyHieuMucDichSuDung": codes,
        "DienTich": np.round(area, 1),
        "DiaChi": STREETS[idx % len(STREETS)],
    }


def write(path: str | Path, n: int = 1_000_000, chunk: int = 200_000, shape: str = "grid",
          communes: list[str] | None = None) -> Path:
    path = Path(path)
    if path.exists():
        path.unlink()
    for start in range(0, n, chunk):
        wkb, fields = parcels(n, start=start, count=min(chunk, n - start), shape=shape,
                              communes=communes)
        raw.write(str(path), wkb, list(fields.values()), list(fields), layer="thua_dat", driver="GPKG",
                  geometry_type="Polygon", crs=GAPS_CRS if shape == "gaps" else CRS, append=start > 0,
                  encoding="UTF-8")
    return path


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "parcels.gpkg"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    print(write(out, count, shape=sys.argv[3] if len(sys.argv) > 3 else "grid"))
