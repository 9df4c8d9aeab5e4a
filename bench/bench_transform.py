"""Measure where to do the TM-3 -> VN-2000 geographic transformation of a load: in the loader (pyproj through
``landgeo.crs.transform``, vectorised over all coordinates with ``shapely.transform``) or in PostGIS
(``ST_Transform(geom, 4756)`` over a staged table), on the same N parcels, and check they agree.

    python bench/bench_transform.py [N=200000]

On a shared 2-core machine (numbers under load). The loader transforms in Python because that work runs
while PostgreSQL is busy writing the previous batch (two cores used at once), whereas ST_Transform would add
to the database side, which is the bottleneck of a load.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.data import CRS, parcels  # noqa: E402
from landgeo.crs import resolve, transform  # noqa: E402
from landgeo.db.scratch import scratch_database  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    wkb, _ = parcels(n)
    geoms = shapely.from_wkb(wkb)
    src = resolve(CRS)

    t0 = time.perf_counter()

    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = transform(src, 4756, coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    in_python = shapely.transform(geoms, fn)
    py_s = time.perf_counter() - t0

    with scratch_database("landgeo_bench_tf") as url:
        with psycopg.connect(url) as conn:
            conn.execute(f"CREATE UNLOGGED TABLE t (i bigint, g geometry(Polygon, {int(src.srid)}))")
            with conn.cursor() as cur, cur.copy("COPY t (i, g) FROM STDIN") as copy:
                for i, w in enumerate(shapely.to_wkb(shapely.set_srid(geoms, src.srid), hex=True,
                                                     include_srid=True)):
                    copy.write_row((i, w))
            conn.commit()
            t0 = time.perf_counter()
            conn.execute("CREATE UNLOGGED TABLE t2 AS SELECT i, ST_Transform(g, 4756) AS g FROM t")
            pg_s = time.perf_counter() - t0
            sample = conn.execute("SELECT i, ST_AsBinary(g) FROM t2 WHERE i % 997 = 0 ORDER BY i").fetchall()
        diff = max(float(np.abs(shapely.get_coordinates(shapely.from_wkb(bytes(w)))
                               - shapely.get_coordinates(in_python[i])).max()) for i, w in sample)
        print("machine: 2 cores shared with other work (numbers taken under load)")
        print(f"parcels {n}: pyproj in the loader {py_s:.2f} s, PostGIS ST_Transform {pg_s:.2f} s, "
              f"ratio PostGIS/pyproj {pg_s / py_s:.2f}; max difference {diff * 111_000 * 1000:.3f} mm")


if __name__ == "__main__":
    main()
