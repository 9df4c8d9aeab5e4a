"""Build a national bench database: the generator's provinces loaded one by one with the real ``landgeo load``.

The probe province is loaded first (the database is empty: "alone"), validated, then the 33 others; at the end
the probe's partition is emptied and the same file loaded again ("with the others") and validated again. Each
load's wall time is kept in ``<datadir>/build-<db>.json`` next to the files, and the database is reused by later
runs while it holds the expected number of parcels.

    python bench/national_build.py N [--db NAME] [--probe 22] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.national import write_country  # noqa: E402
from landgeo.db.connect import database_url, url_with_database  # noqa: E402
from landgeo.db.migrate import migrate  # noqa: E402
from landgeo.db.scratch import create_database  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def db_url(name: str) -> str:
    return url_with_database(database_url(), name)


def parcel_count(url: str) -> int | None:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0]
    except psycopg.Error:
        return None


def landgeo(url: str, *args: str) -> float:
    """Run the real CLI against ``url``; its wall time in seconds (a failure stops the bench)."""
    env = {**os.environ, "LANDGEO_DATABASE_URL": url}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "landgeo", *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"landgeo {' '.join(args)} failed: {proc.stderr.strip()[-600:]}")
    return time.perf_counter() - t0


def checkpoint(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def empty_province(url: str, code: str) -> None:
    """Remove a province's parcels and its load batches (so the same file loads again, by the bulk path)."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        batches = [r[0] for r in conn.execute(
            "SELECT DISTINCT batch_id FROM landdb.parcel WHERE province_code = %s", (code,)).fetchall()]
        conn.execute("DELETE FROM landdb.parcel WHERE province_code = %s", (code,))
        conn.execute("DELETE FROM meta.load_batch WHERE id = ANY(%s)", (batches,))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM landdb.parcel")


def build(total: int, name: str, probe: str, data_dir: Path) -> dict:
    url = db_url(name)
    report_path = data_dir / f"build-{name}.json"
    if parcel_count(url) == total and report_path.exists():
        log(f"{name}: reused ({total} parcels)")
        return json.loads(report_path.read_text())
    files = write_country(data_dir / f"n{total}", total, log=log)
    server = url_with_database(database_url(), "postgres")
    create_database(server, name)
    migrate(url, get_settings().migrations_dir, log=lambda *_: None)
    order = [probe] + [c for c in files if c != probe]
    report: dict = {"total": total, "probe": probe, "loads": {}}
    for k, code in enumerate(order, 1):
        checkpoint(url)
        wall = landgeo(url, "load", str(files[code]), "--into", "parcels", "--province", code)
        report["loads"][code] = round(wall, 2)
        log(f"{name}: [{k}/{len(order)}] province {code} loaded ({files[code].name}) in {wall:.1f} s")
        if code == probe:
            report["validate_alone"] = round(landgeo(url, "validate", "parcels", "--province", probe), 2)
            log(f"{name}: validate --province {probe} alone: {report['validate_alone']:.1f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE landdb.parcel")
    report["validate_with_others"] = round(landgeo(url, "validate", "parcels", "--province", probe), 2)
    log(f"{name}: validate --province {probe} with the others: {report['validate_with_others']:.1f} s")
    empty_province(url, probe)
    checkpoint(url)
    report["reload_with_others"] = round(
        landgeo(url, "load", str(files[probe]), "--into", "parcels", "--province", probe), 2)
    report["load_alone"] = report["loads"][probe]
    log(f"{name}: province {probe} reloaded with the others in {report['reload_with_others']:.1f} s "
        f"(alone: {report['load_alone']:.1f} s)")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE landdb.parcel")
    report_path.write_text(json.dumps(report, indent=1))
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--db", default=None, help="database name (default landgeo_bench_national_<n>)")
    ap.add_argument("--probe", default="22", help="province loaded first and again last, and validated")
    ap.add_argument("--data-dir", default="/tmp/landgeo-national")
    args = ap.parse_args()
    build(args.n, args.db or f"landgeo_bench_national_{args.n}", args.probe, Path(args.data_dir))


if __name__ == "__main__":
    main()
