"""A test's own embedded cluster (its own folder and port, never the shared test cluster): for tests that stop,
kill, back up or restore the server."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from landgeo.db.cluster import EmbeddedCluster
from landgeo.db.migrate import migrate
from landgeo.errors import UserError
from landgeo.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

# The ports kept for test-owned clusters: five per pytest-xdist worker, so that two workers never pick the same
# free port at the same moment (both would see it free, one postmaster would fail); a free port when all are taken.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:]
_FIRST = 55455 + 10 * (int(_WORKER) if _WORKER.isdigit() else 0)
PORTS = range(_FIRST, _FIRST + 5)


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
    for attempt in range(3):  # another suite on this machine may take the port between the check and the start
        settings = Settings(home=home, pg_port=own_port(), api_port=0, external_url=None)
        cluster = EmbeddedCluster(settings)
        try:
            cluster.up(log=lambda *_: None)
            break
        except UserError:
            if attempt == 2:
                raise
    if migrated:
        migrate(cluster.url(), settings.migrations_dir, log=lambda *_: None)
    return cluster


@contextmanager
def owned_cluster(base: Path, migrated: bool = True) -> Iterator[EmbeddedCluster]:
    """:func:`own_cluster` for the length of a ``with``: destroyed and its folder removed afterwards."""
    cluster = own_cluster(base, migrated)
    try:
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(base / "project", ignore_errors=True)


def env_for(cluster: EmbeddedCluster) -> dict[str, str]:
    """Environment for the landgeo CLI to act on ``cluster`` (embedded mode, its folder and port)."""
    return {"LANDGEO_HOME": str(cluster.settings.home), "LANDGEO_PG_PORT": str(cluster.port),
            "LANDGEO_DATABASE_URL": ""}
