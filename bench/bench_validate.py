"""Benchmark: all parcel topology checks of ``landgeo.validation`` over 1 M parcels (target: < 60 s).

Fills a dedicated database (``landgeo_bench_validate`` on the configured server; kept between runs, rebuilt
with ``--rebuild``) with SQL ``generate_series``: a 1000 × 1000 grid of 25 m parcels in VN-2000 / TM-3 105°
(EPSG:5897, Hà Nội), each an 8-vertex polygon whose corners and edge midpoints are jittered by a hash
(neighbours share their vertices exactly, so the coverage is clean and bounding boxes overlap as in real
data). 100 communes of 100 × 100 parcels, 16 map sheets of 25 × 25 parcels per commune, commune polygons and
sheet frames built from the same vertices. Planted: enlarged parcels (overlaps), shrunk parcels (gaps),
duplicated geometries, parcels on the wrong sheet, declared areas off by 10 %.

Then times each set-based check over the whole province and, as the peer measured in the same run, the
straightforward formulation of the overlap check (``ST_Intersects`` + ``ST_Area(ST_Intersection(...))`` on
every ``&&`` pair) on a 100 000-parcel subset, and prints the plans' key choices (EXPLAIN). Numbers depend
on the machine's load: on the shared 2-core machine other work runs at the same time.

    .venv/bin/python bench/bench_validate.py [--rebuild] [--size 1000] [--explain]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from landgeo.catalog import get_target  # noqa: E402
from landgeo.db.connect import database_url, url_with_database  # noqa: E402
from landgeo.db.migrate import migrate  # noqa: E402
from landgeo.db.scratch import create_database  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402
from landgeo.validation import check_table  # noqa: E402
from landgeo.validation.table import _SET_CHECKS, TOPOLOGY_CHECKS  # noqa: E402

DB = "landgeo_bench_validate"
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


def prepare(rebuild: bool, size: int) -> str:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rebuild", action="store_true", help="drop and regenerate the bench database")
    ap.add_argument("--size", type=int, default=1000, help="grid side (parcels = size²; multiple of 100)")
    ap.add_argument("--explain", action="store_true", help="print the plans' key lines")
    ap.add_argument("--jobs", type=int, default=2, help="connections for the heavy statements (default 2 = cores)")
    args = ap.parse_args()
    url = prepare(args.rebuild, args.size)
    target = get_target("parcels")
    where = sql.SQL("province_code = '01'")
    with psycopg.connect(url, autocommit=True) as conn:
        n = conn.execute("SELECT count(*) FROM landdb.parcel WHERE valid_to IS NULL").fetchone()[0]
        load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
        print(f"{n} current parcels, {conn.execute('SELECT count(*) FROM landdb.map_sheet').fetchone()[0]} sheets, "
              f"{conn.execute('SELECT count(*) FROM landdb.admin_unit WHERE geom IS NOT NULL').fetchone()[0]} "
              f"communes; jobs={args.jobs}; load average {' '.join(load)} (2-core machine shared with other work)",
              flush=True)
        t = time.monotonic()
        one_call = check_table(conn, target, "landdb.parcel", where, checks=TOPOLOGY_CHECKS, jobs=args.jobs)
        headline = time.monotonic() - t
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
        print(f"ALL TOPOLOGY CHECKS over {n} parcels in one call (as `landgeo validate` runs them): {headline:.1f} s "
              f"({len(one_call)} findings; target < 60 s) -> {'PASS' if headline < 60 else 'FAIL'}; "
              f"load average after: {load}", flush=True)
        print("breakdown, one call per check family (each with its own validity pass):", flush=True)
        total = 0.0
        counts: dict[str, int] = {}
        plans: dict[str, list[str]] = {}
        t_all = time.monotonic()
        for codes, _fn in _SET_CHECKS["parcel-cover"]:
            if not set(codes) & set(TOPOLOGY_CHECKS):
                continue
            t = time.monotonic()
            got: list[str] = []
            found = check_table(conn, target, "landdb.parcel", where, checks=codes, jobs=args.jobs,
                                plans=got if args.explain else None)
            dt = time.monotonic() - t
            total += dt
            plans[" + ".join(codes)] = got
            for f in found:
                counts[f.code] = counts.get(f.code, 0) + 1
            print(f"  {' + '.join(codes):45s} {dt:7.1f} s  {len(found):6d} findings", flush=True)
        t_all = time.monotonic() - t_all
        print(f"  sum of the separate calls: {total:.1f} s (wall {t_all:.1f} s)", flush=True)
        print("findings:", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        # planted, counted independently of the checks (the generator's own arithmetic)
        planted = conn.execute(f"""
            SELECT count(*) FILTER (WHERE id % 10007 = 5001 AND (parcel_number - 1) / {SHEET} BETWEEN 1 AND {SHEET - 2}
                                    AND (parcel_number - 1) % {SHEET} BETWEEN 1 AND {SHEET - 2}),
                   count(*) FILTER (WHERE parcel_number > 2000),
                   count(*) FILTER (WHERE parcel_number BETWEEN 1001 AND 2000),
                   count(*) FILTER (WHERE id % 1009 = 3)
            FROM landdb.parcel""").fetchone()
        found = {c: sum(1 for f in one_call if f.code == c) for c in ("topo.gap", "topo.duplicate", "topo.wrong_sheet",
                                                                       "attr.area_mismatch")}
        print("planted vs found: " + ", ".join(f"{c} {p}/{found[c]}" for c, p in zip(found, planted, strict=True))
              + " (gaps: shrunk parcels inside their sheet; on a sheet's edge a shrunk parcel leaves a notch)")
        # the peer: the straightforward overlap query (equality join on commune + sheet, ST_Intersects and
        # ST_Area(ST_Intersection) on every pair) on 10 communes, against ours on the same communes
        ten = "commune_code IN (SELECT code FROM landdb.admin_unit WHERE level = 'commune' ORDER BY code LIMIT 10)"
        t = time.monotonic()
        ours = check_table(conn, target, "landdb.parcel", sql.SQL(ten), checks=["topo.overlap", "topo.duplicate"],
                           jobs=args.jobs)
        t_ours = time.monotonic() - t
        t = time.monotonic()
        naive = conn.execute(f"""
            SELECT count(*) FROM landdb.parcel a JOIN landdb.parcel b
              ON a.geom && b.geom AND a.id < b.id AND ST_Intersects(a.geom, b.geom)
             AND a.commune_code = b.commune_code AND a.sheet_number = b.sheet_number
            WHERE a.{ten} AND b.valid_to IS NULL AND a.valid_to IS NULL
              AND ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), a.area_srid)) > 0.1""").fetchone()[0]
        t_naive = time.monotonic() - t
        print(f"peer (10 communes, 100 000 parcels): straightforward overlap query {t_naive:.1f} s ({naive} pairs) vs "
              f"ours {t_ours:.1f} s ({len(ours)} findings): ratio {t_naive / max(t_ours, 1e-9):.1f}x")
        if args.explain:
            for name, got in plans.items():
                print(f"plans of {name}:")
                for plan in got:
                    for line in key_lines(plan):
                        print("   ", line)
                    print("    --")


if __name__ == "__main__":
    main()
