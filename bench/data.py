"""Generate a cadastral GeoPackage of N parcels (thửa đất) in VN-2000 / TM-3 105°00' (EPSG:5897, Hà Nội).

Vectorised (numpy + shapely 2 array functions; no Python loop per parcel), written in chunks, so 1 000 000
parcels take seconds and bounded memory. Parcels are cells of a jittered grid (neighbours share their
jittered corners: no overlaps, no gaps), 20 m × 25 m, with the Vietnamese field names of real data
(MaXa, SoHieuToBanDo, SoThuTuThua, KyHieuMucDichSuDung, DienTich, DiaChi). 10 000 parcels per commune,
400 per map sheet. Province: pass ``--province 01`` (or a mapping constant) when loading.

    python bench/data.py OUT.gpkg [N]
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
PER_COMMUNE = 10_000
PER_SHEET = 400
CODES = np.array(["ONT", "CLN", "LUC", "ONT+CLN", "HNK", "NTS", "DGT", "ODT"], dtype=object)
STREETS = np.array(["Thôn Đông", "Thôn Đoài", "Xóm Chùa", "Đường Nguyễn Trãi", "Phố Hàng Bạc"], dtype=object)


def parcels(n: int, seed: int = 20261128, start: int = 0, count: int | None = None):
    """Geometries (WKB) and fields of parcels ``start`` … ``start + count`` of an ``n``-parcel dataset."""
    count = n - start if count is None else count
    side = int(np.ceil(np.sqrt(n)))
    idx = np.arange(start, start + count)
    i, j = idx % side, idx // side

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
    area = shapely.area(geoms)
    commune = idx // PER_COMMUNE
    within = idx % PER_COMMUNE
    fields = {
        "MaXa": np.char.zfill((commune + 1).astype(str), 5).astype(object),
        "SoHieuToBanDo": (within // PER_SHEET + 1).astype(np.int32),
        "SoThuTuThua": (within % PER_SHEET + 1).astype(np.int32),
        "KyHieuMucDichSuDung": CODES[idx % len(CODES)],
        "DienTich": np.round(area, 1),
        "DiaChi": STREETS[idx % len(STREETS)],
    }
    return shapely.to_wkb(geoms), fields


def write(path: str | Path, n: int = 1_000_000, chunk: int = 200_000) -> Path:
    path = Path(path)
    if path.exists():
        path.unlink()
    for start in range(0, n, chunk):
        wkb, fields = parcels(n, start=start, count=min(chunk, n - start))
        raw.write(str(path), wkb, list(fields.values()), list(fields), layer="thua_dat", driver="GPKG",
                  geometry_type="Polygon", crs=CRS, append=start > 0, encoding="UTF-8")
    return path


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "parcels.gpkg"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    print(write(out, count))
