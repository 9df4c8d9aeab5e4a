"""Register writes: a single-parcel PUT and a 1-into-4 split through the API, against the same change made as a
file upsert (``landgeo load --mode upsert``), in the same run on the same table.

One database (``landgeo_bench_write``): N parcels of province 79 (20 m × 30 m, spread evenly over the province's
official current communes of ``landdb.admin_unit`` — a register write refuses a commune code not valid at its
date —, sheets of 100, VN-2000 / TM-3 EPSG:9210), one `landgeo serve` (2 workers), an admin token. Each measured
change touches a different parcel:

- ``put``: GET the item (ETag) + PUT the same parcel with a new address and its geometry in TM-3 — the
  write path end to end: lock, close/open version, per-feature and set-based validation, audit, notify;
- ``split``: GET + POST /processes/parcel-split/execution, four quarters with new numbers and a document;
- ``upsert-1`` / ``upsert-4``: ``landgeo load FILE --into parcels --mode upsert`` of a GeoJSON with the same
  one changed parcel / four new parcels (a file upsert cannot retire the parent: it is the peer, not the same
  semantics); ``cli-start``: ``landgeo --help``, the process start-up included in every upsert figure.

The issue asks for N = 1 000 000 (``--rows 1000000``; filling takes minutes). The machine may be shared: read
the ratios, not the figures.

    .venv/bin/python bench/bench_write.py [--rows 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import serve_landgeo, stop_server  # noqa: E402
from landgeo.access.users import add_user  # noqa: E402
from landgeo.db.connect import database_url, url_with_database  # noqa: E402
from landgeo.db.migrate import migrate  # noqa: E402
from landgeo.db.scratch import create_database  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402

BENCH_DB = "landgeo_bench_write"
WARM_UP = 2  # one change per server worker
TM3 = "http://www.opengis.net/def/crs/EPSG/0/9210"
X0, Y0 = 560000.0, 1180000.0

FILL_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, declared_area,
                           address, source_srid, area_srid, valid_from, geom)
SELECT '79', (%(communes)s::text[])[1 + i / %(per)s], 1 + (i %% %(per)s) / 100, 1 + (i %% %(per)s) %% 100,
       ARRAY['ONT'], 600, 'Số ' || i,
       9210, 9210, '2020-01-01T00:00:00Z',
       ST_Transform(ST_Multi(ST_MakeEnvelope(%(x)s + (i %% 500) * 20.0, %(y)s + (i / 500) * 30.0,
                                             %(x)s + 20 + (i %% 500) * 20.0, %(y)s + 30 + (i / 500) * 30.0, 9210)),
                    4756)
FROM generate_series(0, %(n)s - 1) AS i;
"""


def _cell(i: int) -> tuple[float, float, float, float]:
    x, y = X0 + (i % 500) * 20.0, Y0 + (i // 500) * 30.0
    return x, y, x + 20, y + 30


def _rect(x1, y1, x2, y2) -> dict:
    return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}


COMMUNES_SQL = ("SELECT code FROM landdb.admin_unit WHERE level = 'commune' AND parent_code = '79' "
                "AND valid_to IS NULL ORDER BY code")


class Layout:
    """Where parcel ``i`` of the fill lies: commune ``communes[i // per]``, sheet and number within it."""

    def __init__(self, communes: list[str], rows: int) -> None:
        self.communes = communes
        self.per = -(-rows // len(communes))

    def index(self, commune: str, sheet: int, number: int) -> int:
        return self.communes.index(commune) * self.per + (sheet - 1) * 100 + (number - 1)


def _official_communes(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        codes = [r[0] for r in conn.execute(COMMUNES_SQL)]
    if not codes:
        raise SystemExit("error: no official commune of province 79 in landdb.admin_unit (migrations not run?)")
    return codes


def _prepare(rows: int) -> tuple[str, Layout]:
    server = url_with_database(database_url(), "postgres")
    url = url_with_database(database_url(), BENCH_DB)
    try:
        layout = Layout(_official_communes(url), rows)
        with psycopg.connect(url) as conn:  # reuse a fill of this layout (official communes, same rows)
            n, first = conn.execute("SELECT count(*), min(commune_code) FROM landdb.parcel WHERE valid_to IS NULL "
                                    "AND batch_id IS NULL").fetchone()
        if n >= rows and first == layout.communes[0] and n < rows + 10 * rows // 100:
            migrate(url, get_settings().migrations_dir, log=lambda *_: None)  # a fill made before a new migration
            return url, layout
    except psycopg.OperationalError:
        pass
    print(f"creating {BENCH_DB} with {rows} parcels …", flush=True)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    url = create_database(server, BENCH_DB)
    migrate(url, get_settings().migrations_dir, log=lambda *_: None)
    layout = Layout(_official_communes(url), rows)
    with psycopg.connect(url) as conn:
        conn.execute(FILL_SQL, {"n": rows, "x": X0, "y": Y0, "communes": layout.communes, "per": layout.per})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE landdb.parcel")
    return url, layout


def _stats(name: str, xs: list[float]) -> dict:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
    out = {"name": name, "n": len(xs), "p50_ms": statistics.median(xs) * 1000, "p95_ms": p95 * 1000}
    print(f"{name:10} n={out['n']:3}  p50 {out['p50_ms']:8.1f} ms  p95 {out['p95_ms']:8.1f} ms", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    url, layout = _prepare(args.rows)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM access.api_token")  # bench users only in this database
        token = add_user(conn, f"bench-{os.getpid()}", "admin", [], [], None, 1).token
        ids = dict(((c, s, n), fid) for fid, c, s, n in conn.execute(
            "SELECT coalesce(feature_id, id), commune_code, sheet_number, parcel_number FROM landdb.parcel "
            "WHERE valid_to IS NULL "
            "AND parcel_number <= 90 AND commune_code = ANY(%s)",
            (layout.communes[::max(1, len(layout.communes) // 40)],)))
    free = sorted(ids.items())
    proc, base = serve_landgeo(url)
    auth = {"Authorization": f"Bearer {token}"}
    tmp = Path(tempfile.mkdtemp(prefix="bench_write_"))
    times: dict[str, list[float]] = {k: [] for k in ("put", "split", "upsert-1", "upsert-4", "cli-start")}
    try:
        for r in range(args.repeat + WARM_UP):  # the first changes of each worker load its modules: not measured
            (c, s, n), fid = free[2 * r]
            i = layout.index(c, s, n)
            x1, y1, x2, y2 = _cell(i)
            props = {"province_code": "79", "commune_code": c, "sheet_number": s, "parcel_number": n,
                     "land_use_codes": ["ONT"], "declared_area": 600, "address": f"bench {r}"}
            feature = {"type": "Feature", "geometry": _rect(x1, y1, x2, y2), "properties": props}
            t = time.perf_counter()
            etag = requests.get(f"{base}/collections/parcels/items/{fid}", params={"f": "json"}, timeout=60,
                                headers=auth).headers["ETag"]
            res = requests.put(f"{base}/collections/parcels/items/{fid}", data=json.dumps(feature), timeout=60,
                               headers={**auth, "If-Match": etag, "Content-Type": "application/geo+json",
                                        "Content-Crs": f"<{TM3}>"})
            times["put"].append(time.perf_counter() - t)
            assert res.status_code == 200, res.text
            # the same change as a file upsert
            path = tmp / f"one_{r}.geojson"
            path.write_text(json.dumps({"type": "FeatureCollection", "features": [
                {**feature, "properties": {**props, "land_use_codes": "ONT", "address": f"upsert {r}"}}]}))
            t = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "landgeo", "load", str(path), "--into", "parcels", "--mode",
                                   "upsert", "--crs", "EPSG:9210"], capture_output=True, text=True, cwd=ROOT,
                                  env={**os.environ, "LANDGEO_DATABASE_URL": url})
            times["upsert-1"].append(time.perf_counter() - t)
            assert done.returncode == 0, done.stderr
            # split 1 -> 4 of another parcel
            (c, s, n), fid = free[2 * r + 1]
            i = layout.index(c, s, n)
            x1, y1, x2, y2 = _cell(i)
            xm, ym = x1 + 10, y1 + 15
            quarters = [_rect(x1, y1, xm, ym), _rect(xm, y1, x2, ym), _rect(x1, ym, xm, y2), _rect(xm, ym, x2, y2)]
            parts = [{"type": "Feature", "geometry": g, "properties": {"parcel_number": 100 + 4 * n + k,
                                                                       "land_use_codes": ["ONT"],
                                                                       "declared_area": 150}}
                     for k, g in enumerate(quarters)]
            t = time.perf_counter()
            etag = requests.get(f"{base}/collections/parcels/items/{fid}", params={"f": "json"}, timeout=60,
                                headers=auth).headers["ETag"]
            res = requests.post(f"{base}/processes/parcel-split/execution", timeout=60, headers=auth, json={
                "inputs": {"parcel": fid, "if_match": etag, "crs": TM3, "document": {"number": f"B{r}",
                                                                                      "date": "2026-12-01"},
                           "parts": {"type": "FeatureCollection", "features": parts}}})
            times["split"].append(time.perf_counter() - t)
            assert res.status_code == 200, res.text
            path = tmp / f"four_{r}.geojson"
            path.write_text(json.dumps({"type": "FeatureCollection", "features": [
                {**p, "properties": {**p["properties"], "land_use_codes": "ONT", "province_code": "79",
                                     "commune_code": c, "sheet_number": s, "parcel_number": 1000 + 4 * n + k}}
                for k, p in enumerate(parts)]}))
            t = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "landgeo", "load", str(path), "--into", "parcels", "--mode",
                                   "upsert", "--crs", "EPSG:9210"], capture_output=True, text=True, cwd=ROOT,
                                  env={**os.environ, "LANDGEO_DATABASE_URL": url})
            times["upsert-4"].append(time.perf_counter() - t)
            assert done.returncode == 0, done.stderr
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "landgeo", "--help"], capture_output=True, cwd=ROOT)
            times["cli-start"].append(time.perf_counter() - t)
    finally:
        stop_server(proc)
    print(f"\n{args.rows} parcels, {args.repeat} changes each after {WARM_UP} warm-up changes "
          "(shared machine: compare ratios)")
    res = {k: _stats(k, v[WARM_UP:]) for k, v in times.items()}
    print(f"\nput / upsert-1 (p50): {res['put']['p50_ms'] / res['upsert-1']['p50_ms']:.2f}   "
          f"split / upsert-4 (p50): {res['split']['p50_ms'] / res['upsert-4']['p50_ms']:.2f}   "
          f"(upsert figures include {res['cli-start']['p50_ms']:.0f} ms of process start-up)")


if __name__ == "__main__":
    main()
