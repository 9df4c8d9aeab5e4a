"""A real ``landgeo serve`` for the tests: gunicorn on a free port against a test database, its log checked for
server errors when it stops. One way to start the API in every test module."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(db_url: str, log: Path, env: dict[str, str | None] | None = None, workers: int = 2) -> Iterator[str]:
    """Yield the base URL of a server on ``db_url`` (``env``: extra variables, None removes one; no access log
    unless asked). When it stops, its log must hold no server error (a 500 leaves a trace there)."""
    port = free_port()
    full = {**os.environ, "LANDGEO_DATABASE_URL": db_url, "LANDGEO_API_NO_ACCESS_LOG": "1"}
    full.pop("PYGEOAPI_OPENAPI", None)
    for key, value in (env or {}).items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers",
                                 str(workers)], cwd=ROOT, env=full, stdout=out, stderr=subprocess.STDOUT)
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
                pytest.fail(f"server did not start: {log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    text = log.read_text()  # pygeoapi logs the 400s it answers itself with a traceback; a 500 leaves these:
    assert "Error handling request" not in text and "internal error" not in text, text[-3000:]
    assert not re.search(r"error in (GET|POST|PUT|PATCH|DELETE) /", text), text[-3000:]
