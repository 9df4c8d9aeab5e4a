"""Vector tiles: landgeo vs pygeoapi 0.24's ``MVT-postgresql`` provider vs tipg, on the 1 M-parcel tables, one run.

The databases are bench_api's, both shapes (1 M current parcels of province 79 in VN-2000 / TM-3 105°45'; built
with generate_series, reused while current): ``shared`` — a 1000 × 1000 grid of 20 m × 30 m parcels sharing edges
and vertices; ``gaps`` — separate 18.4 m × 28.4 m rectangles, no shared vertex, mixed land uses. Every server
serves the same table: landgeo from its canonical geometry (index on ``geom``), the peers from the WGS 84 copy
``geom_wgs84`` (the bench gives them a GiST index on it). A fixed list of tiles at zooms 10, 14, 17 and 19 over
the data is fetched from each server in turn (tile by tile, interleaved, so the shared machine's noise falls on
all alike; which server goes first rotates from tile to tile, so none always follows the same other one),
``--rounds`` times; per zoom: p50 and p95 time and bytes per tile. Servers:

- ``landgeo`` — tile cache off: every tile drawn, as the peers draw theirs (the bar is on this one);
- ``landgeo (cache)`` — tile cache on, empty at the start: its first round is misses (drawn and written), the
  later rounds hits;
- ``pygeoapi-mvt`` — pygeoapi 0.24, stock ``MVT-postgresql`` tile provider;
- ``tipg`` — tipg's ``/tiles`` (its per-tile feature limit: 10 000 here).

A server that times out on ``--give-up`` tiles of a zoom is not asked the rest of that zoom's tiles: they count as
timed out (said in the table). Then the cold national overview (zoom 6, the parcels tileset and the whole base
map) on a running landgeo server that has never drawn an overview tile.

Generalisation is part of what is measured: below zoom 15 landgeo's parcels tileset carries commune / province
summaries while the peers send every parcel of the tile.

    .venv/bin/python bench/bench_tiles.py [--rows 1000000] [--shapes shared,gaps] [--tiles 12] [--rounds 2]
                                          [--workers 2] [--timeout 30]

Bar (issue 13): p95 ≤ ½ of the faster peer at every zoom, no tile over 500 kB, cold zoom-6 overview < 200 ms.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_api  # noqa: E402
from bench.bench_api import (  # noqa: E402
    SHAPE_TITLES,
    SHAPES,
    ensure_bench_db,
    free_port,
    log,
    serve_landgeo,
    start_landgeo,
    stop_server,
    wait_up,
)
from landgeo.tiles.tilematrixsets import WEB_MERCATOR_QUAD  # noqa: E402

ZOOMS = (10, 14, 17, 19)
BUDGET_BYTES = 500_000
OVERVIEW_BUDGET_S = 0.200
PEERS = ("pygeoapi-mvt", "tipg")
LANDGEO_TILE = "/collections/parcels/tiles/WebMercatorQuad/{z}/{y}/{x}"
#: One keep-alive connection per server, as MapLibre and QGIS fetch tiles. ``http.client`` rather than requests:
#: requests adds ≈ 0.4 ms of the client's own Python to every tile of every server, a constant that is not server
#: time and pulls every ratio towards 1.
_CONNECTIONS: dict[str, http.client.HTTPConnection] = {}


def start_pygeoapi_mvt(db: str, port: int, workers: int, tmp: Path) -> subprocess.Popen:
    """pygeoapi 0.24 with its stock MVT-postgresql tile provider on landdb.parcel (geom_wgs84)."""
    return bench_api.start_pygeoapi(db, port, workers, 4, tmp, {
        "type": "tile", "name": "MVT-postgresql", "id_field": "id", "table": "parcel", "geom_field": "geom_wgs84",
        "storage_crs": "http://www.opengis.net/def/crs/EPSG/0/4326", "properties": bench_api.published_parcel_fields(),
        "options": {"zoom": {"min": 0, "max": 22}},
        "format": {"name": "pbf", "mimetype": "application/vnd.mapbox-vector-tile"}}, "mvt")


def tile_list(db: str, per_zoom: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """(z, row, col): ``per_zoom`` tiles per zoom spread over the data's extent (deterministic), and as many
    other tiles of the data for warming the servers up (never one of the measured tiles)."""
    with psycopg.connect(db) as conn:
        x1, y1, x2, y2 = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                      "(SELECT ST_Extent(geom_wgs84) e FROM landdb.parcel) s").fetchone()
    measured, warm = [], []
    for z in ZOOMS:
        tiles = WEB_MERCATOR_QUAD.tiles_covering(z, x1, y1, x2, y2)
        step = max(len(tiles) // per_zoom, 1)
        chosen = tiles[step // 2::step][:per_zoom]
        measured += [(z, r, c) for r, c in chosen]
        others = [t for t in tiles[step // 4::max(step // 2, 1)] if t not in chosen] or [
            (r + 2, c) for r, c in chosen if (r + 2, c) not in chosen]  # zoom 10: the data is one or two tiles
        warm += [(z, r, c) for r, c in others[:per_zoom]]
    return measured, warm


TIMEOUT_S = 30.0


def fetch(url: str) -> tuple[float, int, int]:
    """(seconds, bytes, status); a tile not served within the timeout counts as the timeout, status 0."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    t = time.perf_counter()
    for attempt in (0, 1):  # a server may close an idle keep-alive connection: open a new one once
        conn = _CONNECTIONS.get(parts.netloc)
        if conn is None:
            conn = _CONNECTIONS[parts.netloc] = http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT_S + 5)
        try:
            conn.request("GET", target)
            response = conn.getresponse()
            body = response.read()
            break
        except TimeoutError:
            conn.close()
            del _CONNECTIONS[parts.netloc]
            return TIMEOUT_S, 0, 0
        except (OSError, http.client.HTTPException):
            conn.close()
            del _CONNECTIONS[parts.netloc]
            if attempt:
                return TIMEOUT_S, 0, 0
            t = time.perf_counter()
    seconds = time.perf_counter() - t
    if response.status in (200, 204):
        return seconds, len(body), response.status
    return max(seconds, TIMEOUT_S), 0, response.status


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]


def warm_up(servers: dict[str, tuple[subprocess.Popen, str]], warm: list[tuple[int, int, int]], workers: int) -> None:
    """Steady state, as a map server runs: every worker of every server has drawn tiles of every zoom (connection
    pools filled, statements prepared, catalogue caches loaded) — other tiles than the measured ones. Fresh
    connections, so that every worker gets some; a server slower than 5 s on a zoom's first tile warms no more of
    that zoom (pygeoapi-mvt at zooms 10 and 14)."""
    for _proc, template in servers.values():
        for z in ZOOMS:
            tiles = [t for t in warm if t[0] == z]
            for k in range(3 * workers):
                _z, r, c = tiles[k % len(tiles)]
                t0 = time.perf_counter()
                try:
                    requests.get(template.format(z=z, y=r, x=c), timeout=TIMEOUT_S + 5)
                except requests.RequestException:
                    break
                if time.perf_counter() - t0 > 5:
                    break


def cold_overview(db: str, workers: int, tmp: Path) -> tuple[dict, tuple]:
    """Zoom-6 tiles on a running landgeo server (cache on, empty) that has never drawn an overview tile."""
    proc, base = serve_landgeo(db, workers, env={"LANDGEO_TILE_CACHE": str(tmp / "cache-overview")})
    try:
        with psycopg.connect(db) as conn:
            lon, lat = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom_wgs84)"
                                    "::geometry) c FROM landdb.parcel) s").fetchone()
        ((row6, col6),) = WEB_MERCATOR_QUAD.tiles_covering(6, lon, lat, lon, lat)
        # "cold" = a tile never drawn, on a running server: its workers have met a request before (connection
        # pool, PROJ set-up), not this tile nor any overview (tiles of Hà Nội at zoom 19, far from the data)
        for k in range(2 * workers + 2):
            ((wr, wc),) = WEB_MERCATOR_QUAD.tiles_covering(19, 105.80 + k * 0.01, 21.0, 105.80 + k * 0.01, 21.0)
            fetch(f"{base}/tiles/WebMercatorQuad/19/{wr}/{wc}")
        overview = (("parcels z6", "/collections/parcels/tiles/WebMercatorQuad"),
                    ("base map z6", "/tiles/WebMercatorQuad"))
        cold = {name: fetch(f"{base}{path}/6/{row6}/{col6}") for name, path in overview}
        cached = fetch(f"{base}/tiles/WebMercatorQuad/6/{row6}/{col6}")
    finally:
        stop_server(proc)
    return cold, cached


def run_shape(shape: str, args, tmp: Path) -> dict:
    """Measure one data shape: every server on the same tiles, interleaved; then the cold overview."""
    db = ensure_bench_db(args.rows, shape)
    name = SHAPES[shape][0]
    # a peer's tile of every parcel must not keep the database busy for minutes after its client gave up
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {name} SET statement_timeout = '{int(args.timeout * 1000)}ms'")
    tiles, warm = tile_list(db, args.tiles)
    wanted = args.only.split(",")
    servers: dict[str, tuple[subprocess.Popen, str]] = {}
    try:
        cold, cached = cold_overview(db, args.workers, tmp)
        for server in wanted:
            port = free_port()
            root = f"http://127.0.0.1:{port}"
            if server == "landgeo":
                servers["landgeo"] = (start_landgeo(db, port, args.workers, env={"LANDGEO_TILE_CACHE": "off"}),
                                      root + LANDGEO_TILE)
                port = free_port()
                servers["landgeo (cache)"] = (
                    start_landgeo(db, port, args.workers, env={"LANDGEO_TILE_CACHE": str(tmp / f"cache-{shape}")}),
                    f"http://127.0.0.1:{port}" + LANDGEO_TILE)
            elif server == "pygeoapi-mvt":
                servers[server] = (start_pygeoapi_mvt(db, port, args.workers, tmp), root + LANDGEO_TILE + "?f=mvt")
            elif server == "tipg":
                servers[server] = (bench_api.start_tipg(db, port, args.workers),
                                   root + "/collections/landdb.parcel/tiles/WebMercatorQuad/{z}/{x}/{y}")
            else:
                raise SystemExit(f"error: unknown server {server!r} (landgeo, pygeoapi-mvt, tipg)")
        for server, (proc, template) in servers.items():
            root = template.split("/collections/")[0]
            wait_up(f"{root}/" if server == "tipg" else f"{root}/conformance", proc, 180)
        warm_up(servers, warm, args.workers)
        log(f"{shape}: {len(tiles)} tiles at zooms {', '.join(map(str, ZOOMS))}; {args.rounds} rounds; servers "
            f"{', '.join(servers)} ({args.workers} workers each); machine shared: compare ratios, not times")
        names = [n for n in servers if n != "landgeo (cache)"]
        if "landgeo (cache)" in servers:  # its first round: misses (drawn and written), the next ones: hits
            names[1:1] = ["landgeo (cache miss)", "landgeo (cache hit)"]
        samples: dict[str, dict[int, list[tuple[float, int]]]] = {n: {z: [] for z in ZOOMS} for n in names}
        late: dict[tuple[str, int], int] = {}
        order = list(servers)
        for rnd in range(args.rounds):
            for k, (z, r, c) in enumerate(tiles):
                # each server in turn first: a request right after another server's pays for that one's leftovers
                # (its CPU caches evicted, its cores taken) — in a fixed order the same server would always pay
                shift = (rnd * len(tiles) + k) % len(order)
                for server in order[shift:] + order[:shift]:
                    _proc, template = servers[server]
                    key = server
                    if server == "landgeo (cache)":
                        key = "landgeo (cache miss)" if rnd == 0 else "landgeo (cache hit)"
                    if late.get((server, z), 0) >= args.give_up:
                        samples[key][z].append((TIMEOUT_S, 0))
                        continue
                    seconds, size, status = fetch(template.format(z=z, y=r, x=c))
                    if status not in (200, 204):
                        late[(server, z)] = late.get((server, z), 0) + 1
                        log(f"  {shape}: {server} {z}/{r}/{c}: HTTP {status or 'timeout'}")
                    samples[key][z].append((seconds, size))
            log(f"  {shape}: round {rnd + 1} done")
    finally:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {name} RESET statement_timeout")
        for proc, _ in servers.values():
            proc.terminate()
        for proc, _ in servers.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {"samples": samples, "cold": cold, "cached": cached}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--shapes", default="shared,gaps", help="data shapes (bench_api's): shared and/or gaps")
    ap.add_argument("--tiles", type=int, default=12, help="tiles per zoom")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="landgeo,pygeoapi-mvt,tipg")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds a tile may take (statement_timeout of the bench database during the run)")
    ap.add_argument("--give-up", type=int, default=2, help="timeouts after which a server skips the rest of a zoom")
    args = ap.parse_args()
    global TIMEOUT_S
    TIMEOUT_S = args.timeout
    tmp = Path(tempfile.mkdtemp(prefix="landgeo-bench-tiles-"))
    shapes = args.shapes.split(",")
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        raise SystemExit(f"error: unknown data shape(s) {', '.join(unknown)}; known: {', '.join(SHAPES)}")
    ok = True
    for shape in shapes:
        res = run_shape(shape, args, tmp)
        ok &= report(shape, res["samples"], res["cold"], res["cached"])
    log("\nbar met on every shape" if ok else "\nbar NOT met")


def _cell(pairs: list[tuple[float, int]]) -> str:
    t = [s for s, _ in pairs]
    b = [size for _, size in pairs]
    late = sum(1 for s in t if s >= TIMEOUT_S)
    return (f"{pct(t, 50) * 1000:.0f} / {pct(t, 95) * 1000:.0f} ms, {statistics.median(b) / 1000:.1f} / "
            f"{max(b) / 1000:.1f} kB" + (f" ({late} timed out)" if late else ""))


def report(shape: str, samples: dict, cold: dict, cached: tuple) -> bool:
    """Print one shape's table (markdown, for docs/tiles.md) and whether it meets the bar."""
    names = list(samples)
    peers = [n for n in PEERS if n in samples]
    log(f"\n{shape}: {SHAPE_TITLES[shape]}")
    log(f"p50 / p95 ms, p50 / max kB per tile (a tile not served in {TIMEOUT_S:.0f} s counts as {TIMEOUT_S:.0f} s)")
    log("| zoom | " + " | ".join(names) + " | landgeo p95 / faster peer p95 |")
    log("|" + " --- |" * (len(names) + 2))
    ok = True
    for z in ZOOMS:
        verdict = "-"
        if "landgeo" in samples and peers:
            ours = pct([s for s, _ in samples["landgeo"][z]], 95)
            best = min(peers, key=lambda n: pct([s for s, _ in samples[n][z]], 95))
            ratio = ours / pct([s for s, _ in samples[best][z]], 95)
            ok &= ratio <= 0.5
            verdict = f"{ratio:.2f} ({best}{'' if ratio <= 0.5 else ': MISSES ≤ 0.5'})"
        log(f"| {z} | " + " | ".join(_cell(samples[n][z]) for n in names) + f" | {verdict} |")
        for n in ("landgeo", "landgeo (cache miss)"):
            biggest = max((size for _, size in samples.get(n, {}).get(z, [])), default=0)
            if biggest > BUDGET_BYTES:
                ok = False
                log(f"      {n}: a tile of {biggest} bytes, over the {BUDGET_BYTES} budget")
    for name, (seconds, size, status) in cold.items():
        meets = seconds < OVERVIEW_BUDGET_S and status in (200, 204)
        ok &= meets
        log(f"cold national overview, {name}: {seconds * 1000:.0f} ms, {size} bytes, HTTP {status} "
            f"({'meets' if meets else 'MISSES'} the < 200 ms bar)")
    log(f"the same base map tile from the cache: {cached[0] * 1000:.1f} ms")
    log(f"{shape}: " + ("bar met" if ok else "bar NOT met"))
    return ok


if __name__ == "__main__":
    main()
