"""A real ``landgeo serve`` for the tests: gunicorn on a free port against a test database. One way to start the
API in every test module: :func:`serve` (a context manager that checks the log for server errors when it stops),
or :func:`start_server` / :func:`stop_server` for the tests that inject faults or time the shutdown."""

from __future__ import annotations

import os
import re
import signal
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
TIMEOUT_MS = 1500  # the statement timeout of the fault-injection servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(db_url: str, log: Path, env: dict[str, str | None], workers: int, ready: str
            ) -> tuple[subprocess.Popen, str]:
    """Start ``landgeo serve`` (``env``: variables over the test's own, None removes one) and wait for ``ready``."""
    port = free_port()
    full = {**os.environ, "LANDGEO_DATABASE_URL": db_url}
    full.pop("PYGEOAPI_OPENAPI", None)
    for key, value in env.items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers",
                                 str(workers)], cwd=ROOT, env=full, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            if requests.get(f"{base}{ready}", timeout=15).status_code == 200:
                return proc, base
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"server did not start: {log.read_text()[-3000:]}")
        time.sleep(0.2)


@contextmanager
def serve(db_url: str, log: Path, env: dict[str, str | None] | None = None, workers: int = 2) -> Iterator[str]:
    """Yield the base URL of a server on ``db_url`` (no access log unless ``env`` asks). When it stops, its log
    must hold no server error (a 500 leaves a trace there)."""
    proc, base = _launch(db_url, log, {"LANDGEO_API_NO_ACCESS_LOG": "1", **(env or {})}, workers, "/conformance")
    try:
        yield base
    finally:
        stop_server(proc)
    text = log.read_text()  # pygeoapi logs the 400s it answers itself with a traceback; a 500 leaves these:
    assert "Error handling request" not in text and "internal error" not in text, text[-3000:]
    assert not re.search(r"error in (GET|POST|PUT|PATCH|DELETE) /", text), text[-3000:]


def start_server(url: str, log: Path, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """A server with the access log on and a short statement timeout (:data:`TIMEOUT_MS`), ready when live."""
    env = {"LANDGEO_API_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS), "LANDGEO_API_NO_ACCESS_LOG": None, **(extra_env or {})}
    return _launch(url, log, env, 2, "/health/live")


def stop_server(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> float:
    """Seconds from the signal to the process's exit."""
    t0 = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the server did not stop within 30 s")
    return time.monotonic() - t0
