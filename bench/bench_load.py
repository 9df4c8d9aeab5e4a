"""Benchmark: ``landgeo load`` of an N-parcel VN-2000 TM-3 GeoPackage against ``ogr2ogr`` into the same PostGIS.

Two shapes of data (:mod:`bench.data`), each loaded by both tools, in interleaved rounds (round 1: grid ogr2ogr,
grid landgeo, gaps ogr2ogr, gaps landgeo; round 2: the same …), best vs best per shape:

* ``grid``: Hà Nội (province 01, TM-3 105°00'), a jittered grid whose neighbours share their corners;
* ``gaps``: Hồ Chí Minh City (province 79, TM-3 105°45'), separate rectangles with a 1.6 m strip between
  neighbours (no shared vertex: the distinct-vertex shortcut of the transform gains nothing), official field
  names, mixed land uses including the legacy code LUA.

Both run in the same invocation against the same server, into a fresh migrated database:

* peer: ``ogr2ogr -f PostgreSQL PG:... file.gpkg --config PG_USE_COPY YES`` (no checks, no transformation,
  geometry stays in the file's TM-3 CRS);
* landgeo: ``landgeo load file.gpkg --into parcels --province 01|79`` (field mapping, CRS detection, per-feature
  checks from landgeo.validation, transformation to VN-2000 geographic and, by the official operation, to the
  WGS 84 serving copy, computed area, binary COPY, set-based checks (``--set-checks``), the partitioned
  landdb.parcel with all its indexes, lineage row, one transaction).

By default the province is empty before each landgeo run: its first load, where the loader builds the partition
and swaps it in (loaders/write/bulk.py). ``--incremental`` first loads one parcel of another commune into the
province, so that the file goes through staging and the per-batch merge into the existing partition instead.

Wall time of each, peak memory (max RSS) of the landgeo process, the loader's own stage times, and per shape the
ratio best landgeo / best ogr2ogr are printed, then a Markdown table.

    python bench/bench_load.py [N=1000000] [--shapes grid,gaps] [--set-checks keys|all] [--incremental]
                               [--repeat 3] [--keep]
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


CPU: dict[str, list[float]] = {}  # client CPU seconds (user + system) of each run, by label


def timed(cmd: list[str], env: dict | None = None, label: str = "") -> tuple[float, int, str]:
    """Run ``cmd``; return wall seconds, max RSS of the child in MiB, and its output tail. Its CPU seconds
    (user + system, all threads) are appended to ``CPU[label]``: on a shared machine wall time depends on what
    else runs, CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    CPU.setdefault(label, []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall, max(after.ru_maxrss, before.ru_maxrss) // 1024, (proc.stdout + proc.stderr).strip()[-600:]


def checkpoint(url: str) -> None:
    """Flush what the previous run left dirty, so that neither peer pays for the other's writes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


PROVINCE = {"grid": ("01", 5897, (500000, 2300000)), "gaps": ("79", 9210, (600000, 1190000))}


def data_file(directory: str, n: int, shape: str) -> Path:
    path = Path(directory) / (f"landgeo-bench-{n}.gpkg" if shape == "grid" else f"landgeo-bench-{shape}-{n}.gpkg")
    if not path.exists():
        t0 = time.perf_counter()
        write_gpkg(path, n, shape=shape)
        print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    return path


def run_ogr2ogr(url: str, data: Path, shape: str) -> float:
    table = f"bench_ogr2ogr_{shape}"
    with psycopg.connect(url, autocommit=True) as conn:  # dropping the previous round's copy is not timed
        conn.execute(f"DROP TABLE IF EXISTS public.{table}")
    checkpoint(url)
    wall, _, _ = timed(["ogr2ogr", "-f", "PostgreSQL", f"PG:{pg_conninfo(url)}", str(data), "-nln", table,
                        "-lco", "GEOMETRY_NAME=geom", "--config", "PG_USE_COPY", "YES"], label=f"{shape} ogr2ogr")
    return wall


def run_landgeo(url: str, data: Path, shape: str, args) -> tuple[float, int, dict, str]:
    province, srid, (x, y) = PROVINCE[shape]
    with psycopg.connect(url, autocommit=True) as conn:  # each landgeo run starts from an empty table
        conn.execute("TRUNCATE landdb.parcel, landdb.parcel_history, meta.validation_finding, meta.validation_run")
        conn.execute("DELETE FROM meta.load_batch")
        if args.incremental:
            conn.execute(
                "INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, "
                "land_use_codes, source_srid, area_srid, geom) VALUES (%s, '99999', 1, 1, '{ONT}', %s, %s, "
                "ST_Multi(ST_Transform(ST_MakeEnvelope(%s, %s, %s + 20, %s + 25, %s), 4756)))",
                (province, srid, srid, x, y, x, y, srid))
            conn.execute(f"VACUUM ANALYZE landdb.parcel_p{province}")
    checkpoint(url)
    env = {**os.environ, "LANDGEO_DATABASE_URL": url}
    wall, peak, out = timed([sys.executable, "-m", "landgeo", "load", str(data), "--into", "parcels",
                             "--province", province, "--set-checks", args.set_checks, *args.extra], env=env,
                             label=f"{shape} landgeo")
    with psycopg.connect(url) as conn:
        stages, stored = conn.execute(
            "SELECT counts->'seconds', (counts->>'inserted')::int FROM meta.load_batch ORDER BY id DESC LIMIT 1"
        ).fetchone()
    if stored != args.n:
        raise SystemExit(f"landgeo stored {stored} of {args.n} {shape} parcels:\n{out}")
    return wall, peak, stages, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--shapes", default="grid,gaps", help="comma-separated: grid (shared vertices), gaps (none)")
    ap.add_argument("--set-checks", default="keys", choices=("all", "keys"))
    ap.add_argument("--incremental", action="store_true", help="the province already holds a parcel")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    ap.add_argument("--batch-size", type=int, default=None, help="passed to landgeo load")
    ap.add_argument("--data-dir", default=tempfile.gettempdir())
    args = ap.parse_args()
    args.extra = ["--batch-size", str(args.batch_size)] if args.batch_size else []
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if not shapes or set(shapes) - PROVINCE.keys():
        raise SystemExit(f"--shapes {args.shapes!r}: use grid, gaps or both")
    files = {shape: data_file(args.data_dir, args.n, shape) for shape in shapes}
    times: dict[str, dict[str, list[float]]] = {shape: {"ogr2ogr": [], "landgeo": []} for shape in shapes}
    rss = 0
    with scratch_database("landgeo_bench_load", keep=args.keep) as url:
        print(f"machine: {os.cpu_count()} cores, shared with other work while this runs (numbers taken under load)")
        for r in range(args.repeat):
            for shape in shapes:
                wall = run_ogr2ogr(url, files[shape], shape)
                times[shape]["ogr2ogr"].append(wall)
                print(f"round {r + 1} {shape:4} ogr2ogr      : {wall:7.1f} s (client CPU "
                      f"{CPU[f'{shape} ogr2ogr'][-1]:.1f} s)")
                wall, peak, stages, out = run_landgeo(url, files[shape], shape, args)
                times[shape]["landgeo"].append(wall)
                rss = max(rss, peak)
                print(f"round {r + 1} {shape:4} landgeo load : {wall:7.1f} s (ratio to this round's ogr2ogr "
                      f"{wall / times[shape]['ogr2ogr'][-1]:.2f}), client CPU {CPU[f'{shape} landgeo'][-1]:.1f} s, "
                      f"peak RSS {peak} MiB")
                print(f"  stages (s): {stages}")
    path = "incremental" if args.incremental else "first-load"
    print("\n| shape | ogr2ogr runs (s) | landgeo runs (s) | best ogr2ogr | best landgeo | ratio | pairs | "
          "client CPU, best (s): ogr2ogr / landgeo |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    for shape in shapes:
        o, lg = times[shape]["ogr2ogr"], times[shape]["landgeo"]
        pairs = ", ".join(f"{b / a:.2f}" for a, b in zip(o, lg, strict=True))
        print(f"| {shape} | {', '.join(f'{t:.1f}' for t in o)} | {', '.join(f'{t:.1f}' for t in lg)} | "
              f"{min(o):.1f} | {min(lg):.1f} | {min(lg) / min(o):.2f}× | {pairs} | "
              f"{min(CPU[f'{shape} ogr2ogr']):.1f} / {min(CPU[f'{shape} landgeo']):.1f} |")
    for shape in shapes:
        o, lg = times[shape]["ogr2ogr"], times[shape]["landgeo"]
        print(f"RESULT shape={shape} n={args.n} ogr2ogr={min(o):.1f}s landgeo={min(lg):.1f}s "
              f"ratio(landgeo/ogr2ogr)={min(lg) / min(o):.2f} peak_rss={rss}MiB set_checks={args.set_checks} "
              f"path={path}")


if __name__ == "__main__":
    main()
