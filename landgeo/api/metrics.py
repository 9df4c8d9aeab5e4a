"""Prometheus metrics at ``/metrics`` (prometheus-client), correct under gunicorn's several workers.

Under ``landgeo serve`` ``PROMETHEUS_MULTIPROC_DIR`` is set (to an emptied folder) before anything imports
prometheus_client, so each worker writes its samples to files there and ``/metrics`` — whichever worker answers —
aggregates them all (the client's multiprocess mode; gunicorn's ``child_exit`` marks dead workers). Without it
(the app embedded in a test or another server) the process's own registry is served.

Labels are route *templates* (``/collections/{collectionId}/items``), never raw URLs or query values, so neither
cardinality nor personal data can leak into the metrics.
"""

from __future__ import annotations

import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from landgeo.api import failfast

REQUESTS = Counter("landgeo_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "landgeo_http_request_duration_seconds", "Time to answer a request (until the body is produced)",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DB_ERRORS = Counter("landgeo_db_errors_total", "Database errors met by requests", ["kind"])
POOL = Gauge("landgeo_db_pool_connections", "Connections of the API's pools, summed over live workers",
             ["state"], multiprocess_mode="livesum")
DB_DOWN = Gauge("landgeo_db_unreachable", "1 when a worker knows the database to be unreachable",
                multiprocess_mode="livemax")

_ROUTES = [
    (re.compile(r"^/collections/[^/]+/items/[^/]+$"), "/collections/{collectionId}/items/{featureId}"),
    (re.compile(r"^/collections/[^/]+/items/?$"), "/collections/{collectionId}/items"),
    (re.compile(r"^/collections/[^/]+/(queryables|schema|sortables)/?$"), "/collections/{collectionId}/{sub}"),
    (re.compile(r"^/collections/[^/]+/?$"), "/collections/{collectionId}"),
    (re.compile(r"^/static/"), "/static/{path}"),
    (re.compile(r"^/assets/"), "/assets/{path}"),
]
_FIXED = {"/", "/conformance", "/collections", "/openapi", "/health/live", "/health/ready", "/metrics"}


def route_template(path: str) -> str:
    """The route template of ``path``; ``other`` for anything unknown (bounded label values)."""
    stripped = path.rstrip("/") or "/"
    if stripped in _FIXED:
        return stripped
    for pattern, template in _ROUTES:
        if pattern.match(path):
            if template.endswith("{sub}"):
                return template.replace("{sub}", path.rstrip("/").rsplit("/", 1)[1])
            return template
    return "other"


def _count_db_error(kind: str) -> None:
    DB_ERRORS.labels(kind).inc()


failfast.ERROR_HOOKS.append(_count_db_error)


_LAST_STATE: list[tuple] = [()]  # (pid, in use, idle, down) as last written by this process


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Record one answered request, and the pools' state as this worker sees it."""
    method = method if method in ("GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH") else "other"
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
    idle = size = 0
    for _name, stats in failfast.pool_stats():
        size += stats.get("pool_size", 0)
        idle += stats.get("pool_available", 0)
    state = (os.getpid(), size - idle, idle, 1 if failfast.any_down() else 0)
    if state != _LAST_STATE[0]:  # a gauge write is a lock and a file write per value: only when it changed
        _LAST_STATE[0] = state
        POOL.labels("in_use").set(state[1])
        POOL.labels("idle").set(state[2])
        DB_DOWN.set(state[3])


def render() -> tuple[bytes, str]:
    """The exposition text of every worker's metrics (or of this process's)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int) -> None:
    """gunicorn ``child_exit``: drop the dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
