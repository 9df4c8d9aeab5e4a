"""A deterministic national cadastre: N parcels (thửa đất) over the 34 provinces of 2025, one GeoPackage a province.

Each province gets a share of N proportional to its population (approximate 2024 figures of the merged
provinces, :data:`WEIGHTS`), its own VN-2000 TM-3 zone (the 2025 reference meridian of
``schemas/reference/vn/central_meridians_new_34_2025.csv``), a grid placed at the centre of its extent
(``province_extents_2004.csv``, the old province that kept the code) and commune codes of that province.

Two shapes, as real data comes: ``grid`` (jittered grid, neighbours share their corners: no gap, no overlap)
and ``rect`` (separate rectangles 1 m apart: no shared vertex). By default every fifth province (in code
order, starting with the second) is ``rect``.

Commune codes (mã xã): when ``landdb.admin_unit`` holds the current communes of a province
(``--communes-from URL`` / :func:`communes_from_db`), those are used; otherwise plausible 5-digit codes are
drawn from the province's range of the GSO list: the 1 0xxx-3 2xxx codes were handed out in the order of the 63
old provinces, so a 2025 province gets the code blocks of the old provinces merged into it
(``provinces_2004.csv``), each block ≈ 32 248 / 63 codes wide. Those codes are plausible, not official.

Vectorised like ``bench/data.py`` (numpy + shapely 2): 10 M parcels take minutes and bounded memory.

    python bench/national.py OUTDIR [N=10000000] [--provinces 01,79] [--communes-from URL]
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from pyogrio import raw
from pyproj import Transformer

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "schemas" / "reference" / "vn"
SEED = 20261206
CELL = (20.0, 25.0)
PER_SHEET = 400
OLD_COMMUNE_CODES = 32_248  # highest GSO commune code of the 2004 list (plus a margin)
LAYER = "thua_dat"
CODES = np.array(["ONT", "CLN", "LUC", "ONT+CLN", "HNK", "NTS", "DGT", "ODT", "LUK", "RSX"], dtype=object)
STREETS = np.array(["Thôn Đông", "Thôn Đoài", "Xóm Chùa", "Đường Trần Phú", "Phố Lê Lợi", "Ấp Bình An",
                    "Bản Nà Làng", "Tổ dân phố 3"], dtype=object)

# Population in millions of the 34 provinces of 2025 (approximate, merged provinces summed): parcels follow.
WEIGHTS = {
    "01": 8.7, "04": 0.57, "08": 1.87, "11": 0.65, "12": 0.49, "14": 1.3, "15": 1.78, "19": 1.8, "20": 0.8,
    "22": 1.4, "24": 3.6, "25": 4.0, "31": 4.7, "33": 3.6, "37": 4.4, "38": 4.3, "40": 3.8, "42": 1.6,
    "44": 1.9, "46": 1.4, "48": 3.1, "51": 2.2, "52": 3.6, "56": 2.2, "66": 3.3, "68": 3.9, "75": 4.5,
    "79": 14.0, "80": 3.3, "82": 4.4, "86": 4.3, "91": 4.9, "92": 4.2, "96": 2.6,
}
COMMUNES_2025 = 3321


@dataclass(frozen=True)
class Province:
    """What the generator needs to know about one province (tỉnh)."""

    code: str
    name: str
    epsg: int
    lon0: float
    centre: tuple[float, float]  # lon, lat
    communes: tuple[str, ...]
    shape: str  # grid | rect


def _read_csv(name: str) -> list[dict]:
    with open(REFERENCE / name, encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def _old_province_blocks() -> dict[str, list[tuple[int, int]]]:
    """Plausible commune-code blocks of each 2025 province: the blocks of the old provinces merged into it."""
    olds = _read_csv("provinces_2004.csv")
    width = OLD_COMMUNE_CODES // len(olds)
    blocks: dict[str, list[tuple[int, int]]] = {}
    for k, row in enumerate(sorted(olds, key=lambda r: r["province_code_2004"])):
        blocks.setdefault(row["successor_code_2025"], []).append((1 + k * width, (k + 1) * width))
    return blocks


def plausible_communes(code: str, count: int) -> tuple[str, ...]:
    """``count`` distinct commune codes spread over the province's code blocks (deterministic)."""
    blocks = _old_province_blocks()[code]
    pool = np.concatenate([np.arange(lo, hi + 1) for lo, hi in blocks])
    step = max(1, len(pool) // max(count, 1))
    picked = pool[::step][:count]
    return tuple(f"{c:05d}" for c in picked)


def communes_from_db(url: str) -> dict[str, tuple[str, ...]]:
    """Current communes of ``landdb.admin_unit`` by province (empty when the table holds none)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT parent_code, array_agg(code ORDER BY code) FROM landdb.admin_unit "
            "WHERE level = 'commune' AND valid_to IS NULL AND parent_code IS NOT NULL GROUP BY parent_code"
        ).fetchall()
    return {p: tuple(codes) for p, codes in rows}


@lru_cache(maxsize=1)
def _reference() -> tuple[dict, dict]:
    meridians = {r["province_code_2025"]: r for r in _read_csv("central_meridians_new_34_2025.csv")}
    extents: dict[str, dict] = {}
    for r in _read_csv("province_extents_2004.csv"):  # the first part listed is the mainland
        extents.setdefault(r["province_code_2004"], r)
    return meridians, extents


def provinces(communes: dict[str, tuple[str, ...]] | None = None, rect_every: int = 5) -> list[Province]:
    """The 34 provinces in code order, with their zone, centre, communes and shape."""
    meridians, extents = _reference()
    total = sum(WEIGHTS.values())
    out = []
    for k, code in enumerate(sorted(WEIGHTS)):
        m, e = meridians[code], extents[code]
        lon = (float(e["west"]) + float(e["east"])) / 2
        lat = (float(e["south"]) + float(e["north"])) / 2
        own = (communes or {}).get(code) or plausible_communes(
            code, max(10, round(COMMUNES_2025 * WEIGHTS[code] / total)))
        shape = "rect" if rect_every and k % rect_every == 1 else "grid"
        out.append(Province(code, m["province_vi"], int(m["epsg"]), float(m["lon0_deg"]), (lon, lat), own, shape))
    return out


def sizes(total: int, codes: list[str] | None = None) -> dict[str, int]:
    """Parcels per province for a national total (largest remainder, every province at least one parcel)."""
    codes = codes or sorted(WEIGHTS)
    weight = sum(WEIGHTS[c] for c in codes)
    raw_share = {c: total * WEIGHTS[c] / weight for c in codes}
    out = {c: max(1, int(v)) for c, v in raw_share.items()}
    for c in sorted(codes, key=lambda c: raw_share[c] - int(raw_share[c]), reverse=True):
        if sum(out.values()) >= total:
            break
        out[c] += 1
    return out


def parcels(p: Province, n: int, start: int = 0, count: int | None = None) -> tuple[list, dict]:
    """Geometries (WKB, in the province's TM-3 CRS) and fields of parcels ``start`` … of the province's ``n``."""
    count = n - start if count is None else count
    side = int(math.ceil(math.sqrt(n)))
    to_tm3 = Transformer.from_crs(4756, p.epsg, always_xy=True)
    cx, cy = to_tm3.transform(*p.centre)
    origin = (round(cx - side * CELL[0] / 2), round(cy - side * CELL[1] / 2))
    seed = SEED + int(p.code)
    idx = np.arange(start, start + count)
    i, j = idx % side, idx // side

    def corner(ci: np.ndarray, cj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        node = (cj.astype(np.int64) * (side + 1) + ci).astype(np.uint64)
        h = (node * np.uint64(2654435761) + np.uint64(seed)) % np.uint64(1_000_003)
        jx = (h % np.uint64(1000)).astype(float) / 1000 * 6 - 3
        jy = ((h // np.uint64(1000)) % np.uint64(1000)).astype(float) / 1000 * 6 - 3
        return origin[0] + ci * CELL[0] + jx, origin[1] + cj * CELL[1] + jy

    if p.shape == "grid":
        corners = [corner(i, j), corner(i + 1, j), corner(i + 1, j + 1), corner(i, j + 1)]
    else:  # separate rectangles, 1 m apart, sizes varying by a hash of the index
        x0, y0 = origin[0] + i * CELL[0] + 0.5, origin[1] + j * CELL[1] + 0.5
        shrink = (idx * 7919 + seed) % 5 * 0.5
        x1, y1 = x0 + CELL[0] - 1 - shrink, y0 + CELL[1] - 1 - shrink / 2
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    coords = np.empty((count, 5, 2))
    for k, (x, y) in enumerate(corners + corners[:1]):
        coords[:, k, 0] = x
        coords[:, k, 1] = y
    geoms = shapely.polygons(coords)
    per_commune = max(1, math.ceil(n / len(p.communes)))
    commune = np.minimum(idx // per_commune, len(p.communes) - 1)
    within = idx - commune * per_commune
    fields = {
        "MaXa": np.array(p.communes, dtype=object)[commune],
        "SoHieuToBanDo": (within // PER_SHEET + 1).astype(np.int32),
        "SoThuTuThua": (within % PER_SHEET + 1).astype(np.int32),
        "KyHieuMucDichSuDung": CODES[(idx + int(p.code)) % len(CODES)],
        "DienTich": np.round(shapely.area(geoms), 1),
        "DiaChi": STREETS[(idx // 37) % len(STREETS)],
    }
    return shapely.to_wkb(geoms), fields


def write_province(p: Province, n: int, path: str | Path, chunk: int = 200_000) -> Path:
    """The province's ``n`` parcels as a GeoPackage (layer ``thua_dat``) in its TM-3 CRS."""
    path = Path(path)
    path.unlink(missing_ok=True)
    for start in range(0, n, chunk):
        wkb, fields = parcels(p, n, start=start, count=min(chunk, n - start))
        raw.write(str(path), wkb, list(fields.values()), list(fields), layer=LAYER, driver="GPKG",
                  geometry_type="Polygon", crs=f"EPSG:{p.epsg}", append=start > 0, encoding="UTF-8")
    return path


def write_country(outdir: str | Path, total: int, only: list[str] | None = None,
                  communes: dict[str, tuple[str, ...]] | None = None, log=print) -> dict[str, Path]:
    """One GeoPackage a province (``<outdir>/p<code>-<n>.gpkg``, reused when present); paths by province."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    share = sizes(total)
    out = {}
    for p in provinces(communes):
        if only and p.code not in only:
            continue
        path = outdir / f"p{p.code}-{share[p.code]}-{p.shape}.gpkg"
        if not path.exists():
            write_province(p, share[p.code], path.with_suffix(".tmp.gpkg")).rename(path)
            log(f"generated {path.name}: {share[p.code]} parcels, {len(p.communes)} communes, EPSG:{p.epsg}")
        out[p.code] = path
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("n", nargs="?", type=int, default=10_000_000)
    ap.add_argument("--provinces", help="comma-separated province codes (default: all 34)")
    ap.add_argument("--communes-from", help="database URL whose landdb.admin_unit holds the current communes")
    args = ap.parse_args()
    communes = communes_from_db(args.communes_from) if args.communes_from else None
    write_country(args.outdir, args.n, args.provinces.split(",") if args.provinces else None, communes)


if __name__ == "__main__":
    main()
