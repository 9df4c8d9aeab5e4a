"""Cost that does not grow with the country: the API and the province-level jobs at 1 M and at 10 M parcels.

Both databases are built by ``bench/national_build.py`` (the national generator, 34 provinces, each loaded with
the real ``landgeo load --province``) on the same server; this script migrates them to head, starts one real
``landgeo serve`` on each (same workers), and measures the same scenarios on both in interleaved rounds (one
client, sequential requests: latency, not throughput), so both sizes share the machine's load of the moment:

* ``first``: the first page of 1000 parcels;
* ``bbox``: a 100-parcel bbox page (CRS84) around a random parcel;
* ``by_id``: one parcel by id (random ids);
* ``attribute``: ``commune_code=…`` page of 100 (random communes);
* ``deep_offset``: ``offset=N/2`` (5 M deep at 10 M; the middle of the collection at 1 M), limit 100;
* ``deep_keyset``: the same page by the keyset cursor a client holds after paging that far.

The table ends with the rows of ``bench/bench_national_jobs.py`` when it has run (the same province's file loaded
into, and ``landgeo validate parcels --province`` run on, the 1 M and the 10 M database, interleaved). The plans
(EXPLAIN ANALYZE) at 10 M of the look-up by id and of an offset page's position are printed for docs/scale.md.

    .venv/bin/python bench/bench_national.py [--sizes 1000000,10000000] [--requests 25] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.national_build import db_url, parcel_count  # noqa: E402
from landgeo.api.collections import get_collection  # noqa: E402
from landgeo.api.crs import CRS84, parse_crs  # noqa: E402
from landgeo.api.locate import id_ranges  # noqa: E402
from landgeo.api.query import ItemsQuery, build_query, encode_cursor  # noqa: E402
from landgeo.api.statements import block_position_sql, item_sql  # noqa: E402
from landgeo.db.migrate import migrate  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402

SCENARIOS = ("first", "bbox", "by_id", "attribute", "deep_offset", "deep_keyset")


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Target:
    """One bench database, its server and the values its scenarios draw from."""

    def __init__(self, n: int, rng: random.Random):
        self.n = n
        self.url = db_url(f"landgeo_bench_national_{n}")
        self.rng = rng
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(
                "SELECT id, commune_code, ST_X(c), ST_Y(c) FROM (SELECT id, commune_code, "
                "ST_Centroid(geom_wgs84) c FROM landdb.parcel TABLESAMPLE SYSTEM (0.2) REPEATABLE (7) "
                "WHERE valid_to IS NULL) s LIMIT 400").fetchall()
            self.deep_id, self.deep_first = (r[0] for r in conn.execute(
                "SELECT id FROM landdb.parcel WHERE valid_to IS NULL ORDER BY id OFFSET %s LIMIT 2", (n // 2 - 1,)))
        self.sample = rows
        self.cursor = encode_cursor(ItemsQuery(get_collection("parcels")), [self.deep_id], None)
        self.proc = None
        self.base = ""

    def start(self, logdir: Path) -> None:
        port = free_port()
        env = {**os.environ, "LANDGEO_DATABASE_URL": self.url, "LANDGEO_API_NO_ACCESS_LOG": "1"}
        env.pop("LANDGEO_READ_DATABASE_URL", None)
        out = open(logdir / f"serve-{self.n}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen([sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers",
                                      "2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if requests.get(f"{self.base}/conformance", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        raise SystemExit(f"server for {self.n} did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:  # a worker still in a slow query
                self.proc.kill()

    def url_for(self, scenario: str) -> str:
        items = f"{self.base}/collections/parcels/items"
        fid, commune, x, y = self.rng.choice(self.sample)
        return {
            "first": f"{items}?f=json&limit=1000",
            "bbox": f"{items}?f=json&limit=100&bbox={x - 0.0009},{y - 0.0011},{x + 0.0009},{y + 0.0011}",
            "by_id": f"{items}/{fid}?f=json",
            "attribute": f"{items}?f=json&limit=100&commune_code={commune}",
            "deep_offset": f"{items}?f=json&limit=100&offset={self.n // 2}",
            "deep_keyset": f"{items}?f=json&limit=100&cursor={self.cursor}",
        }[scenario]


def measure(target: Target, scenario: str, count: int, timeout: float) -> tuple[list[float], list[str]]:
    times, errors = [], []
    for _ in range(count):
        url = target.url_for(scenario)
        t0 = time.perf_counter()
        try:
            res = requests.get(url, timeout=timeout)
            ok = res.status_code == 200 and (scenario == "by_id" or res.json()["numberReturned"] > 0)
            if ok and scenario in ("deep_offset", "deep_keyset"):  # both give row N/2 first (ORDER BY id OFFSET)
                ok = res.json()["features"][0]["id"] == target.deep_first
            if not ok:
                errors.append(f"{res.status_code} {res.text[:120]}")
        except requests.RequestException as exc:
            errors.append(type(exc).__name__)
        times.append(time.perf_counter() - t0)
    return times, errors


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))] if values else float("nan")


def plans(url: str, offset: int) -> str:
    """EXPLAIN ANALYZE of the API's look-up by id (pruned by landgeo.api.locate's id ranges, as run_item asks;
    and the plain one), and of the position statement of an ``offset`` page (the block counts of migration 0140)."""
    c = get_collection("parcels")
    out = []
    with psycopg.connect(url) as conn:
        fid = conn.execute("SELECT id FROM landdb.parcel_p79 ORDER BY id OFFSET 1000 LIMIT 1").fetchone()[0]
        ranges = id_ranges(conn, c)
        crs = parse_crs(CRS84, c.crs_uris)
        statements = (
            (f"by id, pruned by landgeo.api.locate (id {fid}, province {ranges.partition_of(fid)})",
             item_sql(c, crs, ranges.key).as_string(conn), (fid, ranges.partition_of(fid))),
            (f"by id, plain (every partition; id {fid})", item_sql(c, crs).as_string(conn), (fid,)),
        )
        position, params = block_position_sql(build_query(c, offset=offset))
        statements += ((f"offset {offset}: the row before the page, from the block counts",
                        position.as_string(conn), tuple(params)),)
        for title, query, args in statements:
            conn.execute(query, args)  # once first: the session's catalogue caches, as in a warm server
            rows = conn.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + query, args).fetchall()
            out.append(f"-- {title}\n" + "\n".join(r[0] for r in rows))
    return "\n\n".join(out)


def jobs_rows(path: Path) -> list[str]:
    """The load and validate rows of ``bench/bench_national_jobs.py`` (same province, 1 M vs 10 M database)."""
    if not path.exists():
        return []
    rep = json.loads(path.read_text())
    rows = []
    for job in ("load", "validate"):
        a, b = rep[job]["small"], rep[job]["large"]
        if a and b:
            rows.append(f"| {job} province {rep['probe']} ({rep['parcels']:,} parcels; best of {len(a)}) | "
                        f"{min(a):.1f} s | | {min(b):.1f} s | | {min(b) / min(a):.2f} | "
                        f"{'met' if min(b) / min(a) <= 1.5 else 'NOT met'} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--requests", type=int, default=25, help="requests per scenario, size and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of: "
                    + ", ".join(SCENARIOS))
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--data-dir", default="/tmp/landgeo-national")
    ap.add_argument("--out", default=None, help="also write the report (markdown) here")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    scenarios = [s for s in SCENARIOS if s in args.scenarios.split(",")]
    log(f"machine: {os.cpu_count()} cores, shared with other work while this runs (numbers taken under load)")
    targets = []
    for n in sizes:
        url = db_url(f"landgeo_bench_national_{n}")
        if parcel_count(url) != n:
            raise SystemExit(f"landgeo_bench_national_{n} is not built: python bench/national_build.py {n}")
        log(f"{n}: migrating to head")
        migrate(url, get_settings().migrations_dir, log=lambda m: log(f"  {m}"))
        targets.append(Target(n, random.Random(20261206)))
    logdir = Path(args.data_dir)
    for t in targets:
        t.start(logdir)
    results: dict[tuple[str, int], list[float]] = {}
    errors: dict[tuple[str, int], list[str]] = {}
    try:
        for t in targets:  # warm each server's pools and caches once
            for s in scenarios:
                measure(t, s, 1, args.timeout)
        for r in range(args.rounds):
            for s in scenarios:
                for t in (targets if r % 2 == 0 else targets[::-1]):
                    times, errs = measure(t, s, args.requests, args.timeout)
                    results.setdefault((s, t.n), []).extend(times)
                    errors.setdefault((s, t.n), []).extend(errs)
                    log(f"round {r + 1} {s:12} {t.n:>9}: p95 {pct(times, 95) * 1000:8.1f} ms"
                        + (f"  errors: {errs[:2]}" if errs else ""))
    finally:
        for t in targets:
            t.stop()
    lo, hi = sizes[0], sizes[-1]
    lines = [f"| scenario | p50 {lo:,} | p95 {lo:,} | p50 {hi:,} | p95 {hi:,} | ratio (p95; jobs: best) | bar 1.5× |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for s in scenarios:
        a, b = results[(s, lo)], results[(s, hi)]
        ratio = pct(b, 95) / pct(a, 95)
        bad = len(errors[(s, lo)]) + len(errors[(s, hi)])
        lines.append(f"| {s} | {pct(a, 50) * 1000:.1f} ms | {pct(a, 95) * 1000:.1f} ms | {pct(b, 50) * 1000:.1f} ms | "
                     f"{pct(b, 95) * 1000:.1f} ms | {ratio:.2f} | {'met' if ratio <= 1.5 and not bad else 'NOT met'}"
                     + (f" ({bad} failed requests)" if bad else "") + " |")
    lines += jobs_rows(logdir / f"jobs-{lo}-{hi}.json")
    report = "\n".join(lines) + "\n\n```\n" + plans(targets[-1].url, hi // 2) + "\n```\n"
    print(report)
    if args.out:
        Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
