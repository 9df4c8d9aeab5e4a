"""A real `landgeo serve` (gunicorn, 2 workers) on a free port, for the tests that inject faults or fuzz it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_MS = 1500


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, log: Path, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "LANDGEO_DATABASE_URL": url, "LANDGEO_API_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS),
           **(extra_env or {})}
    env.pop("PYGEOAPI_OPENAPI", None)
    env.pop("LANDGEO_API_NO_ACCESS_LOG", None)
    out = open(log, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "landgeo", "serve", "--port", str(port), "--workers", "2"],
                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            if requests.get(f"{base}/health/live", timeout=5).status_code == 200:
                return proc, base
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"server did not start: {log.read_text()[-3000:]}")
        time.sleep(0.2)


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
