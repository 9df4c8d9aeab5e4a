"""Benchmark: ``landgeo load`` of an N-parcel VN-2000 TM-3 GeoPackage against ``ogr2ogr`` into the same PostGIS.

Both run in the same invocation against the same server, into a fresh migrated database:

* peer: ``ogr2ogr -f PostgreSQL PG:... file.gpkg --config PG_USE_COPY YES`` (no checks, no transformation,
  geometry stays in the file's TM-3 CRS);
* landgeo: ``landgeo load file.gpkg --into parcels --province 01`` (field mapping, CRS detection, per-feature
  checks from landgeo.validation, transformation to VN-2000 geographic and, by the official operation, to the
  WGS 84 serving copy, computed area, binary COPY, set-based checks (``--set-checks``), the partitioned
  landdb.parcel with all its indexes, lineage row, one transaction).

By default province 01 is empty before each landgeo run: its first load, where the loader builds the partition
and swaps it in (loaders/write/bulk.py). ``--incremental`` first loads one parcel of another commune into province
01, so that the file goes through staging and the per-batch merge into the existing partition instead.

Wall time of each, peak memory (max RSS) of the landgeo process, and the ratio landgeo / ogr2ogr are printed.

    python bench/bench_load.py [N=1000000] [--set-checks keys|all] [--incremental] [--repeat 1] [--keep]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.data import write as write_gpkg  # noqa: E402
from landgeo.db.scratch import scratch_database  # noqa: E402


def pg_conninfo(url: str) -> str:
    p = urlsplit(url)
    parts = {"host": p.hostname, "port": p.port, "dbname": p.path.lstrip("/"), "user": unquote(p.username or ""),
             "password": unquote(p.password or "")}
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Run ``cmd``; return wall seconds, max RSS of the child in MiB, and its output tail."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    return wall, max(after, before) // 1024, (proc.stdout + proc.stderr).strip()[-600:]


def checkpoint(url: str) -> None:
    """Flush what the previous run left dirty, so that neither peer pays for the other's writes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--set-checks", default="keys", choices=("all", "keys"))
    ap.add_argument("--incremental", action="store_true", help="province 01 already holds a parcel")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    ap.add_argument("--batch-size", type=int, default=None, help="passed to landgeo load")
    ap.add_argument("--data-dir", default=tempfile.gettempdir())
    args = ap.parse_args()
    args.extra = ["--batch-size", str(args.batch_size)] if args.batch_size else []

    data = Path(args.data_dir) / f"landgeo-bench-{args.n}.gpkg"
    if not data.exists():
        t0 = time.perf_counter()
        write_gpkg(data, args.n)
        print(f"generated {data} ({data.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    with scratch_database("landgeo_bench_load", keep=args.keep) as url:
        print(f"machine: {os.cpu_count()} cores, shared with other work while this runs (numbers taken under load)")
        ogr_times, lg_times, rss = [], [], 0
        for r in range(args.repeat):
            checkpoint(url)
            wall, _, _ = timed(["ogr2ogr", "-f", "PostgreSQL", f"PG:{pg_conninfo(url)}", str(data),
                                "-nln", f"bench_ogr2ogr_{r}", "-lco", "GEOMETRY_NAME=geom", "-overwrite",
                                "--config", "PG_USE_COPY", "YES"])
            ogr_times.append(wall)
            print(f"ogr2ogr      : {wall:7.1f} s")
            with psycopg.connect(url, autocommit=True) as conn:  # each landgeo run starts from an empty table
                conn.execute("TRUNCATE landdb.parcel, landdb.parcel_history, meta.validation_finding, "
                             "meta.validation_run")
                conn.execute("DELETE FROM meta.load_batch")
                if args.incremental:
                    conn.execute(
                        "INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, "
                        "land_use_codes, source_srid, area_srid, geom) VALUES ('01', '99999', 1, 1, '{ONT}', 5897, "
                        "5897, ST_Multi(ST_Transform(ST_MakeEnvelope(500000, 2300000, 500020, 2300025, 5897), 4756)))")
                    conn.execute("VACUUM ANALYZE landdb.parcel_p01")
            checkpoint(url)
            env = {**os.environ, "LANDGEO_DATABASE_URL": url}
            wall, peak, out = timed([sys.executable, "-m", "landgeo", "load", str(data), "--into", "parcels",
                                     "--province", "01", "--set-checks", args.set_checks, *args.extra], env=env)
            lg_times.append(wall)
            rss = max(rss, peak)
            print(f"landgeo load : {wall:7.1f} s, peak RSS {peak} MiB")
            with psycopg.connect(url) as conn:
                stages = conn.execute("SELECT counts->'seconds' FROM meta.load_batch ORDER BY id DESC LIMIT 1"
                                      ).fetchone()[0]
            print(f"  stages (s): {stages}")
            print("  " + "\n  ".join(line for line in out.splitlines() if not line.startswith("read ")))
        with psycopg.connect(url) as conn:
            n = conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0]
        best_ogr, best_lg = min(ogr_times), min(lg_times)
        print(f"parcels stored: {n}")
        print(f"RESULT n={args.n} ogr2ogr={best_ogr:.1f}s landgeo={best_lg:.1f}s ratio(landgeo/ogr2ogr)="
              f"{best_lg / best_ogr:.2f} peak_rss={rss}MiB set_checks={args.set_checks} "
              f"path={'incremental' if args.incremental else 'first-load'}")


if __name__ == "__main__":
    main()
