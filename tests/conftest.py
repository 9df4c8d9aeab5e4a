"""Fixtures: a real PostGIS (the embedded cluster, or LANDGEO_DATABASE_URL), fresh databases per test.

- ``template_db``: one database per test worker, migrated from ``schemas/migrations`` (session).
- ``fresh_db``: URL of a new database cloned from the template, dropped after the test: for tests that
  commit (loaders, API, CLI).
- ``db``: a connection to a shared migrated database inside a transaction that is rolled back.
- ``run_cli``: runs the real ``landgeo`` command against a given database URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from landgeo.db.cluster import EmbeddedCluster
from landgeo.db.connect import url_with_database
from landgeo.db.migrate import migrate
from landgeo.db.scratch import create_database, drop_database
from landgeo.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the ``postgres`` maintenance database of the test server."""
    settings = get_settings()
    if settings.external_url:
        return url_with_database(settings.external_url, "postgres")
    cluster = EmbeddedCluster(settings)
    cluster.up(log=lambda *_: None)
    return cluster.url("postgres")


@pytest.fixture(scope="session")
def template_db(server_url: str) -> str:
    """Name of a freshly migrated database used as the template of every ``fresh_db``."""
    name = f"landgeo_test_tpl_{_worker()}_{os.getpid()}"
    url = create_database(server_url, name)
    migrate(url, get_settings().migrations_dir, log=lambda *_: None)
    yield name
    drop_database(server_url, name)


@pytest.fixture
def fresh_db(server_url: str, template_db: str) -> str:
    """URL of a brand-new migrated database for this test only."""
    name = f"landgeo_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name, template=template_db)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def shared_db(server_url: str, template_db: str) -> str:
    """URL of one migrated database shared by the tests of a worker (use through ``db``)."""
    name = f"landgeo_test_shared_{_worker()}_{os.getpid()}"
    url = create_database(server_url, name, template=template_db)
    yield url
    drop_database(server_url, name)


@pytest.fixture
def db(shared_db: str):
    """A connection whose work is rolled back after the test."""
    with psycopg.connect(shared_db) as conn:
        yield conn
        conn.rollback()


@pytest.fixture
def run_cli():
    """Run the real ``landgeo`` CLI in a subprocess against ``db_url`` (or the configured database)."""

    def run(*args: str, db_url: str | None = None, input: str | None = None, env: dict | None = None):
        full_env = {**os.environ, **(env or {})}
        if db_url:
            full_env["LANDGEO_DATABASE_URL"] = db_url
        return subprocess.run(
            [sys.executable, "-m", "landgeo", *args],
            capture_output=True, text=True, input=input, env=full_env, cwd=ROOT, timeout=600,
        )

    return run
