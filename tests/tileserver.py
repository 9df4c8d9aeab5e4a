"""A real ``landgeo serve`` for the tile, map and QGIS tests: gunicorn on a free port, its own tile cache folder."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(db_url: str, cache_dir: Path, log: Path):
    """Yield the base URL of a server on ``db_url``; check its log for 500s when it stops."""
    port = free_port()
    env = {**os.environ, "LANDGEO_DATABASE_URL": db_url, "LANDGEO_TILE_CACHE": str(cache_dir),
           "LANDGEO_API_NO_ACCESS_LOG": "1"}
    env.pop("PYGEOAPI_OPENAPI", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers", "2"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    try:
        while True:
            try:
                if requests.get(f"{base}/conformance", timeout=15).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    text = log.read_text()
    assert "Error handling request" not in text and "internal error" not in text, text[-3000:]
    assert not re.search(r"error in (GET|POST) /", text), text[-3000:]
