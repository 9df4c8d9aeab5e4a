"""docker-compose.yml and the Dockerfile, checked as far as can be without a Docker engine."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_services_images_and_ports():
    services = _compose()["services"]
    assert {"db", "migrate", "api"} <= set(services)
    image = services["db"]["image"]
    assert re.fullmatch(r"postgis/postgis:\d+-\d+\.\d+", image), f"PostGIS image not pinned: {image}"
    major = int(image.split(":")[1].split("-")[0])
    assert major >= 15
    assert services["api"]["ports"] == ["${LANDGEO_API_PORT:-5000}:5000"]
    assert "5000" in services["api"]["command"]


def test_compose_has_health_checks_and_ordering():
    services = _compose()["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "/health/ready" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["api"]["stop_grace_period"]  # longer than the in-flight requests a stop waits for
    assert services["api"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["landgeo", "db", "migrate"]


def test_compose_credentials_come_from_the_environment():
    text = (ROOT / "docker-compose.yml").read_text()
    services = _compose()["services"]
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == "${LANDGEO_DB_PASSWORD:?set LANDGEO_DB_PASSWORD}"
    for name in ("api", "migrate"):
        url = services[name]["environment"]["LANDGEO_DATABASE_URL"]
        assert "${LANDGEO_DB_PASSWORD" in url and url.endswith("@db:5432/landgeo")
    # no literal password anywhere: every PASSWORD value is a substitution
    for m in re.finditer(r"^\s*\w*PASSWORD:\s*(\S+)", text, re.M):
        assert m.group(1).startswith("${"), m.group(0)


def test_compose_named_volume_for_the_database():
    compose = _compose()
    assert "pgdata" in compose["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]


def test_dockerfile_builds_a_python_312_image_with_the_project():
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM python:(\d+)\.(\d+)", text, re.M)
    assert base and (int(base.group(1)), int(base.group(2))) >= (3, 12)
    for path in ("landgeo", "landdb", "geobase", "loaders", "schemas", "pygeoapi-config.yml"):
        assert f"COPY {path}" in text and (ROOT / path).exists(), path
    assert re.search(r"^USER (?!root)", text, re.M), "the API must not run as root"
