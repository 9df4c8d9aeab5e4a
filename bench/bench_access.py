"""Access control's cost: an officer's page of the restricted register vs a public page of the same size.

One database (``landgeo_bench_access``): N parcels in province 79 (communes of 1 000 parcels) and N in 01, one
party and one right per parcel (RLS-protected), one `landgeo serve` (2 workers), one run, interleaved rounds,
wrk with keep-alive connections (as QGIS/GDAL). Pages of 100 features:

- ``public``: anonymous parcels page (the page the public reads today), and the same with ``skipGeometry``;
- ``analyst``: the same public page with an analyst's token (the token is resolved in the database);
- ``officer``: a province-79 officer's page of parties, of rights; a commune officer's page of parties;
  each as a first page (numberMatched counted under RLS) and as a next page (cursor).

The issue's rule: officer page / public page <= 1.2. The machine may be shared: read the ratios, not the figures.

    .venv/bin/python bench/bench_access.py [--rows 100000] [--seconds 5] [--rounds 3] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from landgeo.db.connect import database_url, url_with_database  # noqa: E402
from landgeo.db.migrate import migrate  # noqa: E402
from landgeo.db.scratch import create_database  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402

BENCH_DB = "landgeo_bench_access"

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
SELECT 'P' || id, 'person', 'Người Thử ' || id, '000' || lpad(id::text, 9, '0'), 1950 + id %% 50,
       'Số ' || id || ' đường Thử', province_code
FROM landdb.parcel ORDER BY id;
INSERT INTO landdb_restricted.land_right (right_code, parcel_id, party_id, right_type, share, valid_from,
                                          province_code, commune_code)
SELECT 'R' || p.id, p.id, y.id, 'use', 1, '2020-01-01', p.province_code, p.commune_code
FROM landdb.parcel p JOIN landdb_restricted.party y ON y.party_code = 'P' || p.id;
"""


def log(msg: str) -> None:
    print(msg, flush=True)


def ensure_db(rows: int) -> str:
    url = database_url(get_settings())
    bench = url_with_database(url, BENCH_DB)
    try:
        with psycopg.connect(bench) as conn:
            n = conn.execute("SELECT count(*) FROM landdb_restricted.land_right").fetchone()[0]
        if n == 2 * rows:
            migrate(bench, get_settings().migrations_dir, log=lambda *a: None)  # newer policies, if any
            log(f"bench database {BENCH_DB}: {n} rights (reused)")
            return bench
    except psycopg.Error:
        pass
    admin = url_with_database(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
    create_database(admin, BENCH_DB)
    migrate(bench, get_settings().migrations_dir, log=lambda *a: None)
    log(f"filling {BENCH_DB}: {2 * rows} parcels, parties and rights ...")
    started = time.monotonic()
    with psycopg.connect(bench) as conn:
        for statement in FILL_SQL.split(";\n"):
            if statement.strip():
                conn.execute(statement, {"n": rows})
    with psycopg.connect(bench, autocommit=True) as conn:
        conn.execute("ANALYZE")
    log(f"  filled in {time.monotonic() - started:.0f} s")
    return bench


def token(db: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "landgeo", "users", "add", *args], capture_output=True, text=True,
                          env={**os.environ, "LANDGEO_DATABASE_URL": db}, cwd=ROOT, timeout=120)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return done.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, seconds: float, concurrency: int, auth: str | None) -> float:
    args = ["wrk", "-t", "2", "-c", str(concurrency), "-d", f"{seconds:g}s", "--timeout", "60s"]
    if auth:
        args += ["-H", f"Authorization: Bearer {auth}"]
    text = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 120).stdout
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if bad and int(bad.group(1)):
        raise SystemExit(f"{url}: {bad.group(1)} non-2xx answers under load")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="parcels per province (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    ns = parser.parse_args()
    db = ensure_db(ns.rows)
    stamp = str(int(time.time()))
    tokens = {"analyst": token(db, f"bench-analyst-{stamp}", "--role", "analyst", "--expires", "1d"),
              "officer": token(db, f"bench-officer-{stamp}", "--role", "officer", "--province", "79",
                               "--expires", "1d"),
              "commune": token(db, f"bench-commune-{stamp}", "--role", "officer", "--commune", "26050",
                               "--expires", "1d")}
    port = free_port()
    env = {**os.environ, "LANDGEO_DATABASE_URL": db, "LANDGEO_API_NO_ACCESS_LOG": "1"}
    env.pop("PYGEOAPI_OPENAPI", None)
    proc = subprocess.Popen([sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if requests.get(f"{base}/conformance", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.3)

        def next_page(path: str, who: str | None) -> str:
            headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
            body = requests.get(f"{base}{path}", headers=headers, timeout=60).json()
            for _ in range(20):  # 20 pages deep
                href = next(x["href"] for x in body["links"] if x["rel"] == "next")
                body = requests.get(href, headers=headers, timeout=60).json()
            assert len(body["features"]) == 100, body
            return href

        page = "?f=json&limit=100"
        scenarios = {
            "public parcels (first page)": ("/collections/parcels/items" + page, None),
            "public parcels, skipGeometry": ("/collections/parcels/items" + page + "&skipGeometry=true", None),
            "analyst parcels (token)": ("/collections/parcels/items" + page, "analyst"),
            "officer parties (first page)": ("/collections/parties/items" + page, "officer"),
            "officer rights (first page)": ("/collections/rights/items" + page, "officer"),
            "commune officer parties": ("/collections/parties/items" + page, "commune"),
        }
        deep = {
            "public parcels (page 21)": (next_page("/collections/parcels/items" + page, None), None),
            "officer parties (page 21)": (next_page("/collections/parties/items" + page, "officer"), "officer"),
            "officer rights (page 21)": (next_page("/collections/rights/items" + page, "officer"), "officer"),
        }
        everything = {k: (v[0] if v[0].startswith("http") else base + v[0], v[1])
                      for k, v in {**scenarios, **deep}.items()}
        for name, (url, who) in everything.items():  # check the answers first
            r = requests.get(url, headers={"Authorization": f"Bearer {tokens[who]}"} if who else {}, timeout=60)
            assert r.status_code == 200 and len(r.json()["features"]) == 100, (name, r.text[:300])
        best: dict[str, float] = {}
        for rnd in range(ns.rounds):
            for name, (url, who) in everything.items():
                rps = wrk(url, ns.seconds, ns.concurrency, tokens[who] if who else None)
                best[name] = max(best.get(name, 0.0), rps)
            log(f"round {rnd + 1}/{ns.rounds} done")
        log(f"\npages of 100 features, {2 * ns.rows} parcels / parties / rights, 2 workers, concurrency "
            f"{ns.concurrency}, best of {ns.rounds} rounds of {ns.seconds:g} s (shared machine: read the ratios)")
        log(f"{'scenario':34} {'req/s':>8} {'cost vs public':>15}")
        for name in everything:
            peer = "public parcels (page 21)" if "page 21" in name else "public parcels (first page)"
            log(f"{name:34} {best[name]:8.1f} {best[peer] / best[name]:14.2f}x")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
