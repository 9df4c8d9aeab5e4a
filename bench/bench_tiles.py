"""Vector tiles: landgeo vs pygeoapi 0.24's ``MVT-postgresql`` provider vs tipg, on the 1 M-parcel table, one run.

The database is bench_api's (1 M current parcels of province 79, a 1000 × 1000 grid of 20 m × 30 m parcels in
VN-2000 / TM-3 105-45; built with generate_series, reused while it is current). Every server serves the same table:
landgeo from its canonical geometry (index on ``geom``), the peers from the WGS 84 copy ``geom_wgs84`` (the bench
gives them a GiST index on it). A fixed list of tiles at zooms 10, 14, 17 and 19 over the data is fetched from
each server in turn (tile by tile, interleaved, so the shared machine's noise falls on all alike), ``--rounds``
times; per zoom: p50 and p95 time and bytes per tile. landgeo runs with its tile cache off (every tile drawn, as
the peers draw theirs), then its cache is measured apart (hits), and the cold national overview (zoom 6, the
parcels tileset and the whole base map) on a running server that has never drawn an overview tile.

Generalisation is part of what is measured: below zoom 15 landgeo's parcels tileset carries commune / province
summaries while the peers send every parcel of the tile (tipg stops at its per-tile feature limit, 10 000 here).

    .venv/bin/python bench/bench_tiles.py [--rows 1000000] [--tiles 12] [--rounds 2] [--workers 2]

Bar (issue 13): p95 ≤ ½ of the faster peer at every zoom, no tile over 500 kB, cold zoom-6 overview < 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
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

from bench.bench_api import BENCH_DB, ensure_bench_db, free_port, log, start_tipg, wait_up  # noqa: E402
from landgeo.tiles.tilematrixsets import WEB_MERCATOR_QUAD  # noqa: E402

ZOOMS = (10, 14, 17, 19)
BUDGET_BYTES = 500_000
OVERVIEW_BUDGET_S = 0.200


def start_landgeo(db: str, port: int, workers: int, cache: str) -> subprocess.Popen:
    env = {**os.environ, "LANDGEO_DATABASE_URL": db, "LANDGEO_API_NO_ACCESS_LOG": "1", "LANDGEO_TILE_CACHE": cache}
    env.pop("PYGEOAPI_OPENAPI", None)
    return subprocess.Popen([sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_pygeoapi_mvt(db: str, port: int, workers: int, tmp: Path) -> subprocess.Popen:
    """pygeoapi 0.24 with its stock MVT-postgresql tile provider on landdb.parcel (geom_wgs84)."""
    import yaml

    from landgeo.api.collections import get_collection
    from landgeo.api.config import build_config

    parts = urlsplit(db)
    cfg = build_config()
    cfg["server"]["url"] = f"http://127.0.0.1:{port}"
    res = cfg["resources"]["parcels"]
    data = {"host": parts.hostname, "port": parts.port, "dbname": parts.path.lstrip("/"),
            "user": unquote(parts.username or ""), "password": unquote(parts.password or ""),
            "search_path": ["landdb", "public"]}
    res["providers"] = [{
        "type": "tile", "name": "MVT-postgresql", "data": data, "id_field": "id", "table": "parcel",
        "geom_field": "geom_wgs84", "storage_crs": "http://www.opengis.net/def/crs/EPSG/0/4326",
        "properties": [f.name for f in get_collection("parcels").fields],
        "options": {"zoom": {"min": 0, "max": 22}},
        "format": {"name": "pbf", "mimetype": "application/vnd.mapbox-vector-tile"},
    }]
    cfg["resources"] = {"parcels": res}
    config = tmp / "mvt-config.yml"  # holds a password: temporary directory only
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    openapi = tmp / "mvt-openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    bindir = Path(sys.executable).parent
    subprocess.run([str(bindir / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
                   env=env, check=True, capture_output=True)
    return subprocess.Popen(
        [str(bindir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class",
         "gthread", "--threads", "4", "--log-level", "error", "--timeout", "300", "pygeoapi.flask_app:APP"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tile_list(db: str, per_zoom: int) -> list[tuple[int, int, int]]:
    """(z, row, col): ``per_zoom`` tiles per zoom spread over the data's extent (deterministic)."""
    with psycopg.connect(db) as conn:
        x1, y1, x2, y2 = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                      "(SELECT ST_Extent(geom_wgs84) e FROM landdb.parcel) s").fetchone()
    out = []
    for z in ZOOMS:
        tiles = WEB_MERCATOR_QUAD.tiles_covering(z, x1, y1, x2, y2)
        step = max(len(tiles) // per_zoom, 1)
        out += [(z, r, c) for r, c in tiles[step // 2::step][:per_zoom]]
    return out


TIMEOUT_S = 60.0


def fetch(url: str) -> tuple[float, int, int]:
    """(seconds, bytes, status); a tile not served within the timeout counts as the timeout, status 0."""
    t = time.perf_counter()
    try:
        r = requests.get(url, timeout=TIMEOUT_S + 5)
    except requests.RequestException:
        return TIMEOUT_S, 0, 0
    seconds = time.perf_counter() - t
    return (seconds, len(r.content), r.status_code) if r.status_code in (200, 204) else (max(seconds, TIMEOUT_S), 0,
                                                                                          r.status_code)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--tiles", type=int, default=12, help="tiles per zoom")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="landgeo,pygeoapi-mvt,tipg")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds a tile may take (statement_timeout of the bench database during the run)")
    args = ap.parse_args()
    global TIMEOUT_S
    TIMEOUT_S = args.timeout
    db = ensure_bench_db(args.rows)
    # a peer's tile of every parcel must not keep the database busy for minutes after its client gave up
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {BENCH_DB} SET statement_timeout = '{int(args.timeout * 1000)}ms'")
    tiles = tile_list(db, args.tiles)
    log(f"{len(tiles)} tiles at zooms {', '.join(map(str, ZOOMS))}; {args.rounds} rounds; machine shared: "
        "compare the ratios, not the absolute times")
    tmp = Path(tempfile.mkdtemp(prefix="landgeo-bench-tiles-"))
    servers: dict[str, tuple[subprocess.Popen, str]] = {}
    wanted = args.only.split(",")
    try:
        # cold overview first: a landgeo server (cache on, empty) whose first tile requests are zoom 6
        port = free_port()
        proc = start_landgeo(db, port, args.workers, str(tmp / "cache-overview"))
        base = f"http://127.0.0.1:{port}"
        wait_up(f"{base}/conformance", proc)
        with psycopg.connect(db) as conn:
            lon, lat = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom_wgs84)"
                                    "::geometry) c FROM landdb.parcel) s").fetchone()
        ((row6, col6),) = WEB_MERCATOR_QUAD.tiles_covering(6, lon, lat, lon, lat)
        # "cold" = a tile never drawn, on a running server: its workers have met a request before (connection
        # pool, PROJ set-up), not this tile nor any overview (tiles of Hà Nội at zoom 19, far from the data)
        for k in range(6):
            ((wr, wc),) = WEB_MERCATOR_QUAD.tiles_covering(19, 105.80 + k * 0.01, 21.0, 105.80 + k * 0.01, 21.0)
            fetch(f"{base}/tiles/WebMercatorQuad/19/{wr}/{wc}")
        overview = (("parcels z6", "/collections/parcels/tiles/WebMercatorQuad"),
                    ("base map z6", "/tiles/WebMercatorQuad"))
        cold = {name: fetch(f"{base}{path}/6/{row6}/{col6}") for name, path in overview}
        cached = fetch(f"{base}/tiles/WebMercatorQuad/6/{row6}/{col6}")
        proc.terminate()
        proc.wait(30)

        if "landgeo" in wanted:
            port = free_port()
            servers["landgeo"] = (start_landgeo(db, port, args.workers, "off"),
                                  f"http://127.0.0.1:{port}/collections/parcels/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}")
        if "pygeoapi-mvt" in wanted:
            port = free_port()
            servers["pygeoapi-mvt"] = (
                start_pygeoapi_mvt(db, port, args.workers, tmp),
                f"http://127.0.0.1:{port}/collections/parcels/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=mvt")
        if "tipg" in wanted:
            port = free_port()
            servers["tipg"] = (start_tipg(db, port, args.workers),
                               f"http://127.0.0.1:{port}/collections/landdb.parcel/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}")
        for name, (proc, template) in servers.items():
            root = template.split("/collections/")[0]
            wait_up(f"{root}/conformance" if name != "tipg" else f"{root}/", proc, 180)
            z, r, c = tiles[-1]
            fetch(template.format(z=z, y=r, x=c))  # warm the connection pools
        samples: dict[str, dict[int, list[tuple[float, int]]]] = {n: {z: [] for z in ZOOMS} for n in servers}
        for rnd in range(args.rounds):
            for z, r, c in tiles:
                for name, (_proc, template) in servers.items():
                    seconds, size, status = fetch(template.format(z=z, y=r, x=c))
                    if status not in (200, 204):
                        log(f"  {name} {z}/{r}/{c}: HTTP {status}")
                    samples[name][z].append((seconds, size))
            log(f"  round {rnd + 1} done")
        # landgeo's cache, measured apart: the same tiles drawn once, then served from the cache
        if "landgeo" in servers:
            port = free_port()
            proc = start_landgeo(db, port, args.workers, str(tmp / "cache-hits"))
            servers["landgeo (cache)"] = (proc, f"http://127.0.0.1:{port}/collections/parcels/tiles/"
                                                "WebMercatorQuad/{z}/{y}/{x}")
            wait_up(f"http://127.0.0.1:{port}/conformance", proc)
            template = servers["landgeo (cache)"][1]
            for z, r, c in tiles:
                fetch(template.format(z=z, y=r, x=c))
            samples["landgeo (cache)"] = {z: [] for z in ZOOMS}
            for z, r, c in tiles:
                seconds, size, _ = fetch(template.format(z=z, y=r, x=c))
                samples["landgeo (cache)"][z].append((seconds, size))
    finally:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {BENCH_DB} RESET statement_timeout")
        for proc, _ in servers.values():
            proc.terminate()
        for proc, _ in servers.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    report(samples, cold, cached)


def report(samples: dict, cold: dict, cached: tuple) -> None:
    names = list(samples)
    log(f"\nper zoom: p50 / p95 ms, p50 / max kB per tile (a tile not served in {TIMEOUT_S:.0f} s counts as "
        f"{TIMEOUT_S:.0f} s: '+N timed out')")
    log(f"{'zoom':>4}  " + "  ".join(f"{n:>30}" for n in names))
    ok = True
    for z in ZOOMS:
        cells = []
        for n in names:
            t = [s for s, _ in samples[n][z]]
            b = [size for _, size in samples[n][z]]
            late = sum(1 for s in t if s >= TIMEOUT_S)
            cells.append(f"{pct(t, 50) * 1000:7.1f} / {pct(t, 95) * 1000:7.1f}  {statistics.median(b) / 1000:6.1f} / "
                         f"{max(b) / 1000:6.1f}" + (f" +{late} timed out" if late else ""))
        log(f"{z:>4}  " + "  ".join(f"{c:>30}" for c in cells))
        if "landgeo" in samples:
            ours = pct([s for s, _ in samples["landgeo"][z]], 95)
            peers = [pct([s for s, _ in samples[n][z]], 95) for n in ("pygeoapi-mvt", "tipg") if n in samples]
            biggest = max(size for _, size in samples["landgeo"][z])
            if peers:
                ratio = ours / min(peers)
                verdict = "meets" if ratio <= 0.5 else "MISSES"
                ok &= ratio <= 0.5
                log(f"      landgeo p95 / faster peer p95 = {ratio:.2f} ({verdict} the ≤ 0.5 bar)")
            if biggest > BUDGET_BYTES:
                ok = False
                log(f"      landgeo tile of {biggest} bytes: over the {BUDGET_BYTES} budget")
    for name, (seconds, size, status) in cold.items():
        verdict = "meets" if seconds < OVERVIEW_BUDGET_S and status in (200, 204) else "MISSES"
        ok &= verdict == "meets"
        log(f"cold national overview, {name}: {seconds * 1000:.0f} ms, {size} bytes, HTTP {status} "
            f"({verdict} the < 200 ms bar)")
    log(f"the same base map tile from the cache: {cached[0] * 1000:.1f} ms")
    log("bar met" if ok else "bar NOT met")


if __name__ == "__main__":
    main()
