"""Crash safety of the database itself: `kill -9` of the postmaster (of a cluster of the test's own) in the middle
of a load and of an open write transaction. After restart: nothing half-written, the lineage (meta.load_batch)
agrees with the data, and the load simply runs again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
import shapely
import vectorfiles as vf
from owncluster import env_for, owned_cluster

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cluster(tmp_path):
    with owned_cluster(tmp_path) as c:
        yield c


def _lineage_agrees(url: str) -> list[tuple[int, int, int]]:
    """``(batch, rows recorded as inserted, rows carrying the batch)`` for every batch; asserts they agree."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT b.id, (b.counts->>'inserted')::int, (SELECT count(*) FROM landdb.parcel p WHERE p.batch_id = b.id) "
            "FROM meta.load_batch b WHERE b.target = 'parcels' ORDER BY b.id").fetchall()
        orphans = conn.execute("SELECT count(*) FROM landdb.parcel WHERE batch_id IS NOT NULL AND batch_id NOT IN "
                               "(SELECT id FROM meta.load_batch)").fetchone()[0]
    assert orphans == 0
    for batch, recorded, present in rows:
        assert recorded == present, (batch, recorded, present)
    return rows


@pytest.mark.parametrize("path", ["first-load", "append"])
def test_kill_9_of_the_postmaster_during_a_load_and_a_write(cluster, tmp_path, run_cli, path):
    """``first-load``: a province's first load (built as its partition); ``append``: a load into a province that
    has parcels (staged in a temporary table, then merged)."""
    env = env_for(cluster)
    url = cluster.url()
    # other rows already in the register: 30 parcels of another province (Đà Nẵng, 48), loaded and committed
    other = vf.write(tmp_path / "dn.gpkg", vf.grid(30, x0=550_000, y0=1_775_000), vf.cadastral_fields(
        30, commune="20194"), crs="EPSG:5899", driver="GPKG")
    first = run_cli("load", str(other), "--into", "parcels", "--province", "48", env=env)
    assert first.returncode == 0, first.stderr
    n = 60_000  # big enough to be caught in the middle, small enough to load again in a few seconds
    i = np.arange(n)
    x, y = vf.X0 + (i % 300) * 20.0, vf.Y0 + (i // 300) * 25.0  # 300 x 200 parcels, 6 km x 5 km
    if path == "first-load":
        province = "01"
        big = vf.write(tmp_path / "big.gpkg", shapely.box(x, y, x + 20.0, y + 25.0), vf.cadastral_fields(
            n, commune="00006", numbers=list(range(1, n + 1))), driver="GPKG")
    else:  # beside the 30 parcels of Đà Nẵng, other numbers of the same commune
        province = "48"
        x, y = 556_000 + (i % 300) * 20.0, 1_775_000 + (i // 300) * 25.0
        big = vf.write(tmp_path / "big.gpkg", shapely.box(x, y, x + 20.0, y + 25.0), vf.cadastral_fields(
            n, commune="20194", numbers=list(range(1000, 1000 + n))), crs="EPSG:5899", driver="GPKG")

    # a committed write and an open one (a register write: uncommitted at the crash). In this order: writes in one
    # commune take its tile-summary lock in turn (migration 0080), so the open one would hold the committed one back
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE landdb.parcel SET declared_area = 777 WHERE parcel_number = 8")
    writer = psycopg.connect(url)
    writer.execute("UPDATE landdb.parcel SET land_use_codes = ARRAY['ODT'] WHERE parcel_number = 7")

    load = subprocess.Popen([sys.executable, "-m", "landgeo", "load", str(big), "--into", "parcels", "--province",
                             province], cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
    seen = False
    with psycopg.connect(url, autocommit=True) as watch:
        deadline = time.time() + 120
        while time.time() < deadline and load.poll() is None:
            busy = watch.execute("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
                                 "backend_type = 'client backend' AND state <> 'idle' AND "
                                 "query ~* '^\\s*(COPY|INSERT|CREATE|ALTER)'").fetchone()[0]
            if busy:
                seen = True
                break
            time.sleep(0.02)
        assert seen and load.poll() is None, "the load finished before it could be interrupted"
        time.sleep(0.2)
        os.kill(postmaster, signal.SIGKILL)
    try:
        _out, err = load.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        load.kill()
        pytest.fail("the load hung after the database died")
    assert load.returncode != 0
    assert "Traceback" not in err and err.strip().startswith("error:"), err[-2000:]
    writer.close()
    deadline = time.time() + 30
    while cluster.running() and time.time() < deadline:  # the killed postmaster's pid is gone
        time.sleep(0.1)

    try:
        cluster.up(log=lambda *_: None)  # crash recovery
    except Exception:
        print(cluster.logfile.read_text()[-4000:])
        raise
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0] == 30  # nothing of the cut load
        assert conn.execute("SELECT count(*) FROM meta.load_batch").fetchone()[0] == 1
        codes = conn.execute("SELECT land_use_codes FROM landdb.parcel WHERE parcel_number = 7").fetchone()[0]
        assert codes == ["ONT"]  # the uncommitted write is gone
        area = conn.execute("SELECT declared_area FROM landdb.parcel WHERE parcel_number = 8").fetchone()[0]
        assert float(area) == 777  # the committed one is there
    assert [r[1] for r in _lineage_agrees(url)] == [30]

    again = run_cli("load", str(big), "--into", "parcels", "--province", province, env=env)
    assert again.returncode == 0, again.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0] == 30 + n
    assert [r[1] for r in _lineage_agrees(url)] == [30, n]
