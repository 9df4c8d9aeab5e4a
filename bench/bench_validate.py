"""Benchmark: ``landgeo validate parcels`` (every check, as the CLI runs it) over 1 M parcels of two shapes of data.

Bar: all checks together < 60 s per shape. Two databases, kept between runs (``--rebuild`` regenerates them):

* ``grid`` (``landgeo_bench_validate``): filled with SQL ``generate_series``: a 1000 × 1000 grid of 25 m parcels
  in VN-2000 / TM-3 105° (EPSG:5897, Hà Nội), each an 8-vertex polygon whose corners and edge midpoints are
  jittered by a hash (neighbours share their vertices exactly, so the coverage is clean and bounding boxes
  overlap as in real data). 100 communes of 100 × 100 parcels, 16 map sheets of 25 × 25 parcels per commune,
  commune polygons and sheet frames built from the same vertices. Planted: enlarged parcels (overlaps), shrunk
  parcels (gaps), duplicated geometries, parcels on the wrong sheet, declared areas off by 10 %.
* ``gaps`` (``landgeo_bench_validate_gaps``): the ``gaps`` shape of ``bench/data.py`` (Hồ Chí Minh City,
  VN-2000 / TM-3 105°45', separate rectangles with 1.6 m strips, no shared vertex, mixed land uses with the
  legacy codes LUA and BHK), with 100 current official commune codes of province 79, written as a GeoPackage
  and loaded by ``landgeo load`` (no ``--province``), as a new user does. Planted: enlarged parcels (overlapping
  their neighbours across the strip), parcels with a hole (a gap in the coverage), slivers, duplicated
  geometries, declared areas off by 10 %. No commune polygons or sheet frames: those checks report "not run".

Per shape: the whole run (``run_validation``: per-feature checks, every set-based check, writing the findings)
with the seconds of each phase, the findings per check, and the planted errors found. For ``grid`` also, as the
peer measured in the same run, the straightforward formulation of the overlap check (``ST_Intersects`` +
``ST_Area(ST_Intersection(...))`` on every ``&&`` pair) on 10 communes. Numbers depend on the machine's load:
on the shared 2-core machine other work runs at the same time (the load average is printed).

    .venv/bin/python bench/bench_validate.py [--shapes grid,gaps] [--rebuild] [--jobs 2] [--explain]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.data import write as write_gpkg  # noqa: E402
from landgeo.catalog import get_target  # noqa: E402
from landgeo.db.connect import database_url, url_with_database  # noqa: E402
from landgeo.db.migrate import migrate  # noqa: E402
from landgeo.db.scratch import create_database  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402
from landgeo.validation import check_table, run_validation  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DB = "landgeo_bench_validate"
GAPS_DB = "landgeo_bench_validate_gaps"
SRID = 5897
X0, Y0, C = 560_000.0, 2_300_000.0, 25.0
BLOCK, SHEET = 100, 25  # parcels per commune side, per sheet side

GENERATOR = f"""
CREATE SCHEMA IF NOT EXISTS bench;
-- deterministic jitter in [-0.5, 0.5]
CREATE OR REPLACE FUNCTION bench.jit(i int, j int, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (((i::bigint * 73856093) # (j::bigint * 19349663) # (salt::bigint * 83492791)) & 1023) / 1023.0 - 0.5 $$;
-- corner vertex (i, j): straight lines along sheet borders (every {SHEET} parcels)
CREATE OR REPLACE FUNCTION bench.cx(i int, j int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT {X0} + i * {C} + CASE WHEN i % {SHEET} = 0 THEN 0 ELSE 8 * bench.jit(i, j, 1) END $$;
CREATE OR REPLACE FUNCTION bench.cy(i int, j int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT {Y0} + j * {C} + CASE WHEN j % {SHEET} = 0 THEN 0 ELSE 8 * bench.jit(i, j, 2) END $$;
CREATE OR REPLACE FUNCTION bench.c(i int, j int) RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ST_MakePoint(bench.cx(i, j), bench.cy(i, j)) $$;
-- midpoint of the edge (i, j)-(i+1, j), jittered across it; of the edge (i, j)-(i, j+1) likewise
CREATE OR REPLACE FUNCTION bench.mh(i int, j int) RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ST_MakePoint((bench.cx(i, j) + bench.cx(i + 1, j)) / 2,
                       (bench.cy(i, j) + bench.cy(i + 1, j)) / 2
                       + CASE WHEN j % {SHEET} = 0 THEN 0 ELSE 5 * bench.jit(i, j, 3) END) $$;
CREATE OR REPLACE FUNCTION bench.mv(i int, j int) RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ST_MakePoint((bench.cx(i, j) + bench.cx(i, j + 1)) / 2
                       + CASE WHEN i % {SHEET} = 0 THEN 0 ELSE 5 * bench.jit(i, j, 4) END,
                       (bench.cy(i, j) + bench.cy(i, j + 1)) / 2) $$;
CREATE OR REPLACE FUNCTION bench.parcel(i int, j int) RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ST_Multi(ST_Transform(ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[
       bench.c(i, j), bench.mh(i, j), bench.c(i + 1, j), bench.mv(i + 1, j), bench.c(i + 1, j + 1),
       bench.mh(i, j + 1), bench.c(i, j + 1), bench.mv(i, j), bench.c(i, j)])), {SRID}), 4756)) $$;
-- the ring of an n x n block of parcels from corner (i0, j0), through the same vertices as its parcels
CREATE OR REPLACE FUNCTION bench.block(i0 int, j0 int, n int) RETURNS geometry LANGUAGE sql IMMUTABLE AS $$
  SELECT ST_Multi(ST_Transform(ST_SetSRID(ST_MakePolygon(ST_MakeLine(array_agg(p ORDER BY k))), {SRID}), 4756))
  FROM (
    SELECT k, p FROM (
      SELECT 2 * s AS k, bench.c(i0 + s, j0) AS p FROM generate_series(0, n - 1) s
      UNION ALL SELECT 2 * s + 1, bench.mh(i0 + s, j0) FROM generate_series(0, n - 1) s
      UNION ALL SELECT 2 * n + 2 * s, bench.c(i0 + n, j0 + s) FROM generate_series(0, n - 1) s
      UNION ALL SELECT 2 * n + 2 * s + 1, bench.mv(i0 + n, j0 + s) FROM generate_series(0, n - 1) s
      UNION ALL SELECT 4 * n + 2 * s, bench.c(i0 + n - s, j0 + n) FROM generate_series(0, n - 1) s
      UNION ALL SELECT 4 * n + 2 * s + 1, bench.mh(i0 + n - s - 1, j0 + n) FROM generate_series(0, n - 1) s
      UNION ALL SELECT 6 * n + 2 * s, bench.c(i0, j0 + n - s) FROM generate_series(0, n - 1) s
      UNION ALL SELECT 6 * n + 2 * s + 1, bench.mv(i0, j0 + n - s - 1) FROM generate_series(0, n - 1) s
      UNION ALL SELECT 8 * n, bench.c(i0, j0)) v) w $$;
"""


def fill(conn, size: int) -> None:
    """Generate the communes, sheets and size × size parcels, then plant errors."""
    t = time.monotonic()
    conn.execute(GENERATOR)
    blocks = size // BLOCK
    conn.execute("""
        INSERT INTO landdb.admin_unit (code, name, level, parent_code, valid_from, geom)
        SELECT lpad((10000 + bi * 100 + bj)::text, 5, '0'), 'Xã ' || bi || '-' || bj, 'commune', '01', '2019-01-01',
               bench.block(bi * %(b)s, bj * %(b)s, %(b)s)
        FROM generate_series(0, %(n)s - 1) bi, generate_series(0, %(n)s - 1) bj""", {"b": BLOCK, "n": blocks})
    per = BLOCK // SHEET
    conn.execute("""
        INSERT INTO landdb.map_sheet (province_code, commune_code, sheet_number, scale, source_srid, geom)
        SELECT '01', lpad((10000 + bi * 100 + bj)::text, 5, '0'), si * %(per)s + sj + 1, 1000, %(srid)s,
               bench.block(bi * %(b)s + si * %(s)s, bj * %(b)s + sj * %(s)s, %(s)s)
        FROM generate_series(0, %(n)s - 1) bi, generate_series(0, %(n)s - 1) bj,
             generate_series(0, %(per)s - 1) si, generate_series(0, %(per)s - 1) sj""",
                 {"b": BLOCK, "s": SHEET, "n": blocks, "per": per, "srid": SRID})
    print(f"  communes and sheets: {time.monotonic() - t:.1f} s", flush=True)
    t = time.monotonic()
    conn.execute("""
        INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                                   source_srid, area_srid, valid_from, geom)
        SELECT '01', lpad((10000 + (i / %(b)s) * 100 + (j / %(b)s))::text, 5, '0'),
               ((i %% %(b)s) / %(s)s) * %(per)s + (j %% %(b)s) / %(s)s + 1,
               (i %% %(s)s) * %(s)s + (j %% %(s)s) + 1,
               '{ONT}', %(srid)s, %(srid)s, '2025-08-01', bench.parcel(i, j)
        FROM generate_series(0, %(size)s - 1) i, generate_series(0, %(size)s - 1) j""",
                 {"b": BLOCK, "s": SHEET, "per": per, "srid": SRID, "size": size})
    print(f"  {size * size} parcels: {time.monotonic() - t:.1f} s", flush=True)
    t = time.monotonic()
    # plant: overlaps (grown 0.5 m), gaps (shrunk 0.5 m), wrong sheet, duplicates; then declared areas
    conn.execute(f"""
        UPDATE landdb.parcel SET geom = ST_Multi(ST_Transform(ST_Buffer(ST_Transform(geom, {SRID}), 0.5,
                                                                        'join=mitre'), 4756))
        WHERE id % 10007 = 7""")
    conn.execute(f"""
        UPDATE landdb.parcel SET geom = ST_Multi(ST_Transform(ST_Buffer(ST_Transform(geom, {SRID}), -0.5,
                                                                        'join=mitre'), 4756))
        WHERE id % 10007 = 5001""")
    conn.execute("UPDATE landdb.parcel SET sheet_number = sheet_number % 16 + 1, parcel_number = parcel_number + 1000 "
                 "WHERE id % 25013 = 17")
    conn.execute("""
        INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                                   source_srid, area_srid, valid_from, geom)
        SELECT province_code, commune_code, sheet_number, parcel_number + 2000, land_use_codes, source_srid,
               area_srid, valid_from, geom FROM landdb.parcel WHERE id % 25013 = 12501""")
    conn.execute("UPDATE landdb.parcel SET declared_area = CASE WHEN id % 1009 = 3 THEN round(computed_area * 1.1, 2) "
                 "ELSE computed_area END")
    print(f"  planted errors: {time.monotonic() - t:.1f} s", flush=True)
    t = time.monotonic()
    conn.execute("VACUUM (ANALYZE) landdb.parcel_p01")
    conn.execute("ANALYZE landdb.admin_unit")
    conn.execute("ANALYZE landdb.map_sheet")
    print(f"  vacuum/analyze: {time.monotonic() - t:.1f} s", flush=True)


def prepare_grid(rebuild: bool, size: int) -> str:
    server = url_with_database(database_url(), "postgres")
    url = url_with_database(database_url(), DB)
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone()
    if rebuild or not exists:
        create_database(server, DB)  # drops the old one first
    migrate(url, get_settings().migrations_dir, log=lambda *_: None)
    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0]
        if have < size * size:
            if have:
                conn.execute("TRUNCATE landdb.parcel, landdb.map_sheet, landdb.admin_unit CASCADE")
            print(f"generating {size} x {size} parcels in {DB} ...", flush=True)
            fill(conn, size)
    return url


KEY = re.compile(r"(Parallel [A-Za-z ]+|Gather( Merge)?|Nested Loop|Hash Join|Merge Join|Index Scan using \S+|"
                 r"Index Only Scan using \S+|Bitmap Index Scan on \S+|Seq Scan on \S+|GroupAggregate|HashAggregate|"
                 r"Sort|SubPlan \d+|Function Scan on \S+|CTE Scan on \S+)")


def key_lines(plan: str) -> list[str]:
    """The lines of a plan that say how rows are found and paired (empty partitions' scans left out)."""
    out = []
    for line in plan.splitlines():
        m = KEY.search(line)
        if not m or re.search(r"parcel_p(?!01)\w+|_pdefault", line):
            continue
        text = line.strip().split("  (")[0]
        if not out or out[-1] != text:
            out.append(text)
    return out


GAPS_PLANTS = {  # planted in the gaps shape after the load: what, the rows it touches, the check that must find it
    "overlap": ("id % 10007 = 7", "topo.overlap"),  # grown 2 m: across the 1.6 m strip into every neighbour
    "hole": ("id % 10007 = 5001", "topo.gap"),  # a 4 m x 4 m hole inside the parcel (nothing fills it)
    "sliver": ("id % 20011 = 11", "geom.sliver"),  # a 15 m x 0.1 m strip
    "duplicate": ("parcel_number > 2000", "topo.duplicate"),  # copies of id % 25013 = 12501
    "area": ("id % 1009 = 3", "attr.area_mismatch"),  # declared area 10 % off
}


def prepare_gaps(rebuild: bool, rows: int) -> str:
    """The gaps shape of bench/data.py, loaded by ``landgeo load`` with official commune codes of province 79."""
    server = url_with_database(database_url(), "postgres")
    url = url_with_database(database_url(), GAPS_DB)
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (GAPS_DB,)).fetchone()
    if rebuild or not exists:
        create_database(server, GAPS_DB)
    migrate(url, get_settings().migrations_dir, log=lambda *_: None)
    with psycopg.connect(url, autocommit=True) as conn:
        loaded = conn.execute("SELECT count(*) FROM landdb.parcel WHERE parcel_number <= 2000").fetchone()[0] >= rows
        planted = conn.execute("SELECT EXISTS (SELECT 1 FROM landdb.parcel WHERE parcel_number > 2000)").fetchone()[0]
        if loaded and not planted:
            plant_gaps(conn)
        if loaded:
            return url
        conn.execute("TRUNCATE landdb.parcel CASCADE")
        communes = [r[0] for r in conn.execute(
            "SELECT code FROM landdb.admin_unit WHERE level = 'commune' AND parent_code = '79' AND valid_to IS NULL "
            "ORDER BY code LIMIT %s", (max(1, rows // 10_000),))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hcmc_gaps.gpkg"
        t = time.monotonic()
        write_gpkg(path, rows, shape="gaps", communes=communes)
        print(f"generating {rows} gapped parcels of province 79 ({len(communes)} communes): "
              f"{time.monotonic() - t:.1f} s; loading with landgeo load ...", flush=True)
        t = time.monotonic()
        subprocess.run([str(Path(sys.executable).parent / "landgeo"), "load", str(path), "--into", "parcels"],
                       env={**os.environ, "LANDGEO_DATABASE_URL": url}, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        print(f"  loaded: {time.monotonic() - t:.1f} s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        plant_gaps(conn)
    return url


def plant_gaps(conn) -> None:
    """Errors a validator must find, planted in the loaded gaps shape (in the parcels' TM-3 plane, EPSG:9210)."""
    grow, hole, sliver, _dup, area = (GAPS_PLANTS[k][0] for k in ("overlap", "hole", "sliver", "duplicate", "area"))
    conn.execute(f"""UPDATE landdb.parcel SET geom = ST_Multi(ST_Transform(ST_Buffer(ST_Transform(geom, 9210), 2.0,
                                                                              'join=mitre'), 4756)) WHERE {grow}""")
    conn.execute(f"""UPDATE landdb.parcel SET geom = ST_Multi(ST_Transform(ST_Difference(ST_Transform(geom, 9210),
                         ST_Expand(ST_Centroid(ST_Transform(geom, 9210)), 2.0)), 4756)) WHERE {hole}""")
    conn.execute(f"""UPDATE landdb.parcel SET geom = ST_Multi(ST_Transform(ST_MakeEnvelope(
                         ST_XMin(ST_Transform(geom, 9210)), ST_YMin(ST_Transform(geom, 9210)),
                         ST_XMin(ST_Transform(geom, 9210)) + 15, ST_YMin(ST_Transform(geom, 9210)) + 0.1, 9210),
                         4756)) WHERE {sliver}""")
    conn.execute("""
        INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                                   declared_area, source_srid, area_srid, valid_from, geom)
        SELECT province_code, commune_code, sheet_number, parcel_number + 2000, land_use_codes, declared_area,
               source_srid, area_srid, valid_from, geom FROM landdb.parcel WHERE id % 25013 = 12501""")
    conn.execute(f"UPDATE landdb.parcel SET declared_area = CASE WHEN {area} THEN round(computed_area * 1.1, 1) "
                 f"ELSE round(computed_area, 1) END WHERE declared_area IS DISTINCT FROM "
                 f"CASE WHEN {area} THEN round(computed_area * 1.1, 1) ELSE round(computed_area, 1) END")
    conn.execute("VACUUM (ANALYZE) landdb.parcel_p79")


def measure(url: str, shape: str, jobs: int) -> tuple[float, dict[str, float], dict[str, int], int]:
    """One ``landgeo validate parcels`` run: total seconds, seconds per phase, findings per check, run id."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE meta.validation_finding")  # the bench keeps only the last run's findings
        timings: dict[str, float] = {}
        t = time.monotonic()
        run_id = run_validation(conn, "parcels", jobs=jobs, timings=timings,
                                progress=lambda msg: print(f"    {time.monotonic() - t:6.1f} s  {msg}", flush=True))
        total = time.monotonic() - t
        counts = dict(conn.execute("SELECT check_code, count(*) FROM meta.validation_finding WHERE run_id = %s "
                                   "GROUP BY 1", (run_id,)).fetchall())
    return total, timings, counts, run_id


def planted_found(url: str, shape: str, run_id: int) -> list[tuple[str, int, int]]:
    """(what, planted rows, of them found by the check that must find them)."""
    plants = GAPS_PLANTS if shape == "gaps" else {
        "gap": (f"id % 10007 = 5001 AND (parcel_number - 1) / {SHEET} BETWEEN 1 AND {SHEET - 2} "
                f"AND (parcel_number - 1) % {SHEET} BETWEEN 1 AND {SHEET - 2}", "topo.gap"),
        "overlap": ("id % 10007 = 7", "topo.overlap"),
        "duplicate": ("parcel_number > 2000", "topo.duplicate"),
        "wrong sheet": ("parcel_number BETWEEN 1001 AND 2000", "topo.wrong_sheet"),
        "area": ("id % 1009 = 3", "attr.area_mismatch"),
    }
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        for what, (cond, code) in plants.items():
            cond = cond.replace("%", "%%")
            if code == "topo.gap":  # a gap has no feature id: found when a gap finding lies on the parcel
                q = f"""SELECT count(*), count(*) FILTER (WHERE EXISTS (
                            SELECT 1 FROM meta.validation_finding f WHERE f.run_id = %s AND f.check_code = %s
                              AND f.commune_code = p.commune_code
                              AND ST_Intersects(f.geom, ST_Expand(p.geom_wgs84, 0.00001))))
                        FROM landdb.parcel p WHERE {cond}"""
            else:  # the parcel is the finding's feature or its other_id
                q = f"""SELECT count(*), count(*) FILTER (WHERE EXISTS (
                            SELECT 1 FROM meta.validation_finding f WHERE f.run_id = %s AND f.check_code = %s
                              AND (f.feature_id = p.id::text OR f.details->>'other_id' = p.id::text)))
                        FROM landdb.parcel p WHERE {cond}"""
            planted, found = conn.execute(q, (run_id, code)).fetchone()
            out.append((what, planted, found))
    return out


def peer(url: str, jobs: int) -> None:
    """The straightforward overlap query on 10 communes against ours on the same communes (grid shape)."""
    target = get_target("parcels")
    ten = "commune_code IN (SELECT DISTINCT commune_code FROM landdb.parcel ORDER BY 1 LIMIT 10)"
    with psycopg.connect(url, autocommit=True) as conn:
        t = time.monotonic()
        ours = check_table(conn, target, "landdb.parcel", sql.SQL(ten), checks=["topo.overlap", "topo.duplicate"],
                           jobs=jobs)
        t_ours = time.monotonic() - t
        t = time.monotonic()
        naive = conn.execute(f"""
            SELECT count(*) FROM landdb.parcel a JOIN landdb.parcel b
              ON a.geom && b.geom AND a.id < b.id AND ST_Intersects(a.geom, b.geom)
             AND a.commune_code = b.commune_code AND a.sheet_number = b.sheet_number
            WHERE a.{ten} AND b.valid_to IS NULL AND a.valid_to IS NULL
              AND ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), a.area_srid)) > 0.1""").fetchone()[0]
        t_naive = time.monotonic() - t
    print(f"  peer (grid, 10 communes, 100 000 parcels): straightforward overlap query {t_naive:.1f} s ({naive} pairs) "
          f"vs ours {t_ours:.1f} s ({len(ours)} findings): ratio {t_naive / max(t_ours, 1e-9):.1f}x", flush=True)


def loadavg() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="grid,gaps", help="grid (shared vertices) and/or gaps (no shared vertex)")
    ap.add_argument("--rebuild", action="store_true", help="drop and regenerate the bench databases")
    ap.add_argument("--size", type=int, default=1000, help="grid side (parcels = size²; multiple of 100)")
    ap.add_argument("--jobs", type=int, default=2, help="connections for the heavy statements (default 2 = cores)")
    ap.add_argument("--explain", action="store_true", help="print the plans' key lines of the set-based checks")
    args = ap.parse_args()
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for shape in shapes:
        if shape not in ("grid", "gaps"):
            raise SystemExit(f"error: unknown shape {shape!r} (grid or gaps)")
    results = {}
    for shape in shapes:
        url = prepare_grid(args.rebuild, args.size) if shape == "grid" else prepare_gaps(args.rebuild,
                                                                                          args.size * args.size)
        with psycopg.connect(url, autocommit=True) as conn:
            n = conn.execute("SELECT count(*) FROM landdb.parcel WHERE valid_to IS NULL").fetchone()[0]
        print(f"{shape}: {n} current parcels; jobs={args.jobs}; load average {loadavg()} "
              "(2-core machine shared with other work)", flush=True)
        total, timings, counts, run_id = measure(url, shape, args.jobs)
        print(f"{shape}: ALL CHECKS (landgeo validate parcels) over {n} parcels: {total:.1f} s, "
              f"{sum(counts.values())} findings; bar < 60 s -> {'PASS' if total < 60 else 'FAIL'}; "
              f"load average after {loadavg()}", flush=True)
        for what, planted, found in planted_found(url, shape, run_id):
            print(f"  planted {what}: {planted}, found {found}{'' if found == planted else '  <-- MISSED'}")
        print("  findings: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())), flush=True)
        results[shape] = (n, total, timings)
        if shape == "grid":
            peer(url, args.jobs)
        if args.explain:
            plans: list[str] = []
            with psycopg.connect(url, autocommit=True) as conn:
                check_table(conn, get_target("parcels"), "landdb.parcel", None, jobs=args.jobs, plans=plans)
            for plan in plans:
                for line in key_lines(plan):
                    print("   ", line)
                print("    --")
    names = list(dict.fromkeys(k for _n, _t, tm in results.values() for k in tm))
    print("\n| phase | " + " | ".join(f"{s} ({results[s][0]:,} parcels)" for s in results) + " |")
    print("| --- | " + " | ".join("---:" for _ in results) + " |")
    for name in names:
        print(f"| {name} | " + " | ".join(f"{results[s][2].get(name, 0.0):.1f} s" for s in results) + " |")
    print("| **all checks (bar < 60 s)** | " + " | ".join(f"**{results[s][1]:.1f} s**" for s in results) + " |")


if __name__ == "__main__":
    main()
