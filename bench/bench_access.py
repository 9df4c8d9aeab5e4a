"""Access control's cost: an officer's page of the restricted register vs a public page of the same size.

One database per size and data shape (``landgeo_bench_access_<rows>_<shape>``): N parcels in province 79
(communes of 1 000 parcels) and N in 01, one party and one right per parcel (RLS-protected). Shapes:
``interleaved`` (the two provinces' register rows alternate in the tables, the worst case for a scope's rows on
disk) and ``clustered`` (rows stored province by province, commune by commune, as a register loaded per commune).
One `landgeo serve` (2 workers) per database, one run, interleaved rounds, wrk with keep-alive connections (as
QGIS/GDAL). Pages of 100 features; each officer page is compared with the public page at the same step:

- ``public``: anonymous parcels page (the page the public reads today), first page, page 2, page 8 (cursor);
- ``analyst``: the same public first page with an analyst's token (looked up in the database once, then
  remembered until a user or token changes: landgeo.access.revocations);
- ``officer`` (province 79) and ``commune officer`` (commune 26050, 1 000 rows): parties and rights,
  first page (query.py rule 4: numberMatched, exact, from the identity's own per-scope counts, migration 0190),
  page 2 and page 8 (numberMatched carried by the cursor).

The issue's rule: officer page / public page <= 1.2. The machine may be shared: read the ratios, not the figures.
Two costs per page: throughput (best of the rounds of wrk, each page in its own window of seconds) and
``paired`` (the page and its public peer asked alternately, one request at a time, ratio of median latencies:
less sensitive to a load that changes from one window to the next).

    .venv/bin/python bench/bench_access.py [--rows 100000,500000] [--shapes interleaved,clustered]
                                           [--seconds 5] [--rounds 3] [--concurrency 4] [--pairs 300]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import serve_landgeo, stop_server  # noqa: E402
from landgeo.db.connect import database_url, url_with_database  # noqa: E402
from landgeo.db.migrate import migrate  # noqa: E402
from landgeo.db.scratch import create_database  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402

SHAPES = {"interleaved": "p.id", "clustered": "p.province_code, p.commune_code, p.id"}
COMMUNE = "26050"
DEEP = 8

FILL_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, declared_area,
                           address, source_srid, area_srid, valid_from, geom)
SELECT p.code, (CASE p.code WHEN '79' THEN 26000 ELSE 10000 END + i / 1000)::text, 1 + (i %% 1000) / 100,
       1 + i %% 100, ARRAY['ONT'], 600, 'Số ' || i, p.srid, p.srid, '2020-01-01T00:00:00Z',
       ST_Transform(ST_Multi(ST_MakeEnvelope(p.x + (i %% 500) * 20.0, p.y + (i / 500) * 30.0,
                                             p.x + 20 + (i %% 500) * 20.0, p.y + 30 + (i / 500) * 30.0, p.srid)), 4756)
FROM (VALUES ('79', 9210, 560000.0, 1180000.0), ('01', 5897, 560000.0, 2300000.0)) AS p(code, srid, x, y),
     generate_series(0, %(n)s - 1) AS i;
INSERT INTO landdb_restricted.party (party_code, kind, full_name, id_number, birth_year, address, province_code)
SELECT 'P' || p.id, 'person', 'Người Thử ' || p.id, '000' || lpad(p.id::text, 9, '0'), 1950 + p.id %% 50,
       'Số ' || p.id || ' đường Thử', p.province_code
FROM landdb.parcel p ORDER BY {order};
INSERT INTO landdb_restricted.land_right (right_code, parcel_id, party_id, right_type, share, valid_from,
                                          province_code, commune_code)
SELECT 'R' || p.id, p.id, y.id, 'use', 1, '2020-01-01', p.province_code, p.commune_code
FROM landdb.parcel p JOIN landdb_restricted.party y ON y.party_code = 'P' || p.id ORDER BY {order};
"""


def log(msg: str) -> None:
    print(msg, flush=True)


def ensure_db(rows: int, shape: str) -> str:
    url = database_url(get_settings())
    name = f"landgeo_bench_access_{rows}_{shape}"
    bench = url_with_database(url, name)
    try:
        with psycopg.connect(bench) as conn:
            n = conn.execute("SELECT count(*) FROM landdb_restricted.land_right").fetchone()[0]
        if n == 2 * rows:
            migrate(bench, get_settings().migrations_dir, log=lambda *a: None)  # newer policies, if any
            with psycopg.connect(bench, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")  # tables a newer migration filled: visibility maps, statistics
            log(f"bench database {name}: {n} rights (reused)")
            return bench
    except psycopg.Error:
        pass
    admin = url_with_database(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
    create_database(admin, name)
    migrate(bench, get_settings().migrations_dir, log=lambda *a: None)
    log(f"filling {name}: {2 * rows} parcels, parties and rights ({shape}) ...")
    started = time.monotonic()
    with psycopg.connect(bench) as conn:
        for statement in FILL_SQL.format(order=SHAPES[shape]).split(";\n"):
            if statement.strip():
                conn.execute(statement, {"n": rows})
    with psycopg.connect(bench, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as a register that is mostly read: visibility maps set
    log(f"  filled in {time.monotonic() - started:.0f} s")
    return bench


def token(db: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "landgeo", "users", "add", *args], capture_output=True, text=True,
                          env={**os.environ, "LANDGEO_DATABASE_URL": db}, cwd=ROOT, timeout=120)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return done.stdout.strip().splitlines()[-1]


def wrk(url: str, seconds: float, concurrency: int, auth: str | None) -> float:
    args = ["wrk", "-t", "2", "-c", str(concurrency), "-d", f"{seconds:g}s", "--timeout", "60s"]
    if auth:
        args += ["-H", f"Authorization: Bearer {auth}"]
    text = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 120).stdout
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if bad and int(bad.group(1)):
        raise SystemExit(f"{url}: {bad.group(1)} non-2xx answers under load")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))


def page_urls(base: str, path: str, auth: str | None) -> dict[str, tuple[str, dict]]:
    """First page, page 2 and page DEEP of a walk (each page's URL as its previous page links it), with the
    answers' bodies (their numberMatched is checked by the caller)."""
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    url = f"{base}{path}"
    out = {}
    for n in range(1, DEEP + 1):
        body = requests.get(url, headers=headers, timeout=120).json()
        assert len(body["features"]) == 100, (url, str(body)[:300])
        if n in (1, 2, DEEP):
            out[{1: "first page", 2: "page 2", DEEP: f"page {DEEP}"}[n]] = (url, body)
        url = next(x["href"] for x in body["links"] if x["rel"] == "next")
    return out


def measure(db: str, label: str, ns: argparse.Namespace, expected: dict[str, int]) -> list[tuple[str, float, float]]:
    stamp = str(int(time.time()))
    tokens = {"analyst": token(db, f"bench-analyst-{stamp}", "--role", "analyst", "--expires", "1d"),
              "officer": token(db, f"bench-officer-{stamp}", "--role", "officer", "--province", "79",
                               "--expires", "1d"),
              "commune officer": token(db, f"bench-commune-{stamp}", "--role", "officer", "--commune", COMMUNE,
                                       "--expires", "1d")}
    proc, base = serve_landgeo(db)
    try:
        page = "?f=json&limit=100"
        walks = {("public parcels", None): "/collections/parcels/items" + page}
        for who in ("officer", "commune officer"):
            for coll in ("parties", "rights"):
                walks[(f"{who} {coll}", who)] = f"/collections/{coll}/items" + page
        urls: dict[str, tuple[str, str | None, str]] = {}  # name -> (url, who, peer)
        for (name, who), path in walks.items():
            for step, (url, body) in page_urls(base, path, tokens.get(who)).items():
                if who is not None:  # the register's numberMatched rule (query.py rule 4), as served
                    n = body.get("numberMatched")
                    want = expected[who]
                    assert n == want, (name, step, n, want)  # unfiltered: exact on every page, any size
                    assert "numberMatchedEstimate" not in body
                urls[f"{name}, {step}"] = (url, who, f"public parcels, {step}")
        urls["analyst parcels (token), first page"] = (urls["public parcels, first page"][0], "analyst",
                                                       "public parcels, first page")
        best: dict[str, float] = {}
        for rnd in range(ns.rounds):
            for name, (url, who, _peer) in urls.items():
                rps = wrk(url, ns.seconds, ns.concurrency, tokens[who] if who else None)
                best[name] = max(best.get(name, 0.0), rps)
            log(f"  {label}: round {rnd + 1}/{ns.rounds} done")
        paired = {name: paired_cost(url, tokens.get(who), urls[peer][0], ns.pairs)
                  for name, (url, who, peer) in urls.items()} if ns.pairs else {}
    finally:
        stop_server(proc)
    return [(name, best[name], best[peer] / best[name] if best[name] else float("inf"), paired.get(name))
            for name, (_u, _w, peer) in urls.items()]


def paired_cost(url: str, auth: str | None, peer_url: str, pairs: int) -> float:
    """Median latency of ``url`` / median latency of ``peer_url``, the two asked alternately (one keep-alive
    connection each, one request at a time): a load that drifts on a shared machine weighs on both alike."""
    def request(conn: http.client.HTTPConnection, target: str, headers: dict) -> float:
        started = time.perf_counter()
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{target}: HTTP {response.status}")
        return time.perf_counter() - started

    parts, peer_parts = urlsplit(url), urlsplit(peer_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    peer = http.client.HTTPConnection(peer_parts.hostname, peer_parts.port, timeout=60)
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    target, peer_target = f"{parts.path}?{parts.query}", f"{peer_parts.path}?{peer_parts.query}"
    mine, theirs = [], []
    try:
        for _ in range(pairs):
            mine.append(request(conn, target, headers))
            theirs.append(request(peer, peer_target, {}))
    finally:
        conn.close()
        peer.close()
    return statistics.median(mine) / statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,500000",
                        help="parcels per province, comma-separated sizes (default %(default)s: 200 k and 1 M)")
    parser.add_argument("--shapes", default="interleaved,clustered", help="data shapes (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=300,
                        help="requests of each page and its public peer asked alternately, one at a time; cost = "
                             "ratio of median latencies (0: skip)")
    ns = parser.parse_args()
    sizes = [int(x) for x in ns.rows.split(",")]
    shapes = ns.shapes.split(",")
    if not set(shapes) <= set(SHAPES):
        raise SystemExit(f"error: --shapes: one of {', '.join(SHAPES)}")
    log(f"pages of 100 features, 2 workers, concurrency {ns.concurrency}, best of {ns.rounds} rounds of "
        f"{ns.seconds:g} s, one run (shared machine: read the ratios); cost = public req/s / this req/s, "
        "the public page at the same step as peer")
    for rows in sizes:
        for shape in shapes:
            db = ensure_db(rows, shape)
            label = f"{2 * rows} parcels, {shape}"
            expected = {"officer": rows, "commune officer": 1000}
            log(f"\n{label}\n{'scenario':44} {'req/s':>8} {'cost vs public':>15} {'paired':>8}")
            for name, rps, cost, paired in measure(db, label, ns, expected):  # each database as measured
                flag = "" if max(cost, paired or 0) <= 1.2 else "  > 1.2"
                log(f"{name:44} {rps:8.1f} {cost:14.2f}x {paired or 0:7.2f}x{flag}")

if __name__ == "__main__":
    main()
