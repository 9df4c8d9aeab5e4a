"""A test's own embedded cluster (its own folder and port, never the shared test cluster): for tests that stop,
kill, back up or restore the server."""

from __future__ import annotations

import socket
from pathlib import Path

from landgeo.db.cluster import EmbeddedCluster
from landgeo.db.migrate import migrate
from landgeo.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(55455, 55460)  # the range kept for test-owned clusters; a free port when all are taken


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def own_port() -> int:
    for port in PORTS:
        if _port_free(port):
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_cluster(base: Path, migrated: bool = True) -> EmbeddedCluster:
    """Initialise, start (and migrate) a cluster whose project folder is ``base/project``."""
    home = base / "project"
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "schemas").exists():
        (home / "schemas").symlink_to(ROOT / "schemas")
    settings = Settings(home=home, pg_port=own_port(), api_port=0, external_url=None)
    cluster = EmbeddedCluster(settings)
    cluster.up(log=lambda *_: None)
    if migrated:
        migrate(cluster.url(), settings.migrations_dir, log=lambda *_: None)
    return cluster


def env_for(cluster: EmbeddedCluster) -> dict[str, str]:
    """Environment for the landgeo CLI to act on ``cluster`` (embedded mode, its folder and port)."""
    return {"LANDGEO_HOME": str(cluster.settings.home), "LANDGEO_PG_PORT": str(cluster.port),
            "LANDGEO_DATABASE_URL": ""}
