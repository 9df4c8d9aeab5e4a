"""The embedded cluster's life cycle, on a private folder and port (initdb, start, status, stop)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_home(tmp_path):
    home = tmp_path / "project"
    home.mkdir()
    (home / "schemas").symlink_to(ROOT / "schemas")
    env = {"LANDGEO_HOME": str(home), "LANDGEO_PG_PORT": str(_free_port()), "LANDGEO_DATABASE_URL": ""}
    yield home, env
    from landgeo.db.cluster import EmbeddedCluster
    from landgeo.settings import Settings

    cluster = EmbeddedCluster(Settings(home=home, pg_port=int(env["LANDGEO_PG_PORT"]), api_port=0, external_url=None))
    if cluster.initialised():
        cluster.destroy()
    shutil.rmtree(home, ignore_errors=True)


def test_up_status_url_down_on_a_private_cluster(run_cli, private_home):
    home, env = private_home
    res = run_cli("db", "up", env=env)
    assert res.returncode == 0, res.stderr
    assert f"127.0.0.1:{env['LANDGEO_PG_PORT']}" in res.stdout
    pw = home / ".landgeo" / "password"
    assert pw.exists() and oct(pw.stat().st_mode & 0o777) == "0o600"

    again = run_cli("db", "up", env=env)  # idempotent
    assert again.returncode == 0 and "initialising" not in again.stdout

    url = run_cli("db", "url", env=env).stdout.strip()
    assert url.startswith("postgresql://landgeo:") and f"@127.0.0.1:{env['LANDGEO_PG_PORT']}/landgeo" in url
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_setting('listen_addresses')").fetchone()[0] == "127.0.0.1"
    migrated = run_cli("db", "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    status = run_cli("db", "status", env=env)
    assert status.returncode == 0 and "running" in status.stdout and "up to date" in status.stdout

    down = run_cli("db", "down", env=env)
    assert down.returncode == 0 and "stopped" in down.stdout
    stopped = run_cli("db", "status", env=env)
    assert stopped.returncode == 1 and "not running" in stopped.stdout
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3)


def test_server_process_is_not_root(private_home):
    home, env = private_home
    from landgeo.db.cluster import EmbeddedCluster
    from landgeo.settings import Settings

    cluster = EmbeddedCluster(Settings(home=home, pg_port=int(env["LANDGEO_PG_PORT"]), api_port=0, external_url=None))
    cluster.up(log=lambda *_: None)
    pid = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
    uid = os.stat(f"/proc/{pid}").st_uid
    assert uid != 0
    cluster.down(log=lambda *_: None)
