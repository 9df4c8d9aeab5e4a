"""A streaming read replica (landgeo db replica up|down) and the API's reads going to it, then falling back.

Its own small primary (an embedded cluster on a free port, or LANDGEO_TEST_REPLICA_PORT) so that the copy is of a
few megabytes, the replica on another free port; both removed afterwards. Real CLI, real `landgeo serve`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests
from apiserver import free_port, stop_server

from landgeo.db.cluster import EmbeddedCluster
from landgeo.db.migrate import migrate
from landgeo.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
# free ports unless set: several suites (CI jobs, engineers) may run on one machine
PRIMARY_PORT = int(os.environ.get("LANDGEO_TEST_REPLICA_PORT") or free_port())
REPLICA_PORT = int(os.environ.get("LANDGEO_TEST_REPLICA_PORT_2") or free_port())

PARCEL_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                           source_srid, area_srid, geom)
SELECT '79', '26734', 1, g, ARRAY['ODT'], 9210, 9210,
       ST_Transform(ST_Multi(ST_MakeEnvelope(600000 + g * 20, 1190000, 600020 + g * 20, 1190025, 9210)), 4756)
FROM generate_series(%s::int, %s::int) g
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("primary")
    (home / "schemas").symlink_to(ROOT / "schemas")
    return home


@pytest.fixture(scope="module")
def env(home) -> dict:
    """Environment of a `landgeo` whose embedded cluster is the test's primary."""
    out = {**os.environ, "LANDGEO_HOME": str(home), "LANDGEO_PG_PORT": str(PRIMARY_PORT),
           "LANDGEO_REPLICA_PORT": str(REPLICA_PORT), "LANDGEO_API_NO_ACCESS_LOG": "1"}
    for name in ("LANDGEO_DATABASE_URL", "LANDGEO_READ_DATABASE_URL", "PYGEOAPI_OPENAPI"):
        out.pop(name, None)
    return out


def _cli(env: dict, *args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "landgeo", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**env, **(extra or {})}, timeout=300)


@pytest.fixture(scope="module")
def primary(home, env):
    cluster = EmbeddedCluster(Settings(home=home, pg_port=PRIMARY_PORT, api_port=0, external_url=None))
    try:
        cluster.up(log=lambda *_: None)
        migrate(cluster.url(), get_settings().migrations_dir, log=lambda *_: None)
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(PARCEL_SQL, (1, 10))
        yield cluster
    finally:
        _cli(env, "db", "replica", "down", "--remove")
        cluster.destroy()


@pytest.fixture(scope="module")
def replica_url(primary, env) -> str:
    res = _cli(env, "db", "replica", "up")
    assert res.returncode == 0, res.stderr
    url = _cli(env, "db", "replica", "url").stdout.strip()
    assert f":{REPLICA_PORT}/" in url
    return url


def _wait(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_replica_streams_and_is_read_only(primary, replica_url, env):
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        conn.execute(PARCEL_SQL, (11, 15))

    def count() -> int:
        with psycopg.connect(replica_url) as conn:
            return conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0]

    assert _wait(lambda: count() == 15)
    with psycopg.connect(replica_url) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM landdb.parcel")
    status = _cli(env, "db", "status", extra={"LANDGEO_READ_DATABASE_URL": replica_url})
    assert status.returncode == 0, status.stderr
    assert "streaming" in status.stdout and "replay lag" in status.stdout
    assert f"read database (127.0.0.1:{REPLICA_PORT}/landgeo): standby" in status.stdout


def test_up_refuses_when_the_primary_is_down(home, env, tmp_path):
    other = tmp_path / "nothing"
    (other / "schemas").mkdir(parents=True)
    res = _cli(env, "db", "replica", "up", extra={"LANDGEO_HOME": str(other), "LANDGEO_PG_PORT": str(PRIMARY_PORT + 6)})
    assert res.returncode != 0
    assert res.stderr.strip().splitlines() == [
        "error: the embedded cluster is not running: `landgeo db up` first (the replica copies it)"]


def _serve(env: dict, read_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers", "1",
                                 "--config", str(ROOT / "pygeoapi-config.yml")],
                                cwd=ROOT, env={**env, "LANDGEO_READ_DATABASE_URL": read_url}, stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    if not _wait(lambda: proc.poll() is not None or _ok(f"{base}/conformance"), 120) or proc.poll() is not None:
        proc.kill()
        pytest.fail(f"server did not start: {log.read_text()[-2000:]}")
    return proc, base


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_reads_go_to_the_replica_and_fall_back(primary, replica_url, env, tmp_path):
    from landgeo.db.replica import replica_of

    settings = Settings(home=Path(env["LANDGEO_HOME"]), pg_port=PRIMARY_PORT, api_port=0, external_url=None,
                        replica_port=REPLICA_PORT)
    replica = replica_of(settings)
    proc, base = _serve(env, replica_url, tmp_path / "serve.log")
    items = f"{base}/collections/parcels/items?f=json&limit=100"
    try:
        assert requests.get(items, timeout=10).json()["numberReturned"] == 15

        def clients(url: str) -> int:
            with psycopg.connect(url) as conn:
                return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'landgeo' "
                                    "AND usename = 'landgeo' AND pid <> pg_backend_pid() "
                                    "AND backend_type = 'client backend'").fetchone()[0]

        assert clients(replica_url) >= 1  # the API's pool reads from the replica
        assert clients(primary.url()) == 0  # ... and not from the primary
        # the replica goes down: within seconds every read is answered by the primary
        replica.down(log=lambda *_: None)
        t0 = time.monotonic()
        assert _wait(lambda: _ok(items), 15)
        assert time.monotonic() - t0 < 10
        for _ in range(5):
            assert requests.get(items, timeout=10).json()["numberReturned"] == 15
        assert clients(primary.url()) >= 1
        # back up: reads return to it
        replica.up(log=lambda *_: None)
        assert _wait(lambda: clients(replica_url) >= 1 and _ok(items), 20)
    finally:
        stop_server(proc)
