"""OGC API – Features throughput: landgeo (pygeoapi + our provider) vs pygeoapi 0.24 stock PostgreSQL provider vs tipg.

Two shapes of data, each 1 M current parcels of Hồ Chí Minh City (79) surveyed in VN-2000 / TM-3 105°45'
(EPSG:9210), filled with generate_series (no loaders): ``shared`` — a grid of 20 m x 30 m parcels sharing edges
and vertices; ``gaps`` — separate 18.4 m x 28.4 m rectangles with 1.6 m strips between them (no shared vertex),
mixed land uses scattered by a hash (12 % LUC, 8 % the legacy code LUA, ODT, ONT, CLN+ONT, BHK, TMD, DGT). Same
machine, same number of worker processes for every server, one run. Scenarios: first page of 1000; a 100-feature
bbox page; a page 500 000 features deep by the keyset ``next`` link (landgeo) vs OFFSET (peers); the same depth by
``offset`` for every server; one item by id; attribute-filtered pages (commune, 1000 features; land use LUC,
100 features of ≈ 120 000–200 000 matches — the peers filter arrays by equality, ``{LUC}``, the same parcels).
Load: wrk (HTTP/1.1 keep-alive connections, as QGIS and GDAL use them; ``ab -k`` if wrk is missing) against
gunicorn gthread workers for landgeo and stock pygeoapi, uvicorn with httptools/uvloop for tipg; fixed
concurrency, each scenario for a fixed time, in interleaved rounds (best kept). Every answer is checked first
(status 200, same number of features on every server).

    .venv/bin/python bench/bench_api.py [--rows 1000000] [--seconds 6] [--workers 2] [--concurrency 4]
                                        [--shapes shared,gaps] [--scenarios 1,4,7]

Needs ``wrk`` (or ``ab``) and the ``bench`` extra (tipg, uvicorn). The bench databases (``landgeo_bench_api``,
``landgeo_bench_api_gaps``) are built once and reused while they have the requested number of rows.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from landgeo.db.connect import database_url, url_with_database  # noqa: E402
from landgeo.db.migrate import current_version, discover, migrate  # noqa: E402
from landgeo.db.scratch import create_database  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402

GRID = 1000  # columns of the parcel grid; rows = n / GRID

FILL_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                           declared_area, address, source_srid, area_srid, valid_from, geom)
SELECT '79',
       (26000 + (r / 100) * 10 + (c / 100))::text,
       1 + ((r %% 100) / 10) * 10 + (c %% 100) / 10,
       1 + (r %% 10) * 10 + c %% 10,
       CASE (i * 7) %% 5 WHEN 0 THEN ARRAY['ONT'] WHEN 1 THEN ARRAY['CLN', 'ONT'] WHEN 2 THEN ARRAY['LUC']
                         WHEN 3 THEN ARRAY['ODT'] ELSE ARRAY['BHK'] END,
       600 + (i %% 13) * 0.5,
       'Số ' || (1 + c %% 100) || ' đường ' || (r / 10),
       9210, 9210, '2020-01-01T00:00:00Z',
       ST_Transform(ST_Multi(ST_MakeEnvelope(560000 + c * 20.0, 1180000 + r * 30.0,
                                             560020 + c * 20.0, 1180030 + r * 30.0, 9210)), 4756)
FROM generate_series(%(lo)s, %(hi)s) AS i, LATERAL (SELECT i / {grid} AS r, i %% {grid} AS c) g
""".replace("{grid}", str(GRID))

# The second shape of data (what issue 14 measured): separate rectangles, 18.4 m x 28.4 m in 20 m x 30 m cells, so
# a 1.6 m strip lies between neighbours and no two parcels share a vertex; mixed land uses (12 % LUC, 8 % of the
# legacy code LUA, valid until 2024-07-31), scattered over the grid by a hash of the row number rather than in
# stripes; Hồ Chí Minh City (79), VN-2000 / TM-3 105°45' (EPSG:9210).
FILL_GAPS_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                           declared_area, address, source_srid, area_srid, valid_from, geom)
SELECT '79',
       (26734 + (r / 100) * 10 + (c / 100))::text,
       1 + ((r %% 100) / 10) * 10 + (c %% 100) / 10,
       1 + (r %% 10) * 10 + c %% 10,
       CASE WHEN h < 120 THEN ARRAY['LUC'] WHEN h < 200 THEN ARRAY['LUA'] WHEN h < 450 THEN ARRAY['ODT']
            WHEN h < 600 THEN ARRAY['ONT'] WHEN h < 700 THEN ARRAY['CLN', 'ONT'] WHEN h < 800 THEN ARRAY['BHK']
            WHEN h < 900 THEN ARRAY['TMD'] ELSE ARRAY['DGT'] END,
       522.6 + (h %% 7) * 0.5,
       'Số ' || (1 + c %% 100) || ' đường ' || (r / 10),
       9210, 9210, '2019-07-01T00:00:00Z',
       ST_Transform(ST_Multi(ST_MakeEnvelope(600000 + c * 20.0, 1190000 + r * 30.0,
                                             600018.4 + c * 20.0, 1190028.4 + r * 30.0, 9210)), 4756)
FROM generate_series(%(lo)s, %(hi)s) AS i,
     LATERAL (SELECT i / {grid} AS r, i %% {grid} AS c, ((i::bigint * 2654435761) %% 1000)::int AS h) g
""".replace("{grid}", str(GRID))

SHAPES = {  # shape -> (database, fill, cell origin in TM-3 metres)
    "shared": ("landgeo_bench_api", FILL_SQL, (560000, 1180000)),
    "gaps": ("landgeo_bench_api_gaps", FILL_GAPS_SQL, (600000, 1190000)),
}


def log(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_bench_db(rows: int, shape: str = "shared") -> str:
    name, fill, _origin = SHAPES[shape]
    server = database_url()
    url = url_with_database(server, name)
    with psycopg.connect(url_with_database(server, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists:
        with psycopg.connect(url) as conn:
            have = conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0]
            version = current_version(conn)
        head = max(m.version for m in discover(get_settings().migrations_dir))
        if have == rows and version == head:
            log(f"bench database {name} ({shape}): {have} parcels (reused)")
            return url
    create_database(url_with_database(server, "postgres"), name)  # drops a stale one first
    migrate(url, get_settings().migrations_dir, log=lambda *_: None)
    chunk = 100_000
    t0 = time.time()
    with psycopg.connect(url, autocommit=True) as conn:
        for lo in range(0, rows, chunk):
            conn.execute(fill, {"lo": lo, "hi": min(lo + chunk, rows) - 1})
            log(f"  {shape}: filled {min(lo + chunk, rows)} / {rows} parcels ({time.time() - t0:.0f} s)")
        # The peers serve geom_wgs84 and filter their bboxes on it; landgeo's schema indexes only the canonical
        # geom (migration 0041), so the bench gives them the index they need to be measured at their best.
        conn.execute("CREATE INDEX IF NOT EXISTS bench_parcel_geom_wgs84 ON landdb.parcel USING gist (geom_wgs84)")
        conn.execute("VACUUM (ANALYZE) landdb.parcel")
    return url


def wait_up(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {url}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server not up: {url}")


def start_landgeo(db: str, port: int, workers: int, threads: int = 4, env: dict | None = None) -> subprocess.Popen:
    """``landgeo serve`` on ``db`` (``env``: more settings, e.g. ``LANDGEO_TILE_CACHE``)."""
    env = {**os.environ, "LANDGEO_DATABASE_URL": db, "LANDGEO_API_NO_ACCESS_LOG": "1", **(env or {})}
    env.pop("PYGEOAPI_OPENAPI", None)
    return subprocess.Popen(
        [sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers", str(workers),
         "--threads", str(threads)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serve_landgeo(db: str, workers: int = 2, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """``landgeo serve`` on ``db`` at a free port, once it answers: the process and its base URL."""
    port = free_port()
    proc = start_landgeo(db, port, workers, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}/conformance", proc, 120)
    except SystemExit:
        stop_server(proc)
        raise
    return proc, base


def stop_server(proc: subprocess.Popen, seconds: float = 30) -> None:
    """Stop a server started here: SIGTERM, then SIGKILL after ``seconds``."""
    proc.terminate()
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()


def start_pygeoapi(db: str, port: int, workers: int, threads: int, tmp: Path, provider: dict,
                   tag: str) -> subprocess.Popen:
    """Stock pygeoapi 0.24 (gunicorn gthread) publishing only ``parcels``, through ``provider`` — a provider block
    of pygeoapi's configuration whose ``data`` (the connection) is filled here from ``db``."""
    import yaml

    from landgeo.api.config import build_config

    parts = urlsplit(db)
    cfg = build_config()
    cfg["server"]["url"] = f"http://127.0.0.1:{port}"
    res = cfg["resources"]["parcels"]
    res["providers"] = [{**provider, "data": {
        "host": parts.hostname, "port": parts.port, "dbname": parts.path.lstrip("/"),
        "user": unquote(parts.username or ""), "password": unquote(parts.password or ""),
        "search_path": ["landdb", "public"]}}]
    cfg["resources"] = {"parcels": res}
    config = tmp / f"{tag}-config.yml"  # holds a password: temporary directory only
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    openapi = tmp / f"{tag}-openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    bindir = Path(sys.executable).parent
    done = subprocess.run([str(bindir / "pygeoapi"), "openapi", "generate", str(config), "--output-file",
                           str(openapi)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"error: pygeoapi ({provider['name']}) does not start: {done.stderr.strip()[-400:]}")
    return subprocess.Popen(
        [str(bindir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class",
         "gthread", "--threads", str(threads), "--log-level", "error", "--timeout", "300", "pygeoapi.flask_app:APP"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def published_parcel_fields() -> list[str]:
    """The columns landgeo publishes for parcels (what the peers are given to serve too)."""
    from landgeo.api.collections import get_collection

    return [f.name for f in get_collection("parcels").fields]


def start_stock(db: str, port: int, workers: int, threads: int, tmp: Path) -> subprocess.Popen:
    """pygeoapi 0.24 with its stock PostgreSQL provider on the same table (CRS84 from geom_wgs84)."""
    return start_pygeoapi(db, port, workers, threads, tmp, {
        "type": "feature", "name": "PostgreSQL", "id_field": "id", "table": "parcel", "geom_field": "geom_wgs84",
        "properties": published_parcel_fields()}, "stock")


def start_tipg(db: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": db, "TIPG_DB_SCHEMAS": '["landdb"]', "TIPG_DB_TABLES": '["landdb.parcel"]',
           "TIPG_TABLE_CONFIG__landdb_parcel__GEOMCOL": "geom_wgs84", "TIPG_TABLE_CONFIG__landdb_parcel__PK": "id",
           "TIPG_MAX_FEATURES_PER_QUERY": "10000", "TIPG_DB_SPATIAL_EXTENT": "false",
           "TIPG_DB_DATETIME_EXTENT": "false"}
    bindir = Path(sys.executable).parent
    return subprocess.Popen(
        [str(bindir / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port), "--workers",
         str(workers), "--http", "httptools", "--loop", "uvloop", "--log-level", "error", "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def scenarios(db: str, shape: str = "shared") -> dict[str, dict[str, str]]:
    """Scenario -> server -> path; paths give the same features on every server."""
    from landgeo.api.collections import get_collection
    from landgeo.api.parameters import ItemsQuery, encode_cursor

    ox, oy = SHAPES[shape][2]
    with psycopg.connect(db) as conn:
        # a 10 x 10 block of parcels in the middle of the grid, as a CRS84 box strictly inside it
        (x0, y0, x1, y1) = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Transform(ST_SetSRID("
            "ST_MakeEnvelope(%s, %s, %s, %s, 9210), 9210), 4756) g) s, "
            "LATERAL (SELECT ST_Envelope(meta.vn2000_to_wgs84(g)) e) t",
            (ox + 10001, oy + 15001, ox + 10199, oy + 15299)).fetchone()
        deep_id = conn.execute("SELECT id FROM landdb.parcel ORDER BY id OFFSET 499999 LIMIT 1").fetchone()[0]
        commune = conn.execute("SELECT commune_code FROM landdb.parcel WHERE id = 555555").fetchone()[0]
    bbox = f"{x0 + 2e-6:.7f},{y0 + 2e-6:.7f},{x1 - 2e-6:.7f},{y1 - 2e-6:.7f}"
    cursor = encode_cursor(ItemsQuery(get_collection("parcels")), [deep_id], None)
    tg = "/collections/landdb.parcel/items"
    lg = "/collections/parcels/items"
    return {
        "first page (1000)": {
            "landgeo": f"{lg}?limit=1000",
            "pygeoapi-stock": f"{lg}?limit=1000&f=json",
            "tipg": f"{tg}?limit=1000",
        },
        "bbox page (~100)": {
            "landgeo": f"{lg}?limit=200&bbox={bbox}",
            "pygeoapi-stock": f"{lg}?limit=200&bbox={bbox}&f=json",
            "tipg": f"{tg}?limit=200&bbox={bbox}",
        },
        "500 000 deep, keyset next link (1000)": {
            "landgeo": f"{lg}?limit=1000&cursor={cursor}",
            "pygeoapi-stock": f"{lg}?limit=1000&offset=500000&f=json",
            "tipg": f"{tg}?limit=1000&offset=500000",
        },
        "500 000 deep by offset (1000)": {
            "landgeo": f"{lg}?limit=1000&offset=500000",
            "pygeoapi-stock": f"{lg}?limit=1000&offset=500000&f=json",
            "tipg": f"{tg}?limit=1000&offset=500000",
        },
        "one item by id": {
            "landgeo": f"{lg}/123456",
            "pygeoapi-stock": f"{lg}/123456?f=json",
            "tipg": f"{tg}/123456",
        },
        "attribute filter, commune (1000)": {
            "landgeo": f"{lg}?limit=1000&commune_code={commune}",
            "pygeoapi-stock": f"{lg}?limit=1000&commune_code={commune}&f=json",
            "tipg": f"{tg}?limit=1000&commune_code={commune}",
        },
        "attribute filter, land_use_codes=LUC (100)": {
            "landgeo": f"{lg}?limit=100&land_use_codes=LUC",
            # the peers filter arrays by equality: {LUC} is the same 120 000 parcels (LUC is never combined here)
            "pygeoapi-stock": f"{lg}?limit=100&land_use_codes=%7BLUC%7D&f=json",
            "tipg": f"{tg}?limit=100&land_use_codes=%7BLUC%7D",
        },
    }


def check(base: str, path: str) -> tuple[int, int]:
    """(features, first id) of one answer; exits if it is not a 200 GeoJSON answer."""
    r = requests.get(base + path, timeout=120)
    if r.status_code != 200:
        raise SystemExit(f"{base}{path}: HTTP {r.status_code}: {r.text[:300]}")
    body = r.json()
    if body.get("type") == "Feature":
        return 1, int(body["id"])
    feats = body["features"]
    return len(feats), int(feats[0]["id"]) if feats else -1


def wrk(url: str, seconds: float, concurrency: int) -> float:
    """Requests per second by wrk (HTTP/1.1 keep-alive, as QGIS and GDAL use it)."""
    threads = max(1, min(2, concurrency))
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds:g}s", "--timeout", "60s",
                          url], capture_output=True, text=True, timeout=seconds + 120)
    text = out.stdout
    bad_answers = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if bad_answers and int(bad_answers.group(1)):
        raise SystemExit(f"{url}: {bad_answers.group(1)} non-2xx answers under load")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if errors and any(int(g) for g in errors.groups()):
        log(f"  note: {url}: socket errors {errors.group(0)}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not match:
        raise SystemExit(f"wrk gave no result for {url}:\n{text}\n{out.stderr}")
    return float(match.group(1))


def ab(url: str, seconds: float, concurrency: int) -> float:
    out = subprocess.run(["ab", "-q", "-k", "-t", str(seconds), "-n", "1000000", "-c", str(concurrency), url],
                         capture_output=True, text=True, timeout=seconds + 120)
    text = out.stdout
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", text)
    if non2xx and int(non2xx.group(1)):
        raise SystemExit(f"{url}: {non2xx.group(1)} non-2xx answers under load")
    exc = re.search(r"Failed requests:\s+(\d+)", text)
    length_only = re.search(r"Length: (\d+)", text)
    if exc and int(exc.group(1)) and not (length_only and int(length_only.group(1)) == int(exc.group(1))):
        raise SystemExit(f"{url}: failed requests under load:\n{text}")
    done = re.search(r"Complete requests:\s+(\d+)", text)
    kept = re.search(r"Keep-Alive requests:\s+(\d+)", text)
    if done and kept and int(kept.group(1)) < 0.9 * int(done.group(1)):
        log(f"  note: {url} kept only {kept.group(1)} of {done.group(1)} connections alive")
    match = re.search(r"Requests per second:\s+([\d.]+)", text)
    if not match:
        raise SystemExit(f"ab gave no result for {url}:\n{text}\n{out.stderr}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=6.0, help="load time per scenario and server")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of every server")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (landgeo, stock)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per scenario (best kept)")
    parser.add_argument("--only", default=None, help="comma-separated servers (landgeo,pygeoapi-stock,tipg)")
    parser.add_argument("--shapes", default="shared,gaps", help="data shapes: shared (grid) and/or gaps")
    parser.add_argument("--latency", type=int, default=5, help="single requests per scenario and server (p50)")
    parser.add_argument("--scenarios", default=None, help="comma-separated scenario numbers (1-based), default all")
    args = parser.parse_args()
    if args.rows < 600_000:
        sys.exit("error: the scenarios (page 500 000 deep, ids 123456 and 555555) need --rows >= 600000")
    if shutil.which("wrk"):
        load, tool = wrk, "wrk (HTTP/1.1 keep-alive)"
    elif shutil.which("ab"):
        load, tool = ab, "ab -k (HTTP/1.0 keep-alive: servers that do not honour it pay a connection per request)"
    else:
        raise SystemExit("wrk or ab (apache2-utils) is required")
    tables = {}
    for shape in args.shapes.split(","):
        if shape not in SHAPES:
            raise SystemExit(f"error: unknown data shape {shape!r}; known: {', '.join(SHAPES)}")
        tables[shape] = run_shape(shape, args, load, tool)
    for shape, (results, latency, names) in tables.items():
        print(f"\n{shape}: {SHAPE_TITLES[shape]}")
        print_table(results, latency, names)


SHAPE_TITLES = {
    "shared": "grid of parcels sharing edges and vertices (1 M, HCMC 79, TM-3 105°45')",
    "gaps": "separate rectangles, 1.6 m strips, no shared vertex, mixed land uses incl. legacy LUA (1 M, HCMC 79, "
            "TM-3 105°45')",
}


def single(url: str) -> float:
    """Seconds for one request on an idle keep-alive connection (p50 of these is the latency column)."""
    t0 = time.perf_counter()
    r = SESSION.get(url, timeout=300)
    r.raise_for_status()
    return time.perf_counter() - t0


SESSION = requests.Session()


def run_shape(shape: str, args, load, tool: str):
    """Start the servers on the shape's database, measure every scenario, stop the servers."""
    db = ensure_bench_db(args.rows, shape)
    paths = scenarios(db, shape)
    only = set(args.scenarios.split(",")) if args.scenarios else None
    tmp = Path(tempfile.mkdtemp(prefix="bench_api_"))
    servers = {}
    procs = []
    try:
        wanted = (args.only or "landgeo,pygeoapi-stock,tipg").split(",")
        for name in wanted:
            port = free_port()
            if name == "landgeo":
                proc = start_landgeo(db, port, args.workers, args.threads)
            elif name == "pygeoapi-stock":
                proc = start_stock(db, port, args.workers, args.threads, tmp)
            elif name == "tipg":
                proc = start_tipg(db, port, args.workers)
            else:
                raise SystemExit(f"unknown server {name}")
            procs.append(proc)
            base = f"http://127.0.0.1:{port}"
            wait_up(base + "/conformance", proc)
            servers[name] = base
        log(f"{shape}: servers {', '.join(servers)} — {args.workers} worker processes each; {tool}, "
            f"{args.concurrency} connections, {args.rounds} x {args.seconds:g} s per scenario and server (best kept); "
            f"machine shared with other jobs (load average {os.getloadavg()[0]:.1f})")
        results: dict[str, dict[str, float]] = {}
        latency: dict[str, dict[str, float]] = {}
        for index, (scenario, by_server) in enumerate(paths.items()):
            if only and str(index + 1) not in only:
                continue
            seen = {name: check(base, by_server[name]) for name, base in servers.items()}
            counts = {n for n, _ in seen.values()}
            if len(counts) != 1:
                raise SystemExit(f"{scenario}: servers disagree on the number of features: {seen}")
            results[scenario] = {name: 0.0 for name in servers}
            for name, base in servers.items():
                for _ in range(3):
                    check(base, by_server[name])  # warm up
            for _ in range(args.rounds):  # interleaved rounds, best kept: other jobs' load hits every server alike
                for name, base in servers.items():
                    rate = load(base + by_server[name], args.seconds, args.concurrency)
                    results[scenario][name] = max(results[scenario][name], rate)
            for name, base in servers.items():  # one connection, one request at a time: p50 latency
                lat = sorted(single(base + by_server[name]) for _ in range(args.latency))
                latency.setdefault(scenario, {})[name] = lat[len(lat) // 2]
            log(f"{shape}: {scenario}: {next(iter(counts))} features; " + ", ".join(
                f"{n} {v:.1f} req/s, p50 {latency[scenario][n] * 1000:.1f} ms" for n, v in results[scenario].items()))
        return results, latency, list(servers)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def print_table(results: dict[str, dict[str, float]], latency: dict[str, dict[str, float]], names: list[str]) -> None:
    """Throughput under load (wrk) and p50 latency of single requests, with landgeo's ratio to each peer for both
    (a peer too slow to finish one request in the wrk window shows 0 req/s: its latency ratio still says it)."""
    peers = [n for n in names if n != "landgeo"]
    head = "| scenario | " + " | ".join(f"{n} req/s (p50 ms)" for n in names)
    head += "".join(f" | landgeo / {p} (req/s; latency)" for p in peers) + " |"
    print()
    print(head)
    print("|" + " --- |" * (1 + len(names) + len(peers)))
    for scenario, row in results.items():
        lat = latency.get(scenario, {})
        cells = [f"{row[n]:.1f} ({lat.get(n, 0) * 1000:.0f})" for n in names]
        ratios = []
        for p in peers:
            by_rate = f"{row['landgeo'] / row[p]:.1f}x" if "landgeo" in row and row[p] else "-"
            by_lat = f"{lat[p] / lat['landgeo']:.1f}x" if lat.get("landgeo") and p in lat else "-"
            ratios.append(f"{by_rate}; {by_lat}")
        print(f"| {scenario} | " + " | ".join(cells + ratios) + " |")


if __name__ == "__main__":
    main()
