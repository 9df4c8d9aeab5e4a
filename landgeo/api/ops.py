"""The operations layer around the API application: health, metrics, access log, fast 503s.

:func:`wrap` puts a small WSGI middleware in front of the landgeo/pygeoapi application:

- ``/health/live`` and ``/health/ready`` (:mod:`landgeo.api.health`), ``/metrics`` (:mod:`landgeo.api.metrics`);
- ``/assets/…``: the scripts and styles of the HTML pages (:mod:`landgeo.api.assets`), whose CDN addresses are
  rewritten to these;
- while a pool knows the database to be down, requests that need it (``/collections/…``) get a 503 with
  ``Retry-After`` at once; a 500 that pygeoapi answers because the database went away becomes that 503 too;
- one JSON line per request on stderr (gunicorn's log): time, method, route template, path, query, status,
  duration, size, worker. Query values and paths pass through :func:`redact` first; no header is logged (so
  no ``Authorization``, no cookie) and no client address (personal data under Decree 13/2023/NĐ-CP).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from urllib.parse import parse_qsl

import psycopg

from landgeo.access.logs import is_personal_path
from landgeo.api import assets, failfast, health, metrics
from landgeo.api.pool import get_pool
from landgeo.api.query import ApiError
from landgeo.settings import get_settings

RETRY_AFTER = str(failfast.RETRY_AFTER_S)
_SECRET_PARAMS = {"token", "access_token", "api_key", "apikey", "jwt", "key", "password", "secret", "auth"}
_MAX_VALUE = 200
_REASONS = {200: "OK", 415: "Unsupported Media Type", 500: "Internal Server Error", 503: "Service Unavailable",
            504: "Gateway Timeout"}


def redact(route: str, path: str, params: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """What of a request may be logged: ``(path, {parameter: value})``.

    Credentials in the query (``token=…``, ``api_key=…``) are replaced by ``[redacted]`` and long values are cut.
    This is the one place the access log asks: access control extends it (restricted collections: no query
    values, no feature ids) without touching the logger.
    """
    out: dict[str, str] = {}
    personal = is_personal_path(path)  # the register: no query value is logged (landgeo.access.logs)
    for key, value in params:
        if personal or key.lower() in _SECRET_PARAMS:
            value = "[redacted]"
        elif len(value) > _MAX_VALUE:
            value = value[:_MAX_VALUE] + "…"
        out[key[:64]] = value
    return path[:512], out


def database_error(exc: BaseException, statement_timeout_ms: int) -> tuple[int, dict[str, str], bytes]:
    """``(status, headers, OGC exception body)`` for a database error met while answering a request."""
    if isinstance(exc, psycopg.errors.QueryCanceled):
        err = ApiError(504, "Timeout", f"the query ran past the statement timeout of {statement_timeout_ms} ms "
                                      "(LANDGEO_API_STATEMENT_TIMEOUT_MS): narrow it with bbox, filter or limit")
        return 504, {"Content-Type": "application/json"}, err.body()
    err = ApiError(503, "ServiceUnavailable", "the database is not reachable; try again later")
    return 503, {"Content-Type": "application/json", "Retry-After": RETRY_AFTER}, err.body()


def _unavailable() -> tuple[int, dict[str, str], bytes]:
    return database_error(failfast.DatabaseUnavailable("down"), 0)


FILTER_TYPES = ("application/query-cql-json", "application/json", "application/cql2+json")
FEATURE_TYPES = ("application/geo+json", "application/json")  # Part 4: a Feature to create (landgeo.api.transactions)


def _filter_post(environ) -> bool:
    """A POST to items that landgeo answers: a CQL2-JSON filter (as JSON) or a Feature to create (pygeoapi would
    answer nothing: 500)."""
    ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if ctype in FEATURE_TYPES:
        return True
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    return ctype in FILTER_TYPES and params.get("f", "json").lower() in ("json", "geojson", "application/json",
                                                                      "application/geo+json")


def _needs_database(path: str) -> bool:
    return path.startswith("/collections/")


class OpsMiddleware:
    """Health, metrics, access log and fast 503s around ``app``."""

    def __init__(self, app, db_url: str | None, get_pool, base_url: str = "") -> None:
        self.app = app
        self.base_url = base_url
        self.db_url = db_url
        self.get_pool = get_pool
        self.access_log = get_settings().api_access_log

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        route = metrics.route_template(path)
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None  # the write() callable: unused by Flask and by LandgeoApp

        if route == "/health/live":
            status, headers, body = 200, {"Content-Type": "application/json"}, health.live_body()
        elif route == "/health/ready":
            code, doc = health.check_ready(self.get_pool, self.db_url)
            status, headers, body = code, {"Content-Type": "application/json"}, json.dumps(doc).encode()
            if code == 503:
                headers["Retry-After"] = RETRY_AFTER
        elif route == "/metrics":
            data, ctype = metrics.render()
            status, headers, body = 200, {"Content-Type": ctype}, data
        elif route == "/assets/{path}":
            status, headers, body = assets.serve(path)
        elif _needs_database(path) and self._database_down():
            status, headers, body = _unavailable()
        elif method == "POST" and route == "/collections/{collectionId}/items" and not _filter_post(environ):
            err = ApiError(415, "UnsupportedMediaType", "POST to items takes a CQL2-JSON filter body (Content-Type "
                                                        f"one of {', '.join(FILTER_TYPES)}) and answers GeoJSON")
            status, headers, body = 415, {"Content-Type": "application/json"}, err.body()
        else:
            if method == "POST" and route == "/collections/{collectionId}/items":
                environ["HTTP_ACCEPT"] = "application/geo+json"  # a POST filter answers GeoJSON, never HTML
            chunks = self.app(environ, capture)
            try:
                body = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
            status = int(str(captured.get("status", "500")).split(" ", 1)[0])
            headers = dict(captured.get("headers", []))
            if status == 500 and _needs_database(path) and self._database_down():
                status, headers, body = _unavailable()
            elif headers.get("Content-Type", "").startswith("text/html"):
                body = assets.rewrite_html(body, self.base_url)  # no script or style from a CDN
        headers["Content-Length"] = str(len(body))
        start_response(f"{status} {_REASONS.get(status, _reason(captured, status))}", list(headers.items()))
        seconds = time.perf_counter() - started
        metrics.observe(method, route, status, seconds)
        if self.access_log:
            self._log(environ, method, route, path, status, seconds, len(body))
        return [body]

    def _database_down(self) -> bool:
        """The database reads go to now (the read replica, or the primary when the replica does not answer) is known
        to be unreachable: answer 503 at once."""
        return self.db_url is not None and self.get_pool(self.db_url).down

    @staticmethod
    def _log(environ, method: str, route: str, path: str, status: int, seconds: float, size: int) -> None:
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        safe_path, safe_params = redact(route, path, params)
        line = {
            "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "method": method, "route": route,
            "path": safe_path, "query": safe_params, "status": status, "duration_ms": round(seconds * 1000, 1),
            "bytes": size, "pid": os.getpid(),
        }
        sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stderr.flush()


def _reason(captured: dict, status: int) -> str:
    text = str(captured.get("status", ""))
    return text.split(" ", 1)[1] if text.startswith(str(status)) and " " in text else ""


def wrap(app) -> OpsMiddleware:
    """``app`` (a :class:`landgeo.api.app.LandgeoApp`) behind the operations middleware."""
    urls = list(getattr(app, "db_urls", {}).values())
    return OpsMiddleware(app, urls[0] if urls else None, get_pool, getattr(app, "base_url", ""))
