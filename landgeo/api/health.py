"""``/health/live`` and ``/health/ready`` for compose, systemd and orchestrators.

- *live*: the process answers (no database call): restart the container when this fails.
- *ready*: the database answers through the API's own pool, its schema is at the version this code expects
  (the newest migration shipped), and, when a read replica is configured, its replay lag is under
  ``MAX_REPLICA_LAG_S``: send no traffic when this fails. A pass is cached for ``CACHE_S`` so a busy probe
  costs nothing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import psycopg

from landgeo.api.failfast import DatabaseUnavailable, is_outage
from landgeo.db import migrate as migrations
from landgeo.settings import get_settings

CACHE_S = 1.0
MAX_REPLICA_LAG_S = 30.0
REPLICA_LAG_SQL = (
    "SELECT CASE WHEN pg_is_in_recovery() THEN "
    "COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)

_cache: dict[str, tuple[float, int, dict]] = {}
_lock = threading.Lock()


def expected_version() -> int | None:
    """The newest migration shipped with this code: the schema version the API is written for."""
    return max((m.version for m in migrations.discover(get_settings().migrations_dir)), default=None)


def replica_lag_seconds(conn: psycopg.Connection) -> float | None:
    """Seconds the server behind ``conn`` lags its primary (``None`` on a primary).

    0 when a replica has replayed everything it received and nothing was written since. The read-replica
    work (``read_database_url``) calls this on a connection of the replica pool.
    """
    value = conn.execute(REPLICA_LAG_SQL).fetchone()[0]
    return None if value is None else float(value)


def replica_url() -> str | None:
    """The read replica's URL when one is configured (the ``read_database_url`` setting), else ``None``."""
    return getattr(get_settings(), "read_database_url", None) or None


def check_ready(get_pool: Callable[[str], object], db_url: str | None) -> tuple[int, dict]:
    """``(HTTP status, body)`` of the readiness check of the database at ``db_url``."""
    with _lock:
        hit = _cache.get(db_url or "")
        if hit and time.monotonic() - hit[0] < CACHE_S:
            return hit[1], hit[2]
    checks: dict[str, dict] = {}
    ok = True
    if not db_url:
        checks["database"] = {"status": "fail", "detail": "no database configured"}
        ok = False
    else:
        try:
            with get_pool(db_url).connection() as conn:
                version = migrations.current_version(conn)
            want = expected_version()
            checks["database"] = {"status": "pass"}
            checks["schema"] = {"status": "pass" if version == want else "fail", "version": version,
                                "expected": want}
            ok = version == want
        except DatabaseUnavailable:
            checks["database"] = {"status": "fail", "detail": "not reachable (reconnecting)"}
            ok = False
        except psycopg.Error as exc:
            detail = "not reachable" if is_outage(exc) else type(exc).__name__
            checks["database"] = {"status": "fail", "detail": detail}
            ok = False
        read_url = replica_url()
        if read_url:
            try:
                with psycopg.connect(read_url, connect_timeout=2, autocommit=True) as conn:
                    lag = replica_lag_seconds(conn)
                lag_ok = lag is None or lag <= MAX_REPLICA_LAG_S
                checks["replica"] = {"status": "pass" if lag_ok else "fail", "lag_seconds": lag,
                                     "max_lag_seconds": MAX_REPLICA_LAG_S}
                ok = ok and lag_ok
            except psycopg.Error:
                checks["replica"] = {"status": "fail", "detail": "not reachable"}
                ok = False
    status = 200 if ok else 503
    body = {"status": "pass" if ok else "fail", "checks": checks}
    with _lock:  # only a pass is cached: readiness comes back as soon as the database does
        if ok:
            _cache[db_url or ""] = (time.monotonic(), status, body)
        else:
            _cache.pop(db_url or "", None)
    return status, body


def live_body() -> bytes:
    return json.dumps({"status": "pass"}).encode()
