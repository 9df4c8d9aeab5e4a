"""Cost of pinning the official VN-2000 operation, against the unpinned peer measured in the same run.

    .venv/bin/python -m bench.bench_crs [--points 1000000] [--db-points 100000]

Python: landgeo.crs.transform (TM-3 -> its geographic CRS -> EPSG:6960 -> WGS 84) vs one pyproj
Transformer.from_crs (PROJ's own choice, EPSG:5194 in the delta). PostGIS: meta.transform vs plain
ST_Transform on the same points (needs the configured database; skipped when unreachable).
Prints seconds and ratios; the machine may be shared, so only the ratios mean much.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyproj

from landgeo.crs import transform


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def python_bench(n: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(560_000, 640_000, n)  # Hồ Chí Minh City and around, EPSG:9210
    y = rng.uniform(1_150_000, 1_230_000, n)
    peer = pyproj.Transformer.from_crs(9210, 4326, always_xy=True)
    transform("EPSG:9210", "EPSG:4326", x[:10], y[:10])  # warm the cache
    t_ours = _best(lambda: transform("EPSG:9210", "EPSG:4326", x, y))
    t_peer = _best(lambda: peer.transform(x, y))
    lon1, lat1 = transform("EPSG:9210", "EPSG:4326", x[:1000], y[:1000])
    lon2, lat2 = peer.transform(x[:1000], y[:1000])
    d = pyproj.Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2]
    print(f"python {n} points 9210->4326: landgeo {t_ours:.3f}s ({n / t_ours / 1e6:.2f} Mpt/s), "
          f"pyproj default {t_peer:.3f}s, ratio {t_ours / t_peer:.2f}; default is {np.mean(d):.3f} m off")


def postgis_bench(n: int) -> None:
    try:
        import psycopg

        from landgeo.db.connect import database_url
        conn = psycopg.connect(database_url(), connect_timeout=3)
    except Exception as exc:  # no database: the Python half still means something
        print(f"postgis: skipped ({type(exc).__name__})")
        return
    with conn:
        conn.execute("CREATE TEMP TABLE bench_pts AS SELECT ST_SetSRID(ST_MakePoint(560000 + random() * 80000, "
                     "1150000 + random() * 80000), 9210) AS g FROM generate_series(1, %s)", (n,))

        def run(expr: str) -> None:
            conn.execute(f"SELECT count(*) FROM (SELECT {expr} AS t FROM bench_pts) s WHERE t IS NOT NULL")

        t_ours = _best(lambda: run("meta.transform(g, 4326)"))
        t_peer = _best(lambda: run("ST_Transform(g, 4326)"))
        t_plane = _best(lambda: run("meta.transform(g, 4756)"))
        print(f"postgis {n} points 9210->4326: meta.transform {t_ours:.3f}s, ST_Transform {t_peer:.3f}s, "
              f"ratio {t_ours / t_peer:.2f}; 9210->4756 (same datum) {t_plane:.3f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--db-points", type=int, default=100_000)
    args = ap.parse_args()
    python_bench(args.points)
    postgis_bench(args.db_points)


if __name__ == "__main__":
    main()
