"""``landgeo serve``: the OGC API – Features server (pygeoapi + landgeo's provider) under gunicorn."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import typer

from landgeo.errors import UserError
from landgeo.settings import get_settings


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(None, help="Port (default $LANDGEO_API_PORT or 5000)."),
    workers: int = typer.Option(2, min=1, help="gunicorn worker processes."),
    threads: int = typer.Option(4, min=1, help="Threads per worker (gthread: keep-alive connections)."),
    config: Path = typer.Option(None, help="pygeoapi configuration (default: pygeoapi-config.yml of the project)."),
    public_url: str = typer.Option(
        None, help="Public base URL used in links (default $LANDGEO_PUBLIC_URL, else http://HOST:PORT)."),
) -> None:
    """Serve every collection as OGC API – Features (landing page, collections, items, CQL2, CRS) with gunicorn."""
    from landgeo.api.app import ensure_openapi
    from landgeo.api.config import default_path
    from landgeo.api.openapi import generator_tag
    from landgeo.db.connect import connect, database_url

    settings = get_settings()
    port = port or settings.api_port
    config_path = (config or default_path()).resolve()
    if not config_path.is_file():
        raise UserError(f"no pygeoapi configuration at {config_path}")
    url = database_url(settings)
    with connect(url) as conn:  # fail early, in one line, if the database is not there
        conn.execute("SELECT 1")
    env = dict(os.environ)
    env["LANDGEO_DATABASE_URL"] = url
    env["LANDGEO_API_URL"] = (public_url or env.get("LANDGEO_PUBLIC_URL") or env.get("LANDGEO_API_URL")
                              or f"http://{host}:{port}")
    env["PYGEOAPI_CONFIG"] = str(config_path)
    os.environ.update(env)
    # the OpenAPI document names the public URL: one file per configuration and URL
    tag = generator_tag()  # changes of the document's generator
    key = hashlib.sha1(f"{config_path}|{env['LANDGEO_API_URL']}|{tag}".encode()).hexdigest()[:12]
    try:
        openapi = ensure_openapi(config_path, settings.state_dir / "api" / f"openapi-{key}.yml")
    except OSError:  # a read-only project folder (container image): the temporary directory will do
        openapi = ensure_openapi(config_path, Path(tempfile.gettempdir()) / "landgeo-api" / f"openapi-{key}.yml")
    env["PYGEOAPI_OPENAPI"] = str(openapi)
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    if gunicorn is None:
        raise UserError("gunicorn is not installed (pip install gunicorn)")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir(settings.state_dir, port))  # before anything imports it
    env["LANDGEO_API_POOL_SIZE"] = str(max(threads, settings.api_pool_size))
    # the access log is landgeo's JSON lines (landgeo.api.ops), not gunicorn's raw URLs
    args = [
        gunicorn, "--bind", f"{host}:{port}", "--workers", str(workers), "--worker-class", "gthread",
        "--threads", str(threads), "--keep-alive", "5", "--error-logfile", "-",
        "--log-level", "warning", "--timeout", "60", "--config", "python:landgeo.api.gunicorn_conf",
        "--limit-request-line", "8190",  # gunicorn's maximum: the app's own 400 (8 000 bytes) comes first
        "--preload", "landgeo.api.wsgi:application",
    ]
    print(f"serving OGC API – Features at {env['LANDGEO_API_URL']} ({workers} workers)", flush=True)
    os.execve(gunicorn, args, env)


def _metrics_dir(state_dir: Path, port: int) -> Path:
    """An emptied folder for prometheus-client's multiprocess files (one per port: servers may run side by side)."""
    for base in (state_dir / "api", Path(tempfile.gettempdir()) / "landgeo-api"):
        path = base / f"metrics-{port}"
        try:
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
            return path
        except OSError:  # a read-only project folder (container image)
            continue
    raise UserError("no writable folder for the metrics files (.landgeo/api or the temporary directory)")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
