"""The national shape of docker-compose.yml (profiles replica and province), checked without a Docker engine."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from landgeo.cli import app as cli_app

ROOT = Path(__file__).resolve().parent.parent


def _services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_default_stack_is_unchanged_by_the_profiles():
    services = _services()
    default = {name for name, s in services.items() if not s.get("profiles")}
    assert default == {"db", "migrate", "api"}
    assert set(services["db-replica"]["profiles"]) == {"replica"} == set(services["pgbouncer"]["profiles"])
    for name in ("db-province", "migrate-province", "attach-province"):
        assert services[name]["profiles"] == ["province"]


def test_primary_streams_and_replica_copies_it():
    services = _services()
    cmd = " ".join(services["db"]["command"])
    assert "wal_level=replica" in cmd and "max_wal_senders" in cmd
    init = [v for v in services["db"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    script = ROOT / init[0].split(":")[0]
    assert script.is_file() and os.access(script, os.X_OK)
    assert re.search(r"^host replication all all scram-sha-256", script.read_text().split('"')[1], re.M)
    rep = services["db-replica"]
    assert rep["image"] == services["db"]["image"]  # same PostgreSQL major: physical replication needs it
    entry = ROOT / [v for v in rep["volumes"] if v.endswith(rep["entrypoint"][0] + ":ro")][0].split(":")[0]
    text = entry.read_text()
    assert os.access(entry, os.X_OK)
    assert "pg_basebackup -h db" in text and " -R " in text and "-X stream" in text and "hot_standby=on" in text
    assert rep["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_is_in_recovery" in " ".join(rep["healthcheck"]["test"])
    assert rep["environment"]["PGPASSWORD"].startswith("${LANDGEO_DB_PASSWORD")


def test_pgbouncer_fronts_the_replica_for_the_api_reads():
    services = _services()
    bouncer = services["pgbouncer"]
    image = bouncer["image"]
    assert re.fullmatch(r"[\w/-]+pgbouncer:\d+\.\d+\.\d+", image), f"pgbouncer image not pinned: {image}"
    env = bouncer["environment"]
    assert env["POSTGRESQL_HOST"] == "db-replica" and env["PGBOUNCER_PORT"] == "6432"
    # the API sets its role and settings per session: transaction pooling would mix them between clients
    assert env["PGBOUNCER_POOL_MODE"] == "session"
    assert bouncer["depends_on"]["db-replica"]["condition"] == "service_healthy"
    api_env = services["api"]["environment"]
    assert api_env["LANDGEO_READ_DATABASE_URL"] == "${LANDGEO_READ_DATABASE_URL:-}"
    assert "pgbouncer:6432" in (ROOT / "docker-compose.yml").read_text()


def test_province_database_is_migrated_then_attached():
    services = _services()
    assert services["migrate-province"]["command"] == ["landgeo", "db", "migrate"]
    assert services["migrate-province"]["environment"]["LANDGEO_DATABASE_URL"].endswith("@db-province:5432/landgeo")
    attach = services["attach-province"]
    cmd = attach["command"]
    assert cmd[:3] == ["landgeo", "province", "attach"] and cmd[4] == "--url"
    assert cmd[5].endswith("@db-province:5432/landgeo") and "${LANDGEO_PROVINCE_DB_PASSWORD" in cmd[5]
    assert attach["environment"]["LANDGEO_DATABASE_URL"].endswith("@db:5432/landgeo")
    assert {k: v["condition"] for k, v in attach["depends_on"].items()} == {
        "migrate": "service_completed_successfully", "migrate-province": "service_completed_successfully"}
    # the command exists in this CLI
    groups = {g.name for g in cli_app.registered_groups}
    assert "province" in groups


def test_volumes_and_no_literal_passwords():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"pgdata", "replica-pgdata", "province-pgdata"} <= set(compose["volumes"])
    text = (ROOT / "docker-compose.yml").read_text()
    for m in re.finditer(r"^\s*\w*PASSWORD:\s*(\S+)", text, re.M):
        assert m.group(1).startswith("${"), m.group(0)
    for m in re.finditer(r"postgresql://landgeo:([^@]+)@", text):
        assert m.group(1).startswith("${") or m.group(1) == "PASSWORD", m.group(0)
